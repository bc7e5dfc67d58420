"""One strict site build, one local HTTP server and one headless Chromium for the whole session.

The site is built once into a temporary directory (tests/site_copy.build) and served by
a stdlib http.server thread on 127.0.0.1; Playwright drives Debian's /usr/bin/chromium
(never a downloaded browser). Each test gets a fresh browser context, which is cheap.
"""

import functools
import shutil
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import sync_playwright

from site_copy import ROOT, build, problems

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


class QuietHandler(SimpleHTTPRequestHandler):
    """Serves the built site without logging every request into the test output."""

    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def site_dir(tmp_path_factory):
    """The real sources, built once with --strict."""
    site = tmp_path_factory.mktemp("site")
    result = build(ROOT, site)
    assert result.returncode == 0, "site build failed:\n" + "\n".join(problems(result) or [result.stderr[-2000:]])
    return site


@pytest.fixture(scope="session")
def base_url(site_dir):
    """http://127.0.0.1:<free port>/ serving the built site."""
    handler = functools.partial(QuietHandler, directory=str(site_dir))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium; fails with the fix when the package is missing."""
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} not found: install the Debian package 'chromium' "
                    "(scripts/install-debian-packages.sh)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def context(browser):
    """A fresh browser context (no history, no stored palette) per test."""
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def page(context):
    return context.new_page()
