"""With no flows to replay: the header space whose verdict a change flips, computed exactly.

For each interface in the change's scope and each direction, the interface's own filters decide: on the
way in its subnet's network ACL then its security groups, on the way out its security groups then the
ACL. Only the rule lines that differ between before and after can flip a verdict, so only the boxes they
cover (peer range x protocol x port or ICMP type range x ICMP code range) are examined. Each box is cut
into elementary cells by every boundary of every line that could decide inside it; within a cell every
packet meets the same first match, so one probe per cell decides the whole cell. Nothing is sampled.
Flipped cells are merged back into ranges and reported as CIDRs.

Route changes are handled per subnet: the destination space is cut by every route prefix of the old and
new tables, and each piece whose route changes is explained end to end (a TCP 443 probe from an interface
of the subnet) before and after.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import groupby

import numpy as np

from reach.engine.explain import Analyzer
from reach.engine.explanation import Blocker, Explanation, Flow
from reach.engine.packet import EPHEMERAL, Packet
from reach.engine.resolve import Endpoint
from reach.model.addr import IPV4, Cidr, format_address, split
from reach.model.decision import REASONS, Crossings, decision_of, is_filtered
from reach.model.match import Probe
from reach.model.network import Interface, Network, Route, Subnet
from reach.model.rules import RuleLine, RuleTable, describe_match, protocol_name
from reach.model.services import service_addresses
from reach.model.space import NAMED as _NAMED
from reach.model.space import PORTS as _PORTS
from reach.model.space import TYPES as _TYPES
from reach.model.space import cut_range as _cuts
from reach.model.space import domain as _domain
from reach.model.space import unnamed_protocol
from reach.model.vocabulary import Direction, Kind
from reach.whatif.diff import Scope
from reach.whatif.results import ChangedFlow

_ROUTE_PROBE = (6, 443)  # route changes are explained for TCP 443, the commonest way out


@dataclass(frozen=True)
class FilterStack:
    """An interface's filters in one direction: its subnet's ACL table and its security groups' table
    (None: not filtered, as for an interface without groups that AWS manages). The tables say where the
    header space must be cut; the interface decision of `network` says what happens in each cell."""

    network: Network
    interface: Interface
    direction: str
    nacl_id: str | None
    nacl: RuleTable | None
    sg: RuleTable | None
    local: tuple[Cidr, ...] = ()  # the interface's subnet: traffic within it never crosses the ACL
    group_labels: tuple[str, ...] = ()  # "sg-… (name)", for explanations

    def lines(self) -> set[RuleLine]:
        return set(self.nacl.lines if self.nacl else ()) | set(self.sg.lines if self.sg else ())


def filter_stack(network: Network, interface: Interface, direction: str) -> FilterStack:
    subnet = network.subnets.get(interface.subnet_id)
    acl = network.nacl_of(subnet) if subnet else None
    sg = network.sg_table(interface.groups, direction) if is_filtered(interface) else None
    table = getattr(acl, direction) if acl else None
    labels = tuple(network.group_label(g) for g in interface.groups)
    return FilterStack(
        network, interface, direction, acl.id if acl else None, table, sg, subnet.cidrs if subnet else (), labels
    )


@dataclass(frozen=True)
class _Cell:
    """A flipped piece of header space, as index ranges into the elementary intervals (merged later)."""

    family: int
    protocol: int
    addresses: tuple[int, int]
    ports: tuple[int, int]
    codes: tuple[int, int]
    before: bool
    after: bool
    blocker: tuple[int, int]  # on the REJECT side: the decision's blocker (registry id) and reason (REASONS index)


def filter_flips(before: Network, after: Network, scope: Scope) -> list[ChangedFlow]:
    """Every region of header space whose verdict at an affected interface's filters flips."""
    flows: list[ChangedFlow] = []
    for interface_id in sorted(scope.interfaces):
        old, new = before.interfaces.get(interface_id), after.interfaces.get(interface_id)
        if old is None or new is None:
            continue
        for direction in ("ingress", "egress"):
            was, now = filter_stack(before, old, direction), filter_stack(after, new, direction)
            changed = was.lines() ^ now.lines()
            boxes = [line for line in changed if line.peer is not None]
            if boxes:
                cells, examined = _flipped_cells(was, now, boxes)
                flows += _describe(was, now, cells, examined)
    return flows


# --- cells ------------------------------------------------------------------------------------------


