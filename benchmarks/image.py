"""Benchmark of the test container: cold build time and shell start time.

    python benchmarks/image.py          last recorded cold build + start times (builds if needed)
    python benchmarks/image.py --cold   also time a cold build now (minutes; leaves the cache alone)
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import lumi_node  # noqa: E402
from image import base, build  # noqa: E402

START_GOAL_MS = 100


def cold_build():
    """Build stage one from nothing in a scratch directory; record and return seconds."""
    facts = build.read_facts()
    scratch = Path(tempfile.mkdtemp(prefix="cold-", dir=build.CACHE.parent))
    try:
        seconds = base.build_base(scratch / "base", base.base_facts(facts), scratch / "build.log")
    finally:
        base.remove_tree(scratch)
    build.LAST_COLD_BUILD.write_text(json.dumps(
        {"seconds": seconds, "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}) + "\n",
        encoding="utf-8")
    return seconds


def median_ms(argv, runs, stdin=None):
    """Median wall time of `runs` runs of argv, in milliseconds."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, input=stdin, capture_output=True, text=True, check=True, timeout=60)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main():
    """Print the numbers."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold", action="store_true", help="time a cold build now (minutes)")
    parser.add_argument("--runs", type=int, default=20, help="container starts to time")
    args = parser.parse_args()
    if args.cold:
        try:
            print(f"image: cold build (stage one, from nothing) {cold_build():.0f} s")
        except base.BuildError as err:
            print(f"image: cold build failed: {err}", file=sys.stderr)
            return 1
    elif build.LAST_COLD_BUILD.is_file():
        last = json.loads(build.LAST_COLD_BUILD.read_text(encoding="utf-8"))
        print(f"image: last recorded cold build {last['seconds']:.0f} s ({last['date']}; "
              "--cold measures anew)")
    else:
        print("image: no cold build recorded yet (run with --cold)")
    try:
        lumi_node.check_can_start()
        lumi_node.ensure_image()
    except lumi_node.LumiNodeError as err:
        print(f"image: container unavailable: {err}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        home, work = Path(tmp, "home"), Path(tmp, "work")
        home.mkdir()
        work.mkdir()
        shell = lumi_node.shell_argv(home, work)
        bare = median_ms(shell[:-2] + ["true"], args.runs)
        login = median_ms(shell, args.runs, stdin="true\n")
        module = median_ms(shell, max(3, args.runs // 4), stdin="module load LUMI cray-python\n")
    print(f"image: container start, `true` (median of {args.runs}) {bare:.0f} ms "
          f"(goal < {START_GOAL_MS} ms)")
    print(f"image: login shell with Lmod, `true` (median of {args.runs}) {login:.0f} ms")
    print(f"image: login shell + `module load LUMI cray-python` {module:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
