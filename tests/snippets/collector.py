"""The Sybil configuration for the guide's pages, shared by the root conftest.py and the tests."""

from pathlib import Path

from sybil import Sybil

from .block_options import OptionsChecker
from .evaluators import close_page_shell, evaluate_snippet
from .page_render import RenderedDocument
from .parsers import ReasonedSkipParser, SnippetParser
from .unfenced import UnfencedCodeParser

# Names put into each page's namespace: the session's runtime, and OFF_LUMI for skip conditions.
FIXTURES = ["snippet_runtime", "OFF_LUMI"]


class SnippetSybil(Sybil):
    """Sybil whose test ids say what each example is: `line:42,bash`, `line:41,skip`."""

    def identify(self, example):
        parsed = example.parsed
        kind = getattr(parsed, "language", None) or ("skip" if isinstance(parsed, tuple) else "check")
        return f"line:{example.line},{kind}"


def make_sybil(docs_dir):
    """A Sybil collecting every Markdown page under `docs_dir` (an absolute path or Path)."""
    return SnippetSybil(
        parsers=[ReasonedSkipParser(), SnippetParser(evaluate_snippet),
                 UnfencedCodeParser(RenderedDocument.renderer.mkdocs_config), OptionsChecker()],
        path=str(Path(docs_dir).resolve()),
        # PurePath.match works from the right, so this takes pages at any depth.
        patterns=["*.md"],
        fixtures=FIXTURES,
        teardown=close_page_shell,
        document_types={".md": RenderedDocument},
    )


def parse_page(path, docs_dir=None):
    """A page parsed the way the test run parses it (for checks that do not run anything)."""
    path = Path(path).resolve()
    return make_sybil(docs_dir or path.parent).parse(path)
