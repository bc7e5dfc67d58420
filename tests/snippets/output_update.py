"""`--update-output`: write a console block's new expected output into its page, facts as templates.

How it works: the page's source block must line up with the rendered block that ran
(same number of lines; each source line renders to its rendered line on its own). A
command's new expected output is `console.merge_expected`: lines that still match stay
as the page spells them (`...` and `{{ lumi.* }}` included); a new output line has every
fact value in it put back as its template (`{{ lumi.cray_python.version }}`), choosing
the expression the page itself uses when several facts have that value. When a value is
ambiguous, or the block cannot be lined up, the block is reported instead of rewritten:
a rendered fact is never written into a page. The new block is rendered again and must
match the output before the file is written. Blocks rewritten earlier in the same run
move the later blocks of that page; `_shifts` keeps count (one page runs in one process,
also under pytest-xdist's --dist loadfile).
"""

import re
from pathlib import Path

from .console import merge_expected, merged_lines, normalise, output_matches, parse_console

TEMPLATE = re.compile(r"\{\{.*?\}\}")
# Shorter values ("3", "20", "C") turn up in any output by chance; they are not taken for facts.
MIN_FACT_LENGTH = 4
FACT_ROOTS = re.compile(r"^lumi\w*$")  # `lumi`, and other fact sets such as a system snapshot

_shifts = {}  # page path -> [(original fence line, lines added)]


class NotRewritten(Exception):
    """The block cannot be rewritten safely; the message says why."""


def flatten(value, expression):
    """(expression, text) for every scalar under `value`, e.g. ("lumi.cotainr.version", "2025.7.1")."""
    if isinstance(value, dict):
        for key, item in value.items():
            step = f".{key}" if isinstance(key, str) and key.isidentifier() else f"[{key!r}]"
            yield from flatten(item, expression + step)
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from flatten(item, f"{expression}[{index}]")
    elif isinstance(value, (str, int, float)) and not isinstance(value, bool):
        yield expression, str(value)


class Facts:
    """Fact values and the template expressions that render to them, for one page."""

    def __init__(self, variables, render, page_source):
        self.render = render
        self.by_value = {}
        for name, value in variables.items():
            if FACT_ROOTS.match(name):
                for expression, text in flatten(value, name):
                    if len(text) >= MIN_FACT_LENGTH:
                        self.by_value.setdefault(text, set()).add(expression)
        # The spelling the page already uses wins when several facts share a value.
        self.page_uses = {}
        for template in set(TEMPLATE.findall(page_source)):
            try:
                self.page_uses.setdefault(render(template), template)
            except Exception:  # a template that needs the page's context: not a candidate
                continue

    def templated(self, line):
        """`line` with each fact value replaced by its template; NotRewritten when ambiguous."""
        values = sorted(self.by_value, key=len, reverse=True)
        pattern = re.compile("|".join(rf"(?<![\w.]){re.escape(v)}(?!\w|\.\d)" for v in values))

        def template_for(found):
            value = found.group(0)
            if value in self.page_uses:
                return self.page_uses[value]
            expressions = self.by_value[value]
            if len(expressions) > 1:
                raise NotRewritten(f"the output line {line!r} holds {value!r}, the value of "
                                   f"{', '.join(sorted(expressions))}; write the template by hand")
            return "{{ " + next(iter(expressions)) + " }}"

        return pattern.sub(template_for, line) if values else line


def _block_lines(path, fence_line, rendered_body, render):
    """The page's lines, where the block's body starts (0-based) and its source lines (dedented)."""
    lines = Path(path).read_text(encoding="utf-8").split("\n")
    moved = sum(added for line, added in _shifts.get(str(path), []) if line < fence_line)
    start = fence_line + moved  # fence_line is 1-based, so this is the body's 0-based index
    fence = lines[start - 1] if 0 < start <= len(lines) else ""
    indent = fence[:len(fence) - len(fence.lstrip())]
    body = []
    for k, rendered in enumerate(rendered_body):
        if start + k >= len(lines):
            raise NotRewritten("the page is shorter than the block (was it edited during the run?)")
        line = lines[start + k]
        text = line[len(indent):] if line.startswith(indent) else line.strip()
        if "{%" in text or "{#" in text:
            raise NotRewritten(f"page line {start + k + 1} has a Jinja statement; edit the block by hand")
        if (render(text) if "{{" in text else text).rstrip() != rendered.rstrip():
            raise NotRewritten(f"page line {start + k + 1} does not render to the block's line "
                               f"{k + 1} (a macro spans lines, or the page changed during the run)")
        body.append(text)
    return lines, start, indent, body


def rewrite(path, fence_line, rendered_source, outputs, facts):
    """Rewrite the expected output of the commands in `outputs` ({command index: output lines}).

    Returns the (old, new) source lines of the block body; raises NotRewritten.
    """
    rendered_body = rendered_source.rstrip("\n").split("\n")
    lines, start, indent, body = _block_lines(path, fence_line, rendered_body, facts.render)
    commands = parse_console(rendered_source)
    new_body, position = [], 0
    for index, command in enumerate(commands):
        first = command.line + command.command.count("\n") + 1
        new_body.extend(body[position:first])
        position = first + len(command.expected)
        old = body[first:position]
        if index not in outputs:
            new_body.extend(old)
            continue
        kept = normalise(command.expected)
        merged = merge_expected(kept, outputs[index])
        written = [old[item].rstrip() if isinstance(item, int) else facts.templated(item)
                   for item in merged]
        trailing_blanks = len(command.expected) - len(kept)
        new_body.extend(written + [""] * trailing_blanks)
    new_body.extend(body[position:])
    # The promise: what is written renders to expected output that the real output matches.
    rendered_new = facts.render("\n".join(new_body))
    for index, command in enumerate(parse_console(rendered_new)):
        if index in outputs and not output_matches(command.expected, outputs[index]):
            raise NotRewritten("the rewritten block would not match its own output (a template "
                               "renders differently in place); edit the block by hand")
    page_lines = [indent + line if line else line for line in new_body]
    lines[start:start + len(body)] = page_lines
    Path(path).write_text("\n".join(lines), encoding="utf-8")
    _shifts.setdefault(str(path), []).append((fence_line, len(new_body) - len(body)))
    return body, new_body, start + 1


def merged_for_display(expected, actual):
    """The expected lines as --update-output would write them (rendered), for a diff."""
    kept = normalise(expected)
    return merged_lines(kept, merge_expected(kept, actual))
