"""Source drift: which cited files changed since their pinned commit, page by page, as Markdown.

Every claim (data/claims/*.yaml) names a file of a source pinned in data/sources.yaml and an
excerpt, a line of that file. This compares each cited file at the pinned commit with the same
file at the newest commit of its repository and prints, per page, the claims whose file
changed (with the diff around the excerpt), moved, vanished, or no longer holds the excerpt.
The system snapshot's and the facts' `source: KEY:PATH` lines are checked the same way, by
file only (they have no excerpt).

Repositories are read from clones at $SOURCES_DIR/OWNER/NAME, taken as they are (their HEAD
is "newest"); without SOURCES_DIR they are cloned, or fetched when already cloned, into
.cache/sources/ from $SOURCES_GIT_BASE (default https://github.com), which needs the network.

Exit status: 0 nothing changed, 1 something changed, 2 a source could not be read.
`--update-pins [KEY ...]` moves the pins to the newest commits once the claims were reread.
"""

import argparse
import datetime
import difflib
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from macros.claims import CLAIMS_DIR, load_claims  # noqa: E402  (needs the sys.path line above)
from macros.data_files import DataFileError  # noqa: E402
from macros.sources import SOURCES_FILE, load_sources  # noqa: E402

# Where clones are kept when SOURCES_DIR is not set (SOURCES_CACHE moves it, e.g. for tests).
CACHE = Path(os.environ.get("SOURCES_CACHE", ROOT / ".cache" / "sources"))
DATA_FILES = [ROOT / "data" / "lumi_system.yaml", ROOT / "data" / "lumi.yaml", ROOT / "data" / "doctor.yaml"]
CONTEXT_LINES = 8  # lines of diff kept either side of an excerpt
# `source: KEY:PATH` in the snapshot (a value) and in lumi.yaml (a comment); PATH ends at
# white space, a comma, a semicolon or a closing bracket.
SOURCE_LINE = re.compile(r"source:\s*([a-z0-9]+(?:-[a-z0-9]+)*):([^\s,;()]+)")


class Unreadable(Exception):
    """A repository, commit or file could not be read; the message says which and why."""


@dataclass
class Cited:
    """One thing that rests on a source file: a claim (with excerpt) or a data-file line."""

    where: str        # the page, or the data file, it belongs to
    label: str        # claim id, or "line N"
    key: str
    path: str
    excerpt: str = ""
    findings: list = field(default_factory=list)


def main(argv=None):
    args = parse_args(argv)
    try:
        registry = load_sources(args.sources)
        claims = load_claims(registry, args.claims)
    except DataFileError as err:
        print(f"check-sources: {err}", file=sys.stderr)
        return 2
    cited = [Cited(c.page, c.id, c.source_key, c.path, c.excerpt) for c in claims.values()]
    for data_file in args.data_files:
        cited += data_file_sources(data_file, registry)
    repos = Repositories(args.sources_dir)
    if args.update_pins is not None:
        return update_pins(args, registry, cited, repos)
    changed, unreadable = check(cited, registry, repos)
    print(report(cited, registry, repos, changed, unreadable))
    return 2 if unreadable else 1 if changed else 0


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sources", type=Path, default=SOURCES_FILE, help="the registry (data/sources.yaml)")
    parser.add_argument("--claims", type=Path, default=CLAIMS_DIR, help="the claims folder (data/claims)")
    parser.add_argument("--data-file", dest="data_files", type=Path, action="append",
                        help="a data file whose `source: KEY:PATH` lines are checked too "
                             "(default: data/lumi_system.yaml, data/lumi.yaml and data/doctor.yaml)")
    parser.add_argument("--sources-dir", type=Path, default=os.environ.get("SOURCES_DIR") or None,
                        help="clones at DIR/OWNER/NAME (default: $SOURCES_DIR; else clone into .cache/sources)")
    parser.add_argument("--update-pins", nargs="*", metavar="KEY",
                        help="move these sources' pins (all when none is named) to their newest commit")
    args = parser.parse_args(argv)
    if args.data_files is None:
        args.data_files = DATA_FILES
    return args


