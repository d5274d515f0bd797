"""The header space, cut where rules can differ: the what-if header space and the set questions
(`reach exposure`, `reach reachable`) both evaluate one probe per elementary cell of it.

A rule line is a box: peer range x protocol x port (or ICMP type) range x ICMP code range. Cutting each
dimension at every start and past every end of the lines that may decide leaves cells inside which every
packet meets the same first match, so one probe per cell decides the whole cell. Nothing is sampled.
"""

from __future__ import annotations

from collections.abc import Iterable

PORTS = (0, 65535)
TYPES = (0, 255)
NAMED = (1, 6, 17, 58)  # protocols always examined: icmp, tcp, udp, icmpv6


def domain(protocol: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """(port or type range, code range) that matter for a protocol; (0, 0) where there is none."""
    if protocol in (6, 17):
        return PORTS, (0, 0)
    if protocol in (1, 58):
        return TYPES, TYPES
    return (0, 0), (0, 0)


def cut_range(lo: int, hi: int, bounds: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """[lo, hi] cut at every start and after every end of `bounds` that falls inside it."""
    points = {lo}
    for start, end in bounds:
        if lo < start <= hi:
            points.add(start)
        if lo <= end < hi:
            points.add(end + 1)
    ordered = sorted(points)
    return [(a, b - 1) for a, b in zip(ordered, ordered[1:], strict=False)] + [(ordered[-1], hi)]


def unnamed_protocol(named: Iterable[int]) -> int:
    """A protocol no line names: it stands for every such protocol (they all meet the same lines)."""
    taken = set(named) | set(NAMED)
    return next(p for p in range(256) if p not in taken)
