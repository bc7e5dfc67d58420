"""The drift report (scripts/check_sources.py) on small git repositories the tests make themselves."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "check_sources.py"

PAGE_TEXT = "# Tool\n\n## Installing\n\nRun `tool setup` first.\nThen reload the module.\n\n## Other\n\nUnrelated.\n"


def git(directory, *args):
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.org",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.org",
               GIT_AUTHOR_DATE="2026-01-02T00:00:00Z", GIT_COMMITTER_DATE="2026-01-02T00:00:00Z")
    return subprocess.run(["git", "-C", str(directory), *args], check=True, capture_output=True,
                          text=True, env=env).stdout.strip()


def commit_files(repo, files, message="change"):
    for name, text in files.items():
        path = repo / name
        if text is None:
            path.unlink()
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def upstream(tmp_path):
    """A repository `acme/docs` under a SOURCES_DIR, with a first commit that the registry pins."""
    repo = tmp_path / "clones" / "acme" / "docs"
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    pin = commit_files(repo, {"guide/tool.md": PAGE_TEXT, "recipes/a.eb": "version = '1'\n"}, "first")
    return repo, pin


def project(tmp_path, pin, excerpt="Run `tool setup` first.", path="guide/tool.md"):
    """A registry and one claims file pointing at `acme/docs` pinned at `pin`."""
    (tmp_path / "claims").mkdir(exist_ok=True)
    (tmp_path / "sources.yaml").write_text(
        "sources:\n"
        "  # a comment the pin update must keep\n"
        "  acme:\n"
        "    repository: acme/docs\n"
        f"    commit: {pin}\n"
        '    date: "2026-01-02"\n'
        '    read: "2026-01-03"\n')
    (tmp_path / "claims" / "tool.yaml").write_text(
        "page: software/tool.md\n"
        "claims:\n"
        "  tool-setup-first:\n"
        f"    source: acme:{path}\n"
        f"    excerpt: {excerpt!r}\n"
        "    says: Run the set-up before anything else.\n")
    (tmp_path / "snapshot.yaml").write_text("modules:\n  - name: a/1\n    source: acme:recipes/a.eb\n")


def run(tmp_path, *extra, sources_dir=True, env=None):
    args = [sys.executable, str(SCRIPT), "--sources", str(tmp_path / "sources.yaml"),
            "--claims", str(tmp_path / "claims"), "--data-file", str(tmp_path / "snapshot.yaml")]
    if sources_dir:
        args += ["--sources-dir", str(tmp_path / "clones")]
    environment = dict(os.environ, **(env or {}))
    environment.pop("SOURCES_DIR", None)
    done = subprocess.run(args + list(extra), capture_output=True, text=True, timeout=120, env=environment)
    return done.returncode, done.stdout + done.stderr


def test_nothing_changed_exits_0(tmp_path, upstream):
    repo, pin = upstream
    commit_files(repo, {"elsewhere.md": "not cited\n"})
    project(tmp_path, pin)
    code, out = run(tmp_path)
    assert code == 0, out
    assert "2 cited files checked: 0 changed, 0 could not be read, 2 unchanged." in out


def test_a_change_near_the_excerpt_is_shown_as_a_diff_under_its_page(tmp_path, upstream):
    repo, pin = upstream
    commit_files(repo, {"guide/tool.md": PAGE_TEXT.replace("Then reload the module.", "Then log out and in.")})
    project(tmp_path, pin)
    code, out = run(tmp_path)
    assert code == 1, out
    assert "## software/tool.md" in out and "### tool-setup-first: `acme:guide/tool.md`" in out
    assert "the excerpt is still there (line 5 at" in out
    assert "-Then reload the module.\n+Then log out and in." in out


def test_a_moved_file_is_followed(tmp_path, upstream):
    repo, pin = upstream
    commit_files(repo, {"guide/tool.md": None, "docs/tools/tool.md": PAGE_TEXT})
    project(tmp_path, pin)
    code, out = run(tmp_path)
    assert code == 1, out
    assert "guide/tool.md moved to docs/tools/tool.md" in out


def test_a_vanished_excerpt_is_reported(tmp_path, upstream):
    repo, pin = upstream
    commit_files(repo, {"guide/tool.md": PAGE_TEXT.replace("Run `tool setup` first.", "Setup is automatic now.")})
    project(tmp_path, pin)
    code, out = run(tmp_path)
    assert code == 1, out
    assert "**excerpt lost**: the excerpt 'Run `tool setup` first.' is no longer in guide/tool.md" in out
    assert "+Setup is automatic now." in out


def test_a_removed_file_and_a_changed_data_file_source(tmp_path, upstream):
    repo, pin = upstream
    commit_files(repo, {"guide/tool.md": None, "recipes/a.eb": "version = '2'\n"})
    project(tmp_path, pin)
    code, out = run(tmp_path)
    assert code == 1, out
    assert "**removed**: guide/tool.md no longer exists" in out
    assert "snapshot.yaml" in out and "### line 3: `acme:recipes/a.eb`" in out


def test_an_unreadable_repository_exits_2_with_the_reason(tmp_path, upstream):
    _, pin = upstream
    project(tmp_path, pin)
    (tmp_path / "elsewhere").mkdir()
    code, out = run(tmp_path, "--sources-dir", str(tmp_path / "elsewhere"))
    assert code == 2, out
    assert f"acme/docs: no git clone at {tmp_path / 'elsewhere' / 'acme' / 'docs'}" in out


def test_a_pin_the_clone_lacks_or_a_wrong_excerpt_exits_2(tmp_path, upstream):
    _, pin = upstream
    project(tmp_path, "abcd1234" * 5)
    code, out = run(tmp_path)
    assert code == 2 and "the pinned commit abcd1234abcd is not in acme/docs" in out, out
    project(tmp_path, pin, excerpt="never written there")
    code, out = run(tmp_path)
    assert code == 2 and "is not in guide/tool.md even at the pinned commit" in out, out


def test_without_sources_dir_it_clones_then_fetches(tmp_path, upstream):
    repo, pin = upstream
    project(tmp_path, pin)
    env = {"SOURCES_GIT_BASE": f"file://{tmp_path / 'clones'}", "SOURCES_CACHE": str(tmp_path / "cache")}
    code, out = run(tmp_path, sources_dir=False, env=env)
    assert code == 0, out
    assert (tmp_path / "cache" / "acme" / "docs" / "HEAD").is_file()
    newest = commit_files(repo, {"guide/tool.md": PAGE_TEXT + "A new line.\n"})
    code, out = run(tmp_path, sources_dir=False, env=env)
    assert code == 1 and f"newest {newest[:7]}" in out, out


def test_update_pins_moves_the_pin_and_keeps_comments(tmp_path, upstream):
    repo, pin = upstream
    newest = commit_files(repo, {"guide/tool.md": PAGE_TEXT + "More.\n"})
    project(tmp_path, pin)
    code, out = run(tmp_path, "--update-pins")
    assert code == 0, out
    text = (tmp_path / "sources.yaml").read_text()
    assert f"commit: {newest}" in text and "# a comment the pin update must keep" in text
    assert 'date: "2026-01-02"' in text and 'read: "2026-01-03"' not in text
    assert run(tmp_path)[0] == 0


def test_update_pins_refuses_a_source_whose_excerpt_was_lost(tmp_path, upstream):
    repo, pin = upstream
    commit_files(repo, {"guide/tool.md": "# Tool\n\nRewritten.\n"})
    project(tmp_path, pin)
    code, out = run(tmp_path, "--update-pins", "acme")
    assert code == 1 and "acme: not moved; fix these first: software/tool.md tool-setup-first" in out, out
    assert f"commit: {pin}" in (tmp_path / "sources.yaml").read_text()


def test_a_malformed_claims_file_is_one_line(tmp_path, upstream):
    _, pin = upstream
    project(tmp_path, pin)
    (tmp_path / "claims" / "tool.yaml").write_text("page: software/tool.md\nclaims:\n  x:\n    source: nokey:a.md\n"
                                                    "    excerpt: abc\n    says: set-up\n")
    code, out = run(tmp_path)
    assert code == 2
    assert out.strip().splitlines() == [f"check-sources: {tmp_path / 'claims' / 'tool.yaml'}:4: source "
                                        "'nokey:a.md' names no key of data/sources.yaml (known: acme)"]
