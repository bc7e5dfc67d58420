"""Starts one page's sandbox: its sized tmpfs, then bubblewrap, and for a network page pasta.

image/node.py runs this file's text with `python3 -I -c` (the sandbox's host user may not
be able to read the checkout) inside `unshare --user --map-current-user --mount
--keep-caps`, so it holds capabilities over a mount namespace of its own and nothing else:

    launch CONFIG bwrap ARGS... COMMAND...

CONFIG (JSON): "area", a host directory to cover with a tmpfs of "size" bytes holding
"subdirs", "copies" ([host file, path in the area]) and "texts" ([path in the area, text]);
"network", to give the sandbox a network namespace of its own, connected to the outside by
pasta (user-mode networking) with the "pasta" options, where routes refuse the
"unreachable" addresses (the host's own, the cloud metadata service). Capabilities are
dropped before bwrap starts.
"""

import ctypes
import json
import os
import signal
import subprocess
import sys
import time

MS_NOSUID = 2
CLONE_NEWNET = 0x40000000
PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 47, 4
CAPABILITY_VERSION_3 = 0x20080522
READY_TIMEOUT = 20.0  # seconds for pasta to configure the namespace on a busy machine
libc = ctypes.CDLL(None, use_errno=True)


def die(text):
    print(f"lumi-node launch: {text}", file=sys.stderr, flush=True)
    sys.exit(125)


def check(result, what):
    if result != 0:
        die(f"{what}: {os.strerror(ctypes.get_errno())}")


def make_area(config):
    """Cover the area directory with a sized tmpfs and lay out its directories and files."""
    area = config["area"]
    check(libc.mount(b"lumi-node-area", area.encode(), b"tmpfs", MS_NOSUID,
                     f"size={config['size']},mode=0755".encode()), f"mount a tmpfs on {area}")
    for name in config["subdirs"]:
        os.mkdir(os.path.join(area, name), 0o755)
    os.chmod(os.path.join(area, "tmp"), 0o1777)
    for source, target in config["copies"]:
        with open(source, "rb") as src, open(os.path.join(area, target), "wb") as dst:
            dst.write(src.read())
    for target, text in config.get("texts", ()):
        with open(os.path.join(area, target), "w", encoding="utf-8") as dst:
            dst.write(text)


def has_default_route():
    with open("/proc/net/route", encoding="ascii") as table:
        return any(line.split()[1] == "00000000" for line in list(table)[1:])


def network_child(config, argv, ready):
    """In the forked child: a new network namespace that refuses the host, then bwrap."""
    check(libc.unshare(CLONE_NEWNET), "unshare the network namespace")
    for address in config["unreachable"]:
        result = subprocess.run(["ip", "route", "add", "unreachable", address], capture_output=True,
                                text=True, check=False)
        if result.returncode != 0:
            die(f"ip route add unreachable {address}: {result.stderr.strip()}")
    # pasta may open this namespace only when this process holds no capability it lacks.
    drop_capabilities()
    os.write(ready, b"1")
    os.close(ready)
    deadline = time.monotonic() + READY_TIMEOUT
    while not has_default_route():
        if time.monotonic() > deadline:
            die(f"pasta did not configure the page's network within {READY_TIMEOUT:g} s")
        time.sleep(0.02)
    os.execvp(argv[0], argv)


def drop_capabilities():
    """Give up every capability this user namespace gave us (bwrap refuses to run with any)."""
    libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    header = (ctypes.c_uint32 * 2)(CAPABILITY_VERSION_3, 0)
    check(libc.capset(header, (ctypes.c_uint32 * 6)()), "drop capabilities")


def main():
    config, argv = json.loads(sys.argv[1]), sys.argv[2:]
    if config.get("area"):
        make_area(config)
    if not config.get("network"):
        drop_capabilities()
        os.execvp(argv[0], argv)
    ready_read, ready_write = os.pipe()
    child = os.fork()
    if child == 0:
        os.close(ready_read)
        network_child(config, argv, ready_write)
    os.close(ready_write)
    if os.read(ready_read, 1) != b"1":  # the child died and said why
        _, status = os.waitpid(child, 0)
        sys.exit(os.waitstatus_to_exitcode(status))
    os.close(ready_read)
    pasta = subprocess.Popen(["pasta", *config["pasta"], "--netns", f"/proc/{child}/ns/net"],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    # Forward a polite end to the sandbox; SIGKILL of the process group ends all of us.
    signal.signal(signal.SIGTERM, lambda *_: os.kill(child, signal.SIGTERM))
    _, status = os.waitpid(child, 0)
    pasta.terminate()
    try:
        pasta.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pasta.kill()
    code = os.waitstatus_to_exitcode(status)
    sys.exit(code if code >= 0 else 128 - code)


if __name__ == "__main__":
    main()
