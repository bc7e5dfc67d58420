"""Generate the doctor tools/lumi-python-doctor.py from data/doctor.yaml and the facts, and check its advice.

How it works: macros/doctor_template.py is the whole doctor (stdlib only, Python 3.6+).
`render_doctor()` replaces its marker line `DOCTOR_JSON = None  # @doctor@` with the data
it needs as a JSON string literal: the storage areas and file quotas of data/lumi.yaml,
the advice of data/doctor.yaml rendered with the facts, and absolute page URLs.
`load_advice()` checks the advice file before the build; `check_advice()` checks after
the build that each link's #anchor exists in its built page and that each command appears
in a code element of that page, so the doctor prints only commands the page shows.
Every problem is a DataFileError naming data/doctor.yaml's line.
"""

import json
from html.parser import HTMLParser
from pathlib import Path

import jinja2

from .data_files import DataFileError, load_validated
from .decision_tree import DOCS_DIR, _built_page, _element_ids, page_url, site_url_of
from .facts import load_facts
from .walker import WALKER_PATH
from .quantities import FILTERS

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
ADVICE_FILE = DATA_DIR / "doctor.yaml"
ADVICE_SCHEMA = DATA_DIR / "doctor.schema.json"
REPORT_SCHEMA = DATA_DIR / "doctor_report.schema.json"
TEMPLATE_FILE = Path(__file__).resolve().parent / "doctor_template.py"
DOCTOR_PATH = "tools/lumi-python-doctor.py"
SCHEMA_PATH = "tools/lumi-python-doctor.schema.json"
MARKER = "DOCTOR_JSON = None  # @doctor@"
TEXTS = ("title", "why", "do")
# The finding ids the doctor's code produces; data/doctor.yaml must describe each, and only these.
KINDS = {"conda-environment", "conda-installation", "pip-user-site", "conda-init", "venv-os-python",
         "venv-many-packages", "pythonpath", "pythonuserbase", "cache-singularity", "cache-pip",
         "cache-huggingface", "cache-torch", "singularity-bind", "sif-image", "squashfs-image",
         "container-wrapper", "venv-few-packages", "os-python", "tmp-space", "incomplete"}


def load_advice(path=ADVICE_FILE, facts=None, docs_dir=DOCS_DIR, schema=ADVICE_SCHEMA):
    """Read, check and render data/doctor.yaml; return {"file", "findings": {id: advice}}."""
    document = load_validated(path, schema)
    facts = load_facts() if facts is None else facts
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)
    env.filters.update(FILTERS)  # the pages' filters: `grouped` prints a quota as the pages do
    findings = {}
    for index, raw in enumerate(document.data["findings"]):
        where = ["findings", index]
        kind = raw["id"]
        if kind in findings:
            raise document.error(where + ["id"], f"finding '{kind}': described twice")
        if kind not in KINDS:
            raise document.error(where + ["id"], f"finding '{kind}': the doctor never reports it "
                                                 f"(it reports {', '.join(sorted(KINDS))})")
        advice = {"severity": raw["severity"], "link": raw["link"], "line": document.line_of(where),
                  "link_line": document.line_of(where + ["link"])}

        def render(text, location):
            try:
                return " ".join(env.from_string(text).render(lumi=facts).split())
            except jinja2.TemplateError as err:
                raise document.error(location, f"finding '{kind}': {err.message} in {text!r}") from None

        for key in TEXTS:
            advice[key] = render(raw[key], where + [key])
        advice["commands"] = [render(c, where + ["commands", i]) for i, c in enumerate(raw["commands"])]
        advice["command_lines"] = [document.line_of(where + ["commands", i]) for i in range(len(raw["commands"]))]
        page = raw["link"].partition("#")[0]
        if not (Path(docs_dir) / page).is_file():
            raise document.error(where + ["link"], f"finding '{kind}': page {page} does not exist in {docs_dir}")
        findings[kind] = advice
    missing = KINDS - set(findings)
    if missing:
        raise DataFileError(path, None, f"no advice for {', '.join(sorted(missing))}")
    return {"file": str(document.path), "findings": findings}


