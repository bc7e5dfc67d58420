"""Every page, served over loopback and opened from the offline copy on disk, loads nothing from another host."""

from browser_site.chromium import guarded_context, watch_page
from browser_site.site_builds import offline_page


def load(browser, url, own_origin):
    context, visit = guarded_context(browser, own_origin)
    try:
        page = watch_page(context.new_page(), visit)
        # networkidle: the search worker fetches its index after the load event.
        page.goto(url, wait_until="networkidle")
        title = page.title()
    finally:
        context.close()
    return visit, title


def test_page_over_loopback(chromium, site_url, page_path):
    visit, title = chromium.run(load, site_url + page_path, site_url.rstrip("/"))
    assert title, f"{page_path}: no <title>, the page did not render"
    assert visit.problems() == [], f"{page_path} over http"


def test_page_from_disk(chromium, offline_dir, page_path):
    path = offline_dir / offline_page(page_path)
    assert path.is_file(), f"the offline copy has no {path.name} for {page_path}"
    visit, title = chromium.run(load, path.as_uri(), None)
    assert title, f"{path}: no <title>, the page did not render"
    assert visit.problems() == [], f"{path} from disk"
