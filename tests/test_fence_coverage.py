"""Every fenced block in docs/ is run by the snippet runner or carries a skip comment with a reason."""

from pathlib import Path

import pytest

from tests.snippets.coverage import problems, scan_fences

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "snippets"
PAGES = sorted(DOCS.rglob("*.md"))


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(DOCS)) for p in PAGES])
def test_every_fence_is_run_or_marked(page):
    found = problems(page, DOCS)
    assert not found, "fences that the snippet run would not check:\n" + "\n".join(found)


def test_scan_finds_fences_in_admonitions_tabs_and_nested_fences():
    text = (FIXTURES / "unrunnable.md").read_text()
    fences = scan_fences(text)
    assert [(f.line + 1, f.language) for f in fences] == [
        (3, "text"), (8, "text"), (13, "text"), (19, "ini"), (26, "markdown")]


def test_unmarked_and_lumi_only_skipped_fences_are_reported():
    found = problems(FIXTURES / "unrunnable.md", FIXTURES)
    assert len(found) == 4, found
    assert found[0].endswith("unrunnable.md:3: ```text fence has no runner and no skip comment: give it "
                             "a file-name title or mark it with <!-- skip: next if(True, reason=\"...\") -->")
    assert "unrunnable.md:8: ```text fence has no runner but is only skipped off LUMI" in found[1]
    assert "unrunnable.md:19: ```ini fence" in found[2]
    assert "unrunnable.md:26: ```markdown fence" in found[3]


def test_runnable_and_titled_fences_pass():
    for page in ("state.md", "console.md", "files.md", "python.md", "macros.md"):
        assert problems(FIXTURES / page, FIXTURES) == [], page


def test_a_skip_without_reason_is_reported():
    found = problems(FIXTURES / "skips.md", FIXTURES)
    assert len(found) == 1 and "skips.md:13: `skip: next` needs a condition and a reason" in found[0]


def test_indented_code_and_raw_pre_blocks_are_reported():
    found = problems(FIXTURES / "unfenced.md", FIXTURES)
    assert [message.split(": ", 1)[0].rsplit("/", 1)[-1] for message in found] == [
        "unfenced.md:5", "unfenced.md:10", "unfenced.md:12", "unfenced.md:18"], found
    assert "an indented code block is neither run nor checked" in found[0]
    assert "a raw <pre> block is neither run nor checked" in found[2]
