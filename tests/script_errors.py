"""Uncaught JavaScript errors and console errors of a browser page, each one line naming our source file and line.

Playwright's `pageerror` gives a SyntaxError no location at all, so the errors are read
from Chromium's own `Runtime.exceptionThrown` events (a CDP session on the page), which
carry the script's URL and line. A URL that serves one of our scripts (the site copies
overrides/ verbatim) is named by its source path, so the message points at the file to fix.
"""

import weakref
from urllib.parse import unquote, urlsplit

import pytest

from js_syntax import OWN_SCRIPTS_DIR, own_scripts, shown

_WATCHED = weakref.WeakKeyDictionary()


def source_of(url):
    """`overrides/...js` for a URL that serves one of our scripts, else the URL itself."""
    path = unquote(urlsplit(url).path)
    for script in own_scripts():
        served = script.relative_to(OWN_SCRIPTS_DIR).as_posix()  # assets/javascripts/<name>.js
        if path.endswith("/" + served):
            return shown(script)
    return url or "(inline script)"


class ScriptErrors:
    """Collects the errors of one page from the moment it is watched."""

    def __init__(self, page, lines=None):
        self.lines = [] if lines is None else lines
        session = page.context.new_cdp_session(page)
        session.on("Runtime.exceptionThrown", self._exception)
        session.send("Runtime.enable")
        page.on("console", self._console)

    def _exception(self, event):
        details = event["exceptionDetails"]
        exception = details.get("exception") or {}
        message = (exception.get("description") or details.get("text") or "error").split("\n")[0]
        message = message.removeprefix("Uncaught ")  # file:// pages report the text, not the error
        frames = (details.get("stackTrace") or {}).get("callFrames") or []
        url, line = (frames[0]["url"], frames[0]["lineNumber"]) if frames else (details.get("url", ""),
                                                                                  details.get("lineNumber", 0))
        self.lines.append(f"{source_of(url)}:{line + 1}: {message}")

    def _console(self, message):
        if message.type == "error":
            location = message.location or {}
            self.lines.append(f"{source_of(location.get('url', ''))}:{location.get('lineNumber', 0) + 1}: "
                              f"console.error: {message.text}")

    def fail_if_any(self, when):
        """Fail the test now, with the first error (and how many more), instead of waiting on a locator."""
        if self.lines:
            more = f" (and {len(self.lines) - 1} more)" if len(self.lines) > 1 else ""
            pytest.fail(f"{self.lines[0]}{more} [JavaScript error {when}]", pytrace=False)


def watch(page, lines=None):
    """Start collecting `page`'s script errors (into the list `lines`, if given); returns the page."""
    _WATCHED[page] = ScriptErrors(page, lines)
    return page


def errors_of(page):
    """The ScriptErrors of a watched page."""
    return _WATCHED[page]
