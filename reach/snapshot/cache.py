"""Compiled networks cached on disk, keyed by the content of the snapshot's files.

A hit skips JSON parsing, validation and compilation, and reads almost nothing: the file (`store.py`) is
mapped, checked, and its resources built as a query touches them. The key is a SHA-256 digest of every
file's bytes (with its path) and of reach's own code, so an edit that keeps a file's size and modification
time (`cp -p`, `touch -r`) is a miss, never a stale verdict. Hashing reads every file once per load;
`benchmarks/coldstart.py` measures what that costs against a bare `json.loads` of the same files.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from reach.model.network import Network
from reach.snapshot.files import snapshot_files
from reach.snapshot.pause import long_lived
from reach.snapshot.store import open_network, write

if TYPE_CHECKING:
    from reach.snapshot.loader import SnapshotResources

_VERSION = b"reach-network-3"
log = logging.getLogger(__name__)


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
    content digest. None when a file cannot be read (the uncached load then says which, as an error).
    SHA-256, not BLAKE2b: with the SHA extensions of current x86 and ARM processors it hashes 2-3 times as
    fast, and the key is computed on every command."""
    digest = hashlib.sha256(_code_version())
    digest.update(os.fsencode(root.resolve()))  # as bytes: a name may hold bytes that are not UTF-8
    for file in snapshot_files(root):
        try:
            with file.open("rb") as handle:
                content = hashlib.file_digest(handle, "sha256")
        except OSError:
            return None
        digest.update(os.fsencode(file) + b"\0")
        digest.update(content.digest())
    return digest.hexdigest()[:32]


def cached_path(key: str) -> Path:
    return cache_dir() / f"{key}.network"


def open_cached(key: str) -> Network | None:
    """The compiled network cached under `key`, or None when there is none that can be trusted."""
    return open_network(cached_path(key), key)


def load_network(root: Path, *, cache: bool = True) -> tuple[Network, SnapshotResources | None]:
    """Compile the snapshot under `root`, or take it from the cache. The raw snapshot is returned only
    when it was actually loaded (what-if needs it and passes cache=False)."""
    key = fingerprint(root) if cache and root.exists() else None
    network = open_cached(key) if key is not None else None
    if network is not None:
        return network, None
    if key is not None and cached_path(key).exists():
        log.debug("cache file %s refused (damaged, short, or not for this snapshot): compiling again", cached_path(key))
    # The describe-* models (pydantic) and the compile passes, imported only when there is JSON to read.
    from reach.snapshot.compile import compile_snapshot
    from reach.snapshot.loader import load_snapshot

    with long_lived():  # one pause for reading, compiling and storing (pause.py)
        raw = load_snapshot(root)  # no cache entry, or a damaged or stale one: compiled afresh, written anew
        network = compile_snapshot(raw)
        if key is not None:
            _store(network, key)
    return network, raw


def _store(network: Network, key: str) -> None:
    try:
        cache_dir().mkdir(parents=True, exist_ok=True)
        write(network, cached_path(key), key)
    except OSError:
        pass  # a read-only home is no reason to fail
