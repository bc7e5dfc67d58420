"""The claims behind the pages (data/claims/*.yaml): what each page states, and where it comes from.

A claim ties a statement on one page to one file of a registered source and to an excerpt,
a line of that file to find again. Pages cite claims with `{{ cite("id") }}`; the citations
module renders them, and scripts/check_sources.py reports when a cited file changes.
"""

import os
import re
from dataclasses import dataclass
from pathlib import Path

from .data_files import DataFileError, load_validated

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
CLAIMS_DIR = DATA_DIR / "claims"
CLAIMS_SCHEMA = DATA_DIR / "claims.schema.json"


@dataclass(frozen=True)
class Claim:
    """One statement of one page, the file it rests on and the excerpt that anchors it."""

    id: str
    page: str
    source_key: str
    path: str
    excerpt: str
    says: str
    file: Path
    line: int


def load_claims(registry, claims_dir=CLAIMS_DIR, schema=CLAIMS_SCHEMA):
    """Every claim by id, validated against the schema and the registry; DataFileError on the first problem."""
    claims, pages = {}, {}
    for path in sorted(Path(claims_dir).glob("*.yaml")):
        path = _shown(path)
        document = load_validated(path, schema)
        page = document.data["page"]
        if page in pages:
            raise document.error(["page"], f"{page} already has its claims in {pages[page]}")
        pages[page] = path
        key_lines = _key_lines(document, "claims")
        for claim_id, entry in document.data["claims"].items():
            line = key_lines[claim_id]
            if claim_id in claims:
                raise DataFileError(path, line, f"claim {claim_id!r} is also in "
                                                f"{claims[claim_id].file}:{claims[claim_id].line}")
            found = registry.split(entry["source"])
            if found is None:
                raise document.error(["claims", claim_id, "source"],
                                     f"source {entry['source']!r} names no key of data/sources.yaml "
                                     f"(known: {', '.join(registry.known())})")
            claims[claim_id] = Claim(claim_id, page, found[0].key, found[1], entry["excerpt"],
                                     entry["says"], path, line)
    return claims


def check_pages_exist(claims, docs_dir):
    """Every claims file names a page that exists under `docs_dir`."""
    for claim in claims.values():
        if not (Path(docs_dir) / claim.page).is_file():
            raise DataFileError(claim.file, 1, f"page {claim.page} does not exist in docs/")


def _key_lines(document, mapping):
    """{key: line} of the keys of a top-level mapping: errors point at the claim's id line."""
    found = [value for key, value in document.root_node.value if key.value == mapping]
    return {key.value: key.start_mark.line + 1 for key, _ in found[0].value}


def _shown(path):
    """`path` relative to the working directory when it lies below it, as errors print it."""
    relative = os.path.relpath(path)
    return Path(relative) if not relative.startswith("..") else path


# `cite("a")` or `cite("a", "b")` in a page's Markdown, single or double quotes.
_CITE_CALL = re.compile(r"cite\(([^)]*)\)")
_QUOTED = re.compile(r"""["']([^"']+)["']""")


def cited_ids(markdown):
    """[(line, id)] for every id the page's `cite(...)` calls name, in page order."""
    found = []
    for number, text in enumerate(markdown.splitlines(), start=1):
        for call in _CITE_CALL.finditer(text):
            found += [(number, claim_id) for claim_id in _QUOTED.findall(call.group(1))]
    return found