def _protocols(boxes: Sequence[RuleLine], lines: Iterable[RuleLine]) -> list[int]:
    """The protocols to examine: each named one, and for an all-protocols box one protocol no line names."""
    wanted = {b.protocol for b in boxes if b.protocol != -1}
    if any(b.protocol == -1 for b in boxes):
        named = {line.protocol for line in lines if line.protocol != -1} | set(_NAMED)
        wanted |= named | {unnamed_protocol(named)}
    return sorted(wanted)


def _flipped_cells(was: FilterStack, now: FilterStack, boxes: Sequence[RuleLine]) -> tuple[list[_Cell], set[int]]:
    """The flipped cells inside the changed boxes, and the protocols examined."""
    lines = was.lines() | now.lines()
    cells: list[_Cell] = []
    examined = _protocols(boxes, lines)
    for protocol in examined:
        ports_domain, codes_domain = _domain(protocol)
        for family in sorted({b.peer.family for b in boxes if b.peer}):
            mine = [b for b in boxes if b.peer and b.peer.family == family and b.protocol in (-1, protocol)]
            if not mine:
                continue
            deciding = [x for x in lines if x.peer and x.peer.family == family and x.protocol in (-1, protocol)]
            cells += _evaluate(was, now, protocol, family, mine, deciding, ports_domain, codes_domain)
    return cells, set(examined)


def _evaluate(
    was: FilterStack,
    now: FilterStack,
    protocol: int,
    family: int,
    boxes: Sequence[RuleLine],
    deciding: Sequence[RuleLine],
    ports_domain: tuple[int, int],
    codes_domain: tuple[int, int],
) -> list[_Cell]:
    hull = (min(b.peer.start for b in boxes if b.peer), max(b.peer.end for b in boxes if b.peer))
    local = [(c.start, c.end) for c in was.local + now.local if c.family == family]
    # the host-served addresses (Amazon DNS, metadata...) are decided apart: each its own cell
    local += [(c.start, c.end) for stack in (was, now) for c in service_addresses(stack.network) if c.family == family]
    addresses = _cuts(*hull, [(x.peer.start, x.peer.end) for x in deciding if x.peer] + local)
    ports = _cuts(*ports_domain, [(x.port_lo, x.port_hi) for x in deciding]) if ports_domain != (0, 0) else [(0, 0)]
    codes = _cuts(*codes_domain, [(x.code_lo, x.code_hi) for x in deciding]) if codes_domain != (0, 0) else [(0, 0)]
    a_index, p_index, c_index = (
        g.ravel()
        for g in np.meshgrid(np.arange(len(addresses)), np.arange(len(ports)), np.arange(len(codes)), indexing="ij")
    )
    starts = [a for a, _ in addresses]
    inside = np.zeros(len(a_index), dtype=bool)
    for box in boxes:
        assert box.peer is not None
        in_a = np.array([box.peer.start <= a <= box.peer.end for a in starts])
        in_p = (
            np.array([box.port_lo <= p <= box.port_hi for p, _ in ports])
            if ports_domain != (0, 0)
            else np.ones(1, dtype=bool)
        )
        in_c = (
            np.array([box.code_lo <= c <= box.code_hi for c, _ in codes])
            if codes_domain != (0, 0)
            else np.ones(1, dtype=bool)
        )
        inside |= in_a[a_index] & in_p[p_index] & in_c[c_index]
    rows = np.flatnonzero(inside)
    if not len(rows):
        return []
    halves = [split(a) for a in starts]
    probe = Probe(
        family=np.full(len(rows), family, dtype=np.int8),
        peer_hi=np.array([halves[i][0] for i in a_index[rows]], dtype=np.uint64),
        peer_lo=np.array([halves[i][1] for i in a_index[rows]], dtype=np.uint64),
        protocol=np.full(len(rows), protocol, dtype=np.int16),
        port=np.array([ports[i][0] for i in p_index[rows]], dtype=np.int32),
        code=np.array([codes[i][0] for i in c_index[rows]], dtype=np.int16),
    )
    ok_before, why_before = _verdicts(was, probe)
    ok_after, why_after = _verdicts(now, probe)
    cells = []
    for k in np.flatnonzero(ok_before != ok_after):
        blocker = why_after[k] if not ok_after[k] else why_before[k]
        cells.append(
            _Cell(
                family,
                protocol,
                addresses[a_index[rows[k]]],
                ports[p_index[rows[k]]],
                codes[c_index[rows[k]]],
                bool(ok_before[k]),
                bool(ok_after[k]),
                blocker,
            )
        )
    return cells


