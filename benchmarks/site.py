"""Print what the site costs: build time with and without our macros and widget, and the Python page's weight in Chromium.

How it works, all in one run:
1. `mkdocs build` of the real config, and of a copy of it with the macros plugin, the
   hooks and the widget's CSS/JS taken out (the pages then keep their `{{ ... }}` as
   text), each timed as the wall clock of the whole command (what a writer waits for),
   alternating, best of --repeat. The ratio is the cost of our additions (aim: < 1.10).
2. The real build served by a small stdlib HTTP server on 127.0.0.1 and the Python page
   loaded in headless Debian Chromium with an empty cache, --repeat times: requests,
   bytes transferred (the server gzips, as GitHub Pages does), bytes of our own JS
   and CSS gzipped (inlined CSS included), DOMContentLoaded. Requests to other hosts are blocked
   and counted. Aims: at most 8 requests, 250 KB, nothing from other hosts.
"""

import argparse
import functools
import gzip
import http.server
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
PAGE = "software/installing/python/"
OWN_ASSETS = ROOT / "overrides" / "assets"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
AIM_BUILD_RATIO, AIM_REQUESTS, AIM_KB = 1.10, 8, 250


class EnvTag(list):
    """MkDocs' `!ENV [NAME, default]`, carried through unchanged."""


class _Loader(yaml.SafeLoader):
    pass


class _Dumper(yaml.SafeDumper):
    pass


_Loader.add_constructor("!ENV", lambda loader, node: EnvTag(loader.construct_sequence(node)))
_Dumper.add_representer(EnvTag, lambda dumper, data: dumper.represent_sequence("!ENV", list(data)))


def bare_config(tmp: Path) -> Path:
    """mkdocs.yml without the macros plugin, the hooks and the widget's assets, in `tmp`."""
    config = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=_Loader)
    config["plugins"] = [p for p in config.get("plugins", [])
                         if not (p == "macros" or (isinstance(p, dict) and "macros" in p))]
    config.pop("hooks", None)
    config.pop("watch", None)  # `mkdocs serve` only; its relative paths would not exist here
    for key in ("extra_css", "extra_javascript"):
        kept = [a for a in config.get(key, []) if "decision-tree" not in str(a)]
        config[key] = kept
    # Without macros the pages hold `{{ ... }}` as text, which strict link checks reject.
    config["strict"] = False
    config["docs_dir"] = str(ROOT / "docs")
    config["theme"]["custom_dir"] = str(ROOT / config["theme"].get("custom_dir", "overrides"))
    path = tmp / "mkdocs-bare.yml"
    path.write_text(yaml.dump(config, Dumper=_Dumper, sort_keys=False), encoding="utf-8")
    return path


def timed_build(config: Path, site_dir: Path) -> float:
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1", OFFLINE="false")
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--quiet", "--config-file", str(config),
                           "--site-dir", str(site_dir)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"mkdocs build --config-file {config} failed:\n{done.stderr[-3000:]}")
    return elapsed


