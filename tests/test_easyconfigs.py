"""Our container easyconfigs (image/easyconfigs.py) and the real EasyBuild installing one in the test node."""

import subprocess

import pytest

import lumi_node
from image.easyconfigs import EasyconfigError, container_easyconfig, source_image
from macros.facts import load_facts
from macros.system_snapshot import load_snapshot

SNAPSHOT = load_snapshot()
FACTS = load_facts()
PYTORCH = next(entry for stack in SNAPSHOT.stack_names()
               for entry in SNAPSHOT.modules(stack, installed="user")
               if entry["name"].startswith("PyTorch/"))


def parse(text):
    """The easyconfig's parameters (easyconfigs are Python; SYSTEM is EasyBuild's toolchain constant)."""
    namespace = {"SYSTEM": {"name": "system", "version": "system"}}
    exec(compile(text, "x.eb", "exec"), namespace)
    return namespace


def test_pytorch_easyconfig_installs_the_snapshots_image_and_sets_its_variables():
    image = source_image(PYTORCH, SNAPSHOT.image_paths())
    assert image is not None
    config = parse(container_easyconfig(PYTORCH, image))
    assert (config["name"], "/".join([config["name"], config["version"] + config["versionsuffix"]])) == \
           ("PyTorch", PYTORCH["name"])
    sif = PYTORCH["setenv"]["SIF"].rsplit("/", 1)[1]
    assert config["modextravars"]["SIF"] == f"%(installdir)s/{sif}"
    assert config["modextravars"]["CONTAINERROOT"] == "%(installdir)s"
    assert "SINGULARITY_BIND" in config["modluafooter"]
    assert f"cp -L {image} %(installdir)s/{sif}" in config["postinstallcmds"]
    for command in PYTORCH["commands"]:
        assert f"bin/{command}" in config["sanity_check_paths"]["files"]


def test_an_easyconfig_name_that_eb_would_not_find_is_refused():
    with pytest.raises(EasyconfigError) as info:
        container_easyconfig({**PYTORCH, "easyconfig": "PyTorch.eb"}, "/x.sif")
    assert str(info.value).startswith(f"{PYTORCH['name']}: easyconfig 'PyTorch.eb' should be ")


def test_eb_installs_the_module_under_ebu_user_prefix_and_module_load_finds_it(node_dirs):
    home, work = node_dirs
    prefix = f"/project/{FACTS['example_project']}/EasyBuild"
    script = f"""set -e
export EBU_USER_PREFIX={prefix}
module load {SNAPSHOT.default_stack()['name']} partition/container EasyBuild-user
eb {PYTORCH['easyconfig']} >eb.out 2>&1 || {{ tail -n 20 eb.out; exit 1; }}
module --force purge
module load {SNAPSHOT.default_stack()['name']}
module load {PYTORCH['name']}
echo "$CONTAINERROOT"
singularity exec "$SIF" bash -c 'echo $VIRTUAL_ENV; test -x $VIRTUAL_ENV/bin/python'
"""
    result = subprocess.run(lumi_node.shell_argv(home, work), input=script, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"{prefix}/SW/container/{PYTORCH['name']}"
    assert lines[1] == PYTORCH["setenv"]["SINGULARITYENV_VIRTUAL_ENV"]


def squashfs_command(tmp_path, command, files=(), dirs=()):
    """Run our `command` script from <tmp>/bin, as the module's bin/ holds it; (status, stderr)."""
    from image.easyconfigs import COMMAND_SCRIPTS
    (tmp_path / "bin").mkdir()
    script = tmp_path / "bin" / command
    script.write_text("#!/bin/bash\n" + COMMAND_SCRIPTS[command] + "\n")
    script.chmod(0o755)
    for name in files:
        (tmp_path / name).write_text("")
    for name in dirs:
        (tmp_path / name).mkdir()
    result = subprocess.run([str(script)], capture_output=True, text=True, timeout=30)
    return result.returncode, result.stderr


# As LUMI's recipe: the SquashFS commands never overwrite, and say what is in the way.
@pytest.mark.parametrize("command, files, dirs, status, says", [
    ("make-squashfs", [], [], 2, "user-software does not exist"),
    ("make-squashfs", ["user-software.squashfs"], ["user-software"], 3,
     "user-software.squashfs already exists"),
    ("unmake-squashfs", [], [], 2, "user-software.squashfs does not exist"),
    ("unmake-squashfs", ["user-software.squashfs"], ["user-software"], 3,
     "user-software already exists"),
])
def test_squashfs_commands_refuse_like_lumis(tmp_path, command, files, dirs, status, says):
    got_status, stderr = squashfs_command(tmp_path, command, files, dirs)
    assert (got_status, says in stderr) == (status, True), stderr
