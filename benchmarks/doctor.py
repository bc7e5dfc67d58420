"""Time the doctor on a tree of 200 000 files: files counted per second, wall time and peak memory; print a table."""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from macros.doctor import load_advice, render_doctor  # noqa: E402  (needs the path above)
from macros.facts import load_facts  # noqa: E402

FILES = 200_000
ENVIRONMENTS = 40          # venvs, each with FILES / ENVIRONMENTS entries
FILES_PER_PACKAGE = 50     # files in each package directory, like a small pure-Python package


def make_tree(root):
    """ENVIRONMENTS venvs of packages, FILES entries in all (files and directories, as the doctor counts)."""
    made = 0
    per_env = FILES // ENVIRONMENTS
    for e in range(ENVIRONMENTS):
        env = root / f"env{e}"
        site = env / "lib" / "python3.12" / "site-packages"
        site.mkdir(parents=True)
        (env / "pyvenv.cfg").write_text("home = /opt/python/bin\nversion = 3.12.0\n")
        count = 5  # env, lib, python3.12, site-packages, pyvenv.cfg
        p = 0
        while count < per_env:
            package = site / f"pkg{p}"
            package.mkdir()
            count += 1
            for f in range(min(FILES_PER_PACKAGE, per_env - count)):
                (package / f"m{f}.py").write_bytes(b"")
                count += 1
            p += 1
        made += count
    return made


# Runs a program as __main__, then prints the peak resident memory of its own process (VmHWM).
# Not ru_maxrss: Linux carries the parent's peak across fork and exec, so a child's
# ru_maxrss would report this benchmark's own size.
PEAK = """import runpy, sys
sys.argv = sys.argv[1:]
try:
    runpy.run_path(sys.argv[0], run_name="__main__")
except SystemExit:
    pass
peak = [l.split()[1] for l in open("/proc/self/status") if l.startswith("VmHWM:")][0]
sys.stderr.write("PEAK_KB " + peak + "\\n")
"""


def run_measured(argv, env):
    """(seconds, peak resident memory in MB or None, stdout) of one run of `argv`."""
    python_script = argv[0] == sys.executable
    if python_script:
        argv = [sys.executable, "-c", PEAK] + argv[1:]
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, env=env, check=True)
    seconds = time.perf_counter() - start
    peak = None
    for line in done.stderr.decode().splitlines():
        if line.startswith("PEAK_KB "):
            peak = int(line.split()[1]) / 1024
    return seconds, peak, done.stdout


def main():
    facts = load_facts()
    source = render_doctor(load_advice(facts=facts), facts)
    with tempfile.TemporaryDirectory(prefix="doctor-bench-") as tmp:
        tmp = Path(tmp)
        doctor = tmp / "lumi-python-doctor.py"
        doctor.write_text(source, encoding="utf-8")
        (tmp / "home").mkdir()
        tree = tmp / "tree"
        tree.mkdir()
        start = time.perf_counter()
        entries = make_tree(tree)
        made_in = time.perf_counter() - start
        env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp / "home")}
        rows = [("tree: entries (files and directories) / made in", f"{entries} / {made_in:.1f} s")]
        find_s, _, find_out = run_measured(["find", str(tree)], env)
        lines = find_out.count(b"\n")
        rows.append(("find TREE (s, warm cache; lines)", f"{find_s:.2f}; {lines}"))
        (tmp / "empty").mkdir()
        seconds, rss, _ = run_measured([sys.executable, str(doctor), "--json", str(tmp / "empty")], env)
        rows.append(("doctor --json on an empty directory: s / peak memory MB", f"{seconds:.2f} / {rss:.0f}"))
        for label, extra in (("doctor --json", []), ("doctor --json --bytes (one lstat a file)", ["--bytes"])):
            seconds, rss, out = run_measured([sys.executable, str(doctor), "--json", *extra, str(tree)], env)
            report = json.loads(out)
            counted = sum(e["measure"]["files"] for e in report["findings"] + report["notes"] if "measure" in e)
            assert report["complete"] and counted == entries, (counted, entries)
            rows.append((f"{label}: s / files per s / peak memory MB",
                         f"{seconds:.2f} / {counted / seconds:,.0f} / {rss:.0f}".replace(",", " ")))
    print(f"Python {sys.version.split()[0]}, warm page cache, local disk (not Lustre)")
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    main()
