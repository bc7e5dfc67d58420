"""Root pytest configuration: every fenced block in docs/ is executed by Sybil (tests/snippets/).

`pytest docs` runs the page snippets in the LUMI node container (tests/lumi_node.py);
`pytest docs --on-host` runs them in this machine's bash (a real LUMI login node), where
`skip: next if(OFF_LUMI, ...)` marks are lifted. `--snippet-timeout SECONDS` (default 300)
stops a block that hangs. A page's shell has network access only if the page contains
`<!-- snippets: network -->`. The conventions are in tests/snippets/parsers.py.
The collector must live here: a collector in tests/conftest.py would not see docs/.
"""

import sys
from pathlib import Path

from tests.snippets.collector import make_sybil
# Imported here so pytest registers these fixtures and the report hook for docs/.
from tests.snippets.plugin import (  # noqa: F401
    add_options, off_lumi, pytest_collection_modifyitems, pytest_runtest_makereport,
    snippet_runtime)

# pytester drives the snippet runner's own tests (tests/test_snippet_runner.py).
pytest_plugins = ["pytester"]

DOCS_DIR = Path(__file__).resolve().parent / "docs"


def pytest_addoption(parser):
    add_options(parser)


def pytest_sessionstart(session):
    """On LUMI (--on-host), first show how the live system differs from the snapshot."""
    # Once, in the controlling process: pytest-xdist workers have `workerinput`.
    if session.config.getoption("on_host") and not hasattr(session.config, "workerinput"):
        from tests.snippets.live_probe import report
        report(lambda text: print(text, end="", file=sys.stderr))


pytest_collect_file = make_sybil(DOCS_DIR).pytest()
