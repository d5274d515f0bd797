"""Least privilege from flow logs: which allow line let each observed ACCEPT through, and what used it.

The interface decision names, for every record it predicts, the security-group line that allowed it and the
network ACL entry that decided at the subnet's boundary (a response passes the security groups on tracking,
so only its ACL entry is used). Each observed ACCEPT counts for those lines: records, distinct flows,
first and last seen, and the tightest description of what used the line — the peers seen and the ports
(ICMP: types) matched. Lines of the covered interfaces that nothing used are listed too, with zero records.

State per line is small and mergeable (counts, min/max, a k-minimum-values sketch of flows, a bounded peer
set per address family, a port bitmap), so chunks, worker processes or Spark partitions fold into one answer
exactly. A line used by more than `PEERS_KEPT` distinct peers of a family keeps them as wider prefixes (and
says so).
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from reach.model.addr import IPV4, Cidr
from reach.model.network import Network
from reach.model.protocols import ICMP_FAMILY, PORTED, protocol_name
from reach.model.rules import RuleLine, RuleRef
from reach.model.vocabulary import Kind
from reach.reconcile.arrays import dense, distinct
from reach.reconcile.attribute import DistinctCounter
from reach.reconcile.refs import stable_id
from reach.reconcile.result import ObservedUse, RuleUsage

PEERS_KEPT = 64  # distinct peers remembered exactly per line; beyond, they are kept as wider prefixes
PUBLIC_SERVICE_PEERS = 16  # a line open to the internet that this many internet hosts used serves the public
NARROW_FACTOR = 64  # a line allowing this many times more addresses or ports than were used is "far wider"
PORT_RANGES_KEPT = 64  # observed port ranges listed per line; more are merged across the narrowest gaps
INTERFACES_LISTED = 10  # of the covered interfaces a line applies to, this many are named


@dataclass
class _Line:
    records: int = 0
    first: int | None = None
    last: int | None = None
    peers: set[tuple[int, int, int]] = field(default_factory=set)  # (family, prefix length, network value)
    prefix: dict[int, int] = field(default_factory=lambda: {4: 32, 6: 128})
    ports: np.ndarray = field(default_factory=lambda: np.zeros(65536, dtype=bool))
    protocols: np.ndarray = field(default_factory=lambda: np.zeros(256, dtype=bool))

    def add_peers(self, family: int, values: Iterable[int]) -> None:
        """Peers of one address family, as the prefixes this line keeps."""
        length = self.prefix[family]
        shift = (32 if family == IPV4 else 128) - length
        self.peers.update({(family, length, v >> shift << shift) for v in values})
        self._fit()

    def _fit(self) -> None:
        """Each family keeps at most PEERS_KEPT peers, widened as one: the narrowest prefix that fits them
        all, whatever the order they came in (so parts merge into what one pass makes)."""
        if len(self.peers) <= PEERS_KEPT:
            return
        for family, (bits, step) in ((4, (32, 8)), (6, (128, 16))):
            while sum(1 for p in self.peers if p[0] == family) > PEERS_KEPT:
                length = self.prefix[family] = max(0, self.prefix[family] - step)
                self.peers = {
                    (f, min(n, length), v >> (bits - length) << (bits - length)) if f == family else (f, n, v)
                    for f, n, v in self.peers
                }

    def merge(self, other: _Line) -> None:
        self.records += other.records
        self.first = _min(self.first, other.first)
        self.last = _max(self.last, other.last)
        for family in (4, 6):
            self.prefix[family] = min(self.prefix[family], other.prefix[family])
        bits = {4: 32, 6: 128}
        self.peers = {
            (f, min(n, self.prefix[f]), v >> (bits[f] - min(n, self.prefix[f])) << (bits[f] - min(n, self.prefix[f])))
            for f, n, v in self.peers | other.peers
        }
        self._fit()
        self.ports |= other.ports
        self.protocols |= other.protocols

    @property
    def widened(self) -> bool:
        return self.prefix[4] < 32 or self.prefix[6] < 128


def _runs(sorted_keys: np.ndarray) -> list[np.ndarray]:
    """Positions of each run of equal keys in a sorted array."""
    if not len(sorted_keys):
        return []
    return np.split(np.arange(len(sorted_keys)), np.flatnonzero(np.diff(sorted_keys)) + 1)


def _min(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else min(a, b)


def _max(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else max(a, b)


class RuleUse:
    """Folds chunks of accepted records in; `result()` lists every allow line of the covered interfaces."""

    def __init__(self, interfaces: int) -> None:
        self._lines: dict[int, _Line] = {}
        self._flows = DistinctCounter()
        self.covered = np.zeros(interfaces, dtype=bool)

    def add(self, interface: np.ndarray, lines: tuple[np.ndarray, ...], family: np.ndarray, hi: np.ndarray,
            lo: np.ndarray, protocol: np.ndarray, port: np.ndarray, start: np.ndarray, end: np.ndarray,
            flows: np.ndarray) -> None:
        """One chunk: every evaluated record's interface (coverage), and per accepted record the lines that
        allowed it (one column per component: stable ids, -1 for none), its peer, protocol, the port the
        lines matched, its flow."""
        self.covered |= np.bincount(interface, minlength=len(self.covered)).astype(bool)[: len(self.covered)]
        n = len(family)
        both = np.concatenate(lines)
        used = np.flatnonzero(both >= 0)
        if not len(used):
            return
        line = both[used].astype(np.int64)
        used %= n  # the record behind each used line
        totals = pa.table({"line": line, "start": start[used], "end": end[used]}).group_by(
            "line", use_threads=False).aggregate([("line", "count"), ("start", "min"), ("end", "max")]).to_pydict()
        for key, records, first, last in zip(totals["line"], totals["line_count"], totals["start_min"],
                                             totals["end_max"], strict=True):
            state = self._lines.setdefault(key, _Line())
            state.records += records
            state.first, state.last = _min(state.first, first), _max(state.last, last)
        # distinct (line, peer) and (line, protocol, port) first: a chunk repeats them many times over; lines
        # numbered within the chunk, to pack them with a peer or a port
        names, number = dense(line)
        number = number.astype(np.int64)
        v4 = family[used] == IPV4
        # each peer cut to the prefix its line keeps already: a line past PEERS_KEPT peers keeps few wide ones,
        # so most of the chunk's distinct peers fold into them here, in NumPy, rather than one at a time
        kept = np.array([self._lines[int(name)].prefix[IPV4] for name in names.tolist()], dtype=np.int64)
        drop = (32 - kept)[number[v4]]
        peers = distinct(number[v4] << 32 | (lo[used][v4].astype(np.int64) >> drop << drop))
        self._add_peers(names[peers >> 32], IPV4, (peers & 0xFFFFFFFF).tolist())
        if not v4.all():
            six = ~v4 & (family[used] != 0)
            if six.any():
                six_peers = pa.table({"line": line[six], "hi": hi[used][six], "lo": lo[used][six]}).group_by(
                    ["line", "hi", "lo"], use_threads=False).aggregate([]).sort_by("line")
                values = zip(six_peers["hi"].to_pylist(), six_peers["lo"].to_pylist(), strict=True)
                self._add_peers(six_peers["line"].to_numpy(), 6, [(h << 64) | v for h, v in values])
        seen = distinct(number << 24 | protocol[used].astype(np.int64).clip(0, 255) << 16 | port[used].clip(0, 65535))
        seen_line, seen_protocol, seen_port = names[seen >> 24], (seen >> 16) & 0xFF, seen & 0xFFFF
        ported = np.isin(seen_protocol, list(PORTED | ICMP_FAMILY))
        for part in _runs(seen_line):
            state = self._lines[int(seen_line[part[0]])]
            state.protocols[seen_protocol[part]] = True
            state.ports[seen_port[part][ported[part]]] = True
        self._flows.add(line, np.zeros(len(used), dtype=np.int64), flows[used])

    def _add_peers(self, line: np.ndarray, family: int, values: list[int]) -> None:
        """Each line's peers in one call (`line` grouped: equal lines next to each other)."""
        for part in _runs(line):
            self._lines[int(line[part[0]])].add_peers(family, values[part[0]:part[-1] + 1])

    def merge(self, other: RuleUse) -> None:
        """Fold another partial (another chunk range, worker or partition) into this one."""
        for line, state in other._lines.items():
            self._lines.setdefault(line, _Line()).merge(state)
        self._flows.merge(other._flows)
        self.covered |= other.covered

    def result(self, network: Network, interface_ids: list[str]) -> list[RuleUsage]:
        lines = covered_allow_lines(network, [interface_ids[i] for i in np.flatnonzero(self.covered).tolist()])

        def internet(family: int, value: int) -> bool:  # outside every VPC of the snapshot
            return not network.vpcs_holding(family, value)

        out = []
        for ref, (compiled, interfaces) in lines.items():
            line = stable_id(ref, True)
            state = self._lines.get(line, _Line())
            flows, estimated = self._flows.count((line, 0))
            out.append(_entry(ref, compiled, interfaces, state, flows, estimated, internet))
        out.sort(key=lambda u: (_STATUS_ORDER[u.status], -u.narrowness, -u.records, u.kind, str(u.id), str(u.rule)))
        return out


