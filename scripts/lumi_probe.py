#!/usr/bin/env python3
"""Probe a LUMI login node and print a fresh system snapshot (the format of data/lumi_system.yaml).

Run on LUMI by the support team (README, "Refreshing the snapshot"):

    python3 -m macros.snapshot_plan > plan.json   # in the checkout, with its .venv
    python3 scripts/lumi_probe.py --plan plan.json > probed.json

The plan says what to look at: the module names the guide uses on each stack, the
image directories, the local module collections. The probe asks the live system
(`module --terse avail`, `module show`, `cotainr info`, the image directories,
`sinfo`, `scontrol`, `python3 --version`) and prints JSON, which is YAML too: compare
it with data/lumi_system.yaml and copy what changed. Modules each user installs with
EasyBuild cannot be seen before an install; their entries are carried over from the
plan unchanged, with their original sources.

Python 3.6 and the standard library only: LUMI's system python3 is 3.6.
"""

import argparse
import datetime
import json
import os
import re
import subprocess
import sys

TIMEOUT = 120  # seconds for one command
# Lmod's Lua as `module show` prints it: setenv("NAME","value") / prepend_path("NAME","value").
SHOW_LINE = re.compile(r'^(setenv|prepend_path)\("([^"]+)","(.*)"\)$')
STACK = re.compile(r"^(LUMI/[0-9]{2}\.[0-9]{2}|CrayEnv)(\(([^)]*)\))?$")
# What LUMI's and the test node's nag message on loading an old stack says.
UNSUPPORTED = re.compile(r"unsupported", re.I)
# Variables Lmod and EasyBuild set for their own book-keeping: not facts the guide uses.
BOOKKEEPING = re.compile(r"^(LMOD_.*|__LMOD.*|_ModuleTable.*)$")


class ProbeError(Exception):
    """A command the probe needs did not work; the message says which and why."""


