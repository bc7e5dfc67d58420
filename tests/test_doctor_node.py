"""The doctor in the test node, against set-ups made with the real tools: pip, venv, mksquashfs, singularity."""

import json
import subprocess

import jsonschema
import pytest

import lumi_node
from macros.doctor import DOCTOR_PATH, REPORT_SCHEMA, load_advice, render_doctor
from macros.facts import load_facts
from site_copy import ROOT, build

FACTS = load_facts()
ADVICE = load_advice(facts=FACTS)
SITE_URL = "https://example.org/guide/"
PROJECT, SCRATCH = FACTS["projappl"], FACTS["scratch"]
HOME = lumi_node.HOME
DOCTOR = "lumi-python-doctor.py"
TIMEOUT = 300
# Small packages of our own, built into sdists by setuptools and installed by pip with no network.
PACKAGES = [f"doctor-demo-{n}" for n in range(1, FACTS["few_packages"] + 1)]

# What `conda init bash` writes into ~/.bashrc (conda's markers and its hook call).
CONDA_INIT_BLOCK = f"""# >>> conda initialize >>>
# !! Contents within this block are managed by 'conda init' !!
__conda_setup="$('{HOME}/miniforge3/bin/conda' 'shell.bash' 'hook' 2> /dev/null)"
if [ $? -eq 0 ]; then
    eval "$__conda_setup"
else
    if [ -f "{HOME}/miniforge3/etc/profile.d/conda.sh" ]; then
        . "{HOME}/miniforge3/etc/profile.d/conda.sh"
    else
        export PATH="{HOME}/miniforge3/bin:$PATH"
    fi
fi
unset __conda_setup
# <<< conda initialize <<<
"""

SETUP = f"""
set -e
P={PROJECT}
S={SCRATCH}
W=$PWD
for n in $(seq 1 {len(PACKAGES)}); do
  mkdir -p src/pkg$n/doctor_demo_$n
  echo "VALUE = $n" > src/pkg$n/doctor_demo_$n/__init__.py
  printf '[project]\\nname = "doctor-demo-%s"\\nversion = "1.0"\\n[build-system]\\nrequires = ["setuptools"]\\nbuild-backend = "setuptools.build_meta"\\n' $n > src/pkg$n/pyproject.toml
done
# A venv on cray-python with {len(PACKAGES)} packages that pip builds from sdists (which fills pip's cache).
module load {FACTS['lumi_module']} {FACTS['cray_python']['module']}
python3 -m venv $P/many
$P/many/bin/pip install --quiet --no-index --find-links /usr/share/python-wheels setuptools
for n in $(seq 1 {len(PACKAGES)}); do
  (cd src/pkg$n && $P/many/bin/python -c "from setuptools import build_meta as b; b.build_sdist('$W/dist')" >/dev/null 2>&1)
done
$P/many/bin/pip install --quiet --no-index --no-build-isolation --find-links dist {' '.join(PACKAGES)}
$P/many/bin/pip wheel --quiet --no-index --no-build-isolation --find-links dist {PACKAGES[0]} -w wheels
# A venv with one package, which the guide accepts, and the same packed into SquashFS.
python3 -m venv $P/few
$P/few/bin/pip install --quiet --no-index --find-links wheels {PACKAGES[0]}
mksquashfs $P/few $S/few.sqsh -processors 1 -no-xattrs -quiet
module unload {FACTS['cray_python']['module']}
# A venv on the operating system's Python, and a pip --user tree.
python3 -m venv $P/os-venv
$P/os-venv/bin/pip install --quiet --no-index --find-links wheels {PACKAGES[0]}
python3 -m pip install --quiet --user --break-system-packages --no-index --find-links wheels {PACKAGES[0]}
# A SIF image built from the node's local image.
printf 'Bootstrap: localimage\\nFrom: {FACTS['pytorch']['image_path']}\\n%%environment\\n    export DOCTOR_DEMO=1\\n' > demo.def
singularity build --force $S/demo.sif demo.def >/dev/null 2>&1
# conda init's block in ~/.bashrc, a conda activate in ~/.bash_profile.
printf 'export EDITOR=vi\\n' > ~/.bashrc
cat >> ~/.bashrc <<'BLOCK'
{CONDA_INIT_BLOCK}BLOCK
printf '[ -f ~/.bashrc ] && . ~/.bashrc\\nconda activate my-env\\n' > ~/.bash_profile
"""


