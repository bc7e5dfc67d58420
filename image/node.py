"""The bubblewrap command lines that run things inside the LUMI-node container.

The container is the cached root file system (read-only) plus bind mounts: a private
/tmp, the facts layer (/appl, /opt/cray) and the caller's writable directories. The
user is `lumiuser` (uid 1000) in a new user namespace that maps it to an unprivileged
host uid, never 0: the caller's own, or, when run as root, the dedicated host account
HOST_USER (created on first use). The sandbox has its own PID namespace and /proc (so
it sees none of the host's processes, and everything it started dies with its first
process), a minimal /dev, and no network unless asked for.
"""

import os
import pwd
import subprocess
from pathlib import Path

USER = "lumiuser"
UID = 1000
HOSTNAME = "uan01"
HOME = f"/users/{USER}"
WORK = f"{HOME}/work"
PATH = "/usr/local/bin:/usr/bin:/bin"
# When the network is on, these host files make name resolution and TLS (also
# through a host's intercepting proxy) behave as on the host.
NETWORK_FILES = ("/etc/resolv.conf", "/etc/hosts", "/etc/ssl/certs/ca-certificates.crt")
# The host account the sandbox runs as when the tests run as root.
HOST_USER = "lumi-node"
# Where root makes unreachable bind sources reachable for HOST_USER, in a mount
# namespace of its own (see unprivileged()); /run is writable by root only.
STAGE = "/run/lumi-node-stage"
# bwrap options that take a host path as their first argument, and every option's arity.
BIND_OPTIONS = {"--bind", "--ro-bind", "--dev-bind", "--dev-bind-try"}
ARITY = {**dict.fromkeys(BIND_OPTIONS, 2), "--tmpfs": 1, "--dir": 1, "--symlink": 2,
         "--uid": 1, "--gid": 1, "--hostname": 1, "--chdir": 1, "--proc": 1, "--dev": 1,
         "--setenv": 2, "--unshare-user": 0, "--unshare-ipc": 0, "--unshare-uts": 0,
         "--unshare-pid": 0, "--unshare-net": 0, "--die-with-parent": 0, "--clearenv": 0}
# Options callers may pass in `mounts`.
MOUNT_OPTIONS = {*BIND_OPTIONS, "--tmpfs", "--dir", "--symlink"}
USERADD = ["useradd", "--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent",
           "--shell", "/usr/sbin/nologin", "--comment", "LUMI-node test sandbox", HOST_USER]
# Run as root between `unshare --mount` and setpriv: bind each unreachable source into a
# tmpfs on STAGE (only this mount namespace sees it), then drop to the unprivileged uid
# before bwrap makes the user namespace. Arguments: stage uid gid source... -- bwrap...
STAGE_SCRIPT = r"""
set -e
stage=$1 uid=$2 gid=$3 i=0
shift 3
mount -t tmpfs -o mode=0755,size=64k lumi-node-stage "$stage"
while [ "$1" != -- ]; do
  if [ -d "$1" ]; then mkdir "$stage/$i"; else : > "$stage/$i"; fi
  mount --rbind "$1" "$stage/$i"
  i=$((i + 1))
  shift
done
shift
exec setpriv --clear-groups --nnp --reuid="$uid" --regid="$gid" -- "$@"
"""
SETPRIV = ["setpriv", "--clear-groups", "--nnp"]


class SandboxError(Exception):
    """The sandbox cannot be set up on this host; the message says why."""


def host_ids():
    """(uid, gid) on the host of the sandbox's user: the caller's, or HOST_USER's for root."""
    if os.geteuid() != 0:
        return os.getuid(), os.getgid()
    try:
        entry = pwd.getpwnam(HOST_USER)
    except KeyError:
        result = subprocess.run(USERADD, capture_output=True, text=True, check=False)
        try:
            # Also when a parallel run created it first (useradd then fails).
            entry = pwd.getpwnam(HOST_USER)
        except KeyError:
            raise SandboxError(f"cannot create the host user {HOST_USER} for the sandbox "
                               f"({' '.join(USERADD)}): {result.stderr.strip()}") from None
    if entry.pw_uid == 0 or entry.pw_gid == 0:
        raise SandboxError(f"the host user {HOST_USER} has uid or gid 0; the sandbox must "
                           "not map to root: give it its own uid and gid")
    return entry.pw_uid, entry.pw_gid


def give_to_sandbox(*paths, recursive=False):
    """Make `paths` the sandbox user's, so a root run's sandbox can write them.

    `recursive` also gives what is in them: only for trees root made itself (a
    sandbox's own files need nothing, and root must not chown what a sandbox linked in).
    """
    if os.geteuid() != 0:
        return
    uid, gid = host_ids()
    for top in paths:
        os.lchown(top, uid, gid)
        for directory, dirs, files in os.walk(top) if recursive else ():
            for name in dirs + files:
                os.lchown(os.path.join(directory, name), uid, gid)


