"""Run inside a network namespace with no network: start `mkdocs serve`, fetch the given paths, print JSON.

Used by test_serve_without_network.py through bubblewrap (`bwrap --unshare-net`), where
only a loopback interface exists, so any attempt of `mkdocs serve` to reach another
host fails instead of quietly succeeding.
"""

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request

ADDRESS = "127.0.0.1:8000"
STARTUP_TIMEOUT_S = 120


def fetch(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, len(answer.read())
    except urllib.error.HTTPError as err:
        return err.code, 0
    except OSError as err:
        return str(err), 0


def main(config, prefix, paths):
    server = subprocess.Popen(
        [sys.executable, "-m", "mkdocs", "serve", "--config-file", config, "--dev-addr", ADDRESS,
         "--no-livereload"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://{ADDRESS}{prefix}"
    results = {}
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while fetch(base)[0] != 200:
            if server.poll() is not None or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        for path in paths:
            results[path] = fetch(base + path)
    finally:
        server.terminate()
        log = server.communicate(timeout=30)[0]
    print(json.dumps({"results": results, "log": log[-4000:]}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
