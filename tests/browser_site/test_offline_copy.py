"""The offline copy (`OFFLINE=true mkdocs build`) works from file://: search, navigation, the widget."""

import html.parser
import urllib.parse

from browser_site.chromium import fail_on_script_errors, guarded_context, watch_page
from browser_site.site_builds import html_pages

SEARCH_TERM = "Lustre"


class _Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs = []

    def handle_starttag(self, tag, attrs):
        if tag == "a" and (href := dict(attrs).get("href")):
            self.hrefs.append(href)


def test_every_local_link_of_the_offline_copy_names_a_file(offline_dir):
    """From disk a link to a folder shows a file listing, not the page: each must name a file."""
    broken = []
    for page in html_pages(offline_dir):
        parser = _Links()
        parser.feed(page.read_text(encoding="utf-8"))
        for href in parser.hrefs:
            parts = urllib.parse.urlsplit(href)
            if parts.scheme or parts.netloc or not parts.path:
                continue
            target = (page.parent / urllib.parse.unquote(parts.path)).resolve()
            if not target.is_file():
                broken.append(f"{page.relative_to(offline_dir)}: {href}")
    assert broken == []


def search(browser, index_url):
    context, visit = guarded_context(browser, None)
    try:
        page = watch_page(context.new_page(), visit)
        page.goto(index_url, wait_until="load")
        fail_on_script_errors(page, "on loading the page")
        # Material's keyboard shortcut opens the search box at any window width.
        page.keyboard.press("s")
        # Typed key by key: Material searches on keyboard events, and fill() sends none.
        page.locator("input.md-search__input").press_sequentially(SEARCH_TERM, delay=30)
        items = page.locator(".md-search-result__item")
        items.first.wait_for(state="visible")
        titles = items.locator("h1, h2").all_inner_texts()
        with page.expect_navigation():
            items.first.locator("a").first.click()
        landed = page.url
    finally:
        context.close()
    return visit, titles, landed


def test_search_works_from_disk(chromium, offline_dir):
    visit, titles, landed = chromium.run(search, (offline_dir / "index.html").as_uri())
    assert titles, f"searching the offline copy for {SEARCH_TERM!r} returned nothing"
    assert landed.startswith("file://") and ".html" in landed, f"a search result led to {landed}"
    assert visit.problems() == []


def walk_navigation(browser, index_url):
    """Click through every entry of the main navigation; return where each click landed."""
    context, visit = guarded_context(browser, None)
    landed = []
    try:
        page = watch_page(context.new_page(), visit)
        page.goto(index_url, wait_until="load")
        fail_on_script_errors(page, "on loading the page")
        labels = page.locator(".md-nav--primary > .md-nav__list > .md-nav__item > a.md-nav__link")
        names = [n.strip() for n in labels.all_inner_texts()]
        for name in names:
            page.goto(index_url, wait_until="load")
            link = page.locator(".md-nav--primary > .md-nav__list > .md-nav__item > a.md-nav__link",
                                has_text=name).first
            href = link.get_attribute("href")
            # The drawer holding the nav is off-screen on narrow windows; follow it as a user would.
            with page.expect_navigation():
                link.dispatch_event("click")
            landed.append((name, href, page.url, page.locator("article h1").count()))
    finally:
        context.close()
    return visit, landed


def test_navigation_works_from_disk(chromium, offline_dir):
    visit, landed = chromium.run(walk_navigation, (offline_dir / "index.html").as_uri())
    assert len(landed) >= 2, "the offline copy's main navigation has fewer than two entries"
    for name, href, url, headings in landed:
        assert url.endswith(".html") or url.endswith(".html#"), f"nav entry {name!r} ({href}) led to {url}"
        assert headings == 1, f"nav entry {name!r} led to {url}, which has no page heading"
    assert visit.problems() == []


def use_widget(browser, page_url):
    """Answer the first choice until the widget recommends something, then follow its link."""
    context, visit = guarded_context(browser, None)
    try:
        page = watch_page(context.new_page(), visit)
        page.goto(page_url, wait_until="load")
        fail_on_script_errors(page, "on loading the page")
        # Material's own components mount the same way as the widget (document$).
        copy_buttons = page.locator(".md-code__button, .md-clipboard").count()
        widget = page.locator("[data-dtree-component]").first
        page.locator("[data-dtree-component].dtree--js").first.wait_for()
        for _ in range(20):
            if "dtree--done" in (widget.get_attribute("class") or ""):
                break
            widget.locator(".dtree__app .dtree__choice").first.click()
        done = "dtree--done" in (widget.get_attribute("class") or "")
        more = widget.locator(".dtree__app .dtree__more a")
        with page.expect_navigation():
            more.click()
        target = page.url
        heading = page.locator("article h1").count()
    finally:
        context.close()
    return visit, copy_buttons, done, target, heading


def test_decision_tree_works_from_disk(chromium, offline_dir):
    pages = [p for p in html_pages(offline_dir) if "data-dtree-component" in p.read_text(encoding="utf-8")]
    assert pages, "no page of the offline copy carries the decision-tree widget"
    visit, copy_buttons, done, target, heading = chromium.run(use_widget, pages[0].as_uri())
    assert copy_buttons, "Material's copy-code buttons did not mount on the offline page"
    assert done, "answering the widget's questions never reached a recommendation"
    assert target.startswith("file://") and ".html" in target, f"the recommendation's link led to {target}"
    assert heading == 1, f"the recommendation's link {target} shows no page"
    assert visit.problems() == []
