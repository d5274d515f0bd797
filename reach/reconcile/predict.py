"""Predict what each record's interface should have logged, per distinct key, with the one kernel.

A record's fate at its interface depends on: the interface, the direction, whether it is a response, the
protocol, the destination port and the peer. Ports and peers are first replaced by their class (the
stretch between two rule boundaries, see `addresses.py`), so a million records collapse to the keys that
really differ; each new key is then decided component by component:

- the security groups (skipped for a response: a tracked connection passes them whatever the rules say):
  `first_match` on each group's table in the interface's order, the first group with a matching line
  deciding, which is `first_match` on their union (`Network.sg_table`);
- the subnet's network ACL, when the peer is outside the subnet: `first_match` on its table.

Each table remembers what it decided per class of its own (its own boundaries), so the kernel runs once per
table-class, not once per record. At the interface, as the engine's walker orders it (aws-semantics E.10):
ingress meets the network ACL first, then the security groups; egress the other way round.

The verdict and the rule named with it come from the same kernel index: `reject` is derived from the index
of the deciding line, and `ref` is the registry id of that very line.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from reach.model.addr import split
from reach.model.match import Probe, first_match
from reach.model.network import Network
from reach.model.rules import RuleRef, RuleTable
from reach.reconcile.addresses import AddressClasses
from reach.reconcile.arrays import Packer, bit_width, local_dense
from reach.reconcile.place import InterfaceIndex

_ICMP_REQUEST = {1: 8, 58: 128}  # flow logs do not log the ICMP type (ports are 0): echo is assumed
_ICMP_REPLY = {1: 0, 58: 129}


@dataclass(frozen=True)
class Rule:
    """A rule that decided some records: CONTRACT's `blocked_by` shape, plus what reconcile needs."""

    kind: str
    id: str | None
    direction: str | None
    rule: int | str | None
    detail: str
    allow: bool = False
    implicit: bool = False  # no line matched: the implicit deny of a security group or network ACL
    groups: tuple[str, ...] | None = None
    interface_id: str | None = None


@dataclass
class RuleRegistry:
    """Every rule that decided a record gets one id; per-table arrays map a kernel index to it."""

    rules: list[Rule] = field(default_factory=list)
    _ids: dict[object, int] = field(default_factory=dict)

    def add(self, key: object, rule: Rule) -> int:
        found = self._ids.get(key)
        if found is None:
            found = self._ids[key] = len(self.rules)
            self.rules.append(rule)
        return found

    def line_ids(self, table: RuleTable) -> np.ndarray:
        """Registry id of each line of a table."""
        return np.array([self._line(line.ref, bool(allow)) for line, allow in zip(table.lines, table.allow,
                                                                                    strict=True)], dtype=np.int32)

    def _line(self, ref: RuleRef, allow: bool) -> int:
        return self.add((ref, allow), Rule(ref.kind, ref.id, ref.direction, ref.rule, ref.detail, allow=allow))


class TableMemo:
    """One rule table, its own address and port classes, and the line it chose for each class seen so far."""

    def __init__(self, table: RuleTable, registry: RuleRegistry) -> None:
        self.table = table
        self.refs = registry.line_ids(table)
        self._classes = AddressClasses.cut(line.peer for line in table.lines if line.peer is not None)
        ports = {0, *table.port_lo.tolist(), *(table.port_hi + 1).tolist()}
        self._ports = np.array(sorted(p for p in ports if p <= 65535), dtype=np.int32)
        self._seen: dict[int, int] = {}

    def decide(self, family: np.ndarray, hi: np.ndarray, lo: np.ndarray, protocol: np.ndarray,
               port: np.ndarray) -> np.ndarray:
        """Index of the deciding line for each probe (-1: none matches), through `first_match`."""
        peer = self._classes.classify(family, hi, lo)
        port_class = np.searchsorted(self._ports, port, side="right") - 1
        key = (peer * 256 + protocol.astype(np.int64)) * len(self._ports) + port_class
        distinct, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        new = [i for i, k in enumerate(distinct.tolist()) if k not in self._seen]
        if new:
            rows = first[new]
            index = first_match(self.table, Probe(family=family[rows], peer_hi=hi[rows], peer_lo=lo[rows],
                                                  protocol=protocol[rows].astype(np.int16),
                                                  port=port[rows].astype(np.int32),
                                                  code=np.zeros(len(rows), dtype=np.int16)))
            for k, i in zip(distinct[new].tolist(), index.tolist(), strict=True):
                self._seen[k] = i
        decided = np.array([self._seen[k] for k in distinct.tolist()], dtype=np.int32)
        return decided[inverse.reshape(-1)]


