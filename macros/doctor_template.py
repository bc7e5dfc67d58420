#!/usr/bin/env python3
"""LUMI Python doctor: finds the Python environments, caches and shell settings that hurt you on LUMI.

Runs on any Python 3.6 or newer with the standard library only (the system python3 on
LUMI is enough). Generated from the LUMI Python guide (data/doctor.yaml, data/lumi.yaml);
edit those, not this.

Usage:
  python3 lumi-python-doctor.py              look in your home and your projects' directories
  python3 lumi-python-doctor.py PATH ...     look under these paths instead
  python3 lumi-python-doctor.py --json       the same report as JSON, for scripts and support staff

It walks each directory tree once, reading directory listings only (no per-file stat
unless --bytes), and stops when the time budget runs out, marking what it could not
finish. Your shell settings and start-up files are checked in every run.
Exit codes: 0 no findings, 1 findings, 2 bad command-line arguments.
"""

import argparse
import grp
import json
import os
import re
import sys
import time

# Replaced by macros/doctor.py with the guide's quotas, advice and URLs as JSON.
DOCTOR_JSON = None  # @doctor@

EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2, "good": 3, "note": 4}
PROBLEMS = ("high", "medium", "low")
# Findings about an environment to reinstall elsewhere, for which the advisor helps choose how.
REINSTALL = {"conda-environment", "conda-installation", "pip-user-site", "venv-os-python", "venv-many-packages"}
MAX_UNREADABLE = 20
SIF_MAGIC = b"SIF_MAGIC"      # in the first 64 bytes of every SIF file, after its launch line
SQUASHFS_MAGIC = b"hsqs"      # the first 4 bytes of a little-endian SquashFS image
PACKAGE_RECORD = re.compile(r".*\.(dist-info|egg-info)$")
PYTHON_DIR = re.compile(r"^python\d+\.\d+$")
# Packages every venv starts with; they do not count as the user's own.
VENV_BASE_PACKAGES = {"pip", "setuptools", "wheel"}
# A container wrapper installation has these three next to each other
# (CSCfi/hpc-container-wrapper, cw_common.py is_installation).
WRAPPER_MARKERS = {"bin", "_bin", "common.sh"}
CONDA_INIT = "# >>> conda initialize >>>"
CONDA_INIT_END = "# <<< conda initialize <<<"
CONDA_ACTIVATE = re.compile(r"^\s*(conda|mamba|micromamba)\s+activate\b")


def say(text=""):
    """Print text even where the terminal cannot show every character (LANG=C on Python 3.6)."""
    encoding = getattr(sys.stdout, "encoding", None) or "ascii"
    sys.stdout.write(text.encode(encoding, "replace").decode(encoding) + "\n")


def plural(count, word):
    return "{} {}{}".format(grouped(count), word, "" if count == 1 else "s")


def grouped(number):
    """2000000 -> '2 000 000', as the guide prints counts."""
    return "{:,}".format(number).replace(",", " ")


def human_bytes(size):
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return ("{:.0f} {}" if unit == "B" else "{:.1f} {}").format(size, unit)
        size /= 1000.0


# ------------------------------------------------------------------ where to look

def area_of(path, data, home):
    """The guide's storage area a path is in (home, project, scratch, flash), or None."""
    path = os.path.abspath(path)
    if home and (path == home or path.startswith(home.rstrip("/") + "/")):
        return "home"
    for area in data["areas"]:
        if area["name"] != "home" and path.startswith(area["prefix"] + "/"):
            return area["name"]
    return None


def area_entry(data, name):
    return next((a for a in data["areas"] if a["name"] == name), None)


def project_dirs(data, group_names):
    """/project, /scratch and /flash directories of the user's project groups that are readable.

    A LUMI project is a Unix group named project_NNN (sources in data/doctor.yaml).
    """
    found = []
    for name in sorted(group_names):
        if not re.match(r"^project_\d+$", name):
            continue
        for area in data["areas"]:
            if area["name"] == "home":
                continue
            path = area["prefix"] + "/" + name
            if os.path.isdir(path) and os.access(path, os.R_OK | os.X_OK):
                found.append(path)
    return found


def user_groups():
    names = set()
    for gid in os.getgroups():
        try:
            names.add(grp.getgrgid(gid).gr_name)
        except KeyError:
            pass
    return names


def user_base(env, home):
    return env.get("PYTHONUSERBASE") or os.path.join(home, ".local")