def data_file_sources(path, registry):
    """Every `source: KEY:PATH` line of a data file whose KEY is a registered source."""
    found = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        for key, source_path in SOURCE_LINE.findall(line):
            if key in registry.sources:
                found.append(Cited(display(path), f"line {number}", key, source_path))
    return found


class Repositories:
    """Clones of the registered repositories, from SOURCES_DIR or cloned/fetched into the cache."""

    def __init__(self, sources_dir):
        self.sources_dir = Path(sources_dir) if sources_dir else None
        self.ready = {}  # repository -> clone path, or Unreadable

    def clone(self, repository):
        if repository not in self.ready:
            try:
                self.ready[repository] = self._prepare(repository)
            except Unreadable as err:
                self.ready[repository] = err
        if isinstance(self.ready[repository], Unreadable):
            raise self.ready[repository]
        return self.ready[repository]

    def _prepare(self, repository):
        if self.sources_dir:
            path = self.sources_dir / repository
            if not (path / ".git").exists() and not (path / "HEAD").is_file():
                raise Unreadable(f"{repository}: no git clone at {path} (SOURCES_DIR is {self.sources_dir})")
            return path
        base = os.environ.get("SOURCES_GIT_BASE", "https://github.com").rstrip("/")
        path = CACHE / repository
        if (path / "HEAD").is_file():
            git(path, "fetch", "--quiet", "--prune", "origin", "+refs/heads/*:refs/heads/*",
                what=f"fetching {repository} from {base}")
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            git(path.parent, "clone", "--quiet", "--bare", f"{base}/{repository}", path.name,
                what=f"cloning {repository} from {base}")
        return path

    def newest(self, repository):
        return git(self.clone(repository), "rev-parse", "HEAD", what=f"reading {repository}'s HEAD").strip()


def git(directory, *args, what):
    """git's output, or Unreadable saying what failed and git's own last line."""
    try:
        done = subprocess.run(["git", "-C", str(directory), *args], capture_output=True,
                              text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise Unreadable(f"{what}: {err}") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["git failed"])[-1]
        raise Unreadable(f"{what}: {last}")
    return done.stdout


def file_at(clone, commit, path):
    """The file's text at `commit`, or None when the file is not there."""
    done = subprocess.run(["git", "-C", str(clone), "show", f"{commit}:{path}"],
                          capture_output=True, timeout=120)
    if done.returncode != 0:
        return None
    return done.stdout.decode("utf-8", errors="replace")


def changed_files(clone, old, new, path):
    """Files under `path` that differ between two commits (a directory or a single file)."""
    out = git(clone, "diff", "--name-only", old, new, "--", path, what=f"diffing {path}")
    return out.split()


def renamed_to(clone, old, new, path):
    """Where git thinks `path` moved between two commits, or None."""
    out = git(clone, "diff", "--name-status", "--find-renames", old, new, what="finding renames")
    for line in out.splitlines():
        parts = line.split("\t")
        if parts[0].startswith("R") and len(parts) == 3 and parts[1] == path:
            return parts[2]
    return None


def folded(text):
    return " ".join(text.split())


def excerpt_line(text, excerpt):
    """1-based line of the first line holding `excerpt` (white space folded), or None."""
    wanted = folded(excerpt)
    for number, line in enumerate(text.splitlines(), start=1):
        if wanted in folded(line):
            return number
    return None


