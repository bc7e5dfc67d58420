"""Internal links and anchors are checked twice: by the strict build and by LinkChecker on the built HTML.

The second check does not trust MkDocs: LinkChecker (tests/linkchecker.ini) crawls the
built site over a loopback HTTP server, follows every link of ours and, with its
AnchorCheck plugin, looks up every #anchor in the page it points to. The last test
breaks one anchor in a copy of the sources and makes sure both checks catch it.
"""

import re
import shutil
import subprocess
import sys
from pathlib import Path

from browser_site.site_builds import LoopbackServer, built_site, mkdocs_build
from site_copy import ROOT, copy_site

LINKCHECKER = Path(sys.executable).with_name("linkchecker")
CONFIG = Path(__file__).with_name("linkchecker.ini")
# pymdownx.highlight's anchor_linenums gives every code line a "#__codelineno-..." link
# to itself. LinkChecker fetches the page anew for each anchor link (275 extra fetches,
# two minutes), so the crawled copy drops those generated links; every other link stays.
LINE_NUMBER_LINK = re.compile(r'\shref="#__codelineno-[^"]*"')
# A Markdown link to another page with an anchor: ](path.md#anchor)
ANCHORED_LINK = re.compile(r"\]\((?P<page>[^)\s#]+\.md)#(?P<anchor>[A-Za-z0-9_-]+)\)")
LINKCHECKER_TIMEOUT = 240


def linkchecker(site_dir: Path, work: Path, start: str = "", depth: int = -1):
    """Crawl a copy of `site_dir` from `start`; return (exit code, report)."""
    crawled = work / "crawled"
    shutil.copytree(site_dir, crawled)
    for page in crawled.rglob("*.html"):
        page.write_text(LINE_NUMBER_LINK.sub("", page.read_text(encoding="utf-8")), encoding="utf-8")
    # LinkChecker drops root privileges to "nobody"; that user must be able to read the copy.
    for path in [work, *crawled.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    with LoopbackServer(crawled) as server:
        done = subprocess.run(
            [str(LINKCHECKER), "--config", str(CONFIG), "--recursion-level", str(depth),
             "--no-status", server.url + start],
            capture_output=True, text=True, timeout=LINKCHECKER_TIMEOUT)
    return done.returncode, done.stdout + done.stderr


def test_linkchecker_finds_no_broken_link_in_the_built_site(tmp_path):
    code, report = linkchecker(built_site(), tmp_path)
    assert code == 0, report
    assert re.search(r"\b0 errors found", report), report


def break_first_anchor(project: Path):
    """Point the first cross-page anchor link in the copied docs at a section that does not exist."""
    for page in sorted((project / "docs").rglob("*.md")):
        text = page.read_text(encoding="utf-8")
        match = ANCHORED_LINK.search(text)
        if match:
            broken = f"{match['anchor']}-no-such-section"
            page.write_text(text[:match.start("anchor")] + broken + text[match.end("anchor"):],
                            encoding="utf-8")
            return page.relative_to(project / "docs"), broken
    raise AssertionError("no page links to an anchor on another page: nothing to break")


def page_url(source: Path) -> str:
    """The directory URL MkDocs gives a page: a/b.md -> a/b/, a/index.md -> a/."""
    path = source.with_suffix("").as_posix()
    return "" if path == "index" else path.removesuffix("/index").removesuffix("index") + "/"


def test_a_broken_anchor_fails_the_strict_build_and_linkchecker(tmp_path):
    project = copy_site(tmp_path / "project")
    source, broken = break_first_anchor(project)

    strict = mkdocs_build(project / "mkdocs.yml", tmp_path / "strict-site")
    assert strict.returncode != 0, f"the strict build let the broken anchor #{broken} in {source} through"
    assert broken in strict.stdout + strict.stderr, strict.stdout + strict.stderr

    config = project / "mkdocs.yml"
    text = config.read_text(encoding="utf-8")
    assert text.count("\nstrict: true\n") == 1, "mkdocs.yml no longer has one top-level 'strict: true'"
    config.write_text(text.replace("\nstrict: true\n", "\nstrict: false\n"), encoding="utf-8")
    loose = mkdocs_build(config, tmp_path / "loose-site")
    assert loose.returncode == 0, loose.stderr

    code, report = linkchecker(tmp_path / "loose-site", tmp_path / "check",
                               start=page_url(source), depth=1)
    assert code != 0, f"LinkChecker missed the broken anchor #{broken}:\n{report}"
    assert broken in report, report
