"""Tests for macros/decision_tree.py: loading, each validation error, paths, links, and the real data."""

import json
import re
from pathlib import Path

import jinja2
import pytest

from macros.data_files import DataFileError
from macros.decision_tree import (DOCS_DIR, TREE_FILE, all_paths, check_links, load_tree, page_url,
                                  site_url_of)
from macros.facts import load_facts

FACTS = {"cray_python": {"module": "cray-python"}}

# A small valid tree; each error test changes one thing in it.
VALID = """\
root: first
nodes:
  - id: first
    question: "Need {{ lumi.cray_python.module }}?"
    help: "A hint."
    answers:
      - label: "Yes"
        next: leaf-a
      - label: "No"
        next: second
  - id: second
    question: "Container?"
    answers:
      - label: "Yes"
        next: leaf-a
      - label: "No"
        next: leaf-b
  - id: leaf-a
    recommendation:
      kind: recommended
      title: "Use {{ lumi.cray_python.module }}"
      when: "always"
      why: "because"
      link: guide/page.md#a-section
      commands:
        - "module load {{ lumi.cray_python.module }}"
  - id: leaf-b
    recommendation:
      kind: discouraged
      title: "Do not"
      when: "never"
      why: "bad; do this instead"
      link: index.md
"""


@pytest.fixture
def docs(tmp_path):
    """A docs/ directory holding the two pages VALID links to."""
    docs_dir = tmp_path / "docs"
    (docs_dir / "guide").mkdir(parents=True)
    (docs_dir / "guide" / "page.md").write_text("# Page\n")
    (docs_dir / "index.md").write_text("# Home\n")
    return docs_dir


def load(tmp_path, docs, text):
    path = tmp_path / "tree.yaml"
    path.write_text(text)
    return load_tree(path, facts=FACTS, docs_dir=docs)


def changed(old, new, text=VALID):
    assert text.count(old) == 1, f"the test's base tree no longer holds {old!r} once"
    return text.replace(old, new)


def line_with(text, fragment, occurrence=1):
    """1-based line number of the n-th line of `text` containing `fragment`."""
    hits = [number for number, line in enumerate(text.splitlines(), 1) if fragment in line]
    return hits[occurrence - 1]


def expect_error(tmp_path, docs, text, line, *fragments):
    """Loading `text` fails with file:line and every fragment (node id, problem) in the message."""
    with pytest.raises(DataFileError) as caught:
        load(tmp_path, docs, text)
    message = str(caught.value)
    assert message.startswith(f"{tmp_path / 'tree.yaml'}:{line}: "), message
    for fragment in fragments:
        assert fragment in message, message
    assert "\n" not in message
    return message


# ------------------------------------------------------------------ loading

def test_valid_tree_loads_as_plain_data_with_rendered_facts(tmp_path, docs):
    tree = load(tmp_path, docs, VALID)
    assert tree["root"] == "first"
    assert list(tree["nodes"]) == ["first", "second", "leaf-a", "leaf-b"]
    first = tree["nodes"]["first"]
    assert first["question"] == "Need cray-python?"
    assert first["help"] == "A hint."
    assert first["answers"] == [{"label": "Yes", "next": "leaf-a"}, {"label": "No", "next": "second"}]
    leaf = tree["nodes"]["leaf-a"]["recommendation"]
    assert leaf["title"] == "Use cray-python"
    assert leaf["commands"] == ["module load cray-python"]
    assert leaf["url"] == "guide/page/#a-section"
    assert tree["nodes"]["leaf-b"]["recommendation"]["commands"] == []
    assert tree["nodes"]["leaf-b"]["recommendation"]["url"] == ""
    assert tree["lines"]["leaf-a/link"] == line_with(VALID, "link: guide/page.md")


@pytest.mark.parametrize("link, url", [
    ("software/containers/singularity.md#pulling", "software/containers/singularity/#pulling"),
    ("software/local/csc.md", "software/local/csc/"),
    ("index.md", ""),
    ("index.md#top", "#top"),
    ("guide/index.md", "guide/"),
])
def test_page_url_is_directory_form(link, url):
    assert page_url(link) == url


