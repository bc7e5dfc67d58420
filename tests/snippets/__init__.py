"""Runs every fenced block of the guide's pages with Sybil, one persistent shell per page.

How it works (module by module):
- page_render: renders each page with the site's own mkdocs-macros setup and maps rendered
  lines back to source lines, so failures name the source page:line.
- parsers: every fence becomes a Snippet (shell, console, python, file or unrunnable);
  skip comments must carry a condition and a reason; `<!-- snippets: network -->` marks a
  page whose shell may reach PyPI.
- persistent_shell: one bash per page fed over stdin, sentinels on stdout, errexit-like
  failure per block, time-outs that kill the shell instead of hanging.
- console: `$ command` / expected-output matching with `...` wildcards.
- file_checks: YAML/Python/shell/JSON/TOML checks for titled file blocks.
- runtime: per-page HOME and work directory; container (tests/lumi_node.py) or --on-host.
- evaluators: glue between a Sybil example and the page's shell; failure reports (reports).
- collector / plugin: the Sybil object and the pytest options and fixtures that the root
  conftest.py wires in.
- coverage: an independent scan of every fence, used by tests/test_fence_coverage.py.
"""
