"""Benchmark of EasyBuild in the test node: `eb` installing a container module from our easyconfig.

    python benchmarks/easybuild.py      one install in a fresh node (builds the image if needed)

Times the real `eb <easyconfig>` of the snapshot's first container module with an image
in the node (copy of the image, venv made in the container, module file), measured inside
the node.
"""

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import lumi_node  # noqa: E402
from image.easyconfigs import source_image  # noqa: E402
from macros.facts import load_facts  # noqa: E402
from macros.system_snapshot import load_snapshot  # noqa: E402


def main():
    lumi_node.check_can_start()
    lumi_node.ensure_image()
    snapshot, facts = load_snapshot(), load_facts()
    entry, stack = next((e, s) for s in snapshot.stack_names() for e in snapshot.modules(s, installed="user")
                        if e.get("partition") == "container" and source_image(e, snapshot.image_paths()))
    script = f"""set -e
export EBU_USER_PREFIX=/project/{facts['example_project']}/EasyBuild
module load {stack} partition/container EasyBuild-user
start=$EPOCHREALTIME
eb {entry['easyconfig']} >eb.out 2>&1 || {{ tail -n 20 eb.out >&2; exit 1; }}
end=$EPOCHREALTIME
module load {entry['name']}
echo "$start $end"
"""
    with tempfile.TemporaryDirectory(prefix="eb-bench-") as scratch:
        home, work = Path(scratch) / "home", Path(scratch) / "work"
        home.mkdir()
        work.mkdir()
        result = subprocess.run(lumi_node.shell_argv(home, work), input=script, capture_output=True,
                                text=True, timeout=600)
    if result.returncode != 0:
        print(f"easybuild benchmark: eb failed in the node:\n{result.stderr.strip()}", file=sys.stderr)
        return 1
    start, end = (float(value) for value in result.stdout.split())
    print("| EasyBuild in the test node | seconds |")
    print("|---|---|")
    print(f"| eb {entry['easyconfig']} (install, module loads after) | {end - start:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