def cache_dirs(env, home):
    """{path: finding id} of the caches whose default place is in the home directory."""
    xdg = env.get("XDG_CACHE_HOME") or os.path.join(home, ".cache")
    caches = {
        env.get("PIP_CACHE_DIR") or os.path.join(xdg, "pip"): "cache-pip",
        env.get("HF_HOME") or os.path.join(xdg, "huggingface"): "cache-huggingface",
        env.get("TORCH_HOME") or os.path.join(xdg, "torch"): "cache-torch",
    }
    singularity = env.get("SINGULARITY_CACHEDIR") or env.get("APPTAINER_CACHEDIR")
    if singularity:
        caches[singularity] = "cache-singularity"
    else:
        caches[os.path.join(home, ".singularity", "cache")] = "cache-singularity"
        caches[os.path.join(home, ".apptainer", "cache")] = "cache-singularity"
    return {os.path.abspath(path): kind for path, kind in caches.items()}


def distinct_roots(paths):
    """Existing directories, each once, none inside another (so no tree is walked twice)."""
    kept = []
    for path in paths:
        path = os.path.abspath(path)
        if not os.path.isdir(path):
            continue
        real = os.path.realpath(path)
        if any(real == r or real.startswith(r.rstrip("/") + "/") for _, r in kept):
            continue
        kept = [(p, r) for p, r in kept if not r.startswith(real.rstrip("/") + "/")]
        kept.append((path, real))
    return [p for p, _ in kept]


# ------------------------------------------------------------------ the walk

class Tree(object):
    """One thing found in a walk: an environment, a cache, an image; its counts grow as the walk goes."""

    def __init__(self, kind, path, area):
        self.kind, self.path, self.area = kind, path, area
        self.files = 1          # the directory (or file) itself is an inode too
        self.non_dirs = 0       # files and links, without directories
        self.bytes = None
        self.packages = None
        self.complete = True
        self.info = {}


class Walk(object):
    """One directory walk per root: directory listings only, against a deadline."""

    def __init__(self, data, home, env, deadline, with_bytes, clock=time.time):
        self.data, self.home, self.env = data, home, env
        self.deadline, self.with_bytes, self.clock = deadline, with_bytes, clock
        self.caches = cache_dirs(env, home)
        self.user_base = os.path.abspath(user_base(env, home))
        self.trees = []
        self.entries = 0
        self.unreadable = []
        self.out_of_time = False

    def run(self, root):
        """Walk `root`; return True when it was walked to the end."""
        area = area_of(root, self.data, self.home)
        stack = [(root, None)]
        while stack:
            if self.clock() > self.deadline:
                # What is still on the stack was not counted: its trees are lower bounds.
                self.out_of_time = True
                for _, owner in stack:
                    if owner is not None:
                        owner.complete = False
                return False
            path, owner = stack.pop()
            try:
                with os.scandir(path) as listing:
                    entries = list(listing)
            except OSError:
                if len(self.unreadable) < MAX_UNREADABLE:
                    self.unreadable.append(path)
                if owner is not None:
                    owner.complete = False
                continue
            self.entries += len(entries)
            if owner is None:
                owner = self.recognise(path, entries, area)
            else:
                self.count_packages(owner, path, entries)
            subdirs = []
            for entry in entries:
                try:
                    is_dir = entry.is_dir(follow_symlinks=False)
                except OSError:
                    is_dir = False
                if is_dir:
                    subdirs.append(entry.path)
                elif owner is None:
                    self.recognise_file(entry, area)
                elif self.with_bytes:
                    owner.bytes = (owner.bytes or 0) + self.size(entry)
            if owner is not None:
                owner.files += len(entries)
                owner.non_dirs += len(entries) - len(subdirs)
            stack.extend((sub, owner) for sub in reversed(subdirs))
        return True

    def size(self, entry):
        try:
            return entry.stat(follow_symlinks=False).st_size
        except OSError:
            return 0

    def new(self, kind, path, area):
        # A tree's own path decides its area: a walk of / or /tmp may reach into home.
        tree = Tree(kind, path, area_of(path, self.data, self.home) or area)
        if self.with_bytes:
            tree.bytes = 0
        self.trees.append(tree)
        return tree

    def recognise(self, path, entries, area):
        """The environment or cache that starts at `path`, or None for an ordinary directory."""
        names = {e.name for e in entries}
        if path in self.caches:
            return self.new(self.caches[path], path, area)
        if "pyvenv.cfg" in names:
            tree = self.new("venv", path, area)
            tree.info = read_pyvenv_cfg(os.path.join(path, "pyvenv.cfg"))
            return tree
        if "conda-meta" in names:
            tree = self.new("conda-installation" if "condabin" in names else "conda-environment", path, area)
            return tree
        if WRAPPER_MARKERS <= names:
            return self.new("container-wrapper", path, area)
        parent, name = os.path.split(path)
        if (name == "site-packages" and PYTHON_DIR.match(os.path.basename(parent))
                and os.path.dirname(parent) == os.path.join(self.user_base, "lib")):
            tree = self.new("pip-user-site", path, area)
            tree.info = {"python": os.path.basename(parent)[len("python"):]}
            self.count_packages(tree, path, entries)
            return tree
        return None

    def count_packages(self, tree, path, entries):
        """Packages of an environment: *.dist-info in its site-packages, records in conda-meta."""
        name = os.path.basename(path)
        if name == "site-packages" and tree.kind in ("venv", "pip-user-site"):
            records = [e.name for e in entries if PACKAGE_RECORD.match(e.name)]
            own = [r for r in records if r.split("-", 1)[0].lower() not in VENV_BASE_PACKAGES]
            tree.packages = (tree.packages or 0) + len(own)
        elif name == "conda-meta" and tree.kind.startswith("conda") and os.path.dirname(path) == tree.path:
            tree.packages = sum(1 for e in entries if e.name.endswith(".json"))
        elif tree.kind == "conda-installation" and path == os.path.join(tree.path, "envs"):
            tree.info["envs"] = sorted(e.name for e in entries if e.is_dir(follow_symlinks=False))

    def recognise_file(self, entry, area):
        """A SIF or SquashFS image, told by its first bytes, not only its name."""
        name = entry.name.lower()
        if name.endswith(".sif"):
            kind, magic, within = "sif-image", SIF_MAGIC, 64
        elif name.endswith((".sqsh", ".squashfs", ".sqfs")):
            kind, magic, within = "squashfs-image", SQUASHFS_MAGIC, 4
        else:
            return
        try:
            with open(entry.path, "rb") as handle:
                head = handle.read(within)
        except OSError:
            return
        if magic in head:
            tree = self.new(kind, entry.path, area)
            tree.bytes = self.size(entry)


