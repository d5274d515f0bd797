"""What happens to a packet at a network interface: THE decision, for a batch of rows.

Every stage asks this one function: explain's walker (a batch of one, or one row per piece of a port
range), reconcile (the distinct keys of millions of records) and the header space (one representative
per cell). Nothing else decides a security group or network ACL verdict (tests/test_architecture.py).

A row is a packet crossing into or out of an interface: which interface (and its subnet), the direction,
whether it is the response of a tracked connection, the peer address (source on the way in, destination
on the way out), protocol, port (ICMP: type) and ICMP code, and two facts only the caller can know:

- `crosses_nacl`: the packet crosses the subnet's boundary, so its network ACL applies (the walker knows
  the routed path; reconcile and the header space compare the peer with the subnet);
- `groups_kept`: security-group membership survived the way the packet came (a transit gateway without
  security group referencing support discards it).

The rules, as AWS documents them (aws-semantics E.1-E.3, E.10):

- Neither security groups nor network ACLs filter traffic between an instance and what its host answers
  (`reach.model.services`: Amazon DNS at the VPC's base plus two and 169.254.169.253, instance metadata,
  Time Sync, license activation, ECS task metadata, DHCP, the VPC router's own address): such a row is
  `unfiltered`, allowed, and no rule decides it.
- On the way in the packet meets the subnet's network ACL first, then the interface's security groups;
  on the way out the other way round. The first component that denies is the blocker.
- A network ACL is stateless: responses are evaluated like any packet, by the lowest-numbered entry
  that matches; no entry matching is an implicit deny.
- Security groups are stateful: the response of a tracked connection passes them whatever their rules
  say. An interface's groups allow what any of them allows; the first matching line in group order is
  named. No line matching is the implicit deny, named by the group when the interface has one, else by
  the interface with every group.
- An interface that AWS manages without security groups (a NAT gateway's, requester-managed) is not
  filtered by security groups.
- A line that matches by membership of a security group matches only where membership survived.
- A line naming a group or prefix list the snapshot lacks never matches (AWS treats what it cannot
  resolve as denying); where one would have matched, the row says which (`unresolved`), and for a
  missing group the reason is UNKNOWN_PEERED_SGS.

The answer is columns: whether each component allows, the rule that decided at each (ids into the
decision's `RuleRegistry` of `RuleRef`s; -1 where the component was not evaluated), the blocker and the
reason. A verdict and the rule named with it come from the same kernel index, so they cannot disagree.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from reach.model.addr import IPV4, IPV6, split
from reach.model.classes import AddressClasses
from reach.model.match import Probe, first_match, port_cuts, within
from reach.model.network import Interface, Network
from reach.model.rules import RuleLine, RuleRef, RuleTable, any_peer
from reach.model.services import LINK_LOCAL, dns_address, service_addresses
from reach.model.vocabulary import Direction, Kind, Reason

# Reason codes a decision can give, by their index in `Decided.reason`.
REASONS: tuple[Reason, ...] = (
    Reason.ACCEPTED,
    Reason.SUBNET_ACL_RESTRICTION,
    Reason.ENI_SG_RULES_MISMATCH,
    Reason.UNKNOWN_PEERED_SGS,
    Reason.SG_REFERENCING_SUPPORT,
)
_ACCEPTED, _ACL, _SG, _UNKNOWN_SG, _DISCARDED = range(len(REASONS))

# Security group table variants: as compiled; with group-membership lines matching nothing (membership
# discarded on the way); only the lines naming what the snapshot lacks, matching any address.
_VARIANTS = ("full", "kept", "unresolved")
_FULL, _KEPT, _UNRESOLVED = range(len(_VARIANTS))

_MEMO_FROM = 64  # batches this large go through each table's per-class memo; smaller ones straight to the kernel


@dataclass(frozen=True)
class Crossings:
    """Rows of packets crossing an interface (or only a subnet's boundary), as columns.

    `interface` is a position in the decision's `ids` (-1: no interface, only the subnet's ACL applies),
    `subnet` a position in its `subnet_ids` (-1: no subnet known, no ACL applies).
    """

    interface: np.ndarray  # int32
    subnet: np.ndarray  # int32
    egress: np.ndarray  # bool
    response: np.ndarray  # bool
    family: np.ndarray  # int8
    peer_hi: np.ndarray  # uint64
    peer_lo: np.ndarray  # uint64
    protocol: np.ndarray  # int16
    port: np.ndarray  # int32 (ICMP: the type)
    code: np.ndarray  # int16
    crosses_nacl: np.ndarray  # bool
    groups_kept: np.ndarray  # bool

    def __len__(self) -> int:
        return len(self.interface)

    def take(self, rows: np.ndarray) -> Crossings:
        return Crossings(*(getattr(self, f.name)[rows] for f in dataclasses.fields(self)))

    def probe(self) -> Probe:
        return Probe(self.family, self.peer_hi, self.peer_lo, self.protocol, self.port, self.code)


@dataclass(frozen=True)
class Decided:
    """The decision per row. Rule columns are ids into the decision's registry, -1 where not evaluated."""

    sg_allow: np.ndarray  # bool (True where not evaluated)
    nacl_allow: np.ndarray  # bool (True where not evaluated)
    sg: np.ndarray  # int32: the allowing line, or the implicit deny
    nacl: np.ndarray  # int32: the deciding entry, or the implicit deny
    sg_reason: np.ndarray  # int8 into REASONS: why the security groups deny (ACCEPTED where they allow)
    unresolved: np.ndarray  # int32: a line naming what the snapshot lacks that would have allowed
    discarded: np.ndarray  # int32: a group-membership line that would have allowed, had membership survived
    egress: np.ndarray  # bool, as asked
    unfiltered: np.ndarray  # bool: traffic with what the host answers, which neither component filters

    @property
    def allow(self) -> np.ndarray:
        return np.asarray(self.sg_allow & self.nacl_allow)

    @property
    def blocker(self) -> np.ndarray:
        """The first component that denies, in the order the packet meets them; -1 where allowed."""
        sg_first = np.where(~self.sg_allow, self.sg, np.where(~self.nacl_allow, self.nacl, -1))
        nacl_first = np.where(~self.nacl_allow, self.nacl, np.where(~self.sg_allow, self.sg, -1))
        return np.where(self.egress, sg_first, nacl_first).astype(np.int32)

    @property
    def reason(self) -> np.ndarray:
        """Index into REASONS of the blocker's reason."""
        nacl_first = ~self.nacl_allow & (~self.egress | self.sg_allow)
        return np.where(nacl_first, _ACL, self.sg_reason).astype(np.int8)

    def row(self, i: int) -> tuple[bool, int, Reason]:
        """(allowed, blocker, reason) of one row."""
        return bool(self.allow[i]), int(self.blocker[i]), REASONS[int(self.reason[i])]


