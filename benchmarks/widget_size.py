"""Print the decision-tree widget's weight: script, style and page HTML, raw and gzipped (goal: JS + CSS < 6 KB gz)."""

import gzip
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from macros.decision_tree import load_tree  # noqa: E402  (needs the path above)
from macros.decision_tree_widget import render_widget  # noqa: E402

SCRIPT = ROOT / "overrides/assets/javascripts/decision-tree.js"
STYLE = ROOT / "overrides/assets/stylesheets/decision-tree.css"
GOAL_GZIP = 6 * 1024
PAGE = "software/installing/python/"


def sizes(data):
    """(raw, gzipped) byte counts; gzip level 9 as a static host would serve it."""
    return len(data), len(gzip.compress(data, compresslevel=9, mtime=0))


def main():
    script, style = SCRIPT.read_bytes(), STYLE.read_bytes()
    html = render_widget(load_tree(), PAGE).encode("utf-8")
    rows = [("decision-tree.js", *sizes(script)),
            ("decision-tree.css", *sizes(style)),
            ("script + style", len(script) + len(style), sizes(script)[1] + sizes(style)[1]),
            ("widget HTML in the page (tree + inline JSON)", *sizes(html))]
    width = max(len(name) for name, *_ in rows)
    print(f"{'part':<{width}}  {'raw bytes':>10}  {'gzip bytes':>10}")
    for name, raw, packed in rows:
        print(f"{name:<{width}}  {raw:>10}  {packed:>10}")
    total = rows[2][2]
    verdict = "within" if total < GOAL_GZIP else "OVER"
    print(f"goal: script + style under {GOAL_GZIP} bytes gzipped: {verdict} ({total} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
