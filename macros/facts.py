"""The facts every page shows: data/lumi.yaml (what the pages say), completed and checked
against the system snapshot (data/lumi_system.yaml, what LUMI has).

Module versions, the stacks' cray-python, cotainr's systems and the variables a module
sets are never written in lumi.yaml: they are looked up in the snapshot for the example
stack. What lumi.yaml does name (the example stack, module names, an optional version
pin, the example image, the variables the pages mention) must exist in the snapshot;
otherwise loading fails with one line naming lumi.yaml's line and what the snapshot has.
"""

from pathlib import Path

from .data_files import load_validated
from .system_snapshot import SNAPSHOT_FILE, load_snapshot

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
FACTS_FILE = DATA_DIR / "lumi.yaml"
FACTS_SCHEMA = DATA_DIR / "lumi.schema.json"


def load_facts(path=FACTS_FILE, schema=FACTS_SCHEMA, snapshot_path=SNAPSHOT_FILE):
    """Read and validate lumi.yaml, check it against the snapshot, add the derived values."""
    document = load_validated(path, schema)
    snapshot = load_snapshot(snapshot_path)
    facts = document.data
    checker = SnapshotLookup(document, snapshot, facts["example_stack"])
    stack = checker.example_stack()
    version = stack.split("/", 1)[1]
    project = facts["example_project"]
    for area in facts["storage"]:
        area["path"] = area["path"].replace("{project}", project)

    facts["snapshot"] = {"date": snapshot.data["snapshot"]["date"],
                         "method": snapshot.data["snapshot"]["method"]}
    facts["os_python"] = {"version": snapshot.data["os_python"]["version"]}
    facts["stack"] = version
    facts["lumi_module"] = stack
    stacks = facts["stacks"]
    checker.partitions(stacks["partitions"])
    stacks["table"] = stack_table(snapshot, facts["cray_python"]["module"])
    # The supported LUMI stack newer than the default (yy.mm names sort by date), whose
    # caveats the stacks page lists; None when the snapshot has none.
    newer = [row for row in stacks["table"]
             if row["status"] == "supported" and row["version"] and row["version"] > version]
    stacks["newer"] = newer[-1] if newer else None
    # A stack that is only a container (ccpe): the version in a ccpe module's name that
    # names no LUMI stack in the snapshot.
    stacks["container_only"] = []
    for name in snapshot.module_versions(stack, stacks["ccpe_module"]):
        entry = snapshot.find_module(stack, name)
        ccpe_version = name.split("/", 1)[1].split("-", 1)[0]
        if not snapshot.stack(f"LUMI/{ccpe_version}"):
            stacks["container_only"].append({"version": ccpe_version, "module": name,
                                             "easyconfig": entry.get("easyconfig")})
    stacks["easybuild_user"] = checker.module(
        ["stacks", "easybuild_user_module"], stacks["easybuild_user_module"],
        stacks.get("easybuild_user_version"), "easybuild_user_version")

    cray_python = facts["cray_python"]
    entry = checker.module(["cray_python", "module"], cray_python["module"], cray_python.get("version"))
    cray_python.update(name_and_version(entry))
    cray_python["by_stack"] = {row["version"]: row["python"] for row in stacks["table"]
                               if row["python"] and row["version"]}

    cotainr = facts["cotainr"]
    entry = checker.module(["cotainr", "module"], cotainr["module"], cotainr.get("version"))
    cotainr.update(name_and_version(entry))
    cotainr["base_images"] = entry.get("systems", {})
    cotainr["systems"] = list(cotainr["base_images"])

    wrapper = facts["container_wrapper"]
    entry = checker.module(["container_wrapper", "module"], wrapper["module"], wrapper.get("version"))
    wrapper.update(name_and_version(entry))
    wrapper["commands"] = entry.get("commands", [])
    crayenv = snapshot.module_versions("CrayEnv", wrapper["module"])
    wrapper["crayenv_version"] = crayenv[0].split("/", 1)[1] if crayenv else None

    singularity = facts["singularity"]
    # No recipe exists for every stack (none for 25.03): the pages name the newest that has one.
    entry, bindings_stack = checker.newest_module(["singularity", "bindings_module"],
                                                  singularity["bindings_module"])
    singularity["bindings_module_version"] = entry["name"]
    singularity["bindings_easyconfig"] = entry.get("easyconfig")
    singularity["bindings_stack"] = bindings_stack
    singularity["bindings_partition"] = entry.get("partition")
    entry = checker.module(["singularity", "proot_module"], singularity["proot_module"],
                           singularity.get("proot_version"), "proot_version")
    singularity["proot_module_version"] = entry["name"]

    pytorch = facts["pytorch"]
    pytorch["image_dir"] = checker.image_dir(["pytorch", "image"], pytorch["image"])
    entry = checker.module(["pytorch", "module"], pytorch["module"], pytorch.get("version"))
    pytorch["module_name"] = pytorch["module"]
    pytorch["module"] = entry["name"]
    pytorch["easyconfig"] = entry.get("easyconfig")
    pytorch["install_partition"] = entry.get("partition")
    checker.variables(["pytorch", "variables"], entry, pytorch["variables"])
    pytorch["image_path"] = f"{pytorch['image_dir']}/{pytorch['image']}"
    # The module's own venv: outside the container under $CONTAINERROOT, bound at its top directory.
    checker.variables(["pytorch", "module"], entry, ["SINGULARITYENV_VIRTUAL_ENV"])
    pytorch["venv"] = entry["setenv"]["SINGULARITYENV_VIRTUAL_ENV"]
    pytorch["venv_mount"] = "/" + pytorch["venv"].strip("/").split("/", 1)[0]

    laif = facts["laif"]
    laif["image_dir"] = checker.image_dir(["laif", "image"], laif["image"])
    local = checker.local_stack(["laif", "module"], laif["module"])
    if laif["bindings_module"] not in local.get("modules", []):
        checker.fail(["laif", "bindings_module"], f"{local['name']} has no module {laif['bindings_module']} "
                                                  f"in the snapshot (it has {', '.join(local.get('modules', [])) or 'none'})")
    laif["modulepath"] = local["modulepath"]
    laif["image_path"] = f"{laif['image_dir']}/{laif['image']}"
    laif["containers_dir"] = laif["image_dir"].rsplit("/", 1)[0]

    for key in ("csc", "quantum"):
        collection = facts[key]
        local = checker.local_stack([key, "module"], collection["module"])
        collection["modulepath"] = local["modulepath"]
        collection["module_version"] = local["name"]

    facts["scratch"] = f"/scratch/{project}"
    facts["projappl"] = f"/project/{project}"
    return facts


