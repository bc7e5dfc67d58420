"""PRoot from systools and a venv packed with mksquashfs and bound with image-src=/, in the test node."""

import subprocess

import pytest

import lumi_node
from macros.facts import load_facts
from macros.system_snapshot import load_snapshot

FACTS = load_facts()
STACK = load_snapshot().default_stack()["name"]


@pytest.fixture
def node(node_dirs):
    home, work = node_dirs

    def run(script):
        result = subprocess.run(lumi_node.shell_argv(home, work), input="set -e\n" + script,
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout
    return run


def test_proot_comes_only_with_systools_and_fakes_root(node):
    out = node(f"""if command -v proot; then echo "proot before systools"; exit 1; fi
module load {STACK} {FACTS['singularity']['proot_module']}
proot -0 id -u
""")
    assert out.strip() == "0"


def test_a_squashfs_venv_binds_into_the_image_with_image_src(node):
    image = FACTS["pytorch"]["image_path"]
    out = node(f"""singularity exec -B "$PWD" {image} python3 -m venv --system-site-packages extras
mksquashfs extras extras.sqsh -processors 1 -no-xattrs -quiet
rm -rf extras
singularity exec -B extras.sqsh:/extras:image-src=/ {image} /extras/bin/python3 -c 'import sys; print(sys.prefix)'
""")
    assert out.strip().splitlines()[-1] == "/extras"
