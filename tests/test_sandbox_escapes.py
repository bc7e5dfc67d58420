"""Escapes from a page's shell in the test container: each one is tried and must fail.

The shells are started and ended exactly as the snippet runner does it
(tests/lumi_node.py's shell_argv, tests/snippets/persistent_shell.py), with the page's
directories from pytest's tmp_path, whose parents only the test runner may enter.
"""

import os
import re
import secrets
import socket
import subprocess
import time
from pathlib import Path

import pytest

import lumi_node
from image import build, limits, node
from macros.facts import load_facts
from tests.snippets.persistent_shell import BlockTimeout, PersistentShell

PROJECT = load_facts()["example_project"]
# What `--dev /dev` provides, and /dev/fuse for Apptainer (image/node.py); nothing else.
DEVICES = {"core", "fd", "full", "null", "ptmx", "pts", "random", "shm", "stderr", "stdin",
           "stdout", "tty", "urandom", "zero", "fuse"}
# File systems kept in memory or private to the sandbox; all others are host disks.
PRIVATE_FILE_SYSTEMS = {"tmpfs", "proc", "devpts", "fuse.squashfuse_ll"}
SIZED_AREAS = {"/tmp", "/run", "/dev/shm", f"/scratch/{PROJECT}", f"/project/{PROJECT}",
               f"/flash/{PROJECT}"}



@pytest.fixture
def page(node_dirs):
    """A page's shell, started as the snippet runner starts it; closed as it closes it."""
    home, work = node_dirs
    shell = PersistentShell(lumi_node.shell_argv(home, work), cwd=str(work))
    shell.home, shell.work, shell.areas = home, work, lumi_node.areas_for(home.resolve())
    yield shell
    shell.close()


def unique_sleep():
    """A `sleep` argument no other process on the host uses: it finds the page's processes."""
    return f"3000.{secrets.randbelow(10**9):09d}"