def _verdicts(stack: FilterStack, probe: Probe) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Allowed or not per probe (through the interface decision), and for each the blocker and its reason."""
    decision = decision_of(stack.network)
    n = len(probe)
    subnet = np.full(n, decision.subnet_position.get(stack.interface.subnet_id, -1), dtype=np.int32)
    rows = Crossings(
        interface=np.full(n, decision.position[stack.interface.id], dtype=np.int32),
        subnet=subnet,
        egress=np.full(n, stack.direction == Direction.EGRESS, dtype=bool),
        response=np.zeros(n, dtype=bool),
        family=probe.family,
        peer_hi=probe.peer_hi,
        peer_lo=probe.peer_lo,
        protocol=probe.protocol,
        port=probe.port,
        code=probe.code,
        crosses_nacl=decision.outside_subnet(subnet, probe.family, probe.peer_hi, probe.peer_lo),
        groups_kept=np.ones(n, dtype=bool),
    )
    decided = decision.decide(rows)
    return decided.allow, list(zip(decided.blocker.tolist(), decided.reason.tolist(), strict=True))


# --- merging and describing -------------------------------------------------------------------------------


def _merge(cells: list[_Cell], field: str) -> list[_Cell]:
    """Join cells that differ only in one dimension and touch along it."""

    def key(cell: _Cell) -> tuple[object, ...]:
        return tuple(getattr(cell, f) for f in _Cell.__dataclass_fields__ if f != field)

    merged: list[_Cell] = []
    for _, group in groupby(sorted(cells, key=lambda c: (repr(key(c)), getattr(c, field))), key=lambda c: repr(key(c))):
        run: _Cell | None = None
        for cell in group:
            span = getattr(cell, field)
            if run is not None and getattr(run, field)[1] + 1 == span[0]:
                run = _replace(run, field, (getattr(run, field)[0], span[1]))
                continue
            if run is not None:
                merged.append(run)
            run = cell
        if run is not None:
            merged.append(run)
    return merged


def _replace(cell: _Cell, field: str, value: tuple[int, int]) -> _Cell:
    values = {f: getattr(cell, f) for f in _Cell.__dataclass_fields__}
    values[field] = value
    return _Cell(**values)


def _all_protocols(cells: list[_Cell], examined: set[int]) -> list[_Cell]:
    """Where every examined protocol (one of them standing for all the protocols no rule names) flips the
    same way over its whole port and code domain: one cell for all traffic (-1)."""
    if len(examined) <= len(_NAMED):
        return cells
    out: list[_Cell] = []
    groups: dict[tuple[int, tuple[int, int], bool, bool, tuple[int, int]], list[_Cell]] = {}
    for cell in cells:
        groups.setdefault((cell.family, cell.addresses, cell.before, cell.after, cell.blocker), []).append(cell)
    for (family, addresses, before, after, blocker), group in groups.items():
        full = {c.protocol for c in group if (c.ports, c.codes) == _domain(c.protocol)}
        if full == examined and len(group) == len(examined):
            out.append(_Cell(family, -1, addresses, _PORTS, _TYPES, before, after, blocker))
        else:
            out += group
    return out


def _describe(was: FilterStack, now: FilterStack, cells: list[_Cell], examined: set[int]) -> list[ChangedFlow]:
    if not cells:
        return []
    for field in ("addresses", "ports", "codes", "addresses"):
        cells = _merge(cells, field)
    cells = _all_protocols(cells, examined)
    interface = now.interface
    groups: dict[tuple[object, ...], list[_Cell]] = {}
    for cell in sorted(cells, key=lambda c: (c.family, c.protocol, c.ports, c.codes, c.addresses)):
        key = (cell.family, cell.protocol, cell.ports, cell.codes, cell.before, cell.after, cell.blocker)
        groups.setdefault(key, []).append(cell)
    flows = []
    for group in groups.values():
        cell = group[0]
        own = next((format_address(f, v) for f, v in interface.private_ips if f == cell.family), interface.id)
        peer_text, ranges = _ranges_text(cell.family, [c.addresses for c in group])
        domain_ports, domain_codes = _domain(cell.protocol) if cell.protocol != -1 else ((0, 0), (0, 0))
        single_port = cell.ports[0] == cell.ports[1] and domain_ports != (0, 0)
        flow = Flow(
            src=peer_text if was.direction == "ingress" else own,
            dst=own if was.direction == "ingress" else peer_text,
            protocol=protocol_name(cell.protocol),
            dst_port=cell.ports[0] if single_port else None,
            icmp_code=cell.codes[0] if cell.protocol in (1, 58) and cell.codes[0] == cell.codes[1] else None,
        )
        reject_side = now if not cell.after else was
        blocker = _blocker(reject_side, cell, peer_text)
        ports_text = None if cell.ports == domain_ports or domain_ports == (0, 0) else _span(cell.ports)
        flows.append(
            ChangedFlow(
                source="header-space",
                flow=flow,
                before=_verdict(cell.before),
                after=_verdict(cell.after),
                before_reason="ACCEPTED" if cell.before else blocker.reason,
                after_reason="ACCEPTED" if cell.after else blocker.reason,
                blocked_by=blocker if not cell.after else None,
                unblocked=blocker if cell.after else None,
                interface=interface.id,
                direction=was.direction,
                src_ranges=ranges if was.direction == "ingress" else None,
                dst_ranges=ranges if was.direction == "egress" else None,
                dst_ports=ports_text,
                note=_public_note(interface, was.direction, cell.family),
            )
        )
    return flows


def _public_note(interface: Interface, direction: str, family: int) -> str | None:
    """Flow logs and rules see the private address; from the internet the interface is reached at its public one."""
    if direction != "ingress" or family != IPV4 or not interface.public_ips:
        return None
    return f"from the internet, {interface.label} is reached at {format_address(IPV4, interface.public_ips[0][0])}"


def _verdict(ok: bool) -> str:
    return "ACCEPT" if ok else "REJECT"


def _span(span: tuple[int, int]) -> str:
    return str(span[0]) if span[0] == span[1] else f"{span[0]}-{span[1]}"


def _cidrs(family: int, start: int, end: int) -> list[str]:
    make = ipaddress.IPv4Address if family == IPV4 else ipaddress.IPv6Address
    return [str(n) for n in ipaddress.summarize_address_range(make(start), make(end))]


def _blocker(stack: FilterStack, cell: _Cell, peer_text: str) -> Blocker:
    ref_id, reason = cell.blocker
    ref = decision_of(stack.network).registry.rules[ref_id]
    if ref.kind == Kind.NETWORK_ACL:
        return Blocker.of(ref, REASONS[reason])
    interface = stack.interface
    groups = list(interface.groups)
    side, to_from = ("inbound", "from") if stack.direction == "ingress" else ("outbound", "to")
    what = describe_match(cell.protocol, cell.ports, cell.codes)
    return Blocker(
        kind="security-group",
        id=groups[0] if len(groups) == 1 else interface.id,
        direction=stack.direction,
        rule=None,
        groups=groups,
        detail=f"no rule of {', '.join(stack.group_labels) or 'no security group'} on {interface.label} allows "
        f"{side} {what} {to_from} {peer_text}",
        reason=REASONS[reason],
    )


# --- routes ------------------------------------------------------------------------------------------------


_NOT_INTERNET = [
    Cidr.parse(c)
    for c in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "224.0.0.0/3",
    )
]


def _representative(family: int, start: int, end: int) -> int:
    """An address of [start, end] to probe with: a public one where the range holds one."""
    if family != IPV4:
        return start
    value = start
    moved = True
    while moved and value <= end:
        moved = False
        for reserved in _NOT_INTERNET:
            if reserved.start <= value <= reserved.end:
                value, moved = reserved.end + 1, True
    return value if value <= end else start


def route_flips(before: Analyzer, after: Analyzer, scope: Scope) -> list[ChangedFlow]:
    """For each subnet whose route table or routes changed: the destination ranges whose verdict flips."""
    flows: list[ChangedFlow] = []
    for subnet_id in sorted(scope.subnets):
        old, new = before.network.subnets.get(subnet_id), after.network.subnets.get(subnet_id)
        if old is None or new is None:
            continue
        old_table, new_table = before.network.route_table_of(old), after.network.route_table_of(new)
        if old.route_table == new.route_table and old.route_table not in scope.route_tables:
            continue
        probe_from = _probe_interface(after.network, new)
        if probe_from is None or probe_from.primary_ip is None:
            continue
        family = probe_from.primary_ip[0]
        routes = [r for t in (old_table, new_table) if t for r in t.routes if r.cidr.family == family]
        if not routes:
            continue
        space = (0, 2**32 - 1) if family == IPV4 else (0, 2**128 - 1)
        pieces: dict[tuple[object, ...], list[tuple[int, int, Explanation, Explanation, int]]] = {}
        for lo, hi in _cuts(*space, [(r.cidr.start, r.cidr.end) for r in routes]):
            if any(c.start <= lo and hi <= c.end for c in new.cidrs):
                continue  # delivered inside the subnet whatever the routes say
            was = old_table.lookup(family, lo) if old_table else None
            now = new_table.lookup(family, lo) if new_table else None
            if _route_key(was) == _route_key(now):
                continue
            target = _representative(family, lo, hi)
            explained = _explain_pair(before, after, probe_from, family, target)
            if explained[0].verdict != explained[1].verdict:
                key = (
                    explained[0].verdict,
                    explained[1].verdict,
                    _blocker_key(explained[1].blocked_by),
                    _blocker_key(explained[0].blocked_by),
                )
                pieces.setdefault(key, []).append((lo, hi, *explained, target))
        flows += [_route_flow(probe_from, family, group, new) for group in pieces.values()]
    return flows


def _blocker_key(blocker: Blocker | None) -> tuple[object, ...] | None:
    return None if blocker is None else (blocker.kind, blocker.id, blocker.direction, blocker.rule, blocker.reason)


def _route_key(route: Route | None) -> tuple[str, str, str] | None:
    return None if route is None else (route.target_kind, route.target_id, route.state)


def _probe_interface(network: Network, subnet: Subnet) -> Interface | None:
    found = sorted(
        (i for i in network.interfaces.values() if i.subnet_id == subnet.id and i.primary_ip),
        key=lambda i: (i.requester_managed, i.kind != "interface", i.id),
    )
    return found[0] if found else None


def _explain_pair(
    before: Analyzer, after: Analyzer, interface: Interface, family: int, target: int
) -> tuple[Explanation, Explanation]:
    assert interface.primary_ip is not None
    protocol, port = _ROUTE_PROBE
    packet = Packet(family, interface.primary_ip[1], target, protocol, EPHEMERAL, (port, port))
    was, now = (
        analyzer.explain_packet(Endpoint(interface.id, analyzer.network.interfaces[interface.id], None), packet)
        for analyzer in (before, after)
    )
    return was, now


def _ranges_text(family: int, pieces: Sequence[tuple[int, int]]) -> tuple[str, list[str]]:
    """The CIDRs of ordered address pieces, and how to say them: listed, or as the one CIDR that spans them
    except the few that are left out ("0.0.0.0/0 except 10.0.0.0/16")."""
    ranges = [c for lo, hi in pieces for c in _cidrs(family, lo, hi)]
    span = _cidrs(family, pieces[0][0], pieces[-1][1])
    gaps = [(a[1] + 1, b[0] - 1) for a, b in zip(pieces, pieces[1:], strict=False) if a[1] + 1 < b[0]]
    left_out = [c for lo, hi in gaps for c in _cidrs(family, lo, hi)]
    if len(ranges) == 1:
        return ranges[0], ranges
    if len(span) == 1 and left_out and len(left_out) <= 4 and len(left_out) < len(ranges):
        return f"{span[0]} except {', '.join(left_out)}", ranges
    text = ", ".join(ranges) if len(ranges) <= 4 else f"{ranges[0]} … {ranges[-1]} ({len(ranges)} CIDRs)"
    return text, ranges


def _route_flow(
    interface: Interface,
    family: int,
    group: list[tuple[int, int, Explanation, Explanation, int]],
    subnet: Subnet,
) -> ChangedFlow:
    """One group of destination ranges whose verdict flips the same way for the same reason."""
    text, ranges = _ranges_text(family, [(lo, hi) for lo, hi, *_ in group])
    _, _, was, now, target = group[0]
    protocol, port = _ROUTE_PROBE
    flow = Flow(
        src=", ".join(str(c) for c in subnet.cidrs) or interface.id,
        dst=text,
        protocol=protocol_name(protocol),
        dst_port=port,
    )
    return ChangedFlow.between(
        "header-space",
        was,
        now,
        flow=flow,
        interface=interface.id,
        direction="egress",
        dst_ranges=ranges,
        note=f"route change in {subnet.id}: explained end to end for tcp {port} from {interface.label}, "
        f"e.g. to {format_address(family, target)}",
    )


def flip_notes(before: Network, after: Network, scope: Scope) -> list[str]:
    """What the header space does not enumerate, said instead of silently skipped."""
    notes = []
    for interface_id in sorted(scope.source_dest_check):
        interface = after.interfaces.get(interface_id)
        state = "off" if interface and not interface.source_dest_check else "on"
        notes.append(
            f"source/destination check of {interface_id} turned {state}: the traffic it forwards is not "
            "enumerated here; pass --flow-logs or --intents to see which flows that changes"
        )
    return notes
