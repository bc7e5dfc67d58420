"""Sybil parsers for the guide's pages: every fenced block becomes a Snippet, skips need a reason.

Conventions they implement (the README repeats them):
- ```bash / ```sh: run in the page's shell; ```console: `$ ` commands with expected output;
  ```python: run by the page shell's `python3`.
- A fence with a file-name title (```yaml title="my_env.yml"```) is a file: written into
  the shell's current directory and checked, not run. A title that is not a file name
  (it has spaces, or no extension) is only a caption: the block runs as its language says.
- Any other fence is collected too, as "unrunnable": it fails unless a skip comment marks
  it. Collecting every fence also keeps `skip: next` pointing at the fence right after it.
- `<!-- skip: next if(OFF_LUMI, reason="...") -->` or `if(True, reason="...")`: a skip
  must give a condition and a reason, so it is reported as SKIPPED with that reason
  (Sybil reports a bare `skip: next` as PASSED, which would hide it); a blank reason is
  no reason. `skip: start if(...)` ... `skip: end` skips every block between the two
  comments; a `skip: start` with no `skip: end` after it fails (it would hide the rest of
  the page).
- `<!-- snippets: network -->` on a line of its own anywhere in a page (text may follow
  `network`, e.g. a reason): that page's shell gets network access (PyPI); every other
  page's shell runs without network.
- `<!-- snippets: slurm -->` on a line of its own: the page's node starts its miniature
  Slurm cluster (slurmctld and slurmd, image/slurm-start.sh) before the first block.
"""

import ast
import re
from dataclasses import dataclass
from typing import Optional

from sybil import Region
from sybil.evaluators.skip import Skipper
from sybil.example import SybilFailure
from sybil.parsers.markdown import SkipParser
from sybil.parsers.markdown.lexers import RawFencedCodeBlockLexer

SHELL_LANGUAGES = {"bash", "sh"}
TITLE = re.compile(r'''\btitle=(?:"([^"]*)"|'([^']*)')''')
# A relative path whose last part has an extension: `env.yml`, `scripts/job.sh`.
FILE_NAME = re.compile(r"^(?!/)[\w.+-]+(?:/[\w.+-]+)*\.[A-Za-z0-9]+$")
NETWORK_MARKER = re.compile(r"^[ \t]*<!--\s*snippets:\s*network\b.*?-->", re.MULTILINE)
SLURM_MARKER = re.compile(r"^[ \t]*<!--\s*snippets:\s*slurm\b.*?-->", re.MULTILINE)


@dataclass
class Snippet:
    """One fenced block: what kind of runner it needs and its text."""

    kind: str  # "shell", "console", "python", "file" or "unrunnable"
    language: str
    source: str
    title: Optional[str] = None


def classify(info, source):
    """The Snippet for a fence with info string `info` and body `source`."""
    info = info.strip()
    language = info.split()[0].lstrip("{").lstrip(".").rstrip("}").lower() if info else ""
    found = TITLE.search(info)
    title = (found.group(1) or found.group(2) or "").strip() if found else None
    if title and FILE_NAME.match(title):
        return Snippet("file", language, source, title)
    kind = {"console": "console", "python": "python", "py": "python"}.get(language)
    if language in SHELL_LANGUAGES:
        kind = "shell"
    return Snippet(kind or "unrunnable", language, source, title)


def page_needs_network(text):
    """True when the page asks for network access with `<!-- snippets: network -->`."""
    return bool(NETWORK_MARKER.search(text))


def page_needs_slurm(text):
    """True when the page asks for the node's Slurm cluster with `<!-- snippets: slurm -->`."""
    return bool(SLURM_MARKER.search(text))


class SnippetParser:
    """Collect every fenced block (titles and indentation included) as a Snippet region."""

    def __init__(self, evaluator):
        self.evaluator = evaluator
        self.lexer = RawFencedCodeBlockLexer(
            info_pattern=re.compile(r"(?P<info>[^\n]*)$\n", re.MULTILINE))

    def __call__(self, document):
        outer_end = -1
        for region in sorted(self.lexer(document), key=lambda region: region.start):
            # Sybil's lexer also yields fences shown inside a longer fence; those are text.
            if region.start < outer_end:
                continue
            outer_end = region.end
            snippet = classify(region.lexemes["info"], str(region.lexemes["source"]))
            yield Region(region.start, region.end, parsed=snippet, evaluator=self.evaluator)


class ReasonedSkipper(Skipper):
    """Sybil's Skipper, but a bad condition fails that comment cleanly instead of a traceback."""

    def install(self, example, state, reason):
        try:
            super().install(example, state, reason)
        except Exception as err:
            raise SybilFailure(example, f"{example.document.display_path}:{example.line}: "
                                        f"bad skip condition {reason!r}: {err}") from None


class ReasonedSkipParser(SkipParser):
    """SkipParser that insists on `if(condition, reason="...")` for `next` and `start`."""

    def __init__(self):
        super().__init__()
        self.skipper = ReasonedSkipper(self.directive)

    def __call__(self, document):
        path = getattr(document, "display_path", document.path)
        regions, unclosed, opened = list(super().__call__(document)), [], None
        for region in regions:
            action, _ = region.parsed
            if action == "start":
                # A second start before an end leaves the first one unclosed too.
                unclosed += [opened] if opened else []
                opened = region
            elif action == "end":
                opened = None
        unclosed += [opened] if opened else []
        for region in regions:
            action, condition = region.parsed
            line = document.source_line(region.start) if hasattr(document, "source_line") else "?"
            problem = reason_problem(action, condition) if action in ("next", "start") else None
            if problem is None and any(region is start for start in unclosed):
                problem = ("`skip: start` has no `<!-- skip: end -->` after it, so it would skip every "
                           "block to the end of the page")
            if problem:
                yield Region(region.start, region.end, parsed=f"{path}:{line}: {problem}",
                             evaluator=fail_with_parsed)
            else:
                region.evaluator = self.skipper
                yield region


def reason_problem(action, condition):
    """Why `skip: <action> <condition>` lacks a usable `if(condition, reason="...")`, or None."""
    example = f"e.g. <!-- skip: {action} if(OFF_LUMI, reason=\"sbatch needs Slurm\") -->"
    text = (condition or "").strip()
    try:
        call = ast.parse("if_" + text[2:], mode="eval").body if text.startswith("if") else None
    except SyntaxError:
        call = None
    reason = None
    if isinstance(call, ast.Call) and call.args:
        reason = next((k.value for k in call.keywords if k.arg == "reason"), None)
    if reason is None:
        return f"`skip: {action}` needs a condition and a reason, {example}"
    if not (isinstance(reason, ast.Constant) and isinstance(reason.value, str)):
        return f"`skip: {action}` needs its reason as a quoted string, {example}"
    if not reason.value.strip():
        return f"`skip: {action}` has a blank reason: say why the block cannot run here, {example}"
    return None


# A line that is one HTML comment: the marks before a fence (skip:, run:, off-lumi:).
COMMENT_LINE = re.compile(r"^[ \t]*<!--.*-->[ \t]*$")


def comments_before(text, position):
    """The comment lines right before the fence that starts at `position`, nearest first.

    Blank lines may stand between them; any other line ends the run of marks.
    """
    for line in reversed(text[:position].split("\n")[:-1]):  # the fence's own line starts at `position`
        if not line.strip():
            continue
        if not COMMENT_LINE.match(line):
            return
        yield line


def fail_with_parsed(example):
    """Evaluator of a region that only reports a problem found while parsing (its `parsed` text)."""
    return example.parsed
