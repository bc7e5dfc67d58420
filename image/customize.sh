#!/bin/sh
# Turns the fresh Debian root file system into a LUMI login node in miniature.
# Runs inside it (chroot, as root, with network) from mmdebstrap's customize hook;
# image/base.py copies this directory's recipe files to /tmp/lumi-node first.
# Of data/lumi.yaml only cotainr's version and systems reach this stage (COTAINR_VERSION,
# systems.json, see base.base_facts); the parts named
# after LUMI's versions (modulefiles, /opt/cray/pe/python/<version>) are a separate
# layer written by image/layer.py and bound in at start.
set -eu
RECIPE=/tmp/lumi-node
: "${COTAINR_VERSION:?}"
EASYBUILD_VERSION=5.4.1

# A host that intercepts TLS (a proxy with its own CA) needs its CA bundle for pip;
# it is used for this build only and not left in the image.
if [ -s "$RECIPE/ca-certificates.crt" ]; then
    export PIP_CERT="$RECIPE/ca-certificates.crt" SSL_CERT_FILE="$RECIPE/ca-certificates.crt"
fi
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PIP_PROGRESS_BAR=off
export PIP_ROOT_USER_ACTION=ignore PIP_DEFAULT_TIMEOUT=60

# The example user: LUMI logins are personal accounts, never root.
echo 'lumiuser:x:1000:1000:LUMI example user:/users/lumiuser:/bin/bash' >>/etc/passwd
echo 'lumiuser:x:1000:' >>/etc/group
echo 'lumiuser:*:20000:0:99999:7:::' >>/etc/shadow

# Mount points for LUMI's file systems and the layers bound in at start.
mkdir -p /users /scratch /project /flash /appl /opt/cray
echo uan01 >/etc/hostname

# SINGULARITY_* variables without Apptainer's INFO lines (see the script).
install -m 755 "$RECIPE/singularity-shim.sh" /usr/local/bin/singularity

# Slurm (image/slurm-start.sh starts it for a page that asks): its configuration
# lives in the page's /tmp, made from the layer's files at start; the GPU nodes'
# GRES files are empty files, not devices (see image/slurm_config.py).
install -m 755 "$RECIPE/slurm-start.sh" /usr/local/bin/lumi-node-slurm-start
rm -rf /etc/slurm
ln -s /tmp/.lumi-node-slurm/etc /etc/slurm
mkdir -p /usr/share/lumi-node/no-gpu
for n in 128 129 130 131 132 133 134 135; do : >"/usr/share/lumi-node/no-gpu/renderD$n"; done
# The node's own name resolves without the network (slurmd looks it up).
printf '127.0.1.1\tuan01\n' >>/etc/hosts

# PRoot is not on a LUMI node's PATH: only the systools module brings it (layer.py links it).
# Its seccomp acceleration leaves `proot -0` reporting the real uid on this kernel, so
# the command the module brings runs it without (PROOT_NO_SECCOMP, proot's own switch).
mkdir -p /opt/lumi-node/systools/libexec
mv /usr/bin/proot /opt/lumi-node/systools/libexec/proot
printf '#!/bin/sh\nPROOT_NO_SECCOMP=1 exec /opt/lumi-node/systools/libexec/proot "$@"\n' \
    >/opt/lumi-node/systools/proot
chmod 755 /opt/lumi-node/systools/proot

# Lmod starts from LUMI's stack list and the Cray PE's core modules.
printf '%s\n' /appl/lumi/modules/SoftwareStack /opt/cray/pe/lmod/modulefiles/core >/etc/lmod/modulespath
# Find-first lets each LUMI/<v> pick its own cray-python (see image/modulefiles.py).
echo 'export LMOD_TMOD_FIND_FIRST=yes' >/etc/profile.d/lumi-node.sh

# The cray-python stand-in: a real prefix installation (not a venv), so that
# `python3 -m venv --system-site-packages` on top of it sees NumPy, as on LUMI.
# Its interpreter is a copy of Debian's; the standard library is linked, except
# Debian's EXTERNALLY-MANAGED marker (pip --user works, as with cray-python).
PY=$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
P=/opt/lumi-node/python
mkdir -p "$P/bin" "$P/lib/python$PY"
cp "/usr/bin/python$PY" "$P/bin/python$PY"
ln -s "python$PY" "$P/bin/python3"
ln -s "python$PY" "$P/bin/python"
for entry in /usr/lib/python"$PY"/*; do
    case ${entry##*/} in
        EXTERNALLY-MANAGED | dist-packages | site-packages) ;;
        *) ln -s "$entry" "$P/lib/python$PY/" ;;
    esac
done
# deb_system puts packages in $P/lib/python3/dist-packages and scripts in $P/bin.
DEB_PYTHON_INSTALL_LAYOUT=deb_system PYTHONPATH=/usr/lib/python3/dist-packages \
    "$P/bin/python3" -m pip install --quiet --only-binary=:all: --ignore-installed \
    -r "$RECIPE/cray-python-requirements.txt"

# cotainr in its own venv; only its command goes on PATH (module cotainr).
python3 -m venv /opt/lumi-node/cotainr/venv
/opt/lumi-node/cotainr/venv/bin/pip install --quiet "cotainr==$COTAINR_VERSION"
mkdir -p /opt/lumi-node/cotainr/bin
ln -s ../venv/bin/cotainr /opt/lumi-node/cotainr/bin/cotainr
# cotainr reads its predefined systems (lumi-g, lumi-c) from site-packages/systems.json,
# which LUMI's module installs next to it (base.py writes it from the facts).
cp "$RECIPE/systems.json" "$(/opt/lumi-node/cotainr/venv/bin/python3 -c \
    'import sysconfig; print(sysconfig.get_paths()["purelib"])')/systems.json"

# EasyBuild from PyPI in its own venv; the EasyBuild-user module puts `eb` on PATH.
python3 -m venv /opt/lumi-node/easybuild/venv
/opt/lumi-node/easybuild/venv/bin/pip install --quiet "easybuild-framework==$EASYBUILD_VERSION" \
    "easybuild-easyblocks==$EASYBUILD_VERSION"
mkdir -p /opt/lumi-node/easybuild/bin
ln -s ../venv/bin/eb /opt/lumi-node/easybuild/bin/eb

# Debian's python3 stays bare: the point of the guide is that NumPy needs a module.
if python3 -c 'import numpy' 2>/dev/null; then
    echo "customize.sh: Debian's python3 must not have NumPy" >&2
    exit 1
fi
rm -rf "$RECIPE" /root/.cache
# Last, as pip needed it: bubblewrap binds the host's resolver over this file when
# the network is on.
rm -f /etc/resolv.conf && : >/etc/resolv.conf
