"""`reach exposure`: what the internet can open on every interface, exactly (CONTRACT §8).

A connection from the internet completes when every one of these holds, and each is decided on the
header space, never by sampling ports:

- a way in: a public IPv4 or Elastic IP, or an IPv6 address, on an interface of a VPC with an attached
  internet gateway (a NAT gateway's address takes no connection from outside); or an internet-facing load
  balancer's listener, at its node, forwarded to a target;
- the subnet's network ACL inbound and the interface's security groups (reach.model.decision);
- the response: the network ACL outbound for the client's port (1024-65535; the part that passes is said
  when it is not all), and the subnet's route for the client's range must lead back to the internet gateway
  (a route to a NAT gateway answers from another address; a blackhole or no route answers nothing).

The source/destination check never stops these: the packet is addressed to the interface's own address.

Sources are the internet: addresses outside every VPC of the snapshot, less those the internet gateway
drops (RFC 1918, RFC 6598). Beside the exact answer stands `sg_only`, the security-group rules open to the
internet as a tool reading security groups alone reports them, each part marked exposed or not.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from reach.engine.explain import Analyzer
from reach.engine.packet import EPHEMERAL, NAT_PORTS, Packet
from reach.engine.resolve import Endpoint
from reach.model.addr import IPV4, IPV6, format_address
from reach.model.decision import decision_of, is_filtered
from reach.model.network import Interface, Network, Route, RouteTable
from reach.model.protocols import PORTED, protocol_name
from reach.model.rules import RuleLine
from reach.model.space import cut_range
from reach.model.vocabulary import Direction, Kind, Verdict
from reach.sets.balancers import Forward, forwards, internet_facing, listeners_of
from reach.sets.grid import Batch, Grid, GridColumn, cut_columns, lines_of, nacl_at, tables_at
from reach.sets.results import Exposed, ExposureResult, ExposureSummary, InterfaceExposure, SgOnly
from reach.sets.space import (
    NOBODY,
    TOP,
    Atoms,
    CellSet,
    Entry,
    Sources,
    Span,
    cidr_texts,
    internet_space,
    merge_spans,
    network_bounds,
)

_FOLLOWED = {Kind.INTERNET_GATEWAY, Kind.EGRESS_ONLY_INTERNET_GATEWAY, Kind.NAT_GATEWAY}

ExposedKey = tuple[str, tuple[Span, ...] | None, str | None]  # via, client ports (None: all), listener


@dataclass
class _Plan:
    """One interface: its grids per family, its ways in, and what it opens."""

    interface: Interface
    igw: str | None
    ways: set[int]  # families with a way in through the internet gateway
    listeners: set[tuple[int, int]] | None  # a load balancer node answers only these (protocol, port)
    grids: dict[int, tuple[Grid, list[Sources]]] = field(default_factory=dict)
    exposed: dict[ExposedKey, CellSet] = field(default_factory=lambda: defaultdict(CellSet))
    sg_only: CellSet = field(default_factory=CellSet)
    examined: set[int] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)
    not_followed: bool = False

    def exact(self) -> CellSet:
        out = CellSet()
        for cells in self.exposed.values():
            out.update(cells)
        return out


def exposure(analyzer: Analyzer, only: set[str] | None = None) -> ExposureResult:
    """What the internet can open on every interface of the analyzer's network (`only`: on these, and on the
    load balancer nodes that forward to them)."""
    network = analyzer.network
    internet = Atoms(internet_space(network), network_bounds(network))
    igws = {vpc: g.id for g in network.gateways.values() if g.kind == Kind.INTERNET_GATEWAY for vpc in g.vpc_ids}
    nat_interfaces = {g.interface_id for g in network.gateways.values() if g.kind == Kind.NAT_GATEWAY}
    batch = Batch(decision_of(network))
    if only is not None:
        only = only | {n for b in internet_facing(network) for n in b.interfaces}
    plans = [
        _plan(network, i, igws, nat_interfaces)
        for _, i in sorted(network.interfaces.items())
        if only is None or i.id in only
    ]
    for plan in plans:
        for family in (IPV4, IPV6):
            _add_grid(network, plan, family, internet, batch)
    batch.run()
    for plan in plans:
        _read(network, plan)
    notes: list[str] = []
    _through_load_balancers(analyzer, {p.interface.id: p for p in plans}, internet, notes)
    return _result(plans, notes, internet)


def _plan(network: Network, interface: Interface, igws: dict[str, str], nat_interfaces: set[str | None]) -> _Plan:
    igw = igws.get(interface.vpc_id)
    ways: set[int] = set()
    notes: list[str] = []
    has_v6 = any(f == IPV6 for f, _ in interface.private_ips)
    if interface.id in nat_interfaces:
        notes.append("a NAT gateway's interface: it takes no connection from the internet")
    elif not interface.public_ips and not has_v6:
        notes.append("no public IPv4 address and no IPv6 address: nothing from the internet reaches it directly")
    elif igw is None:
        notes.append(f"{interface.vpc_id} has no internet gateway attached: nothing from the internet reaches it")
    else:
        ways = ({IPV4} if interface.public_ips else set()) | ({IPV6} if has_v6 else set())

    listeners: set[tuple[int, int]] | None = None
    balancer = network.balancing.of_interface(interface.id)
    if balancer is not None:
        listeners = {(p, x.port) for x, p in listeners_of(balancer) if x.port is not None}
        if balancer.state != "active":
            listeners = set()
            notes.append(f"{balancer.label} is {balancer.state}")
    return _Plan(interface, igw, ways, listeners, notes=notes)


def _add_grid(network: Network, plan: _Plan, family: int, internet: Atoms, batch: Batch) -> None:
    interface = plan.interface
    nacl_in, nacl_out = nacl_at(network, interface, Direction.INGRESS), nacl_at(network, interface, Direction.EGRESS)
    sg_lines = _group_lines(network, interface, family)
    open_lines = [
        x for x in sg_lines or () if x.allow and x.peer and internet.overlaps(family, x.peer.start, x.peer.end)
    ]
    if sg_lines is not None and not open_lines:
        return  # the security groups open nothing to the internet: nothing to examine, exactly
    if open_lines and plan.ways and family not in plan.ways:
        plan.notes.append("no public IPv4 address: what is open to IPv4 sources reaches nothing" if family == IPV4
                          else "no IPv6 address: what is open to IPv6 sources reaches nothing")
    if sg_lines is None and family not in plan.ways:
        return
    request, response = [*lines_of([nacl_in], family), *(sg_lines or ())], lines_of([nacl_out], family)
    table = _route_table(network, interface)
    routes = [r.cidr for r in table.routes if r.cidr.family == family] if table else []
    # A range holding no address of the internet cuts no piece of it that matters (VPC-internal rules).
    ranges = {(x.peer.start, x.peer.end) for x in (*request, *response) if x.peer} | {(c.start, c.end) for c in routes}
    bounds = [r for r in ranges if internet.overlaps(family, *r)]
    parts = [internet.within(family, lo, hi) for lo, hi in cut_range(0, TOP[family], bounds)]
    parts = [p for p in parts if p]
    ports = [(port, port) for _, port in plan.listeners or ()]
    columns = cut_columns(request, response, ports=ports, allows=sg_lines)
    plan.examined |= set(columns.examined)
    grid = Grid(interface, interface.subnet_id, Direction.INGRESS, family, [(internet.probe(p), True) for p in parts],
                columns)
    plan.grids[family] = (batch.add(grid), parts)


def _group_lines(network: Network, interface: Interface, family: int) -> list[RuleLine] | None:
    """The inbound lines of the interface's security groups (None: AWS manages it without groups)."""
    if not is_filtered(interface):
        return None
    groups = [network.security_groups[g] for g in interface.groups if g in network.security_groups]
    return [x for g in groups for x in g.ingress_lines if x.peer and x.peer.family == family]


