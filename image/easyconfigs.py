"""EasyBuild recipes (.eb text) for the container modules users install, from the snapshot's module entries.

`container_easyconfig(entry, image_path)` writes our own easyconfig for an entry with
`installed: user` and `partition: container` (name, easyconfig, setenv, prepend_path,
commands), after the facts of LUMI's container recipes: the module copies the image
into its installation directory, keeps helper scripts in `runscripts/`, makes a venv in
`user-software/` for the user's own packages, and sets SIF, RUNSCRIPTS, CONTAINERROOT
and the bind paths. It is a Bundle with no components: everything happens in
postinstallcmds, which real EasyBuild runs, and its sanity check looks for the files.
`$EBU_USER_PREFIX/SW/container/<name>/<version>` in the snapshot's values becomes
%(installdir)s, where EasyBuild really installs it.
"""

import re
import shlex

# The module's installation directory, found from the script's own place in its bin/: the
# SquashFS commands work on that directory whatever CONTAINERROOT says, as LUMI's do.
ROOT = 'root=$(dirname "$(dirname "$(readlink -f "$0")")")'
# LUMI's helpers refuse to run inside the container (where /.singularity.d exists).
OUTSIDE_ONLY = ('if [ -d /.singularity.d ]; then\n'
                '  echo "$(basename "$0"): run this outside the container" >&2; exit 1\n'
                'fi')
# What each command the snapshot lists does, run outside the container (bash lines).
# make-squashfs and unmake-squashfs follow the facts of LUMI's PyTorch recipe: each
# refuses to overwrite (exit 3) or to work on nothing (exit 2), packs with one processor,
# and neither removes what it started from; the module mounts the SquashFS file when it
# exists, so after unmake-squashfs the file must go before the directory is used again.
COMMAND_SCRIPTS = {
    "make-squashfs": "\n".join([
        OUTSIDE_ONLY, ROOT,
        'if [ ! -d "$root/user-software" ]; then',
        '  echo "make-squashfs: $root/user-software does not exist: nothing to pack" >&2; exit 2',
        'fi',
        'if [ -e "$root/user-software.squashfs" ]; then',
        '  echo "make-squashfs: $root/user-software.squashfs already exists;'
        ' remove it first if you mean to replace it" >&2; exit 3',
        'fi',
        'mksquashfs "$root/user-software" "$root/user-software.squashfs" -processors 1 -no-xattrs -no-progress -quiet',
        'echo "Packed $root/user-software into $root/user-software.squashfs."',
        'echo "Reload the module to mount it, read-only, at /user-software; then the directory may be removed."',
    ]),
    "unmake-squashfs": "\n".join([
        OUTSIDE_ONLY, ROOT,
        'if [ ! -f "$root/user-software.squashfs" ]; then',
        '  echo "unmake-squashfs: $root/user-software.squashfs does not exist: nothing to unpack" >&2; exit 2',
        'fi',
        'if [ -e "$root/user-software" ]; then',
        '  echo "unmake-squashfs: $root/user-software already exists;'
        ' remove it first if you mean to replace it" >&2; exit 3',
        'fi',
        'unsquashfs -quiet -no-progress -d "$root/user-software" "$root/user-software.squashfs" >/dev/null',
        'echo "Unpacked $root/user-software.squashfs into $root/user-software."',
        'echo "Remove the SquashFS file and reload the module: only then is /user-software the writable directory."',
    ]),
    # A bash in the container; arguments go to bash (start-shell -c 'pip list'), as on LUMI.
    "start-shell": 'exec singularity exec "$SIF" bash "$@"',
    "list-packages": 'exec singularity exec "$SIF" python3 -m pip list "$@"',
    # The module's venv (VIRTUAL_ENV in the container, from SINGULARITYENV_VIRTUAL_ENV).
    "python": 'exec singularity exec "$SIF" bash -c \'exec "$VIRTUAL_ENV/bin/python" "$@"\' python "$@"',
    "pip": 'exec singularity exec "$SIF" bash -c \'exec "$VIRTUAL_ENV/bin/pip" "$@"\' pip "$@"',
}
# Commands every container module with a venv brings, whether or not the snapshot lists them.
VENV_COMMANDS = ["python", "pip"]
# The bind of the user-software venv: the SquashFS file once make-squashfs made it.
BIND_FOOTER = """local root = "%(installdir)s"
local binds = root .. "/runscripts:/runscripts,"
if isFile(pathJoin(root, "user-software.squashfs")) then
   binds = binds .. root .. "/user-software.squashfs:/user-software:image-src=/"
else
   binds = binds .. root .. "/user-software:/user-software"
end
setenv("SINGULARITY_BIND", binds)
"""


class EasyconfigError(Exception):
    """A module entry no container easyconfig can be made from; the message names it."""


