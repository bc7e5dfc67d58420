"""The decision-tree widget's server HTML: complete, escaped, one raw block, navigable without JavaScript."""

import html
import json
from html.parser import HTMLParser

import pytest

from macros.decision_tree import load_tree
from macros.decision_tree_widget import anchor, render_widget

PYTHON_PAGE = "software/installing/python/"

# A small tree in load_tree()'s format whose strings try to break out of HTML and JSON.
HOSTILE = "<script>alert(1)</script> & </script><!-- \"quoted\" 'single' {{ x }}"
HOSTILE_TREE = {
    "root": "start",
    "nodes": {
        "start": {"id": "start", "question": "Q " + HOSTILE, "help": "H " + HOSTILE,
                  "answers": [{"label": "A " + HOSTILE, "next": "leaf"},
                              {"label": "Other", "next": "more"}]},
        "more": {"id": "more", "question": "Second?",
                 "answers": [{"label": "Back to leaf", "next": "leaf"}, {"label": "Bad", "next": "bad"}]},
        "leaf": {"id": "leaf", "recommendation": {
            "kind": "recommended", "title": "T " + HOSTILE, "when": "W " + HOSTILE, "why": "Y " + HOSTILE,
            "link": "software/containers/singularity.md#building-containers-using-cotainr",
            "url": "software/containers/singularity/#building-containers-using-cotainr",
            "commands": ["echo '" + HOSTILE + "'", "", "second line"]}},
        "bad": {"id": "bad", "recommendation": {
            "kind": "discouraged", "title": "Bad idea", "when": "Never.", "why": "Because.",
            "link": "index.md", "url": "", "commands": []}},
    },
}