def _route_table(network: Network, interface: Interface) -> RouteTable | None:
    subnet = network.subnets.get(interface.subnet_id)
    return network.route_table_of(subnet) if subnet else None


def _read(network: Network, plan: _Plan) -> None:
    """The grids' cells into the exact answer and the security-group-only view, with why they differ."""
    rules = decision_of(network).registry.rules
    table = _route_table(network, plan.interface)
    routed: set[tuple[str, str] | None] = set()
    for family, (grid, parts) in plan.grids.items():
        columns = grid.columns.columns
        if plan.interface.groups:
            for p, c in np.argwhere(grid.sg_allow).tolist():
                plan.sg_only.add(_box(columns[c]), parts[p])
        if family not in plan.ways:
            continue
        for p, c in np.argwhere(grid.sg_allow & ~grid.allow & (grid.nacl_rule >= 0)).tolist():
            plan.notes.append(rules[int(grid.nacl_rule[p, c])].detail)
        routes = [table.lookup(family, probe) if table else None for probe, _ in grid.peers]
        for p, c in np.argwhere(grid.allow).tolist():
            column = columns[c]
            if plan.listeners is not None and (column.protocol, column.ports[0]) not in plan.listeners:
                continue
            route = routes[p]
            if not _leads_out(route, family):
                said = (route.target_id, route.state) if route else None
                if said not in routed:
                    routed.add(said)
                    plan.notes.append(_route_note(plan, table.id if table else None, route))
                plan.not_followed |= route is not None and route.target_kind not in _FOLLOWED
                continue
            client: tuple[Span, ...] | None = None
            if column.needs_response:
                spans = merge_spans(grid.client_ports(p, column.protocol))
                if not spans:
                    plan.notes += [f"{rules[r].detail} (the responses)"
                                   for r in grid.answer_rule[column.protocol][p].tolist() if r >= 0]
                    continue
                if column.protocol in PORTED and spans != [EPHEMERAL]:
                    client = tuple(spans)
            plan.exposed[(plan.igw or "", client, None)].add(_box(column), parts[p])


