"""Checks that the test container behaves like a LUMI login node (the first run builds it)."""

import shutil
import subprocess

import pytest

import lumi_node
from image import build, layer
from macros.facts import FACTS_FILE, load_facts
from macros.system_snapshot import SNAPSHOT_FILE, load_snapshot

FACTS = load_facts()
SNAPSHOT = load_snapshot()
PROJECT = FACTS["example_project"]
SHELL_TIMEOUT = 300



@pytest.fixture
def shell(node_dirs):
    """Run a bash script (errexit) in a fresh container shell; returns the finished process."""
    home, work = node_dirs

    def run(script, network=False, check=True):
        result = subprocess.run(lumi_node.shell_argv(home, work, network=network),
                                input="set -euo pipefail\n" + script, capture_output=True,
                                text=True, timeout=SHELL_TIMEOUT)
        if check and result.returncode != 0:
            pytest.fail(f"exit status {result.returncode}\nstdout:\n{result.stdout}\n"
                        f"stderr:\n{result.stderr}")
        return result

    run.work = work
    return run


def test_user_is_not_root_and_lives_in_lumi_paths(shell):
    out = shell("whoami; id -u; echo $HOME; pwd; touch here;"
                f"for d in /scratch /project /flash; do touch $d/{PROJECT}/f; done").stdout.split()
    assert out == ["lumiuser", "1000", "/users/lumiuser", "/users/lumiuser/work"]
    assert (shell.work / "here").exists()


def test_system_directories_are_read_only(shell):
    result = shell("touch /usr/bin/x", check=False)
    assert result.returncode != 0 and "Read-only file system" in result.stderr


def test_network_is_off_by_default(shell):
    script = "python3 -c 'import socket; socket.create_connection((\"151.101.0.223\", 443), timeout=5)'"
    result = shell(script, check=False)
    assert result.returncode != 0 and "unreachable" in result.stderr


def test_network_on_request_reaches_pypi_also_from_an_image(shell):
    script = (f"getent hosts pypi.org >/dev/null\n"
              f"singularity exec {FACTS['pytorch']['image_path']} python3 -m pip download "
              "--quiet --no-deps six==1.17.0 -d wheels\nls wheels")
    assert shell(script, network=True).stdout.startswith("six-1.17.0")


def test_os_python_has_no_numpy_but_venv_and_pip(shell):
    result = shell("python3 -c 'import numpy'", check=False)
    assert "No module named 'numpy'" in result.stderr
    out = shell("python3 -m venv v && v/bin/python -m pip --version").stdout
    assert "/users/lumiuser/work/v/" in out


def test_cray_python_brings_the_scientific_stack(shell):
    imports = "; ".join(f"import {name}" for name in FACTS["cray_python"]["packages"])
    script = (f"module load {FACTS['lumi_module']} partition/C {FACTS['cray_python']['module']}\n"
              f"python3 -c '{imports}; from mpi4py import MPI; print(MPI.COMM_WORLD.Get_size())'\n"
              "module -t list 2>&1\n"
              # A venv on top of cray-python keeps seeing NumPy, as on LUMI.
              "python3 -m venv --system-site-packages v && v/bin/python -c 'import numpy'\n")
    out = shell(script).stdout.split()
    assert out[0] == "1"
    assert FACTS["cray_python"]["module_version"] in out
    assert "partition/C" in out


def test_each_stack_picks_its_cray_python(shell):
    script = "".join(f"module load LUMI/{stack} cray-python; module -t list 2>&1 | grep cray-python\n"
                     for stack in FACTS["cray_python"]["by_stack"])
    assert shell(script).stdout.split() == [
        f"cray-python/{version}" for version in FACTS["cray_python"]["by_stack"].values()]


def test_module_spider_lists_cray_python_versions(shell):
    out = shell("module spider cray-python 2>&1").stdout
    for version in set(FACTS["cray_python"]["by_stack"].values()):
        assert f"cray-python/{version}" in out


def test_lumi_module_names_load(shell):
    wrapper, cotainr = FACTS["container_wrapper"], FACTS["cotainr"]
    crayenv_cotainr = SNAPSHOT.module_versions("CrayEnv", cotainr["module"])[0]
    script = f"""
module load CrayEnv {crayenv_cotainr} {wrapper['module']}/{wrapper['crayenv_version']}
module load {FACTS['lumi_module']} partition/G EasyBuild-user {FACTS['singularity']['proot_module_version']}
module load {cotainr['module_version']} {wrapper['module_version']}
module load {FACTS['csc']['module']}
module -t list 2>&1
"""
    out = shell(script).stdout.split()
    for name in [FACTS["lumi_module"], "partition/G", FACTS["stacks"]["easybuild_user"]["name"],
                 FACTS["singularity"]["proot_module_version"], cotainr["module_version"],
                 wrapper["module_version"], FACTS["csc"]["module_version"]]:
        assert name in out


@pytest.mark.parametrize("name", ["LUMI/24.11", "lumi-container-wrapper/0.5.2", FACTS["pytorch"]["module"]])
def test_modules_lumi_lacks_or_users_install_do_not_load(shell, name):
    """Not in the snapshot, or installed by each user with EasyBuild: no module until then."""
    result = shell(f"module load {FACTS['lumi_module']}\nmodule load {name}", check=False)
    assert result.returncode != 0
    assert "module(s) are unknown" in result.stderr or "cannot be loaded" in result.stderr


