#!/bin/sh
# Prepares the small real SIF image's root file system (chroot, as root) before
# `singularity build` packs it: a venv like the one LUMI's PyTorch images carry,
# and labels and help that say plainly what the image is (and is not).
set -eu
: "${VENV_IN_IMAGE:?}"
python3 -m venv --system-site-packages "$VENV_IN_IMAGE"
PY=$(python3 -c 'import platform; print(platform.python_version())')
mkdir -p /.singularity.d
cat >/.singularity.d/labels.json <<EOF
{
  "org.opencontainers.image.title": "lumi-node stand-in image",
  "org.opencontainers.image.description": "Debian sid with Python $PY, venv and pip only. NO PyTorch, NO ROCm: a stand-in for LUMI's images in the docs' test container.",
  "lumi-node.venv": "$VENV_IN_IMAGE"
}
EOF
cat >/.singularity.d/runscript.help <<EOF
Stand-in image of the LUMI Python guide's test container.
It holds Debian sid with Python $PY, python3-venv and pip, and a venv at
$VENV_IN_IMAGE. It has no PyTorch and no ROCm, whatever its file name says:
it lets the guide's container examples run off LUMI.
EOF
apt-get clean
rm -rf /var/lib/apt/lists/* /root/.cache