def _box(column: GridColumn) -> tuple[int, int, int, int, int]:
    return (column.key, *column.ports, *column.codes)


def _leads_out(route: Route | None, family: int) -> bool:
    """Does the subnet's route for the client send the response to the internet (the gateway NATs it back
    to the public address the client connected to)?"""
    if route is None or route.state != "active":
        return False
    return route.target_kind == Kind.INTERNET_GATEWAY or (
        family == IPV6 and route.target_kind == Kind.EGRESS_ONLY_INTERNET_GATEWAY
    )


def _route_note(plan: _Plan, table_id: str | None, route: Route | None) -> str:
    if route is None:
        return f"no route in {table_id or 'the subnet'} leads the responses back to the internet"
    where = f"{table_id} routes {route.destination} (the clients)"
    if route.state != "active":
        return f"{where} to a blackhole ({route.target_id}): the responses are dropped"
    if route.target_kind == Kind.NAT_GATEWAY:
        return f"{where} to {route.target_id}, which answers from its own address, not the one the client connected to"
    return (f"{where} to {route.target_id} ({route.target_kind}), not to {plan.igw}: reach does not follow that "
            "way for exposure; check it with reach explain")


def _through_load_balancers(analyzer: Analyzer, plans: dict[str, _Plan], internet: Atoms, notes: list[str]) -> None:
    """Internet-facing load balancers' listeners, from each node the internet reaches, to their targets."""
    network = analyzer.network
    preserved: list[tuple[Forward, list[tuple[Sources, tuple[Span, ...] | None]], Grid, list[Sources], Grid]] = []
    batch = Batch(decision_of(network))
    legs: dict[tuple[str, str, int, int], bool] = {}
    for balancer in internet_facing(network):
        for forward in forwards(network, balancer, notes):
            node = plans.get(forward.node.id)
            if node is None or forward.interface.id not in plans:
                continue
            opened = _opened(node, forward.protocol, forward.listener.port or 0)
            if not opened:
                continue
            if forward.preserves_client:
                preserved.append((forward, opened, *_preserved_grids(network, forward, opened, internet, batch)))
                continue
            key = (forward.node.id, forward.interface.id, forward.protocol, forward.port)
            if key not in legs:
                legs[key] = _leg_accepted(analyzer, forward)
            if legs[key]:
                target = plans[forward.interface.id]
                for sources, client in opened:
                    cells = target.exposed[(balancer.short_id, client, forward.listener.label)]
                    cells.add((forward.protocol, forward.port, forward.port, 0, 0), sources)
    batch.run()
    for forward, opened, grid, parts, leg in preserved:
        _read_preserved(plans[forward.interface.id], forward, opened, grid, parts, leg)


