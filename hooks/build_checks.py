"""MkDocs hook: runs macros/build_checks.py on every page so bad input fails the build in one line."""

import logging
import sys
from copy import copy
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.plugins import CombinedEvent, event_priority

# The hook file is loaded by path, so the project's `macros` package is not importable yet.
PROJECT_DIR = Path(__file__).resolve().parent.parent
if str(PROJECT_DIR) not in sys.path:
    sys.path.insert(0, str(PROJECT_DIR))

from macros import build_checks, snapshot_checks  # noqa: E402  (needs the sys.path line above)

# Under the "mkdocs" logger, so strict mode counts these warnings and aborts the build.
log = logging.getLogger("mkdocs.hooks.build_checks")


@event_priority(100)
def on_config(config):
    # `mkdocs build --strict -q` raises the "mkdocs" logger to ERROR, so warnings never
    # reach the handler that strict mode counts them with, and a broken link or anchor
    # passes. In strict mode a warning is fatal, so it stays visible and counted.
    mkdocs_log = logging.getLogger("mkdocs")
    if config.strict and mkdocs_log.level > logging.WARNING:
        mkdocs_log.setLevel(logging.WARNING)
    return config


@event_priority(100)  # before the macros plugin renders, so its traceback never happens
def _check_templates(markdown, page, config, files):
    macros = config.plugins.get("macros")
    if macros is None or not _macros_render(macros, page):
        return markdown
    # The same page context the plugin sets a moment later, so macros that read
    # env.page or env.variables["page"] behave as in the real render.
    macros._page = page
    macros.variables["page"] = copy(page)
    variables = copy(macros.variables)
    variables.update(page.meta or {})
    offset = build_checks.front_matter_lines(page.file.content_string, markdown)
    problem = build_checks.template_problem(macros.env, markdown, variables,
                                            f"docs/{page.file.src_path}", offset)
    if problem:
        raise PluginError(problem)
    return markdown


@event_priority(-100)  # after the macros plugin rendered the page
def _check_modules(markdown, page, config, files):
    """Every `module load` on the page must name what the system snapshot has."""
    macros = config.plugins.get("macros")
    snapshot = macros.variables.get("lumi_snapshot") if macros else None
    if snapshot is None:
        return markdown
    source = page.file.content_string
    for line, problem in snapshot_checks.module_problems(markdown, snapshot):
        at = snapshot_checks.source_line(source, markdown, line)
        raise PluginError(f"docs/{page.file.src_path}:{at}: {problem}")
    return markdown


on_page_markdown = CombinedEvent(_check_templates, _check_modules)


def on_page_content(html, page, config, files):
    source = page.file.content_string
    for label, text in build_checks.leftover_link_labels(html):
        line = build_checks.line_of(source, text) or build_checks.line_of(source, f"[{label}]")
        where = f"docs/{page.file.src_path}" + (f":{line}" if line else "")
        log.warning(f"{where}: undefined link label [{label}] (Markdown printed '{text}' as plain text)")
    return html


def _macros_render(macros, page):
    """Mirror the macros plugin's own decision whether to render this page."""
    wanted = (page.meta or {}).get("render_macros")
    if wanted is False:
        return False
    if macros.config["render_by_default"]:
        return True
    return wanted is True or macros.force_page_rendering(page.file.src_path)
