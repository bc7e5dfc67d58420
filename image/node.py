"""The bubblewrap command lines that run things inside the LUMI-node container.

The container is the cached root file system (read-only) plus bind mounts: a private
/tmp, the facts layer (/appl, /opt/cray) and the caller's writable directories. The
user is `lumiuser` (uid 1000) in a new user namespace that maps it to an unprivileged
host uid, never 0: the caller's own, or, when run as root, the dedicated host account
HOST_USER (created on first use). The sandbox has its own PID namespace and /proc (so
it sees none of the host's processes, and everything it started dies with its first
process), a minimal /dev, and no network unless asked for; a network page gets a network
namespace of its own behind pasta, from which the host's own addresses are unreachable.
The limits (image/limits.py) are rlimits set inside the sandbox and one sized tmpfs for
/tmp, the project areas, /run and /dev/shm, mounted by image/launch.py.
"""

import ipaddress
import json
import os
import pwd
import shutil
import subprocess
import sys
from pathlib import Path

from image import limits

USER = "lumiuser"
UID = 1000
HOSTNAME = "uan01"
HOME = f"/users/{USER}"
WORK = f"{HOME}/work"
PATH = "/usr/local/bin:/usr/bin:/bin"
# When the network is on, these host files make name resolution and TLS (also
# through a host's intercepting proxy) behave as on the host.
NETWORK_FILES = ("/etc/resolv.conf", "/etc/hosts", "/etc/ssl/certs/ca-certificates.crt")
RESOLV_CONF = Path("/etc/resolv.conf")  # the host's, read to find its resolver
# A network page's namespace reaches the outside through pasta (Debian's passt): no port
# forwarding in either direction (-t/-u/-T/-U none: the host's loopback services stay out of
# reach), and no mapping of the gateway address to the host (--no-map-gw).
PASTA = ["--config-net", "--no-map-gw", "-t", "none", "-u", "none", "-T", "none", "-U", "none",
         "-q", "-f"]
# Where a network page sends DNS queries when the host's resolver listens on its loopback
# (systemd-resolved's 127.0.0.53): pasta forwards exactly those to the host's resolver.
DNS_FORWARD = "169.254.53.53"
# Proxy settings a network page inherits, so pip goes the way it goes on the host.
PROXY_VARIABLES = ("http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY")
# The launcher (image/launch.py) runs from its text: the host user may not read the checkout.
LAUNCH = Path(__file__).with_name("launch.py")
LAUNCH_PREFIX = ["unshare", "--user", "--map-current-user", "--mount", "--propagation", "private",
                 "--keep-caps", "--"]
# Directories of the page's sized tmpfs (limits.AREAS_SIZE), bound into the sandbox.
AREA_DIRS = ("tmp", "scratch", "project", "flash", "run", "shm")
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
         "--unshare-pid": 0, "--unshare-net": 0, "--die-with-parent": 0, "--clearenv": 0,
         "--remount-ro": 1}
# Options callers may pass in `mounts`.
MOUNT_OPTIONS = {*BIND_OPTIONS, "--tmpfs", "--dir", "--symlink", "--remount-ro"}
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


def host_addresses():
    """The host's own IP addresses (loopback ones aside), from /proc: a network page must not reach them."""
    found, last = [], None
    try:
        for line in Path("/proc/net/fib_trie").read_text(encoding="ascii").splitlines():
            if "|--" in line:
                last = line.split("|--")[1].strip()
            elif "/32 host LOCAL" in line and last:
                found.append(last)
        for line in Path("/proc/net/if_inet6").read_text(encoding="ascii").splitlines():
            found.append(str(ipaddress.IPv6Address(int(line.split()[0], 16))))
    except OSError:
        pass
    addresses = {ipaddress.ip_address(text) for text in found}
    return sorted((str(a) for a in addresses if not a.is_loopback), key=str)


def loopback_resolver():
    """True when the host's resolver listens on its own loopback (systemd-resolved, dnsmasq)."""
    try:
        servers = [line.split()[1] for line in RESOLV_CONF.read_text(encoding="utf-8").splitlines()
                   if line.startswith("nameserver") and len(line.split()) > 1]
    except OSError:
        return False
    try:
        return any(ipaddress.ip_address(server.split("%")[0]).is_loopback for server in servers)
    except ValueError:
        return False


def network_config():
    """The launcher's settings for a network page: pasta's options and the refused addresses."""
    for command, package in (("pasta", "passt"), ("ip", "iproute2")):
        if shutil.which(command) is None:
            raise SandboxError(f"{command} is not installed, and a network page needs it: install "
                               f"the Debian package {package} (listed in debian-packages.txt)")
    pasta = list(PASTA)
    if loopback_resolver():
        pasta += ["--dns-forward", DNS_FORWARD]
    # The host's own addresses and the cloud metadata service, which pasta would otherwise
    # reach from the host's side.
    return {"network": True, "pasta": pasta,
            "unreachable": host_addresses() + ["169.254.169.254", "fd00:ec2::254"]}


