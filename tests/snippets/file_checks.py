"""Syntax checks for titled file blocks (YAML parsed, Python compiled, shell `bash -n`).

Each check returns None, or (line within the file or None, problem). The file's
extension decides the check; the fence language is the fallback (a `bash` fence titled
`job.slurm` is still checked with `bash -n`).
"""

import json
import re
import subprocess
import tomllib

import yaml


def check_yaml(text, name):
    try:
        list(yaml.safe_load_all(text))
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        return (mark.line + 1 if mark else None), f"not valid YAML: {err.problem or err}"
    except yaml.YAMLError as err:
        return None, f"not valid YAML: {err}"
    return None


def check_python(text, name):
    try:
        compile(text, name, "exec")
    except SyntaxError as err:
        return err.lineno, f"Python syntax error: {err.msg}"
    return None


def check_shell(text, name):
    result = subprocess.run(["bash", "-n"], input=text, capture_output=True, text=True, timeout=30)
    if result.returncode == 0:
        return None
    message = result.stderr.strip()
    found = re.search(r"line (\d+):\s*(.*)", message)
    if found:
        return int(found.group(1)), f"bash -n: {found.group(2)}"
    return None, f"bash -n: {message}"


def check_json(text, name):
    try:
        json.loads(text)
    except json.JSONDecodeError as err:
        return err.lineno, f"not valid JSON: {err.msg}"
    return None


def check_toml(text, name):
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        found = re.search(r"line (\d+)", str(err))
        return (int(found.group(1)) if found else None), f"not valid TOML: {err}"
    return None


BY_EXTENSION = {
    "yml": check_yaml, "yaml": check_yaml, "py": check_python, "sh": check_shell,
    "bash": check_shell, "json": check_json, "toml": check_toml,
}
BY_LANGUAGE = {
    "yaml": check_yaml, "yml": check_yaml, "python": check_python, "py": check_python,
    "bash": check_shell, "sh": check_shell, "json": check_json, "toml": check_toml,
}


def check_file(name, language, text):
    """(line, problem) for the first problem in the file, or None if it is fine or unchecked."""
    extension = name.rsplit(".", 1)[-1].lower()
    check = BY_EXTENSION.get(extension) or BY_LANGUAGE.get(language)
    return check(text, name) if check else None