def name_and_version(entry):
    """A snapshot module's full name (module_version) and its version, as the pages print them."""
    return {"module_version": entry["name"], "version": entry["name"].split("/", 1)[1]}


def stack_table(snapshot, python_module):
    """One row a stack: name, version, status and its cray-python version (pages print it)."""
    rows = []
    for stack in snapshot.data["stacks"]:
        pythons = snapshot.module_versions(stack["name"], python_module)
        rows.append({"name": stack["name"], "status": stack["status"],
                     "version": stack["name"].split("/", 1)[1] if "/" in stack["name"] else None,
                     "python": pythons[0].split("/", 1)[1] if pythons else None})
    return rows


class SnapshotLookup:
    """Looks up what lumi.yaml names in the snapshot; a miss is a DataFileError on lumi.yaml."""

    def __init__(self, document, snapshot, stack):
        self.document, self.snapshot, self.stack = document, snapshot, stack

    def fail(self, location, problem):
        raise self.document.error(location, problem)

    def example_stack(self):
        entry = self.snapshot.stack(self.stack)
        default = self.snapshot.default_stack()["name"]
        if entry is None:
            self.fail(["example_stack"], f"{self.stack} is not a stack on LUMI (the snapshot has "
                                         f"{', '.join(self.snapshot.stack_names())})")
        if entry["status"] != "default":
            self.fail(["example_stack"], f"{self.stack} is {entry['status']} on LUMI; examples "
                                         f"use the default stack, which the snapshot says is {default}")
        return self.stack

    def partitions(self, described):
        have = self.snapshot.stack(self.stack)["partitions"]
        for name in described:
            if name not in have:
                self.fail(["stacks", "partitions", name],
                          f"partition/{name} is not on {self.stack} (the snapshot has "
                          f"{', '.join('partition/' + p for p in have)})")

    def module(self, location, name, pinned=None, pin_key="version"):
        """The snapshot's entry for module `name` on the example stack (the pinned version, if any).

        `location` is where the name stands in lumi.yaml; a pin stands beside it under `pin_key`.
        """
        versions = self.snapshot.module_versions(self.stack, name)
        if not versions:
            self.fail(location, f"module {name} is not on {self.stack} in the snapshot")
        if pinned is None:
            return self.snapshot.find_module(self.stack, versions[0])
        if f"{name}/{pinned}" not in versions:
            self.fail(location[:-1] + [pin_key], f"{name} {pinned} is not on {self.stack} (the snapshot "
                                                 f"has {', '.join(v.split('/', 1)[1] for v in versions)})")
        return self.snapshot.find_module(self.stack, f"{name}/{pinned}")

    def newest_module(self, location, name):
        """(entry, stack name) of module `name` on the newest LUMI stack that has it."""
        stacks = sorted((n for n in self.snapshot.stack_names() if n.startswith("LUMI/")), reverse=True)
        for stack in stacks:
            versions = self.snapshot.module_versions(stack, name)
            if versions:
                return self.snapshot.find_module(stack, versions[0]), stack
        self.fail(location, f"module {name} is on no LUMI stack in the snapshot")

    def local_stack(self, location, name):
        """The snapshot's local module collection `name` (e.g. Local-CSC)."""
        for entry in self.snapshot.data["local_stacks"]:
            if entry["name"].split("/", 1)[0] == name:
                return entry
        known = ", ".join(e["name"] for e in self.snapshot.data["local_stacks"])
        self.fail(location, f"{name} is not a module collection on LUMI (the snapshot has {known})")

    def image_dir(self, location, image):
        """The snapshot's image directory holding `image` (a file name)."""
        dirs = [d["path"] for d in self.snapshot.data["image_dirs"] if image in d["images"]]
        if len(dirs) != 1:
            known = ", ".join(p.rsplit("/", 1)[1] for p in self.snapshot.image_paths())
            self.fail(location, f"{image} is not on LUMI (the snapshot has {known})" if not dirs else
                      f"{image} is in more than one image directory: {', '.join(dirs)}")
        return dirs[0]

    def variables(self, location, entry, names):
        sets = set(entry.get("setenv", {})) | set(entry.get("prepend_path", {}))
        for name in names:
            if name not in sets:
                self.fail(location, f"{entry['name']} does not set {name} (in the snapshot it sets "
                                    f"{', '.join(sorted(sets)) or 'nothing'})")
