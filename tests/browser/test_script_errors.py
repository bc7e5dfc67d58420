"""A broken script of ours is reported by the browser tests as one line naming its source file and line."""

import pytest

from script_errors import errors_of, watch

PAGE = "software/installing/python/"
SCRIPT = "overrides/assets/javascripts/decision-tree.js"


def load_with_script(browser, base_url, site_dir, edit):
    """Load the widget's page with decision-tree.js changed by `edit(lines)`; return the errors seen."""
    lines = (site_dir / "assets/javascripts/decision-tree.js").read_text(encoding="utf-8").split("\n")
    number = edit(lines)
    context = browser.new_context()
    try:
        page = watch(context.new_page())
        page.route("**/assets/javascripts/decision-tree.js",
                   lambda route: route.fulfill(body="\n".join(lines), content_type="text/javascript"))
        page.goto(base_url + PAGE, wait_until="load")
        return number, errors_of(page)
    finally:
        context.close()


def break_syntax(lines):
    index = next(i for i, line in enumerate(lines) if "var PREFIX" in line)
    lines[index] = lines[index].rstrip(";") + " + foo(;"
    return index + 1


def break_at_run_time(lines):
    index = next(i for i, line in enumerate(lines) if "var PREFIX" in line)
    lines.insert(index + 1, "  window.noSuchObject.method();")
    return index + 2


def test_a_syntax_error_names_the_source_file_and_line(browser, base_url, site_dir):
    line, errors = load_with_script(browser, base_url, site_dir, break_syntax)
    assert errors.lines == [f"{SCRIPT}:{line}: SyntaxError: Unexpected token ';'"]
    with pytest.raises(pytest.fail.Exception, match=rf"^{SCRIPT}:{line}: SyntaxError: .* \[JavaScript error on load\]$"):
        errors.fail_if_any("on load")


def test_a_runtime_error_names_the_source_file_and_line(browser, base_url, site_dir):
    line, errors = load_with_script(browser, base_url, site_dir, break_at_run_time)
    assert errors.lines == [f"{SCRIPT}:{line}: TypeError: Cannot read properties of undefined (reading 'method')"]


def test_the_real_script_logs_no_error(browser, base_url, site_dir):
    _, errors = load_with_script(browser, base_url, site_dir, lambda lines: None)
    assert errors.lines == []
