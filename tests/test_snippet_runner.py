"""Tests of the snippet runner itself, on the fixture pages in tests/fixtures/snippets/."""

import importlib.util
import shutil
import sys
import types
from pathlib import Path

import pytest

from tests.snippets.console import output_matches, parse_console
from tests.snippets.page_render import line_map
from tests.snippets.persistent_shell import BlockTimeout, PersistentShell, ShellDead
from tests.snippets.runtime import ShellUnavailable, SnippetRuntime

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "snippets"
CONFTEST = """
from pathlib import Path
from tests.snippets.collector import make_sybil
from tests.snippets.plugin import (add_options, off_lumi, pytest_collection_modifyitems,
                                   pytest_runtest_makereport, snippet_runtime)

def pytest_addoption(parser):
    add_options(parser)

pytest_collect_file = make_sybil(Path(__file__).parent / "docs").pytest()
"""


def run_pages(pytester, *pages, args=("--on-host",)):
    """Run the given fixture pages through pytest + Sybil, the way `pytest docs` does."""
    docs = pytester.path / "docs"
    docs.mkdir(exist_ok=True)
    for page in pages:
        shutil.copy(FIXTURES / page, docs / page)
    pytester.makeconftest(CONFTEST)
    return pytester.runpytest_inprocess("-p", "no:cacheprovider", "-ra", "-v", *args)


def test_state_carries_over_between_blocks(pytester):
    result = run_pages(pytester, "state.md")
    result.assert_outcomes(passed=4)


def test_failing_command_names_page_line_block_status_and_output(pytester):
    result = run_pages(pytester, "failing.md")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([
        "*docs/failing.md:3: ```bash block failed at page line 5: `ls /no/such/directory` exited with "
        "status 2",
        "block:",
        "  4 | echo before the failure",
        "  5 | ls /no/such/directory",
        "  6 | echo never printed",
        "output:",
        "  before the failure",
        "*No such file or directory",
    ])
    # Shown once, in the block: the block stopped at the failing command.
    assert result.stdout.str().count("never printed") == 1


def test_a_failing_command_inside_a_pipeline_fails_the_block(pytester):
    result = run_pages(pytester, "pipeline.md")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([
        "*docs/pipeline.md:3: ```bash block failed at page line 5: `no-such-command --version | cat` "
        "exited with status 127",
    ])
    assert result.stdout.str().count("never printed") == 1


def test_console_wildcards_pass_and_mismatch_shows_a_unified_diff(pytester):
    result = run_pages(pytester, "console.md")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([
        "*docs/console.md:16: console output differs for the command on line 17",
        "  $ printf 'alpha\\nbeta\\n'",
        "exit status: 0",
        "  --- expected (the page)",
        "  +++ got",
        "  @@ -18,2 +18,2 @@",
        "   alpha",
        "  -gamma",
        "  +beta",
        "(`pytest docs --update-output` writes the + lines into the page)",
    ])


def test_hung_block_is_stopped_with_a_timeout_message(pytester):
    result = run_pages(pytester, "timeout.md", args=("--on-host", "--snippet-timeout", "1"))
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines([
        "*docs/timeout.md:3: stopped after the time-out of 1 s (set it with --snippet-timeout*",
        "*docs/timeout.md:8: not run: the page's shell is gone (the shell was killed when a block hit "
        "the time-out of 1 s)",
    ])


def test_titled_blocks_are_written_and_checked(pytester):
    result = run_pages(pytester, "files.md")
    result.assert_outcomes(passed=2, failed=2)
    result.stdout.fnmatch_lines([
        "*docs/files.md:15: the file `broken.yml` is not valid (page line 18): not valid YAML:*",
    ])
    result.stdout.fnmatch_lines([
        "*docs/files.md:20: the file `scripts/job.sh` is not valid (page line 24): bash -n: syntax error*",
    ])
    assert (pytester.path / "docs").exists()


def test_skips_are_reported_as_skipped_with_their_reason(pytester):
    result = run_pages(pytester, "skips.md", args=())
    # Two blocks skipped; the bare skip comment fails (the block after it runs where it can).
    # The two valid skip comments are not counted as passes of their own.
    result.assert_outcomes(passed=1, skipped=2, failed=1)
    result.stdout.fnmatch_lines_random([
        "SKIPPED [1] docs/skips.md:4: sbatch needs the Slurm cluster",
        "SKIPPED [1] docs/skips.md:9: runs on your own machine with sudo",
        "*docs/skips.md:13: `skip: next` needs a condition and a reason*",
    ])
    result.stdout.fnmatch_lines_random([
        "*skips.md::line:4,bash SKIPPED*",
        "*skips.md::line:9,bash SKIPPED*",
    ])


