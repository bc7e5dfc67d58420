"""`python3 -m macros.snapshot_plan`: the plan scripts/lumi_probe.py follows, as JSON on stdout."""

import json
import sys

from .data_files import DataFileError
from .system_snapshot import load_snapshot, probe_plan


def main():
    try:
        print(json.dumps(probe_plan(load_snapshot()), indent=1))
    except DataFileError as err:
        print(err, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
