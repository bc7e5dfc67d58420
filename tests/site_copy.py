"""Build the site, or a scratch copy of its sources, the way a user runs `mkdocs build --strict`."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Everything `mkdocs build` reads; the copy must not reach back into the real tree.
SOURCES = ["docs", "macros", "data", "overrides", "hooks"]


def copy_site(dest):
    """Copy the site sources into `dest` (a fresh directory) and return it."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(ROOT / "mkdocs.yml", dest / "mkdocs.yml")
    for name in SOURCES:
        if (ROOT / name).exists():
            shutil.copytree(ROOT / name, dest / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return dest


def build(project_dir, site_dir, quiet=False):
    """Run a strict build of `project_dir` into `site_dir`; return the finished process.

    Plain MkDocs counts strict-mode warnings only once they pass the log level, so
    `--strict -q` would let every warning through; hooks/build_checks.py undoes that,
    and `quiet=True` is how a test checks it.
    """
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict",
         "-f", str(Path(project_dir) / "mkdocs.yml"), "-d", str(site_dir)] + (["-q"] if quiet else []),
        capture_output=True, text=True, timeout=180, env=env, cwd=project_dir,
    )


def problems(result):
    """The WARNING and ERROR lines of a build, which is what a user reads when it fails."""
    output = result.stdout + result.stderr
    return [line for line in output.splitlines() if line.startswith(("WARNING", "ERROR", "Error"))]


def replace_once(path, old, new):
    """Replace the single occurrence of `old` in `path`; fail loudly if the page changed under us."""
    text = Path(path).read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{path}: expected exactly one {old!r} to replace"
    Path(path).write_text(text.replace(old, new), encoding="utf-8")
