"""Stage one of the test container: Debian root file system plus the small real SIF image.

Two `mmdebstrap` runs against Debian sid (the only suite with Apptainer; its Release
file may be past its Valid-Until date, hence the apt option):
1. rootfs/: Lmod, Debian's python3 (no NumPy), python3-venv, pip, Apptainer, then
   customize.sh adds the user, the cray-python stand-in prefix and cotainr.
2. a minimal Debian with python3 + venv + pip, packed with `singularity build`
   (run inside rootfs/ through bubblewrap as the non-root user) into
   sif/lumi-node-python.sif.
Only a few facts reach this stage (see base_facts), so editing most of
data/lumi.yaml reuses it and rebuilds only the fast layer (layer.py).
"""

import json
import os
import signal
import subprocess
import time
from pathlib import Path

from . import node

HERE = Path(__file__).resolve().parent
# Files whose content decides stage one; any change rebuilds it.
# image/node.py is not one: it says how a sandbox runs (its limits, its network), not what
# the image holds.
RECIPE_FILES = ["base.py", "customize.sh", "singularity-shim.sh", "base-packages.txt",
                "cray-python-requirements.txt", "sif-customize.sh", "sif-packages.txt",
                "slurm-start.sh"]
SUITE = "sid"
APT_OPTION = 'Acquire::Check-Valid-Until "false"'
SIF_NAME = "lumi-node-python.sif"
HOST_CA = Path("/etc/ssl/certs/ca-certificates.crt")
# The host's environment (e.g. PIP_* settings) must not leak into the image's build.
CLEAN_ENV = "env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8"
STEP_TIMEOUT = 900  # seconds; one mmdebstrap run takes under a minute on a good mirror


class BuildError(Exception):
    """A build step failed; the message says which and shows the end of its log."""




def base_facts(facts):
    """The few facts stage one bakes in (so only they, not all of lumi.yaml, rebuild it)."""
    # LUMI's module version adds the cray-python it runs on; PyPI knows the release only.
    return {"cotainr_version": facts["cotainr"]["version"].split("-", 1)[0],
            "cotainr_systems": facts["cotainr"]["base_images"],
            "venv_in_image": facts["pytorch"]["venv_in_image"]}


def cotainr_systems(base_images):
    """systems.json for cotainr, as LUMI's module installs it: each system and its base image."""
    return {name: {"base-image": image} for name, image in base_images.items() if image}


