"""Address sets and cell sets: what the set questions answer in.

Addresses are `netaddr.IPSet`s (the set algebra is netaddr's, never hand-written); a `CellSet` maps boxes of
the rest of the header space (protocol x port or ICMP type range x ICMP code range) to the sources that
may open them, and renders itself as CONTRACT §8's merged entries.
"""

from __future__ import annotations

import bisect
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


Sources = frozenset[int]  # atoms (see `Atoms`) of a peer space
NOBODY: Sources = frozenset()


def address_range(family: int, lo: int, hi: int) -> IPSet:
    return IPSet(IPRange(IPAddress(lo, family), IPAddress(hi, family)))


def cidr_set(cidrs: Iterable[Cidr]) -> IPSet:
    return IPSet(str(c) for c in cidrs)


def cidr_texts(sources: IPSet) -> list[str]:
    return [str(c) for c in sources.iter_cidrs()]


def vpc_space(network: Network) -> IPSet:
    """Every address inside a VPC of the snapshot."""
    return cidr_set(c for vpc in network.vpcs.values() for c in vpc.cidrs)


def internet_space(network: Network) -> IPSet:
    """Addresses outside every VPC of the snapshot that can come in through an internet gateway."""
    return IPSet(["0.0.0.0/0", "::/0"]) - vpc_space(network) - IPSet(NOT_FROM_INTERNET)


def network_bounds(network: Network) -> dict[int, list[int]]:
    """Every start and every end + 1 of every rule line, route, subnet and VPC of a network, per family: no rule
    of it tells two addresses apart that fall between two consecutive bounds."""
    cidrs: list[Cidr] = [c for s in network.subnets.values() for c in s.cidrs]
    cidrs += [c for v in network.vpcs.values() for c in v.cidrs]
    cidrs += [r.cidr for t in network.route_tables.values() for r in t.routes]
    for acl in network.nacls.values():
        cidrs += [line.peer for t in (acl.ingress, acl.egress) for line in t.lines if line.peer]
    for group in network.security_groups.values():
        cidrs += [line.peer for line in (*group.ingress_lines, *group.egress_lines) if line.peer]
    bounds: dict[int, set[int]] = {IPV4: {0}, IPV6: {0}}
    for c in set(cidrs):
        bounds[c.family].update((c.start, c.end + 1))
    return {f: sorted(b for b in found if b <= TOP[f]) for f, found in bounds.items()}


class Atoms:
    """A peer space cut at every bound of a network: an atom lies inside the space and inside one class of every
    rule table, route table and subnet, so one probe decides it, and a set of atoms is a set of sources whose
    algebra (union, intersection, difference) is that of Python sets. netaddr turns a set into CIDRs, once."""

    def __init__(self, space: IPSet, bounds: dict[int, list[int]]) -> None:
        self.space = space
        atoms: list[tuple[int, int, int]] = []
        for r in sorted(space.iter_ipranges(), key=lambda r: (r.version, r.first)):
            family = IPV4 if r.version == 4 else IPV6
            cuts = bounds[family]
            lo = bisect.bisect_right(cuts, r.first)
            hi = bisect.bisect_right(cuts, r.last)
            points = [r.first, *cuts[lo:hi], r.last + 1]
            atoms += [(family, a, b - 1) for a, b in zip(points, points[1:], strict=False) if a < b]
        self.atoms = atoms
        self._starts = {f: [a[1] for a in atoms if a[0] == f] for f in (IPV4, IPV6)}
        self._offset = {IPV4: 0, IPV6: len(self._starts[IPV4])}
        self._sets: dict[Sources, IPSet] = {}
        self._overlaps: dict[tuple[int, int, int], bool] = {}
        self._texts: dict[Sources, tuple[str, ...]] = {}

    def within(self, family: int, lo: int, hi: int) -> Sources:
        """The atoms inside [lo, hi] (a range whose ends are bounds: no atom straddles it)."""
        starts = self._starts[family]
        first, last = bisect.bisect_left(starts, lo), bisect.bisect_right(starts, hi)
        base = self._offset[family]
        return frozenset(range(base + first, base + last))

    def overlaps(self, family: int, lo: int, hi: int) -> bool:
        key = (family, lo, hi)
        found = self._overlaps.get(key)
        if found is None:
            starts = self._starts[family]
            at = bisect.bisect_right(starts, hi) - 1
            found = self._overlaps[key] = at >= 0 and self.atoms[self._offset[family] + at][2] >= lo
        return found

    def probe(self, sources: Sources) -> int:
        """An address to probe with: the first host of the largest atom (32.0.0.1 rather than 0.0.0.0)."""
        _, lo, hi = max((self.atoms[i] for i in sources), key=lambda a: (a[2] - a[1], -a[1]))
        return lo + 1 if hi > lo else lo

    def ipset(self, sources: Sources) -> IPSet:
        found = self._sets.get(sources)
        if found is None:
            ranges = [IPRange(IPAddress(lo, f), IPAddress(hi, f)) for f, lo, hi in (self.atoms[i] for i in sources)]
            found = self._sets[sources] = IPSet(ranges)
        return found

    def cidrs(self, sources: Sources) -> list[str]:
        found = self._texts.get(sources)
        if found is None:
            found = self._texts[sources] = tuple(cidr_texts(self.ipset(sources)))
        return list(found)