def diff_around(old_text, new_text, line, label_old, label_new):
    """The unified-diff hunks of old -> new that touch CONTEXT_LINES around old line `line`."""
    old, new = old_text.splitlines(), new_text.splitlines()
    low, high = line - CONTEXT_LINES, line + CONTEXT_LINES
    kept = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for group in matcher.get_grouped_opcodes(3):
        first, last = group[0][1] + 1, group[-1][2]
        if last >= low and first <= high:
            kept.append(group)
    lines = []
    for group in kept:
        i1, i2, j1, j2 = group[0][1], group[-1][2], group[0][3], group[-1][4]
        lines.append(f"@@ -{i1 + 1},{i2 - i1} +{j1 + 1},{j2 - j1} @@")
        for tag, a1, a2, b1, b2 in group:
            if tag == "equal":
                lines += [" " + text for text in old[a1:a2]]
            else:
                lines += ["-" + text for text in old[a1:a2]]
                lines += ["+" + text for text in new[b1:b2]]
    if not lines:
        return ""
    return "\n".join([f"--- {label_old}", f"+++ {label_new}"] + lines)


def check(cited, registry, repos):
    """Fill each item's findings; return (changed items, unreadable items)."""
    changed, unreadable = [], []
    for item in cited:
        source = registry.sources[item.key]
        try:
            clone = repos.clone(source.repository)
            newest = repos.newest(source.repository)
            git(clone, "cat-file", "-e", f"{source.commit}^{{commit}}",
                what=f"{item.key}: the pinned commit {source.commit[:12]} is not in {source.repository}")
            kind = compare(item, clone, source.commit, newest)
        except Unreadable as err:
            item.findings = [("unreadable", str(err))]
            unreadable.append(item)
            continue
        if kind == "unreadable":
            unreadable.append(item)
        elif kind != "same":
            changed.append(item)
    return changed, unreadable


def compare(item, clone, pinned, newest):
    """Compare one cited file between the pin and the newest commit; return its kind of finding."""
    old_text = file_at(clone, pinned, item.path)
    is_tree = old_text is None and git(clone, "ls-tree", pinned, "--", item.path, what="ls-tree").strip()
    if old_text is None and not is_tree:
        item.findings = [("unreadable", f"{item.path} is not in {item.key} at the pinned commit {pinned[:12]}")]
        return "unreadable"
    # A claim's excerpt must be in its file at the pin, or the claim cannot be checked at all.
    at_pin = excerpt_line(old_text, item.excerpt) if item.excerpt and not is_tree else None
    if item.excerpt and at_pin is None:
        item.findings = [("unreadable", f"the excerpt {item.excerpt!r} is not in {item.path} even at the "
                                        f"pinned commit {pinned[:12]}: fix the claim")]
        return "unreadable"
    if pinned == newest:
        return "same"
    if is_tree or not item.excerpt:
        files = changed_files(clone, pinned, newest, item.path)
        if not files:
            return "same"
        item.findings = [("changed", f"changed between {pinned[:7]} and {newest[:7]}: " + ", ".join(files[:10])
                          + (f" and {len(files) - 10} more" if len(files) > 10 else ""))]
        return "changed"
    new_path = item.path
    new_text = file_at(clone, newest, item.path)
    if new_text is None:
        new_path = renamed_to(clone, pinned, newest, item.path)
        if new_path is None:
            item.findings = [("removed", f"{item.path} no longer exists at {newest[:7]}")]
            return "removed"
        new_text = file_at(clone, newest, new_path)
        item.findings.append(("moved", f"{item.path} moved to {new_path} at {newest[:7]}"))
    if new_text == old_text:
        return "moved" if item.findings else "same"
    at_new = excerpt_line(new_text, item.excerpt)
    if at_new is None:
        item.findings.append(("excerpt lost", f"the excerpt {item.excerpt!r} is no longer in {new_path}"))
    else:
        item.findings.append(("changed", f"{new_path} changed; the excerpt is still there "
                                         f"(line {at_pin} at {pinned[:7]}, line {at_new} at {newest[:7]})"))
    around = diff_around(old_text, new_text, at_pin, f"{item.path} @ {pinned[:7]}", f"{new_path} @ {newest[:7]}")
    item.findings.append(("diff", around or f"(no change within {CONTEXT_LINES} lines of the excerpt)"))
    return "changed"


