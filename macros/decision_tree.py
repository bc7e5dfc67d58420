"""Load and check the install-method decision tree (data/decision_tree.yaml) and list its paths.

How it works: `load_tree()` parses the YAML with line numbers (data_files.YamlDocument),
checks it against data/decision_tree.schema.json, then checks what a schema cannot
(unique ids, existing `next` targets and root, no cycles, every node reachable), renders
every text through Jinja with the page facts (`{{ lumi.* }}`, StrictUndefined) and checks
that every link names an existing page under docs/. Because nodes are either questions
with >= 2 answers or recommendations, and there are no cycles or dangling `next`s, every
path from the root ends at a recommendation. `check_links()` runs after the build and
checks that each linked page was built and holds the #anchor. Every problem raises
DataFileError naming the file, the line, the node and the problem. No MkDocs imports here:
the page widget, the terminal walker (macros/walker.py) and the tests all call this.
"""

import json
from html.parser import HTMLParser
from pathlib import Path

import jinja2
import jsonschema
import yaml

from .data_files import DataFileError, YamlDocument
from .facts import load_facts

ROOT_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT_DIR / "data"
TREE_FILE = DATA_DIR / "decision_tree.yaml"
TREE_SCHEMA = DATA_DIR / "decision_tree.schema.json"
DOCS_DIR = ROOT_DIR / "docs"
MKDOCS_FILE = ROOT_DIR / "mkdocs.yml"

# Texts rendered through the facts; ids and links are plain.
QUESTION_TEXTS = ("question", "help")
RECOMMENDATION_TEXTS = ("title", "when", "why")


def load_tree(path=TREE_FILE, facts=None, docs_dir=DOCS_DIR, schema=TREE_SCHEMA):
    """Read, check and render the tree; return {"root", "nodes": {id: node}} as plain data.

    Each recommendation also gets "url": its page relative to the site root in
    directory-URL form. "file" and "lines" ({id: line, "id/link": line}) say where
    each node stood, for later error messages.
    """
    document = YamlDocument(path)
    _check_schema(document, schema)
    positions = _check_unique_ids(document)
    _check_targets(document, positions)
    _check_no_cycles(document, positions)
    _check_reachable(document, positions)
    nodes = _render(document, positions, load_facts() if facts is None else facts)
    _check_link_sources(document, positions, nodes, Path(docs_dir))
    lines = {}
    for node_id, index in positions.items():
        lines[node_id] = document.line_of(["nodes", index])
        if "recommendation" in nodes[node_id]:
            lines[node_id + "/link"] = document.line_of(["nodes", index, "recommendation", "link"])
    return {"root": document.data["root"], "nodes": nodes, "file": str(document.path), "lines": lines}


def all_paths(tree, site_url=None):
    """Every path from the root to a recommendation, in answer order, as JSON-ready data."""
    base = site_url_of() if site_url is None else site_url
    base = base if base.endswith("/") else base + "/"
    paths = []

    def walk(node_id, answers):
        node = tree["nodes"][node_id]
        if "recommendation" in node:
            leaf = node["recommendation"]
            paths.append({"answers": answers,
                          "recommendation": {"id": node_id, "title": leaf["title"],
                                             "url": base + leaf["url"]}})
            return
        for answer in node["answers"]:
            walk(answer["next"], answers + [{"question": node["question"], "answer": answer["label"]}])

    walk(tree["root"], [])
    return paths


def check_links(tree, site_dir):
    """Check in the built site that every recommendation's page exists and holds its #anchor."""
    site_dir = Path(site_dir)
    ids_by_file = {}
    for node_id, node in tree["nodes"].items():
        if "recommendation" not in node:
            continue
        link = node["recommendation"]["link"]
        page, _, anchor = link.partition("#")
        built = _built_page(site_dir, page)
        line = tree["lines"][node_id + "/link"]
        if built is None:
            raise DataFileError(tree["file"], line,
                                f"node '{node_id}': link {link}: page {page} was not built into {site_dir}")
        if not anchor:
            continue
        if built not in ids_by_file:
            ids_by_file[built] = _element_ids(built)
        if anchor not in ids_by_file[built]:
            raise DataFileError(tree["file"], line,
                                f"node '{node_id}': link {link}: no element with id '{anchor}' in the built page "
                                f"{built.relative_to(site_dir)} (a heading was renamed?)")


