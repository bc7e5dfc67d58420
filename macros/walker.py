"""Generate the terminal walker tools/lumi-python-advisor.py from the decision tree.

How it works: macros/walker_template.py is the whole walker (stdlib only, Python 3.6+,
so LUMI's system python3 runs it). `render_walker()` replaces its one marker line
`TREE_JSON = None  # @tree@` with the rendered tree as a JSON string literal; the build
(on_post_build in macros/__init__.py) writes the result into the built site with
`write_walker()`. Tests call `render_walker()` directly, without a build.
"""

import json
from pathlib import Path

from .decision_tree import site_url_of

TEMPLATE_FILE = Path(__file__).resolve().parent / "walker_template.py"
WALKER_PATH = "tools/lumi-python-advisor.py"
MARKER = "TREE_JSON = None  # @tree@"


def walker_data(tree, site_url):
    """Only what the walker shows: texts, answers, commands and page URLs."""
    nodes = {}
    for node_id, node in tree["nodes"].items():
        if "recommendation" in node:
            leaf = node["recommendation"]
            nodes[node_id] = {"recommendation": {key: leaf[key] for key in
                                                 ("kind", "title", "when", "why", "commands", "url")}}
        else:
            nodes[node_id] = {"question": node["question"], "help": node.get("help", ""),
                              "answers": [{"label": a["label"], "next": a["next"]} for a in node["answers"]]}
    return {"root": tree["root"], "site_url": site_url if site_url.endswith("/") else site_url + "/",
            "nodes": nodes}


def render_walker(tree, site_url=None):
    """The walker's source code with `tree` built in; site_url defaults to mkdocs.yml's."""
    template = TEMPLATE_FILE.read_text(encoding="utf-8")
    if template.count(MARKER) != 1:
        raise ValueError(f"{TEMPLATE_FILE}: expected the marker line {MARKER!r} exactly once")
    # ASCII JSON inside a Python literal: the file reads the same under any locale.
    text = json.dumps(walker_data(tree, site_url or site_url_of()), ensure_ascii=True, sort_keys=True)
    return template.replace(MARKER, f"TREE_JSON = {text!r}")


def write_walker(tree, site_dir, site_url=None):
    """Write the walker into the built site, executable; return its path."""
    target = Path(site_dir) / WALKER_PATH
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_walker(tree, site_url), encoding="utf-8")
    target.chmod(0o755)
    return target
