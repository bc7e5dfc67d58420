"""Print what the site costs: build time with and without our macros and widget, and the Python page's weight in Chromium.

How it works, all in one run:
1. `mkdocs build` of the real config, and of a copy of it with the macros plugin, the
   hooks and the widget's CSS/JS taken out (the pages then keep their `{{ ... }}` as
   text), each timed as the wall clock of the whole command (what a writer waits for),
   alternating, best of --repeat. The ratio is the cost of our additions (aim: < 1.10).
2. The real build served by a stdlib HTTP server on 127.0.0.1 and the Python page
   loaded in headless Debian Chromium with an empty cache, --repeat times: requests,
   bytes (as served, uncompressed; and gzipped, as GitHub Pages sends them), bytes of
   our own JS and CSS gzipped, DOMContentLoaded. Requests to other hosts are blocked
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


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def gzipped_size(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), compresslevel=9))


def measure_page(site: Path, repeat: int):
    from playwright.sync_api import sync_playwright

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(site)))
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
    return {"requests": len(finished) + len(foreign), "foreign": foreign, "bytes": transferred,
            "gzip": sum(gzipped_size(f) for f in local if f.is_file()), "dcl_ms": dcl, "files": local}


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
    own = sorted({f for f in last["files"] if OWN_ASSETS.name in f.parts and f.suffix in (".js", ".css")})
    own_sizes = [(f.name, gzipped_size(f)) for f in own if f.is_file()]
    dcl = statistics.median(r["dcl_ms"] for r in runs)
    rows = [
        ("mkdocs build, our site", f"{full:.2f} s", "best of %d" % args.repeat),
        ("mkdocs build, no macros/hooks/widget", f"{plain:.2f} s", "same pages, {{ }} left as text"),
        ("cost of our additions (ratio)", f"{full / plain:.2f}", aim(full / plain <= AIM_BUILD_RATIO, f"< {AIM_BUILD_RATIO:.2f}")),
        (f"/{PAGE}: requests", str(last["requests"]), aim(last["requests"] <= AIM_REQUESTS, f"<= {AIM_REQUESTS}")),
        ("  to other hosts", str(len(last["foreign"])), aim(not last["foreign"], "0")),
        ("  bytes as served (uncompressed)", f"{last['bytes'] / 1024:.0f} KB", aim(last["bytes"] <= AIM_KB * 1024, f"<= {AIM_KB} KB")),
        ("  bytes gzipped (as GitHub Pages sends)", f"{last['gzip'] / 1024:.0f} KB", aim(last["gzip"] <= AIM_KB * 1024, f"<= {AIM_KB} KB")),
        ("  our own JS + CSS, gzipped", f"{sum(s for _, s in own_sizes) / 1024:.1f} KB",
         ", ".join(f"{n} {s} B" for n, s in own_sizes)),
        ("  DOMContentLoaded (median)", f"{dcl:.0f} ms", f"{args.repeat} cold loads, loopback"),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'value':>9}  note")
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>9}  {note}")
    if last["foreign"]:
        print("requests to other hosts:", *last["foreign"], sep="\n  ")
    return 0


def aim(met: bool, target: str) -> str:
    return f"aim {target}: {'met' if met else 'MISSED'}"


if __name__ == "__main__":
    sys.exit(main())
