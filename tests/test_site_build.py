"""The site builds strictly, and each kind of broken source fails the build with a message naming file and problem."""

import posixpath
import re
from pathlib import PurePosixPath
from urllib.parse import urljoin, urlsplit

import jinja2
import pytest

from macros.build_checks import front_matter_lines, leftover_link_labels, template_problem
from macros.facts import load_facts
from macros.quantities import grouped, size_gb
from site_copy import ROOT, build, copy_site, problems, replace_once

DOCS = ROOT / "docs"
PYTHON_PAGE = "software/installing/python.md"

# The link labels of the original LUMI page (software/installing/python.md upstream), with the
# targets of the internal ones. Hard-coded because the reference copy of that page is not
# available in CI; the rewritten page must keep every label working.
EXTERNAL_LABELS = ["conda", "conda-env", "pip", "pip-virt-env", "python", "scientific-python"]
INTERNAL_TARGETS = {
    "container-virt-env-example":
        "../../software/packages/pytorch.md#installing-other-packages-along-the-containers-pytorch-installation",
    "cotainr": "../containers/singularity.md#building-containers-using-cotainr",
    "csc-software-stack": "../local/csc.md",
    "lumi-software-stack": "../../runjobs/lumi_env/softwarestacks.md",
    "lustre": "../../storage/parallel-filesystems/lustre.md",
    "pull-container": "../containers/singularity.md#pulling-container-images-from-a-registry",
    "singularity-build": "../containers/singularity.md#building-apptainersingularity-sif-containers",
    "singularity-containers": "../containers/singularity.md",
    "tykky": "./container-wrapper.md",
}


@pytest.fixture(scope="module")
def built_site(tmp_path_factory):
    """One strict build of the real sources, shared by the tests that read its HTML."""
    site = tmp_path_factory.mktemp("site")
    result = build(ROOT, site)
    return result, site


def broken_build(tmp_path, page, old, new, quiet=False):
    """Build a copy of the sources in which `page` had `old` replaced by `new` (`old=None`: `new` appended)."""
    project = copy_site(tmp_path / "project")
    if old is None:
        path = project / "docs" / page
        path.write_text(path.read_text(encoding="utf-8").rstrip("\n") + "\n\n" + new + "\n", encoding="utf-8")
    else:
        replace_once(project / "docs" / page, old, new)
    result = build(project, tmp_path / "site", quiet=quiet)
    assert result.returncode != 0, f"the build passed although {page} was broken"
    assert "Traceback" not in result.stdout + result.stderr
    return problems(result)


def append_after_last_line(tmp_path, page, addition, quiet=False):
    return broken_build(tmp_path, page, None, addition, quiet)


# --------------------------------------------------------------- the real site

def test_strict_build_passes_without_warnings(built_site):
    result, _ = built_site
    assert result.returncode == 0, "\n".join(problems(result)) or result.stderr
    assert problems(result) == []


def test_python_page_defines_and_uses_every_original_label():
    text = (DOCS / PYTHON_PAGE).read_text(encoding="utf-8")
    for label in EXTERNAL_LABELS + list(INTERNAL_TARGETS):
        definition = re.compile(rf"^ {{0,3}}\[{re.escape(label)}\]:[ \t]*\S", re.MULTILINE | re.IGNORECASE)
        assert definition.search(text), f"{PYTHON_PAGE}: no definition for link label [{label}]"
        body = definition.sub("", text)
        use = re.compile(rf"\]\[{re.escape(label)}\]|(?<!\])\[{re.escape(label)}\](?![(:])", re.IGNORECASE)
        assert use.search(body), f"{PYTHON_PAGE}: link label [{label}] is defined but never used"
    for label, target in INTERNAL_TARGETS.items():
        found = re.search(rf"^ {{0,3}}\[{re.escape(label)}\]:[ \t]*(\S+)", text, re.MULTILINE | re.IGNORECASE)
        assert found.group(1) == target, f"{PYTHON_PAGE}: [{label}] points to {found.group(1)}, not {target}"


def test_every_internal_link_of_the_python_page_reaches_its_anchor(built_site):
    result, site = built_site
    assert result.returncode == 0
    page_url = "software/installing/python/"
    page_html = (site / page_url / "index.html").read_text(encoding="utf-8")
    reached = set()
    for href in re.findall(r'<a [^>]*href="([^"]+)"', page_html):
        if urlsplit(href).scheme or href.startswith(("#", "mailto:")):
            continue
        # A made-up host turns urljoin into plain path arithmetic, "../" included.
        target = urlsplit(urljoin("http://site/" + page_url, href))
        path = target.path.lstrip("/")
        html_file = site / path / "index.html" if not path or path.endswith("/") else site / path
        assert html_file.is_file(), f"{PYTHON_PAGE}: link {href} leads to no page"
        if target.fragment:
            ids = set(re.findall(r'\sid="([^"]+)"', html_file.read_text(encoding="utf-8")))
            assert target.fragment in ids, f"{PYTHON_PAGE}: link {href} leads to a missing anchor"
        reached.add((path, target.fragment))
    for label, target in INTERNAL_TARGETS.items():
        path, _, fragment = target.partition("#")
        doc = posixpath.normpath(posixpath.join(posixpath.dirname(PYTHON_PAGE), path))
        url = str(PurePosixPath(doc).with_suffix("")) + "/"
        assert (url, fragment) in reached, f"{PYTHON_PAGE}: no working link for [{label}] ({target})"


