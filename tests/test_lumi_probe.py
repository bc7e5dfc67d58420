"""The probe, run inside the test node, reproduces the snapshot the node was built from.

This tests scripts/lumi_probe.py against real Lmod output (`module --terse avail`,
`module show`), a real cotainr, real image directories and the node's Slurm, so a
probe run on LUMI reads the same formats. Only what the node cannot be is left out,
each with its reason in KNOWN_DIFFERENCES.
"""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import lumi_node
from macros.system_snapshot import differences, load_snapshot, probe_plan, without_sources
from site_copy import ROOT

PROBE = ROOT / "scripts" / "lumi_probe.py"
KNOWN_DIFFERENCES = {
    # The node's system python3 is Debian's (sid), not SUSE's 3.6: Debian has no 3.6 to install.
    r"^os_python\.version:": "Debian's python3",
    # LUMI's EasyBuild-user computes its EASYBUILD_* settings from EBU_USER_PREFIX and the
    # partition loaded; the snapshot records only that it brings `eb`. The node's module sets
    # the same variables for its own EasyBuild (image/easybuild_config.py), whose robot path
    # holds the node's own easyconfigs and whose `eb` lives in the node's prefix.
    r"^stacks\.[^ ]+\.modules\.EasyBuild-user/[^ ]+\.(setenv|prepend_path):": "EasyBuild-user settings",
}


@pytest.fixture(scope="module")
def probed(image, tmp_path_factory):
    base = tmp_path_factory.mktemp("probe")
    home, work = base / "home", base / "work"
    home.mkdir()
    work.mkdir()
    (work / "lumi_probe.py").write_bytes(PROBE.read_bytes())
    (work / "plan.json").write_text(json.dumps(probe_plan(load_snapshot())), encoding="utf-8")
    result = subprocess.run(lumi_node.shell_argv(home, work),
                            input="lumi-node-slurm-start >&2\npython3 lumi_probe.py --plan plan.json\n",
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"the probe failed in the node:\n{result.stderr}"
    return json.loads(result.stdout)


def test_probe_reproduces_the_snapshot_in_the_node(probed):
    expected = without_sources(load_snapshot().data)
    lines = [line for line in differences(expected, without_sources(probed))
             if not any(re.match(pattern, line) for pattern in KNOWN_DIFFERENCES)]
    assert lines == [], "the probe and the snapshot disagree:\n" + "\n".join(lines)


def test_probe_marks_every_entry_as_probed_and_dates_it(probed):
    assert probed["snapshot"]["method"] == "probe"
    assert all(stack["source"] == "probe" for stack in probed["stacks"])
    system = [m for s in probed["stacks"] for m in s["modules"] if m["installed"] == "system"]
    assert system and all(m["source"] == "probe" for m in system)


def test_probe_runs_on_python_36():
    """vermin checks the probe needs nothing newer than LUMI's system Python 3.6."""
    vermin = Path(sys.executable).with_name("vermin")
    result = subprocess.run([str(vermin), "-t=3.6-", "--no-tips", "--violations", str(PROBE)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_probe_says_why_when_the_plan_is_unreadable(tmp_path):
    result = subprocess.run([sys.executable, str(PROBE), "--plan", str(tmp_path / "none.json")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.startswith(f"lumi_probe: cannot read the plan {tmp_path / 'none.json'}:")
    assert "Traceback" not in result.stderr
