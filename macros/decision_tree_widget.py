"""HTML for the "which method?" decision tree: every node server-side, plus inline JSON for the script.

How it works
------------
`render_widget(tree, page_url)` turns the tree from `decision_tree.load_tree()` into one
`<div class="dtree" data-dtree-component>` holding:

* `data-dtree-tree="<json>"`: the data the script needs, HTML-escaped into an attribute.
  Not a `<script type="application/json">`: Material's instant navigation re-creates
  every inline `<script>` of a page it swaps in WITHOUT its attributes, which turns such
  a block into JavaScript (a syntax error) and loses the data;
* `<div class="dtree__tree">`: one `<section id="dtree-<node id>">` per node, in
  depth-first order from the root. The sections are siblings, not nested, because two
  answers may lead to the same node and ids must stay unique. Each answer is a plain link
  to its target's anchor, so the tree reads and navigates with JavaScript off.

The whole widget is emitted on ONE line (newlines inside command blocks become `&#10;`):
Python-Markdown then keeps it as a single raw HTML block wherever the macro is called,
even indented inside an admonition, and a blank line can never split it.

`overrides/assets/javascripts/decision-tree.js` reads the JSON, hides `.dtree__tree` and
shows one question at a time as buttons (`decision-tree.css` styles both views). Its state
is the URL hash `#dtree=<node>/<node>/...`: the node each answer led to, root left out.
Node ids rather than answer numbers, so shared links survive reordered answers; the `=`
keeps it apart from heading anchors and from the `#dtree-<node>` section ids. A heading
anchor in the hash leaves the shown path alone; `#dtree-<node>` opens that node.
"""

import html
import json
import posixpath


ID_PREFIX = "dtree-"
KIND_LABELS = {
    "recommended": "Recommended",
    "conditional": "Recommended under conditions",
    "discouraged": "Not recommended",
}


def render_widget(tree, page_url, use_directory_urls=True):
    """One raw HTML line: the inline JSON and every node as a linked section."""
    nodes = tree["nodes"]
    order = _depth_first(tree["root"], nodes)
    links = {node_id: _page_link(nodes[node_id]["recommendation"], page_url, use_directory_urls)
             for node_id in order if "recommendation" in nodes[node_id]}
    data = _script_data(tree["root"], nodes, order, links)
    sections = "".join(_section(node_id, nodes[node_id], nodes, tree["root"], links.get(node_id))
                       for node_id in order)
    return (f'<div class="dtree" data-dtree-component="" id="dtree" data-dtree-tree="{_e(data)}">'
            f'<div class="dtree__tree">{sections}</div></div>')


def anchor(node_id):
    """The HTML id (and URL fragment) of a node's section."""
    return ID_PREFIX + node_id


def _depth_first(root, nodes):
    """Node ids in reading order: the root, then each answer's subtree in answer order."""
    order, seen, stack = [], set(), [root]
    while stack:
        node_id = stack.pop()
        if node_id in seen:
            continue
        seen.add(node_id)
        order.append(node_id)
        stack.extend(answer["next"] for answer in reversed(nodes[node_id].get("answers", [])))
    # Nodes no answer reaches still get a section, so that no data is silently dropped.
    order.extend(node_id for node_id in nodes if node_id not in seen)
    return order


def _page_link(recommendation, page_url, use_directory_urls):
    """The recommendation's docs-relative link as a URL relative to the page the widget sits on.

    Worked out here rather than taken from the loader's `url`, which is always in
    directory form: the offline build (OFFLINE=true) turns directory URLs off.
    """
    path, _, fragment = recommendation["link"].partition("#")
    target = _built_path(path.removesuffix(".md"), use_directory_urls)
    here = page_url.rstrip("/") if page_url.endswith("/") else posixpath.dirname(page_url)
    relative = posixpath.relpath(target or ".", here or ".")
    if not target or target.endswith("/"):
        relative = "./" if relative == "." else relative + "/"
    return relative + (f"#{fragment}" if fragment else "")