@dataclass(frozen=True)
class Prediction:
    """The chunk's distinct keys and, per key, the predicted REJECT, the responsible rule (-1 on ACCEPT) and
    each component's deciding rule (-1 where the component was not evaluated); `row` maps each record to its
    key. Per record, `reject[row]` and so on."""

    row: np.ndarray  # per record: its key's position
    columns: dict[str, np.ndarray]  # per key: interface, egress, response, protocol, service_port
    reject: np.ndarray
    ref: np.ndarray
    sg_ref: np.ndarray
    nacl_ref: np.ndarray


def probe_port(protocol: np.ndarray, dstport: np.ndarray, response: np.ndarray) -> np.ndarray:
    """The port (ICMP: type) the rules match: the destination port, or the assumed echo type for ICMP."""
    port = np.where((protocol == 6) | (protocol == 17), dstport, 0).astype(np.int32)
    for number in (1, 58):
        icmp = protocol == number
        if icmp.any():
            port[icmp] = np.where(response[icmp], _ICMP_REPLY[number], _ICMP_REQUEST[number])
    return port


def _segments(codes: np.ndarray) -> list[np.ndarray]:
    """Row indices grouped by code, one array per distinct code."""
    order = np.argsort(codes, kind="stable")
    cuts = np.flatnonzero(np.diff(codes[order])) + 1
    return np.split(order, cuts)


