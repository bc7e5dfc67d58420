"""Code that no fence holds: indented code blocks and raw `<pre>` blocks, each made a failing example.

The snippet run only knows fences; code shown another way would reach readers unchecked.
Which lines form an indented code block depends on nesting (admonitions, tabs, lists),
so the page is not guessed at with regexes: it is converted by Python-Markdown with the
site's own `markdown_extensions`, and the block parser's `code` processor is replaced by
one that records every new code block it makes. Raw `<pre>` tags are found by a scan of
the lines outside fences and inline code, written in the page itself (not by a macro).
"""

import re

import markdown
from markdown.blockprocessors import CodeBlockProcessor
from sybil import Region

from .parsers import fail_with_parsed

PRE_TAG = re.compile(r"<pre[\s>]", re.IGNORECASE)
INLINE_CODE = re.compile(r"(`+).*?\1")
ADVICE = "write it as a fenced block (```bash, ```console, ```python or a titled file) so the snippet run checks it"


class _RecordingCodeProcessor(CodeBlockProcessor):
    """Python-Markdown's indented-code processor, noting the first line of each new block."""

    def __init__(self, parser, found):
        super().__init__(parser)
        self.found = found

    def run(self, parent, blocks):
        sibling = self.lastChild(parent)
        continues = sibling is not None and sibling.tag == "pre" and len(sibling) and sibling[0].tag == "code"
        if not continues:
            first = next((line for line in blocks[0].split("\n") if line.strip()), "")
            self.found.append(first.strip())
        super().run(parent, blocks)


def indented_code_first_lines(text, mkdocs_config):
    """The first line (stripped) of every indented code block Python-Markdown finds in `text`."""
    md = markdown.Markdown(extensions=mkdocs_config["markdown_extensions"],
                           extension_configs=mkdocs_config["mdx_configs"])
    found = []
    md.parser.blockprocessors.register(_RecordingCodeProcessor(md.parser, found), "code", 80)
    md.convert(text)
    return found


def _fenced_lines(text):
    """0-based numbers of the lines that belong to fences (opening and closing lines included)."""
    from .coverage import scan_fences  # coverage imports the collector, which imports this module

    return {number for fence in scan_fences(text) for number in range(fence.line, fence.end + 1)}


class UnfencedCodeParser:
    """Sybil parser: one failing example per indented code block or raw `<pre>` of a page."""

    def __init__(self, config_source):
        # A callable returning the loaded mkdocs config (the page renderer loads it once).
        self.config_source = config_source

    def __call__(self, document):
        text = document.text
        lines = text.split("\n")
        offsets = [0]
        for line in lines:
            offsets.append(offsets[-1] + len(line) + 1)
        fenced = _fenced_lines(text)
        path = getattr(document, "display_path", document.path)
        problems = {}  # line number -> message
        source_lines = getattr(document, "source", text).split("\n")
        for number, line in enumerate(lines):
            if number not in fenced and PRE_TAG.search(INLINE_CODE.sub("", line)):
                # Only a <pre> written in the page: a macro's HTML (the decision tree) is not the page's code.
                where = document.source_line(offsets[number]) if hasattr(document, "source_line") else number + 1
                if PRE_TAG.search(source_lines[where - 1]):
                    problems[number] = f"a raw <pre> block is neither run nor checked: {ADVICE}"
        searched_from = 0
        for first in indented_code_first_lines(text, self.config_source()):
            for number in range(searched_from, len(lines)):
                line = lines[number]
                if number not in fenced and line.strip() == first and line.startswith("    "):
                    problems.setdefault(number, f"an indented code block is neither run nor checked: {ADVICE}")
                    searched_from = number + 1
                    break
        for number in sorted(problems):
            start, end = offsets[number], offsets[number] + len(lines[number])
            where = document.source_line(start) if hasattr(document, "source_line") else number + 1
            yield Region(start, end, parsed=f"{path}:{where}: {problems[number]}", evaluator=fail_with_parsed)
