"""The bubblewrap command lines that run things inside the LUMI-node container.

The container is the cached root file system (read-only) plus bind mounts:
host /proc and /dev (Apptainer needs the host's /proc and cannot work in a new PID
namespace), a private /tmp, the facts layer (/appl, /opt/cray) and the caller's
writable directories. The user is `lumiuser` (uid 1000) in a new user namespace,
and the network is off unless asked for.
"""

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


def sandbox_argv(rootfs, mounts=(), network=False, env=None, chdir="/", tmp=None):
    """bwrap argv (without the command) for a non-root user in `rootfs`.

    `mounts` are extra bwrap arguments (e.g. ["--bind", src, dest]), applied after
    the root file system and the system mounts, in order. `tmp` is a host directory
    for /tmp; without it /tmp is a tmpfs, which bwrap mounts nodev, and then
    `singularity build` warns about it.
    """
    argv = ["bwrap", "--unshare-user", "--uid", str(UID), "--gid", str(UID),
            "--unshare-ipc", "--unshare-uts", "--hostname", HOSTNAME, "--die-with-parent"]
    if not network:
        argv.append("--unshare-net")
    argv += ["--ro-bind", str(rootfs), "/",
             "--bind", "/proc", "/proc",
             "--dev-bind", "/dev", "/dev",
             "--ro-bind", "/sys", "/sys"]
    argv += ["--dev-bind", str(tmp), "/tmp"] if tmp else ["--tmpfs", "/tmp"]
    argv += [str(part) for part in mounts]
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
    return argv
