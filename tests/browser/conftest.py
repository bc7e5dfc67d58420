"""One strict site build, one local HTTP server and one headless Chromium for the whole session.

The site is built once into a temporary directory (tests/site_copy.build) and served by
a stdlib http.server thread on 127.0.0.1; Playwright drives Debian's /usr/bin/chromium
(never a downloaded browser). Each test gets a fresh browser context, which is cheap.

A broken script must not cost minutes of locator time-outs: before any test, our
scripts go through `node --check`, then the widget's page is loaded once and every
uncaught error or console error fails the whole suite with `file:line: message`.
Each test's page is watched too, and fails at its next answer if a click broke a script.
"""

import functools
import shutil
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import sync_playwright

from js_syntax import syntax_problems
from script_errors import errors_of, watch
from site_copy import ROOT, build, problems

CHROMIUM = "/usr/bin/chromium"
WIDGET_PAGE = "software/installing/python/"
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


@pytest.fixture(scope="session", autouse=True)
def scripts_run_cleanly(request):
    """Fail every browser test at once, naming file and line, when our scripts are broken."""
    broken = syntax_problems()
    if broken:
        pytest.fail(" / ".join(broken), pytrace=False)
    browser, base_url = request.getfixturevalue("browser"), request.getfixturevalue("base_url")
    context = browser.new_context()
    try:
        page = watch(context.new_page())
        page.goto(base_url + WIDGET_PAGE, wait_until="load")
        errors_of(page).fail_if_any(f"on loading /{WIDGET_PAGE}")
    finally:
        context.close()


@pytest.fixture
def page(context):
    """A watched page: `answer()` and the test's end fail on a script error it logged."""
    page = watch(context.new_page())
    yield page
    errors_of(page).fail_if_any("during the test")