def node_run(home, work, script, check=True):
    result = subprocess.run(lumi_node.shell_argv(home, work), input=script, capture_output=True,
                            text=True, timeout=TIMEOUT)
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def place_doctor(work):
    (work / DOCTOR).write_text(render_doctor(ADVICE, FACTS, SITE_URL), encoding="utf-8")


# The sandbox's project areas live in the page's own tmpfs and end with its shell, so the
# set-up and both runs of the doctor happen in one shell; their output is left in `work`.
RUNS = f"""
set +e
(
  export PYTHONUSERBASE={HOME}/.local SINGULARITY_BINDPATH={SCRATCH}
  echo "many $(find {PROJECT}/many | wc -l) os-venv $(find {PROJECT}/os-venv | wc -l)" > find-counts
  PYTHONPATH={HOME}/extra python3 {DOCTOR} --json {PROJECT} {SCRATCH} > report.json
  echo $? > report.status
)
python3 {DOCTOR} > text-report
echo $? > text-report.status
"""


@pytest.fixture(scope="module")
def made(image, tmp_path_factory):
    """The `work` directory after SETUP made every set-up the doctor should find, with the real
    tools, and the doctor ran twice: --json on the project and scratch directories with session
    variables set, and plain text with its defaults (home, ~/.local, the user's projects)."""
    base = tmp_path_factory.mktemp("doctor")
    home, work = base / "home", base / "work"
    home.mkdir()
    work.mkdir()
    place_doctor(work)
    node_run(home, work, SETUP + RUNS)
    return work


@pytest.fixture(scope="module")
def report(made):
    """The JSON report, plus `find`'s own counts of the two venvs."""
    status = (made / "report.status").read_text().strip()
    assert status == "1", f"the doctor exited {status}: " + (made / "report.json").read_text()
    data = json.loads((made / "report.json").read_text())
    counts = (made / "find-counts").read_text().split()
    data["find"] = {counts[0]: int(counts[1]), counts[2]: int(counts[3])}
    return data


def by_id(report, kind, key="findings"):
    return [entry for entry in report[key] if entry["id"] == kind]


