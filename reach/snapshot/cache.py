"""Compiled networks cached on disk, keyed by the content of the snapshot's files.

A hit skips JSON parsing, validation and compilation: the pickled `Network` comes back as it was built.
The key is a BLAKE2b digest of every file's bytes (with its path), so an edit that keeps a file's size and
modification time (`cp -p`, `touch -r`) is a miss, never a stale verdict. Hashing reads every file once per
load; `benchmarks/explain.py` measures what that costs against a cold load.
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
from pathlib import Path

from reach.model.network import Network
from reach.snapshot.compile import compile_snapshot
from reach.snapshot.loader import Snapshot, load_snapshot, snapshot_files

_VERSION = b"reach-network-2"


def cache_dir() -> Path:
    base = os.environ.get("REACH_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "reach"
    )
    return Path(base)


@functools.cache
def _code_version() -> bytes:
    """The source of everything that shapes a compiled network: any change to it invalidates the cache."""
    package = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256(_VERSION)
    for folder in ("snapshot", "model"):
        for source in sorted((package / folder).glob("*.py")):
            digest.update(source.read_bytes())
    return digest.digest()


def fingerprint(root: Path) -> str | None:
    """The cache key of the snapshot under `root`: the code's version, the folder, and each file's path and
    content digest. None when a file cannot be read (the uncached load then says which, as an error)."""
    digest = hashlib.blake2b(_code_version(), digest_size=16)
    digest.update(os.fsencode(root.resolve()))  # as bytes: a name may hold bytes that are not UTF-8
    for file in snapshot_files(root):
        try:
            with file.open("rb") as handle:
                content = hashlib.file_digest(handle, lambda: hashlib.blake2b(digest_size=16))
        except OSError:
            return None
        digest.update(os.fsencode(file) + b"\0")
        digest.update(content.digest())
    return digest.hexdigest()


def load_network(root: Path, *, cache: bool = True) -> tuple[Network, Snapshot | None]:
    """Compile the snapshot under `root`, or take it from the cache. The raw snapshot is returned only
    when it was actually loaded (what-if needs it and passes cache=False)."""
    key = fingerprint(root) if cache and root.exists() else None
    if key is None:
        raw = load_snapshot(root)
        return compile_snapshot(raw), raw
    path = cache_dir() / f"{key}.pickle"
    if path.exists():
        try:
            with path.open("rb") as handle:
                network = pickle.load(handle)
            if isinstance(network, Network):
                return network, None
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
            pass  # a stale or partial cache entry is rebuilt below
    raw = load_snapshot(root)
    network = compile_snapshot(raw)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        with temporary.open("wb") as handle:
            pickle.dump(network, handle, protocol=pickle.HIGHEST_PROTOCOL)
        temporary.replace(path)
    except OSError:
        pass  # a read-only home is no reason to fail
    return network, raw