def unprivileged(argv, config=None):
    """`argv` (a bwrap command line) as the sandbox's host user, started by image/launch.py
    with `config` when given.

    Bind sources are passed resolved (a symlink on the way may sit where the host user
    cannot look). As root: dropped to HOST_USER, after staging the sources it cannot reach.
    """
    rewritten, index = list(argv), 1
    while index < len(rewritten):
        option = rewritten[index]
        if option in BIND_OPTIONS:
            rewritten[index + 1] = str(Path(rewritten[index + 1]).resolve())
        index += 1 + ARITY.get(option, 0)
    config = dict(config or {})
    if config.get("area"):
        config["area"] = str(Path(config["area"]).resolve())
    roots = []
    if os.geteuid() == 0:
        uid, gid = host_ids()

        def staged(source):
            root = stage_root(Path(source), uid, {gid})
            if root is None:
                return source
            if root not in roots:
                roots.append(root)
            return str(Path(STAGE, str(roots.index(root)), Path(source).relative_to(root)))

        index = 1
        while index < len(rewritten):
            if rewritten[index] in BIND_OPTIONS:
                rewritten[index + 1] = staged(rewritten[index + 1])
            index += 1 + ARITY.get(rewritten[index], 0)
        if config.get("area"):
            config["area"] = staged(config["area"])
    if config:
        # The system's Python: the sandbox's host user may not reach the one running the tests.
        python = next((str(path) for path in (Path("/usr/bin/python3"), Path(sys.base_prefix, "bin",
                                                                             "python3"))
                       if path.is_file()), "python3")
        rewritten = LAUNCH_PREFIX + [python, "-I", "-c", LAUNCH.read_text(encoding="utf-8"),
                                     json.dumps(config)] + rewritten
    if os.geteuid() != 0:
        return rewritten
    if not roots:
        return SETPRIV + [f"--reuid={uid}", f"--regid={gid}", "--"] + rewritten
    os.makedirs(STAGE, mode=0o755, exist_ok=True)
    return (["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", STAGE_SCRIPT,
             "sh", STAGE, str(uid), str(gid), *map(str, roots), "--"] + rewritten)


def sandbox_argv(rootfs, mounts=(), network=False, env=None, chdir="/", area=None, copies=(),
                 tmp=None):
    """Command line (without the command) for a non-root user in `rootfs`, under the limits.

    `mounts` are extra bwrap arguments (e.g. ["--bind", src, dest]; only MOUNT_OPTIONS),
    applied after the root file system and the system mounts, in order. `area` is a host
    directory that the launcher covers with the page's sized tmpfs (limits.AREAS_SIZE),
    holding AREA_DIRS: /tmp, /run and /dev/shm are bound from it, and `mounts` may bind its
    other directories; `copies` are (host file, path in the area) copied in at the start.
    Without `area`, /tmp is the host directory `tmp` (the image build's SIF step) or, like
    /run and /dev/shm, bwrap's unsized tmpfs (quick probes).
    """
    argv = ["bwrap", "--unshare-user", "--uid", str(UID), "--gid", str(UID),
            "--unshare-ipc", "--unshare-uts", "--hostname", HOSTNAME, "--die-with-parent",
            # Apptainer works in a PID namespace with its own /proc (its `exec` and
            # `build` were tried); the host's processes stay invisible and unsignalable,
            # and when the first process ends the kernel ends all the others.
            "--unshare-pid"]
    # A network page's namespace is made by the launcher, which connects it through pasta.
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
    if area:
        # --dev-bind: a bind without nodev, or `singularity build` warns about /tmp.
        argv += ["--dev-bind", Path(area, "tmp"), "/tmp", "--bind", Path(area, "run"), "/run",
                 "--bind", Path(area, "shm"), "/dev/shm",
                 # What bwrap's own /dev tmpfs would hold beyond the devices is unsized.
                 "--remount-ro", "/dev"]
    else:
        argv += ["--dev-bind", tmp, "/tmp"] if tmp else ["--tmpfs", "/tmp"]
        argv += ["--tmpfs", "/run"]
    index = 0
    mounts = [str(part) for part in mounts]
    while index < len(mounts):
        if mounts[index] not in MOUNT_OPTIONS:
            raise ValueError(f"sandbox_argv: unsupported mount option {mounts[index]}")
        index += 1 + ARITY[mounts[index]]
    argv += mounts
    environment = {"HOME": HOME, "USER": USER, "LOGNAME": USER, "SHELL": "/bin/bash",
                   "PATH": PATH, "LANG": "C.UTF-8", "TERM": "dumb"}
    config = {}
    if area:
        config.update(area=str(area), size=limits.AREAS_SIZE, subdirs=list(AREA_DIRS),
                      copies=[[str(source), target] for source, target in copies])
    if network:
        config.update(network_config())
        # With the host's resolver on its loopback, the page asks pasta's DNS_FORWARD instead.
        own_resolver = loopback_resolver()
        for name in NETWORK_FILES:
            if Path(name).exists() and not (own_resolver and name == "/etc/resolv.conf"):
                argv += ["--ro-bind", name, name]
        if own_resolver:
            if not area:
                raise SandboxError("a network sandbox needs an area for its resolv.conf")
            config["texts"] = [["resolv.conf", f"nameserver {DNS_FORWARD}\n"]]
            argv += ["--ro-bind", Path(area, "resolv.conf"), "/etc/resolv.conf"]
        environment.update({key: os.environ[key] for key in PROXY_VARIABLES if key in os.environ})
    environment.update(env or {})
    argv.append("--clearenv")
    for key, value in environment.items():
        argv += ["--setenv", key, value]
    argv += ["--chdir", chdir]
    # rlimits are set here, inside bwrap's user namespace: RLIMIT_NPROC then counts this
    # page's processes only (see image/limits.py).
    argv += ["/bin/bash", "-c", limits.ulimit_command(), "lumi-node-limits"]
    return unprivileged([str(part) for part in argv], config)
