"""Fail when the system snapshot is older than --max-days (the scheduled workflow runs this).

    python scripts/snapshot_age.py --max-days 90
"""

import argparse
import datetime
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from macros.data_files import DataFileError  # noqa: E402
from macros.system_snapshot import SNAPSHOT_FILE, load_snapshot  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-days", type=int, default=90)
    parser.add_argument("--today", type=datetime.date.fromisoformat, default=datetime.date.today(),
                        help="the date to measure from (YYYY-MM-DD; default: today)")
    args = parser.parse_args(argv)
    try:
        snapshot = load_snapshot()
    except DataFileError as err:
        print(err, file=sys.stderr)
        return 2
    age = (args.today - snapshot.date).days
    if age > args.max_days:
        print(f"{SNAPSHOT_FILE.name}: the snapshot of {snapshot.date} is {age} days old (more than "
              f"{args.max_days}): refresh it with scripts/lumi_probe.py on LUMI (README, "
              f"'Refreshing the snapshot')")
        return 1
    print(f"{SNAPSHOT_FILE.name}: the snapshot of {snapshot.date} is {age} days old")
    return 0


if __name__ == "__main__":
    sys.exit(main())