def split_name(entry):
    """(name, version, versionsuffix) of 'PyTorch/2.7.1-rocm-...' as EasyBuild spells them."""
    name, _, full = entry["name"].partition("/")
    version, dash, suffix = full.partition("-")
    if not name or not version:
        raise EasyconfigError(f"{entry['name']}: not <name>/<version>")
    expected = f"{name}-{full}.eb"
    if entry.get("easyconfig") != expected:
        raise EasyconfigError(f"{entry['name']}: easyconfig {entry.get('easyconfig')!r} "
                              f"should be {expected!r} (EasyBuild finds it by that name)")
    return name, version, dash + suffix


def installdir_value(value, prefix):
    """A snapshot value with the module's own directory as EasyBuild's %(installdir)s."""
    return str(value).replace(prefix, "%(installdir)s")


def container_easyconfig(entry, image_path):
    """The .eb text installing `entry` from the local image `image_path`."""
    name, version, suffix = split_name(entry)
    prefix = f"$EBU_USER_PREFIX/SW/container/{entry['name']}"
    setenv = entry.get("setenv", {})
    sif_value = setenv.get("SIF")
    sif_name = sif_value.rsplit("/", 1)[1] if sif_value else image_path.rsplit("/", 1)[1]
    extravars = {key: installdir_value(value, prefix) for key, value in setenv.items()
                 if value is not None}
    extravars["SIF"] = f"%(installdir)s/{sif_name}"
    extravars.setdefault("CONTAINERROOT", "%(installdir)s")
    extravars.setdefault("RUNSCRIPTS", "%(installdir)s/runscripts")
    extravars.pop("SINGULARITY_BIND", None)  # set by BIND_FOOTER
    venv = setenv.get("SINGULARITYENV_VIRTUAL_ENV")
    commands = list(entry.get("commands", []))
    if venv:
        commands += [command for command in VENV_COMMANDS if command not in commands]
    unknown = [command for command in commands if command not in COMMAND_SCRIPTS]
    if unknown:
        raise EasyconfigError(f"{entry['name']}: no script for command(s) {', '.join(unknown)}")
    post = [f"cp -L {shlex.quote(image_path)} %(installdir)s/{sif_name}",
            "mkdir -p %(installdir)s/runscripts %(installdir)s/user-software %(installdir)s/bin"]
    if venv:
        # The venv is made with the container's Python, where the module will bind it.
        post.append(f"singularity exec -B %(installdir)s/user-software:/user-software "
                    f"%(installdir)s/{sif_name} python3 -m venv --system-site-packages {venv}")
    # LUMI's container modules keep small helpers for use inside the container in runscripts/.
    post.append("printf '#!/bin/bash\\n# Runs python in the container with the module venv active.\\n"
                "if [ -n \"${VIRTUAL_ENV:-}\" ]; then source \"$VIRTUAL_ENV/bin/activate\"; fi\\n"
                "exec python \"$@\"\\n' > %(installdir)s/runscripts/conda-python-simple && "
                "chmod 755 %(installdir)s/runscripts/conda-python-simple")
    for command in commands:
        # A quoted here-document: the script is written as it stands, nothing expanded.
        post.append(f"cat > %(installdir)s/bin/{command} <<'LUMI_NODE_EOF'\n#!/bin/bash\n"
                    f"{COMMAND_SCRIPTS[command]}\nLUMI_NODE_EOF\n"
                    f"chmod 755 %(installdir)s/bin/{command}")
    paths = ["runscripts/conda-python-simple"] + [f"bin/{command}" for command in commands]
    lines = [
        "# Generated by image/easyconfigs.py from data/lumi_system.yaml for the LUMI Python",
        "# guide's test node, after the facts of LUMI's container recipes; not LUMI's file.",
        "easyblock = 'Bundle'",
        "",
        f"name = {name!r}",
        f"version = {version!r}",
        f"versionsuffix = {suffix!r}",
        "",
        "homepage = 'https://lumi-supercomputer.github.io/LUMI-EasyBuild-docs/'",
        f"description = {('Container module for ' + image_path.rsplit('/', 1)[1])!r}",
        "",
        "toolchain = SYSTEM",
        "",
        f"postinstallcmds = {post!r}",
        "",
        f"modextravars = {extravars!r}",
        "modextrapaths = {'PATH': 'bin'}" if commands else "",
        f"modluafooter = {BIND_FOOTER!r}",
        "",
        f"sanity_check_paths = {{'files': {[sif_name] + paths!r}, 'dirs': ['runscripts', 'user-software']}}",
        "",
        "moduleclass = 'tools'",
    ]
    return "\n".join(lines) + "\n"


def source_image(entry, image_paths):
    """The node's image a container module installs: its SIF name without LUMI's
    `-dockerhash-<hash>` part, among `image_paths`; None if the node has none."""
    sif = (entry.get("setenv") or {}).get("SIF")
    if not sif:
        return None
    wanted = re.sub(r"-dockerhash-[0-9a-f]+(?=\.sif$)", "", sif.rsplit("/", 1)[1])
    return next((path for path in image_paths if path.rsplit("/", 1)[1] == wanted), None)
