"""Benchmark of the test node's Slurm: time from starting the daemons until sbatch accepts a job.

    python benchmarks/slurm.py      median of RUNS fresh nodes (builds the image if needed)

Measured inside the node, so the sandbox's own start-up is not counted; the goal is
GOAL_S seconds (a page with jobs should not wait for its cluster).
"""

import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import lumi_node  # noqa: E402
from macros.facts import load_facts  # noqa: E402

RUNS = 3
GOAL_S = 2.0
SCRIPT = """start=$EPOCHREALTIME
lumi-node-slurm-start
up=$EPOCHREALTIME
sbatch --account={project} --partition=small --wrap true >/dev/null
accepted=$EPOCHREALTIME
srun --account={project} --partition=small true </dev/null
ran=$EPOCHREALTIME
echo "$start $up $accepted $ran"
"""


def one_run(project):
    """(seconds until the nodes are idle, until sbatch accepted, until an srun step ran)."""
    with tempfile.TemporaryDirectory(prefix="slurm-bench-") as scratch:
        home, work = Path(scratch) / "home", Path(scratch) / "work"
        home.mkdir()
        work.mkdir()
        result = subprocess.run(lumi_node.shell_argv(home, work), input=SCRIPT.format(project=project),
                                capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise SystemExit(f"slurm benchmark: the node's Slurm failed: {result.stderr.strip()}")
    start, up, accepted, ran = (float(value) for value in result.stdout.split())
    return up - start, accepted - start, ran - start


def main():
    lumi_node.check_can_start()
    lumi_node.ensure_image()
    project = load_facts()["example_project"]
    runs = [one_run(project) for _ in range(RUNS)]
    up, accepted, ran = (statistics.median(column) for column in zip(*runs))
    print(f"| Slurm in the test node (median of {RUNS}) | seconds |")
    print("|---|---|")
    print(f"| daemons started, every node idle | {up:.2f} |")
    print(f"| first job accepted by sbatch (goal < {GOAL_S:g} s) | {accepted:.2f} |")
    print(f"| first srun step finished | {ran:.2f} |")
    return 0 if accepted < GOAL_S else 1


if __name__ == "__main__":
    sys.exit(main())