_STATUS_ORDER = {"unused": 0, "wider": 1, "used": 2}


AllowLines = dict[RuleRef, tuple[list[RuleLine], list[str]]]


def covered_allow_lines(network: Network, interface_ids: Iterable[str]) -> AllowLines:
    """Every allow line of the security groups and network ACLs on these interfaces: ref -> (its compiled
    lines, the interfaces it applies to). Each group and ACL is read once, however many interfaces share it."""
    owners: dict[tuple[str, str], list[str]] = {}  # ("sg" | "acl", id) -> interfaces
    for interface_id in interface_ids:
        interface = network.interfaces[interface_id]
        for group_id in interface.groups:
            owners.setdefault(("sg", group_id), []).append(interface_id)
        subnet = network.subnets.get(interface.subnet_id)
        if subnet is not None and subnet.nacl:
            owners.setdefault(("acl", subnet.nacl), []).append(interface_id)
    found: AllowLines = {}
    for (kind, owner), interfaces in owners.items():
        if kind == "sg":
            group = network.security_groups.get(owner)
            lines = list(group.ingress_lines + group.egress_lines) if group else []
        else:
            acl = network.nacls.get(owner)
            lines = [line for table in ((acl.ingress, acl.egress) if acl else ())
                     for line, allow in zip(table.lines, table.allow.tolist(), strict=True) if allow]
        for line in lines:
            compiled, where = found.setdefault(line.ref, ([], []))
            if not any(line is other for other in compiled):
                compiled.append(line)
            if where is not interfaces:
                where += [i for i in interfaces if i not in where] if where else interfaces[:]
    return found


