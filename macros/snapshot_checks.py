"""Every `module load` a page or the decision tree shows must name what the snapshot has.

The snippet tests run most blocks in the test node, which only has the snapshot's
modules; this check also covers blocks that cannot run there (marked skip) and the
decision tree's commands. It follows a page in order, the way a reader types it: the
stack last loaded (the snapshot's default before any), the partitions that stack has,
`module use` of a local collection, and `eb NAME.eb` installs, without which a module
each user installs with EasyBuild cannot be loaded.
"""

import re
import shlex

# A fenced block: opening fence (``` or ~~~, maybe indented), body, closing fence.
_FENCE = re.compile(r"^([ \t]*)(`{3,}|~{3,})[^\n]*\n(.*?)^\1\2[ \t]*$", re.M | re.S)
_COMMAND = re.compile(r"(?:^|[;&|]\s*|\$\s+)(module\s+(?:load|add|use)\s+[^;&|#\n]+|eb\s+[^;&|#\n]+)")


class ModuleWalk:
    """What a reader's shell would have after the commands seen so far."""

    def __init__(self, snapshot):
        self.snapshot = snapshot
        self.stack = snapshot.default_stack()["name"]
        self.installed = set()
        self.used_paths = set()

    def command(self, text):
        """Take one `module load|use ...` or `eb ...` command; return a problem or None."""
        try:
            words = shlex.split(text)
        except ValueError:
            return None
        if words[0] == "eb":
            self.installed.update(w for w in words[1:] if w.endswith(".eb"))
            return None
        if words[1] == "use":
            self.used_paths.update(w for w in words[2:] if not w.startswith("-"))
            return None
        for name in words[2:]:
            if name.startswith("-") or "$" in name or "{" in name:
                continue
            problem = self.load(name)
            if problem:
                return problem
        return None

    def load(self, name):
        snapshot = self.snapshot
        base, _, version = name.partition("/")
        if base in ("LUMI", "CrayEnv"):
            if name in ("LUMI", "CrayEnv") or snapshot.stack(name):
                self.stack = name if name != "LUMI" else snapshot.default_stack()["name"]
                return None
            stacks = ", ".join(snapshot.stack_names())
            return f"{name} is not a stack on LUMI (the snapshot has {stacks})"
        if base == "partition":
            have = (snapshot.stack(self.stack) or {}).get("partitions", [])
            if version in have:
                return None
            return (f"partition/{version} is not in {self.stack} (the snapshot has "
                    f"{', '.join('partition/' + p for p in have) or 'none'})")
        for local in snapshot.data["local_stacks"]:
            if base == local["name"].split("/", 1)[0]:
                self.used_paths.add(local["modulepath"])
                return None if name in (base, local["name"]) else f"{name} is not on LUMI (the snapshot has {local['name']})"
            if local["modulepath"] in self.used_paths and base in local.get("modules", []):
                return None
        return self.load_software(name, base)

    def load_software(self, name, base):
        snapshot = self.snapshot
        here = snapshot.module_versions(self.stack, base)
        matches = [m for m in here if m == name or (m.split("/", 1)[0] == name)]
        entries = [snapshot.find_module(self.stack, m) for m in matches]
        if not entries:
            # A user's container modules, once installed, show in every stack.
            entries = [m for s in snapshot.data["stacks"] for m in s["modules"]
                       if m["installed"] == "user" and m.get("partition") == "container"
                       and (m["name"] == name or m["name"].split("/", 1)[0] == name)]
        if not entries:
            if here:
                return f"{name} is not on {self.stack} (the snapshot has {', '.join(here)})"
            return f"module {base} is not on {self.stack} in the snapshot"
        entry = entries[0]
        if entry["installed"] == "user" and entry["easyconfig"] not in self.installed:
            return (f"{entry['name']} is not preinstalled on LUMI: each user installs it first with "
                    f"`eb {entry['easyconfig']}`, which this page does not run before loading it")
        return None


def fenced_blocks(markdown):
    """(line number of the block's first body line, body) for every fenced block."""
    for match in _FENCE.finditer(markdown):
        yield markdown.count("\n", 0, match.start(3)) + 1, match.group(3)


def module_problems(markdown, snapshot):
    """(line in `markdown`, problem) for each bad `module load` or missing install, in order."""
    walk, problems = ModuleWalk(snapshot), []
    for first_line, body in fenced_blocks(markdown):
        for offset, line in enumerate(body.splitlines()):
            for match in _COMMAND.finditer(line.strip()):
                problem = walk.command(match.group(1).strip())
                if problem:
                    problems.append((first_line + offset, problem))
    return problems


def source_line(source, rendered, line):
    """The source line of rendered `line`: the same-numbered `module load`/`eb` line in order."""
    def command_lines(text):
        return [i + 1 for i, t in enumerate(text.splitlines()) if _COMMAND.search(t.strip())]
    rendered_lines, source_lines = command_lines(rendered), command_lines(source)
    if line in rendered_lines and len(rendered_lines) == len(source_lines):
        return source_lines[rendered_lines.index(line)]
    return line


def tree_problems(tree, snapshot):
    """(node id, problem) for each bad `module load` in the decision tree's commands."""
    problems = []
    for node_id, node in tree["nodes"].items():
        walk = ModuleWalk(snapshot)
        for command in node.get("recommendation", {}).get("commands", []):
            for line in command.splitlines():
                for match in _COMMAND.finditer(line.strip()):
                    problem = walk.command(match.group(1).strip())
                    if problem:
                        problems.append((node_id, problem))
    return problems