def report(cited, registry, repos, changed, unreadable):
    """The Markdown report: per page (or data file), what changed and what could not be read."""
    today = datetime.date.today().isoformat()
    lines = [f"# Source drift report ({today})", "",
             "Every cited file at its pinned commit (data/sources.yaml) against the newest commit of its "
             "repository" + (f" in {repos.sources_dir}" if repos.sources_dir else "") + ".", ""]
    for key in sorted({item.key for item in cited}):
        source = registry.sources[key]
        try:
            newest = repos.newest(source.repository)[:7]
        except Unreadable:
            newest = "unreadable"
        lines.append(f"- `{key}`: {source.repository}, pinned {source.commit[:7]} ({source.date}), newest {newest}")
    lines.append("")
    for where in sorted({item.where for item in changed + unreadable}):
        lines += ["", f"## {where}", ""]
        for item in [i for i in cited if i.where == where and (i in changed or i in unreadable)]:
            lines.append(f"### {item.label}: `{item.key}:{item.path}`")
            lines.append("")
            for kind, text in item.findings:
                if kind == "diff":
                    lines += ["```diff", text, "```"] if text.startswith("---") else [text]
                else:
                    lines.append(f"- **{kind}**: {text}")
            lines.append("")
    lines += ["", f"{len(cited)} cited files checked: {len(changed)} changed, {len(unreadable)} could not be "
                  f"read, {len(cited) - len(changed) - len(unreadable)} unchanged."]
    if changed:
        lines.append("Reread each claim above against the newest file; fix the page (and the claim's excerpt), "
                     "then move the pin: `make update-source-pins KEYS=\"KEY ...\"`.")
    return "\n".join(lines)


def update_pins(args, registry, cited, repos):
    """Move pins to the newest commits; refuse a source whose claims lost their file or excerpt."""
    keys = args.update_pins or sorted(registry.sources)
    unknown = [key for key in keys if key not in registry.sources]
    if unknown:
        print(f"check-sources: no such source: {', '.join(unknown)} (known: {', '.join(registry.known())})",
              file=sys.stderr)
        return 2
    chosen = [item for item in cited if item.key in keys]
    changed, unreadable = check(chosen, registry, repos)
    text = Path(args.sources).read_text(encoding="utf-8")
    status = 0
    for key in keys:
        source = registry.sources[key]
        blocking = [i for i in unreadable + changed if i.key == key and any(
            kind in ("unreadable", "removed", "excerpt lost") for kind, _ in i.findings)]
        if blocking:
            status = 1
            print(f"{key}: not moved; fix these first: " + "; ".join(
                f"{i.where} {i.label} ({i.findings[-1][0]})" for i in blocking))
            continue
        try:
            newest = repos.newest(source.repository)
            clone = repos.clone(source.repository)
            day = git(clone, "show", "-s", "--format=%cs", newest, what="reading the commit date").strip()
        except Unreadable as err:
            print(f"{key}: not moved: {err}")
            status = 2
            continue
        text = move_pin(text, key, newest, day, datetime.date.today().isoformat())
        print(f"{key}: {source.commit[:7]} -> {newest[:7]} ({day})")
    Path(args.sources).write_text(text, encoding="utf-8")
    return status


def move_pin(text, key, commit, day, read):
    """`text` (sources.yaml) with KEY's commit, date and read lines replaced; comments kept."""
    block = re.compile(rf"(^  {re.escape(key)}:\n(?:    .*\n)+)", re.MULTILINE)
    match = block.search(text)
    entry = match.group(1)
    entry = re.sub(r"(?m)^(    commit: ).*$", rf"\g<1>{commit}", entry)
    entry = re.sub(r"(?m)^(    date: ).*$", rf'\g<1>"{day}"', entry)
    entry = re.sub(r"(?m)^(    read: ).*$", rf'\g<1>"{read}"', entry)
    return text[:match.start(1)] + entry + text[match.end(1):]


def display(path):
    relative = os.path.relpath(path, ROOT)
    return relative if not relative.startswith("..") else str(path)


if __name__ == "__main__":
    sys.exit(main())