def test_all_paths_lists_every_path_in_answer_order(tmp_path, docs):
    tree = load(tmp_path, docs, VALID)
    site = "https://example.org/guide"
    assert all_paths(tree, site) == [
        {"answers": [{"question": "Need cray-python?", "answer": "Yes"}],
         "recommendation": {"id": "leaf-a", "title": "Use cray-python",
                            "url": "https://example.org/guide/guide/page/#a-section"}},
        {"answers": [{"question": "Need cray-python?", "answer": "No"},
                     {"question": "Container?", "answer": "Yes"}],
         "recommendation": {"id": "leaf-a", "title": "Use cray-python",
                            "url": "https://example.org/guide/guide/page/#a-section"}},
        {"answers": [{"question": "Need cray-python?", "answer": "No"},
                     {"question": "Container?", "answer": "No"}],
         "recommendation": {"id": "leaf-b", "title": "Do not", "url": "https://example.org/guide/"}},
    ]


def test_site_url_comes_from_mkdocs_yml(tmp_path):
    config = tmp_path / "mkdocs.yml"
    config.write_text("site_url: https://x.test/docs/\nplugins:\n  - offline:\n"
                      "      enabled: !ENV [OFFLINE, false]\n")
    assert site_url_of(config) == "https://x.test/docs/"
    config.write_text("site_name: no url\n")
    with pytest.raises(DataFileError, match="site_url is not set"):
        site_url_of(config)


# ---------------------------------------------------- each validation error

def test_invalid_yaml(tmp_path, docs):
    text = changed('    question: "Container?"', '    question: "Container?\n')
    expect_error(tmp_path, docs, text, line_with(text, "answers:", 2) + 1, "not valid YAML")


def test_empty_file(tmp_path, docs):
    with pytest.raises(DataFileError) as caught:
        load(tmp_path, docs, "# nothing yet\n")
    assert str(caught.value) == f"{tmp_path / 'tree.yaml'}: top level: None is not of type 'object'"


def test_schema_node_without_id_is_named_by_position(tmp_path, docs):
    text = changed("  - id: leaf-b\n    recommendation:", "  - recommendation:")
    expect_error(tmp_path, docs, text, line_with(text, "- recommendation:"),
                 "node #4", "'id' is a required property")


def test_schema_unknown_kind(tmp_path, docs):
    text = changed("kind: recommended", "kind: maybe")
    expect_error(tmp_path, docs, text, line_with(text, "kind: maybe"),
                 "node 'leaf-a'", "recommendation.kind", "'maybe' is not one of")


def test_schema_missing_field(tmp_path, docs):
    text = changed('      why: "because"\n', "")
    expect_error(tmp_path, docs, text, line_with(text, "id: leaf-a") + 2,
                 "node 'leaf-a'", "recommendation", "'why' is a required property")


def test_schema_unknown_field(tmp_path, docs):
    text = changed('    help: "A hint."', '    hint: "A hint."')
    expect_error(tmp_path, docs, text, line_with(text, "id: first"),
                 "node 'first'", "'hint' was unexpected")


def test_schema_question_and_recommendation_together(tmp_path, docs):
    text = changed("  - id: leaf-b\n", "  - id: leaf-b\n    question: \"Both?\"\n    answers: []\n")
    expect_error(tmp_path, docs, text, line_with(text, "id: leaf-b"),
                 "node 'leaf-b'", "either question + answers, or recommendation")


def test_schema_question_with_one_answer(tmp_path, docs):
    text = changed('      - label: "Yes"\n        next: leaf-a\n      - label: "No"\n        next: leaf-b\n',
                   '      - label: "No"\n        next: leaf-b\n')
    expect_error(tmp_path, docs, text, line_with(text, "answers:", 2) + 1,
                 "node 'second'", "answers", "at least 2 answers, this one has 1")