@dataclass
class RuleRegistry:
    """Every rule that decides some row gets one id, with whether it allows."""

    rules: list[RuleRef] = field(default_factory=list)
    allow: list[bool] = field(default_factory=list)
    _ids: dict[tuple[RuleRef, bool], int] = field(default_factory=dict)

    def add(self, ref: RuleRef, allow: bool = False) -> int:
        found = self._ids.get((ref, allow))
        if found is None:
            found = self._ids[(ref, allow)] = len(self.rules)
            self.rules.append(ref)
            self.allow.append(allow)
        return found

    def line_ids(self, table: RuleTable) -> np.ndarray:
        """The registry id of each line of a table."""
        return np.array(
            [self.add(line.ref, bool(allow)) for line, allow in zip(table.lines, table.allow, strict=True)],
            dtype=np.int32,
        )


class _Table:
    """One rule table, its lines' registry ids, and (for large batches) what it decided per class of its own:
    its own address classes, protocol and port classes."""

    def __init__(self, table: RuleTable, registry: RuleRegistry) -> None:
        self.table = table
        self.ids = registry.line_ids(table)
        self._classes: AddressClasses | None = None
        self._ports = np.zeros(0, dtype=np.int32)
        self._codes = np.zeros(0, dtype=np.int32)
        self._seen: dict[int, int] = {}

    def first(self, rows: Crossings) -> np.ndarray:
        """The kernel's index of the deciding line per row (-1: none matches)."""
        if len(rows) < _MEMO_FROM or not len(self.table):
            return first_match(self.table, rows.probe())
        if self._classes is None:
            table = self.table
            self._classes = AddressClasses.cut(line.peer for line in table.lines if line.peer is not None)
            self._ports = np.array(sorted({0, *table.port_lo.tolist(), *(table.port_hi + 1).tolist()}), np.int32)
            self._codes = np.array(sorted({0, *table.code_lo.tolist(), *(table.code_hi + 1).tolist()}), np.int32)
        peer = self._classes.classify(rows.family, rows.peer_hi, rows.peer_lo)
        port = np.searchsorted(self._ports, rows.port, side="right") - 1
        code = np.searchsorted(self._codes, rows.code, side="right") - 1
        key = ((peer * 257 + rows.protocol.astype(np.int64) + 1) * len(self._ports) + port) * len(self._codes) + code
        distinct, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        new = [i for i, k in enumerate(distinct.tolist()) if k not in self._seen]
        if new:
            index = first_match(self.table, rows.take(first[new]).probe())
            self._seen.update(zip(distinct[new].tolist(), index.tolist(), strict=True))
        decided = np.array([self._seen[k] for k in distinct.tolist()], dtype=np.int32)
        return decided[inverse.reshape(-1)]

    def ref_ids(self, index: np.ndarray) -> np.ndarray:
        """Registry ids of the lines at `index` (-1 where no line matched)."""
        if not len(self.ids):
            return np.full(len(index), -1, dtype=np.int32)
        return np.where(index >= 0, self.ids[np.maximum(index, 0)], -1).astype(np.int32)


