"""`mkdocs serve` rebuilds when anything that feeds a page changes: data/, macros/, overrides/, hooks/."""

import os
import queue
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from mkdocs.config import load_config

from site_copy import ROOT, copy_site

# What a page is made of besides docs/ and mkdocs.yml (which mkdocs serve always watches).
FEEDS_PAGES = ["data", "macros", "overrides", "hooks"]
SERVE_TIMEOUT_S = 180


def test_mkdocs_yml_watches_every_directory_that_feeds_a_page():
    config = load_config(str(ROOT / "mkdocs.yml"))
    watched = {Path(path).resolve() for path in config["watch"]}
    missing = [name for name in FEEDS_PAGES if (ROOT / name).resolve() not in watched]
    assert not missing, f"mkdocs.yml `watch:` lacks {missing}"
    # The facts files, the system snapshot included once it exists, sit in a watched folder.
    for data_file in sorted((ROOT / "data").glob("*.yaml")):
        assert any(folder in data_file.resolve().parents for folder in watched), data_file


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _lines(stream, into):
    for line in stream:
        into.put(line)


def _wait_for(lines, text, seen, deadline):
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1)
        except queue.Empty:
            continue
        seen.append(line)
        if text in line:
            return True
    return False


def test_serve_rebuilds_when_a_new_data_file_appears(tmp_path):
    """The snapshot (data/lumi_system.yaml) is a new file in data/: creating one must rebuild."""
    project = copy_site(tmp_path / "project")
    server = subprocess.Popen(
        [sys.executable, "-m", "mkdocs", "serve", "-f", str(project / "mkdocs.yml"),
         "--dev-addr", f"127.0.0.1:{_free_port()}"],
        cwd=project, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env=dict(os.environ, NO_MKDOCS_2_WARNING="1"))
    lines, seen = queue.Queue(), []
    threading.Thread(target=_lines, args=(server.stdout, lines), daemon=True).start()
    deadline = time.monotonic() + SERVE_TIMEOUT_S
    try:
        assert _wait_for(lines, "Serving on", seen, deadline), "".join(seen)
        (project / "data" / "watch-probe.yaml").write_text("probe: 1\n", encoding="utf-8")
        assert _wait_for(lines, "Detected file changes", seen, deadline), "".join(seen)
    finally:
        server.terminate()
        server.wait(timeout=30)
