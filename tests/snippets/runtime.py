"""Where page shells run: in the LUMI node container (default) or in the host's bash (--on-host).

Each page gets a fresh directory from pytest's tmp_path_factory with `home/` (the shell's
HOME) and `work/` (where the shell starts). Container mode asks tests/lumi_node.py once per
session to check that a container can start and to build the image if needed; if that
fails, every page's first runnable block fails with the reason (no retry per page, no hang).
Host mode is the "live" mode for a real LUMI login node: a login bash with the test
runner's own Python environment taken out of its way.
"""

import contextlib
import importlib
import os
import re
import sys
from pathlib import Path

from .parsers import page_needs_network, page_needs_slurm
from .persistent_shell import PersistentShell, ShellDead

START_TIMEOUT = 120.0
SLURM_START = "lumi-node-slurm-start"  # image/slurm-start.sh
SLURM_START_TIMEOUT = 120.0  # more than image/slurm-start.sh waits for the nodes (90 s)
# Variables of the test runner's own Python that would leak into the reader's shell.
RUNNER_VARIABLES = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTEST_ADDOPTS",
                    "PYTEST_CURRENT_TEST", "PYTEST_VERSION", "PYTEST_XDIST_WORKER")


class ShellUnavailable(Exception):
    """No shell could be started for a page; the message says why and what to do."""


def host_environment(home):
    """The environment a reader's login shell would have, with HOME moved to `home`."""
    env = {key: value for key, value in os.environ.items() if key not in RUNNER_VARIABLES}
    own_bin = str(Path(sys.prefix) / "bin")
    env["PATH"] = os.pathsep.join(part for part in env.get("PATH", "").split(os.pathsep)
                                  if part and part != own_bin)
    env["HOME"] = str(home)
    return env


def page_slug(display_path):
    """A short directory name for a page: docs/software/installing/python.md -> software-installing-python."""
    stem = re.sub(r"\.md$", "", display_path)
    stem = re.sub(r"^docs/", "", stem)
    return re.sub(r"[^A-Za-z0-9]+", "-", stem).strip("-")[-60:] or "page"


class SnippetRuntime:
    """Starts one shell per page, in the mode the session asked for, and closes them all at the end."""

    def __init__(self, on_host, timeout, make_page_dir, node_module="tests.lumi_node",
                 uncaptured=contextlib.nullcontext):
        self.on_host = on_host
        # The image build takes minutes: let its progress lines reach the terminal.
        self.uncaptured = uncaptured
        self.timeout = timeout
        self.make_page_dir = make_page_dir
        self.node_module = node_module
        self._node = None
        self._node_error = None
        self.shells = []

    def start_shell(self, document):
        """A new shell for `document` (a RenderedDocument), in a fresh HOME and work directory."""
        page_dir = Path(self.make_page_dir(page_slug(document.display_path)))
        home, work = page_dir / "home", page_dir / "work"
        home.mkdir(parents=True, exist_ok=True)
        work.mkdir(parents=True, exist_ok=True)
        if self.on_host:
            argv, env = ["bash", "--login"], host_environment(home)
        else:
            node = self._lumi_node()
            try:
                argv = node.shell_argv(home, work, network=page_needs_network(document.source))
            except node.LumiNodeError as err:
                raise ShellUnavailable(f"the LUMI node container cannot start: {err}") from None
            env = None
        try:
            shell = PersistentShell(argv, cwd=str(work), env=env, start_timeout=START_TIMEOUT)
        except ShellDead as err:
            where = "the host's bash" if self.on_host else "the LUMI node container's shell"
            raise ShellUnavailable(f"{where} did not start: {err}") from None
        except OSError as err:
            raise ShellUnavailable(f"cannot run {argv[0]}: {err}") from None
        self.shells.append(shell)
        if not self.on_host and page_needs_slurm(document.source):
            self._start_slurm(shell)
        return shell

    def _start_slurm(self, shell):
        """Start the node's Slurm daemons inside the page's sandbox (they end with it)."""
        result = shell.run(SLURM_START, timeout=SLURM_START_TIMEOUT)
        if result.status != 0:
            shell.close()
            raise ShellUnavailable(f"Slurm did not start in the page's node ({SLURM_START}, "
                                   f"exit status {result.status}):\n{result.output.strip()}")

    def _lumi_node(self):
        """tests/lumi_node.py, checked and with its image built, once per session."""
        if self._node_error:
            raise ShellUnavailable(self._node_error)
        if self._node is not None:
            return self._node
        try:
            node = importlib.import_module(self.node_module)
        except ImportError as err:
            self._node_error = (f"the LUMI node container is not available ({self.node_module}: {err}); "
                                f"run `pytest docs --on-host` to use this machine's bash instead")
            raise ShellUnavailable(self._node_error) from None
        try:
            node.check_can_start()
            with self.uncaptured():
                node.ensure_image()
        except node.LumiNodeError as err:
            self._node_error = f"the LUMI node container cannot start: {err}"
            raise ShellUnavailable(self._node_error) from None
        self._node = node
        return node

    def close_all(self):
        for shell in self.shells:
            shell.close()
        self.shells.clear()
