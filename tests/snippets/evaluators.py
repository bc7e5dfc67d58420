"""Run one Snippet in its page's shell and say, with page:line, what went wrong.

The page's shell is made on the first block that needs one (a page whose blocks are all
skipped never starts a container) and kept in the document namespace until Sybil's
teardown for that page calls `close_page_shell`.
"""

import re
import uuid

from image import limits

from . import block_options, console_check, off_lumi_lines, reports
from .file_checks import check_file
from .persistent_shell import BlockTimeout, ShellDead
from .runtime import ShellUnavailable

SHELL_KEY = "_snippet_shell"
SHELL_ERROR_KEY = "_snippet_shell_error"
PYTHON_LINE = re.compile(r'File "<stdin>", line (\d+)')


def evaluate_snippet(example):
    """Sybil evaluator for every fenced block: None when it passed, else the failure report."""
    snippet = example.parsed
    where = f"{example.document.display_path}:{example.line}"
    if snippet.kind == "unrunnable":
        return (f"{where}: no runner for a ```{snippet.language or '(no language)'} block. Use bash, sh, "
                f"console or python, give it a file-name title (title=\"name.ext\"), or mark it with "
                f"<!-- skip: next if(True, reason=\"...\") -->")
    shell = page_shell(example)
    if isinstance(shell, str):
        return f"{where}: not run: {shell}"
    runner = {"shell": run_shell, "python": run_python, "file": write_file, "console": run_console}
    retries = block_options.options_for(example).retries
    try:
        return block_options.with_retries(lambda: runner[snippet.kind](example, shell, where), retries)
    except BlockTimeout as err:
        return reports.block_failure(
            where, f"stopped after the time-out of {err.seconds:g} s (set it with --snippet-timeout, or "
                   f"for this block with <!-- run: next timeout=SECONDS -->); the "
                   f"page's shell was killed, so this page's later blocks fail too",
            snippet.source, example.line + 1, err.output)
    except ShellDead as err:
        return reports.block_failure(where, f"the page's shell died while running this block: {err}",
                                     snippet.source, example.line + 1, "")


def page_shell(example):
    """The page's shell, started on first use; a string saying why when there is none."""
    namespace = example.namespace
    if SHELL_ERROR_KEY in namespace:
        return namespace[SHELL_ERROR_KEY]
    shell = namespace.get(SHELL_KEY)
    if shell is None:
        try:
            shell = example.namespace["snippet_runtime"].start_shell(example.document)
        except ShellUnavailable as err:
            namespace[SHELL_ERROR_KEY] = str(err)
            return str(err)
        namespace[SHELL_KEY] = shell
    if shell.dead_reason:
        return f"the page's shell is gone ({shell.dead_reason})"
    return shell


def close_page_shell(namespace):
    """Sybil teardown: end the page's shell and what it left running."""
    shell = namespace.pop(SHELL_KEY, None)
    namespace.pop(SHELL_ERROR_KEY, None)
    if shell is not None:
        shell.close()


def _timeout(example):
    return block_options.options_for(example).timeout or example.namespace["snippet_runtime"].timeout


def run_shell(example, shell, where):
    snippet = example.parsed
    result = shell.run(snippet.source, errexit=True, timeout=_timeout(example))
    if result.status == 0:
        return None
    # The shell reports a failing line as written; a continued line keeps its "\\".
    command = result.failed_command.strip().removesuffix("\\").strip()
    failed = f"`{command}` " if command else ""
    # A pipeline counts as failed when any of its commands fails (the shell runs with pipefail).
    at = f" at page line {example.line + 1 + result.failed_line}" if result.failed_line is not None else ""
    hit = limit_failure(example, where, result, at, failed)
    if hit:
        return hit
    return reports.block_failure(where, f"```{snippet.language} block failed{at}: {failed}exited with "
                                        f"status {result.status}",
                                 snippet.source, example.line + 1, result.output)


def limit_failure(example, where, result, at, failed):
    """One line naming the sandbox limit a failed block hit (image/limits.py), or None."""
    if example.namespace["snippet_runtime"].on_host:
        return None
    limit = limits.limit_hit(result.status, result.output)
    if limit is None:
        return None
    return f"{where}: {limits.message(limit)}{at}: {failed or 'the block '}exited with status {result.status}"


def run_python(example, shell, where):
    snippet = example.parsed
    end = f"__SNIPPET_PY_{uuid.uuid4().hex}"
    code = snippet.source if snippet.source.endswith("\n") else snippet.source + "\n"
    result = shell.run(f"python3 - <<'{end}'\n{code}{end}\n", errexit=True, timeout=_timeout(example))
    if result.status == 0:
        return None
    details = []
    lines = PYTHON_LINE.findall(result.output)
    if lines:
        details.append(f"the error is on line {lines[-1]} of the block, page line "
                       f"{example.line + int(lines[-1])}")
    hit = limit_failure(example, where, result,
                        f" at page line {example.line + int(lines[-1])}" if lines else "", "")
    if hit:
        return hit
    return reports.block_failure(where, f"```python block failed (the shell's python3): exit status "
                                        f"{result.status}",
                                 snippet.source, example.line + 1, result.output, details)


def write_file(example, shell, where):
    """Save a titled block as a file in the shell's current directory, then check its syntax."""
    snippet = example.parsed
    name = snippet.title
    end = f"__SNIPPET_FILE_{uuid.uuid4().hex}"
    text = snippet.source if snippet.source.endswith("\n") else snippet.source + "\n"
    if example.namespace.get("OFF_LUMI"):
        try:
            text = off_lumi_lines.apply(text, off_lumi_lines.marks_before(example.document.text,
                                                                          example.region.start))
        except off_lumi_lines.OffLumiError as err:
            return f"{where}: {err}"
    folder = f"mkdir -p -- '{name.rsplit('/', 1)[0]}' && " if "/" in name else ""
    result = shell.run(f"{folder}cat > '{name}' <<'{end}'\n{text}{end}\n", timeout=_timeout(example))
    if result.status != 0:
        return reports.block_failure(where, f"could not write the file `{name}` (exit status "
                                            f"{result.status})",
                                     snippet.source, example.line + 1, result.output)
    problem = check_file(name, snippet.language, snippet.source)
    if problem is None:
        return None
    line, message = problem
    at = f" (page line {example.line + line})" if line else ""
    return reports.block_failure(where, f"the file `{name}` is not valid{at}: {message}",
                                 snippet.source, example.line + 1, "")


def run_console(example, shell, where):
    runtime = example.namespace["snippet_runtime"]
    return console_check.run_console(example, shell, where, _timeout(example),
                                     update=getattr(runtime, "update_output", False))
