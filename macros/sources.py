"""The registry of sources (data/sources.yaml): public repositories, each pinned at a commit."""

from dataclasses import dataclass
from pathlib import Path

from .data_files import load_validated

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
SOURCES_FILE = DATA_DIR / "sources.yaml"
SOURCES_SCHEMA = DATA_DIR / "sources.schema.json"


@dataclass(frozen=True)
class Source:
    """One repository at its pinned commit."""

    key: str
    repository: str
    commit: str
    date: str
    read: str

    def file_url(self, path):
        """The file as GitHub shows it at the pinned commit (a commit link never moves)."""
        return f"https://github.com/{self.repository}/blob/{self.commit}/{path}"


@dataclass
class Registry:
    """Every source by key, plus the document so problems can point at a line."""

    sources: dict
    document: object

    def known(self):
        return sorted(self.sources)

    def split(self, reference):
        """`KEY:PATH` -> (Source, PATH), or None when KEY is not registered."""
        key, _, path = reference.partition(":")
        source = self.sources.get(key)
        return (source, path) if source else None


def load_sources(path=SOURCES_FILE, schema=SOURCES_SCHEMA):
    """Read and validate the registry; raise DataFileError naming the file and line."""
    document = load_validated(path, schema)
    sources = {key: Source(key=key, **entry) for key, entry in document.data["sources"].items()}
    return Registry(sources, document)