class InterfaceDecision:
    """The decision for one compiled network: per-interface group order and subnet, per-table memos."""

    def __init__(self, network: Network) -> None:
        self.network = network
        self.registry = RuleRegistry()
        self.ids = sorted(network.interfaces)
        self.position = {interface_id: i for i, interface_id in enumerate(self.ids)}
        self.subnet_ids = sorted(network.subnets)
        self.subnet_position = {subnet_id: i for i, subnet_id in enumerate(self.subnet_ids)}
        interfaces = [network.interfaces[i] for i in self.ids]
        self._group_ids = sorted(network.security_groups)
        group_position = {g: i for i, g in enumerate(self._group_ids)}
        lengths: list[int] = []
        flat: list[int] = []
        for interface in interfaces:
            present = [group_position[g] for g in interface.groups if g in group_position]
            lengths.append(len(present))
            flat += present
        # each interface's groups in order (those in the snapshot), as CSR arrays
        self._set_len = np.array(lengths, dtype=np.int64)
        self._set_start = np.concatenate([[0], np.cumsum(self._set_len)[:-1]]).astype(np.int64)
        self._set_flat = np.array(flat, dtype=np.int64)
        self._filtered = np.array([is_filtered(i) for i in interfaces] + [False], dtype=bool)
        self._interface_subnet = np.array(
            [self.subnet_position.get(i.subnet_id, -1) for i in interfaces] + [-1], dtype=np.int32
        )
        self._acl_ids = sorted(network.nacls)
        acl_position = {acl: i for i, acl in enumerate(self._acl_ids)}
        subnets = [network.subnets[s] for s in self.subnet_ids]
        # padded with a -1 (no ACL) so that a row without a subnet indexes safely even in a snapshot without any
        self._acl = np.array([acl_position.get(s.nacl or "", -1) for s in subnets] + [-1], dtype=np.int64)
        slots = max([len(s.cidrs) for s in subnets] or [1])
        self._cidr = np.zeros((max(len(subnets), 1), max(slots, 1), 5), dtype=np.uint64)  # family, start, end
        for i, subnet in enumerate(subnets):
            for k, cidr in enumerate(subnet.cidrs):
                self._cidr[i, k] = (cidr.family, *split(cidr.start), *split(cidr.end))
        self._tables: dict[tuple[str, str, str, str], _Table] = {}
        self._merged: dict[tuple[Kind, int, Direction], _Table] = {}  # an interface's groups as one table
        self._implicit_sg = np.full(2 * max(len(interfaces), 1), -1, dtype=np.int32)
        # what each interface's host answers beyond the fixed link-local services: its VPC's Amazon DNS
        dns = [dns_address(network, i.vpc_id) for i in interfaces] + [None]
        self._dns = np.array([(f, *split(v)) if f else (0, 0, 0) for f, v in (d or (0, 0) for d in dns)],
                             dtype=np.uint64).reshape(-1, 3)
        self._link_local = np.array([(f, *split(v)) for f, v in LINK_LOCAL], dtype=np.uint64).reshape(-1, 3)
        # the low 64 bits of every address some interface's host answers: a row whose peer is none of them is
        # filtered, which is nearly every row (a cheap test before the exact one)
        self._service_lo = {split(c.start)[1] for c in service_addresses(network)}
        self._service_lo_array = np.array(sorted(self._service_lo), dtype=np.uint64)

    # --- rows ------------------------------------------------------------------------------------

    def subnet_of(self, interface: np.ndarray) -> np.ndarray:
        """The subnet position of each interface position (-1 for none)."""
        return np.where(interface >= 0, self._interface_subnet[np.maximum(interface, 0)], -1).astype(np.int32)

    def outside_subnet(self, subnet: np.ndarray, family: np.ndarray, hi: np.ndarray, lo: np.ndarray) -> np.ndarray:
        """Is the peer outside the subnet's CIDRs: the crossing test for callers that do not follow the
        routed path (reconcile, the header space). A row with no subnet is outside."""
        known = subnet >= 0
        cidr = self._cidr[np.maximum(subnet, 0)]  # [rows, slots, 5]
        f, sh, sl, eh, el = (cidr[:, :, j] for j in range(5))
        inside = (f == family[:, None].astype(np.uint64)) & within(hi[:, None], lo[:, None], sh, sl, eh, el)
        return np.asarray(~(known & inside.any(axis=1)))

    def crossing(
        self,
        interface: Interface | None,
        subnet_id: str | None,
        direction: Direction | str,
        *,
        response: bool,
        family: int,
        peer: int,
        protocol: int,
        ports: Sequence[int],
        code: int = 0,
        crosses_nacl: bool,
        groups_kept: bool = True,
    ) -> Crossings:
        """Rows for one packet at one interface (or only a subnet boundary), one per port in `ports`."""
        n = len(ports)
        hi, lo = split(peer)
        position = self.position.get(interface.id, -1) if interface is not None else -1
        subnet = self.subnet_position.get(subnet_id or "", -1)
        return Crossings(
            interface=np.full(n, position, dtype=np.int32),
            subnet=np.full(n, subnet, dtype=np.int32),
            egress=np.full(n, direction == Direction.EGRESS, dtype=bool),
            response=np.full(n, response, dtype=bool),
            family=np.full(n, family, dtype=np.int8),
            peer_hi=np.full(n, hi, dtype=np.uint64),
            peer_lo=np.full(n, lo, dtype=np.uint64),
            protocol=np.full(n, protocol, dtype=np.int16),
            port=np.array(ports, dtype=np.int32),
            code=np.full(n, code, dtype=np.int16),
            crosses_nacl=np.full(n, crosses_nacl, dtype=bool),
            groups_kept=np.full(n, groups_kept, dtype=bool),
        )

    def port_cuts(self, rows: Crossings, lo: int, hi: int) -> list[tuple[int, int]]:
        """[lo, hi] cut at every port boundary of the tables that decide these rows: within a piece every
        port meets the same first match everywhere, so one port per piece decides the whole piece."""
        return port_cuts(self._tables_for(rows), lo, hi)

    # --- the decision ----------------------------------------------------------------------------

    def unfiltered(self, rows: Crossings) -> np.ndarray:
        """Rows whose peer is something the host answers (a link-local service, the interface's VPC DNS, its
        subnet's router) — a request going to it, or its answer coming back: neither security groups nor
        network ACLs filter them. (Such a service never opens a connection: a request from its address, or a
        response to it, is filtered like any other.)"""
        found = np.zeros(len(rows), dtype=bool)
        if len(rows) < _MEMO_FROM:
            if not any(lo in self._service_lo for lo in rows.peer_lo.tolist()):
                return found
        elif not np.isin(rows.peer_lo, self._service_lo_array).any():
            return found
        family = rows.family.astype(np.uint64)
        for f, hi, lo in self._link_local:
            found |= (family == f) & (rows.peer_hi == hi) & (rows.peer_lo == lo)
        dns = self._dns[np.where(rows.interface >= 0, rows.interface, len(self._dns) - 1)]
        found |= (dns[:, 0] == family) & (rows.peer_hi == dns[:, 1]) & (rows.peer_lo == dns[:, 2])
        known = rows.subnet >= 0
        cidr = self._cidr[np.maximum(rows.subnet, 0)]  # [rows, slots, 5]: family, start hi, start lo, end hi, end lo
        router = (cidr[:, :, 0] == family[:, None]) & (cidr[:, :, 1] == rows.peer_hi[:, None])
        router &= cidr[:, :, 2] + np.uint64(1) == rows.peer_lo[:, None]  # an unused slot's family is 0
        found |= known & router.any(axis=1)
        return found & (rows.egress != rows.response)

    def decide(self, rows: Crossings) -> Decided:
        n = len(rows)
        unfiltered = self.unfiltered(rows) if n else np.zeros(0, dtype=bool)
        sg, sg_allow, sg_reason, unresolved, discarded = self._security_groups(rows, unfiltered)
        nacl = np.full(n, -1, dtype=np.int32)
        nacl_allow = np.ones(n, dtype=bool)
        acl = np.where(rows.subnet >= 0, self._acl[np.maximum(rows.subnet, 0)], -1) if n else np.zeros(0, np.int64)
        crossing = np.flatnonzero(rows.crosses_nacl & (acl >= 0) & ~unfiltered)
        for part in _segments(acl[crossing] * 2 + rows.egress[crossing]) if len(crossing) else []:
            at = crossing[part]
            acl_id = self._acl_ids[int(acl[at[0]])]
            direction = Direction.EGRESS if rows.egress[at[0]] else Direction.INGRESS
            table = self._table(Kind.NETWORK_ACL, acl_id, direction)
            index = table.first(rows.take(at))
            matched = index >= 0
            nacl[at] = table.ref_ids(index)
            nacl_allow[at] = matched & table.table.allow[np.maximum(index, 0)] if len(table.table) else False
            if not matched.all():
                side = "inbound" if direction == Direction.INGRESS else "outbound"
                nacl[at[~matched]] = self.registry.add(
                    RuleRef(Kind.NETWORK_ACL, acl_id, direction, None,
                            f"no {side} entry of network ACL {acl_id} matches (implicit deny)", implicit=True)
                )
        return Decided(sg_allow, nacl_allow, sg, nacl, sg_reason, unresolved, discarded, rows.egress.copy(), unfiltered)

    def _security_groups(
        self, rows: Crossings, unfiltered: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        n = len(rows)
        sg = np.full(n, -1, dtype=np.int32)
        allow = np.ones(n, dtype=bool)
        reason = np.full(n, _ACCEPTED, dtype=np.int8)
        unresolved = np.full(n, -1, dtype=np.int32)
        discarded = np.full(n, -1, dtype=np.int32)
        evaluated = (rows.interface >= 0) & ~rows.response & ~unfiltered
        evaluated[evaluated] &= self._filtered[rows.interface[evaluated]]
        todo = np.flatnonzero(evaluated)
        if not len(todo):
            return sg, allow, reason, unresolved, discarded
        kept = rows.groups_kept | rows.egress  # membership matters for what comes in
        sg[todo] = self._first_group_line(rows, todo, np.where(kept[todo], _FULL, _KEPT).astype(np.int8))
        denied = todo[sg[todo] < 0]
        if not len(denied):
            return sg, allow, reason, unresolved, discarded
        allow[denied] = False
        reason[denied] = _SG
        lost = denied[~kept[denied]]
        if len(lost):
            would = self._first_group_line(rows, lost, np.full(len(lost), _FULL, dtype=np.int8))
            discarded[lost] = would
            reason[lost[would >= 0]] = _DISCARDED
        still = denied[discarded[denied] < 0]
        if len(still) and self.network.unresolved:
            would = self._first_group_line(rows, still, np.full(len(still), _UNRESOLVED, dtype=np.int8))
            unresolved[still] = would
            missing_group = np.array(
                [w >= 0 and self.network.unresolved.get(self.registry.rules[w], "").startswith("sg-")
                 for w in would.tolist()], dtype=bool)
            reason[still[missing_group]] = _UNKNOWN_SG
        side = rows.interface[denied].astype(np.int64) * 2 + rows.egress[denied]
        for code in np.unique(side[self._implicit_sg[side] < 0]).tolist():
            self._implicit_sg[code] = self._implicit_ref(code // 2, Direction.EGRESS if code % 2 else Direction.INGRESS)
        sg[denied] = self._implicit_sg[side]
        return sg, allow, reason, unresolved, discarded

    def _first_group_line(self, rows: Crossings, todo: np.ndarray, variant: np.ndarray) -> np.ndarray:
        """For each row of `todo`: the registry id of the first matching line of its interface's groups, in
        group order (-1: none), on the table variant (`_FULL`, `_KEPT`, `_UNRESOLVED`) given per row."""
        if len(todo) < _MEMO_FROM and bool((variant == _FULL).all()):
            return self._first_line_of_all_groups(rows, todo)
        count = self._set_len[rows.interface[todo]]
        entry_row = np.repeat(todo, count)  # one entry per (row, group of its interface), in group order
        offset = np.arange(len(entry_row)) - np.repeat(np.cumsum(count) - count, count)
        group = self._set_flat[self._set_start[rows.interface[entry_row]] + offset]
        entry_variant = np.repeat(variant, count).astype(np.int64)
        entry_ref = np.full(len(entry_row), -1, dtype=np.int32)
        for part in _segments((group * 2 + rows.egress[entry_row]) * 4 + entry_variant) if len(entry_row) else []:
            at = entry_row[part]
            direction = Direction.EGRESS if rows.egress[at[0]] else Direction.INGRESS
            table = self._table(Kind.SECURITY_GROUP, self._group_ids[int(group[part[0]])], direction,
                                _VARIANTS[int(entry_variant[part[0]])])
            entry_ref[part] = table.ref_ids(table.first(rows.take(at)))
        result = np.full(len(todo), -1, dtype=np.int32)
        matched = np.flatnonzero(entry_ref >= 0)
        deciding, first = np.unique(entry_row[matched], return_index=True)  # entries are in group order
        result[np.searchsorted(todo, deciding)] = entry_ref[matched[first]]
        return result

    def _first_line_of_all_groups(self, rows: Crossings, todo: np.ndarray) -> np.ndarray:
        """`_first_group_line` on the full tables for a few rows (explain's walks): an interface's groups as one
        table, their lines in group order, so that the first match is the first of the first group that has
        one, in one kernel call per interface and direction rather than one per group."""
        result = np.full(len(todo), -1, dtype=np.int32)
        for part in _segments(rows.interface[todo].astype(np.int64) * 2 + rows.egress[todo]):
            at = todo[part]
            position = int(rows.interface[at[0]])
            direction = Direction.EGRESS if rows.egress[at[0]] else Direction.INGRESS
            key = (Kind.SECURITY_GROUP, position, direction)
            table = self._merged.get(key)
            if table is None:
                start, length = int(self._set_start[position]), int(self._set_len[position])
                groups = tuple(self._group_ids[g] for g in self._set_flat[start:start + length].tolist())
                table = self._merged[key] = _Table(self.network.sg_table(groups, direction), self.registry)
            result[part] = table.ref_ids(table.first(rows.take(at)))
        return result

    # --- tables and names -----------------------------------------------------------------------

    def _table(self, kind: Kind, owner: str, direction: Direction, variant: str = "full") -> _Table:
        key = (kind, owner, direction, variant)
        found = self._tables.get(key)
        if found is None:
            if kind == Kind.NETWORK_ACL:
                table = getattr(self.network.nacls[owner], direction)
            else:
                table = self._sg_variant(getattr(self.network.security_groups[owner], direction), variant)
            found = self._tables[key] = _Table(table, self.registry)
        return found

    def _sg_variant(self, table: RuleTable, variant: str) -> RuleTable:
        """'full': as compiled. 'kept': lines that match by group membership match nothing (membership was
        discarded). 'unresolved': only the lines naming what the snapshot lacks, matching any address."""
        if variant == "kept":
            references = self.network.group_references
            family = np.where([line.ref in references for line in table.lines], 0, table.family).astype(np.int8)
            return dataclasses.replace(table, family=family)
        if variant == "unresolved":
            lines = [line for line in table.lines if line.ref in self.network.unresolved]
            return RuleTable.build([_any_peer(line, family) for line in lines for family in (IPV4, IPV6)])
        return table

    def _tables_for(self, rows: Crossings) -> list[RuleTable]:
        """The tables that may decide these rows (for cutting port ranges)."""
        tables: list[RuleTable] = []
        for row in range(min(len(rows), 1)):
            direction = Direction.EGRESS if rows.egress[row] else Direction.INGRESS
            subnet = int(rows.subnet[row])
            if rows.crosses_nacl[row] and subnet >= 0 and self._acl[subnet] >= 0:
                tables.append(getattr(self.network.nacls[self._acl_ids[int(self._acl[subnet])]], direction))
            interface = int(rows.interface[row])
            if interface >= 0 and not rows.response[row]:
                groups = self.network.interfaces[self.ids[interface]].groups
                tables.append(self.network.sg_table(groups, direction))
        return tables

    def _implicit_ref(self, interface: int, direction: Direction) -> int:
        """The implicit deny of an interface's security groups: named by the group when there is one, else
        by the interface, with every group (CONTRACT §2)."""
        interface_id = self.ids[interface]
        groups = self.network.interfaces[interface_id].groups
        label = groups[0] if len(groups) == 1 else interface_id
        names = ", ".join(self.network.group_label(g) for g in groups) or "no security group"
        side = "inbound" if direction == Direction.INGRESS else "outbound"
        where = "" if len(groups) == 1 else f" on {interface_id}"
        return self.registry.add(
            RuleRef(Kind.SECURITY_GROUP, label, direction, None,
                    f"no {side} rule of {names}{where} matches (implicit deny)", groups=tuple(groups), implicit=True)
        )


def is_filtered(interface: Interface) -> bool:
    """Do security groups filter this interface? Not one AWS manages without groups (NAT gateway's...)."""
    return bool(interface.groups) or not interface.requester_managed


def decision_of(network: Network) -> InterfaceDecision:
    """The network's decision, built on first use and kept with it."""
    found: InterfaceDecision | None = network.__dict__.get("_decision")
    if found is None:
        found = network.__dict__["_decision"] = InterfaceDecision(network)
    return found


def _any_peer(line: RuleLine, family: int) -> RuleLine:
    return dataclasses.replace(line, peer=any_peer(family))


def _segments(codes: np.ndarray) -> list[np.ndarray]:
    """Row indices grouped by code, one array per distinct code (each in row order)."""
    if len(codes) == 1:  # explain's batches of one: no sort to pay for
        return [np.zeros(1, dtype=np.intp)]
    order = np.argsort(codes, kind="stable")
    cuts = np.flatnonzero(np.diff(codes[order])) + 1
    return np.split(order, cuts)



# --- connection tracking -----------------------------------------------------------------------------


class Tracking(StrEnum):
    """How a security group treats a connection (aws-semantics E.2)."""

    TRACKED = "tracked"  # the response passes whatever the rules say; a rule change spares the connection
    UNTRACKED = "untracked"  # the response passes by a rule; removing either rule cuts the flow at once
    AUTOMATIC = "automatic"  # tracked whatever the rules, because of what the path crossed (NAT, TGW, ...)


@dataclass(frozen=True)
class TrackedBy:
    tracking: Tracking
    request_rule: RuleRef | None = None  # UNTRACKED: the rule open to 0.0.0.0/0 (or ::/0) that admits the request
    response_rule: RuleRef | None = None  # UNTRACKED: the rule open to all addresses and ports that admits the response


def connection_tracking(
    network: Network, interface: Interface, request_direction: Direction, family: int, protocol: int, port: int,
    *, automatic: bool = False,
) -> TrackedBy:
    """Is a connection whose request crosses `interface` in `request_direction` tracked? AWS: "If a security
    group rule permits TCP or UDP flows for all traffic (0.0.0.0/0 or ::/0) and there is a corresponding rule
    in the other direction that permits all response traffic (0.0.0.0/0 or ::/0) for all ports (0-65535),
    then that flow of traffic is not tracked, unless it is part of an automatically tracked connection."
    ICMP is always tracked. This never changes a new connection's verdict (the untracked response is allowed
    by that very rule); it decides what survives a rule change."""
    if automatic:
        return TrackedBy(Tracking.AUTOMATIC)
    if protocol not in (6, 17) or not is_filtered(interface):
        return TrackedBy(Tracking.TRACKED)
    groups = tuple(interface.groups)
    there = network.sg_table(groups, request_direction).lines
    back = network.sg_table(groups, request_direction.opposite).lines
    request = next((line for line in there if _everyone(line, family) and line.protocol in (-1, protocol)
                    and line.port_lo <= port <= line.port_hi), None)
    response = next((line for line in back if _everyone(line, family) and line.protocol in (-1, protocol)
                     and (line.port_lo, line.port_hi) == (0, 65535)), None)
    if request is None or response is None:
        return TrackedBy(Tracking.TRACKED)
    return TrackedBy(Tracking.UNTRACKED, request.ref, response.ref)


def _everyone(line: RuleLine, family: int) -> bool:
    """A line open to every address of the family: 0.0.0.0/0 or ::/0."""
    return line.allow and line.peer is not None and line.peer.family == family and line.peer.prefixlen == 0


def change_reading(kind: str) -> str:
    """What E.2 says of traffic a rule no longer allows but the logs still ACCEPT: a security group spares the
    connections it tracks until they time out; a network ACL change cuts every connection at once."""
    if kind == Kind.SECURITY_GROUP:
        return (" A security group keeps allowing a tracked connection after the rule that allowed it is removed, "
                "until the connection times out: these can be connections opened before the change (an untracked "
                "flow, allowed to and from 0.0.0.0/0 on every port, would have been cut at once).")
    if kind == Kind.NETWORK_ACL:
        return " A network ACL change cuts existing connections at once: these are not connections that outlived one."
    return ""
