"""Session fixtures for the site's browser checks: one build of each kind, one server, one Chromium."""

import pytest

from browser_site.chromium import ChromiumThread
from browser_site.site_builds import LoopbackServer, built_site, html_pages


@pytest.fixture(scope="session")
def site_dir():
    return built_site(offline=False)


@pytest.fixture(scope="session")
def offline_dir():
    return built_site(offline=True)


@pytest.fixture(scope="session")
def site_url(site_dir):
    with LoopbackServer(site_dir) as server:
        yield server.url


@pytest.fixture(scope="session")
def chromium():
    browser = ChromiumThread()
    yield browser
    browser.close()


def pytest_generate_tests(metafunc):
    """Parametrize `page_path` with every page of the site, named by its source-like path."""
    if "page_path" in metafunc.fixturenames:
        pages = [p.relative_to(built_site()).as_posix() for p in html_pages(built_site())]
        metafunc.parametrize("page_path", pages)
