"""MkDocs glue: registers the guide's variables and macros; the logic lives in sibling modules."""

from mkdocs.exceptions import PluginError

from .citations import PageCitations
from .claims import check_pages_exist, load_claims
from .data_files import DataFileError
from .decision_tree import check_links, load_tree
from .decision_tree_widget import render_widget
from .doctor import DOCTOR_PATH, check_advice, load_advice, write_doctor
from .facts import load_facts
from .quantities import FILTERS
from .sources import load_sources
from .snapshot_checks import tree_problems
from .system_snapshot import load_snapshot
from .walker import write_walker


def define_env(env):
    """Expose `lumi` (the facts in data/lumi.yaml) to every page."""
    try:
        env.variables["lumi"] = load_facts()
        # Loaded once per build, up front, so a broken tree stops the build even before
        # any page uses it; the widget and on_post_build reuse this copy.
        tree = load_tree(facts=env.variables["lumi"])
        doctor_advice = load_advice(facts=env.variables["lumi"])
        registry = load_sources()
        snapshot = load_snapshot(registry=registry)
        claims = load_claims(registry)
        check_pages_exist(claims, env.conf["docs_dir"])
    except DataFileError as err:
        # A PluginError makes MkDocs stop with this one line instead of a traceback.
        raise PluginError(f"Bad data file: {err}") from None

    def decision_tree():
        """The interactive "which method?" tree from data/decision_tree.yaml; readable without JavaScript too."""
        try:
            return render_widget(tree, env.page.url, env.conf["use_directory_urls"])
        except DataFileError as err:
            raise PluginError(f"Bad data file: {err}") from None

    for node_id, problem in tree_problems(tree, snapshot):
        line = tree["lines"].get(node_id)
        raise PluginError(f"Bad data file: {tree['file']}:{line}: node '{node_id}': {problem}")
    # hooks/build_checks.py checks each page's `module load` lines against it.
    env.variables["lumi_snapshot"] = snapshot
    # For the page footer (overrides/main.html), which sees config.extra but not macro variables.
    how = {"public sources": "from LUMI's public repositories (the system snapshot)",
           "probe": "by a probe on a LUMI login node (the system snapshot)"}
    env.conf["extra"]["lumi_snapshot"] = {"date": snapshot.data["snapshot"]["date"],
                                          "how": how[snapshot.data["snapshot"]["method"]]}
    env.macro(decision_tree)

    def citations():
        """This render's citations; the build-check hook's early render makes its own."""
        page = env.page.file.src_path
        if env.variables.get("_citations_page") != page:
            env.variables["_citations"] = PageCitations(page, env.page.file.content_string,
                                                        claims, registry)
            env.variables["_citations_page"] = page
        return env.variables["_citations"]

    def cite(*claim_ids):
        """A superscript link from a statement to its source in the page's Sources list (data/claims/)."""
        return citations().cite(*claim_ids)

    env.macro(cite)
    env.variables["_citations_for_page"] = citations
    env.variables["decision_tree_data"] = tree
    env.variables["doctor_advice"] = doctor_advice
    # Where the build publishes the doctor, for the page that tells users to download it.
    env.variables["doctor_url"] = (env.conf["site_url"] or "").rstrip("/") + "/" + DOCTOR_PATH
    # data/lumi.yaml keeps quotas as numbers; the pages print them with these.
    for name, function in FILTERS.items():
        env.filter(function, name)


def on_pre_page_macros(env):
    """A fresh citation state for the real render of each page."""
    env.variables["_citations_page"] = None


def on_post_page_macros(env):
    """Close the page with its Sources list; every claim filed for it must be cited on it."""
    citations = env.variables["_citations_for_page"]()
    for claim in citations.uncited():
        raise PluginError(f"Bad data file: {claim.file}:{claim.line}: claim '{claim.id}' "
                          f"is cited nowhere on docs/{claim.page}")
    env.markdown += citations.sources_markdown()


def on_post_build(env):
    """Check the tree's and the doctor's links in the built pages; write the walker and the doctor into the site."""
    site_dir = env.conf["site_dir"]
    try:
        tree = env.variables["decision_tree_data"]
        check_links(tree, site_dir)
        write_walker(tree, site_dir, env.conf["site_url"] or None)
        advice = env.variables["doctor_advice"]
        check_advice(advice, site_dir)
        write_doctor(advice, env.variables["lumi"], site_dir, env.conf["site_url"] or None)
    except DataFileError as err:
        raise PluginError(f"Bad data file: {err}") from None
