"""Tests for the terminal walker: --paths, the interactive mode in a pseudo-terminal, Python 3.6, the build."""

import json
import os
import signal
import subprocess
import sys

import pexpect
import pytest

from macros.decision_tree import all_paths, load_tree
from macros.walker import WALKER_PATH, render_walker
from site_copy import build, copy_site, replace_once

SITE_URL = "https://example.org/guide/"
TIMEOUT = 20


@pytest.fixture(scope="module")
def tree():
    return load_tree()


@pytest.fixture(scope="module")
def walker(tree, tmp_path_factory):
    path = tmp_path_factory.mktemp("walker") / "lumi-python-advisor.py"
    path.write_text(render_walker(tree, SITE_URL), encoding="utf-8")
    return path


def run(walker, *args, stdin="", env=None):
    return subprocess.run([sys.executable, str(walker), *args], input=stdin, capture_output=True,
                          text=True, timeout=TIMEOUT, env=env)


def spawn(walker):
    # A user's terminal delivers Ctrl-C. Started from a background job or `nohup`, the test
    # run itself may ignore SIGINT, and an ignored signal stays ignored across exec (Python
    # keeps it so), so the walker starts with the default disposition, as from a terminal.
    child = pexpect.spawn(sys.executable, [str(walker)], encoding="utf-8", timeout=TIMEOUT,
                          env=dict(os.environ, TERM="dumb"),
                          preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    return child


def answer_numbers(tree, path):
    """The numbers a user types to follow `path` (from all_paths) through the tree."""
    numbers, node_id = [], tree["root"]
    for step in path["answers"]:
        node = tree["nodes"][node_id]
        assert node["question"] == step["question"]
        labels = [a["label"] for a in node["answers"]]
        number = labels.index(step["answer"])
        numbers.append(number + 1)
        node_id = node["answers"][number]["next"]
    assert node_id == path["recommendation"]["id"]
    return numbers


def expect_question(child, tree, node_id):
    child.expect_exact(tree["nodes"][node_id]["question"])
    child.expect_exact("Your answer [")


# ------------------------------------------------------------------ --paths

def test_paths_option_prints_all_paths(tree, walker):
    result = run(walker, "--paths")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == all_paths(tree, SITE_URL)


def test_walker_defaults_to_the_site_url_of_mkdocs_yml(tree, tmp_path):
    path = tmp_path / "advisor.py"
    path.write_text(render_walker(tree))
    assert json.loads(run(path, "--paths").stdout) == all_paths(tree)


def test_piped_answers_follow_every_path(tree, walker):
    for path in all_paths(tree, SITE_URL):
        typed = "".join(f"{n}\n" for n in answer_numbers(tree, path))
        result = run(walker, stdin=typed)
        assert result.returncode == 0, result.stdout
        assert f"=> {path['recommendation']['title']} (" in result.stdout
        assert f"Read more: {path['recommendation']['url']}" in result.stdout


def test_bad_argument_is_a_usage_error(walker):
    result = run(walker, "--nope")
    assert result.returncode == 2
    assert "unrecognized arguments: --nope" in result.stderr


def test_non_ascii_text_survives_an_ascii_terminal(tmp_path):
    tiny = {"root": "q", "nodes": {
        "q": {"id": "q", "question": "Näin?", "answers": [{"label": "Kyllä – yes", "next": "r"},
                                                         {"label": "Ei", "next": "r"}]},
        "r": {"id": "r", "recommendation": {"kind": "recommended", "title": "Käytä “cotainr”",
                                            "when": "aina", "why": "siksi", "link": "index.md",
                                            "url": "", "commands": ["echo é"]}}}}
    path = tmp_path / "advisor.py"
    path.write_text(render_walker(tiny, SITE_URL), encoding="utf-8")
    result = run(path, stdin="1\n", env=dict(os.environ, PYTHONIOENCODING="ascii"))
    assert result.returncode == 0, result.stderr
    assert "K?yt? ?cotainr?" in result.stdout


# ------------------------------------------------- interactive (a real pty)

def test_interactive_walk_of_the_longest_path(tree, walker):
    path = max(all_paths(tree, SITE_URL), key=lambda p: len(p["answers"]))
    leaf_id = path["recommendation"]["id"]
    leaf = tree["nodes"][leaf_id]["recommendation"]
    child = spawn(walker)
    node_id = tree["root"]
    for number in answer_numbers(tree, path):
        expect_question(child, tree, node_id)
        child.sendline(str(number))
        node_id = tree["nodes"][node_id]["answers"][number - 1]["next"]
    child.expect_exact(f"=> {leaf['title']}")
    child.expect_exact(leaf["why"])
    for command in leaf["commands"]:
        child.expect_exact(command.splitlines()[0])
    child.expect_exact(f"Read more: {path['recommendation']['url']}")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_out_of_range_and_junk_answers_ask_again(tree, walker):
    child = spawn(walker)
    root = tree["nodes"][tree["root"]]
    expect_question(child, tree, tree["root"])
    child.sendline(str(len(root["answers"]) + 1))
    child.expect_exact(f"is not an answer: type a number from 1 to {len(root['answers'])}, b or q.")
    child.sendline("yes")
    child.expect_exact("'yes' is not an answer")
    child.sendline("0")
    child.expect_exact("'0' is not an answer")
    child.sendline("1")
    child.expect_exact("=> " if "recommendation" in tree["nodes"][root["answers"][0]["next"]] else "2. ")
    child.close(force=True)


def test_back_returns_to_the_previous_question(tree, walker):
    root = tree["nodes"][tree["root"]]
    number, first_answer = next((i, a) for i, a in enumerate(root["answers"], 1)
                                if "question" in tree["nodes"][a["next"]])
    child = spawn(walker)
    child.expect_exact("Your answer [")
    child.sendline("b")
    child.expect_exact("This is the first question; there is nothing to go back to.")
    child.sendline(str(number))
    expect_question(child, tree, first_answer["next"])
    child.sendline("b")
    child.expect_exact("1. " + root["question"])
    child.sendline("q")
    child.expect_exact("Quit without a recommendation.")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 1


def test_end_of_input_exits_with_code_2(tree, walker):
    child = spawn(walker)
    expect_question(child, tree, tree["root"])
    child.sendeof()
    child.expect_exact("Input ended before a recommendation")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 2


def test_ctrl_c_exits_with_code_130(walker):
    child = spawn(walker)
    child.expect_exact("Your answer [")
    child.sendintr()
    child.expect_exact("Interrupted.")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130


# ----------------------------------------------------------- Python 3.6

def vermin(path):
    return subprocess.run([os.path.join(os.path.dirname(sys.executable), "vermin"),
                           "-t=3.6-", "--no-tips", "--violations", "--eval-annotations", str(path)],
                          capture_output=True, text=True, timeout=60)


def test_walker_needs_nothing_newer_than_python_3_6(walker):
    result = vermin(walker)
    assert result.returncode == 0, result.stdout + result.stderr


def test_vermin_check_catches_newer_syntax(tmp_path):
    newer = tmp_path / "newer.py"
    newer.write_text("import sys\nif (n := len(sys.argv)) > 1:\n    print(n)\n")
    result = vermin(newer)
    assert result.returncode != 0
    assert "3.8" in result.stdout


# -------------------------------------------------------------- the build

def test_build_writes_the_walker_into_the_site(tree, tmp_path):
    site = tmp_path / "site"
    result = build(copy_site(tmp_path / "project"), site)
    assert result.returncode == 0, result.stdout + result.stderr
    built = site / WALKER_PATH
    assert os.access(built, os.X_OK)
    assert built.read_text(encoding="utf-8") == render_walker(tree)
    assert json.loads(run(built, "--paths").stdout) == all_paths(tree)


@pytest.mark.parametrize("old, new, problem", [
    ("  - id: csc-stack\n", "  - id: csc-user\n", "node 'csc-user': duplicate id"),
    ("        next: install-habit\n", "        next: install-habits\n",
     "'install-habits' is not the id of any node"),
    ("next: container-plus-venv\n      - label: \"{{ lumi.few_packages }} or more\"\n        next: extend-container",
     "next: container-plus-venv\n      - label: \"{{ lumi.few_packages }} or more\"\n        next: existing-container",
     # The root asks about GPUs first; the search meets extra-on-container (from a GPU
     # question) before existing-container, so the loop is reported from there.
     "cycle: extra-on-container -> existing-container -> extra-on-container"),
    ("link: software/local/csc.md", "link: software/local/csc.md#no-such-section",
     "no element with id 'no-such-section'"),
])
def test_broken_data_stops_the_build_with_one_line(tmp_path, old, new, problem):
    project = copy_site(tmp_path / "project")
    replace_once(project / "data" / "decision_tree.yaml", old, new)
    result = build(project, tmp_path / "site")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    errors = [line for line in output.splitlines() if problem in line]
    assert len(errors) == 1, output
    assert errors[0].startswith("ERROR") and "decision_tree.yaml:" in errors[0], output
    assert "Traceback" not in output, output