def test_schema_id_not_kebab_case(tmp_path, docs):
    text = changed("  - id: second", "  - id: Second_Q").replace("next: second", "next: Second_Q")
    expect_error(tmp_path, docs, text, line_with(text, "next: Second_Q"),
                 "node 'first'", "answers[1].next", "'Second_Q' is not a kebab-case id")


def test_schema_link_not_a_markdown_page(tmp_path, docs):
    text = changed("link: index.md", "link: https://example.org/")
    expect_error(tmp_path, docs, text, line_with(text, "link: https://"),
                 "node 'leaf-b'", "recommendation.link", "not a docs-relative page")


def test_duplicate_id(tmp_path, docs):
    text = changed("  - id: leaf-b\n", "  - id: leaf-a\n").replace("next: leaf-b", "next: leaf-a")
    expect_error(tmp_path, docs, text, line_with(text, "id: leaf-a", 2),
                 "node 'leaf-a'", f"duplicate id, already used by the node on line {line_with(text, 'id: leaf-a')}")


def test_dangling_next(tmp_path, docs):
    text = changed("        next: leaf-b\n", "        next: nowhere\n")
    expect_error(tmp_path, docs, text, line_with(text, "next: nowhere"),
                 "node 'second'", "answers[1].next", "'nowhere' is not the id of any node")


def test_missing_root(tmp_path, docs):
    text = changed("root: first", "root: start")
    expect_error(tmp_path, docs, text, 1, "root", "'start' is not the id of any node")


def test_cycle(tmp_path, docs):
    text = changed("        next: leaf-b\n", "        next: first\n")
    expect_error(tmp_path, docs, text, line_with(text, "next: first"),
                 "node 'second'", "leads back to 'first'", "cycle: first -> second -> first")


def test_unreachable_node(tmp_path, docs):
    text = changed("        next: leaf-a\n      - label: \"No\"\n        next: leaf-b",
                   "        next: leaf-a\n      - label: \"No\"\n        next: leaf-a")
    expect_error(tmp_path, docs, text, line_with(text, "id: leaf-b"),
                 "node 'leaf-b'", "no answer leads here from the root 'first'")


def test_duplicate_answer_label(tmp_path, docs):
    text = changed('      - label: "No"\n        next: leaf-b', '      - label: "Yes"\n        next: leaf-b')
    expect_error(tmp_path, docs, text, line_with(text, 'label: "Yes"', 3),
                 "node 'second'", "answers[1].label", "used twice")


def test_undefined_fact(tmp_path, docs):
    text = changed('title: "Do not"', 'title: "Do not use {{ lumi.cray_python.modul }}"')
    expect_error(tmp_path, docs, text, line_with(text, "modul }}"),
                 "node 'leaf-b'", "recommendation.title", "undefined fact",
                 "{{ lumi.cray_python.modul }}", "'modul'")


def test_template_syntax_error(tmp_path, docs):
    text = changed('why: "because"', 'why: "because {{ lumi. }}"')
    expect_error(tmp_path, docs, text, line_with(text, "because {{"),
                 "node 'leaf-a'", "recommendation.why", "template error")


def test_link_to_missing_page(tmp_path, docs):
    text = changed("link: guide/page.md#a-section", "link: guide/gone.md#a-section")
    expect_error(tmp_path, docs, text, line_with(text, "guide/gone.md"),
                 "node 'leaf-a'", "recommendation.link", "page guide/gone.md does not exist")


# -------------------------------------------------------- built-site links

def built_site(tmp_path, page_html, directory_urls=True):
    site = tmp_path / "site"
    page = site / ("guide/page/index.html" if directory_urls else "guide/page.html")
    page.parent.mkdir(parents=True)
    page.write_text(page_html)
    (site / "index.html").write_text("<h1>Home</h1>")
    return site


@pytest.mark.parametrize("directory_urls", [True, False])
def test_check_links_passes_when_page_and_anchor_exist(tmp_path, docs, directory_urls):
    tree = load(tmp_path, docs, VALID)
    check_links(tree, built_site(tmp_path, '<h2 id="a-section">A section</h2>', directory_urls))


