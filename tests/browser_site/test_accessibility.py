"""axe-core finds no serious or critical problem on any page, in the light and the dark scheme.

Set SITE_SCREENSHOTS=/some/dir to also save a full-page screenshot of every page in
both schemes (site-<page>-<scheme>.png) for a look by eye.
"""

import os
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe

from browser_site.chromium import fail_on_script_errors, guarded_context, watch_page

BLOCKING = {"serious", "critical"}
SCHEMES = {"light": "light", "dark": "dark"}


def audit(browser, url, own_origin, scheme, screenshot):
    # The palette follows prefers-color-scheme, which the context emulates.
    context, visit = guarded_context(browser, own_origin, color_scheme=scheme)
    try:
        page = watch_page(context.new_page(), visit)
        page.goto(url, wait_until="networkidle")
        fail_on_script_errors(page, "on loading the page")
        active = page.evaluate("document.body.getAttribute('data-md-color-scheme')")
        results = Axe().run(page).response
        if screenshot:
            page.screenshot(path=screenshot, full_page=True)
    finally:
        context.close()
    found = [
        f"{v['id']} ({v['impact']}): {v['help']} at {', '.join(str(n['target']) for n in v['nodes'][:5])}"
        for v in results["violations"] if v["impact"] in BLOCKING
    ]
    return active, found


@pytest.mark.parametrize("scheme", SCHEMES)
def test_no_serious_accessibility_problem(chromium, site_url, page_path, scheme):
    shots = os.environ.get("SITE_SCREENSHOTS")
    screenshot = None
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        name = page_path.removesuffix("index.html").strip("/").replace("/", "-") or "home"
        screenshot = str(Path(shots) / f"site-{name}-{scheme}.png")
    active, found = chromium.run(audit, site_url + page_path, site_url.rstrip("/"), scheme, screenshot)
    expected = "slate" if scheme == "dark" else "default"
    assert active == expected, f"the page did not switch to the {scheme} palette ({active})"
    assert found == [], f"{page_path} ({scheme})"


def audit_search(browser, url, own_origin, scheme):
    """axe on the search dialog, open with results: hidden until used, so the page audit misses it."""
    context, visit = guarded_context(browser, own_origin, color_scheme=scheme)
    try:
        page = watch_page(context.new_page(), visit)
        page.goto(url, wait_until="networkidle")
        fail_on_script_errors(page, "on loading the page")
        page.keyboard.press("s")
        page.locator("input.md-search__input").press_sequentially("python", delay=30)
        page.locator(".md-search-result__item").first.wait_for()
        results = Axe().run(page, context=".md-search").response
    finally:
        context.close()
    return [f"{v['id']} ({v['impact']}): {v['help']} at {', '.join(str(n['target']) for n in v['nodes'][:5])}"
            for v in results["violations"] if v["impact"] in BLOCKING]


@pytest.mark.parametrize("scheme", SCHEMES)
def test_search_results_have_no_serious_accessibility_problem(chromium, site_url, scheme):
    found = chromium.run(audit_search, site_url, site_url.rstrip("/"), scheme)
    assert found == [], f"search dialog ({scheme})"