def test_report_follows_its_schema(report):
    schema = json.loads(REPORT_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.validate({k: v for k, v in report.items() if k != "find"}, schema)
    assert report["complete"]


def test_venv_with_many_pip_packages_is_measured_against_the_project_quota(report):
    [entry] = by_id(report, "venv-many-packages")
    assert entry["subject"] == f"{PROJECT}/many"
    measure = entry["measure"]
    assert measure["files"] == report["find"]["many"]
    assert measure["packages"] == len(PACKAGES)
    project = next(a for a in FACTS["storage"] if a["area"] == "project")
    assert (measure["area"], measure["max_files"]) == ("project", project["max_files"])
    assert measure["quota_share"] == round(measure["files"] / project["max_files"], 4)
    assert entry["url"] == SITE_URL + "software/installing/python/#only-a-handful-of-extra-packages"


def test_venv_with_one_package_is_only_a_note(report):
    [entry] = by_id(report, "venv-few-packages", "notes")
    assert entry["subject"] == f"{PROJECT}/few" and entry["measure"]["packages"] == 1


def test_venv_on_the_os_python(report):
    [entry] = by_id(report, "venv-os-python")
    assert entry["subject"] == f"{PROJECT}/os-venv"
    assert entry["measure"]["files"] == report["find"]["os-venv"]


def test_pip_user_tree(report):
    [entry] = by_id(report, "pip-user-site")
    assert entry["subject"].startswith(f"{HOME}/.local/lib/python3.")
    assert entry["measure"]["packages"] == 1 and entry["measure"]["area"] == "home"
    assert "PYTHONNOUSERSITE is not set" in entry["detail"]


def test_pip_cache_in_home(report):
    [entry] = by_id(report, "cache-pip")
    assert entry["subject"] == f"{HOME}/.cache/pip" and entry["measure"]["files"] > 1


def test_conda_init_block_and_conda_activate(report):
    subjects = sorted(entry["subject"] for entry in by_id(report, "conda-init"))
    assert subjects == [f"{HOME}/.bash_profile:2", f"{HOME}/.bashrc:2"]


def test_session_variables(report):
    assert by_id(report, "pythonpath")[0]["detail"] == f"PYTHONPATH={HOME}/extra"
    assert by_id(report, "pythonuserbase")
    assert by_id(report, "singularity-bind")[0]["detail"] == f"SINGULARITY_BINDPATH={SCRATCH}"


def test_squashfs_venv_and_sif_are_good(report):
    good = {entry["id"]: entry for entry in report["good"]}
    assert good["squashfs-image"]["subject"] == f"{SCRATCH}/few.sqsh"
    assert good["sif-image"]["subject"] == f"{SCRATCH}/demo.sif"
    assert good["sif-image"]["measure"]["bytes"] > 0
    assert not by_id(report, "squashfs-image") and not by_id(report, "sif-image")


def test_findings_are_ordered_by_harm(report):
    order = ["high", "medium", "low"]
    ranks = [order.index(entry["severity"]) for entry in report["findings"]]
    assert ranks == sorted(ranks) and ranks[0] == 0


def test_every_finding_carries_its_advice(report):
    for entry in report["findings"] + report["good"] + report["notes"]:
        advice = ADVICE["findings"][entry["id"]]
        assert entry["commands"] == advice["commands"]
        assert entry["url"].startswith(SITE_URL) and "#" in entry["url"]


def test_text_report_by_default_in_home(made):
    out = (made / "text-report").read_text()
    assert (made / "text-report.status").read_text().strip() == "1", out
    for kind in ("pip-user-site", "cache-pip", "conda-init"):
        advice = ADVICE["findings"][kind]
        assert advice["title"] in out
        assert SITE_URL + advice["link"].replace(".md#", "/#") in out
    assert "conda env export > my_env.yml" not in out  # no Conda environment in home
    assert "findings." in out


def test_clean_home_gives_no_findings(image, tmp_path):
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    place_doctor(work)
    result = node_run(home, work, f"python3 {DOCTOR} --json > report.json; echo $?; python3 {DOCTOR}; echo $?",
                      check=False)
    lines = result.stdout.splitlines()
    assert lines[0] == "0" and lines[-1] == "0", result.stdout + result.stderr
    assert "No findings." in lines
    report = json.loads((work / "report.json").read_text())
    assert report["findings"] == [] and report["good"] == []
    assert {entry["id"] for entry in report["notes"]} <= {"os-python", "tmp-space"}


def test_the_doctor_of_a_built_site_runs_after_a_download(image, tmp_path):
    """Build the site, serve it over HTTP and download and run its doctor in the node.

    The server runs inside the node, on the sandbox's own loopback: the sandbox cannot reach
    the host's. The node has no curl (the page's command), so Python's urllib fetches the file.
    """
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    built = build(ROOT, work / "site")
    assert built.returncode == 0, built.stdout + built.stderr
    url = f"http://127.0.0.1:8000/{DOCTOR_PATH}"
    fetch = f"import urllib.request; urllib.request.urlretrieve('{url}', '{DOCTOR}')"
    script = f"""
python3 -m http.server 8000 --bind 127.0.0.1 --directory site >/dev/null 2>&1 &
for attempt in $(seq 1 50); do python3 -c "{fetch}" 2>/dev/null && break; sleep 0.2; done
python3 {DOCTOR} --json > report.json; echo $?
kill %1
"""
    result = node_run(home, work, script, check=False)
    assert result.stdout.strip() == "0", result.stdout + result.stderr
    assert (work / DOCTOR).read_bytes() == (work / "site" / DOCTOR_PATH).read_bytes()
    assert json.loads((work / "report.json").read_text())["findings"] == []