class WidgetParser(HTMLParser):
    """Collects ids, hrefs, sections, tags, the inline JSON and the visible text of the widget."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids, self.hrefs, self.sections, self.text = [], [], [], []
        self.tags, self.data = [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        if "data-dtree-tree" in attrs:
            self.data.append(json.loads(attrs["data-dtree-tree"]))
        if "id" in attrs:
            self.ids.append(attrs["id"])
        if tag == "section":
            self.sections.append(attrs["id"])
        if tag == "a":
            self.hrefs.append(attrs["href"])

    def handle_data(self, data):
        self.text.append(data)

    def handle_comment(self, data):
        self.tags.append("<!--")


def parse(markup):
    parser = WidgetParser()
    parser.feed(markup)
    parser.close()
    return parser


@pytest.fixture(scope="module")
def tree():
    return load_tree()


@pytest.fixture(scope="module")
def widget(tree):
    return render_widget(tree, PYTHON_PAGE)


def test_every_node_has_one_section_with_its_anchor(tree, widget):
    parsed = parse(widget)
    assert sorted(parsed.sections) == sorted(anchor(node_id) for node_id in tree["nodes"])
    assert len(parsed.ids) == len(set(parsed.ids)), "duplicate ids"
    for node_id in tree["nodes"]:
        assert f'href="#{anchor(node_id)}"' in widget, f"no permalink for {node_id}"


def test_every_recommendation_is_in_the_page_text(tree, widget):
    text = "".join(parse(widget).text)
    leaves = [n["recommendation"] for n in tree["nodes"].values() if "recommendation" in n]
    assert leaves
    for leaf in leaves:
        for field in ("title", "when", "why"):
            assert leaf[field] in text, f"{field} of {leaf['title']!r} missing"
        for command in leaf.get("commands", []):
            assert command in text, f"command {command!r} missing"


def test_every_question_and_answer_is_in_the_page_text(tree, widget):
    text = "".join(parse(widget).text)
    for node in tree["nodes"].values():
        if "question" in node:
            assert node["question"] in text
            for answer in node["answers"]:
                assert answer["label"] in text


def test_without_javascript_every_answer_links_to_an_existing_node(tree, widget):
    parsed = parse(widget)
    local = [href[1:] for href in parsed.hrefs if href.startswith("#")]
    answers = sum(len(n.get("answers", [])) for n in tree["nodes"].values())
    assert len(local) >= answers
    for target in local:
        assert target in parsed.ids, f"link to missing #{target}"
    # Every node can be reached by following links from the root's section.
    reached, todo = set(), [anchor(tree["root"])]
    links = _links_by_section(widget)
    while todo:
        current = todo.pop()
        if current not in reached:
            reached.add(current)
            todo.extend(links[current])
    assert reached == set(parsed.sections)


def _links_by_section(markup):
    """For each section id, the ids its links point to (sections are siblings)."""
    out = {}
    for chunk in markup.split("<section ")[1:]:
        own = chunk.split('id="', 1)[1].split('"', 1)[0]
        out[own] = [href.split('"', 1)[0] for href in chunk.split('href="#')[1:]]
    return out


def test_widget_is_one_raw_html_line(widget):
    # A newline could let Markdown end the raw HTML block and mangle the rest.
    assert "\n" not in widget and "\r" not in widget
    assert widget.startswith('<div class="dtree" data-dtree-component=""') and widget.endswith("</div>")


def test_inline_json_holds_the_tree(tree, widget):
    data, = parse(widget).data
    assert data["root"] == tree["root"]
    assert set(data["nodes"]) == set(tree["nodes"])
    for node_id, node in tree["nodes"].items():
        if "answers" in node:
            assert data["nodes"][node_id]["answers"] == [[a["label"], a["next"]] for a in node["answers"]]
        else:
            assert data["nodes"][node_id]["rec"]["title"] == node["recommendation"]["title"]
            assert data["nodes"][node_id]["rec"]["commands"] == node["recommendation"].get("commands", [])


def test_hostile_strings_stay_text_in_html_and_json():
    markup = render_widget(HOSTILE_TREE, PYTHON_PAGE)
    parsed = parse(markup)
    # The only elements are the widget's own: no <script>, no comment.
    assert set(parsed.tags) == {"div", "section", "p", "a", "span", "ul", "li", "strong", "pre", "code"}
    assert "<script" not in markup and "<!--" not in markup
    text = "".join(parsed.text)
    for prefix in ("Q ", "H ", "A ", "T ", "W ", "Y "):
        assert prefix + HOSTILE in text
    assert f"echo '{HOSTILE}'" in text
    data, = parsed.data
    assert data["nodes"]["start"]["answers"][0][0] == "A " + HOSTILE
    assert data["nodes"]["leaf"]["rec"]["commands"][0] == f"echo '{HOSTILE}'"


def test_empty_command_lines_do_not_break_the_block():
    markup = render_widget(HOSTILE_TREE, PYTHON_PAGE)
    code = markup.split('<pre class="dtree__commands"><code tabindex="0">', 1)[1].split("</code>", 1)[0]
    assert html.unescape(code).split("\n") == [f"echo '{HOSTILE}'", "", "second line"]


@pytest.mark.parametrize("page, directory_urls, link, expected", [
    (PYTHON_PAGE, True, "software/containers/singularity.md#x", "../../containers/singularity/#x"),
    (PYTHON_PAGE, True, "software/installing/python.md", "./"),
    (PYTHON_PAGE, True, "index.md", "../../../"),
    ("", True, "software/local/csc.md", "software/local/csc/"),
    ("software/installing/python.html", False, "software/containers/singularity.md#x",
     "../containers/singularity.html#x"),
    ("software/installing/python.html", False, "index.md", "../../index.html"),
    (PYTHON_PAGE, True, "software/local/index.md#y", "../../local/#y"),
])
def test_read_more_links_are_relative_to_the_page(page, directory_urls, link, expected):
    tree = {"root": "leaf", "nodes": {"leaf": {"id": "leaf", "recommendation": {
        "kind": "recommended", "title": "T", "when": "W", "why": "Y", "link": link, "url": "unused"}}}}
    markup = render_widget(tree, page, directory_urls)
    assert f'<a href="{expected}">Read more: T</a>' in markup
