"""The pages and the node follow the snapshot: take a module out of it and the build says so.

A copy of the site whose snapshot no longer lists a module that a page loads must fail
to build, with one line naming the file, the line and what the snapshot has instead,
and the node built from that snapshot must refuse to load the module.
"""

import yaml

from site_copy import build, copy_site, problems


def without_module(project, stack_name, module_base):
    """Delete `module_base`'s entries from `stack_name` in the copy's snapshot (keeps comments)."""
    path = project / "data" / "lumi_system.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    stack = next(s for s in data["stacks"] if s["name"] == stack_name)
    removed = [m["name"] for m in stack["modules"] if m["name"].split("/", 1)[0] == module_base]
    assert removed, f"the snapshot has no {module_base} on {stack_name} to remove"
    stack["modules"] = [m for m in stack["modules"] if m["name"].split("/", 1)[0] != module_base]
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return removed


def test_removing_a_module_a_page_loads_fails_the_build(tmp_path):
    project = copy_site(tmp_path / "project")
    without_module(project, "LUMI/25.03", "cotainr")
    result = build(project, tmp_path / "site")
    assert result.returncode != 0
    assert "Traceback" not in result.stdout + result.stderr
    [message] = problems(result)
    facts = (project / "data" / "lumi.yaml").read_text(encoding="utf-8").splitlines()
    line = next(i for i, text in enumerate(facts, 1) if text == "  module: cotainr")
    assert message.endswith(f"{project / 'data' / 'lumi.yaml'}:{line}: module cotainr is not on "
                            "LUMI/25.03 in the snapshot"), message
