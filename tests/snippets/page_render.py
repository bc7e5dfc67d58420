"""Render a page through the site's own mkdocs-macros setup, and keep pointing at source lines.

How it works: `MacroRenderer` loads the real mkdocs.yml and runs the macros plugin's
`on_config` (which calls macros/define_env), then renders each page with the plugin's
`on_page_markdown`, exactly as `mkdocs build` does: same variables, macros, filters and
front-matter handling. A macro may turn one source line into many (or a Jinja loop many
into few), so `line_map` aligns rendered lines with source lines (difflib on whole lines:
unchanged lines map exactly; a changed stretch maps to its first source line, or
line-for-line when the line counts agree). `RenderedDocument` is the Sybil Document
that parsers see: its text is the rendered page, and every example, error and region
reports the line of the source page.
"""

import difflib
import os
from pathlib import Path

from sybil import Document, Example, Region

REPO_ROOT = Path(__file__).resolve().parents[2]
MKDOCS_CONFIG = REPO_ROOT / "mkdocs.yml"


class RenderError(Exception):
    """A page's macros do not render; the message names the page and, when known, the line."""


def display_path(path):
    """The path as a reader types it: relative to the repository when inside it."""
    path = Path(path).resolve()
    try:
        return str(path.relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


class MacroRenderer:
    """The macros plugin of mkdocs.yml, configured once, rendering one page at a time."""

    def __init__(self, config_file=MKDOCS_CONFIG):
        self.config_file = Path(config_file)
        self._config = None
        self._plugin = None

    def _setup(self):
        if self._plugin is not None:
            return
        os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
        from mkdocs.config import load_config

        config = load_config(str(self.config_file))
        plugin = config.plugins.get("macros")
        if plugin is None:
            raise RenderError(f"{display_path(self.config_file)}: no `macros` plugin configured")
        try:
            plugin.on_config(config)
        except Exception as err:  # a broken data file or macro module: say which, once
            raise RenderError(f"{display_path(self.config_file)}: the macros plugin does not load: "
                              f"{err}") from None
        self._config, self._plugin = config, plugin

    def mkdocs_config(self):
        """The loaded mkdocs.yml (its markdown_extensions also decide what counts as code)."""
        self._setup()
        return self._config

    def render(self, path, source):
        """The page text after macros, as the site build would see it."""
        self._setup()
        from mkdocs.structure.files import File
        from mkdocs.structure.pages import Page
        from mkdocs.utils.meta import get_data

        path = Path(path).resolve()
        docs_dir = Path(self._config["docs_dir"]).resolve()
        try:
            src_path = str(path.relative_to(docs_dir))
            src_dir = docs_dir
        except ValueError:
            src_path, src_dir = path.name, path.parent
        page = Page(None, File(src_path, str(src_dir), self._config["site_dir"],
                               self._config["use_directory_urls"]), self._config)
        markdown, page.meta = get_data(source)
        page.markdown = markdown
        try:
            return self._plugin.on_page_markdown(markdown, page=page, config=self._config,
                                                 files=None)
        except (SystemExit, Exception) as err:
            # on_error_fail makes the plugin call exit(); render again to learn why.
            raise RenderError(self._explain(path, source, markdown, err)) from None

    def _explain(self, path, source, markdown, first_error):
        variables = dict(self._plugin.variables)
        variables.update(getattr(self._plugin.variables.get("page"), "meta", None) or {})
        error, line = first_error, None
        try:
            self._plugin.env.from_string(markdown).render(**variables)
        except Exception as err:
            error = err
            line = getattr(err, "lineno", None) or template_line(err)
        if line is not None:
            # The template is the page without its front matter.
            line += source.count("\n") - markdown.count("\n")
            where = f"{display_path(path)}:{line}"
        else:
            where = display_path(path)
        return f"{where}: macro error: {type(error).__name__}: {error}"


def template_line(error):
    """The template line a Jinja runtime error happened on, from its traceback."""
    line = None
    tb = error.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def line_map(source, rendered):
    """For each rendered line (index from 0), the 1-based source line it came from."""
    src_lines, out_lines = source.split("\n"), rendered.split("\n")
    mapping = [1] * len(out_lines)
    matcher = difflib.SequenceMatcher(None, src_lines, out_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        for k, j in enumerate(range(j1, j2)):
            if tag == "equal" or (i2 - i1) == (j2 - j1):
                mapping[j] = i1 + k + 1
            else:
                # A macro grew or shrank this stretch: point at where it starts.
                mapping[j] = min(i1, len(src_lines) - 1) + 1
    return mapping


class RenderedDocument(Document):
    """A Sybil document whose text is the rendered page but whose lines are the source's."""

    renderer = MacroRenderer()

    def __init__(self, text, path, source=None):
        super().__init__(text, path)
        self.source = text if source is None else source
        self.display_path = display_path(path)
        self._rendered_to_source = line_map(self.source, text)

    @classmethod
    def parse(cls, path, *parsers, encoding="utf-8"):
        source = Path(path).read_text(encoding=encoding)
        try:
            rendered = cls.renderer.render(path, source)
        except RenderError as err:
            return cls._failed(path, source, str(err))
        document = cls(rendered, path, source)
        for parser in parsers:
            for region in parser(document):
                document.add(region)
        return document

    @classmethod
    def _failed(cls, path, source, message):
        """A document with one example that fails with `message`: a clean report, not a crash."""
        document = cls(source, path, source)
        document.add(Region(0, 0, parsed=message, evaluator=lambda example: example.parsed))
        return document

    def source_line(self, position):
        """The 1-based source line of a position in the rendered text."""
        rendered_line = self.text.count("\n", 0, position)
        return self._rendered_to_source[min(rendered_line, len(self._rendered_to_source) - 1)]

    def line_column(self, position):
        col = position - self.text.rfind("\n", 0, position)
        return f"line {self.source_line(position)}, column {col}"

    def examples(self):
        for _, region in self.regions:
            column = region.start - self.text.rfind("\n", 0, region.start)
            yield Example(self, self.source_line(region.start), column, region, self.namespace)
