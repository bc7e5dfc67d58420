"""Failure messages for snippets: the page and line first, then the block, status and output."""

MAX_OUTPUT_LINES = 80


def numbered(text, first_line):
    """`text` with each line prefixed by its line number in the page."""
    lines = text.rstrip("\n").split("\n")
    width = len(str(first_line + len(lines)))
    return "\n".join(f"  {first_line + i:>{width}} | {line}" for i, line in enumerate(lines))


def indented(text, empty="(no output)"):
    """Output lines indented, keeping only the tail of very long output."""
    lines = text.rstrip("\n").split("\n") if text.strip() else []
    if not lines:
        return f"  {empty}"
    note = []
    if len(lines) > MAX_OUTPUT_LINES:
        note = [f"  [... first {len(lines) - MAX_OUTPUT_LINES} lines left out ...]"]
        lines = lines[-MAX_OUTPUT_LINES:]
    return "\n".join(note + [f"  {line}" for line in lines])


def block_failure(where, headline, source, first_line, output, details=()):
    """A failure report: `where: headline`, the block with page line numbers, details, output."""
    parts = [f"{where}: {headline}", "block:", numbered(source, first_line)]
    parts.extend(details)
    parts += ["output:", indented(output)]
    return "\n".join(parts)