def test_check_links_names_a_missing_anchor(tmp_path, docs):
    tree = load(tmp_path, docs, VALID)
    site = built_site(tmp_path, '<h2 id="renamed-section">Renamed</h2>')
    with pytest.raises(DataFileError) as caught:
        check_links(tree, site)
    message = str(caught.value)
    assert message.startswith(f"{tmp_path / 'tree.yaml'}:{line_with(VALID, 'link: guide/page.md')}: ")
    assert "node 'leaf-a'" in message and "no element with id 'a-section'" in message


def test_check_links_names_a_page_that_was_not_built(tmp_path, docs):
    tree = load(tmp_path, docs, VALID)
    site = built_site(tmp_path, '<h2 id="a-section">A</h2>')
    (site / "index.html").unlink()
    with pytest.raises(DataFileError, match=r"node 'leaf-b': link index.md: page index.md was not built"):
        check_links(tree, site)


# ------------------------------------------------------------ the real data

@pytest.fixture(scope="module")
def real_tree():
    return load_tree()


def test_real_tree_every_path_ends_at_a_recommendation_and_reaches_every_leaf(real_tree):
    paths = all_paths(real_tree, "https://example.org/")
    leaves = {i for i, n in real_tree["nodes"].items() if "recommendation" in n}
    for path in paths:
        assert "recommendation" in real_tree["nodes"][path["recommendation"]["id"]]
        assert path["answers"], "the root must be a question"
    assert {p["recommendation"]["id"] for p in paths} == leaves
    asked = {a["question"] for p in paths for a in p["answers"]}
    questions = {n["question"] for n in real_tree["nodes"].values() if "question" in n}
    assert asked == questions


def test_real_tree_is_short_and_carries_the_whole_policy(real_tree):
    nodes = real_tree["nodes"].values()
    assert 2 <= sum("question" in n for n in nodes) <= 10
    # Short for the reader: no path asks more than 7 questions.
    assert max(len(p["answers"]) for p in all_paths(real_tree, "https://example.org/")) <= 7
    kinds = [n["recommendation"]["kind"] for n in nodes if "recommendation" in n]
    # Eight allowed methods (4 recommended: cotainr twice, for a Conda file and for a pip
    # requirements file; 4 conditional) and the discouraged ones.
    assert kinds.count("recommended") == 4 and kinds.count("conditional") == 4
    assert kinds.count("discouraged") >= 4
    for node in nodes:
        if "recommendation" in node and node["recommendation"]["kind"] != "discouraged":
            assert node["recommendation"]["commands"], f"{node['id']} shows no command"


def gpu_paths(tree):
    """The paths whose first answer says the code uses the GPUs."""
    paths = all_paths(tree, "https://example.org/")
    return [p for p in paths if "GPU" in p["answers"][0]["question"] and p["answers"][0]["answer"].startswith("Yes")]


def test_real_tree_asks_about_gpus_and_nodes_first(real_tree):
    root = real_tree["nodes"][real_tree["root"]]
    labels = [a["label"] for a in root["answers"]]
    assert "GPU" in root["question"]
    assert any("several nodes" in label for label in labels) and any("one node" in label for label in labels)
    assert any("CPU" in label for label in labels)


def test_gpu_work_never_ends_at_the_container_wrapper_or_cray_python(real_tree):
    paths = gpu_paths(real_tree)
    assert paths
    ends = {p["recommendation"]["id"] for p in paths}
    assert not ends & {"container-wrapper", "cray-python-venv", "csc-stack"}, ends
    # The wrapper itself says it is not for GPU frameworks.
    assert "GPU" in real_tree["nodes"]["container-wrapper"]["recommendation"]["why"]


def test_multinode_gpu_work_is_warned_off_generic_images(real_tree):
    multinode = [p for p in gpu_paths(real_tree) if "several nodes" in p["answers"][0]["answer"]]
    warned = [p for p in multinode if "Docker Hub" in p["answers"][-1]["answer"]]
    assert [p["recommendation"]["id"] for p in warned] == ["no-generic-multinode"]
    assert real_tree["nodes"]["no-generic-multinode"]["recommendation"]["kind"] == "discouraged"


