"""Run every benchmark of the project in one go and print their tables (`make bench`)."""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Each script prints its own table; they are independent so one failing does not hide the others.
BENCHMARKS = ["site.py", "widget_size.py", "decision_tree.py", "image.py", "slurm.py", "easybuild.py",
              "snippets.py", "parallel.py", "doctor.py"]


def main():
    failed = []
    for name in BENCHMARKS:
        script = HERE / name
        print(f"\n=== {name} ===", flush=True)
        if subprocess.run([sys.executable, str(script)], cwd=HERE.parent).returncode != 0:
            failed.append(name)
    if failed:
        print(f"\nbenchmarks that failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
