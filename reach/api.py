"""The typed Python API: load a snapshot once, ask it questions.

    snap = Snapshot.load("fixtures/lambda-rds-nacl/snapshot")
    snap.explain("10.0.1.100", "10.0.2.50", 3306).verdict   # 'REJECT'
"""

from __future__ import annotations

from pathlib import Path

from reach.engine.explain import Analyzer
from reach.engine.explanation import Explanation
from reach.model.network import Network
from reach.snapshot.cache import load_network
from reach.snapshot.loader import Snapshot as RawSnapshot
from reach.snapshot.loader import load_snapshot


class Snapshot:
    """A snapshot folder, compiled: the network model plus its path graph."""

    def __init__(self, network: Network, raw: RawSnapshot | None = None, path: str | None = None) -> None:
        self.network = network
        self.raw = raw
        self.path = path
        self.analyzer = Analyzer(network)

    @classmethod
    def load(cls, path: str | Path, *, cache: bool = True) -> Snapshot:
        """Load and compile every describe-* file under `path` (cached by file contents when `cache`)."""
        network, raw = load_network(Path(path), cache=cache)
        return cls(network, raw, str(path))

    def explain(
        self, src: str, dst: str, port: str | int, protocol: str | int = "tcp", src_port: int | None = None
    ) -> Explanation:
        """Predict ACCEPT or REJECT for SRC -> DST:PORT, both directions, naming every blocker."""
        return self.analyzer.explain(src, dst, port, protocol, src_port)

    @property
    def warnings(self) -> list[str]:
        return self.network.warnings

    @property
    def ignored(self) -> dict[str, str]:
        return self.network.ignored


def explain(
    snapshot: str | Path | Snapshot,
    src: str,
    dst: str,
    port: str | int,
    protocol: str | int = "tcp",
    src_port: int | None = None,
) -> Explanation:
    snap = snapshot if isinstance(snapshot, Snapshot) else Snapshot.load(snapshot)
    return snap.explain(src, dst, port, protocol, src_port)


__all__ = ["Snapshot", "explain", "load_snapshot"]
