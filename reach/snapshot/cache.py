"""Compiled networks cached on disk, keyed by the snapshot files' paths, sizes and modification times.

A hit skips JSON parsing, validation and compilation: the pickled `Network` comes back as it was built.
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
from pathlib import Path

from reach.model.network import Network
from reach.snapshot.compile import compile_snapshot
from reach.snapshot.loader import Snapshot, _json_files, load_snapshot

_VERSION = b"reach-network-1"


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


def _fingerprint(root: Path) -> str:
    digest = hashlib.sha256(_code_version())
    digest.update(str(root.resolve()).encode())
    for file in _json_files(root):
        stat = file.stat()
        digest.update(f"{file}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:32]


def load_network(root: Path, *, cache: bool = True) -> tuple[Network, Snapshot | None]:
    """Compile the snapshot under `root`, or take it from the cache. The raw snapshot is returned only
    when it was actually loaded (what-if needs it and passes cache=False)."""
    if not cache or not root.exists():
        raw = load_snapshot(root)
        return compile_snapshot(raw), raw
    path = cache_dir() / f"{_fingerprint(root)}.pickle"
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
