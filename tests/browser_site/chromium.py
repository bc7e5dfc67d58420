"""One headless Debian Chromium on a thread of its own, plus page visits that log foreign requests.

Why a thread: Playwright's sync API refuses to start while another sync Playwright is
alive on the same thread, and tests/browser/ keeps one open for the whole session. A
dedicated thread has its own event loop, so both suites run in one pytest process.
Tests hand a function to `ChromiumThread.run`; it runs on that thread with the Browser.
Pages are watched for script errors (tests/script_errors.py); what clicks or types on a
page first checks that loading it logged none.
"""

import shutil
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from playwright.sync_api import sync_playwright

from script_errors import errors_of, watch

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# Schemes that never leave the machine.
LOCAL_SCHEMES = {"file", "data", "blob", "about"}
NAVIGATION_TIMEOUT_MS = 30_000


class ChromiumThread:
    """Owns the Playwright driver and the browser; `run(fn, ...)` calls fn(browser, ...)."""

    def __init__(self):
        if not shutil.which(CHROMIUM):
            raise RuntimeError(f"{CHROMIUM} not found: install the Debian package 'chromium' "
                               "(scripts/install-debian-packages.sh)")
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chromium")
        self._pool.submit(self._start).result()

    def _start(self):
        self._playwright = sync_playwright().start()
        self._browser = self._playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)

    def run(self, fn, *args, **kwargs):
        return self._pool.submit(fn, self._browser, *args, **kwargs).result()

    def close(self):
        def stop():
            self._browser.close()
            self._playwright.stop()
        self._pool.submit(stop).result()
        self._pool.shutdown()


@dataclass
class Visit:
    """What happened while a page loaded: requests to other hosts, local failures, JS errors."""

    foreign: list = field(default_factory=list)
    failed: list = field(default_factory=list)
    js_errors: list = field(default_factory=list)

    def problems(self):
        return ([f"request to another host: {u}" for u in self.foreign]
                + [f"failed local request: {u}" for u in self.failed]
                + [f"JavaScript error: {e}" for e in self.js_errors])


def guarded_context(browser, own_origin, **context_args):
    """A browser context where every request off `own_origin` (or off disk) is blocked and logged.

    Returns (context, visit). `own_origin` is "http://127.0.0.1:<port>" or None for file://.
    """
    visit = Visit()
    context = browser.new_context(**context_args)
    context.set_default_timeout(NAVIGATION_TIMEOUT_MS)

    def route(route_):
        url = route_.request.url
        parts = urllib.parse.urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if parts.scheme in LOCAL_SCHEMES or origin == own_origin:
            route_.continue_()
        else:
            visit.foreign.append(url)
            route_.abort("blockedbyclient")

    context.route("**/*", route)
    context.on("requestfailed", lambda r: None if r.url in visit.foreign
               else visit.failed.append(f"{r.url} ({r.failure})"))
    context.on("response", lambda r: r.status >= 400 and visit.failed.append(f"{r.url} (HTTP {r.status})"))
    return context, visit


def watch_page(page, visit):
    """Log uncaught JavaScript errors and console errors of `page` into `visit`, as `file:line: message`."""
    return watch(page, visit.js_errors)


def fail_on_script_errors(page, when):
    """Fail now, with the script's file and line, rather than in a wait for a widget that never mounts."""
    errors_of(page).fail_if_any(when)
