"""`<!-- off-lumi: "command" reason="..." -->` before a titled file: only that command is left out off LUMI."""

import pytest

from tests.snippets.off_lumi_lines import OffLumiError, apply, marks_before

PAGE = '''Text.

<!-- off-lumi: "python3 train.py" reason="needs GPUs" -->
```bash title="job.sh"
'''


def test_the_marked_command_becomes_an_echo_with_its_reason_and_the_rest_stays():
    marks = marks_before(PAGE, PAGE.rindex("```"))
    assert marks == [("python3 train.py", "needs GPUs")]
    script = "module load X\nsrun bash -c '\n  python3 train.py'\n"
    assert apply(script, marks) == \
        "module load X\nsrun bash -c '\n  echo \"python3 train.py not run off LUMI: needs GPUs\"'\n"


def test_a_command_the_file_lacks_fails():
    with pytest.raises(OffLumiError, match="names 'python3 train.py', which the file does not contain"):
        apply("true\n", [("python3 train.py", "needs GPUs")])


def test_a_comment_without_a_reason_fails():
    page = '<!-- off-lumi: "python3 train.py" -->\n```bash title="job.sh"\n'
    with pytest.raises(OffLumiError, match='needs "command" reason="why"'):
        marks_before(page, page.rindex("```"))


def test_a_comment_separated_by_text_does_not_apply():
    page = '<!-- off-lumi: "x" reason="y" -->\nSome text.\n```bash title="job.sh"\n'
    assert marks_before(page, page.rindex("```")) == []