class _GzipHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files gzip-compressed, as GitHub Pages does, so transferred bytes are realistic."""

    def log_message(self, *args):
        pass

    def do_GET(self):
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            path = path / "index.html"
        if not path.is_file():
            self.send_error(404)
            return
        body = path.read_bytes()
        gzipped = "gzip" in self.headers.get("Accept-Encoding", "")
        if gzipped:
            body = gzip.compress(body, compresslevel=6)
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        if gzipped:
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def gzipped_size(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), compresslevel=9))


def measure_page(site: Path, repeat: int):
    from playwright.sync_api import sync_playwright

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_GzipHandler, directory=str(site)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    origin = f"http://127.0.0.1:{httpd.server_address[1]}"
    runs = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for _ in range(repeat):
                runs.append(load_once(browser, origin, site))
            browser.close()
    finally:
        httpd.shutdown()
        httpd.server_close()
    return runs


def load_once(browser, origin, site):
    context = browser.new_context()
    foreign, local = [], []

    def route(route_):
        if route_.request.url.startswith(origin + "/"):
            route_.continue_()
        else:
            foreign.append(route_.request.url)
            route_.abort()

    context.route("**/*", route)
    finished = []
    # On the context, so the search worker's requests count too.
    context.on("requestfinished", lambda request: finished.append(request))
    page = context.new_page()
    page.goto(f"{origin}/{PAGE}", wait_until="networkidle")
    dcl = page.evaluate("(() => { const n = performance.getEntriesByType('navigation')[0];"
                        " return n.domContentLoadedEventEnd - n.startTime; })()")
    transferred = 0
    for request in finished:
        sizes = request.sizes()
        transferred += sizes["responseBodySize"] + sizes["responseHeadersSize"]
        path = urllib.parse.urlsplit(request.url).path.lstrip("/")
        file = site / path / "index.html" if path.endswith("/") or not path else site / path
        local.append(file)
    context.close()
    own = {}
    for file in local:
        relative = file.relative_to(site).as_posix()
        if relative.startswith("assets/") and (OWN_ASSETS / relative.removeprefix("assets/")).is_file():
            own[file.name] = gzipped_size(file)
    # Our stylesheets that overrides/main.html inlines into the page count as ours too.
    html = (site / PAGE / "index.html").read_text(encoding="utf-8")
    for file in OWN_ASSETS.rglob("*.css"):
        if file.name not in own and file.read_text(encoding="utf-8").strip() in html:
            own[file.name + " (inline)"] = gzipped_size(file)
    return {"requests": len(finished) + len(foreign), "foreign": foreign, "bytes": transferred,
            "raw": sum(f.stat().st_size for f in local if f.is_file()), "dcl_ms": dcl,
            "urls": [r.url.removeprefix(origin) for r in finished], "own": own}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement (best/median kept)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench-site-") as tmp:
        tmp = Path(tmp)
        bare = bare_config(tmp)
        full_times, bare_times = [], []
        for _ in range(args.repeat):
            full_times.append(timed_build(ROOT / "mkdocs.yml", tmp / "site"))
            bare_times.append(timed_build(bare, tmp / "site-bare"))
        full, plain = min(full_times), min(bare_times)
        runs = measure_page(tmp / "site", args.repeat)

    last = runs[-1]
    own_sizes = sorted(last["own"].items())
    dcl = statistics.median(r["dcl_ms"] for r in runs)
    rows = [
        ("mkdocs build, our site", f"{full:.2f} s", "best of %d" % args.repeat),
        ("mkdocs build, no macros/hooks/widget", f"{plain:.2f} s", "same pages, {{ }} left as text"),
        ("cost of our additions (ratio)", f"{full / plain:.2f}", aim(full / plain <= AIM_BUILD_RATIO, f"< {AIM_BUILD_RATIO:.2f}")),
        (f"/{PAGE}: requests", str(last["requests"]), aim(last["requests"] <= AIM_REQUESTS, f"<= {AIM_REQUESTS}")),
        ("  to other hosts", str(len(last["foreign"])), aim(not last["foreign"], "0")),
        ("  bytes transferred (gzip, headers incl.)", f"{last['bytes'] / 1024:.0f} KB", aim(last["bytes"] <= AIM_KB * 1024, f"<= {AIM_KB} KB")),
        ("  the same files uncompressed", f"{last['raw'] / 1024:.0f} KB", "for comparison"),
        ("  our own JS + CSS, gzipped", f"{sum(s for _, s in own_sizes) / 1024:.1f} KB",
         ", ".join(f"{n} {s} B" for n, s in own_sizes)),
        ("  DOMContentLoaded (median)", f"{dcl:.0f} ms", f"{args.repeat} cold loads, loopback"),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'value':>9}  note")
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>9}  {note}")
    print("requests:", *last["urls"], sep="\n  ")
    if last["foreign"]:
        print("requests to other hosts:", *last["foreign"], sep="\n  ")
    return 0


def aim(met: bool, target: str) -> str:
    return f"aim {target}: {'met' if met else 'MISSED'}"


if __name__ == "__main__":
    sys.exit(main())