def read_list(path):
    """Non-comment, non-blank lines of a package list."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def run_step(name, argv, log, timeout=STEP_TIMEOUT):
    """Run one build step, appending its output to `log`; raise BuildError on failure.

    On timeout the step gets SIGTERM first: mmdebstrap then unmounts what it mounted
    in the chroot (/proc, /sys, /dev) before it exits.
    """
    with open(log, "a", encoding="utf-8") as out:
        out.write(f"\n=== {name}: {' '.join(map(str, argv))}\n")
        out.flush()
        try:
            process = subprocess.Popen([str(a) for a in argv], stdout=out, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, start_new_session=True)
        except FileNotFoundError as err:
            raise BuildError(f"{name}: {err.filename} is not installed "
                             "(see debian-packages.txt)") from None
        try:
            returncode = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            raise BuildError(f"{name} took longer than {timeout} s (log: {log})") from None
    if returncode != 0:
        tail = "\n".join(Path(log).read_text(encoding="utf-8", errors="replace").splitlines()[-15:])
        raise BuildError(f"{name} failed with exit status {returncode} (log: {log}):\n{tail}")


def mounts_under(path):
    """Mount points below `path` (an interrupted mmdebstrap can leave /proc, /sys, /dev)."""
    prefix = str(Path(path).resolve()) + "/"
    with open("/proc/self/mountinfo", encoding="utf-8") as info:
        points = [line.split()[4] for line in info]
    return [point for point in points if point.startswith(prefix)]


def remove_tree(path):
    """Delete a build directory without ever crossing into a mounted host file system."""
    if not Path(path).exists():
        return
    left = mounts_under(path)
    if left:
        raise BuildError(f"{path} still has mounts from an interrupted build ({', '.join(left)}); "
                         f"unmount them (umount -R <each>) and delete it by hand")
    subprocess.run(["rm", "-rf", "--one-file-system", str(path)], check=True, timeout=600)


def mmdebstrap_argv(packages, target, hooks, options=()):
    """mmdebstrap command for a sid root file system in directory `target`."""
    return (["mmdebstrap", "--variant=apt", f"--aptopt={APT_OPTION}",
             "--include=" + ",".join(packages), *options]
            + [f"--customize-hook={hook}" for hook in hooks] + [SUITE, target])


def build_rootfs(rootfs, facts, log):
    """Debian root file system with Lmod, Apptainer, the cray-python stand-in and cotainr."""
    systems = rootfs.parent / "systems.json"
    systems.write_text(json.dumps(cotainr_systems(facts["cotainr_systems"]), indent=2) + "\n",
                       encoding="utf-8")
    recipe = [HERE / "customize.sh", HERE / "singularity-shim.sh", HERE / "slurm-start.sh",
              HERE / "cray-python-requirements.txt", systems]
    if HOST_CA.is_file():
        recipe.append(HOST_CA)
    hooks = ['mkdir -p "$1/tmp/lumi-node"']
    hooks += [f"copy-in {path} /tmp/lumi-node" for path in recipe]
    hooks.append(f'chroot "$1" {CLEAN_ENV} COTAINR_VERSION={facts["cotainr_version"]} '
                 'sh /tmp/lumi-node/customize.sh')
    run_step("mmdebstrap (root file system)",
             mmdebstrap_argv(read_list(HERE / "base-packages.txt"), rootfs, hooks), log)


def build_sif(rootfs, work, sif, facts, log):
    """Small real SIF image: minimal Debian with python3, venv and pip."""
    sifroot = work / "sifroot"
    hooks = [f"copy-in {HERE / 'sif-customize.sh'} /tmp",
             f'chroot "$1" {CLEAN_ENV} VENV_IN_IMAGE={facts["venv_in_image"]} sh /tmp/sif-customize.sh',
             'rm -f "$1/tmp/sif-customize.sh"']
    run_step("mmdebstrap (SIF image contents)",
             mmdebstrap_argv(read_list(HERE / "sif-packages.txt"), sifroot, hooks), log)
    prepare_for_unprivileged_build(sifroot)
    sif.parent.mkdir(parents=True, exist_ok=True)
    (work / "tmp").mkdir()
    # The sandbox runs as an unprivileged host user (image/node.py): it may write only these.
    node.give_to_sandbox(sif.parent, work / "tmp")
    mounts = ["--ro-bind", sifroot, "/tmp/sifroot", "--bind", sif.parent, "/tmp/out"]
    argv = node.sandbox_argv(rootfs, mounts, env={"HOME": "/tmp"}, tmp=work / "tmp")
    run_step("singularity build (SIF image)",
             argv + ["singularity", "--quiet", "build", f"/tmp/out/{sif.name}", "/tmp/sifroot"], log)
    if os.geteuid() == 0:
        # Back to root like the rest of the cache, which pages only read.
        os.chown(sif, 0, 0)
        os.chown(sif.parent, 0, 0)
    remove_tree(sifroot)
    remove_tree(work / "tmp")


def prepare_for_unprivileged_build(tree):
    """Make `tree` copyable by a non-root `singularity build`: no device nodes (Apptainer
    provides /dev at run time) and every file the builder's, i.e. the sandbox's host user
    (files of other users, e.g. root's or _apt's, show up as unmapped in the sandbox)."""
    for entry in (Path(tree) / "dev").iterdir():
        if entry.is_char_device() or entry.is_block_device():
            entry.unlink()
    try:
        node.give_to_sandbox(tree, recursive=True)
    except node.SandboxError as err:
        raise BuildError(str(err)) from None


def probe_versions(rootfs):
    """Versions the layer's help texts report honestly (Python, Apptainer)."""
    script = ("/opt/lumi-node/python/bin/python3 -c 'import platform; print(platform.python_version())';"
              "singularity --version")
    out = subprocess.run(node.sandbox_argv(rootfs) + ["sh", "-c", script],
                         capture_output=True, text=True, timeout=60, check=True).stdout.split("\n")
    return {"python": out[0].strip(), "apptainer": out[1].strip()}


def build_base(dest, facts, log):
    """Build stage one into `dest` (must not exist); returns the build time in seconds."""
    started = time.monotonic()
    work = dest.with_name(dest.name + ".partial")
    remove_tree(work)
    work.mkdir(parents=True)
    build_rootfs(work / "rootfs", facts, log)
    build_sif(work / "rootfs", work, work / "sif" / SIF_NAME, facts, log)
    info = probe_versions(work / "rootfs")
    info["build_seconds"] = round(time.monotonic() - started, 1)
    (work / "info.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    work.rename(dest)
    return info["build_seconds"]
