"""The one matching kernel: which line of a rule table decides each probe.

`first_match` returns, per probe, the index of the first matching line (or -1), in the table's
evaluation order. For a NACL that is the deciding rule; for a security group the first allowing rule.
Everything else — verdict, rule named in the explanation — is derived from that index, so they cannot
disagree. Only the interface decision (reach.model.decision) calls it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from reach.model.addr import split
from reach.model.rules import RuleTable

_CHUNK_CELLS = 4_000_000  # probes x lines evaluated at once: bounds the boolean matrix to a few MB


@dataclass(frozen=True)
class Probe:
    """Packets to match, as columns: the peer address (source for ingress, destination for egress),
    protocol, destination port (ICMP: type) and ICMP code (0 for other protocols)."""

    family: np.ndarray  # int8
    peer_hi: np.ndarray  # uint64
    peer_lo: np.ndarray  # uint64
    protocol: np.ndarray  # int16
    port: np.ndarray  # int32
    code: np.ndarray  # int16

    @classmethod
    def one(cls, family: int, peer: int, protocol: int, port: int, code: int = 0) -> Probe:
        hi, lo = split(peer)
        return cls(
            family=np.array([family], dtype=np.int8),
            peer_hi=np.array([hi], dtype=np.uint64),
            peer_lo=np.array([lo], dtype=np.uint64),
            protocol=np.array([protocol], dtype=np.int16),
            port=np.array([port], dtype=np.int32),
            code=np.array([code], dtype=np.int16),
        )

    def __len__(self) -> int:
        return len(self.family)

    def take(self, rows: np.ndarray | slice) -> Probe:
        return Probe(
            self.family[rows],
            self.peer_hi[rows],
            self.peer_lo[rows],
            self.protocol[rows],
            self.port[rows],
            self.code[rows],
        )


def within(
    hi: np.ndarray, lo: np.ndarray, start_hi: object, start_lo: object, end_hi: object, end_lo: object
) -> np.ndarray:
    """start <= value <= end for 128-bit values split into (hi, lo) uint64 halves, broadcasting like NumPy.

    The one 128-bit range comparison of reach: lexicographic on (hi, lo), never per half (per half,
    (hi=0, lo=5) would not be below (hi=1, lo=0)).
    """
    after_start = (hi > start_hi) | ((hi == start_hi) & (lo >= start_lo))
    before_end = (hi < end_hi) | ((hi == end_hi) & (lo <= end_lo))
    return np.asarray(after_start & before_end)


def match_matrix(table: RuleTable, probe: Probe, *, ports: bool = True) -> np.ndarray:
    """Boolean [probes, lines]: does line j match probe i. With ports=False the port test is skipped."""
    f = probe.family[:, None]
    inside = within(
        probe.peer_hi[:, None], probe.peer_lo[:, None], table.start_hi, table.start_lo, table.end_hi, table.end_lo
    )
    protocol = (table.protocol == -1) | (table.protocol == probe.protocol[:, None])
    code = (table.code_lo <= probe.code[:, None]) & (probe.code[:, None] <= table.code_hi)
    matched = (f == table.family) & inside & protocol & code
    if ports:
        port = probe.port[:, None]
        matched &= (table.port_lo <= port) & (port <= table.port_hi)
    return matched


def first_match(table: RuleTable, probe: Probe) -> np.ndarray:
    """Index of the first matching line for each probe, -1 where none matches (int32)."""
    result = np.full(len(probe), -1, dtype=np.int32)
    if len(table) == 0 or len(probe) == 0:
        return result
    step = max(1, _CHUNK_CELLS // len(table))
    for begin in range(0, len(probe), step):
        rows = slice(begin, begin + step)
        matched = match_matrix(table, probe.take(rows))
        hit = matched.any(axis=1)
        result[rows] = np.where(hit, matched.argmax(axis=1), -1)
    return result


def port_cuts(tables: Sequence[RuleTable], lo: int, hi: int) -> list[tuple[int, int]]:
    """[lo, hi] cut at every port boundary of the tables' lines, in port order.

    Within one piece every port meets the same first match in each table (a line's port test is the same
    for all of them), so one port decides the whole piece: "ports 32768-60999 of 1024-65535" is a handful
    of lookups, not 64,512.
    """
    bounds = {lo}
    for table in tables:
        bounds.update(int(p) for p in table.port_lo.tolist() if lo < p <= hi)
        bounds.update(int(p) + 1 for p in table.port_hi.tolist() if lo <= p < hi)
    ordered = sorted(bounds)
    return list(zip(ordered, [b - 1 for b in ordered[1:]] + [hi], strict=True))