def _cidrs(peers: Iterable[tuple[int, int, int]]) -> list[str]:
    networks = [ipaddress.ip_network((v, n)) if f == 4 else ipaddress.IPv6Network((v, n)) for f, n, v in peers]
    v4 = [n for n in networks if n.version == 4]
    v6 = [n for n in networks if n.version == 6]
    return [str(n) for n in [*ipaddress.collapse_addresses(v4), *ipaddress.collapse_addresses(v6)]]


def _ranges(bitmap: np.ndarray, most: int = PORT_RANGES_KEPT) -> list[list[int]]:
    """The set ports as merged ranges; past `most` ranges, the ranges that cover them tightest (the widest
    gaps between them are kept, the narrowest filled)."""
    if not bitmap.any():
        return []
    edges = np.flatnonzero(np.diff(np.concatenate([[0], bitmap.astype(np.int8), [0]])))
    starts, ends = edges[::2], edges[1::2] - 1
    if len(starts) > most:
        gaps = starts[1:] - ends[:-1]
        cut = np.sort(np.argpartition(-gaps, most - 1)[: most - 1])  # the widest gaps separate the ranges
        starts, ends = starts[np.r_[0, cut + 1]], ends[np.r_[cut, len(ends) - 1]]
    return np.stack([starts, ends], axis=1).tolist()