def test_unsupported_stack_says_so_when_loaded(shell):
    old = next(s["name"] for s in SNAPSHOT.data["stacks"] if s["status"] == "unsupported")
    assert "is unsupported on LUMI" in shell(f"module load {old}").stderr


def test_each_module_sets_what_the_snapshot_records(shell):
    entry = SNAPSHOT.find_module(FACTS["lumi_module"], FACTS["cotainr"]["module_version"])
    [path] = entry["prepend_path"]["PATH"]
    out = shell(f"module load {FACTS['lumi_module']} {entry['name']}; command -v cotainr").stdout.strip()
    assert out == f"{path}/cotainr"


def test_default_stack_is_the_examples_one_and_sticky(shell):
    out = shell("module load LUMI; module purge 2>/dev/null; module -t list 2>&1").stdout
    assert out.split() == [FACTS["lumi_module"]]


def test_container_wrapper_commands_say_they_need_lumi(shell):
    wrapper = FACTS["container_wrapper"]
    result = shell(f"module load {FACTS['lumi_module']} {wrapper['module']}\n"
                   f"{wrapper['commands'][0]} new --prefix x env.yml", check=False)
    assert result.returncode == 1 and "only works on LUMI" in result.stderr


def test_singularity_runs_the_real_image(shell):
    script = f"""
singularity --version
singularity exec -B /scratch/{PROJECT} {FACTS['pytorch']['image_path']} \\
    python3 -c 'import sys, os; print(sys.version_info[0], os.path.isdir("/scratch/{PROJECT}"))'
singularity exec {FACTS['pytorch']['image_path']} {FACTS['pytorch']['venv_in_image']}/bin/python -c 'import sys; print(sys.prefix)'
"""
    out = shell(script).stdout.split("\n")
    assert out[0].startswith("apptainer version")
    assert out[1] == "3 True"
    assert out[2] == FACTS["pytorch"]["venv_in_image"]


def test_singularity_builds_from_a_directory_and_a_def_file(shell):
    # A tiny tree (dash and the C library) keeps the builds quick.
    script = """
mkdir -p tree/bin tree/etc tree/lib64 tree/lib/x86_64-linux-gnu
touch tree/etc/passwd tree/etc/group
cp /bin/dash tree/bin/sh
cp /lib/x86_64-linux-gnu/libc.so.6 tree/lib/x86_64-linux-gnu/
cp /lib64/ld-linux-x86-64.so.2 tree/lib64/
singularity build from-dir.sif tree >/dev/null
cat > my.def <<'EOF'
Bootstrap: localimage
From: from-dir.sif

%files
    my.def /my.def
EOF
singularity build from-def.sif my.def >/dev/null
singularity exec from-def.sif /bin/sh -c 'read first < /my.def; echo "$first"'
"""
    result = shell(script)
    assert result.stdout.strip() == "Bootstrap: localimage"
    assert "WARNING" not in result.stderr


def test_cotainr_lists_lumi_systems(shell):
    out = shell(f"module load CrayEnv {FACTS['cotainr']['module']}; cotainr info 2>&1").stdout
    for system in FACTS["cotainr"]["systems"]:
        assert system in out


def test_cache_key_follows_the_facts(tmp_path):
    facts_copy = tmp_path / "lumi.yaml"
    shutil.copy(FACTS_FILE, facts_copy)
    key = build.cache_key(facts_copy)
    assert build.cache_key(facts_copy) == key
    text = facts_copy.read_text(encoding="utf-8")
    facts_copy.write_text(text.replace("few_packages: 5", "few_packages: 6"), encoding="utf-8")
    assert build.cache_key(facts_copy) != key


def test_cache_key_follows_the_snapshot(tmp_path):
    snapshot_copy = tmp_path / "lumi_system.yaml"
    shutil.copy(SNAPSHOT_FILE, snapshot_copy)
    key = build.cache_key(snapshot_path=snapshot_copy)
    snapshot_copy.write_text(snapshot_copy.read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
    assert build.cache_key(snapshot_path=snapshot_copy) != key


def test_bad_facts_give_a_readable_error(tmp_path):
    facts_copy = tmp_path / "lumi.yaml"
    facts_copy.write_text("example_project: [unclosed\n", encoding="utf-8")
    with pytest.raises(build.ImageError, match="lumi.yaml:"):
        build.cache_key(facts_copy)


def test_layer_refuses_facts_it_cannot_place(tmp_path):
    fake_base = tmp_path / "base-x"
    (fake_base / "sif").mkdir(parents=True)
    (fake_base / "sif" / "lumi-node-python.sif").write_bytes(b"")
    (fake_base / "info.json").write_text('{"python": "3", "apptainer": "a"}', encoding="utf-8")
    node_dir = tmp_path / "node"
    node_dir.mkdir()
    (node_dir / "base").symlink_to(fake_base)
    snapshot = load_snapshot()
    snapshot.data["image_dirs"][0]["path"] = "/data/images"
    with pytest.raises(layer.LayerError, match="/data/images/.* is outside /appl"):
        layer.write_layer(node_dir, snapshot, load_facts())
