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


# Costs of the edits `merge_expected` weighs: replacing an expected line by the output
# line in its place is cheaper than dropping it, so a changed version number is replaced
# where it stands instead of vanishing into a neighbouring `...`.
_SUBSTITUTE, _INSERT, _DROP = 1, 1, 2


def merge_expected(expected, actual):
    """The expected lines changed as little as possible so that `actual` matches them.

    Returns a list in which an int is the index of an expected line kept as written (it
    still matches, or it is a `...` line) and a str is an output line to write instead.
    Lines that still match keep their wildcards and their page spelling this way.
    """
    expected, actual = normalise(expected), normalise(actual)
    n, m = len(expected), len(actual)
    patterns = [None if line.strip() == WILDCARD else _line_pattern(line) for line in expected]
    inf = float("inf")
    # cost[i][j]: fewest edits making expected[i:] match actual[j:]; move[i][j]: the first edit.
    cost = [[inf] * (m + 1) for _ in range(n + 1)]
    move = [[None] * (m + 1) for _ in range(n + 1)]
    for i in range(n, -1, -1):
        for j in range(m, -1, -1):
            options = []
            if i == n:
                options.append((_INSERT * (m - j), "insert-rest"))
            elif patterns[i] is None:
                options.append((cost[i + 1][j], "end-wildcard"))
                if j < m:
                    options.append((cost[i][j + 1], "absorb"))
            else:
                if j < m and patterns[i].fullmatch(actual[j]):
                    options.append((cost[i + 1][j + 1], "keep"))
                if j < m:
                    options.append((cost[i + 1][j + 1] + _SUBSTITUTE, "substitute"))
                options.append((cost[i + 1][j] + _DROP, "drop"))
            if i < n and j < m:
                options.append((cost[i][j + 1] + _INSERT, "insert"))
            cost[i][j], move[i][j] = min(options, key=lambda option: option[0])
    merged, i, j = [], 0, 0
    while (i, j) != (n, m):
        step = move[i][j]
        if step == "insert-rest":
            merged.extend(actual[j:])
            break
        if step in ("end-wildcard", "keep"):
            merged.append(i)
        elif step in ("substitute", "insert"):
            merged.append(actual[j])
        i += step in ("end-wildcard", "keep", "substitute", "drop")
        j += step in ("absorb", "keep", "substitute", "insert")
    return merged


def merged_lines(expected, merged):
    """The text lines of a `merge_expected` result."""
    return [expected[item] if isinstance(item, int) else item for item in merged]
