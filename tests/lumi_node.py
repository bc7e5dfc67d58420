"""Interface to the test container, a LUMI login node in miniature, for the snippet runner.

    ensure_image()                 build the container if the cache misses (minutes), else reuse it
    check_can_start()              quick probe: can bubblewrap start a sandbox on this machine?
    shell_argv(home, work, ...)    argv of a non-interactive login bash inside the container

Inside, the shell runs as `lumiuser` (uid 1000, an unprivileged host uid: see
image/node.py; when run as root the page's directories are handed to that host user)
with HOME=/users/lumiuser (the
`home` directory) and its working directory /users/lumiuser/work (the `work`
directory). /scratch/<project>, /project/<project>, /flash/<project>, /tmp, /run and
/dev/shm are the page's sized tmpfs (see areas_for). Lmod is initialised by the
login shell (/etc/profile), so `module` works from the first command. The
system directories are read-only, /tmp is private, the network is off unless
asked for. How the image is built: image/build.py.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from image import build, node  # noqa: E402

HOME = node.HOME
WORK = node.WORK
USER = node.USER
START_TIMEOUT = 20  # seconds for the probe
HOST_CA = Path("/etc/ssl/certs/ca-certificates.crt")
CA_COPY = Path("/tmp/.lumi-node-host-ca.crt")


class LumiNodeError(Exception):
    """The test container cannot be built or started; the message says why."""


def ensure_image():
    """Build the image if the cache misses, else reuse it; return its cache directory."""
    try:
        return build.ensure_image(report=lambda text: print(text, file=sys.stderr))
    except build.ImageError as err:
        raise LumiNodeError(str(err)) from None


def areas_for(home):
    """Host directory that the page's sized tmpfs covers (image/launch.py), inside the sandbox only.

    It holds /tmp, /scratch/<project>, /project/<project>, /flash/<project>, /run and
    /dev/shm; the host sees an empty directory.
    """
    home = Path(home)
    return home.parent / f"{home.name}-lumi-areas"


def shell_argv(home, work, network=False):
    """argv starting `bash -l` inside the container, reading its commands from stdin.

    `home` and `work` are existing host directories, mounted at /users/lumiuser and
    /users/lumiuser/work (the shell's cwd). With network=True the shell has a network
    namespace of its own behind pasta (image/node.py), from which PyPI is reachable and the
    host's own addresses are not; the host's resolver and CA certificates are used, also
    inside `singularity exec` (SSL_CERT_FILE and PIP_CERT point to a copy in /tmp).
    """
    try:
        image = build.node_dir()
        facts = build.read_facts()
    except build.ImageError as err:
        raise LumiNodeError(str(err)) from None
    if not build.is_ready(image):
        raise LumiNodeError(f"the container image is not built yet ({image}): call ensure_image()")
    mounts = []
    for source, target in json.loads((image / "mounts.json").read_text(encoding="utf-8")):
        mounts += ["--ro-bind", image / source, target]
    # /users and the project file systems' tops are read-only once the page's own
    # directories are bound in them (a tmpfs there would be writable and unsized).
    mounts += ["--tmpfs", "/users", "--bind", Path(home).resolve(), HOME,
               "--bind", Path(work).resolve(), WORK, "--remount-ro", "/users"]
    areas = areas_for(Path(home).resolve())
    areas.mkdir(exist_ok=True)
    project = facts["example_project"]
    for area in ("scratch", "project", "flash"):
        mounts += ["--tmpfs", f"/{area}", "--bind", areas / area, f"/{area}/{project}",
                   "--remount-ro", f"/{area}"]
    env, copies = {}, []
    if network and HOST_CA.is_file():
        # Containers run with `singularity exec` have their own CA bundle, which lacks the
        # CA of a host that intercepts TLS; Apptainer binds /tmp and passes the
        # environment, so pip inside them finds the host's bundle this way.
        copies = [(HOST_CA, f"tmp/{CA_COPY.name}")]
        env = {"SSL_CERT_FILE": str(CA_COPY), "PIP_CERT": str(CA_COPY)}
    rootfs = image / "base" / "rootfs"
    try:
        node.give_to_sandbox(home, work, areas)
        argv = node.sandbox_argv(rootfs, mounts, network=network, env=env, chdir=WORK,
                                 area=areas, copies=copies)
    except node.SandboxError as err:
        raise LumiNodeError(str(err)) from None
    return argv + ["/bin/bash", "-l"]


def check_can_start():
    """Raise LumiNodeError with the reason if bubblewrap cannot start a sandbox here."""
    if shutil.which("bwrap") is None:
        raise LumiNodeError("bwrap is not installed: install the Debian package bubblewrap "
                            "(listed in debian-packages.txt)")
    try:
        argv = node.sandbox_argv("/") + ["true"]
    except node.SandboxError as err:
        raise LumiNodeError(str(err)) from None
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=START_TIMEOUT)
    except FileNotFoundError:
        raise LumiNodeError(f"{argv[0]} is not installed (Debian package util-linux)") from None
    except subprocess.TimeoutExpired:
        raise LumiNodeError(f"bwrap did not start within {START_TIMEOUT} s") from None
    if result.returncode != 0:
        raise LumiNodeError(
            f"bwrap cannot start a sandbox: {result.stderr.strip()} "
            "(are unprivileged user namespaces disabled? see sysctl "
            "kernel.unprivileged_userns_clone, user.max_user_namespaces and "
            "kernel.apparmor_restrict_unprivileged_userns)")
