"""scripts/check_external_links.py against local HTTP servers: 200, 301, 404, 429, a silent host, the cache, the ignore list."""

import http.server
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "check_external_links.py"
# Short waits so the timeout and the retries cost seconds, not minutes.
FAST = ["--timeout", "1", "--retries", "1", "--retry-wait", "1", "--overall-timeout", "120"]


class Server:
    """127.0.0.1 HTTP server answering /ok 200, /moved 301 -> /ok, /busy 429 once then 200, else 404."""

    def __init__(self):
        self.hits = {}
        hits = self.hits

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                hits[self.path] = hits.get(self.path, 0) + 1
                if self.path == "/ok":
                    self.answer(200)
                elif self.path == "/moved":
                    self.answer(301, Location="/ok")
                elif self.path == "/busy" and hits[self.path] == 1:
                    self.answer(429, **{"Retry-After": "1"})
                elif self.path == "/busy":
                    self.answer(200)
                else:
                    self.answer(404)

            do_HEAD = do_GET

            def answer(self, code, **headers):
                self.send_response(code)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def server():
    srv = Server()
    yield srv
    srv.close()


@pytest.fixture(scope="module")
def silent_url():
    """A host that accepts the connection and never answers: the request has to time out."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/silent"
    sock.close()


def make_site(root: Path, *urls):
    """A one-page 'built site' linking to `urls`."""
    site = root / "site"
    (site / "guide").mkdir(parents=True)
    links = "".join(f'<a href="{u}">link</a>\n' for u in urls)
    (site / "guide" / "index.html").write_text(f"<html><body>{links}<a href='/local/'>x</a></body></html>")
    return site


def make_ignore(root: Path, body: str) -> Path:
    path = root / "ignore.yaml"
    path.write_text(body)
    return path


NO_IGNORES = "ignore: []\n"


def check(site, cache, ignore, *extra):
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--site", str(site), "--cache-dir", str(cache),
         "--ignore-file", str(ignore), *FAST, *extra],
        capture_output=True, text=True, timeout=180)
    return done.returncode, done.stdout + done.stderr


def test_broken_links_are_reported_and_working_ones_pass(tmp_path, server, silent_url):
    site = make_site(tmp_path, f"{server.url}/ok", f"{server.url}/moved", f"{server.url}/missing",
                     f"{server.url}/busy", silent_url)
    code, out = check(site, tmp_path / "cache", make_ignore(tmp_path, NO_IGNORES))
    assert code == 1, out
    broken = [line for line in out.splitlines() if line.startswith("BROKEN")]
    assert len(broken) == 2, out
    assert any(f"{server.url}/missing" in line and "404" in line and "guide/index.html" in line for line in broken), out
    assert any(silent_url in line and "imeout" in line for line in broken), out
    # 429 with Retry-After: asked again, then fine; 301: followed to /ok.
    assert server.hits["/busy"] == 2, server.hits
    assert server.hits["/moved"] == 1 and server.hits["/ok"] >= 2, server.hits


def test_the_cache_spares_requests_until_it_is_too_old(tmp_path, server):
    site = make_site(tmp_path, f"{server.url}/ok", f"{server.url}/gone")
    cache, ignore = tmp_path / "cache", make_ignore(tmp_path, NO_IGNORES)
    before_ok, before_gone = server.hits.get("/ok", 0), server.hits.get("/gone", 0)
    check(site, cache, ignore, "--max-age", "1d")
    assert server.hits["/ok"] == before_ok + 1
    code, out = check(site, cache, ignore, "--max-age", "1d")
    assert server.hits["/ok"] == before_ok + 1, "a fresh cached result was checked again"
    assert code == 1 and server.hits["/gone"] > before_gone + 1, "a broken link must be asked again"
    time.sleep(2.1)
    check(site, cache, ignore, "--max-age", "1s")
    assert server.hits["/ok"] == before_ok + 2, "a result older than --max-age was trusted"


def test_ignored_links_are_not_requested_and_the_reason_is_printed(tmp_path, server):
    site = make_site(tmp_path, f"{server.url}/ok", f"{server.url}/private/page")
    ignore = make_ignore(tmp_path, "ignore:\n  - pattern: '/private/'\n    reason: needs a login we do not have\n")
    code, out = check(site, tmp_path / "cache", ignore)
    assert code == 0, out
    assert "/private/page" not in server.hits
    assert "ignored 1 link(s): needs a login we do not have" in out


def test_without_network_the_check_is_skipped_not_failed(tmp_path):
    # .invalid never resolves (RFC 6761): to the script this looks like a machine offline.
    site = make_site(tmp_path, "https://docs.example.invalid/page", "https://other.invalid/")
    ignore = make_ignore(tmp_path, NO_IGNORES)
    code, out = check(site, tmp_path / "cache", ignore)
    assert code == 0 and "skipped: no network" in out, out
    assert not (tmp_path / "cache" / ".lycheecache").exists()
    code, out = check(site, tmp_path / "cache", ignore, "--require-network")
    assert code == 4, out


@pytest.mark.parametrize("body, problem", [
    ("ignore:\n  - pattern: '(unclosed'\n    reason: a reason long enough\n", ":2: not a valid regular expression"),
    ("ignore:\n  - pattern: 'x'\n", ":2: at ignore/0: 'reason' is a required property"),
])
def test_a_bad_ignore_file_is_named_with_its_line(tmp_path, body, problem):
    site = make_site(tmp_path, "https://example.invalid/")
    code, out = check(site, tmp_path / "cache", make_ignore(tmp_path, body))
    assert code == 2, out
    assert problem in out and "ignore.yaml" in out and "Traceback" not in out, out


def test_a_missing_site_says_how_to_build_it(tmp_path):
    code, out = check(tmp_path / "nowhere", tmp_path / "cache", make_ignore(tmp_path, NO_IGNORES))
    assert code == 2 and "make build" in out, out


def test_the_real_ignore_file_is_valid():
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import check_external_links
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    assert check_external_links.load_ignore_list(check_external_links.IGNORE_FILE)