def host_processes(marker):
    """(pid, real uid) of the host's processes whose command line contains `marker`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            status = (entry / "status").read_text(encoding="utf-8")
        except OSError:
            continue
        if marker in command:
            found.append((int(entry.name), real_uid(status)))
    return found


def real_uid(status):
    """The real uid in the text of a /proc/<pid>/status file."""
    return int(re.search(r"^Uid:\s+(\d+)", status, re.M)[1])


class KernelLog:
    """The host's kernel log from now on (empty when this user may not read it)."""

    def __enter__(self):
        try:
            self.fd = os.open("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK)
            os.lseek(self.fd, 0, os.SEEK_END)
        except OSError:
            self.fd = None
        return self

    def new_text(self):
        records = []
        while self.fd is not None:
            try:
                records.append(os.read(self.fd, 8192).decode(errors="replace"))
            except BlockingIOError:
                break
            except BrokenPipeError:  # records were overwritten meanwhile; read on
                continue
        return "".join(records)

    def __exit__(self, *exc):
        if self.fd is not None:
            os.close(self.fd)


def wait_until(condition, seconds=5.0):
    """condition()'s last value, polled until it is true or `seconds` have passed."""
    deadline = time.monotonic() + seconds
    while not (value := condition()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return value


def run(shell, script):
    """Run a block (errexit) and return its result, failing the test if the block failed."""
    result = shell.run(script)
    assert result.status == 0, f"block failed ({result.failed_command}):\n{result.output}"
    return result.output


def test_user_maps_to_an_unprivileged_host_uid(page):
    marker = unique_sleep()
    run(page, f"touch ~/mine\nsleep {marker} &\n")
    uid, gid = node.host_ids()
    assert uid != 0 and gid != 0
    assert (page.home / "mine").stat().st_uid == uid
    processes = wait_until(lambda: host_processes(marker))
    assert processes, "the block's sleep is not visible on the host"
    assert [owner for _, owner in processes] == [uid] * len(processes)
    # Every process of the sandbox, bwrap's own included, runs as that uid on the host.
    assert real_uid(Path(f"/proc/{page.proc.pid}/status").read_text(encoding="utf-8")) == uid


def test_kernel_log_and_host_devices_are_out_of_reach(page):
    devices = set(run(page, "ls -A /dev").split())
    assert devices <= DEVICES, f"unexpected devices in /dev: {sorted(devices - DEVICES)}"
    line = f"lumi-node-escape-{secrets.token_hex(8)}"
    with KernelLog() as log:
        # In the sandbox's own /dev this makes at most a plain file.
        page.run(f"echo {line} > /dev/kmsg")
        assert line not in log.new_text(), "a block wrote into the host's kernel log"
    assert page.run("test -c /dev/kmsg").status != 0
    out = run(page, "for f in /proc/sys/kernel/core_pattern /dev/vda /dev/sda /dev/mem; do "
                    "if [ -w $f ]; then echo writable $f; fi; done; echo checked")
    assert out.split() == ["checked"]


def test_dev_shm_is_private(page):
    name = f"lumi-node-escape-{secrets.token_hex(8)}"
    run(page, f"touch /dev/shm/{name}\ntest -e /dev/shm/{name}")
    assert not Path("/dev/shm", name).exists(), "a block created a file in the host's /dev/shm"


def test_host_processes_are_invisible_and_unsignalable(page):
    commands = set(run(page, "ps -eo comm=").split())
    assert commands <= {"bwrap", "bash", "ps"}, f"the sandbox sees other processes: {commands}"
    pid = os.getpid()
    result = page.run(f"kill -0 {pid}")
    assert result.status != 0, f"a block may signal the test runner (pid {pid})"


def test_nothing_a_block_starts_outlives_its_page(page):
    marker = unique_sleep()
    run(page, f"setsid sleep {marker} &\nnohup sleep {marker} >/dev/null 2>&1 &\n"
              f"(sleep {marker} &)\ndisown -a\n")
    wait_until(lambda: len(host_processes(marker)) == 3)
    assert len(host_processes(marker)) == 3, "the block's sleeps are not visible on the host"
    page.close()
    wait_until(lambda: not host_processes(marker))
    assert host_processes(marker) == [], "a process of the page outlived its shell"


def test_nothing_outlives_a_page_killed_at_its_time_out(page):
    marker = unique_sleep()
    with pytest.raises(BlockTimeout):
        page.run(f"setsid sleep {marker} &\nsleep {marker}\n", timeout=2)
    wait_until(lambda: not host_processes(marker))
    assert host_processes(marker) == [], "a process of the page outlived its time-out"


def test_writes_outside_the_page_areas_fail(page, image):
    name = f"lumi-node-escape-{secrets.token_hex(8)}"
    targets = [build.ROOT, image, image / "base" / "rootfs", image / "layer",
               Path("/appl"), Path("/opt/cray"), Path("/usr"), Path("/etc"), Path("/var/tmp"),
               Path("/run/lumi-node-stage")]
    # The sandbox's /tmp and /run are its own (the page's tmp area, and a tmpfs where Slurm
    # keeps its sockets): a block may write there, also to a path that names a host
    # directory under /tmp (a checkout or cache in /tmp), but nothing may reach the host.
    private = [t for t in targets if t.parts[1] in ("tmp", "run")]
    script = "".join(f"if mkdir -p {target} 2>/dev/null && touch {target}/{name} 2>/dev/null; "
                     f"then echo wrote {target}; fi\n" for target in targets if target not in private)
    script += "".join(f"mkdir -p {target} 2>/dev/null && touch {target}/{name} 2>/dev/null || true\n"
                      for target in private)
    out = run(page, script + f"touch /tmp/{name}\necho done\n")
    assert out.split() == ["done"], out
    for target in targets:
        assert not (target / name).exists(), f"a block wrote into the host's {target}"
    # The page's /tmp is its own sized tmpfs, not the host's /tmp nor its areas directory.
    assert not Path("/tmp", name).exists(), "a block wrote into the host's /tmp"
    run(page, f"test -e /tmp/{name}")
    assert not any(page.areas.iterdir()), "the page's tmpfs areas reached the host's disk"


def test_only_home_and_work_are_writable_host_directories_the_rest_one_sized_tmpfs(page):
    writable, devices, tmpfs = set(), set(), {}
    for line in run(page, "cat /proc/self/mountinfo").splitlines():
        fields = line.split()
        mount_point, options = fields[4], fields[5].split(",")
        file_system = fields[fields.index("-") + 1]
        if file_system == "devtmpfs":
            devices.add(mount_point)
        elif "rw" in options and file_system == "tmpfs":
            tmpfs[mount_point] = fields[-1]
        elif "rw" in options and file_system not in PRIVATE_FILE_SYSTEMS:
            writable.add(mount_point)
    assert writable == {node.HOME, node.WORK}
    # Every writable tmpfs is the page's one sized tmpfs (image/limits.py).
    assert set(tmpfs) == SIZED_AREAS, sorted(tmpfs)
    sizes = {re.search(r"size=(\d+)k", options)[1] for options in tmpfs.values()}
    assert sizes == {str(limits.AREAS_SIZE // 1024)}, tmpfs
    # The host's device file system only as single devices, never as a whole /dev.
    assert devices and all(Path(point).parent == Path("/dev") and Path(point).name in DEVICES
                           for point in devices), sorted(devices)


class HostServer:
    """A TCP server of the host's on `address` that records whether anything connected."""

    def __init__(self, address):
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.bind((address, 0))
        self.sock.listen(8)
        self.sock.setblocking(False)
        self.address, self.port = address, self.sock.getsockname()[1]

    def reached(self):
        try:
            self.sock.accept()[0].close()
            return True
        except BlockingIOError:
            return False


CONNECT = """python3 - <<'EOF'
import socket, sys
for host, port in [{targets}]:
    try:
        socket.create_connection((host, port), timeout=3).close()
        print("reached", host)
    except OSError:
        pass
EOF"""


def test_a_network_page_cannot_reach_the_hosts_loopback_or_addresses_but_reaches_pypi(node_dirs):
    home, work = node_dirs
    shell = PersistentShell(lumi_node.shell_argv(home, work, network=True), cwd=str(work))
    # (Link-local ones aside: they need an interface to bind and are not routed anyway.)
    addresses = ["127.0.0.1", *(a for a in node.host_addresses() if not a.startswith("fe80:"))]
    servers = [HostServer(address) for address in addresses]
    pasta = "pasta --config-net"
    try:
        targets = ", ".join(f"({s.address!r}, {s.port})" for s in servers)
        out = run(shell, CONNECT.format(targets=targets))
        assert "reached" not in out, out
        assert not any(server.reached() for server in servers), "a host server saw a connection"
        # The same code reaches a server on the page's own loopback (so it can tell).
        run(shell, "python3 -m http.server 8765 --bind 127.0.0.1 >/dev/null 2>&1 &\nsleep 1\n")
        assert "reached 127.0.0.1" in run(shell, CONNECT.format(targets="('127.0.0.1', 8765)"))
        # The cloud metadata address has a route that refuses it (RTF_REJECT), so nothing is sent.
        routes = run(shell, "cat /proc/net/route")
        assert re.search(r"^\S+\s+FEA9FEA9\s+\S+\s+[0-9A-F]*2[0-9A-F]{2}\s", routes, re.M), routes
        # PyPI is reachable, the way the network pages use it.
        out = run(shell, "python3 -m pip download --quiet --no-deps six==1.17.0 -d wheels\nls wheels")
        assert out.startswith("six-1.17.0")
        # pasta runs on the host's side, and ends with the page.
        assert [pid for pid, _ in host_processes(pasta) if pid_in_group(pid, shell)], "no pasta"
    finally:
        shell.close()
        for server in servers:
            server.sock.close()
    assert wait_until(lambda: not [pid for pid, _ in host_processes(pasta) if pid_in_group(pid, shell)])


def pid_in_group(pid, shell):
    """True when `pid` is still alive in the process group the page's shell led."""
    try:
        return os.getpgid(pid) == shell.proc.pid
    except ProcessLookupError:
        return False


def test_a_bind_source_through_a_private_symlink_is_passed_resolved(image, tmp_path):
    # A link to the image cache inside a directory only the test runner may enter (0700),
    # as a `.cache` link in a private checkout: the sandbox's host user could not follow it.
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    (private / "cache").symlink_to(image)
    argv = node.sandbox_argv(private / "cache" / "base" / "rootfs") + ["true"]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr


def test_a_hosts_resolver_on_its_loopback_is_reached_through_pastas_dns_forward(node_dirs, monkeypatch,
                                                                                 tmp_path):
    # As under systemd-resolved (127.0.0.53) or Docker's 127.0.0.11: the page cannot reach
    # the host's loopback, so its resolv.conf names pasta's forwarder, which asks the host's
    # resolver (here the one in the host's real resolv.conf).
    fake = tmp_path / "resolv.conf"
    fake.write_text("nameserver 127.0.0.53\n", encoding="utf-8")
    monkeypatch.setattr(node, "RESOLV_CONF", fake)
    home, work = node_dirs
    shell = PersistentShell(lumi_node.shell_argv(home, work, network=True), cwd=str(work))
    try:
        assert run(shell, "cat /etc/resolv.conf").split() == ["nameserver", node.DNS_FORWARD]
        assert run(shell, "getent hosts pypi.org").strip()
    finally:
        shell.close()
