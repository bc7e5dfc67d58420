"""shellcheck on every bash/sh block and job script of docs/: findings name the page line."""

import subprocess
from pathlib import Path

import pytest

from tests.snippets import shell_lint

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "shellcheck"
PAGES = sorted(DOCS.rglob("*.md"))


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(DOCS)) for p in PAGES])
def test_shellcheck_finds_nothing(page):
    findings = shell_lint.check(page, DOCS)
    assert not findings, "shellcheck findings:\n" + "\n".join(findings)


def test_findings_name_the_page_line_in_blocks_skips_and_job_scripts():
    findings = shell_lint.check(FIXTURES / "lint.md", FIXTURES)
    where = "tests/fixtures/shellcheck/lint.md"
    assert findings == [
        f"{where}:12: SC2071 (error): > is for string comparisons. Use -gt instead.",
        f"{where}:12: SC2050 (warning): This expression is constant. Did you forget the $ on a variable?",
        f"{where}:22: SC2086 (info): Double quote to prevent globbing and word splitting.",
    ], findings


def test_a_page_session_is_one_script_and_a_job_script_stands_alone():
    where, scripts = shell_lint.scripts(FIXTURES / "lint.md", FIXTURES)
    assert [(name, [line for line, _ in lines]) for name, lines in scripts] == [
        ("page session", [6, 11, 12, 13, 14]), ("job.sh", [20, 21, 22])]
    # Facts are rendered before the check, as the reader sees them.
    assert "{{" not in "".join(text for _, lines in scripts for _, text in lines)


def test_every_excluded_code_has_a_reason_and_the_pinned_shellcheck_runs():
    assert all(code.startswith("SC") and len(reason) > 30 for code, reason in shell_lint.EXCLUDED.items())
    version = subprocess.run([shell_lint.shellcheck_binary(), "--version"], capture_output=True,
                             text=True, check=True).stdout
    assert "version: 0.11.0" in version