def _opened(node: _Plan, protocol: int, port: int) -> list[tuple[Sources, tuple[Span, ...] | None]]:
    """Who the internet opens (protocol, port) at a load balancer node from, per client-port answer."""
    out = []
    for (via, client, _), cells in node.exposed.items():
        if via != node.igw:
            continue
        sources = NOBODY
        for box, found in cells.boxes.items():
            if box[0] == protocol and box[1] <= port <= box[2]:
                sources |= found
        if sources:
            out.append((sources, client))
    return out


def _leg_accepted(analyzer: Analyzer, forward: Forward) -> bool:
    """The node's own connection to the target (from its private address): the walker decides it."""
    node = forward.node
    source = next((v for f, v in node.private_ips if f == IPV4), None)
    if source is None or forward.target.address is None:
        return False
    packet = Packet(IPV4, source, forward.target.address[1], forward.protocol, NAT_PORTS, (forward.port, forward.port))
    explained = analyzer.explain_packet(Endpoint(node.id, node, None), packet)
    return explained.verdict == Verdict.ACCEPT


def _preserved_grids(
    network: Network,
    forward: Forward,
    opened: list[tuple[Sources, tuple[Span, ...] | None]],
    internet: Atoms,
    batch: Batch,
) -> tuple[Grid, list[Sources], Grid]:
    """A network load balancer that keeps the client's address: the target decides per source (its grid), the
    node's leg to the target does not (one row each way)."""
    target, node = forward.interface, forward.node
    sources = frozenset().union(*(found for found, _ in opened))
    crossing = target.subnet_id != node.subnet_id
    nacl_in, sg_in = tables_at(network, target, Direction.INGRESS)
    nacl_out = nacl_at(network, target, Direction.EGRESS)
    request, response = lines_of([nacl_in, sg_in], IPV4), lines_of([nacl_out], IPV4)
    parts = [frozenset({atom}) for atom in sorted(sources)]  # an atom is one class of every table
    columns = cut_columns(request, response, protocols=[forward.protocol], ports=[(forward.port, forward.port)])
    grid = batch.add(Grid(target, target.subnet_id, Direction.INGRESS, IPV4,
                          [(internet.probe(p), crossing) for p in parts], columns))
    assert forward.target.address is not None
    out_nacl, out_sg = tables_at(network, node, Direction.EGRESS)
    back_nacl = nacl_at(network, node, Direction.INGRESS)
    leg_columns = cut_columns(lines_of([out_nacl, out_sg], IPV4), lines_of([back_nacl], IPV4),
                              protocols=[forward.protocol], ports=[(forward.port, forward.port)])
    leg = batch.add(Grid(node, node.subnet_id, Direction.EGRESS, IPV4, [(forward.target.address[1], crossing)],
                         leg_columns))
    return grid, parts, leg


