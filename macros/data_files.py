"""Load a YAML data file, validate it against its JSON Schema, and report errors by file and line."""

import json
from pathlib import Path

import jsonschema
import yaml

# libyaml's loader when PyYAML was built with it: the same results, several times faster.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class DataFileError(Exception):
    """A data file is malformed; the message names the file, the line and the problem."""

    def __init__(self, path, line, problem):
        self.path, self.line, self.problem = Path(path), line, problem
        where = f"{self.path}:{line}" if line else str(self.path)
        super().__init__(f"{where}: {problem}")


class YamlDocument:
    """A parsed YAML file that still knows on which line each value stood."""

    def __init__(self, path):
        self.path = Path(path)
        text = self.path.read_text(encoding="utf-8")
        try:
            self.root_node = yaml.compose(text, Loader=_SAFE_LOADER)
            self.data = yaml.load(text, Loader=_SAFE_LOADER)
        except yaml.MarkedYAMLError as err:
            mark = err.problem_mark or err.context_mark
            line = mark.line + 1 if mark else None
            raise DataFileError(self.path, line, f"not valid YAML: {err.problem}") from None

    def line_of(self, location):
        """Line number (1-based) of the value at `location`, a sequence of keys and indexes."""
        node = self.root_node
        for step in location:
            if isinstance(node, yaml.MappingNode):
                found = [value for key, value in node.value if key.value == str(step)]
                if not found:
                    break
                node = found[0]
            elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
                node = node.value[step]
            else:
                break
        return node.start_mark.line + 1 if node is not None else None

    def error(self, location, problem):
        """A DataFileError pointing at the value at `location`."""
        return DataFileError(self.path, self.line_of(location), problem)


def load_validated(data_path, schema_path):
    """Parse `data_path` and check it against `schema_path`; raise DataFileError on the first problem."""
    document = YamlDocument(data_path)
    schema = json.loads(Path(schema_path).read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(document.data), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        where = "/".join(str(step) for step in first.absolute_path) or "(top level)"
        raise document.error(first.absolute_path, f"at {where}: {first.message}")
    return document
