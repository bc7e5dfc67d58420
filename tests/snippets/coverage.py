"""Find fenced blocks that would escape the snippet run: a scan of fences independent of the parsers.

`scan_fences` is a line-by-line fence finder of its own (``` and ~~~, any length, any
indentation, so blocks inside admonitions and content tabs count). `problems` compares
its findings with what the Sybil parsers collected for the page: a fence with no Sybil
example, or one no runner can handle (a ```text block, say) that no skip comment marks
for LUMI too, is a problem named by page:line and the fence's language.
"""

import re
from dataclasses import dataclass

from sybil.evaluators.skip import If

from .collector import parse_page
from .parsers import Snippet

FENCE_LINE = re.compile(r"^(?P<indent>[ \t]*(?:>[ \t]*)*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")


@dataclass
class Fence:
    """A fenced block found by the scan: where it opens (offset and 0-based line), its info,
    and the 0-based line of its closing fence (the text's last line when it never closes)."""

    offset: int
    line: int
    info: str
    end: int = -1

    @property
    def language(self):
        return self.info.split()[0] if self.info.strip() else "(no language)"


def scan_fences(text):
    """Every fenced block of a Markdown text, outermost only, in order."""
    fences, opened, offset = [], None, 0
    lines = text.split("\n")
    for number, line in enumerate(lines):
        found = FENCE_LINE.match(line)
        if opened is None:
            # A backtick fence's info string may not contain backticks (that is inline code).
            if found and not (found["fence"][0] == "`" and "`" in found["info"]):
                opened = (found["fence"], Fence(offset, number, found["info"].strip()))
        elif (found and found["fence"][0] == opened[0][0] and len(found["fence"]) >= len(opened[0])
              and not found["info"].strip()):
            opened[1].end = number
            fences.append(opened[1])
            opened = None
        offset += len(line) + 1
    if opened is not None:
        opened[1].end = len(lines) - 1
        fences.append(opened[1])
    return fences


def skip_holds_on_lumi(condition):
    """True when a skip condition still skips on a real LUMI login node (OFF_LUMI False)."""
    namespace = {"OFF_LUMI": False}
    condition = condition.strip()
    if condition.startswith("if"):
        namespace["if_"] = If(condition[2:])
        condition = "if_" + condition[2:]
    try:
        return bool(eval(condition, namespace))
    except Exception:
        return False


def problems(path, docs_dir=None):
    """What is wrong with the page's fences, one message per fence."""
    document = parse_page(path, docs_dir)
    where = document.display_path
    regions = [region for _, region in document.regions]
    found = []
    for region in regions:
        if isinstance(region.parsed, str):  # a page that does not render, or a malformed skip
            found.append(region.parsed)
    skipping = None  # the condition of the skip that covers the next example, if any
    by_offset = {}
    for region in regions:
        if isinstance(region.parsed, tuple):
            action, condition = region.parsed
            skipping = None if action == "end" else (action, condition or "")
        elif isinstance(region.parsed, Snippet):
            by_offset[region.start] = (region.parsed, skipping)
            if skipping and skipping[0] == "next":
                skipping = None
    for fence in scan_fences(document.text):
        line = document.source_line(fence.offset)
        entry = by_offset.get(fence.offset)
        if entry is None:
            found.append(f"{where}:{line}: ```{fence.language} fence is not collected by any Sybil parser")
            continue
        snippet, skip = entry
        if snippet.kind != "unrunnable":
            continue
        if skip is None:
            found.append(f"{where}:{line}: ```{fence.language} fence has no runner and no skip comment: "
                         f"give it a file-name title or mark it with "
                         f"<!-- skip: next if(True, reason=\"...\") -->")
        elif not skip_holds_on_lumi(skip[1]):
            found.append(f"{where}:{line}: ```{fence.language} fence has no runner but is only skipped off "
                         f"LUMI ({skip[1].strip()}): it would fail with --on-host; use if(True, ...)")
    return found