def doctor_data(advice, facts, site_url):
    """Only what the doctor needs: areas and quotas, the policy threshold, the advice with URLs."""
    areas = [{"name": a["area"], "prefix": "/" + a["path"].strip("/").split("/", 1)[0],
              "max_files": a["max_files"], "space_gb": a["space_gb"]} for a in facts["storage"]]
    base = site_url if site_url.endswith("/") else site_url + "/"
    return {"site_url": base, "advisor_url": base + WALKER_PATH, "areas": areas, "few_packages": facts["few_packages"],
            "bindings_modules": [facts["singularity"]["bindings_module"], facts["laif"]["bindings_module"]],
            "advice": {kind: {"severity": a["severity"], "title": a["title"], "why": a["why"], "do": a["do"],
                              "commands": a["commands"], "url": page_url(a["link"])}
                       for kind, a in sorted(advice["findings"].items())}}


def render_doctor(advice, facts, site_url=None):
    """The doctor's source code with its data built in; site_url defaults to mkdocs.yml's."""
    template = TEMPLATE_FILE.read_text(encoding="utf-8")
    if template.count(MARKER) != 1:
        raise ValueError(f"{TEMPLATE_FILE}: expected the marker line {MARKER!r} exactly once")
    text = json.dumps(doctor_data(advice, facts, site_url or site_url_of()), ensure_ascii=True, sort_keys=True)
    return template.replace(MARKER, f"DOCTOR_JSON = {text!r}")


def write_doctor(advice, facts, site_dir, site_url=None):
    """Write the doctor (executable) and its report schema into the built site; return the doctor's path."""
    target = Path(site_dir) / DOCTOR_PATH
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_doctor(advice, facts, site_url), encoding="utf-8")
    target.chmod(0o755)
    (Path(site_dir) / SCHEMA_PATH).write_text(REPORT_SCHEMA.read_text(encoding="utf-8"), encoding="utf-8")
    return target


def check_advice(advice, site_dir):
    """In the built site: every link's page and #anchor exist, every command is in that page's code."""
    site_dir = Path(site_dir)
    pages = {}
    for kind, entry in advice["findings"].items():
        page, _, anchor = entry["link"].partition("#")
        built = _built_page(site_dir, page)
        if built is None:
            raise DataFileError(advice["file"], entry["link_line"],
                                f"finding '{kind}': link {entry['link']}: page {page} was not built into {site_dir}")
        if built not in pages:
            pages[built] = (_element_ids(built), code_lines(built))
        ids, lines = pages[built]
        if anchor not in ids:
            raise DataFileError(advice["file"], entry["link_line"],
                                f"finding '{kind}': link {entry['link']}: no element with id '{anchor}' in the "
                                f"built page {built.relative_to(site_dir)} (a heading was renamed?)")
        for command, line in zip(entry["commands"], entry["command_lines"]):
            if command not in lines:
                raise DataFileError(advice["file"], line,
                                    f"finding '{kind}': command {command!r} is not shown on {page}; "
                                    "the doctor prints only commands its linked page shows")


class _CodeCollector(HTMLParser):
    """The text of every <code> element of a page (fenced blocks and inline code)."""

    def __init__(self):
        super().__init__()
        self.depth, self.texts, self.current = 0, [], []

    def handle_starttag(self, tag, attrs):
        if tag == "code":
            self.depth += 1

    def handle_endtag(self, tag):
        if tag == "code" and self.depth:
            self.depth -= 1
            if not self.depth:
                self.texts.append("".join(self.current))
                self.current = []

    def handle_data(self, data):
        if self.depth:
            self.current.append(data)


def code_lines(html_file):
    """Each line of each code element, stripped, with a console block's `$ ` prompt removed."""
    collector = _CodeCollector()
    collector.feed(html_file.read_text(encoding="utf-8"))
    lines = set()
    for text in collector.texts:
        for line in text.splitlines():
            line = line.strip()
            lines.add(line[2:] if line.startswith("$ ") else line)
    return lines