def test_skip_start_and_end_skip_every_block_between(pytester):
    result = run_pages(pytester, "skip_range.md")
    result.assert_outcomes(passed=1, skipped=2)  # the start and end comments are no tests
    result.stdout.fnmatch_lines_random([
        "SKIPPED [1] docs/skip_range.md:4: a whole section that needs the real LUMI",
        "SKIPPED [1] docs/skip_range.md:8: a whole section that needs the real LUMI",
        "*skip_range.md::line:14,bash PASSED*",
    ])


def test_an_unclosed_skip_start_fails_naming_its_line(pytester):
    result = run_pages(pytester, "skip_unclosed.md")
    # The comment fails; the blocks after it are not hidden, so they run (and may fail).
    result.stdout.fnmatch_lines([
        "*docs/skip_unclosed.md:7: `skip: start` has no `<!-- skip: end -->` after it, so it would "
        "skip every block to the end of the page",
    ])
    result.stdout.fnmatch_lines_random(["*skip_unclosed.md::line:12,bash PASSED*"])
    assert "SKIPPED" not in result.stdout.str()


def test_a_blank_skip_reason_is_rejected(pytester):
    result = run_pages(pytester, "skip_blank_reason.md")
    result.assert_outcomes(passed=2, skipped=1, failed=2)
    result.stdout.fnmatch_lines_random([
        "*docs/skip_blank_reason.md:3: `skip: next` has a blank reason: say why the block cannot run "
        "here, e.g. *",
        "*docs/skip_blank_reason.md:8: `skip: next` has a blank reason*",
        "SKIPPED [1] docs/skip_blank_reason.md:14: runs on your own machine with sudo",
    ])


def test_on_host_lifts_off_lumi_skips_only(pytester):
    result = run_pages(pytester, "skips.md")
    result.stdout.fnmatch_lines_random([
        "*skips.md::line:4,bash FAILED*",
        "*skips.md::line:9,bash SKIPPED*",
        "SKIPPED [1] docs/skips.md:9: runs on your own machine with sudo",
        "*sbatch: command not found*",
    ])


def test_python_blocks_run_with_the_shells_python3(pytester):
    result = run_pages(pytester, "python.md")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines([
        "*docs/python.md:17: ```python block failed (the shell's python3): exit status 1",
        "*failing on purpose with 3 numbers",
    ])


def test_macros_render_and_failures_point_at_source_lines(pytester):
    result = run_pages(pytester, "macros.md")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([
        "*docs/macros.md:14: ```bash block failed at page line 16: `false` exited with status 1",
        "block:",
        '  15 | echo "/scratch/project_465000123"',
        "  16 | false",
    ])


def test_unrunnable_fence_fails_unless_skipped(pytester):
    result = run_pages(pytester, "unrunnable.md")
    result.stdout.fnmatch_lines_random([
        "*docs/unrunnable.md:3: no runner for a ```text block*",
        "*unrunnable.md::line:8,text FAILED*",  # --on-host lifts the OFF_LUMI skip
        "*unrunnable.md::line:13,text SKIPPED*",
        "*docs/unrunnable.md:19: no runner for a ```ini block*",
    ])


def test_indented_code_and_raw_pre_blocks_fail_like_unrunnable_fences(pytester):
    result = run_pages(pytester, "unfenced.md")
    result.assert_outcomes(passed=1, failed=4)
    advice = "write it as a fenced block (```bash, ```console, ```python or a titled file) so the snippet run checks it"
    result.stdout.fnmatch_lines_random([
        f"*docs/unfenced.md:5: an indented code block is neither run nor checked: {advice}",
        f"*docs/unfenced.md:10: an indented code block is neither run nor checked: {advice}",
        f"*docs/unfenced.md:12: a raw <pre> block is neither run nor checked: {advice}",
        "*docs/unfenced.md:18: no runner for a ```html block*",
    ])


def test_line_map_follows_a_macro_that_spans_many_lines():
    source = "a\n{{ tree() }}\nb\n```bash\necho {{ x }}\n```\n"
    rendered = "a\n<div>\n<p>one</p>\n<p>two</p>\n</div>\nb\n```bash\necho 1\n```\n"
    mapping = line_map(source, rendered)
    assert mapping[:6] == [1, 2, 2, 2, 2, 3]
    assert mapping[6:9] == [4, 5, 6]


