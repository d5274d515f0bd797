"""Address sets and cell sets: what the set questions answer in.

Addresses are `netaddr.IPSet`s (the set algebra is netaddr's, never hand-written); a `CellSet` maps boxes of
the rest of the header space (protocol x port or ICMP type range x ICMP code range) to the sources that
may open them, and renders itself as CONTRACT §8's merged entries.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field

from netaddr import IPAddress, IPRange, IPSet

from reach.model.addr import IPV4, IPV6, Cidr
from reach.model.network import Network
from reach.model.protocols import protocol_name
from reach.model.space import PORTS, cut_range, domain

OTHER = -1  # a box for every protocol that no rule of the interface names
TOP = {IPV4: (1 << 32) - 1, IPV6: (1 << 128) - 1}
# The internet gateway drops sources in these ranges (aws-semantics E.5): they never come from the internet.
NOT_FROM_INTERNET = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10")

Box = tuple[int, int, int, int, int]  # protocol (OTHER for the rest), port lo, port hi, code lo, code hi
Span = tuple[int, int]


def address_range(family: int, lo: int, hi: int) -> IPSet:
    return IPSet(IPRange(IPAddress(lo, family), IPAddress(hi, family)))


def cidr_set(cidrs: Iterable[Cidr]) -> IPSet:
    return IPSet(str(c) for c in cidrs)


def cidr_texts(sources: IPSet) -> list[str]:
    return [str(c) for c in sources.iter_cidrs()]


def first_address(sources: IPSet) -> tuple[int, int]:
    """(family, value) of an address of a non-empty set to probe with: the first host of its largest CIDR
    (every address of a piece decides alike; this one reads naturally, as 32.0.0.1 rather than 0.0.0.0)."""
    largest = max(sources.iter_cidrs(), key=lambda c: (c.size, -c.first))
    return largest.version, largest.first + (1 if largest.size > 1 else 0)


def vpc_space(network: Network) -> IPSet:
    """Every address inside a VPC of the snapshot."""
    return cidr_set(c for vpc in network.vpcs.values() for c in vpc.cidrs)


def internet_space(network: Network) -> IPSet:
    """Addresses outside every VPC of the snapshot that can come in through an internet gateway."""
    return IPSet(["0.0.0.0/0", "::/0"]) - vpc_space(network) - IPSet(NOT_FROM_INTERNET)


@dataclass
class Pieces:
    """A peer space cut into pieces, each piece's part of the space memoised (pieces repeat across interfaces)."""

    space: IPSet
    _memo: dict[tuple[int, int, int], IPSet] = field(default_factory=dict, repr=False)

    def part(self, family: int, lo: int, hi: int) -> IPSet:
        key = (family, lo, hi)
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = self.space & address_range(family, lo, hi)
        return found


