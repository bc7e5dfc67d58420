"""The system snapshot is the oracle: lumi.yaml, the pages and the tree must agree with it.

Each case writes a fact LUMI does not have into a copy of the site (data/lumi.yaml or a
page) and requires the strict build to fail with one line naming the file, the line and
what the snapshot has instead.
"""

import shutil

import pytest

from macros.data_files import DataFileError
from macros.facts import FACTS_FILE, FACTS_SCHEMA, load_facts
from macros.snapshot_checks import module_problems
from macros.system_snapshot import SNAPSHOT_FILE, SNAPSHOT_SCHEMA, differences, load_snapshot, probe_plan
from site_copy import build, copy_site, problems

SNAPSHOT = load_snapshot()
FACTS = load_facts()


def edited_copy(tmp_path, source, old, new):
    """A copy of a data file (with its schema) where the one line `old` becomes `new`."""
    lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
    index = [i for i, line in enumerate(lines) if line.rstrip("\n") == old]
    assert len(index) == 1, f"{source} no longer has exactly one line {old!r}"
    lines[index[0]] = new + "\n"
    target = tmp_path / source.name
    target.write_text("".join(lines), encoding="utf-8")
    return target, index[0] + 1


def facts_with(tmp_path, old, new):
    path, line = edited_copy(tmp_path, FACTS_FILE, old, new)
    shutil.copy2(FACTS_SCHEMA, tmp_path / FACTS_SCHEMA.name)
    with pytest.raises(DataFileError) as caught:
        load_facts(path, tmp_path / FACTS_SCHEMA.name)
    return str(caught.value), f"{path}:{line}"


def test_example_stack_is_the_snapshots_default():
    assert FACTS["lumi_module"] == SNAPSHOT.default_stack()["name"]


def test_a_stack_lumi_does_not_have_fails(tmp_path):
    message, where = facts_with(tmp_path, "example_stack: LUMI/25.03", "example_stack: LUMI/24.11")
    assert message.startswith(f"{where}: LUMI/24.11 is not a stack on LUMI (the snapshot has CrayEnv, LUMI/25.03")


def test_an_unsupported_stack_fails(tmp_path):
    message, where = facts_with(tmp_path, "example_stack: LUMI/25.03", "example_stack: LUMI/24.03")
    assert message == (f"{where}: LUMI/24.03 is unsupported on LUMI; examples use the default stack, "
                       "which the snapshot says is LUMI/25.03")


def test_a_wrapper_version_that_never_existed_fails(tmp_path):
    message, where = facts_with(tmp_path, "  module: lumi-container-wrapper",
                                "  module: lumi-container-wrapper\n  version: 0.5.2")
    line = int(where.rsplit(":", 1)[1]) + 1
    assert message == (f"{where.rsplit(':', 1)[0]}:{line}: lumi-container-wrapper 0.5.2 is not on LUMI/25.03 "
                       "(the snapshot has 0.4.2-cray-python-3.11.7)")


def test_a_variable_the_module_does_not_set_fails(tmp_path):
    message, where = facts_with(tmp_path, "  variables: [SIF, SINGULARITY_BIND, RUNSCRIPTS, CONTAINERROOT]",
                                "  variables: [SIF, SINGULARITY_BINDPATH]")
    assert message.startswith(f"{where}: PyTorch/") and "does not set SINGULARITY_BINDPATH" in message


PAGE_CASES = {
    "a stack LUMI lacks": ("module load LUMI/24.11",
                           "LUMI/24.11 is not a stack on LUMI (the snapshot has CrayEnv, LUMI/25.03"),
    "a wrapper version that never existed": (
        "module load LUMI/25.03 lumi-container-wrapper/0.5.2",
        "lumi-container-wrapper/0.5.2 is not on LUMI/25.03 (the snapshot has "
        "lumi-container-wrapper/0.4.2-cray-python-3.11.7)"),
    "a container module loaded before its install": (
        "module load {{ lumi.lumi_module }} {{ lumi.pytorch.module }}",
        f"{FACTS['pytorch']['module']} is not preinstalled on LUMI: each user installs it first with "
        f"`eb {FACTS['pytorch']['easyconfig']}`"),
}


@pytest.mark.parametrize("case", PAGE_CASES)
def test_page_module_load_the_snapshot_lacks_fails_the_build(tmp_path, case):
    command, expected = PAGE_CASES[case]
    project = copy_site(tmp_path / "project")
    page = project / "docs" / "index.md"
    text = page.read_text(encoding="utf-8")
    line = text.count("\n") + 4  # blank, comment, fence, then the command
    # Marked skip, so only the build's check can catch it, not the test node.
    page.write_text(text + '\n<!-- skip: next if(True, reason="shown only") -->\n```bash\n' + command + "\n```\n",
                    encoding="utf-8")
    result = build(project, tmp_path / "site")
    assert result.returncode != 0
    assert "Traceback" not in result.stdout + result.stderr
    # MkDocs prints its own "Error reading page" line first; ours is the one that says why.
    [message] = [m for m in problems(result) if "docs/index.md:" in m]
    assert message.startswith(f"ERROR   -  docs/index.md:{line}: {expected}"), message