def read_pyvenv_cfg(path):
    info = {}
    try:
        with open(path) as handle:
            for line in handle:
                key, sep, value = line.partition("=")
                if sep:
                    info[key.strip()] = value.strip()
    except (OSError, UnicodeDecodeError):
        pass
    return info


def os_python_version():
    """major.minor of the operating system's /usr/bin/python3, from the file it links to."""
    name = os.path.basename(os.path.realpath("/usr/bin/python3"))
    match = re.match(r"^python(\d+\.\d+)$", name)
    return match.group(1) if match else None


def venv_on_os_python(info, os_version):
    """True when pyvenv.cfg says the venv was made with this system's /usr/bin Python."""
    if info.get("home", "").rstrip("/") not in ("/usr/bin", "/bin") or not os_version:
        return False
    # A venv made inside a container also names /usr/bin: its Python's version tells them apart.
    version = info.get("version") or info.get("version_info") or ""
    return version == os_version or version.startswith(os_version + ".")


# ------------------------------------------------------------------ the checks

def item(data, kind, subject, detail, tree=None):
    """A finding, good thing or note: the advice of `kind` with this case's subject and diagnosis."""
    advice = data["advice"][kind]
    result = {"id": kind, "severity": advice["severity"], "title": advice["title"],
              "subject": subject, "detail": detail, "why": advice["why"], "do": advice["do"],
              "commands": list(advice["commands"]), "url": data["site_url"] + advice["url"]}
    if tree is not None:
        area = area_entry(data, tree.area) if tree.area else None
        max_files = area["max_files"] if area else None
        result["measure"] = {"files": tree.files, "bytes": tree.bytes, "complete": tree.complete,
                             "area": tree.area, "max_files": max_files,
                             "quota_share": round(tree.files / float(max_files), 4) if max_files else None,
                             "packages": tree.packages}
    return result


def measured(tree, data):
    """'45 312 files (45% of the project file quota of 100 000)', 'at least' when cut short."""
    text = ("at least " if not tree.complete else "") + plural(tree.files, "file")
    if tree.bytes is not None:
        text += ", " + human_bytes(tree.bytes)
    area = area_entry(data, tree.area) if tree.area else None
    if area:
        text += " ({:.0%} of the {} file quota of {})".format(
            tree.files / float(area["max_files"]), tree.area, grouped(area["max_files"]))
    return text


