"""MkDocs glue: registers the guide's variables and macros; the logic lives in sibling modules."""

from mkdocs.exceptions import PluginError

from .data_files import DataFileError
from .decision_tree import check_links, load_tree
from .decision_tree_widget import render_widget
from .facts import load_facts
from .walker import write_walker


def define_env(env):
    """Expose `lumi` (the facts in data/lumi.yaml) to every page."""
    try:
        env.variables["lumi"] = load_facts()
        # Loaded once per build, up front, so a broken tree stops the build even before
        # any page uses it; the widget and on_post_build reuse this copy.
        tree = load_tree(facts=env.variables["lumi"])
    except DataFileError as err:
        # A PluginError makes MkDocs stop with this one line instead of a traceback.
        raise PluginError(f"Bad data file: {err}") from None

    def decision_tree():
        """The interactive "which method?" tree from data/decision_tree.yaml; readable without JavaScript too."""
        try:
            return render_widget(tree, env.page.url, env.conf["use_directory_urls"])
        except DataFileError as err:
            raise PluginError(f"Bad data file: {err}") from None

    env.macro(decision_tree)
    env.variables["decision_tree_data"] = tree


def on_post_build(env):
    """Check the tree's #anchors in the built pages and write the terminal walker into the site."""
    site_dir = env.conf["site_dir"]
    try:
        tree = env.variables["decision_tree_data"]
        check_links(tree, site_dir)
        write_walker(tree, site_dir, env.conf["site_url"] or None)
    except DataFileError as err:
        raise PluginError(f"Bad data file: {err}") from None
