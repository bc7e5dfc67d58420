"""Install the pinned Node tools (package.json + package-lock.json) into node_modules/ once, for the tests that use them."""

import fcntl
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"
# npm writes this after every install; older than the lock file means the tools are stale.
INSTALLED_MARKER = NODE_MODULES / ".package-lock.json"
NPM_TIMEOUT_S = 300


def node_modules() -> Path:
    """node_modules/ matching package-lock.json; runs `npm ci` when missing or stale."""
    # Parallel test workers (pytest-xdist) may all ask at once: one installs, the others wait.
    (ROOT / ".cache").mkdir(exist_ok=True)
    with open(ROOT / ".cache" / "npm-install.lock", "w") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        return _install()


def _install() -> Path:
    lock = ROOT / "package-lock.json"
    if INSTALLED_MARKER.exists() and INSTALLED_MARKER.stat().st_mtime >= lock.stat().st_mtime:
        return NODE_MODULES
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm not found: install Node.js with npm (Debian: apt-get install nodejs npm)")
    # --ignore-scripts: nothing we install needs an install script, so none may run.
    done = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
                          cwd=ROOT, capture_output=True, text=True, timeout=NPM_TIMEOUT_S)
    if done.returncode != 0:
        raise RuntimeError(f"npm ci failed:\n{done.stdout}\n{done.stderr}")
    return NODE_MODULES
