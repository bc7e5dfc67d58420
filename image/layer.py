"""Stage two of the test container: everything named after the system snapshot.

A small directory tree, rebuilt in well under a second whenever the snapshot or the
facts change, bound read-only over the stage-one root file system at start:
  layer/appl      -> /appl      (LUMI's module tree, the modules' commands, the images)
  layer/opt-cray  -> /opt/cray  (cray-python modulefiles; /opt/cray/pe/python/<v>
                                 are bind mounts of the one stand-in prefix)
mounts.json lists these binds for node.py's callers.

Each preinstalled module's commands are put in the PATH directories the snapshot says
the module adds, linked to what really runs them in the node (COMMANDS); a command the
node cannot provide is a script that says so and exits 1, never a fake success.
"""

import json
import os
import shutil

from .base import SIF_NAME
from .modulefiles import module_tree
from .slurm_config import SLURM_DIR, SlurmConfigError, config_files
from .easybuild_config import EASYCONFIG_DIR
from .easyconfigs import EasyconfigError, container_easyconfig, source_image

# Container directory -> layer subdirectory; every generated path must fall under one.
LAYER_DIRS = {"/appl": "appl", "/opt/cray": "opt-cray"}
PYTHON_PREFIX = "/opt/lumi-node/python"
# The program in the stage-one root file system behind each command a module brings.
COMMANDS = {
    "cotainr": "/opt/lumi-node/cotainr/bin/cotainr",
    "proot": "/opt/lumi-node/systools/proot",
}
# Modules whose PATH directory is the bin/ of a whole Python prefix (bound in, not linked).
PYTHON_MODULES = {"cray-python"}


class LayerError(Exception):
    """A fact points somewhere the layer cannot put it."""


def host_path(layer, path):
    """Where container path `path` lives inside the layer directory."""
    for prefix, sub in LAYER_DIRS.items():
        if path == prefix or path.startswith(prefix + "/"):
            return layer / sub / path[len(prefix):].lstrip("/")
    raise LayerError(f"{path} is outside {', '.join(LAYER_DIRS)}; "
                     "the test container can only place LUMI's files there")


def write_file(layer, path, text, mode=0o644):
    """Write `text` at container path `path`."""
    target = host_path(layer, path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    target.chmod(mode)


def missing_command(command, module):
    """A command the test node cannot run: it says so and fails."""
    return ("#!/bin/sh\n"
            f"echo '{command} ({module}): not available in the LUMI Python guide test node; "
            "it only works on LUMI.' >&2\nexit 1\n")


def link_or_copy(source, target):
    """Hard link (the images are big), or copy across file systems."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def path_dirs(entry):
    """The PATH directories a module adds (snapshot values may use $EBU_USER_PREFIX: not ours)."""
    return [d for d in entry.get("prepend_path", {}).get("PATH", []) if d.startswith("/")]


def write_commands(layer, snapshot, rootfs):
    """Put every preinstalled module's commands where the snapshot says; return prefix binds."""
    python_binds = set()
    for stack in snapshot.data["stacks"]:
        for entry in snapshot.modules(stack["name"], installed="system"):
            name = entry["name"].split("/", 1)[0]
            for directory in path_dirs(entry):
                if name in PYTHON_MODULES:
                    python_binds.add(directory.rsplit("/bin", 1)[0])
                    continue
                for command in entry.get("commands", []):
                    target = host_path(layer, f"{directory}/{command}")
                    target.parent.mkdir(parents=True, exist_ok=True)
                    real = COMMANDS.get(command)
                    if real and (rootfs / real.lstrip("/")).exists():
                        if not target.is_symlink():
                            target.symlink_to(real)
                    else:
                        write_file(layer, f"{directory}/{command}",
                                   missing_command(command, entry["name"]), 0o755)
    return sorted(python_binds)


def write_images(layer, snapshot, sif):
    """Every image the snapshot lists, each a link to the node's one small real image."""
    for path in snapshot.image_paths():
        link_or_copy(sif, host_path(layer, path))


def write_easyconfigs(layer, snapshot):
    """Our own recipe for every container module users install, where `eb <name>.eb` finds it."""
    for stack in snapshot.stack_names():
        for entry in snapshot.modules(stack, installed="user"):
            image = source_image(entry, snapshot.image_paths())
            if entry.get("partition") != "container" or image is None:
                continue  # no image the node has: its eb stays marked on the page
            try:
                text = container_easyconfig(entry, image)
            except EasyconfigError as err:
                raise LayerError(str(err)) from None
            write_file(layer, f"{EASYCONFIG_DIR}/{entry['easyconfig']}", text)


def write_layer(node_dir, snapshot, facts):
    """Write node_dir/layer (node_dir/base is stage one); return the bind mounts.

    Mount sources are relative to node_dir, so the cache survives a moved checkout.
    """
    layer, base_dir = node_dir / "layer", node_dir / "base"
    info = json.loads((base_dir / "info.json").read_text(encoding="utf-8"))
    # cray-python is only offered through a stack here (the snapshot records it per stack),
    # so a page must load a stack first, as every example in the guide does.
    for path, text in module_tree(snapshot, facts, info).items():
        write_file(layer, path, text)
    python_binds = write_commands(layer, snapshot, base_dir / "rootfs")
    write_images(layer, snapshot, base_dir / "sif" / SIF_NAME)
    try:
        slurm = config_files(snapshot.slurm_partitions(), [facts["example_project"]])
    except SlurmConfigError as err:
        raise LayerError(str(err)) from None
    for name, text in slurm.items():
        write_file(layer, f"{SLURM_DIR}/{name}", text)
    write_easyconfigs(layer, snapshot)
    mounts = [[f"layer/{sub}", prefix] for prefix, sub in LAYER_DIRS.items()]
    for point in python_binds:
        host_path(layer, point).mkdir(parents=True, exist_ok=True)
        mounts.append([f"base/rootfs{PYTHON_PREFIX}", point])
    for sub in LAYER_DIRS.values():
        (layer / sub).mkdir(parents=True, exist_ok=True)
    return mounts