def searchable(path, uid, gids):
    """True when a process of `uid` (groups `gids`) may look up names in directory `path`."""
    info = os.stat(path)
    if info.st_uid == uid:
        return bool(info.st_mode & 0o100)
    if info.st_gid in gids:
        return bool(info.st_mode & 0o010)
    return bool(info.st_mode & 0o001)


def stage_root(source, uid, gids):
    """The part of `source`'s path to stage so that `uid` reaches it, or None if it already does.

    That is the child of the deepest ancestor `uid` may not search (pytest's
    /tmp/pytest-of-root/ is 0700, and a checkout may live under /root).
    """
    chain = [*reversed(Path(source).parents), Path(source)]
    blocked = [index for index, parent in enumerate(chain[:-1]) if not searchable(parent, uid, gids)]
    return chain[blocked[-1] + 1] if blocked else None


def unprivileged(argv):
    """`argv` (a bwrap command line) run as the unprivileged host user; as is when not root."""
    if os.geteuid() != 0:
        return argv
    uid, gid = host_ids()
    gids = {gid}
    roots, rewritten, index = [], list(argv), 1
    while index < len(rewritten):
        option = rewritten[index]
        if option in BIND_OPTIONS:
            source = Path(rewritten[index + 1]).resolve()
            root = stage_root(source, uid, gids)
            if root is not None:
                if root not in roots:
                    roots.append(root)
                rewritten[index + 1] = str(Path(STAGE, str(roots.index(root)),
                                                source.relative_to(root)))
        index += 1 + ARITY[option]
    if not roots:
        return SETPRIV + [f"--reuid={uid}", f"--regid={gid}", "--"] + rewritten
    os.makedirs(STAGE, mode=0o755, exist_ok=True)
    return (["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", STAGE_SCRIPT,
             "sh", STAGE, str(uid), str(gid), *map(str, roots), "--"] + rewritten)


def sandbox_argv(rootfs, mounts=(), network=False, env=None, chdir="/", tmp=None):
    """Command line (without the command) for a non-root user in `rootfs`.

    `mounts` are extra bwrap arguments (e.g. ["--bind", src, dest]; only MOUNT_OPTIONS),
    applied after the root file system and the system mounts, in order. `tmp` is
    a host directory for /tmp (owned by the sandbox's user); without it /tmp is a tmpfs,
    which bwrap mounts nodev, and then `singularity build` warns about it.
    """
    argv = ["bwrap", "--unshare-user", "--uid", str(UID), "--gid", str(UID),
            "--unshare-ipc", "--unshare-uts", "--hostname", HOSTNAME, "--die-with-parent",
            # Apptainer works in a PID namespace with its own /proc (its `exec` and
            # `build` were tried); the host's processes stay invisible and unsignalable,
            # and when the first process ends the kernel ends all the others.
            "--unshare-pid"]
    if not network:
        argv.append("--unshare-net")
    argv += ["--ro-bind", str(rootfs), "/",
             # bwrap's own /proc keeps /proc/sys and the like read-only.
             "--proc", "/proc",
             # null, zero, full, random, urandom, tty, a private /dev/pts and /dev/shm.
             "--dev", "/dev",
             # Apptainer mounts SIF images with squashfuse_ll, which needs /dev/fuse.
             "--dev-bind-try", "/dev/fuse", "/dev/fuse",
             "--ro-bind", "/sys", "/sys"]
    # --dev-bind: a bind without nodev, or `singularity build` warns about /tmp.
    argv += ["--dev-bind", str(tmp), "/tmp"] if tmp else ["--tmpfs", "/tmp"]
    index = 0
    mounts = [str(part) for part in mounts]
    while index < len(mounts):
        if mounts[index] not in MOUNT_OPTIONS:
            raise ValueError(f"sandbox_argv: unsupported mount option {mounts[index]}")
        index += 1 + ARITY[mounts[index]]
    argv += mounts
    if network:
        for name in NETWORK_FILES:
            if Path(name).exists():
                argv += ["--ro-bind", name, name]
    environment = {"HOME": HOME, "USER": USER, "LOGNAME": USER, "SHELL": "/bin/bash",
                   "PATH": PATH, "LANG": "C.UTF-8", "TERM": "dumb"}
    environment.update(env or {})
    argv.append("--clearenv")
    for key, value in environment.items():
        argv += ["--setenv", key, value]
    argv += ["--chdir", chdir]
    return unprivileged(argv)
