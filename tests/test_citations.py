"""Citations: `{{ cite("id") }}` links a statement to its source, every page closes with its Sources,
and a cite or claim that does not add up stops the build with one line naming the file and line."""

import re

import yaml

from macros.sources import load_sources
from site_copy import ROOT, build, copy_site, problems

PAGE = "index.md"
CLAIM = {"source": "easybuild-containers:easybuild/easyconfigs/p/PyTorch/USER.md",
         "excerpt": "make-squashfs", "says": "The module's venv can be packed into one file."}


def nav_pages():
    """The pages mkdocs.yml's nav lists (its `!ENV` tags need no resolving for this)."""
    text = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    return re.findall(r"^  - [^:]+: (\S+\.md)$", text, re.MULTILINE)


def add_claim(project, page, claim_id, entry):
    """File `entry` under `claim_id` in the claims file of `page` (made when the page has none)."""
    folder = project / "data" / "claims"
    folder.mkdir(exist_ok=True)
    for path in folder.glob("*.yaml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if data["page"] == page:
            break
    else:
        path, data = folder / "zz-test.yaml", {"page": page, "claims": {}}
    data["claims"][claim_id] = entry
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def append(project, page, text):
    path = project / "docs" / page
    path.write_text(path.read_text(encoding="utf-8").rstrip("\n") + "\n\n" + text + "\n", encoding="utf-8")
    return path.read_text(encoding="utf-8").count("\n")


def failed_build(project, tmp_path):
    result = build(project, tmp_path / "site")
    assert result.returncode != 0
    assert "Traceback" not in result.stdout + result.stderr
    return "\n".join(problems(result))


def test_a_cite_links_to_the_file_at_its_pinned_commit_and_back(tmp_path):
    project = copy_site(tmp_path / "project")
    add_claim(project, PAGE, "test-squashfs", CLAIM)
    append(project, PAGE, 'A test statement.{{ cite("test-squashfs") }} Again.{{ cite("test-squashfs") }}')
    result = build(project, tmp_path / "site")
    assert result.returncode == 0, "\n".join(problems(result))
    html = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    marks = re.findall(r'<sup class="lumi-cite"><a id="(cite-test-squashfs(?:-2)?)" href="#(source-\d+)"', html)
    assert [m[0] for m in marks] == ["cite-test-squashfs", "cite-test-squashfs-2"]
    source_id = marks[0][1]
    item = re.search(rf'<li id="{source_id}">(.*?)</ul></li>', html, re.S).group(1)
    pinned = load_sources().sources["easybuild-containers"].commit
    assert (f'href="https://github.com/Lumi-supercomputer/LUMI-EasyBuild-containers/blob/{pinned}/'
            'easybuild/easyconfigs/p/PyTorch/USER.md"') in item
    assert f"commit <code>{pinned[:7]}</code>" in item
    assert '<a href="#cite-test-squashfs">The module&#x27;s venv can be packed into one file.</a>' in item
    assert re.search(r'<h2 id="sources">Sources', html)


def test_a_cite_of_an_unknown_claim_names_the_page_line(tmp_path):
    project = copy_site(tmp_path / "project")
    line = append(project, PAGE, 'Text.{{ cite("no-such-claim") }}')
    out = failed_build(project, tmp_path)
    assert f"docs/{PAGE}:{line}: cite('no-such-claim'): no such claim in data/claims/" in out, out


def test_a_claim_no_page_cites_names_the_claims_file_line(tmp_path):
    project = copy_site(tmp_path / "project")
    path = add_claim(project, PAGE, "lonely-claim", CLAIM)
    line = path.read_text(encoding="utf-8").splitlines().index("  lonely-claim:") + 1
    out = failed_build(project, tmp_path)
    assert f"data/claims/{path.name}:{line}: claim 'lonely-claim' is cited nowhere on docs/{PAGE}" in out, out


def test_a_claim_of_another_page_cannot_be_cited_here(tmp_path):
    project = copy_site(tmp_path / "project")
    add_claim(project, "storage/parallel-filesystems/lustre.md", "lustre-only", CLAIM)
    append(project, "storage/parallel-filesystems/lustre.md", 'Used.{{ cite("lustre-only") }}')
    line = append(project, PAGE, 'Borrowed.{{ cite("lustre-only") }}')
    out = failed_build(project, tmp_path)
    assert (f"docs/{PAGE}:{line}: cite('lustre-only'): that claim belongs to "
            "storage/parallel-filesystems/lustre.md") in out, out


def test_a_claim_from_an_unregistered_source_or_for_a_missing_page(tmp_path):
    project = copy_site(tmp_path / "project")
    path = add_claim(project, PAGE, "bad-source", dict(CLAIM, source="nowhere:README.md"))
    out = failed_build(project, tmp_path)
    assert f"data/claims/{path.name}:" in out and "source 'nowhere:README.md' names no key of data/sources.yaml" in out
    project = copy_site(tmp_path / "project2")
    (project / "data" / "claims" / "zz-missing.yaml").write_text(
        yaml.safe_dump({"page": "no/such-page.md", "claims": {"x-y": CLAIM}}), encoding="utf-8")
    out = failed_build(project, tmp_path / "second")
    assert "data/claims/zz-missing.yaml:1: page no/such-page.md does not exist in docs/" in out, out


def test_every_page_of_the_site_closes_with_its_sources(tmp_path):
    """Each page in the nav cites at least one claim, so each shows a Sources list whose
    entries link to a file of a registered repository at its pinned commit."""
    result = build(ROOT, tmp_path / "site")
    assert result.returncode == 0, "\n".join(problems(result))
    pinned = {s.commit for s in load_sources().sources.values()}
    pages = nav_pages()
    assert "software/installing/python.md" in pages, "the nav could not be read"
    for page in pages:
        html_path = tmp_path / "site" / (page[:-3] + "/index.html" if page != "index.md" else "index.html")
        html = html_path.read_text(encoding="utf-8")
        assert '<h2 id="sources">' in html, f"docs/{page} has no Sources list"
        links = re.findall(r'<li id="source-\d+"><p><a href="https://github\.com/[^/]+/[^/]+/blob/([0-9a-f]{40})/', html)
        assert links and set(links) <= pinned, f"docs/{page}: Sources must link to pinned commits"
        assert len(re.findall(r'<sup class="lumi-cite">', html)) >= len(links)


def test_two_claims_from_one_file_show_one_number_and_keep_both_back_links(tmp_path):
    project = copy_site(tmp_path / "project")
    add_claim(project, PAGE, "test-one", CLAIM)
    add_claim(project, PAGE, "test-two", dict(CLAIM, says="A second statement from the same file."))
    append(project, PAGE, 'Both at once.{{ cite("test-one", "test-two") }}')
    result = build(project, tmp_path / "site")
    assert result.returncode == 0, "\n".join(problems(result))
    html = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    [mark] = [m for m in re.findall(r'<sup class="lumi-cite">(.*?)</sup>', html) if "cite-test-one" in m]
    assert len(re.findall(r"<a ", mark)) == 1 and 'id="test-two"' not in mark
    assert 'id="cite-test-one"' in mark and '<span id="cite-test-two"></span>' in mark
    assert 'href="#cite-test-two">A second statement from the same file.</a>' in html
