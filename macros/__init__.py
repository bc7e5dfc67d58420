"""MkDocs glue: registers the guide's variables and macros; the logic lives in sibling modules."""

from mkdocs.exceptions import PluginError

from .data_files import DataFileError
from .facts import load_facts


def define_env(env):
    """Expose `lumi` (the facts in data/lumi.yaml) to every page."""
    try:
        env.variables["lumi"] = load_facts()
    except DataFileError as err:
        # A PluginError makes MkDocs stop with this one line instead of a traceback.
        raise PluginError(f"Bad data file: {err}") from None
