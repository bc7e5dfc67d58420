"""Time loading the decision tree and generating/running the terminal walker; print a small table."""

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from macros.decision_tree import all_paths, load_tree  # noqa: E402  (needs the path above)
from macros.facts import load_facts  # noqa: E402
from macros.walker import render_walker  # noqa: E402

ROUNDS = 20


def median_ms(action, rounds=ROUNDS):
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main():
    facts = load_facts()
    tree = load_tree(facts=facts)
    source = render_walker(tree)
    paths = all_paths(tree)
    with tempfile.TemporaryDirectory() as tmp:
        walker = Path(tmp) / "lumi-python-advisor.py"
        walker.write_text(source, encoding="utf-8")
        run_paths = median_ms(lambda: subprocess.run([sys.executable, str(walker), "--paths"],
                                                     capture_output=True, check=True), rounds=5)
    questions = sum("question" in n for n in tree["nodes"].values())
    rows = [
        ("questions / leaves / paths", f"{questions} / {len(tree['nodes']) - questions} / {len(paths)}"),
        ("longest path (answers)", str(max(len(p["answers"]) for p in paths))),
        ("load_tree(), facts given (ms, median)", f"{median_ms(lambda: load_tree(facts=facts)):.1f}"),
        ("render_walker() (ms, median)", f"{median_ms(lambda: render_walker(tree)):.2f}"),
        ("walker size (bytes)", str(len(source.encode('utf-8')))),
        ("walker --paths, process start to exit (ms, median of 5)", f"{run_paths:.0f}"),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    main()
