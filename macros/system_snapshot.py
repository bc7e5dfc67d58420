"""The system snapshot (data/lumi_system.yaml): what LUMI has, loaded, validated and queried.

The snapshot is the oracle the rest of the project is checked against: the test node is
built from it, and data/lumi.yaml may only name what it lists. Nothing here imports
MkDocs, so the image builder, the probe's tests and the build share it.
"""

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from .data_files import load_validated
from .sources import load_sources

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
SNAPSHOT_FILE = DATA_DIR / "lumi_system.yaml"
SNAPSHOT_SCHEMA = DATA_DIR / "lumi_system.schema.json"


@dataclass
class Snapshot:
    """The parsed snapshot plus the document, so problems can point at a line."""

    data: dict
    document: object
    registry: object  # data/sources.yaml, which the entries' `source: KEY:PATH` name

    @property
    def date(self):
        return date.fromisoformat(self.data["snapshot"]["date"])

    def stack(self, name):
        """The stack entry called `name` (e.g. "LUMI/25.03"), or None."""
        return next((s for s in self.data["stacks"] if s["name"] == name), None)

    def stack_names(self):
        return [s["name"] for s in self.data["stacks"]]

    def default_stack(self):
        """The stack whose status is default."""
        return next(s for s in self.data["stacks"] if s["status"] == "default")

    def modules(self, stack_name, installed=None):
        """Module entries of a stack, optionally only those installed by `installed`."""
        stack = self.stack(stack_name) or {"modules": []}
        return [m for m in stack["modules"] if installed in (None, m["installed"])]

    def module_versions(self, stack_name, module_name):
        """Full names NAME/VERSION of module `module_name` on a stack, in snapshot order."""
        return [m["name"] for m in self.modules(stack_name)
                if m["name"].split("/", 1)[0] == module_name]

    def find_module(self, stack_name, full_name):
        """The module entry with exactly this NAME/VERSION on that stack, or None."""
        return next((m for m in self.modules(stack_name) if m["name"] == full_name), None)

    def image_paths(self):
        """Every image path the snapshot lists."""
        return [f"{d['path']}/{image}" for d in self.data["image_dirs"] for image in d["images"]]

    def slurm_partitions(self):
        return self.data["slurm"]["partitions"]


def load_snapshot(path=SNAPSHOT_FILE, schema=SNAPSHOT_SCHEMA, registry=None):
    """Read and validate the snapshot; raise DataFileError naming the file and line."""
    document = load_validated(path, schema)
    snapshot = Snapshot(document.data, document, registry or load_sources())
    check_consistency(snapshot)
    return snapshot


def check_consistency(snapshot):
    """Rules JSON Schema cannot express: sources exist, one default stack, unique names."""
    data, document = snapshot.data, snapshot.document
    known = set(snapshot.registry.sources) | {"probe"}

    def check_source(location, value):
        key = value.split(":", 1)[0]
        if key not in known:
            raise document.error(location, f"source {value!r} names {key!r}, which is not under "
                                           f"`sources` (known: {', '.join(sorted(known))})")

    check_source(["os_python", "source"], data["os_python"]["source"])
    check_source(["slurm", "source"], data["slurm"]["source"])
    defaults = [s["name"] for s in data["stacks"] if s["status"] == "default"]
    if len(defaults) != 1:
        raise document.error(["stacks"], f"exactly one stack must have status default, "
                                         f"found {len(defaults) or 'none'}: {', '.join(defaults)}")
    seen_stacks = set()
    for i, stack in enumerate(data["stacks"]):
        if stack["name"] in seen_stacks:
            raise document.error(["stacks", i, "name"], f"stack {stack['name']} is listed twice")
        seen_stacks.add(stack["name"])
        check_source(["stacks", i, "source"], stack["source"])
        names = set()
        for j, module in enumerate(stack["modules"]):
            if module["name"] in names:
                raise document.error(["stacks", i, "modules", j, "name"],
                                     f"module {module['name']} is listed twice on {stack['name']}")
            names.add(module["name"])
            check_source(["stacks", i, "modules", j, "source"], module["source"])
            partition = module.get("partition")
            if partition and partition not in stack["partitions"]:
                raise document.error(["stacks", i, "modules", j, "partition"],
                                     f"{module['name']} is installed in partition/{partition}, "
                                     f"which {stack['name']} does not have")
    for i, directory in enumerate(data["image_dirs"]):
        check_source(["image_dirs", i, "source"], directory["source"])
    partitions = [p["name"] for p in data["slurm"]["partitions"]]
    if len(set(partitions)) != len(partitions):
        raise document.error(["slurm", "partitions"], "a Slurm partition is listed twice")


def probe_plan(snapshot):
    """What scripts/lumi_probe.py should look at: the snapshot's module names, dirs, collections."""
    stacks = {}
    for stack in snapshot.data["stacks"]:
        system = [m for m in stack["modules"] if m["installed"] == "system"]
        bases = list(dict.fromkeys(m["name"].split("/", 1)[0] for m in system))
        commands = {}
        for m in system:
            commands.setdefault(m["name"].split("/", 1)[0], [])
            commands[m["name"].split("/", 1)[0]] += [c for c in m.get("commands", [])
                                                    if c not in commands[m["name"].split("/", 1)[0]]]
        stacks[stack["name"]] = {"modules": bases, "commands": commands,
                                 "user_modules": [m for m in stack["modules"] if m["installed"] == "user"]}
    local = snapshot.data["local_stacks"]
    return {"stacks": stacks,
            "local_stacks": [entry["name"].split("/", 1)[0] for entry in local],
            "local_modules": {entry["name"].split("/", 1)[0]: entry.get("modules", []) for entry in local},
            "image_dirs": [d["path"] for d in snapshot.data["image_dirs"]]}


def without_sources(value):
    """The snapshot's facts with every `source` and the snapshot header left out, for comparing."""
    if isinstance(value, dict):
        return {k: without_sources(v) for k, v in value.items() if k not in ("source", "snapshot", "sources")}
    if isinstance(value, list):
        return [without_sources(v) for v in value]
    return value


def differences(expected, seen, where=""):
    """Human-readable lines: how `seen` (a probe) differs from `expected` (the snapshot)."""
    lines = []
    if isinstance(expected, dict) and isinstance(seen, dict):
        for key in list(expected) + [k for k in seen if k not in expected]:
            here = f"{where}.{key}" if where else str(key)
            if key not in seen:
                lines.append(f"{here}: in the snapshot, not seen on the system")
            elif key not in expected:
                lines.append(f"{here}: seen on the system, not in the snapshot: {seen[key]!r}")
            else:
                lines += differences(expected[key], seen[key], here)
    elif isinstance(expected, list) and isinstance(seen, list) and all(
            isinstance(item, dict) and "name" in item for item in expected + seen):
        return differences({i.get("name") or i.get("path"): i for i in expected},
                           {i.get("name") or i.get("path"): i for i in seen}, where)
    elif isinstance(expected, list) and isinstance(seen, list) and all(
            isinstance(item, dict) and "path" in item for item in expected + seen):
        return differences({i["path"]: i for i in expected}, {i["path"]: i for i in seen}, where)
    elif isinstance(expected, list) and isinstance(seen, list) and all(
            isinstance(item, str) for item in expected + seen):
        if sorted(expected) != sorted(seen):  # lists of names: the order carries no fact
            lines.append(f"{where}: snapshot {expected!r}, system {seen!r}")
    elif expected != seen:
        lines.append(f"{where}: snapshot {expected!r}, system {seen!r}")
    return lines