class Predictor:
    def __init__(self, network: Network, interfaces: InterfaceIndex, classes: AddressClasses) -> None:
        self.network = network
        self.interfaces = interfaces
        self.classes = classes
        self.registry = RuleRegistry()
        ifaces = [network.interfaces[i] for i in interfaces.ids]
        # security groups: each interface's groups in order (those in the snapshot), as CSR arrays
        self._group_ids = sorted(network.security_groups)
        group_position = {g: i for i, g in enumerate(self._group_ids)}
        lengths, flat = [], []
        self._filtered = np.ones(len(ifaces), dtype=bool)
        for i, interface in enumerate(ifaces):
            if not interface.groups and interface.requester_managed:
                self._filtered[i] = False  # no security group (NAT gateway…): not filtered
            present = [group_position[g] for g in interface.groups if g in group_position]
            lengths.append(len(present))
            flat += present
        self._set_len = np.array(lengths, dtype=np.int64)
        self._set_start = np.concatenate([[0], np.cumsum(self._set_len)[:-1]]).astype(np.int64)
        self._set_flat = np.array(flat, dtype=np.int64)
        # network ACLs and each interface's subnet ranges
        self._acls = sorted(network.nacls)
        acl_position = {acl: i for i, acl in enumerate(self._acls)}
        subnets = [network.subnets.get(i.subnet_id) for i in ifaces]
        self._acl = np.array([acl_position.get(s.nacl, -1) if s is not None and s.nacl else -1 for s in subnets],
                             dtype=np.int64)
        slots = max([len(s.cidrs) for s in subnets if s is not None] or [1])
        self._cidr = np.zeros((len(ifaces), slots, 5), dtype=np.uint64)  # family, start hi/lo, end hi/lo
        for i, subnet in enumerate(subnets):
            for k, cidr in enumerate(subnet.cidrs if subnet is not None else ()):
                self._cidr[i, k] = (cidr.family, *split(cidr.start), *split(cidr.end))
        tables = [t for acl in network.nacls.values() for t in (acl.ingress, acl.egress)]
        tables += [t for g in network.security_groups.values() for t in (g.ingress, g.egress)]
        bounds = {0}
        for table in tables:
            bounds.update(table.port_lo.tolist())
            bounds.update((table.port_hi + 1).tolist())
        port_bounds = np.array(sorted(b for b in bounds if b <= 65535), dtype=np.int32)
        self._port_class = (np.searchsorted(port_bounds, np.arange(65536), side="right") - 1).astype(np.int32)
        self._port_bounds = port_bounds
        self._packer = Packer([bit_width(len(ifaces)), 1, 1, 8, bit_width(len(port_bounds)), bit_width(classes.count)])
        self._memos: dict[tuple[str, str, str], TableMemo] = {}
        self._implicit = np.full(2 * len(ifaces), -1, dtype=np.int32)  # per interface and direction
        self._keys = np.zeros(0, dtype=np.int64)
        self._results = np.zeros((0, 4), dtype=np.int32)  # reject, ref, sg_ref, nacl_ref
        self.evaluated_keys = 0

    # ----- per record ----------------------------------------------------------------------------

    def predict(self, interface: np.ndarray, egress: np.ndarray, response: np.ndarray, protocol: np.ndarray,
                dstport: np.ndarray, peer_class: np.ndarray, service_port: np.ndarray) -> Prediction:
        """Group the records by key (their service port kept, for the history), decide each key once."""
        port = probe_port(protocol, dstport, response)
        port_class = self._port_class[np.clip(port, 0, 65535)]
        columns = [interface, egress, response, protocol, port_class, peer_class, service_port]
        first, row = local_dense(columns, [*self._packer.widths, 16])
        distinct = self._packer.pack([c[first] for c in columns[:6]])
        order = np.argsort(distinct)
        pos = np.searchsorted(self._keys, distinct[order])
        known = np.zeros(len(order), dtype=bool)
        inside = pos < len(self._keys)
        known[inside] = self._keys[pos[inside]] == distinct[order][inside]
        if not known.all():
            new = np.unique(distinct[order][~known], return_index=True)[1]
            rows = first[order[~known][new]]
            self._remember(distinct[order][~known][new], self._evaluate(*(c[rows] for c in columns[:6])))
            pos = np.searchsorted(self._keys, distinct[order])
        results = np.empty((len(order), 4), dtype=np.int32)
        results[order] = self._results[pos]
        names = ("interface", "egress", "response", "protocol", "service_port")
        return Prediction(
            row=row, columns={name: columns[i][first] for i, name in zip((0, 1, 2, 3, 6), names, strict=True)},
            reject=results[:, 0].astype(bool), ref=results[:, 1], sg_ref=results[:, 2], nacl_ref=results[:, 3])

    def _remember(self, keys: np.ndarray, results: np.ndarray) -> None:
        self.evaluated_keys += len(keys)
        keys = np.concatenate([self._keys, keys])
        results = np.concatenate([self._results, results])
        order = np.argsort(keys, kind="stable")
        self._keys, self._results = keys[order], results[order]

    # ----- per key -------------------------------------------------------------------------------

    def _memo(self, kind: str, owner: str, direction: str) -> TableMemo:
        key = (kind, owner, direction)
        memo = self._memos.get(key)
        if memo is None:
            source = self.network.security_groups[owner] if kind == "sg" else self.network.nacls[owner]
            memo = self._memos[key] = TableMemo(getattr(source, direction), self.registry)
        return memo

    def _evaluate(self, interface: np.ndarray, egress: np.ndarray, response: np.ndarray, protocol: np.ndarray,
                  port_class: np.ndarray, peer_class: np.ndarray) -> np.ndarray:
        family, hi, lo = self.classes.representative(peer_class)
        port = self._port_bounds[port_class]
        n = len(interface)
        sg_ref, sg_deny = self._security_groups(interface, egress, response, family, hi, lo, protocol, port)

        acl_ref = np.full(n, -1, dtype=np.int32)
        acl_deny = np.zeros(n, dtype=bool)
        acl = self._acl[interface]
        crossing = np.flatnonzero((acl >= 0) & ~self._inside_subnet(interface, family, hi, lo))
        for rows in _segments(acl[crossing] * 2 + egress[crossing]) if len(crossing) else []:
            rows = crossing[rows]
            acl_id, direction = self._acls[int(acl[rows[0]])], "egress" if egress[rows[0]] else "ingress"
            memo = self._memo("acl", acl_id, direction)
            index = memo.decide(family[rows], hi[rows], lo[rows], protocol[rows], port[rows])
            matched = index >= 0
            safe = np.maximum(index, 0)
            allowed = matched & memo.table.allow[safe] if len(memo.table) else np.zeros(len(rows), dtype=bool)
            acl_ref[rows] = np.where(matched, memo.refs[safe] if len(memo.refs) else -1, -1)
            acl_deny[rows] = ~allowed
            if not matched.all():
                acl_ref[rows[~matched]] = self.registry.add(("acl-implicit", acl_id, direction), Rule(
                    "network-acl", acl_id, direction, None, f"no rule of network ACL {acl_id} matches", implicit=True))

        reject = sg_deny | acl_deny
        first_sg = np.where(sg_deny, sg_ref, np.where(acl_deny, acl_ref, -1))
        first_acl = np.where(acl_deny, acl_ref, np.where(sg_deny, sg_ref, -1))
        ref = np.where(egress, first_sg, first_acl)
        return np.stack([reject.astype(np.int32), ref, sg_ref, acl_ref], axis=1).astype(np.int32)

    def _security_groups(self, interface: np.ndarray, egress: np.ndarray, response: np.ndarray, family: np.ndarray,
                         hi: np.ndarray, lo: np.ndarray, protocol: np.ndarray,
                         port: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(deciding rule, denied) per key: each group of the interface in order, the first match deciding."""
        n = len(interface)
        sg_ref = np.full(n, -1, dtype=np.int32)
        rows = np.flatnonzero(~response & self._filtered[interface])
        if not len(rows):
            return sg_ref, np.zeros(n, dtype=bool)
        # one entry per (key, group of its interface), in key then group order
        count = self._set_len[interface[rows]]
        entry_row = np.repeat(rows, count)
        offset = np.arange(len(entry_row)) - np.repeat(np.cumsum(count) - count, count)
        group = self._set_flat[self._set_start[interface[entry_row]] + offset]
        entry_ref = np.full(len(entry_row), -1, dtype=np.int32)
        for part in _segments(group * 2 + egress[entry_row]) if len(entry_row) else []:
            at = entry_row[part]
            direction = "egress" if egress[at[0]] else "ingress"
            memo = self._memo("sg", self._group_ids[int(group[part[0]])], direction)
            index = memo.decide(family[at], hi[at], lo[at], protocol[at], port[at])
            entry_ref[part] = np.where(index >= 0, memo.refs[np.maximum(index, 0)] if len(memo.refs) else -1, -1)
        matched = np.flatnonzero(entry_ref >= 0)
        deciding, first = np.unique(entry_row[matched], return_index=True)  # entries are in group order
        sg_ref[deciding] = entry_ref[matched[first]]
        denied = rows[sg_ref[rows] < 0]
        side = interface[denied].astype(np.int64) * 2 + egress[denied]
        for code in np.unique(side[self._implicit[side] < 0]).tolist():
            self._implicit[code] = self._implicit_sg(code // 2, "egress" if code % 2 else "ingress")
        sg_ref[denied] = self._implicit[side]
        deny = np.zeros(n, dtype=bool)
        deny[denied] = True
        return sg_ref, deny

    def _inside_subnet(self, interface: np.ndarray, family: np.ndarray, hi: np.ndarray, lo: np.ndarray) -> np.ndarray:
        cidr = self._cidr[interface]  # [keys, slots, 5]
        f, sh, sl, eh, el = (cidr[:, :, j] for j in range(5))
        h, low = hi[:, None], lo[:, None]
        after = (h > sh) | ((h == sh) & (low >= sl))
        before = (h < eh) | ((h == eh) & (low <= el))
        return ((f == family[:, None].astype(np.uint64)) & after & before).any(axis=1)

    def _implicit_sg(self, interface: int, direction: str) -> int:
        """The implicit deny of an interface's security groups: named by the group when there is one,
        else by the interface, with every group (CONTRACT §2)."""
        interface_id = self.interfaces.ids[interface]
        groups = self.network.interfaces[interface_id].groups
        label = groups[0] if len(groups) == 1 else interface_id
        names = ", ".join(self._group_label(g) for g in groups) or "no security group"
        side = "inbound" if direction == "ingress" else "outbound"
        where = "" if len(groups) == 1 else f" on {interface_id}"
        return self.registry.add(("sg-implicit", label, direction), Rule(
            "security-group", label, direction, None, f"no {side} rule of {names}{where} matches (implicit deny)",
            implicit=True, groups=groups, interface_id=interface_id if len(groups) != 1 else None))

    def _group_label(self, group_id: str) -> str:
        group = self.network.security_groups.get(group_id)
        return f"{group_id} ({group.name})" if group and group.name else group_id