def page_url(link):
    """Directory-form URL, relative to the site root, of a docs-relative link like a/b.md#x."""
    page, hash_, anchor = link.partition("#")
    stem = page[: -len(".md")]
    if stem == "index":
        url = ""
    elif stem.endswith("/index"):
        url = stem[: -len("index")]
    else:
        url = stem + "/"
    return url + hash_ + anchor


def site_url_of(mkdocs_file=MKDOCS_FILE):
    """The site_url in mkdocs.yml (tags like !ENV are read as nothing; only site_url matters)."""
    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    Loader.add_multi_constructor("tag:yaml.org,2002:python/", lambda loader, suffix, node: None)
    config = yaml.load(Path(mkdocs_file).read_text(encoding="utf-8"), Loader=Loader)
    url = config.get("site_url")
    if not url:
        raise DataFileError(mkdocs_file, None, "site_url is not set; the walker prints absolute page URLs")
    return url


# ------------------------------------------------------------------ checks

def _node_name(document, index):
    """How a message names the node at `index`: by id when it has a usable one."""
    node = document.data["nodes"][index]
    if isinstance(node, dict) and isinstance(node.get("id"), str):
        return f"node '{node['id']}'"
    return f"node #{index + 1}"


def _where(path):
    """A JSON path like ['answers', 0, 'next'] written as answers[0].next."""
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (("." if text else "") + str(step))
    return text


def _schema_problem(error):
    """A schema error in words a data editor understands."""
    field = error.absolute_path[-1] if error.absolute_path else None
    if error.validator == "oneOf":
        return "a node needs either question + answers, or recommendation (exactly one of the two)"
    if error.validator == "dependentRequired":
        return error.message.replace(" is a dependency of ", " is needed with ")
    if error.validator == "minItems" and field == "answers":
        return f"a question needs at least 2 answers, this one has {len(error.instance)}"
    if error.validator == "pattern" and field in ("id", "next", "root"):
        return f"'{error.instance}' is not a kebab-case id (lowercase letters, digits, single hyphens)"
    if error.validator == "pattern" and field == "link":
        return f"'{error.instance}' is not a docs-relative page like software/x.md or software/x.md#section"
    return error.message


def _check_schema(document, schema_path):
    """Report the first schema error in file order (the most specific one on that line)."""
    schema = json.loads(Path(schema_path).read_text(encoding="utf-8"))
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(document.data))
    if not errors:
        return
    first = min(errors, key=lambda e: (document.line_of(e.absolute_path) or 0, -len(e.absolute_path)))
    path = list(first.absolute_path)
    if len(path) >= 2 and path[0] == "nodes" and isinstance(path[1], int):
        who, inner = _node_name(document, path[1]), path[2:]
    else:
        who, inner = "top level", path
    where = f" {_where(inner)}" if inner else ""
    raise document.error(path, f"{who}{where}: {_schema_problem(first)}")


def _check_unique_ids(document):
    """Map id -> index in the node list; a repeated id is an error at its second place."""
    positions = {}
    for index, node in enumerate(document.data["nodes"]):
        node_id = node["id"]
        if node_id in positions:
            first_line = document.line_of(["nodes", positions[node_id]])
            raise document.error(["nodes", index, "id"],
                                 f"node '{node_id}': duplicate id, already used by the node on line {first_line}")
        positions[node_id] = index
    return positions


def _check_targets(document, positions):
    """The root and every answer's `next` name an existing node; labels differ within a question."""
    root = document.data["root"]
    if root not in positions:
        raise document.error(["root"], f"top level root: '{root}' is not the id of any node")
    for node_id, index in positions.items():
        labels = set()
        for number, answer in enumerate(document.data["nodes"][index].get("answers", [])):
            if answer["next"] not in positions:
                raise document.error(["nodes", index, "answers", number, "next"],
                                     f"node '{node_id}' answers[{number}].next: '{answer['next']}' "
                                     "is not the id of any node")
            if answer["label"] in labels:
                raise document.error(["nodes", index, "answers", number, "label"],
                                     f"node '{node_id}' answers[{number}].label: '{answer['label']}' "
                                     "is used twice in this question")
            labels.add(answer["label"])


