"""The doctor off the node: its build, its data checks, counting, the time budget, Python 3.6, the CLI."""

import glob
import json
import os
import shutil
import subprocess
import sys
import venv

import jsonschema
import pytest

from macros import doctor_template
from macros.doctor import DOCTOR_PATH, REPORT_SCHEMA, SCHEMA_PATH, doctor_data, load_advice, render_doctor
from macros.facts import load_facts
from site_copy import build, copy_site, replace_once

SITE_URL = "https://example.org/guide/"
FACTS = load_facts()
ADVICE = load_advice(facts=FACTS)
DATA = doctor_data(ADVICE, FACTS, SITE_URL)
SCHEMA = json.loads(REPORT_SCHEMA.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def doctor(tmp_path_factory):
    path = tmp_path_factory.mktemp("doctor") / "lumi-python-doctor.py"
    path.write_text(render_doctor(ADVICE, FACTS, SITE_URL), encoding="utf-8")
    return path


@pytest.fixture
def home(tmp_path):
    path = tmp_path / "home"
    path.mkdir()
    return path


def run(doctor, home, *args):
    """The doctor as a user runs it, with `home` as HOME and no Python variables of ours set."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTHON", "SINGULARITY", "APPTAINER", "PIP_", "HF_", "TORCH_", "XDG_"))}
    env.update(HOME=str(home), LOADEDMODULES="")
    return subprocess.run([sys.executable, str(doctor), *map(str, args)], capture_output=True, text=True,
                          timeout=120, env=env)


def report_of(doctor, home, *args):
    result = run(doctor, home, "--json", *args)
    assert result.returncode in (0, 1), result.stderr
    report = json.loads(result.stdout)
    jsonschema.validate(report, SCHEMA)
    return report


def inodes(path):
    """What `find PATH | wc -l` prints: the directory itself and everything below it."""
    return 1 + sum(len(dirs) + len(files) for _, dirs, files in os.walk(path))


# ------------------------------------------------------------------ counting

def test_venv_files_are_counted_like_find(doctor, home, tmp_path):
    target = tmp_path / "area" / "env"
    venv.create(target, with_pip=True)
    report = report_of(doctor, home, tmp_path / "area")
    [entry] = [e for e in report["findings"] + report["notes"] if e["subject"] == str(target)]
    assert entry["measure"]["files"] == inodes(target)
    assert entry["measure"]["bytes"] is None  # no stat per file unless asked
    assert report["complete"]


def test_bytes_option_adds_the_file_sizes(doctor, home, tmp_path):
    target = tmp_path / "area" / "env"
    venv.create(target, with_pip=False)
    (target / "data.bin").write_bytes(b"x" * 12345)
    report = report_of(doctor, home, "--bytes", tmp_path / "area")
    [entry] = [e for e in report["findings"] + report["notes"] if e["subject"] == str(target)]
    # Everything but real directories: files and links (lib64 -> lib is a link), as du counts them.
    paths = [os.path.join(d, name) for d, dirs, files in os.walk(target) for name in dirs + files]
    expected = sum(os.lstat(p).st_size for p in paths if os.path.islink(p) or not os.path.isdir(p))
    assert entry["measure"]["bytes"] == expected


def test_a_tree_is_walked_once_even_when_named_twice(doctor, home, tmp_path):
    (tmp_path / "area" / "env").mkdir(parents=True)
    venv.create(tmp_path / "area" / "env", with_pip=False)
    report = report_of(doctor, home, tmp_path / "area", tmp_path / "area" / "env", tmp_path / "area")
    assert [r["path"] for r in report["roots"] if r["path"].startswith(str(tmp_path))] == [str(tmp_path / "area")]


# ------------------------------------------------------------------ the time budget

def test_time_budget_gives_a_partial_marked_result(tmp_path):
    env_dir = tmp_path / "env"
    for n in range(30):
        (env_dir / "lib" / f"d{n}").mkdir(parents=True)
        (env_dir / "lib" / f"d{n}" / "module.py").write_text("")
    (env_dir / "pyvenv.cfg").write_text("home = /opt/python/bin\n")
    ticks = iter(range(1000))
    walk = doctor_template.Walk(DATA, str(tmp_path / "home"), {}, deadline=5, with_bytes=False,
                                clock=lambda: next(ticks))
    assert walk.run(str(env_dir)) is False
    [tree] = walk.trees
    assert walk.out_of_time and not tree.complete
    assert tree.files < inodes(env_dir)
    text = doctor_template.measured(tree, DATA)
    assert text.startswith("at least ")


def test_a_spent_budget_is_reported(doctor, home, tmp_path):
    (tmp_path / "area" / "a" / "b").mkdir(parents=True)
    result = run(doctor, home, "--json", "--budget", "0.000001", tmp_path / "area")
    report = json.loads(result.stdout)
    jsonschema.validate(report, SCHEMA)
    assert not report["complete"]
    assert not any(root["complete"] for root in report["roots"])
    [note] = [n for n in report["notes"] if n["id"] == "incomplete"]
    assert "time budget" in note["detail"]
    text = run(doctor, home, "--budget", "0.000001", tmp_path / "area").stdout
    assert "NOT ALL COUNTED" in text and "Not everything was counted" in text


# --------------------------------------- layouts the test node cannot make with the real tools

def test_conda_environment_installation_and_wrapper_layouts(doctor, home, tmp_path):
    """No conda and no container wrapper run in the node (both need the network), so these are
    their layouts: conda-meta/ with one JSON record a package (plus condabin/ in an
    installation), and the wrapper's bin/, _bin/ and common.sh (hpc-container-wrapper's
    is_installation)."""
    area = tmp_path / "area"
    for name, extra in (("env", []), ("miniforge3", ["condabin"])):
        (area / name / "conda-meta").mkdir(parents=True)
        for package in ("python-3.12.0-0", "numpy-2.1.0-0"):
            (area / name / "conda-meta" / f"{package}.json").write_text("{}")
        for sub in extra:
            (area / name / sub).mkdir()
    (area / "miniforge3" / "envs" / "analysis" / "conda-meta").mkdir(parents=True)
    for sub in ("bin", "_bin"):
        (area / "wrapped" / sub).mkdir(parents=True)
    (area / "wrapped" / "common.sh").write_text("")
    report = report_of(doctor, home, area)
    found = {e["id"]: e for e in report["findings"] + report["good"]}
    assert found["conda-environment"]["subject"] == str(area / "env")
    assert found["conda-environment"]["measure"]["packages"] == 2
    assert found["conda-installation"]["subject"] == str(area / "miniforge3")
    assert found["conda-installation"]["severity"] == "high"
    assert found["conda-installation"]["detail"].endswith("; its environments: analysis")
    assert "conda-environment" not in [e["id"] for e in report["findings"] if "miniforge3" in e["subject"]]
    text = run(doctor, home, area).stdout
    assert f"advisor asks what you need and says:\n   {SITE_URL}tools/lumi-python-advisor.py\n" in text
    assert found["container-wrapper"]["severity"] == "good"
    assert "cotainr build my_env.sif --system=lumi-c --conda-env=my_env.yml --accept-licenses" in \
        found["conda-environment"]["commands"]


@pytest.mark.parametrize("variable, default, kind", [
    ("HF_HOME", ".cache/huggingface", "cache-huggingface"),
    ("TORCH_HOME", ".cache/torch", "cache-torch"),
])
def test_model_caches_in_home(doctor, home, tmp_path, variable, default, kind):
    """Hugging Face and torch.hub are not in the node; their caches are found by place, also in a
    walk that starts above home, and not where the variable moved them out of home."""
    (home / default / "hub").mkdir(parents=True)
    (home / default / "hub" / "model.bin").write_bytes(b"0")
    for root in (home, tmp_path):
        report = report_of(doctor, home, root)
        assert [e["subject"] for e in report["findings"] if e["id"] == kind] == [str(home / default)]
    moved = tmp_path / "scratch" / "cache"
    (moved / "hub").mkdir(parents=True)
    (moved / "hub" / "model.bin").write_bytes(b"0")
    env = dict(os.environ, HOME=str(home), **{variable: str(moved)})
    result = subprocess.run([sys.executable, str(doctor), "--json", str(tmp_path / "scratch")], env=env,
                            capture_output=True, text=True, timeout=60)
    assert kind not in [e["id"] for e in json.loads(result.stdout)["findings"]]


def test_a_venv_made_inside_a_container_is_not_on_the_os_python():
    os_version = doctor_template.os_python_version()
    if os_version is None:
        pytest.skip("this machine has no /usr/bin/python3")
    assert doctor_template.venv_on_os_python({"home": "/usr/bin", "version": os_version + ".1"}, os_version)
    assert not doctor_template.venv_on_os_python({"home": "/usr/bin", "version": "2.0.0"}, os_version)


# ------------------------------------------------------------------ the CLI

def test_not_a_directory_is_a_usage_error(doctor, home, tmp_path):
    result = run(doctor, home, tmp_path / "missing")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].endswith(f"{tmp_path / 'missing'}: not a directory")
    assert "Traceback" not in result.stderr


def test_bad_budget_is_a_usage_error(doctor, home):
    result = run(doctor, home, "--budget", "0")
    assert result.returncode == 2 and "--budget must be more than 0" in result.stderr


def test_non_ascii_paths_survive_an_ascii_terminal(doctor, home, tmp_path):
    venv.create(tmp_path / "Käyttäjä", with_pip=False)
    result = subprocess.run([sys.executable, str(doctor), str(tmp_path)], capture_output=True, text=True,
                            env=dict(os.environ, HOME=str(home), PYTHONIOENCODING="ascii"), timeout=60)
    assert result.returncode in (0, 1), result.stderr
    assert "K?ytt?j?" in result.stdout


# ------------------------------------------------------------------ Python 3.6

def vermin(path):
    return subprocess.run([os.path.join(os.path.dirname(sys.executable), "vermin"),
                           "-t=3.6-", "--no-tips", "--violations", "--eval-annotations", str(path)],
                          capture_output=True, text=True, timeout=60)


def test_doctor_needs_nothing_newer_than_python_3_6(doctor):
    result = vermin(doctor)
    assert result.returncode == 0, result.stdout + result.stderr


# ------------------------------------------------------------------ the build

def test_build_writes_the_doctor_and_its_report_schema(tmp_path, home):
    site = tmp_path / "site"
    result = build(copy_site(tmp_path / "project"), site)
    assert result.returncode == 0, result.stdout + result.stderr
    built = site / DOCTOR_PATH
    assert os.access(built, os.X_OK)
    assert built.read_text(encoding="utf-8") == render_doctor(ADVICE, FACTS)
    assert json.loads((site / SCHEMA_PATH).read_text()) == SCHEMA
    assert run(built, home, "--help").returncode == 0


@pytest.mark.parametrize("old, new, problem", [
    ("link: storage/parallel-filesystems/lustre.md#checking-your-usage",
     "link: storage/parallel-filesystems/lustre.md#checking-usage",
     "finding 'incomplete': link storage/parallel-filesystems/lustre.md#checking-usage: no element with id "
     "'checking-usage'"),
    ("      - unset PYTHONPATH\n", "      - unset PYTHONPATH PYTHONHOME\n",
     "finding 'pythonpath': command 'unset PYTHONPATH PYTHONHOME' is not shown on "
     "software/installing/container-wrapper.md"),
    ("  - id: tmp-space\n", "  - id: tmp-room\n", "finding 'tmp-room': the doctor never reports it"),
    ("link: software/packages/pytorch.md#with-any-image", "link: software/packages/torch.md#with-any-image",
     "finding 'squashfs-image': page software/packages/torch.md does not exist"),
    ("{{ lumi.few_packages }} packages\n", "{{ lumi.few_package }} packages\n", "'dict object' has no attribute"),
])
def test_broken_advice_stops_the_build_with_one_line(tmp_path, old, new, problem):
    project = copy_site(tmp_path / "project")
    replace_once(project / "data" / "doctor.yaml", old, new)
    result = build(project, tmp_path / "site")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    errors = [line for line in output.splitlines() if problem in line]
    assert len(errors) == 1, output
    assert errors[0].startswith("ERROR") and "doctor.yaml:" in errors[0], output
    assert "Traceback" not in output, output


def test_bindings_modules_and_bind_variables_are_one_finding():
    """LUMI's bindings modules cannot be loaded in the node (no recipe); LOADEDMODULES is what Lmod sets."""
    bindings = FACTS["singularity"]["bindings_module"]
    env = {"LOADEDMODULES": f"LUMI/25.03:{bindings}/24.03:cotainr/1", "SINGULARITY_BIND": "/a,/b", "PATH": ""}
    [entry] = [e for e in doctor_template.session_items(DATA, env) if e["id"] == "singularity-bind"]
    assert entry["detail"] == f"SINGULARITY_BIND=/a,/b; module {bindings}/24.03 loaded"
    assert not [e for e in doctor_template.session_items(DATA, {"LOADEDMODULES": "cotainr/1"})
                if e["id"] == "singularity-bind"]