def test_console_parsing_and_wildcards():
    commands = parse_console("$ echo a \\\n  b\na b\n$ for i in 1; do\n> echo $i\n> done\n1\n")
    assert [c.command for c in commands] == ["echo a \\\n  b", "for i in 1; do\necho $i\ndone"]
    assert [c.command for c in parse_console("(my-venv) $ pip list\n...\n")] == ["pip list"]
    assert output_matches(["a", "...", "z"], ["a", "z"])
    assert output_matches(["...", "end"], ["x"] * 5000 + ["end"])
    assert not output_matches(["a", "...", "z"], ["a", "b"])
    assert output_matches(["Python 3..."], ["Python 3.11.7  ", ""])


def test_shell_survives_a_failing_block_and_reports_death(tmp_path):
    shell = PersistentShell(["bash"], cwd=str(tmp_path))
    try:
        assert shell.run("false; echo no").status == 1
        assert shell.run("set -e; false; echo no").output == ""  # the block's own set -e
        assert shell.run("echo alive").output == "alive\n"
        assert shell.run("printf 'no newline'").output == "no newline"
        with pytest.raises(BlockTimeout):
            shell.run("sleep 30", timeout=0.5)
        with pytest.raises(ShellDead, match="time-out"):
            shell.run("echo after")
    finally:
        shell.close()


def test_failure_inside_a_shell_function_names_the_blocks_own_line(tmp_path):
    # Lmod's `module` is a shell function: its failure must name the page's line,
    # not the function's last command (`return $__lmod_my_status`).
    shell = PersistentShell(["bash"], cwd=str(tmp_path))
    try:
        shell.run("module() { local status=1; return $status; }")
        result = shell.run("echo one\n\nmodule load cray-pyhton\necho not reached")
        assert (result.status, result.failed_command, result.output) == (1, "module load cray-pyhton", "one\n")
        assert shell.run("echo x\n( cd /; false )").failed_command == "( cd /; false )"
        assert shell.run("for i in 1; do\n  false\ndone").failed_command == "  false"
    finally:
        shell.close()


def test_container_that_cannot_start_is_an_error_with_the_reason(tmp_path, monkeypatch):
    node = types.ModuleType("broken_lumi_node")

    class LumiNodeError(Exception):
        pass

    def check_can_start():
        raise LumiNodeError("user namespaces are disabled on this machine")

    node.LumiNodeError, node.check_can_start = LumiNodeError, check_can_start
    monkeypatch.setitem(sys.modules, "broken_lumi_node", node)
    runtime = SnippetRuntime(on_host=False, timeout=5, make_page_dir=lambda name: tmp_path / name,
                             node_module="broken_lumi_node")
    page = types.SimpleNamespace(display_path="docs/index.md", source="")
    for _ in range(2):  # the second page gets the same reason without another attempt
        with pytest.raises(ShellUnavailable, match="cannot start: user namespaces are disabled"):
            runtime.start_shell(page)


@pytest.mark.skipif(importlib.util.find_spec("tests.lumi_node") is None,
                    reason="tests/lumi_node.py (the LUMI node container) is not in this tree")
def test_pages_run_in_the_lumi_node_container(pytester):
    result = run_pages(pytester, "state.md", "python.md", args=())
    result.assert_outcomes(passed=6, failed=1)


def test_only_pages_with_the_network_marker_get_network(tmp_path, monkeypatch):
    calls = []
    node = types.ModuleType("recording_lumi_node")
    node.LumiNodeError = type("LumiNodeError", (Exception,), {})
    node.check_can_start = node.ensure_image = lambda: None

    def shell_argv(home, work, network=False):
        calls.append(network)
        return ["bash"]

    node.shell_argv = shell_argv
    monkeypatch.setitem(sys.modules, "recording_lumi_node", node)
    runtime = SnippetRuntime(on_host=False, timeout=5, make_page_dir=lambda name: tmp_path / name,
                             node_module="recording_lumi_node")
    try:
        for name, source in [("a.md", "# A\n<!-- snippets: network (pip) -->\n"), ("b.md", "# B\n")]:
            page = types.SimpleNamespace(display_path=f"docs/{name}", source=source)
            assert runtime.start_shell(page).run("pwd").output.strip().endswith(f"{name[0]}/work")
    finally:
        runtime.close_all()
    assert calls == [True, False]


def test_a_macro_error_fails_the_page_with_its_line(pytester):
    result = run_pages(pytester, "bad_macro.md")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*bad_macro.md:6: macro error: UndefinedError: *no_such_fact*"])


def _summary(result):
    """Outcome counts and the short summary lines, which must not depend on how tests are spread."""
    # A FAILED line ends in the message cut to the terminal's width: compare up to it.
    lines = [line.split(" - ")[0] for line in result.stdout.lines
             if line.startswith(("SKIPPED [", "FAILED ", "ERROR "))]
    outcomes = result.parseoutcomes()
    outcomes.pop("seconds", None)
    return outcomes, sorted(lines)


