"""```console blocks: split into `$ ` commands with expected output, and match output with `...`.

Rules: a line starting with `$ ` (or `(venv) $ `, the prompt of an activated virtual
environment) is a command (a trailing backslash, or following lines starting with `> `,
continue it); the lines up to the next command are its expected
output. A line that is just `...` matches any number of lines (none included); `...`
inside a line matches any text within that line. Trailing spaces and trailing blank lines
do not count. A command must exit with status 0 unless its expected output shows at least
one literal line (then that output, e.g. an error message, is the check).
"""

import re
from dataclasses import dataclass, field

WILDCARD = "..."
PROMPT = re.compile(r"^(?:\([\w.-]+\) )?\$(?: |$)")


@dataclass
class ConsoleCommand:
    """One `$ ` command of a console block, with its position in the block (0-based line)."""

    line: int
    command: str
    expected: list = field(default_factory=list)

    @property
    def must_succeed(self):
        return all(line.strip() in ("", WILDCARD) for line in self.expected)


class ConsoleSyntaxError(Exception):
    """The console block is not `$ command` lines with output; `line` is 0-based in the block."""

    def __init__(self, line, problem):
        super().__init__(problem)
        self.line = line


def parse_console(source):
    """The commands of a console block, in order."""
    commands = []
    continuing = False
    for number, line in enumerate(source.rstrip("\n").split("\n")):
        if continuing or (commands and line.startswith("> ") and not commands[-1].expected):
            text = line[2:] if line.startswith("> ") else line
            commands[-1].command += "\n" + text
            continuing = text.endswith("\\")
        elif PROMPT.match(line):
            commands.append(ConsoleCommand(number, line[PROMPT.match(line).end():]))
            continuing = line.endswith("\\")
        elif commands:
            commands[-1].expected.append(line)
        elif line.strip():
            raise ConsoleSyntaxError(number, "output before the first `$ ` command")
    if not commands:
        raise ConsoleSyntaxError(0, "no `$ ` command in the block")
    return commands


def normalise(lines):
    """Lines without trailing spaces or trailing blank lines."""
    lines = [line.rstrip() for line in lines]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def output_matches(expected, actual):
    """True when `actual` lines fit the `expected` lines with their `...` wildcards."""
    expected, actual = tuple(normalise(expected)), tuple(normalise(actual))
    patterns = tuple(None if line.strip() == WILDCARD else _line_pattern(line) for line in expected)

    # fits[j]: patterns[i:] match actual[j:], filled from the last pattern backwards.
    fits = [j == len(actual) for j in range(len(actual) + 1)]
    for pattern in reversed(patterns):
        if pattern is None:
            after = fits[:]
            for j in range(len(actual), -1, -1):
                fits[j] = after[j] or (j < len(actual) and fits[j + 1])
        else:
            fits = [j < len(actual) and fits[j + 1] and pattern.fullmatch(actual[j]) is not None
                    for j in range(len(actual) + 1)]
    return fits[0]


def _line_pattern(line):
    return re.compile(".*".join(re.escape(part) for part in line.split(WILDCARD)))