def python_version(python):
    """major.minor of a Python executable, or None if it does not run (a pyenv shim may not)."""
    try:
        done = subprocess.run([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                              capture_output=True, text=True, timeout=30)
    except OSError:
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def test_doctor_runs_on_python_3_6(doctor, home, tmp_path):
    """LUMI's python3 is 3.6; run the doctor with a real 3.6 where this machine has one."""
    candidates = [shutil.which("python3.6")] + sorted(glob.glob(os.path.expanduser(
        "~/.pyenv/versions/3.6*/bin/python3.6")))
    found = next((c for c in candidates if c and python_version(c) == "3.6"), None)
    if found is None:
        pytest.skip("no Python 3.6 on this machine (vermin checks the syntax and library without one)")
    venv.create(tmp_path / "area" / "env", with_pip=False)
    result = subprocess.run([found, str(doctor), "--json", str(tmp_path / "area")], capture_output=True,
                            text=True, timeout=60, env=dict(os.environ, HOME=str(home)))
    assert result.returncode in (0, 1), result.stderr
    jsonschema.validate(json.loads(result.stdout), SCHEMA)


def test_a_commented_out_conda_block_is_not_a_finding(tmp_path):
    block = ["# >>> conda initialize >>>", "# __conda_setup=\"$('/x/bin/conda' 'shell.bash' 'hook')\"",
             "# <<< conda initialize <<<", "export A=1"]
    (tmp_path / ".bashrc").write_text("\n".join(block) + "\n")
    assert doctor_template.startup_file_items(DATA, str(tmp_path)) == []
    (tmp_path / ".bashrc").write_text("\n".join(block[:1] + ["eval x"] + block[2:]) + "\n")
    [entry] = doctor_template.startup_file_items(DATA, str(tmp_path))
    assert entry["subject"] == f"{tmp_path}/.bashrc:1"