@dataclass
class CellSet:
    """Boxes of protocol x ports x codes, each with the sources that open it. Boxes from one grid are disjoint."""

    boxes: dict[Box, IPSet] = field(default_factory=dict)

    def add(self, box: Box, sources: IPSet) -> None:
        if not sources:
            return
        found = self.boxes.get(box)
        self.boxes[box] = sources if found is None else found | sources

    def update(self, other: CellSet) -> None:
        for box, sources in other.boxes.items():
            self.add(box, sources)

    def __bool__(self) -> bool:
        return bool(self.boxes)

    def sources(self) -> IPSet:
        out = IPSet()
        for found in self.boxes.values():
            out |= found
        return out

    def minus(self, other: CellSet) -> CellSet:
        """What this set opens that `other` does not, box by box on the two sets' common cuts."""
        out = CellSet()
        for protocol in {box[0] for box in self.boxes}:
            mine = {b: s for b, s in self.boxes.items() if b[0] == protocol}
            theirs = {b: s for b, s in other.boxes.items() if b[0] == protocol}
            for box, sources in _refine(mine, theirs).items():
                covered = IPSet()
                for (_, plo, phi, clo, chi), found in theirs.items():
                    if plo <= box[1] and box[2] <= phi and clo <= box[3] and box[4] <= chi:
                        covered |= found
                out.add(box, sources - covered)
        return out

    def entries(self, examined: Iterable[int]) -> list[Entry]:
        """Merged entries: codes merged per type, ports per source set, and every protocol as `all`."""
        boxes = dict(self.boxes)
        examined = sorted(set(examined))
        out: list[Entry] = []
        everywhere = _everywhere(boxes, examined)
        if everywhere:
            out.append(Entry(OTHER, [PORTS], everywhere, None, []))
            boxes = {b: s - everywhere for b, s in boxes.items() if s - everywhere}
        by_port: dict[tuple[int, int, int, tuple[str, ...]], list[Span]] = {}
        kept: dict[tuple[str, ...], IPSet] = {}
        for (protocol, plo, phi, clo, chi), sources in sorted(boxes.items()):
            key = tuple(cidr_texts(sources))
            kept[key] = sources
            by_port.setdefault((protocol, plo, phi, key), []).append((clo, chi))
        by_sources: dict[tuple[int, tuple[Span, ...] | None, tuple[str, ...]], list[Span]] = {}
        for (protocol, plo, phi, key), codes in by_port.items():
            merged = tuple(merge_spans(codes))
            full = domain(protocol)[1] if protocol != OTHER else (0, 0)
            by_sources.setdefault((protocol, None if merged == (full,) else merged, key), []).append((plo, phi))
        ordered = sorted(by_sources.items(), key=lambda kv: (kv[0][0] == OTHER, kv[0][0], min(kv[1]), repr(kv[0][1:])))
        for (protocol, code_spans, key), ports in ordered:
            named = [p for p in examined if p != OTHER] if protocol == OTHER else []
            spans = merge_spans(ports) if domain(protocol)[0] != (0, 0) else [PORTS]
            out.append(Entry(protocol, spans, kept[key], list(code_spans) if code_spans else None, named))
        return out


@dataclass(frozen=True)
class Entry:
    """One merged entry: every (port, code) of it is open from every source of it."""

    protocol: int  # OTHER: every protocol (but `except_protocols`, when listed)
    ports: list[Span]
    sources: IPSet
    codes: list[Span] | None
    except_protocols: list[int]

    @property
    def protocol_text(self) -> str:
        return "all" if self.protocol == OTHER else protocol_name(self.protocol)


def merge_spans(spans: Iterable[Span]) -> list[Span]:
    """Sorted, with touching and overlapping spans joined."""
    out: list[Span] = []
    for lo, hi in sorted(spans):
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def _refine(mine: dict[Box, IPSet], theirs: dict[Box, IPSet]) -> dict[Box, IPSet]:
    """`mine` cut at every port and code boundary of both."""
    every = list(mine) + list(theirs)
    out: dict[Box, IPSet] = {}
    for (protocol, plo, phi, clo, chi), sources in mine.items():
        for a, b in cut_range(plo, phi, [(x[1], x[2]) for x in every]):
            for c, d in cut_range(clo, chi, [(x[3], x[4]) for x in every]):
                out[(protocol, a, b, c, d)] = sources
    return out


def _everywhere(boxes: dict[Box, IPSet], examined: list[int]) -> IPSet:
    """The sources that open every port and code of every examined protocol (and every other protocol)."""
    if OTHER not in examined:
        return IPSet()
    common: IPSet | None = None
    for protocol in examined:
        ports, codes = domain(protocol) if protocol != OTHER else ((0, 0), (0, 0))
        mine = {b: s for b, s in boxes.items() if b[0] == protocol}
        size = sum((b[2] - b[1] + 1) * (b[4] - b[3] + 1) for b in mine)
        if size != (ports[1] - ports[0] + 1) * (codes[1] - codes[0] + 1):
            return IPSet()
        for sources in mine.values():
            common = sources if common is None else common & sources
        if not common:
            return IPSet()
    return common or IPSet()


@functools.lru_cache(maxsize=4096)
def port_text(span: Span) -> str:
    return str(span[0]) if span[0] == span[1] else f"{span[0]}-{span[1]}"
