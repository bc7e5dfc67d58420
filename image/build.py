"""Build the LUMI-node test container, or reuse it from the cache.

    python -m image.build            build if the cache misses, print where it is
    python -m image.build --prune    also delete cached builds other than the current one

Cache layout (.cache/ is gitignored):
  .cache/lumi-node/base-<key>/   stage one (base.py): rootfs/, sif/, info.json (build time)
  .cache/lumi-node/<key>/        stage two (layer.py): layer/, mounts.json, base -> ../base-<key>
The stage-one key hashes its recipe files and the few facts it bakes in; the full
key hashes that, the layer's code and data/lumi.yaml, so any change to the recipe
or the facts gives a new image, and editing most facts costs under a second.
Builds take a lock, so parallel test runs build once.
"""

import argparse
import fcntl
import hashlib
import json
import os
import shutil
import sys
import time
from pathlib import Path

from . import base, layer

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from macros.data_files import DataFileError  # noqa: E402
from macros.facts import FACTS_FILE, load_facts  # noqa: E402
from macros.system_snapshot import SNAPSHOT_FILE, load_snapshot  # noqa: E402

# LUMI_NODE_CACHE moves the cache (e.g. to a CI cache directory or a faster disk).
CACHE = Path(os.environ.get("LUMI_NODE_CACHE", ROOT / ".cache" / "lumi-node"))
LAST_COLD_BUILD = CACHE / "last-cold-build.json"
HERE = Path(__file__).resolve().parent
LAYER_FILES = [HERE / "build.py", HERE / "layer.py", HERE / "modulefiles.py",
               HERE / "slurm_config.py", HERE / "easyconfigs.py", HERE / "easybuild_config.py",
               ROOT / "macros" / "facts.py", ROOT / "macros" / "system_snapshot.py"]
LOCK_TIMEOUT = 1800  # seconds to wait for another process's build


class ImageError(Exception):
    """The image cannot be built or used; the message says why."""


def digest(parts):
    """sha256 hex digest over (label, bytes) pairs."""
    sha = hashlib.sha256()
    for label, data in parts:
        sha.update(label.encode() + b"\0" + len(data).to_bytes(8, "big") + data)
    return sha.hexdigest()


def base_key(facts):
    """Key of stage one: its recipe files and the facts it bakes in."""
    parts = [(name, (HERE / name).read_bytes()) for name in base.RECIPE_FILES]
    parts.append(("facts", json.dumps(base.base_facts(facts), sort_keys=True).encode()))
    return digest(parts)


def read_facts(facts_path=FACTS_FILE):
    """The validated facts, or ImageError naming the file and line."""
    try:
        return load_facts(facts_path)
    except DataFileError as err:
        raise ImageError(str(err)) from None


def cache_key(facts_path=FACTS_FILE, snapshot_path=SNAPSHOT_FILE):
    """Key of the whole image: stage one's key, the layer's code, the facts' and snapshot's bytes."""
    facts = read_facts(facts_path)
    parts = [("base", base_key(facts).encode()), ("facts-file", Path(facts_path).read_bytes()),
             ("snapshot", Path(snapshot_path).read_bytes())]
    parts += [(path.name, path.read_bytes()) for path in LAYER_FILES]
    return digest(parts)


def node_dir(facts_path=FACTS_FILE):
    """Cache directory of the current image (it may not be built yet)."""
    return CACHE / cache_key(facts_path)[:32]


def is_ready(directory):
    """True when `directory` holds a complete stage-two build."""
    return (directory / "mounts.json").is_file() and (directory / "base" / "info.json").is_file()


class CacheLock:
    """An exclusive lock on the cache, waiting at most LOCK_TIMEOUT seconds."""

    def __enter__(self):
        CACHE.mkdir(parents=True, exist_ok=True)
        self.handle = open(CACHE / ".lock", "w")
        deadline = time.monotonic() + LOCK_TIMEOUT
        while True:
            try:
                fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return self
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise ImageError(f"another build held {CACHE / '.lock'} for "
                                     f"{LOCK_TIMEOUT} s") from None
                time.sleep(2)

    def __exit__(self, *exc):
        self.handle.close()


def ensure_image(facts_path=FACTS_FILE, report=print):
    """Build what the cache lacks; return the image's cache directory."""
    facts = read_facts(facts_path)
    target = node_dir(facts_path)
    if is_ready(target):
        return target
    with CacheLock():
        if is_ready(target):
            return target
        base_dir = CACHE / f"base-{base_key(facts)[:32]}"
        if not (base_dir / "info.json").is_file():
            if os.geteuid() != 0:
                # mmdebstrap's hooks chroot into the new tree; only tested as root.
                raise ImageError("building the snippet container needs root (mmdebstrap's "
                                 "hooks chroot into the new tree): run `make test` as root, "
                                 "e.g. in a throw-away VM or CI machine")
            report(f"lumi-node: building the root file system and SIF image "
                   f"(a few minutes; log: {CACHE / 'build.log'})")
            (CACHE / "build.log").unlink(missing_ok=True)
            try:
                seconds = base.build_base(base_dir, base.base_facts(facts), CACHE / "build.log")
            except base.BuildError as err:
                raise ImageError(str(err)) from None
            LAST_COLD_BUILD.write_text(json.dumps(
                {"seconds": seconds, "base": base_dir.name,
                 "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}) + "\n",
                encoding="utf-8")
            report(f"lumi-node: cold build took {seconds:.0f} s")
        partial = target.with_name(target.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        (partial / "base").symlink_to(f"../{base_dir.name}")
        try:
            mounts = layer.write_layer(partial, load_snapshot(), facts)
        except layer.LayerError as err:
            raise ImageError(f"{SNAPSHOT_FILE}: {err}") from None
        (partial / "mounts.json").write_text(json.dumps(mounts, indent=1) + "\n", encoding="utf-8")
        # A leftover without mounts.json is incomplete; it holds no mounts, only files.
        shutil.rmtree(target, ignore_errors=True)
        partial.rename(target)
    return target


def prune(keep):
    """Delete cached builds other than `keep` and its stage one (mind other checkouts' runs)."""
    keep_base = (keep / "base").resolve().name
    for entry in CACHE.iterdir():
        if entry.is_dir() and entry.name not in (keep.name, keep_base):
            base.remove_tree(entry)
            print(f"removed {entry}")


def main(argv=None):
    """Command line: build (or reuse) the image and print its directory."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prune", action="store_true", help="delete other cached builds")
    args = parser.parse_args(argv)
    try:
        target = ensure_image(report=lambda text: print(text, file=sys.stderr))
    except ImageError as err:
        print(f"lumi-node: {err}", file=sys.stderr)
        return 1
    if args.prune:
        with CacheLock():
            prune(target)
    print(target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