def test_parallel_pages_count_and_report_like_a_serial_run(pytester):
    pages = ("skips.md", "skip_range.md", "state.md", "console.md", "failing.md")
    serial = run_pages(pytester, *pages)
    parallel = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-ra", "-v", "--on-host",
                                            "-n", "2", "--dist", "loadfile")
    assert "2 workers" in parallel.stdout.str()
    assert _summary(parallel) == _summary(serial)
    assert _summary(serial)[0] == {"passed": 8, "skipped": 3, "failed": 4}


def _changed_lines(before, after):
    return [(number, old, new) for number, (old, new)
            in enumerate(zip(before.split("\n"), after.split("\n")), start=1) if old != new]


def test_update_output_rewrites_only_the_failing_block_and_the_page_passes_again(pytester):
    page = pytester.path / "docs" / "console.md"
    first = run_pages(pytester, "console.md", args=("--on-host", "--update-output"))
    first.assert_outcomes(passed=1, failed=1)
    first.stdout.fnmatch_lines([
        "*docs/console.md:16: --update-output rewrote this console block's expected output*",
        "  --- */docs/console.md (before)",
        "  +++ */docs/console.md (after)",
        "  @@ -17,3 +17,3 @@",
        "   $ printf 'alpha\\nbeta\\n'",
        "   alpha",
        "  -gamma",
        "  +beta",
    ])
    before = (FIXTURES / "console.md").read_text(encoding="utf-8")
    after = page.read_text(encoding="utf-8")
    assert _changed_lines(before, after) == [(19, "gamma", "beta")]
    assert len(after.split("\n")) == len(before.split("\n"))
    again = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--on-host")
    again.assert_outcomes(passed=2)


FACT_PAGE = """# Facts in console blocks

```console
$ echo "cotainr {{ lumi.cotainr.version }} is here"
cotainr {{ lumi.cotainr.version }} is here
$ echo "loaded {{ lumi.cotainr.version }} now"; echo and more
loaded nothing
```

```console
$ echo "{{ lumi.cray_python.version }}"
nothing
```
"""


def test_update_output_keeps_facts_as_templates_or_reports_the_block(pytester):
    (pytester.path / "docs").mkdir()
    page = pytester.path / "docs" / "facts.md"
    # The second block's value is that of several facts and the page does not say which:
    # it must be reported, not written as a number.
    page.write_text(FACT_PAGE.replace('"{{ lumi.cray_python.version }}"', "3.11.7"), encoding="utf-8")
    result = run_pages(pytester, args=("--on-host", "--update-output"))
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines_random([
        "*docs/facts.md:3: --update-output rewrote*",
        "*docs/facts.md:10: --update-output did not rewrite this block: the output line '3.11.7' "
        "holds '3.11.7', the value of lumi.cray_python.by_stack*",
    ])
    text = page.read_text(encoding="utf-8")
    assert "loaded {{ lumi.cotainr.version }} now\nand more\n```" in text
    assert "$ echo 3.11.7\nnothing\n" in text
    again = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--on-host")
    again.assert_outcomes(passed=1, failed=1)


def test_a_blocks_own_timeout_overrides_the_sessions(pytester):
    result = run_pages(pytester, "options_timeout.md", args=("--on-host", "--snippet-timeout", "1"))
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([
        "*docs/options_timeout.md:9: stopped after the time-out of 1 s*<!-- run: next timeout=SECONDS -->*",
    ])


def test_retries_rerun_a_failing_network_block(pytester):
    result = run_pages(pytester, "options_retries.md")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([
        "*docs/options_retries.md:13: ```bash block failed*`false` exited with status 1",
        "*(failed 2 times: the block's retries=1 are used up)",
    ])


def test_bad_run_comments_fail_with_their_line_and_keep_skips_in_place(pytester):
    result = run_pages(pytester, "options_bad.md")
    # The two bad comments and the dangling one fail; the first block runs, the second is skipped.
    result.assert_outcomes(passed=1, skipped=1, failed=3)
    result.stdout.fnmatch_lines_random([
        "*docs/options_bad.md:3: retries are for blocks that use the network: mark the page with*",
        "*docs/options_bad.md:9: unknown option 'speed=fast' (known: timeout=SECONDS, retries=N)",
        "*docs/options_bad.md:14: no fenced block follows this `run:` comment",
        "SKIPPED [1] docs/options_bad.md:10: shows a skip with a bad run comment",
    ])
