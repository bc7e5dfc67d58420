"""Stage two of the test container: everything named after data/lumi.yaml.

A small directory tree, rebuilt in well under a second whenever the facts change,
bound read-only over the stage-one root file system at start:
  layer/appl      -> /appl      (LUMI's module tree, wrapper commands, SIF images)
  layer/opt-cray  -> /opt/cray  (cray-python modulefiles; /opt/cray/pe/python/<v>
                                 are bind mounts of the one stand-in prefix)
mounts.json lists these binds for node.py's callers.
"""

import json
import os
import shutil

from .base import SIF_NAME
from .modulefiles import CONTAINER_ROOT, WRAPPER_ROOT, module_tree

# Container directory -> layer subdirectory; every generated path must fall under one.
LAYER_DIRS = {"/appl": "appl", "/opt/cray": "opt-cray"}
PYTHON_PREFIX = "/opt/lumi-node/python"


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


def wrapper_script(command, version):
    """A container-wrapper command that can only say it needs LUMI."""
    return ("#!/bin/sh\n"
            f"echo '{command}: LUMI container wrapper {version} stand-in in the test container; "
            "the real command only works on LUMI.' >&2\nexit 1\n")


def link_or_copy(source, target):
    """Hard link (the images are big), or copy across file systems."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def write_layer(node_dir, facts):
    """Write node_dir/layer (node_dir/base is stage one); return the bind mounts.

    Mount sources are relative to node_dir, so the cache survives a moved checkout.
    """
    layer, base_dir = node_dir / "layer", node_dir / "base"
    info = json.loads((base_dir / "info.json").read_text(encoding="utf-8"))
    for path, text in module_tree(facts, info).items():
        write_file(layer, path, text)
    wrapper = facts["container_wrapper"]
    for version in wrapper["versions"]:
        for command in wrapper["commands"]:
            write_file(layer, f"{WRAPPER_ROOT}/{version}/bin/{command}",
                       wrapper_script(command, version), 0o755)
    name, _, pversion = facts["pytorch"]["module"].partition("/")
    write_file(layer, f"{CONTAINER_ROOT}/{name}/{pversion}/runscripts/README",
               "LUMI keeps helper scripts for this container here; the test container has none.\n")
    image_dir = facts["pytorch"]["image_dir"]
    sif = base_dir / "sif" / SIF_NAME
    link_or_copy(sif, host_path(layer, f"{image_dir}/{facts['pytorch']['image']}"))
    link_or_copy(sif, host_path(layer, f"{image_dir}/{SIF_NAME}"))
    mounts = [[f"layer/{sub}", prefix] for prefix, sub in LAYER_DIRS.items()]
    for version in sorted(set(facts["cray_python"]["by_stack"].values())):
        point = f"/opt/cray/pe/python/{version}"
        host_path(layer, point).mkdir(parents=True, exist_ok=True)
        mounts.append([f"base/rootfs{PYTHON_PREFIX}", point])
    for sub in LAYER_DIRS.values():
        (layer / sub).mkdir(parents=True, exist_ok=True)
    return mounts
