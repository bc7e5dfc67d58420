"""`pytest docs --on-host` on LUMI: probe the live system first and print how it differs from the snapshot.

The snippets are only as true as data/lumi_system.yaml; on a real login node the probe
(scripts/lumi_probe.py) shows at once what LUMI changed since the snapshot was taken,
so a failing snippet can be read against it. The differences are printed, not failed
on: refreshing the snapshot is a maintainer's decision (README, "Refreshing the snapshot").
"""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from macros.system_snapshot import differences, load_snapshot, probe_plan, without_sources

ROOT = Path(__file__).resolve().parents[2]
PROBE = ROOT / "scripts" / "lumi_probe.py"
PROBE_TIMEOUT = 900  # seconds: a few hundred `module` calls on a busy login node


def probe_differences(python=sys.executable, run=subprocess.run):
    """Lines saying how the system this runs on differs from the snapshot (or why the probe failed)."""
    snapshot = load_snapshot()
    with tempfile.TemporaryDirectory() as scratch:
        plan = Path(scratch) / "plan.json"
        plan.write_text(json.dumps(probe_plan(snapshot)), encoding="utf-8")
        result = run([python, str(PROBE), "--plan", str(plan)], capture_output=True, text=True,
                     timeout=PROBE_TIMEOUT)
    if result.returncode != 0:
        return [f"the probe failed (exit status {result.returncode}): {result.stderr.strip()}"]
    return differences(without_sources(snapshot.data), without_sources(json.loads(result.stdout)))


def report(terminal_write):
    """Print the probe's findings before the snippets run."""
    lines = probe_differences()
    terminal_write(f"LUMI system snapshot vs this system: {len(lines) or 'no'} difference(s)\n")
    for line in lines:
        terminal_write(f"  {line}\n")
