"""Snippet runner costs: per-block overhead against plain bash, on the host and in the container."""

import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.snippets.persistent_shell import PersistentShell  # noqa: E402

BLOCKS = 200
GOAL_MS = 20.0
CONFTEST = """
from pathlib import Path
from tests.snippets.collector import make_sybil
from tests.snippets.plugin import add_options, off_lumi, pytest_runtest_makereport, snippet_runtime

def pytest_addoption(parser):
    add_options(parser)

pytest_collect_file = make_sybil(Path(__file__).parent / "docs").pytest()
"""


def timed(action):
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def plain_bash_seconds(blocks):
    """The same commands in one plain bash: the floor no runner can beat."""
    script = "echo hi\n" * blocks
    return timed(lambda: subprocess.run(["bash", "-c", script], capture_output=True, check=True))


def shell_protocol_seconds(argv, blocks):
    """The persistent shell alone (sentinels and all), without pytest or Sybil."""
    shell = PersistentShell(argv)
    try:
        shell.run("echo warm-up")
        return timed(lambda: [shell.run("echo hi") for _ in range(blocks)])
    finally:
        shell.close()


def pytest_seconds(blocks, extra_args):
    """A generated page of `blocks` bash blocks run through pytest + Sybil as `pytest docs` would."""
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        (folder / "docs").mkdir()
        (folder / "docs" / "page.md").write_text("# Bench\n\n" + "```bash\necho hi\n```\n\n" * blocks)
        (folder / "conftest.py").write_text(CONFTEST)
        argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "docs", *extra_args]
        env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(folder),
               "NO_MKDOCS_2_WARNING": "1"}
        result = None

        def run():
            nonlocal result
            result = subprocess.run(argv, cwd=folder, capture_output=True, text=True, env=env, timeout=600)

        seconds = timed(run)
        if result.returncode != 0:
            raise SystemExit(f"benchmark page failed:\n{result.stdout[-2000:]}")
        return seconds


def container_argv(home, work):
    """The LUMI node container's shell, or None with the reason it is not available."""
    try:
        from tests import lumi_node
        lumi_node.check_can_start()
        from image import build
        if not build.is_ready(build.node_dir()):
            return None, "image not built yet (pytest docs builds it)"
        return lumi_node.shell_argv(home, work), None
    except Exception as err:  # any reason at all: this benchmark then reports host numbers only
        return None, str(err)


def main():
    rows = []
    plain = plain_bash_seconds(BLOCKS) / BLOCKS * 1000
    rows.append(("plain bash, same commands", plain))
    rows.append(("persistent shell on host", shell_protocol_seconds(["bash"], BLOCKS) / BLOCKS * 1000))
    with tempfile.TemporaryDirectory() as folder:
        home, work = Path(folder) / "home", Path(folder) / "work"
        home.mkdir()
        work.mkdir()
        argv, why_not = container_argv(home, work)
        if argv:
            seconds = shell_protocol_seconds(argv, BLOCKS)
            rows.append(("persistent shell in container", seconds / BLOCKS * 1000))
    one = pytest_seconds(1, ["--on-host"])
    many = pytest_seconds(BLOCKS + 1, ["--on-host"])
    rows.append(("pytest + Sybil + shell, on host", (many - one) / BLOCKS * 1000))

    print(f"per-block cost, {BLOCKS} blocks of `echo hi` (goal: runner overhead < {GOAL_MS:g} ms/block)")
    for name, ms in rows:
        overhead = "" if name.startswith("plain") else f"   overhead {ms - plain:7.3f} ms"
        print(f"  {name:34} {ms:8.3f} ms/block{overhead}")
    if not argv:
        print(f"  (container not measured: {why_not})")

    # The whole suite, serial and parallel, is timed by benchmarks/parallel.py.
    return 0


if __name__ == "__main__":
    sys.exit(main())
