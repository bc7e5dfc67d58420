"""`node --check` on the site's own scripts, each problem as one line `file:line: SyntaxError: ...`."""

import re
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OWN_SCRIPTS_DIR = ROOT / "overrides"
WHERE = re.compile(r"^(?P<file>.+):(?P<line>\d+)$")
ERROR = re.compile(r"^(?P<kind>\w*Error): (?P<message>.*)$")


def own_scripts():
    """Every .js file we write or vendor under overrides/."""
    return sorted(OWN_SCRIPTS_DIR.rglob("*.js"))


def shown(path):
    path = Path(path).resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def syntax_problem(path):
    """None when Node parses `path`, else one line naming file, line and Node's message."""
    node = shutil.which("node")
    if node is None:
        return "node not found: install Node.js (Debian package nodejs)"
    done = subprocess.run([node, "--check", str(path)], capture_output=True, text=True, timeout=60)
    if done.returncode == 0:
        return None
    lines = done.stderr.splitlines()
    where = next((m for m in map(WHERE.match, lines) if m), None)
    error = next((m for m in map(ERROR.match, lines) if m), None)
    line = f":{where['line']}" if where else ""
    message = f"{error['kind']}: {error['message']}" if error else (lines[-1] if lines else "node --check failed")
    return f"{shown(path)}{line}: {message}"


def syntax_problems(paths=None):
    """The one-line problems of every script in `paths` (default: all of overrides/)."""
    return [problem for problem in map(syntax_problem, own_scripts() if paths is None else paths) if problem]
