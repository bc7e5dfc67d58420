"""Run a ```console block's commands and compare their output; a mismatch is shown as a unified diff.

Each `$ command` runs in the page's shell, as typed at a terminal. The diff's `+` side
is the expected output as `--update-output` would write it: lines the page's `...`
still matches are kept, so the diff shows only what really changed. With
`--update-output` every command of the block runs, and the block's failing outputs
are written into the page (output_update) and shown as a diff of the page's lines.
"""

import difflib

from . import reports
from .console import ConsoleSyntaxError, normalise, output_matches, parse_console
from .output_update import Facts, NotRewritten, merged_for_display, rewrite
from .page_render import RenderedDocument


def unified(old, new, old_label, new_label, first_line=1):
    """A unified diff of two lists of lines, hunk line numbers counted from `first_line`."""
    lines = list(difflib.unified_diff(old, new, old_label, new_label, lineterm="", n=2))
    shifted = []
    for line in lines:
        if line.startswith("@@"):
            # difflib counts from 1; move both sides to the page's numbering.
            def move(part, sign):
                start, _, length = part[1:].partition(",")
                start = int(start) + first_line - 1 if int(start) else int(start)
                return f"{sign}{start}" + (f",{length}" if length else "")
            head = line.split()
            line = f"@@ {move(head[1], '-')} {move(head[2], '+')} @@"
        shifted.append(line)
    return "\n".join("  " + line for line in shifted)


def mismatch_report(where, command, line, status, output):
    got = output.split("\n")
    proposed = merged_for_display(command.expected, got)
    diff = unified(normalise(command.expected), proposed, "expected (the page)", "got",
                   first_line=line + command.command.count("\n") + 1)
    return "\n".join([
        f"{where}: console output differs for the command on line {line}",
        f"  $ {command.command}",
        f"exit status: {status}",
        diff or "  (only trailing spaces or blank lines differ)",
        "(`pytest docs --update-output` writes the + lines into the page)",
    ])


def status_report(where, command, line, status, output):
    return "\n".join([
        f"{where}: console command on line {line} exited with status {status} "
        f"(a command whose shown output is empty or `...` must succeed)",
        f"  $ {command.command}", "output:", reports.indented(output)])


def run_console(example, shell, where, timeout, update=False):
    """None when every command's output matches; else the report (and, with update, the rewrite)."""
    snippet = example.parsed
    try:
        commands = parse_console(snippet.source)
    except ConsoleSyntaxError as err:
        return f"{example.document.display_path}:{example.line + 1 + err.line}: console block: {err}"
    outputs, problems = {}, []
    for index, command in enumerate(commands):
        result = shell.run(command.command, errexit=False, timeout=timeout)
        got = result.output.split("\n")
        line = example.line + 1 + command.line
        if command.must_succeed and result.status != 0:
            # No rewrite can make a failure shown as success true: it is reported as it is.
            problems.append(status_report(where, command, line, result.status, result.output))
        elif not output_matches(command.expected, got):
            problems.append(mismatch_report(where, command, line, result.status, result.output))
            outputs[index] = got
        else:
            continue
        if not update:
            return problems[0]
    if not problems:
        return None
    if not outputs:
        return "\n".join(problems)
    return _rewrite(example, where, outputs, problems)


def _rewrite(example, where, outputs, problems):
    renderer = RenderedDocument.renderer
    renderer._setup()
    plugin = renderer._plugin

    def render(text):
        return plugin.env.from_string(text).render(**plugin.variables)

    document = example.document
    try:
        facts = Facts(plugin.variables, render, document.source)
        old, new, first = rewrite(document.path, example.line, example.parsed.source, outputs, facts)
    except NotRewritten as err:
        return "\n".join([f"{where}: --update-output did not rewrite this block: {err}", *problems])
    diff = unified(old, new, f"{document.display_path} (before)", f"{document.display_path} (after)",
                   first_line=first)
    return "\n".join([f"{where}: --update-output rewrote this console block's expected output "
                      f"(run again to check it):", diff])