def tree_items(walk, data, os_version, env):
    items = []
    few = data["few_packages"]
    for tree in walk.trees:
        kind, size = tree.kind, measured(tree, data)
        if kind == "venv":
            packages = tree.packages or 0
            where = "made with " + (tree.info.get("home") or "an unknown Python")
            if venv_on_os_python(tree.info, os_version):
                kind = "venv-os-python"
            else:
                kind = "venv-many-packages" if packages >= few else "venv-few-packages"
            detail = "{}: a venv {}, {} of its own, {}".format(tree.path, where, plural(packages, "package"), size)
        elif kind.startswith("conda"):
            what = "Conda installation" if kind == "conda-installation" else "Conda environment"
            detail = "{}: a {} with {}, {}".format(tree.path, what, plural(tree.packages or 0, "package"), size)
            if tree.info.get("envs"):
                detail += "; its environments: " + ", ".join(tree.info["envs"])
        elif kind == "pip-user-site":
            detail = "{}: {} for Python {}, {}".format(
                tree.path, plural(tree.packages or 0, "package"), tree.info["python"], size)
            if tree.packages == 0:
                continue
            if not env.get("PYTHONNOUSERSITE"):
                detail += "; PYTHONNOUSERSITE is not set, so Python {} imports them".format(tree.info["python"])
        elif kind.startswith("cache-"):
            # Only a cache in home with something in it: tools make empty cache directories on first use.
            if tree.area != "home" or not tree.non_dirs:
                continue
            detail = "{}: {}".format(tree.path, size)
        elif kind in ("sif-image", "squashfs-image"):
            tree.files = 1
            detail = "{}: one file, {}".format(tree.path, human_bytes(tree.bytes or 0))
        elif kind == "container-wrapper":
            detail = "{}: a container wrapper installation, {}".format(tree.path, size)
        else:
            continue
        items.append(item(data, kind, tree.path, detail, tree))
    return items


def startup_file_items(data, home):
    """`conda init`'s block or a `conda activate` in the shell's start-up files."""
    items = []
    for name in (".bashrc", ".bash_profile"):
        path = os.path.join(home, name)
        try:
            with open(path, errors="replace") as handle:
                lines = handle.read().splitlines()
        except OSError:
            continue
        for number, line in enumerate(lines, 1):
            if line.strip() == CONDA_INIT and block_is_active(lines[number:]):
                what = "the block `conda init` writes"
            elif CONDA_ACTIVATE.match(line):
                what = "`" + line.strip() + "`"
            else:
                continue
            items.append(item(data, "conda-init", "{}:{}".format(path, number), "{}:{}: {}".format(path, number, what)))
            break
    return items


def block_is_active(lines):
    """Whether the lines up to `conda init`'s end marker hold a command (not all commented out)."""
    for line in lines:
        if line.strip() == CONDA_INIT_END:
            break
        if line.strip() and not line.lstrip().startswith("#"):
            return True
    return False


def session_items(data, env):
    items = []
    if env.get("PYTHONPATH"):
        items.append(item(data, "pythonpath", "PYTHONPATH", "PYTHONPATH={}".format(env["PYTHONPATH"])))
    if env.get("PYTHONUSERBASE"):
        items.append(item(data, "pythonuserbase", "PYTHONUSERBASE",
                          "PYTHONUSERBASE={}".format(env["PYTHONUSERBASE"])))
    binds = [name for name in ("SINGULARITY_BIND", "SINGULARITY_BINDPATH", "APPTAINER_BIND", "APPTAINER_BINDPATH")
             if env.get(name)]
    loaded = [m for m in env.get("LOADEDMODULES", "").split(":") if m]
    modules = [m for m in loaded if m.split("/", 1)[0] in data["bindings_modules"]]
    if binds or modules:
        what = ["{}={}".format(name, env[name]) for name in binds] + ["module " + m + " loaded" for m in modules]
        items.append(item(data, "singularity-bind", ", ".join(binds + modules), "; ".join(what)))
    python3 = which("python3", env.get("PATH", ""))
    if python3 and os.path.dirname(python3) in ("/usr/bin", "/bin"):
        version = os_python_version()
        items.append(item(data, "os-python", python3, "{} is the operating system's Python{}".format(
            python3, " " + version if version else "")))
    try:
        stat = os.statvfs("/tmp")
        items.append(item(data, "tmp-space", "/tmp", "/tmp has {} free".format(
            human_bytes(stat.f_bavail * stat.f_frsize))))
    except OSError:
        pass
    return items