def test_environment_file_kind_decides_the_cotainr_leaf(real_tree):
    question = real_tree["nodes"]["environment-file"]
    targets = {a["label"]: a["next"] for a in question["answers"]}
    pip_answer = next(label for label in targets if "requirements" in label)
    assert targets[pip_answer] == "build-with-cotainr-requirements"
    leaf = real_tree["nodes"]["build-with-cotainr-requirements"]["recommendation"]
    # How to feed the requirements file: a -r line under pip:, with a path the build sees.
    assert "-r /tmp/${USER}/requirements.txt" in leaf["why"] and "pip:" in leaf["why"]
    assert any(c.startswith("cotainr build") for c in leaf["commands"])


def test_venv_on_lustre_leaves_mention_squashfs_for_many_processes(real_tree):
    for node_id in ("container-plus-venv", "cray-python-venv"):
        why = real_tree["nodes"][node_id]["recommendation"]["why"]
        assert "SquashFS" in why and "many processes" in why, node_id
    commands = real_tree["nodes"]["container-plus-venv"]["recommendation"]["commands"]
    assert any(c.startswith("mksquashfs ") for c in commands)


def fenced_blocks(markdown):
    """Bodies of the fenced code blocks of a page, also those indented in tabs and admonitions."""
    blocks, lines, i = [], markdown.splitlines(), 0
    while i < len(lines):
        opening = re.match(r"^(\s*)(`{3,}|~{3,})", lines[i])
        i += 1
        if not opening:
            continue
        indent, fence = opening.groups()
        body = []
        while i < len(lines) and not re.match(rf"^\s*{re.escape(fence)}\s*$", lines[i]):
            body.append(lines[i][len(indent):] if lines[i].startswith(indent) else lines[i].lstrip())
            i += 1
        i += 1
        blocks.append("\n".join(body))
    return blocks


def normalized_lines(text):
    """Lines without surrounding blanks or a console `$ ` prompt, with runs of spaces squeezed."""
    return [" ".join(re.sub(r"^\$ ", "", line.strip()).split()) for line in text.splitlines()]


def test_fenced_blocks_finds_indented_fences():
    page = "text\n```bash\necho a\n```\n=== \"Tab\"\n\n    ```bash\n    echo b\n      echo c\n    ```\n"
    assert fenced_blocks(page) == ["echo a", "echo b\n  echo c"]


def test_every_command_appears_in_a_page_code_block(real_tree):
    facts = load_facts()
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    page_blocks = []
    for page in sorted(DOCS_DIR.rglob("*.md")):
        for block in fenced_blocks(page.read_text(encoding="utf-8")):
            try:
                block = env.from_string(block).render(lumi=facts)
            except jinja2.TemplateError:
                pass  # not a template this test can render; its raw text still counts
            page_blocks.append(normalized_lines(block))
    missing = []
    for node_id, node in real_tree["nodes"].items():
        for command in node.get("recommendation", {}).get("commands", []):
            wanted = normalized_lines(command)
            if not any(block[i:i + len(wanted)] == wanted
                       for block in page_blocks for i in range(len(block))):
                missing.append(f"{node_id}: {command}")
    assert not missing, "commands shown by the tree but in no page code block:\n" + "\n".join(missing)


def test_tree_file_names_its_schema_for_editors():
    first_line = TREE_FILE.read_text(encoding="utf-8").splitlines()[0]
    assert first_line == "# yaml-language-server: $schema=decision_tree.schema.json"
    assert (TREE_FILE.parent / "decision_tree.schema.json").is_file()


def test_vscode_maps_both_schemas():
    settings = json.loads((Path(__file__).resolve().parent.parent / ".vscode/settings.json").read_text())
    mapping = settings["yaml.schemas"]
    assert mapping["data/decision_tree.schema.json"] == "data/decision_tree.yaml"
    assert mapping["data/lumi.schema.json"] == "data/lumi.yaml"
    for schema in mapping:
        assert (TREE_FILE.parent.parent / schema).is_file()