def _size(cidrs: Iterable[Cidr]) -> float:
    return float(sum(c.end - c.start + 1 for c in cidrs))


def _entry(ref: RuleRef, compiled: list[RuleLine], interfaces: list[str], state: _Line, flows: int,
           estimated: bool, internet: Callable[[int, int], bool]) -> RuleUsage:
    allowed_peers = [line.peer for line in compiled if line.peer is not None]
    allowed_ports = sorted({(line.port_lo, line.port_hi) for line in compiled})
    observed_sources = _cidrs(state.peers)
    observed_ports = _ranges(state.ports)
    narrowness = 0.0
    status = "unused" if state.records == 0 else "used"
    by_reference = any(line.peer_group or line.peer_prefix_list for line in compiled)
    if state.records and not by_reference:
        seen = sum(2.0 ** ((32 if f == IPV4 else 128) - n) for f, n, _ in state.peers)
        address_ratio = _size(allowed_peers) / max(seen, 1.0)
        public = sum(1 for f, n, v in state.peers if n == (32 if f == IPV4 else 128) and internet(f, v))
        if any(c.prefixlen == 0 for c in allowed_peers) and (state.widened or public >= PUBLIC_SERVICE_PEERS):
            address_ratio = 1.0  # open to the internet and used by many of it: a public service, not a wide rule
        port_span = sum(hi - lo + 1 for lo, hi in allowed_ports)
        port_ratio = port_span / max(int(state.ports.sum()), 1) if compiled[0].protocol in PORTED else 1.0
        if compiled[0].protocol == -1 and state.protocols.sum() == 1 and np.flatnonzero(state.protocols)[0] in PORTED:
            port_ratio = 65536 * 256 / max(int(state.ports.sum()), 1)  # all traffic, used by one protocol's ports
        narrowness = math.log2(max(address_ratio, 1.0)) + math.log2(max(port_ratio, 1.0))
        # Network ACL entries are coarse, stateless subnet guards that responses use too: their use is
        # reported, never called "wider" (narrowing one is rarely what anyone should do from flow logs alone).
        if ref.kind == Kind.SECURITY_GROUP and (address_ratio >= NARROW_FACTOR or port_ratio >= NARROW_FACTOR):
            status = "wider"
    return RuleUsage(
        kind=ref.kind, id=ref.id, rule=ref.rule, direction=ref.direction, records=state.records, flows=flows,
        first_seen=state.first, last_seen=state.last,
        observed=ObservedUse(sources=observed_sources, ports=observed_ports, widened=state.widened,
                             ports_widened=len(_ranges(state.ports, most=65536)) > len(observed_ports),
                             protocols=[protocol_name(int(p)) for p in np.flatnonzero(state.protocols)]),
        detail=ref.detail, status=status, narrowness=round(narrowness, 2), flows_estimated=estimated,
        allows_sources=[str(c) for c in allowed_peers], allows_ports=[list(p) for p in allowed_ports],
        protocol=compiled[0].protocol, interfaces=sorted(interfaces)[:INTERFACES_LISTED],
        interface_count=len(interfaces),
        peer_group=next((line.peer_group for line in compiled if line.peer_group), None),
        peer_prefix_list=next((line.peer_prefix_list for line in compiled if line.peer_prefix_list), None),
    )