def shell(script):
    """Run `script` in a login bash (so `module` works); return (stdout, stderr)."""
    try:
        result = subprocess.run(["bash", "-lc", script], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, universal_newlines=True,
                                timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        raise ProbeError("took longer than {} s: {}".format(TIMEOUT, script))
    return result.stdout, result.stderr


def terse(stderr_and_stdout):
    """Module names from `module --terse avail` (Lmod prints them on stderr)."""
    names = []
    for line in stderr_and_stdout.splitlines():
        line = line.strip()
        if line and not line.endswith(":") and not line.startswith("-"):
            names.append(line)
    return names


def avail(prefix, setup="", options=""):
    """Full names (with any (default) mark) `module --terse avail prefix` lists."""
    out, err = shell("{} module --terse {} avail {} 2>&1".format(setup, options, prefix))
    return terse(out + err)


def home_relative(value):
    """The user's own paths written as $HOME and $USER, as the snapshot keeps them."""
    home, user = os.path.expanduser("~"), os.environ.get("USER", "")
    if home and home != "/" and value.startswith(home):
        value = "$HOME" + value[len(home):]
    if user:
        value = value.replace("/" + user + "/", "/$USER/")
    return value


def module_show(name, setup):
    """(setenv dict, prepend_path dict) from `module show name`."""
    out, err = shell("{} module show {} 2>&1".format(setup, name))
    setenv, prepend = {}, {}
    for line in (out + err).splitlines():
        match = SHOW_LINE.match(line.strip())
        if not match or BOOKKEEPING.match(match.group(2)):
            continue
        kind, variable, value = match.groups()
        if kind == "setenv":
            setenv[variable] = home_relative(value)
        else:
            prepend.setdefault(variable, []).insert(0, home_relative(value))
    return setenv, prepend


def probe_stacks(plan):
    """Every stack with its status, partitions and the planned modules."""
    stacks = []
    seen = avail("LUMI/") + avail("CrayEnv")
    defaults = avail("LUMI/", options="--default")
    for entry in seen:
        match = STACK.match(entry)
        if not match:
            continue
        name, mark = match.group(1), match.group(3) or ""
        if name in defaults:
            mark += "default"
        planned = plan["stacks"].get(name, {"modules": [], "user_modules": []})
        setup = "module load {} >/dev/null 2>&1;".format(name)
        _, load_err = shell("module load {}".format(name))
        if "default" in mark:
            status = "default"
        elif UNSUPPORTED.search(load_err):
            status = "unsupported"
        else:
            status = "supported"
        partitions = [p.split("/", 1)[1] for p in avail("partition/", setup)
                      if p.startswith("partition/")]
        stacks.append({"name": name, "status": status,
                       "partitions": sorted(set(p.split("(")[0] for p in partitions)),
                       "modules": probe_modules(planned, setup), "source": "probe"})
    return stacks


def probe_modules(planned, setup):
    """The planned module names as the stack has them; user-installed entries carried over."""
    modules = []
    for base in planned["modules"]:
        for full in avail(base + "/", setup):
            full = full.split("(")[0]
            if full.split("/", 1)[0] != base:
                continue
            setenv, prepend = module_show(full, setup)
            prepend.pop("MODULEPATH", None)  # the stack's business, not the module's facts
            entry = {"name": full, "installed": "system"}
            if setenv:
                entry["setenv"] = setenv
            if prepend:
                entry["prepend_path"] = prepend
            commands = planned.get("commands", {}).get(base, [])
            found = [c for c in commands if present(c, setup + " module load {} >/dev/null 2>&1;".format(full))]
            if found:
                entry["commands"] = found
            if base == "cotainr" and "cotainr" in found:
                entry["systems"] = cotainr_systems(setup + " module load {} >/dev/null 2>&1;".format(full))
            entry["source"] = "probe"
            modules.append(entry)
    return modules + list(planned.get("user_modules", []))


def present(command, setup):
    out, _ = shell("{} command -v {}".format(setup, command))
    return bool(out.strip())


def cotainr_systems(setup):
    """{system: base image} of the systems `cotainr info` lists (base image None if unreadable).

    `cotainr info` prints the names only; the base images are read with cotainr's own
    Python (the interpreter on its #! line) through cotainr.util.get_systems().
    """
    out, err = shell("{} cotainr info 2>&1".format(setup))
    names, listing = [], False
    for line in (out + err).splitlines():
        if line.strip().startswith("Available system configurations"):
            listing = True
            continue
        match = re.match(r"^\s*-\s*(\S+)\s*$", line)
        if listing and match:
            names.append(match.group(1))
        elif listing and line.strip():
            break
    images = {}
    shebang, _ = shell('{} head -n 1 "$(command -v cotainr)"'.format(setup))
    if shebang.startswith("#!"):
        code = ("import json; from cotainr.util import get_systems; "
                "print(json.dumps({k: v.get('base-image') for k, v in get_systems().items()}))")
        out, _ = shell("{} {} -c \"{}\"".format(setup, shebang[2:].strip(), code))
        try:
            images = json.loads(out.strip().splitlines()[-1]) if out.strip() else {}
        except ValueError:
            images = {}
    return dict((name, images.get(name)) for name in names)


def probe_local_stacks(plan):
    result = []
    for name in plan["local_stacks"]:
        for full in avail(name + "/"):
            full = full.split("(")[0]
            _, prepend = module_show(full, "")
            paths = prepend.get("MODULEPATH", [])
            entry = {"name": full, "modulepath": paths[0] if paths else "", "source": "probe"}
            listed = plan["local_modules"].get(name, [])
            if listed and paths:
                have = avail("", "module use {} >/dev/null 2>&1;".format(paths[0]))
                found = [m for m in listed if any(h.split("/")[0] == m for h in have)]
                if found:
                    entry["modules"] = found
            result.append(entry)
    return result


def probe_images(plan):
    dirs = []
    for path in plan["image_dirs"]:
        if os.path.isdir(path):
            images = sorted(f for f in os.listdir(path) if f.endswith(".sif"))
            if images:
                dirs.append({"path": path, "images": images, "source": "probe"})
    return dirs


def slurm_time(text):
    """Slurm's time limit ('3-00:00:00', '30:00', '2-00:00:00') as [D-]HH:MM:SS."""
    days, _, rest = text.rpartition("-")
    parts = rest.split(":")
    while len(parts) < 3:
        parts.insert(0, "0")
    hours, minutes, seconds = (int(p) for p in parts)
    return "{}{:02d}:{:02d}:{:02d}".format(days + "-" if days else "", hours, minutes, seconds)


def probe_slurm():
    """The partitions `sinfo` and `scontrol` report, or None without Slurm."""
    out, err = shell("scontrol show partition --oneliner")
    if not out.strip():
        return None
    partitions = []
    for line in out.splitlines():
        fields = dict(f.split("=", 1) for f in line.split() if "=" in f)
        name = fields.get("PartitionName")
        if not name:
            continue
        info, _ = shell("sinfo -h -p {} -o '%c|%m|%G'".format(name))
        cpus, memory, gres = (info.splitlines()[0].split("|") + ["", "", ""])[:3] if info.strip() else ("0", "0", "")
        gpus = re.search(r"gpu(?::[^:(,]+)?:([0-9]+)", gres)
        max_nodes = fields.get("MaxNodes", "UNLIMITED")
        partitions.append({"name": name, "max_time": slurm_time(fields.get("MaxTime", "0")),
                           "max_nodes": int(max_nodes) if max_nodes.isdigit() else 0,
                           "cpus_per_node": int(re.sub(r"\D", "", cpus) or 0),
                           "memory_mb": int(re.sub(r"\D", "", memory) or 0),
                           "gpus_per_node": int(gpus.group(1)) if gpus else 0})
    return {"source": "probe", "partitions": partitions}


def probe_os_python():
    out, err = shell("env -i PATH=/usr/bin:/bin /usr/bin/python3 --version 2>&1")
    match = re.search(r"Python ([0-9]+\.[0-9]+(\.[0-9]+)?)", out + err)
    if not match:
        raise ProbeError("/usr/bin/python3 --version printed no version: " + (out + err).strip())
    return {"version": match.group(1), "source": "probe"}


def probe(plan, today=None):
    """A whole snapshot from the live system."""
    snapshot = {
        "snapshot": {"date": (today or datetime.date.today()).isoformat(), "method": "probe",
                     "note": "Written by scripts/lumi_probe.py on " + os.uname()[1] + "."},
        "os_python": probe_os_python(),
        "stacks": probe_stacks(plan),
        "local_stacks": probe_local_stacks(plan),
        "image_dirs": probe_images(plan),
    }
    slurm = probe_slurm()
    if slurm:
        snapshot["slurm"] = slurm
    return snapshot


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plan", required=True, help="JSON from `python3 -m macros.snapshot_plan`")
    args = parser.parse_args(argv)
    try:
        with open(args.plan) as handle:
            plan = json.load(handle)
        json.dump(probe(plan), sys.stdout, indent=1, sort_keys=False)
        sys.stdout.write("\n")
    except (OSError, ValueError, KeyError) as err:
        sys.stderr.write("lumi_probe: cannot read the plan {}: {}\n".format(args.plan, err))
        return 2
    except ProbeError as err:
        sys.stderr.write("lumi_probe: {}\n".format(err))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