@dataclass
class CellSet:
    """Boxes of protocol x ports x codes, each with the sources that open it. Boxes from one grid are disjoint."""

    boxes: dict[Box, Sources] = field(default_factory=dict)
    answered: dict[int, list[Span]] = field(default_factory=dict)  # per protocol: client ports answered, if not all

    def add(self, box: Box, sources: Sources) -> None:
        if not sources:
            return
        found = self.boxes.get(box)
        self.boxes[box] = sources if found is None else found | sources

    def update(self, other: CellSet) -> None:
        for box, sources in other.boxes.items():
            self.add(box, sources)

    def __bool__(self) -> bool:
        return bool(self.boxes)

    def minus(self, other: CellSet) -> CellSet:
        """What this set opens that `other` does not, box by box on the two sets' common cuts."""
        out = CellSet()
        if not other.boxes or not self.boxes:
            out.boxes = dict(self.boxes)
            return out
        for protocol in {box[0] for box in self.boxes}:
            mine = {b: s for b, s in self.boxes.items() if b[0] == protocol}
            theirs = {b: s for b, s in other.boxes.items() if b[0] == protocol}
            if not theirs or mine.keys() == theirs.keys():  # on the same cuts: box by box
                for box, sources in mine.items():
                    out.add(box, sources - theirs.get(box, NOBODY))
                continue
            for box, sources in _refine(mine, theirs).items():
                covered: set[int] = set()
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
        by_port: dict[tuple[int, int, int, Sources], list[Span]] = {}
        for (protocol, plo, phi, clo, chi), sources in sorted(boxes.items(), key=lambda kv: kv[0]):
            by_port.setdefault((protocol, plo, phi, sources), []).append((clo, chi))
        by_sources: dict[tuple[int, tuple[Span, ...] | None, Sources], list[Span]] = {}
        for (protocol, plo, phi, sources), codes in by_port.items():
            merged = tuple(merge_spans(codes))
            full = domain(protocol)[1] if protocol != OTHER else (0, 0)
            by_sources.setdefault((protocol, None if merged == (full,) else merged, sources), []).append((plo, phi))
        ordered = sorted(by_sources.items(), key=lambda kv: (kv[0][0] == OTHER, kv[0][0], min(kv[1]), repr(kv[0][1])))
        for (protocol, code_spans, sources), ports in ordered:
            named = [p for p in examined if p != OTHER] if protocol == OTHER else []
            spans = merge_spans(ports) if domain(protocol)[0] != (0, 0) else [PORTS]
            out.append(Entry(protocol, spans, sources, list(code_spans) if code_spans else None, named))
        return out


@dataclass(frozen=True)
class Entry:
    """One merged entry: every (port, code) of it is open from every source of it."""

    protocol: int  # OTHER: every protocol (but `except_protocols`, when listed)
    ports: list[Span]
    sources: Sources
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


def _refine(mine: dict[Box, Sources], theirs: dict[Box, Sources]) -> dict[Box, Sources]:
    """`mine` cut at every port and code boundary of both."""
    every = list(mine) + list(theirs)
    out: dict[Box, Sources] = {}
    for (protocol, plo, phi, clo, chi), sources in mine.items():
        for a, b in cut_range(plo, phi, [(x[1], x[2]) for x in every]):
            for c, d in cut_range(clo, chi, [(x[3], x[4]) for x in every]):
                out[(protocol, a, b, c, d)] = sources
    return out


def _everywhere(boxes: dict[Box, Sources], examined: list[int]) -> Sources:
    """The sources that open every port and code of every examined protocol (and every other protocol)."""
    if OTHER not in examined:
        return NOBODY
    common: Sources | None = None
    for protocol in examined:
        ports, codes = domain(protocol) if protocol != OTHER else ((0, 0), (0, 0))
        mine = {b: s for b, s in boxes.items() if b[0] == protocol}
        size = sum((b[2] - b[1] + 1) * (b[4] - b[3] + 1) for b in mine)
        if size != (ports[1] - ports[0] + 1) * (codes[1] - codes[0] + 1):
            return NOBODY
        for sources in mine.values():
            common = sources if common is None else common & sources
        if not common:
            return NOBODY
    return common or NOBODY


@functools.lru_cache(maxsize=4096)
def port_text(span: Span) -> str:
    return str(span[0]) if span[0] == span[1] else f"{span[0]}-{span[1]}"