def test_install_then_load_passes():
    pytorch = FACTS["pytorch"]
    markdown = (f"```bash\nmodule load LUMI/25.03 partition/container EasyBuild-user\n"
                f"eb {pytorch['easyconfig']}\nmodule load {pytorch['module']}\n```\n")
    assert module_problems(markdown, SNAPSHOT) == []


def test_partition_the_stack_lacks_is_named():
    assert module_problems("```bash\nmodule load LUMI/25.03 partition/X\n```\n", SNAPSHOT) == [
        (2, "partition/X is not in LUMI/25.03 (the snapshot has partition/C, partition/G, "
            "partition/L, partition/container)")]


def test_snapshot_source_must_name_a_known_repository(tmp_path):
    path, line = edited_copy(tmp_path, SNAPSHOT_FILE, "  source: user-guide:docs/runjobs/scheduled-jobs/partitions.md",
                             "  source: nowhere:partitions.md")
    shutil.copy2(SNAPSHOT_SCHEMA, tmp_path / SNAPSHOT_SCHEMA.name)
    with pytest.raises(DataFileError) as caught:
        load_snapshot(path, tmp_path / SNAPSHOT_SCHEMA.name)
    assert str(caught.value).startswith(f"{path}:{line}: source 'nowhere:partitions.md' names 'nowhere'")


def test_snapshot_needs_exactly_one_default_stack(tmp_path):
    path, _ = edited_copy(tmp_path, SNAPSHOT_FILE, "    status: default", "    status: supported")
    shutil.copy2(SNAPSHOT_SCHEMA, tmp_path / SNAPSHOT_SCHEMA.name)
    with pytest.raises(DataFileError, match="exactly one stack must have status default, found none"):
        load_snapshot(path, tmp_path / SNAPSHOT_SCHEMA.name)


def test_every_entry_has_a_source_and_the_snapshot_a_date():
    assert SNAPSHOT.date.year >= 2026
    for stack in SNAPSHOT.data["stacks"]:
        assert stack["source"]
        for module in stack["modules"]:
            assert module["source"], module["name"]


def test_plan_lists_what_the_probe_must_find():
    plan = probe_plan(SNAPSHOT)
    assert "cray-python" in plan["stacks"]["LUMI/25.03"]["modules"]
    assert [m["name"] for m in plan["stacks"]["LUMI/25.03"]["user_modules"]] == (
        [FACTS["pytorch"]["module"]] + [c["module"] for c in FACTS["stacks"]["container_only"]])
    assert plan["image_dirs"][0] == FACTS["pytorch"]["image_dir"]


def test_differences_name_what_changed():
    old = {"stacks": [{"name": "LUMI/25.03", "status": "default", "modules": [{"name": "a/1"}]}]}
    new = {"stacks": [{"name": "LUMI/25.03", "status": "supported", "modules": [{"name": "a/2"}]}]}
    assert differences(old, new) == [
        "stacks.LUMI/25.03.status: snapshot 'default', system 'supported'",
        "stacks.LUMI/25.03.modules.a/1: in the snapshot, not seen on the system",
        "stacks.LUMI/25.03.modules.a/2: seen on the system, not in the snapshot: {'name': 'a/2'}"]


def run_age(*args):
    import subprocess
    import sys
    return subprocess.run([sys.executable, "scripts/snapshot_age.py", *args], capture_output=True, text=True,
                          timeout=60)


def test_snapshot_age_fails_past_90_days():
    day = SNAPSHOT.date
    fresh = run_age("--today", day.isoformat())
    assert fresh.returncode == 0 and "0 days old" in fresh.stdout
    import datetime
    stale = run_age("--today", (day + datetime.timedelta(days=91)).isoformat())
    assert stale.returncode == 1
    assert stale.stdout.strip() == (f"lumi_system.yaml: the snapshot of {day} is 91 days old (more than 90): "
                                    "refresh it with scripts/lumi_probe.py on LUMI (README, 'Refreshing the snapshot')")


def test_every_page_footer_says_when_facts_were_checked(tmp_path):
    result = build(copy_site(tmp_path / "project"), tmp_path / "site")
    assert result.returncode == 0, result.stderr
    pages = list((tmp_path / "site").rglob("*.html"))
    assert len(pages) >= 8
    line = (f'<p class="lumi-snapshot">LUMI facts last checked on {SNAPSHOT.data["snapshot"]["date"]}, '
            "from LUMI&#39;s public repositories (the system snapshot).</p>")
    for page in pages:
        if page.name == "404.html":
            continue
        assert line in page.read_text(encoding="utf-8").replace("LUMI's", "LUMI&#39;s"), page
