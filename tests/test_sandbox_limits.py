"""Exhaustion from a page's shell: a fork loop, a memory hog and large writes each stop at the
sandbox's limit (image/limits.py) with one line naming it, the page and the line; the host is
unharmed and nothing of the page is left running.

The pages run through pytest + Sybil in the LUMI node container, as `pytest docs` runs them.
"""

import re
import subprocess
from pathlib import Path

import pytest

from image import limits
from macros.facts import load_facts
from tests.test_sandbox_escapes import host_processes, unique_sleep, wait_until
from tests.test_snippet_runner import CONFTEST

PROJECT_AREA = f"/project/{load_facts()['example_project']}"
PAGES = {
    # Children that sleep, until fork fails: not a fork bomb, so the machine stays usable.
    "processes": ("```python\nimport os\nwhile True:\n    if os.fork() == 0:\n"
                  "        os.execvp('sleep', ['sleep', '{marker}'])\n```\n", 6),
    # 5 GiB in one allocation, over the 4 GiB data limit.
    "memory": ("```bash\nsleep {marker} &\npython3 -c 'hog = b\"x\" * (5 * 2**30)'\n```\n", 5),
    # One file over the per-file limit, in the home directory on the host's disk.
    "file size": ("```bash\nsleep {marker} &\nhead -c {big} /dev/zero > ~/big\n```\n", 5),
    # Many files, none over the per-file limit, until the page's tmpfs is full.
    "space": ("```bash\nsleep {marker} &\nfor i in $(seq 40); do head -c 64M /dev/zero > /tmp/f$i; "
              "done\n```\n", 5),
}


def run_page(pytester, text):
    docs = pytester.path / "docs"
    docs.mkdir(exist_ok=True)
    (docs / "limit.md").write_text(f"# A page that runs into a limit\n\n{text}", encoding="utf-8")
    pytester.makeconftest(CONFTEST)
    return pytester.runpytest_inprocess("-p", "no:cacheprovider", "-ra", "-v")


@pytest.mark.parametrize("name", list(PAGES))
def test_a_block_that_hits_a_limit_fails_with_one_line_naming_it(pytester, image, name):
    marker = unique_sleep()
    template, line = PAGES[name]
    result = run_page(pytester, template.format(marker=marker, big=limits.FILE_SIZE + 2**20))
    result.assert_outcomes(failed=1)
    limit = next(limit for limit in limits.LIMITS if limit.name == name)
    result.stdout.fnmatch_lines([f"*/docs/limit.md:3: {limits.message(limit)} at page line {line}: *"])
    # The page's shell and everything it started are gone.
    assert wait_until(lambda: not host_processes(marker), 30), "a process of the page outlived it"
    # The host is unharmed: it still starts processes, and nothing over the limit reached its disk.
    assert subprocess.run(["true"], check=False).returncode == 0
    for path in pytester.path.rglob("big"):
        assert path.stat().st_size <= limits.FILE_SIZE
        path.unlink()  # pytest keeps its last runs' directories: not this gigabyte


def test_the_limits_hold_inside_the_sandbox(pytester, image):
    mib = limits.AREAS_SIZE // 2**20
    text = ("```bash\n"
            f"test \"$(ulimit -H -u) $(ulimit -S -u)\" = '{limits.PROCESSES} {limits.PROCESSES}'\n"
            f"test \"$(ulimit -H -d)\" = {limits.DATA // 1024}\n"
            f"test \"$(ulimit -H -f)\" = {limits.FILE_SIZE // 1024}\n"
            f"test \"$(ulimit -H -n)\" = {limits.OPEN_FILES}\n"
            f"! ulimit -u {limits.PROCESSES + 1} 2>/dev/null\n"
            f"test \"$(df --output=size -B1M /tmp /dev/shm /run {PROJECT_AREA} | tail -n +2 | tr -d ' ' | sort -u)\" = {mib}\n"
            "```\n")
    result = run_page(pytester, text)
    result.assert_outcomes(passed=1)


def test_one_tmpfs_holds_the_page_areas(pytester, image):
    # 700 MiB in /tmp and 700 MiB in the project directory: together over the 1 GiB.
    text = ("```bash\nhead -c 700M /dev/zero > /tmp/a\n"
            f"head -c 700M /dev/zero > {PROJECT_AREA}/b\n```\n")
    result = run_page(pytester, text)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*limit.md:3: the block hit the sandbox's space limit*at page line 5: *"])


def test_the_readme_states_the_limits_of_image_limits():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    for limit in limits.LIMITS:
        value = re.match(r"\d+(?: GiB)?", limit.shown)[0]
        assert re.search(rf"^  \| {limit.name} \| {value}\b", readme, re.M), \
            f"README.md: the {limit.name} limit is not given as {value} (image/limits.py)"
