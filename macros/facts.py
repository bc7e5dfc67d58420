"""The LUMI facts (module names, versions, quotas) every page and the test image share."""

from pathlib import Path

from .data_files import load_validated

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
FACTS_FILE = DATA_DIR / "lumi.yaml"
FACTS_SCHEMA = DATA_DIR / "lumi.schema.json"


def load_facts(path=FACTS_FILE, schema=FACTS_SCHEMA):
    """Read and validate the facts file, then add the values the pages derive from it."""
    document = load_validated(path, schema)
    facts = document.data
    stack = facts["stacks"]["lumi_versions"][0]
    if stack not in facts["cray_python"]["by_stack"]:
        raise document.error(["cray_python", "by_stack"],
                             f"no cray-python version for the example stack LUMI/{stack}")
    project = facts["example_project"]
    for area in facts["storage"]:
        area["path"] = area["path"].replace("{project}", project)
    # Derived once here so pages never spell a version out.
    facts["stack"] = stack
    facts["lumi_module"] = f"LUMI/{stack}"
    facts["cray_python"]["version"] = facts["cray_python"]["by_stack"][stack]
    facts["cray_python"]["module_version"] = f"{facts['cray_python']['module']}/{facts['cray_python']['version']}"
    facts["container_wrapper"]["version"] = facts["container_wrapper"]["versions"][0]
    facts["scratch"] = f"/scratch/{project}"
    facts["projappl"] = f"/project/{project}"
    facts["pytorch"]["image_path"] = f"{facts['pytorch']['image_dir']}/{facts['pytorch']['image']}"
    return facts
