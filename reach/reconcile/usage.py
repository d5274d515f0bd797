"""Least privilege from flow logs: which allow line let each observed ACCEPT through, and what used it.

The interface decision names, for every record it predicts, the security-group line that allowed it and the
network ACL entry that decided at the subnet's boundary (a response passes the security groups on tracking,
so only its ACL entry is used). Each observed ACCEPT counts for those lines: records, distinct flows,
first and last seen, and the tightest description of what used the line — the peers seen and the ports
(ICMP: types) matched. Lines of the covered interfaces that nothing used are listed too, with zero records.

State per line is small and mergeable (counts, min/max, a k-minimum-values sketch of flows, a bounded peer
set, a port bitmap), so chunks, worker processes or Spark partitions fold into one answer exactly. A line
used by more than `PEERS_KEPT` distinct peers keeps them as wider prefixes (and says so).
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from reach.model.addr import IPV4, Cidr
from reach.model.decision import RuleRegistry
from reach.model.network import Network
from reach.model.protocols import ICMP_FAMILY, PORTED, protocol_name
from reach.model.rules import RuleLine, RuleRef
from reach.model.vocabulary import Kind
from reach.reconcile.attribute import DistinctCounter
from reach.reconcile.result import ObservedUse, RuleUsage

PEERS_KEPT = 64  # distinct peers remembered exactly per line; beyond, they are kept as wider prefixes
PUBLIC_SERVICE_PEERS = 16  # a line open to the internet that this many internet hosts used serves the public
NARROW_FACTOR = 64  # a line allowing this many times more addresses or ports than were used is "far wider"


@dataclass
class _Line:
    records: int = 0
    first: int | None = None
    last: int | None = None
    peers: set[tuple[int, int, int]] = field(default_factory=set)  # (family, prefix length, network value)
    prefix: dict[int, int] = field(default_factory=lambda: {4: 32, 6: 128})
    ports: np.ndarray = field(default_factory=lambda: np.zeros(65536, dtype=bool))
    protocols: np.ndarray = field(default_factory=lambda: np.zeros(256, dtype=bool))

    def add_peers(self, family: np.ndarray, value: Iterable[int]) -> None:
        for f, v in zip(family.tolist(), value, strict=True):
            bits = 32 if f == IPV4 else 128
            length = self.prefix[f]
            self.peers.add((f, length, v >> (bits - length) << (bits - length)))
        while len(self.peers) > PEERS_KEPT:
            self._widen()

    def _widen(self) -> None:
        """Halve the precision of the family with most peers: /32 -> /24 -> /16 -> /8 -> /0 (IPv6 by 16)."""
        counts = {f: sum(1 for p in self.peers if p[0] == f) for f in (4, 6)}
        family = max(counts, key=lambda f: counts[f])
        bits, step = (32, 8) if family == 4 else (128, 16)
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
        while len(self.peers) > PEERS_KEPT:
            self._widen()
        self.ports |= other.ports
        self.protocols |= other.protocols

    @property
    def widened(self) -> bool:
        return self.prefix[4] < 32 or self.prefix[6] < 128


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

    def add(self, interface: np.ndarray, lines: np.ndarray, family: np.ndarray, hi: np.ndarray, lo: np.ndarray,
            protocol: np.ndarray, port: np.ndarray, start: np.ndarray, end: np.ndarray, flows: np.ndarray) -> None:
        """One chunk: every evaluated record's interface (coverage), and per accepted record and line that
        allowed it (`lines`: registry ids, -1 for none), the peer, protocol, port the line matched, flow."""
        self.covered[np.unique(interface)] = True
        used = np.flatnonzero(lines >= 0)
        if not len(used):
            return
        table = pa.table({"line": lines[used], "family": family[used], "hi": hi[used], "lo": lo[used],
                          "protocol": protocol[used], "port": port[used], "start": start[used], "end": end[used]})
        totals = table.group_by("line", use_threads=False).aggregate(
            [("line", "count"), ("start", "min"), ("end", "max")]).to_pydict()
        for line, records, first, last in zip(totals["line"], totals["line_count"], totals["start_min"],
                                              totals["end_max"], strict=True):
            state = self._lines.setdefault(line, _Line())
            state.records += records
            state.first, state.last = _min(state.first, first), _max(state.last, last)
        peers = table.group_by(["line", "family", "hi", "lo"], use_threads=False).aggregate([])
        peer_line = peers["line"].to_numpy()
        peer_family = peers["family"].to_numpy()
        values = [(h << 64) | v for h, v in zip(peers["hi"].to_pylist(), peers["lo"].to_pylist(), strict=True)]
        order = np.argsort(peer_line, kind="stable")
        for part in np.split(order, np.flatnonzero(np.diff(peer_line[order])) + 1):
            self._lines[int(peer_line[part[0]])].add_peers(peer_family[part], [values[i] for i in part.tolist()])
        ports = table.group_by(["line", "protocol", "port"], use_threads=False).aggregate([])
        for line, number, p in zip(ports["line"].to_pylist(), ports["protocol"].to_pylist(),
                                   ports["port"].to_pylist(), strict=True):
            state = self._lines[line]
            state.protocols[min(max(number, 0), 255)] = True
            if number in PORTED or number in ICMP_FAMILY:
                state.ports[min(max(p, 0), 65535)] = True
        self._flows.add(lines[used], np.zeros(len(used), dtype=np.int64), flows[used])

    def merge(self, other: RuleUse) -> None:
        """Fold another partial (another chunk range, worker or partition) into this one."""
        for line, state in other._lines.items():
            self._lines.setdefault(line, _Line()).merge(state)
        self._flows.merge(other._flows)
        self.covered |= other.covered

    def result(self, network: Network, registry: RuleRegistry, interface_ids: list[str]) -> list[RuleUsage]:
        lines = covered_allow_lines(network, [interface_ids[i] for i in np.flatnonzero(self.covered).tolist()])

        def internet(cidr: str) -> bool:  # outside every VPC of the snapshot
            peer = Cidr.parse(cidr)
            return not network.vpcs_holding(peer.family, peer.start)

        out = []
        for ref, (compiled, interfaces) in lines.items():
            state = self._lines.get(registry.add(ref, True), _Line())
            flows, estimated = self._flows.count((registry.add(ref, True), 0))
            out.append(_entry(ref, compiled, sorted(interfaces), state, flows, estimated, internet))
        out.sort(key=lambda u: (_STATUS_ORDER[u.status], -u.narrowness, -u.records, u.kind, str(u.id), str(u.rule)))
        return out


_STATUS_ORDER = {"unused": 0, "wider": 1, "used": 2}


AllowLines = dict[RuleRef, tuple[list[RuleLine], set[str]]]


def covered_allow_lines(network: Network, interface_ids: Iterable[str]) -> AllowLines:
    """Every allow line of the security groups and network ACLs on these interfaces: ref -> (its compiled
    lines, the interfaces it applies to)."""
    found: AllowLines = {}

    def add(line: RuleLine, interface_id: str) -> None:
        lines, where = found.setdefault(line.ref, ([], set()))
        if line not in lines:
            lines.append(line)
        where.add(interface_id)

    for interface_id in interface_ids:
        interface = network.interfaces[interface_id]
        for group_id in interface.groups:
            group = network.security_groups.get(group_id)
            for line in (group.ingress_lines + group.egress_lines) if group else ():
                add(line, interface_id)
        subnet = network.subnets.get(interface.subnet_id)
        acl = network.nacl_of(subnet) if subnet else None
        for table in (acl.ingress, acl.egress) if acl else ():
            for line, allow in zip(table.lines, table.allow.tolist(), strict=True):
                if allow:
                    add(line, interface_id)
    return found


def _cidrs(peers: Iterable[tuple[int, int, int]]) -> list[str]:
    networks = [ipaddress.ip_network((v, n)) if f == 4 else ipaddress.IPv6Network((v, n)) for f, n, v in peers]
    v4 = [n for n in networks if n.version == 4]
    v6 = [n for n in networks if n.version == 6]
    return [str(n) for n in [*ipaddress.collapse_addresses(v4), *ipaddress.collapse_addresses(v6)]]


def _text(family: int, length: int, value: int) -> str:
    return str(ipaddress.ip_network((value, length)) if family == IPV4 else ipaddress.IPv6Network((value, length)))


def _ranges(bitmap: np.ndarray) -> list[list[int]]:
    if not bitmap.any():
        return []
    edges = np.flatnonzero(np.diff(np.concatenate([[0], bitmap.astype(np.int8), [0]])))
    return [[int(a), int(b) - 1] for a, b in zip(edges[::2], edges[1::2], strict=True)]


def _size(cidrs: Iterable[Cidr]) -> float:
    return float(sum(c.end - c.start + 1 for c in cidrs))


def _entry(ref: RuleRef, compiled: list[RuleLine], interfaces: list[str], state: _Line, flows: int,
           estimated: bool, internet: Callable[[str], bool]) -> RuleUsage:
    allowed_peers = [line.peer for line in compiled if line.peer is not None]
    allowed_ports = sorted({(line.port_lo, line.port_hi) for line in compiled})
    observed_sources = _cidrs(state.peers)
    observed_ports = _ranges(state.ports)
    narrowness = 0.0
    status = "unused" if state.records == 0 else "used"
    by_reference = any(line.peer_group or line.peer_prefix_list for line in compiled)
    if state.records and not by_reference:
        address_ratio = _size(allowed_peers) / max(_size(Cidr.parse(c) for c in observed_sources), 1.0)
        public = sum(1 for f, n, _ in state.peers if n == (32 if f == IPV4 else 128) and internet(_text(f, n, _)))
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
                             protocols=[protocol_name(int(p)) for p in np.flatnonzero(state.protocols)]),
        detail=ref.detail, status=status, narrowness=round(narrowness, 2), flows_estimated=estimated,
        allows_sources=[str(c) for c in allowed_peers], allows_ports=[list(p) for p in allowed_ports],
        protocol=compiled[0].protocol, interfaces=interfaces,
        peer_group=next((line.peer_group for line in compiled if line.peer_group), None),
        peer_prefix_list=next((line.peer_prefix_list for line in compiled if line.peer_prefix_list), None),
    )
