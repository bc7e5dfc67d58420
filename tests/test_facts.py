"""The facts file loads, and every kind of mistake in it is reported by file and line."""

import shutil

import pytest
import yaml

from macros.data_files import DataFileError
from macros.facts import FACTS_FILE, FACTS_SCHEMA, load_facts
from macros.system_snapshot import load_snapshot
from site_copy import build, copy_site, problems


def raw_facts():
    return yaml.safe_load(FACTS_FILE.read_text(encoding="utf-8"))


def broken_copy(tmp_path, old, new):
    """A copy of lumi.yaml (and its schema) with the one line `old` replaced by `new`."""
    lines = FACTS_FILE.read_text(encoding="utf-8").splitlines(keepends=True)
    matches = [i for i, line in enumerate(lines) if line.rstrip("\n") == old]
    assert len(matches) == 1, f"{FACTS_FILE} no longer has exactly one line {old!r}"
    index = matches[0]
    if new is None:
        del lines[index]
    else:
        lines[index] = new + "\n"
    path = tmp_path / "lumi.yaml"
    path.write_text("".join(lines), encoding="utf-8")
    shutil.copy2(FACTS_SCHEMA, tmp_path / "lumi.schema.json")
    return path, index + 1


def test_facts_load_and_derive_from_the_data_file():
    facts, raw = load_facts(), raw_facts()
    snapshot = load_snapshot()
    assert facts["lumi_module"] == raw["example_stack"]
    [python] = snapshot.module_versions(raw["example_stack"], raw["cray_python"]["module"])
    assert facts["cray_python"]["module_version"] == python
    assert facts["scratch"] == f"/scratch/{raw['example_project']}"
    assert facts["pytorch"]["image_path"].endswith("/" + raw["pytorch"]["image"])
    assert "{project}" not in "".join(area["path"] for area in facts["storage"])


def test_bad_yaml_syntax_names_file_and_line(tmp_path):
    path, line = broken_copy(tmp_path, "  filesystems: 4", "  filesystems: [4")
    with pytest.raises(DataFileError) as caught:
        load_facts(path, tmp_path / "lumi.schema.json")
    assert caught.value.path == path
    # An unclosed bracket is noticed where the next token cannot continue it.
    assert line <= caught.value.line <= line + 1
    assert "not valid YAML" in str(caught.value)


def test_wrong_type_names_file_line_and_key(tmp_path):
    path, line = broken_copy(tmp_path, "  filesystems: 4", "  filesystems: four")
    with pytest.raises(DataFileError) as caught:
        load_facts(path, tmp_path / "lumi.schema.json")
    assert (caught.value.path, caught.value.line) == (path, line)
    assert "lustre/filesystems" in str(caught.value) and "integer" in str(caught.value)


def test_missing_key_names_file_line_and_key(tmp_path):
    venv_line = next(line for line in FACTS_FILE.read_text().splitlines() if line.startswith("  venv_in_image:"))
    path, _ = broken_copy(tmp_path, venv_line, None)
    with pytest.raises(DataFileError) as caught:
        load_facts(path, tmp_path / "lumi.schema.json")
    pytorch_line = path.read_text().splitlines().index("pytorch:") + 1
    assert caught.value.path == path
    # The missing key is reported at the mapping that lacks it (its first key, after comments).
    assert pytorch_line <= caught.value.line <= pytorch_line + 3
    assert "'venv_in_image' is a required property" in str(caught.value)


def test_build_with_broken_facts_fails_in_one_line(tmp_path):
    project = copy_site(tmp_path / "project")
    data = project / "data" / "lumi.yaml"
    text = data.read_text(encoding="utf-8")
    assert text.count("\n  filesystems: 4\n") == 1
    data.write_text(text.replace("\n  filesystems: 4\n", "\n  filesystems: four\n"), encoding="utf-8")
    line = data.read_text().splitlines().index("  filesystems: four") + 1

    result = build(project, tmp_path / "site")

    assert result.returncode != 0
    assert "Traceback" not in result.stdout + result.stderr
    [message] = problems(result)
    assert message.endswith(f"Bad data file: {data}:{line}: at lustre/filesystems: 'four' is not of type 'integer'")


@pytest.mark.parametrize("old, new, problem", [
    ("    max_files: 2000000", '    max_files: "lots"', "at storage/2/max_files: 'lots' is not of type 'integer'"),
    ("    space_gb: 50000", "    space_gb: 50 TB", "at storage/2/space_gb: '50 TB' is not of type 'integer'"),
    ("    retention_days: 90", "    retention_days: 90 days",
     "at storage/2/retention_days: '90 days' is not of type 'integer', 'null'"),
    ("    path: /scratch/{project}", "    path: scratch/{project}",
     "at storage/2/path: 'scratch/{project}' does not match '^/[^\\\\s]*$'"),
])
def test_quotas_are_numbers_and_paths_are_paths(tmp_path, old, new, problem):
    # The pages format these values; a string would be published as it stands.
    path, line = broken_copy(tmp_path, old, new)
    with pytest.raises(DataFileError) as caught:
        load_facts(path, tmp_path / "lumi.schema.json")
    assert str(caught.value) == f"{path}:{line}: {problem}"