def _read_preserved(
    target: _Plan,
    forward: Forward,
    opened: list[tuple[Sources, tuple[Span, ...] | None]],
    grid: Grid,
    parts: list[Sources],
    leg: Grid,
) -> None:
    protocol, port = forward.protocol, forward.port
    at = next((c for c, col in enumerate(leg.columns.columns) if col.ports == (port, port)), None)
    if at is None or not leg.allow[0, at]:
        return
    leg_clients = set(leg.client_ports(0, protocol)) if protocol in leg.columns.clients else set()
    for c, column in enumerate(grid.columns.columns):
        if column.ports != (port, port):
            continue
        for p, part in enumerate(parts):
            if not grid.allow[p, c]:
                continue
            for sources, client in opened:
                inside = part & sources
                if not inside:
                    continue
                spans = _intersect(grid.client_ports(p, protocol), sorted(leg_clients), client)
                if not spans:
                    continue
                key = None if spans == [EPHEMERAL] else tuple(spans)
                target.exposed[(forward.balancer.short_id, key, forward.listener.label)].add(
                    (protocol, port, port, 0, 0), inside)


def _intersect(a: list[Span], b: list[Span], c: tuple[Span, ...] | None) -> list[Span]:
    """Client-port spans allowed by all three (c None: every ephemeral port)."""
    out = merge_spans(a)
    for other in (merge_spans(b), list(c) if c is not None else [EPHEMERAL]):
        out = merge_spans((max(x[0], y[0]), min(x[1], y[1])) for x in out for y in other if max(x[0], y[0]) <= min(
            x[1], y[1]))
    return out


def _result(plans: list[_Plan], notes: list[str], internet: Atoms) -> ExposureResult:
    rows = []
    overstated = missed = 0
    for plan in plans:
        exact = plan.exact()
        examined = plan.examined or {6}
        false_positive = plan.sg_only.minus(exact)
        true_part = plan.sg_only.minus(false_positive)
        missing = exact.minus(plan.sg_only)
        overstated += bool(false_positive)
        missed += bool(missing)
        exposed = [
            Exposed(**_access(entry, internet), via=via, client_ports=[list(s) for s in client] if client else None,
                    listener=listener)
            for (via, client, listener), cells in sorted(plan.exposed.items(), key=lambda kv: _key_order(kv[0]))
            if cells
            for entry in cells.entries(examined)
        ]
        sg_only = [SgOnly(**_access(e, internet), exposed=True) for e in true_part.entries(examined)]
        sg_only += [SgOnly(**_access(e, internet), exposed=False) for e in false_positive.entries(examined)]
        sg_only.sort(key=lambda s: (s.protocol, s.ports, not s.exposed))
        interface = plan.interface
        publics = [format_address(IPV4, public) for public, _ in interface.public_ips]
        publics += [format_address(IPV6, v) for f, v in interface.private_ips if f == IPV6]
        rows.append(
            InterfaceExposure(
                interface_id=interface.id,
                name=interface.name,
                public_ips=publics,
                exposed=exposed,
                sg_only=sg_only,
                sg_only_wrong=bool(false_positive) or bool(missing),
                notes=list(dict.fromkeys(plan.notes)) if sg_only or exposed else [],
            )
        )
    summary = ExposureSummary(
        interfaces=len(rows),
        exposed=sum(bool(r.exposed) for r in rows),
        sg_only_exposed=sum(bool(r.sg_only) for r in rows),
        sg_only_wrong=sum(r.sg_only_wrong for r in rows),
        sg_only_overstated=overstated,
        sg_only_missed=missed,
        not_followed=sum(p.not_followed for p in plans),
    )
    return ExposureResult(
        summary=summary, interfaces=rows, notes=list(dict.fromkeys(notes)), internet=cidr_texts(internet.space)
    )


def _key_order(key: ExposedKey) -> tuple[str, str, str]:
    via, client, listener = key
    return via, repr(client), listener or ""


def _access(entry: Entry, internet: Atoms) -> dict[str, Any]:
    return {
        "protocol": entry.protocol_text,
        "ports": [list(s) for s in entry.ports],
        "sources": internet.cidrs(entry.sources),
        "codes": [list(s) for s in entry.codes] if entry.codes else None,
        "except_protocols": [protocol_name(p) for p in entry.except_protocols] or None,
    }