# ------------------------------------------------------ facts never written by hand

def hand_written_fact_patterns():
    """Regexes for every value in data/lumi.yaml that a page must take from `{{ lumi.* }}`."""
    facts = load_facts()
    values = set()

    def walk(value):
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, str) and (
                re.fullmatch(r"\d+(\.\d+)+", value)        # versions: 24.03, 3.11.7
                or re.match(r"/|[\w.-]+/\d", value)):        # paths and module/version names
            values.add(value)

    walk(facts)
    # Quotas are numbers in the data; a page would write them as the filters print them.
    for area in facts["storage"]:
        values |= {size_gb(area["space_gb"]), grouped(area["max_files"])}
        values |= {size_gb(area["grows_to_gb"])} if area["grows_to_gb"] else set()
    values |= {facts["example_project"], facts["example_project"].split("_")[-1], facts["pytorch"]["image"]}
    return {value: re.compile(rf"(?<![\w.]){re.escape(value)}(?![\w]|\.\d)") for value in values}


def test_hand_written_facts_pattern_set_covers_the_kinds_of_facts():
    patterns = hand_written_fact_patterns()
    facts = load_facts()
    for expected in [facts["stack"], facts["lumi_module"], facts["cray_python"]["module_version"],
                     facts["pytorch"]["module"], facts["pytorch"]["image"], facts["pytorch"]["image_dir"],
                     facts["example_project"], facts["csc"]["modulepath"], facts["os_python"]["version"],
                     grouped(facts["storage"][0]["max_files"]), size_gb(facts["storage"][0]["space_gb"])]:
        assert expected in patterns


def test_no_page_writes_a_fact_by_hand():
    patterns = hand_written_fact_patterns()
    found = []
    for page in sorted(DOCS.rglob("*.md")):
        for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
            for value, pattern in patterns.items():
                if pattern.search(line):
                    found.append(f"{page.relative_to(ROOT)}:{number}: {value!r} written by hand; use {{{{ lumi.* }}}}")
    assert not found, "\n".join(found)


# ----------------------------------------------------- broken copies fail clearly

def test_undefined_fact_fails_with_file_and_line(tmp_path):
    page = "software/local/csc.md"
    line = len((DOCS / page).read_text(encoding="utf-8").rstrip("\n").splitlines()) + 2
    messages = append_after_last_line(tmp_path, page, "Stack: {{ lumi.nope }}")
    assert any(f"docs/{page}:{line}: undefined fact or macro" in m and "nope" in m for m in messages), messages


def test_link_to_missing_page_fails_even_with_quiet(tmp_path):
    page = "storage/parallel-filesystems/lustre.md"
    messages = append_after_last_line(tmp_path, page, "See [the missing page](no-such-page.md).", quiet=True)
    assert any(page in m and "no-such-page.md" in m for m in messages), messages


def test_renamed_heading_breaks_anchor_and_fails(tmp_path):
    messages = broken_build(tmp_path, "software/containers/singularity.md",
                            "## Building containers using cotainr\n", "## Containers from Conda files\n")
    assert any(PYTHON_PAGE in m and "#building-containers-using-cotainr" in m for m in messages), messages


def test_undefined_reference_label_fails(tmp_path):
    page = "index.md"
    messages = append_after_last_line(tmp_path, page, "Read [the guide][no-such-label] first.")
    assert any(f"docs/{page}" in m and "[no-such-label]" in m for m in messages), messages


# ------------------------------------------------------- the check logic itself

def test_leftover_labels_found_in_prose_only():
    html = ("<p>See [the docs][nolabel] and [alone].</p><pre><code>[x][y] [z]</code></pre>"
            "<p>a[0] and <code>[inline]</code> and [<em>split</em> text][lbl]</p>")
    assert leftover_link_labels(html) == [("nolabel", "[the docs][nolabel]"), ("alone", "[alone]"),
                                          ("lbl", "[split text][lbl]")]


def test_template_problem_is_one_line_with_line_number():
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    markdown = "# Title\n\nfine {{ lumi.stack }}\nbad {{ lumi.nope }}\n"
    message = template_problem(env, markdown, {"lumi": {"stack": "x"}}, "docs/p.md", line_offset=3)
    assert message.startswith("docs/p.md:7: undefined fact or macro:") and "\n" not in message
    assert template_problem(env, "{{ 'a' ", {}, "docs/q.md").startswith("docs/q.md:1: template syntax error")
    assert template_problem(env, markdown.replace("nope", "stack"), {"lumi": {"stack": "x"}}, "docs/p.md") is None


def test_front_matter_shifts_reported_lines():
    raw = "---\ntitle: T\n---\n# Heading\n\n{{ lumi.nope }}\n"
    body = raw.split("---\n", 2)[2]
    offset = front_matter_lines(raw, body)
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    message = template_problem(env, body, {"lumi": {}}, "docs/fm.md", offset)
    assert message.startswith("docs/fm.md:6: ")
