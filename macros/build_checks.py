"""Site checks the build runs on every page: template errors as one line, undefined link labels.

How it works: hooks/build_checks.py (thin MkDocs glue) calls these plain functions.

* `template_problem()` renders a page's Markdown with the macros plugin's own Jinja
  environment *before* the plugin does. mkdocs-macros, on a template error, logs the whole
  Python traceback (hidden entirely under `mkdocs build -q`) and calls `exit(100)`; by
  failing first we report `file:line: problem` instead. Jinja rewrites the traceback of a
  render error so that its template frames carry the template's own line numbers, which is
  how an undefined variable gets a line.
* `leftover_link_labels()` scans a page's HTML. Python-Markdown prints `[text][label]` and
  `[label]` verbatim when `label` has no definition, so any such bracket text outside
  code is a link that silently failed.

Nothing here imports MkDocs, so tests call these functions directly.
"""

import re
from html.parser import HTMLParser

import jinja2

# Template frames in a rewritten Jinja traceback carry this file name.
_TEMPLATE_FILENAME = "<template>"

# `[text][label]` (full or collapsed) and a lone `[label]` left as text by Markdown.
_FULL_REFERENCE = re.compile(r"\[([^\[\]\n]+)\]\s?\[([^\[\]\n]*)\]")
_SHORTCUT_REFERENCE = re.compile(r"(?<![\w\]])\[([^\[\]\n]+)\](?![\[(:])")

# Text inside these elements is code or machinery, not prose.
_SKIPPED_ELEMENTS = {"code", "pre", "script", "style", "kbd", "samp"}
# A new block starts a new line, so brackets from two paragraphs never join.
_BLOCK_ELEMENTS = {"p", "li", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6", "div",
                   "blockquote", "dt", "dd", "br", "tr", "summary", "details", "table",
                   "ul", "ol", "section", "article", "figcaption"}


def template_problem(jinja_env, markdown, variables, src_path, line_offset=0):
    """Render `markdown`; return None if it renders, else one line `src_path:line: problem`."""
    try:
        jinja_env.from_string(markdown).render(**variables)
    except jinja2.TemplateSyntaxError as err:
        return _one_line(src_path, _shift(err.lineno, line_offset), f"template syntax error: {err.message}",
                         _source_line(markdown, err.lineno))
    except jinja2.UndefinedError as err:
        line = _template_line(err)
        return _one_line(src_path, _shift(line, line_offset), f"undefined fact or macro: {err.message}",
                         _source_line(markdown, line))
    except Exception as err:  # a macro that raised: still the reader's page, still one line
        line = _template_line(err)
        # A macro's own message for page authors (e.g. a citation of an unknown claim) needs
        # no exception type in front of it.
        problem = str(err) if getattr(err, "for_readers", False) else \
            f"template error ({type(err).__name__}): {err}"
        return _one_line(src_path, _shift(line, line_offset), problem, _source_line(markdown, line))
    return None


def front_matter_lines(raw_source, markdown):
    """How many lines of `raw_source` precede `markdown` (the page body MkDocs kept after front matter)."""
    if markdown and raw_source.endswith(markdown):
        return raw_source[: len(raw_source) - len(markdown)].count("\n")
    return 0


def leftover_link_labels(html):
    """The `[text][label]` / `[label]` texts Markdown left unresolved in `html`, outside code."""
    collector = _ProseCollector()
    collector.feed(html)
    collector.close()
    prose = "".join(collector.parts)
    found = []
    for line in prose.splitlines():
        for match in _FULL_REFERENCE.finditer(line):
            label = match.group(2) or match.group(1)
            found.append((label, match.group(0)))
        # Remove full references first so their halves are not reported twice.
        for match in _SHORTCUT_REFERENCE.finditer(_FULL_REFERENCE.sub(" ", line)):
            found.append((match.group(1), match.group(0)))
    return found


def line_of(source, snippet):
    """1-based line of the first occurrence of `snippet` in `source`, or None."""
    index = source.find(snippet)
    return source.count("\n", 0, index) + 1 if index >= 0 else None


def _template_line(err):
    line = None
    tb = err.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == _TEMPLATE_FILENAME:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _shift(line, offset):
    return line + offset if line else None


def _source_line(markdown, line):
    lines = markdown.splitlines()
    if line and 0 < line <= len(lines):
        return lines[line - 1].strip()
    return ""


def _one_line(src_path, line, problem, source_line):
    where = f"{src_path}:{line}" if line else str(src_path)
    shown = f" (in: {source_line[:80]})" if source_line else ""
    return f"{where}: {problem}{shown}"


class _ProseCollector(HTMLParser):
    """Collects the text of an HTML page that a reader sees as prose."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts = []
        self._skip_depth = 0

    def handle_starttag(self, tag, attrs):
        if tag in _SKIPPED_ELEMENTS:
            self._skip_depth += 1
        elif tag in _BLOCK_ELEMENTS:
            self.parts.append("\n")

    def handle_startendtag(self, tag, attrs):
        if tag in _BLOCK_ELEMENTS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in _SKIPPED_ELEMENTS:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag in _BLOCK_ELEMENTS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self._skip_depth:
            self.parts.append(data)
