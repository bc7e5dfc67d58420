"""Per-block options, written like the skip marks right before a fence: a time-out and retries.

    <!-- run: next timeout=900 -->              this block may take 900 s (default --snippet-timeout)
    <!-- run: next retries=2 -->                on a network page, run a failing block up to 2 more times

Options may be combined (`timeout=900, retries=2`) and may sit above or below the
block's skip comment; only blank lines and other comments may stand between the
comment and its fence. Retries are for blocks that reach the network (PyPI, a
registry), so they are allowed only on pages marked `<!-- snippets: network -->`: a
block that fails by itself must fail every time. A block that hits its time-out is
not retried (its shell is killed). A comment that does not parse, or that no block
follows, is an example of its own that fails with page:line and the problem
(`OptionsChecker`); a valid one is no test of its own.
"""

import re
from dataclasses import dataclass
from typing import Optional

from sybil import Region

from .parsers import COMMENT_LINE, comments_before, fail_with_parsed, page_needs_network

COMMENT = re.compile(r"<!--\s*run:(?P<body>.*?)-->", re.DOTALL)
FENCE = re.compile(r"^[ \t]*(?:`{3,}|~{3,})")
MAX_RETRIES = 5


@dataclass
class BlockOptions:
    timeout: Optional[float] = None
    retries: int = 0


class OptionError(Exception):
    """A `run:` comment that does not parse; the message says what is wrong."""


def parse(body, network):
    """BlockOptions from the text after `run:`; OptionError when it is not valid."""
    words = body.replace(",", " ").split()
    if not words or words[0] != "next":
        raise OptionError("`run:` needs `next` and options, e.g. <!-- run: next timeout=900 -->")
    options = BlockOptions()
    for word in words[1:]:
        key, _, value = word.partition("=")
        if key == "timeout":
            try:
                options.timeout = float(value)
            except ValueError:
                raise OptionError(f"timeout={value!r} is not a number of seconds") from None
            if options.timeout <= 0:
                raise OptionError("timeout must be more than 0 seconds")
        elif key == "retries":
            if not value.isdigit() or not 0 < int(value) <= MAX_RETRIES:
                raise OptionError(f"retries={value!r}: give a whole number from 1 to {MAX_RETRIES}")
            if not network:
                raise OptionError("retries are for blocks that use the network: mark the page with "
                                  "<!-- snippets: network (why) --> or drop the retries")
            options.retries = int(value)
        else:
            raise OptionError(f"unknown option {word!r} (known: timeout=SECONDS, retries=N)")
    return options


def _comment_before(text, position):
    """The `run:` comment in the comments and blank lines right before `position`, if any."""
    for line in comments_before(text, position):
        found = COMMENT.search(line)
        if found:
            return found
    return None


def options_for(example):
    """The block's options (defaults when it has none or its comment is invalid: that one fails)."""
    document = example.document
    found = _comment_before(document.text, example.region.start)
    if found is None:
        return BlockOptions()
    try:
        return parse(found["body"], page_needs_network(document.text))
    except OptionError:
        return BlockOptions()


def with_retries(run, retries):
    """run() (None or a failure report) again after a failure, up to `retries` more times."""
    report = run()
    for _ in range(retries):
        if report is None:
            return None
        report = run()
    if report is not None and retries:
        report = f"{report}\n(failed {retries + 1} times: the block's retries={retries} are used up)"
    return report


class OptionsChecker:
    """Sybil parser: a failing example for each `run:` comment that is invalid or has no block."""

    def __call__(self, document):
        network = page_needs_network(document.text)
        for found in COMMENT.finditer(document.text):
            try:
                parse(found["body"], network)
                problem = None if self._block_follows(document.text, found.end()) else \
                    "no fenced block follows this `run:` comment"
            except OptionError as err:
                problem = str(err)
            if problem:
                line = document.source_line(found.start()) if hasattr(document, "source_line") else "?"
                path = getattr(document, "display_path", document.path)
                yield Region(found.start(), found.end(), parsed=f"{path}:{line}: {problem}",
                             evaluator=fail_with_parsed)

    @staticmethod
    def _block_follows(text, position):
        for line in text[position:].split("\n")[1:]:
            if not line.strip() or COMMENT_LINE.match(line):
                continue
            return bool(FENCE.match(line))
        return False
