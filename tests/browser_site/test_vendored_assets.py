"""The vendored iframe-worker shim is the npm package's file, with its license notice, and replaces unpkg."""

import re

from browser_site.site_builds import ROOT, html_pages
from node_tools import node_modules

VENDORED = ROOT / "overrides" / "assets" / "javascripts" / "iframe-worker-shim.js"
LICENSE = VENDORED.with_suffix(".LICENSE")
# Anything the browser loads by itself: scripts, stylesheets, icons, preloads. The
# canonical <link> only names the published address; nothing fetches it.
LOADED_FROM = re.compile(r'<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)="(?:https?:)?//[^"]*"', re.I)
NOT_LOADED = 'rel="canonical"'


def test_the_shim_is_the_npm_packages_file_unchanged():
    package = node_modules() / "iframe-worker"
    upstream = (package / "shim" / "index.js").read_text(encoding="utf-8")
    ours = VENDORED.read_text(encoding="utf-8")
    header, _, body = ours.partition("*/\n")
    assert "iframe-worker 1.0.4" in header and "MIT" in header, "the header must name the package and license"
    assert body == upstream, "the vendored shim differs from iframe-worker's shim/index.js"
    assert LICENSE.read_text(encoding="utf-8") == (package / "LICENSE").read_text(encoding="utf-8")


def test_the_offline_copy_loads_nothing_from_another_host(offline_dir):
    found = {}
    for page in html_pages(offline_dir):
        tags = [t for t in LOADED_FROM.findall(page.read_text(encoding="utf-8")) if NOT_LOADED not in t]
        if tags:
            found[page.relative_to(offline_dir).as_posix()] = tags
    assert found == {}
    assert (offline_dir / "assets" / "javascripts" / VENDORED.name).is_file()