def which(name, path):
    for directory in path.split(os.pathsep):
        candidate = os.path.join(directory, name)
        if directory and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def examine(data, paths, env, home, budget, with_bytes, groups=None):
    """Everything the doctor reports, as the JSON-ready dictionary of --json."""
    start = time.time()
    home = os.path.abspath(home)
    if paths:
        wanted = list(paths)
    else:
        wanted = [home, user_base(env, home)] + project_dirs(data, user_groups() if groups is None else groups)
    walk = Walk(data, home, env, start + budget, with_bytes)
    # The caches and the pip --user tree act on every session, so they are looked at in every run.
    wanted += list(walk.caches) + [os.path.join(walk.user_base, "lib")]
    roots = []
    for root in distinct_roots(wanted):
        finished = False if walk.out_of_time else walk.run(root)
        roots.append({"path": root, "area": area_of(root, data, home), "complete": finished})
    items = tree_items(walk, data, os_python_version(), env)
    items += startup_file_items(data, home) + session_items(data, env)
    complete = not walk.out_of_time and not walk.unreadable
    if not complete:
        reasons = []
        if walk.out_of_time:
            reasons.append("the time budget of {:g} s ran out".format(budget))
        if walk.unreadable:
            reasons.append("{} directories could not be read".format(len(walk.unreadable)))
        items.append(item(data, "incomplete", "", "; ".join(reasons)))

    def harm(entry):
        files = entry.get("measure", {}).get("files", 0)
        return (SEVERITY_ORDER[entry["severity"]], -files, entry["subject"])

    items.sort(key=harm)
    return {"format": "lumi-python-doctor-report/1", "complete": complete, "budget_s": budget,
            "elapsed_s": round(time.time() - start, 3), "entries_counted": walk.entries, "roots": roots,
            "advisor_url": data["advisor_url"],
            "findings": [i for i in items if i["severity"] in PROBLEMS],
            "good": [i for i in items if i["severity"] == "good"],
            "notes": [i for i in items if i["severity"] == "note"],
            "unreadable": walk.unreadable}


# ------------------------------------------------------------------ output

def show(report):
    say("LUMI Python doctor: looked under {} in {:.1f} s ({} directory entries{}).".format(
        ", ".join(r["path"] for r in report["roots"]) or "nothing", report["elapsed_s"],
        grouped(report["entries_counted"]), "" if report["complete"] else ", NOT ALL COUNTED"))
    sections = (("findings", "Findings, most harmful first:"),
                ("good", "Good, keep these:"), ("notes", "Notes:"))
    number = 0
    for key, heading in sections:
        if not report[key]:
            continue
        say()
        say(heading)
        for entry in report[key]:
            number += 1
            say()
            say("{}. [{}] {}".format(number, entry["severity"], entry["title"]))
            say("   " + entry["detail"])
            if key == "findings" or entry["id"] == "incomplete":
                say("   Why: " + entry["why"])
                say("   Do:  " + entry["do"])
                if entry["commands"]:
                    say("   Commands, as the guide shows them (use your own names):")
                    for command in entry["commands"]:
                        say("     " + command)
            say("   Read: " + entry["url"])
    if any(entry["id"] in REINSTALL for entry in report["findings"]):
        say()
        say("Which way to reinstall an environment? The guide's advisor asks what you need and says:")
        say("   " + report["advisor_url"])
    say()
    count = len(report["findings"])
    say("No findings." if not count else "{} finding{}.".format(count, "" if count == 1 else "s"))


def main(argv=None, data=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n", 1)[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="*", metavar="PATH",
                        help="directories to look under (default: your home and your projects' directories)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--budget", type=float, default=60.0, metavar="SECONDS",
                        help="stop walking after this many seconds and report what was counted (default 60)")
    parser.add_argument("--bytes", action="store_true",
                        help="also add up file sizes (one stat per file: slower on Lustre)")
    args = parser.parse_args(argv)
    for path in args.paths:
        if not os.path.isdir(path):
            parser.error("{}: not a directory".format(path))
    if args.budget <= 0:
        parser.error("--budget must be more than 0 seconds")
    data = json.loads(DOCTOR_JSON) if data is None else data
    home = os.environ.get("HOME") or os.path.expanduser("~")
    report = examine(data, args.paths, dict(os.environ), home, args.budget, args.bytes)
    if args.json:
        say(json.dumps(report, indent=2, sort_keys=True))
    else:
        show(report)
    return EXIT_FINDINGS if report["findings"] else EXIT_CLEAN


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        say()
        say("Interrupted.")
        sys.exit(130)
