"""Build the site (and its offline copy) once per test process and serve it over loopback.

Shared by tests/test_links.py and the browser tests in this folder, so a test run
pays for each build once. The builds go to a temporary folder, never to site/.
"""

import functools
import http.server
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MKDOCS = [sys.executable, "-m", "mkdocs"]
BUILD_TIMEOUT = 300


class BuildError(AssertionError):
    """`mkdocs build` failed; the message carries its output."""


def mkdocs_build(config: Path, site_dir: Path, *, offline: bool = False):
    """Run `mkdocs build` on `config` into `site_dir`; return the finished process."""
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1", OFFLINE="true" if offline else "false")
    # Not --quiet: strict mode only counts warnings that pass the log level.
    args = [*MKDOCS, "build", "--config-file", str(config), "--site-dir", str(site_dir)]
    return subprocess.run(
        args, cwd=config.parent, env=env, capture_output=True, text=True, timeout=BUILD_TIMEOUT
    )


@functools.cache
def _workdir() -> Path:
    path = Path(tempfile.mkdtemp(prefix="lumi-guide-site-"))
    # Removed when the test process ends; pytest has no session hook we own here.
    import atexit

    atexit.register(shutil.rmtree, path, True)
    return path


@functools.cache
def built_site(offline: bool = False) -> Path:
    """The site built from the real sources with the real (strict) config."""
    site_dir = _workdir() / ("site-offline" if offline else "site")
    done = mkdocs_build(ROOT / "mkdocs.yml", site_dir, offline=offline)
    if done.returncode != 0:
        raise BuildError(f"mkdocs build (offline={offline}) failed:\n{done.stderr}")
    return site_dir


def html_pages(site_dir: Path) -> list[Path]:
    """Every page of the site, 404.html and the search iframe aside."""
    return sorted(
        p for p in site_dir.rglob("*.html") if p.name != "404.html" and "assets" not in p.parts
    )


def offline_page(page_path: str) -> str:
    """The offline copy's file for an online page path: a/b/index.html -> a/b.html."""
    if page_path == "index.html":
        return page_path
    return page_path.removesuffix("/index.html") + ".html"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the stdlib's name
        pass


class LoopbackServer:
    """A stdlib HTTP server for `directory` on 127.0.0.1 with a free port, in a thread."""

    def __init__(self, directory: Path):
        handler = functools.partial(_QuietHandler, directory=str(directory))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
