"""`mkdocs serve` works on a machine with no network: every page is served from a netns holding only loopback."""

import json
import os
import shutil
import subprocess
import sys
import urllib.parse
from pathlib import Path

import yaml

from browser_site.site_builds import ROOT, built_site, html_pages

PROBE = Path(__file__).with_name("serve_probe.py")


def site_path_prefix():
    """mkdocs serve mounts the site under site_url's path (/guide/ for the published address)."""
    for line in (ROOT / "mkdocs.yml").read_text(encoding="utf-8").splitlines():
        if line.startswith("site_url:"):
            path = urllib.parse.urlsplit(yaml.safe_load(line.split(":", 1)[1])).path
            return path if path.endswith("/") else path + "/"
    return "/"


def test_mkdocs_serve_serves_every_page_without_network():
    bwrap = shutil.which("bwrap")
    assert bwrap, "bubblewrap (bwrap) is missing: install the Debian package 'bubblewrap'"
    site = built_site()
    paths = [p.relative_to(site).as_posix().removesuffix("index.html") for p in html_pages(site)]
    done = subprocess.run(
        [bwrap, "--dev-bind", "/", "/", "--unshare-net", "--die-with-parent", "--",
         sys.executable, str(PROBE), str(ROOT / "mkdocs.yml"), site_path_prefix(), *paths],
        cwd=ROOT, capture_output=True, text=True, timeout=240,
        env=dict(os.environ, NO_MKDOCS_2_WARNING="1"))
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    failed = {path: status for path, (status, _) in report["results"].items() if status != 200}
    assert len(report["results"]) == len(paths) and not failed, f"{failed}\n{report['log']}"