def _built_path(stem, use_directory_urls):
    """Where MkDocs writes the page `stem` (a docs-relative path without .md), from the site root."""
    if not use_directory_urls:
        return stem + ".html"
    if stem == "index":
        return ""
    return stem.removesuffix("index") if stem.endswith("/index") else stem + "/"


def _script_data(root, nodes, order, links):
    """The compact JSON the script renders from; every string is still the data file's own text."""
    out = {}
    for node_id in order:
        node = nodes[node_id]
        if "recommendation" in node:
            rec = node["recommendation"]
            out[node_id] = {"rec": {
                "kind": rec["kind"], "kindLabel": KIND_LABELS.get(rec["kind"], rec["kind"]),
                "title": rec["title"], "when": rec.get("when", ""), "why": rec.get("why", ""),
                "url": links[node_id], "commands": list(rec.get("commands", []))}}
        else:
            out[node_id] = {"q": node["question"], "help": node.get("help", ""),
                            "answers": [[a["label"], a["next"]] for a in node["answers"]]}
    return json.dumps({"root": root, "nodes": out}, ensure_ascii=False, separators=(",", ":"))


def _e(text):
    """Escape data text for HTML content and attributes, newlines included (see the module docstring)."""
    return html.escape(str(text), quote=True).replace("\r", "&#13;").replace("\n", "&#10;")


def _section(node_id, node, nodes, root, link):
    """One node as a section: a question with answer links, or a recommendation."""
    own = anchor(node_id)
    permalink = f'<a class="dtree__permalink" href="#{_e(own)}" title="Link to this step" aria-label="Link to this step">#</a>'
    restart = ("" if node_id == root else
               f'<p class="dtree__restart"><a href="#{_e(anchor(root))}">Start over</a></p>')
    if "recommendation" in node:
        body = _recommendation(node["recommendation"], link, permalink)
        kind = f' dtree__result dtree__result--{_e(node["recommendation"]["kind"])}'
    else:
        body = _question(node, nodes, permalink)
        kind = " dtree__node--question"
    return f'<section class="dtree__node{kind}" id="{_e(own)}">{body}{restart}</section>'


def _question(node, nodes, permalink):
    """A question, its optional help and its answers as links to the next node's anchor."""
    help_text = f'<p class="dtree__help">{_e(node["help"])}</p>' if node.get("help") else ""
    answers = "".join(
        f'<li><a class="dtree__answer" href="#{_e(anchor(a["next"]))}">{_e(a["label"])}</a>'
        f'<span class="dtree__goes"> → {_e(_summary(nodes[a["next"]]))}</span></li>'
        for a in node["answers"])
    return (f'<p class="dtree__question">{_e(node["question"])} {permalink}</p>{help_text}'
            f'<ul class="dtree__answers">{answers}</ul>')


def _summary(node):
    """What an answer leads to, for readers without JavaScript."""
    if "recommendation" in node:
        return f'{KIND_LABELS.get(node["recommendation"]["kind"], "")}: {node["recommendation"]["title"]}'
    return node["question"]


def _recommendation(rec, link, permalink):
    """A recommendation: kind, title, when and why, the commands, and where to read more."""
    parts = [f'<p class="dtree__kind">{_e(KIND_LABELS.get(rec["kind"], rec["kind"]))}</p>',
             f'<p class="dtree__title">{_e(rec["title"])} {permalink}</p>']
    if rec.get("when"):
        parts.append(f'<p class="dtree__when"><strong>When:</strong> {_e(rec["when"])}</p>')
    if rec.get("why"):
        parts.append(f'<p class="dtree__why"><strong>Why:</strong> {_e(rec["why"])}</p>')
    if rec.get("commands"):
        # &#10; instead of a newline keeps the widget on one line (see the module docstring).
        lines = "&#10;".join(_e(command) for command in rec["commands"])
        parts.append(f'<pre class="dtree__commands"><code tabindex="0">{lines}</code></pre>')
    parts.append(f'<p class="dtree__more"><a href="{_e(link)}">Read more: {_e(rec["title"])}</a></p>')
    return "".join(parts)
