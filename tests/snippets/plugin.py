"""pytest glue for the snippet runner: options, session fixtures, and skip locations as page:line."""

import contextlib

import pytest

from .runtime import SnippetRuntime

DEFAULT_TIMEOUT = 300.0


def add_options(parser):
    """--on-host, --snippet-timeout and --update-output (called from the root conftest's pytest_addoption)."""
    group = parser.getgroup("snippets", "running the examples in docs/")
    group.addoption("--on-host", action="store_true", default=False,
                    help="run page snippets in this machine's bash (a real LUMI login node) instead "
                         "of the LUMI node container; lifts skip: next if(OFF_LUMI, ...)")
    group.addoption("--snippet-timeout", type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                    help=f"stop a snippet block after this many seconds (default {DEFAULT_TIMEOUT:g})")
    group.addoption("--update-output", action="store_true", default=False,
                    help="write the output of failing ```console commands into their pages as the "
                         "new expected output (facts stay {{ lumi.* }} templates) and show the diff")


@pytest.fixture(scope="session")
def snippet_runtime(request, tmp_path_factory):
    """Starts one shell per page (host or container) and ends them all after the session."""
    runtime = SnippetRuntime(
        on_host=request.config.getoption("on_host"),
        timeout=request.config.getoption("snippet_timeout"),
        make_page_dir=lambda name: tmp_path_factory.mktemp(name, numbered=True),
        uncaptured=_uncaptured(request.config),
    )
    runtime.update_output = request.config.getoption("update_output")
    yield runtime
    runtime.close_all()


def _uncaptured(config):
    """A context manager that lets output through pytest's capture (for the image build)."""
    capture = config.pluginmanager.getplugin("capturemanager")
    return capture.global_and_fixture_disabled if capture else contextlib.nullcontext


@pytest.fixture(scope="session", name="OFF_LUMI")
def off_lumi(request):
    """True unless --on-host: `skip: next if(OFF_LUMI, ...)` skips what needs the real LUMI."""
    return not request.config.getoption("on_host")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Report a skipped snippet at its page and line, not inside Sybil's or pytest's code."""
    report = yield
    example = getattr(item, "example", None)
    if report.skipped and example is not None and isinstance(report.longrepr, tuple):
        reason = str(report.longrepr[2]).removeprefix("Skipped: ")
        report.longrepr = (example.path, example.line, reason)
    return report


def pytest_collection_modifyitems(items):
    """Skip comments are not tests: each one runs as part of the block it governs.

    Sybil makes every `<!-- skip: ... -->` comment an example of its own that always
    passes, so the summary would count each skipped block once as SKIPPED and once more
    as a pass. Here a comment is taken out of the item list and evaluated right before
    the next block of the same page, which is then reported SKIPPED (or runs, when the
    condition is false). A comment with nothing after it on its page stays an item.
    """
    kept, pending = [], []
    for item in items:
        example = getattr(item, "example", None)
        if example is not None and _is_skip_comment(example):
            pending.append(item)
            continue
        same_page = pending and example is not None and example.document is pending[0].example.document
        if same_page and isinstance(example.parsed, str):
            # A failing check between a skip comment and its block (a bad `run:` comment):
            # it stays an item, and the skip still goes with the block.
            kept.append(item)
            continue
        if same_page:
            _evaluate_first(item, [comment.example for comment in pending])
        else:
            kept.extend(pending)
        pending = []
        kept.append(item)
    items[:] = kept + pending


def _is_skip_comment(example):
    # ReasonedSkipParser's regions parse to (action, condition); a malformed comment
    # parses to its error message instead and stays an item of its own, which fails.
    return isinstance(example.parsed, tuple)


def _evaluate_first(item, comments):
    runtest = item.runtest

    def runtest_after_skip_comments():
        for example in comments:
            example.evaluate()
        runtest()

    item.runtest = runtest_after_skip_comments
