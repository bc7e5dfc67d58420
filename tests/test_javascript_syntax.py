"""Our own scripts parse: a syntax error fails in seconds as `file:line: SyntaxError: ...`, before any browser starts."""

import pytest

from js_syntax import own_scripts, shown, syntax_problem


@pytest.mark.parametrize("script", own_scripts(), ids=shown)
def test_script_parses(script):
    problem = syntax_problem(script)
    assert problem is None, problem


def test_the_scripts_are_found():
    assert "overrides/assets/javascripts/decision-tree.js" in [shown(s) for s in own_scripts()]


def test_a_syntax_error_is_one_line_with_file_and_line(tmp_path):
    broken = tmp_path / "decision-tree.js"
    lines = (own_scripts()[0].parent / "decision-tree.js").read_text(encoding="utf-8").splitlines()
    # An unclosed call on the line of `var PREFIX = ...`: Node notices it on the next statement.
    index = next(i for i, line in enumerate(lines) if "var PREFIX" in line)
    lines[index] = lines[index].rstrip(";") + " + foo(;"
    broken.write_text("\n".join(lines) + "\n", encoding="utf-8")
    problem = syntax_problem(broken)
    assert problem == f"{broken}:{index + 1}: SyntaxError: Unexpected token ';'"
