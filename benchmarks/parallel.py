"""Wall time of `pytest docs` serial and with pytest-xdist (-n 2 --dist loadfile), with their counts.

The counts must be equal: a page's blocks run in one worker, in order, so spreading
pages over workers may change the time and nothing else. Runs the container mode
when the image is built (else --on-host). Exit status 1 when the counts differ.
"""

import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
WORKERS = 2
GOAL_RATIO = 0.75
COUNTS = re.compile(r"(\d+) (passed|failed|skipped|errors?|xfailed|xpassed|deselected)")


def mode():
    try:
        from image import build
        if build.is_ready(build.node_dir()):
            return [], "container"
    except Exception:  # no image module, or a broken facts file: measure the host mode
        pass
    return ["--on-host"], "host (--on-host)"


def run(extra):
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "docs", *extra]
    start = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=3600)
    seconds = time.perf_counter() - start
    lines = result.stdout.strip().splitlines()
    summary = lines[-1] if lines else "(no output)"
    counts = {kind.rstrip("s") if kind.startswith("error") else kind: int(number)
              for number, kind in COUNTS.findall(summary)}
    return seconds, counts, summary


def main():
    extra, label = mode()
    print(f"`pytest docs` in the {label}, wall time")
    run(extra)  # warm-up: page renders, image checks and file caches as in a second run
    serial = run(extra)
    parallel = run([*extra, "-n", str(WORKERS), "--dist", "loadfile"])
    for name, (seconds, _, summary) in (("serial", serial), (f"-n {WORKERS} --dist loadfile", parallel)):
        print(f"  {name:24} {seconds:7.1f} s   {summary.strip('= ')}")
    ratio = parallel[0] / serial[0]
    print(f"  parallel / serial: {ratio:.2f} (goal at most {GOAL_RATIO})")
    if parallel[1] != serial[1]:
        print(f"  counts differ: serial {serial[1]}, parallel {parallel[1]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