def _check_no_cycles(document, positions):
    """No answer may lead back to a node on the way to it (depth-first search, every node)."""
    done, on_path = set(), []

    def visit(node_id):
        on_path.append(node_id)
        index = positions[node_id]
        for number, answer in enumerate(document.data["nodes"][index].get("answers", [])):
            target = answer["next"]
            if target in on_path:
                loop = " -> ".join(on_path[on_path.index(target):] + [target])
                raise document.error(["nodes", index, "answers", number, "next"],
                                     f"node '{node_id}' answers[{number}].next: leads back to '{target}', "
                                     f"a cycle: {loop}")
            if target not in done:
                visit(target)
        on_path.pop()
        done.add(node_id)

    for node_id in [document.data["root"], *positions]:
        if node_id not in done:
            visit(node_id)


def _check_reachable(document, positions):
    """Every node can be reached from the root (else it is dead data nobody sees)."""
    seen, todo = set(), [document.data["root"]]
    while todo:
        node_id = todo.pop()
        if node_id not in seen:
            seen.add(node_id)
            todo.extend(a["next"] for a in document.data["nodes"][positions[node_id]].get("answers", []))
    for node_id, index in positions.items():
        if node_id not in seen:
            raise document.error(["nodes", index, "id"],
                                 f"node '{node_id}': no answer leads here from the root "
                                 f"'{document.data['root']}'")


def _render(document, positions, facts):
    """Copies of the nodes with every text rendered through the facts; recommendations get a url."""
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=True)
    nodes = {}

    def render(text, location, node_id, field):
        if "{" not in text:  # most strings hold no template; compiling them all doubled the build time
            return text
        try:
            return env.from_string(text).render(lumi=facts)
        except jinja2.TemplateError as err:
            kind = "undefined fact" if isinstance(err, jinja2.UndefinedError) else "template error"
            raise document.error(location, f"node '{node_id}' {field}: {kind} in {text!r}: {err.message}") from None

    for node_id, index in positions.items():
        raw = document.data["nodes"][index]
        base = ["nodes", index]
        node = {"id": node_id}
        for key in QUESTION_TEXTS:
            if key in raw:
                node[key] = render(raw[key], base + [key], node_id, key)
        if "answers" in raw:
            node["answers"] = [
                {"label": render(a["label"], base + ["answers", i, "label"], node_id, f"answers[{i}].label"),
                 "next": a["next"]}
                for i, a in enumerate(raw["answers"])]
        if "recommendation" in raw:
            rec = raw["recommendation"]
            where = base + ["recommendation"]
            leaf = {"kind": rec["kind"]}
            for key in RECOMMENDATION_TEXTS:
                leaf[key] = render(rec[key], where + [key], node_id, f"recommendation.{key}")
            leaf["link"] = rec["link"]
            leaf["url"] = page_url(rec["link"])
            leaf["commands"] = [render(c, where + ["commands", i], node_id, f"recommendation.commands[{i}]")
                                for i, c in enumerate(rec.get("commands", []))]
            node["recommendation"] = leaf
        nodes[node_id] = node
    return nodes


def _check_link_sources(document, positions, nodes, docs_dir):
    """Every link names a Markdown page that exists under docs/ (anchors are checked after the build)."""
    for node_id, node in nodes.items():
        if "recommendation" not in node:
            continue
        page = node["recommendation"]["link"].partition("#")[0]
        if not (docs_dir / page).is_file():
            raise document.error(["nodes", positions[node_id], "recommendation", "link"],
                                 f"node '{node_id}' recommendation.link: page {page} does not exist in {docs_dir}")


# -------------------------------------------------------------- built site

class _IdCollector(HTMLParser):
    """Collects every id="..." of an HTML page (headings, and any raw HTML a macro emits)."""

    def __init__(self):
        super().__init__()
        self.ids = set()

    def handle_starttag(self, tag, attrs):
        self.ids.update(value for name, value in attrs if name == "id" and value)


def _element_ids(html_file):
    collector = _IdCollector()
    collector.feed(html_file.read_text(encoding="utf-8"))
    return collector.ids


def _built_page(site_dir, page):
    """The HTML file MkDocs built for docs page `page`, with or without directory URLs."""
    stem = page[: -len(".md")]
    candidates = [site_dir / (stem + ".html")]
    if stem == "index" or stem.endswith("/index"):
        candidates.insert(0, site_dir / stem[: -len("index")] / "index.html")
    else:
        candidates.insert(0, site_dir / stem / "index.html")
    return next((c for c in candidates if c.is_file()), None)
