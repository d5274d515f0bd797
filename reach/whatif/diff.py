"""The rule-level difference between two compiled networks, and what it can affect.

Works on `reach.model.Network` only (never on describe-* JSON): security group lines are compared by the
AWS rule they came from, network ACL lines by direction and rule number, routes by destination, and
subnets and interfaces by the attributes that shape a packet's path.

The scope (`Scope`) is what a flow must touch for its verdict to be able to change: the interfaces whose
filters or routes changed, the subnets whose ACL or route table changed, and, through routes, the subnets
that reach the internet or another network through a NAT gateway or appliance that is itself affected.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from reach.model.addr import format_address
from reach.model.network import Interface, Network, NetworkAcl, RouteTable, SecurityGroup
from reach.model.rules import RuleLine, RuleTable
from reach.whatif.results import RuleChange

Filter = SecurityGroup | NetworkAcl


@dataclass
class Scope:
    """What changed, by id, and the interfaces and subnets whose traffic it can affect."""

    security_groups: set[str] = field(default_factory=set)
    nacls: set[str] = field(default_factory=set)
    route_tables: set[str] = field(default_factory=set)
    subnets: set[str] = field(default_factory=set)  # association changed, or ACL / route table changed
    interfaces: set[str] = field(default_factory=set)  # every interface a changed flow may touch
    source_dest_check: set[str] = field(default_factory=set)  # interfaces whose check was turned on or off
    rerouted: set[str] = field(default_factory=set)  # subnets whose routing changed (table, routes, or a hop)

    @property
    def coarse(self) -> set[str]:
        """Interfaces whose every flow is re-explained: their routing or forwarding changed, which no rule
        box describes. The others' flows are re-explained only where they meet a changed rule."""
        return self.source_dest_check | self.rerouted_interfaces

    rerouted_interfaces: set[str] = field(default_factory=set)

    def addresses(self, *networks: Network) -> set[str]:
        """The private addresses of the affected interfaces, as flow logs write them."""
        found: set[str] = set()
        for network in networks:
            for interface_id in self.interfaces:
                interface = network.interfaces.get(interface_id)
                if interface is not None:
                    found.update(format_address(f, v) for f, v in interface.private_ips)
        return found


@dataclass
class NetworkDiff:
    rule_changes: list[RuleChange]
    scope: Scope

    @property
    def empty(self) -> bool:
        return not self.rule_changes


def diff_networks(before: Network, after: Network) -> NetworkDiff:
    scope = Scope()
    changes: list[RuleChange] = []
    changes += _filters("security-group", before.security_groups, after.security_groups, scope.security_groups)
    changes += _filters("network-acl", before.nacls, after.nacls, scope.nacls)
    changes += _route_tables(before, after, scope)
    changes += _subnets(before, after, scope)
    changes += _interfaces(before, after, scope)
    _spread(before, after, scope)
    return NetworkDiff(changes, scope)


# --- filters --------------------------------------------------------------------------------------------


def _line_shape(line: RuleLine) -> tuple[object, ...]:
    return (line.peer, line.protocol, line.port_lo, line.port_hi, line.code_lo, line.code_hi, line.allow)


def _by_rule(table: RuleTable | None) -> dict[object, tuple[str, frozenset[object]]]:
    """Rule key -> (its description, the set of line shapes compiled from it)."""
    grouped: dict[object, tuple[str, set[object]]] = {}
    for line in table.lines if table is not None else ():
        key = line.ref.rule if line.ref.rule is not None else line.ref.detail
        detail, shapes = grouped.setdefault(key, (line.ref.detail, set()))
        shapes.add(_line_shape(line))
    return {k: (d, frozenset(s)) for k, (d, s) in grouped.items()}


def _compare_tables(
    kind: str, rid: str, direction: str, old: RuleTable | None, new: RuleTable | None
) -> list[RuleChange]:
    before, after = _by_rule(old), _by_rule(new)
    changes = []
    for key in sorted(set(before) | set(after), key=lambda k: (isinstance(k, str), str(k).zfill(6))):
        was, now = before.get(key), after.get(key)
        if was == now:
            continue
        if was is not None and now is not None and was[1] == now[1]:
            continue  # same lines under a reworded description
        rule = key if isinstance(key, int) or (isinstance(key, str) and key.startswith("sgr-")) else None
        change = "added" if was is None else "removed" if now is None else "modified"
        changes.append(
            RuleChange(
                kind=kind,
                id=rid,
                direction=direction,
                rule=rule,
                change=change,
                before=was[0] if was else None,
                after=now[0] if now else None,
            )
        )
    return changes


def _filters(
    kind: str, before: Mapping[str, Filter], after: Mapping[str, Filter], changed: set[str]
) -> list[RuleChange]:
    """Security groups or network ACLs: both directions of every one, compared rule by rule."""
    changes = []
    for rid in sorted(set(before) | set(after)):
        old, new = before.get(rid), after.get(rid)
        for direction in ("ingress", "egress"):
            found = _compare_tables(
                kind, rid, direction, getattr(old, direction) if old else None, getattr(new, direction) if new else None
            )
            if found:
                changed.add(rid)
            changes += found
    return changes


# --- routes -----------------------------------------------------------------------------------------------


def _route_view(table: RouteTable | None) -> dict[str, tuple[str, frozenset[tuple[str, str, str]]]]:
    grouped: dict[str, tuple[str, set[tuple[str, str, str]]]] = {}
    for route in table.routes if table is not None else ():
        detail, targets = grouped.setdefault(route.destination, (route.ref.detail, set()))
        targets.add((route.target_kind, route.target_id, route.state))
    return {k: (d, frozenset(t)) for k, (d, t) in grouped.items()}


def _route_tables(before: Network, after: Network, scope: Scope) -> list[RuleChange]:
    changes = []
    for table_id in sorted(set(before.route_tables) | set(after.route_tables)):
        old, new = (
            _route_view(before.route_tables.get(table_id)),
            _route_view(after.route_tables.get(table_id)),
        )
        for destination in sorted(set(old) | set(new)):
            was, now = old.get(destination), new.get(destination)
            if was is not None and now is not None and was[1] == now[1]:
                continue
            change = "added" if was is None else "removed" if now is None else "modified"
            changes.append(
                RuleChange(
                    kind="route-table",
                    id=table_id,
                    rule=destination,
                    change=change,
                    before=was[0] if was else None,
                    after=now[0] if now else None,
                )
            )
            scope.route_tables.add(table_id)
    return changes


# --- associations and interfaces -----------------------------------------------------------------------


def _subnets(before: Network, after: Network, scope: Scope) -> list[RuleChange]:
    changes = []
    for subnet_id in sorted(set(before.subnets) & set(after.subnets)):
        old, new = before.subnets[subnet_id], after.subnets[subnet_id]
        for attribute, kind in (("route_table", "route table"), ("nacl", "network ACL")):
            was, now = getattr(old, attribute), getattr(new, attribute)
            if was != now:
                if attribute == "route_table":
                    scope.rerouted.add(subnet_id)
                rule = attribute.replace("_", "-").replace("nacl", "network-acl")
                changes.append(
                    RuleChange(
                        kind="subnet",
                        id=subnet_id,
                        rule=rule,
                        change="modified",
                        before=f"{subnet_id} uses {kind} {was}",
                        after=f"{subnet_id} uses {kind} {now}",
                    )
                )
                scope.subnets.add(subnet_id)
    return changes


def _interfaces(before: Network, after: Network, scope: Scope) -> list[RuleChange]:
    changes = []
    for interface_id in sorted(set(before.interfaces) & set(after.interfaces)):
        old, new = before.interfaces[interface_id], after.interfaces[interface_id]
        if old.groups != new.groups:
            changes.append(
                RuleChange(
                    kind="network-interface",
                    id=interface_id,
                    rule="groups",
                    change="modified",
                    before=f"{old.label} has security groups {', '.join(old.groups) or 'none'}",
                    after=f"{new.label} has security groups {', '.join(new.groups) or 'none'}",
                )
            )
            scope.interfaces.add(interface_id)
        if old.source_dest_check != new.source_dest_check:
            state = {True: "on", False: "off"}
            changes.append(
                RuleChange(
                    kind="network-interface",
                    id=interface_id,
                    rule="source-dest-check",
                    change="modified",
                    before=f"{old.label} source/destination check {state[old.source_dest_check]}",
                    after=f"{new.label} source/destination check {state[new.source_dest_check]}",
                )
            )
            scope.interfaces.add(interface_id)
            scope.source_dest_check.add(interface_id)
    return changes


def _spread(before: Network, after: Network, scope: Scope) -> None:
    """From changed components to the interfaces and subnets whose traffic crosses them."""
    for network in (before, after):
        for subnet in network.subnets.values():
            if subnet.nacl in scope.nacls or subnet.route_table in scope.route_tables:
                scope.subnets.add(subnet.id)
            if subnet.route_table in scope.route_tables:
                scope.rerouted.add(subnet.id)
        for interface in network.interfaces.values():
            if set(interface.groups) & scope.security_groups or interface.subnet_id in scope.subnets:
                scope.interfaces.add(interface.id)
    # A subnet whose routes lead through an affected NAT gateway or appliance is affected too.
    while True:
        grown = False
        for network in (before, after):
            through = _affected_hops(network, scope)
            for subnet in network.subnets.values():
                table = network.route_table_of(subnet)
                if subnet.id in scope.subnets or table is None:
                    continue
                if any(route.target_id in through for route in table.routes):
                    scope.subnets.add(subnet.id)
                    scope.rerouted.add(subnet.id)
                    scope.interfaces.update(i.id for i in _interfaces_in(network, subnet.id))
                    grown = True
        if not grown:
            break
    for network in (before, after):
        scope.rerouted_interfaces.update(i.id for i in network.interfaces.values() if i.subnet_id in scope.rerouted)


def _affected_hops(network: Network, scope: Scope) -> set[str]:
    hops = set(scope.interfaces)
    for gateway in network.gateways.values():
        if gateway.subnet_id in scope.subnets or gateway.interface_id in scope.interfaces:
            hops.add(gateway.id)
    return hops


def _interfaces_in(network: Network, subnet_id: str) -> Iterable[Interface]:
    return (i for i in network.interfaces.values() if i.subnet_id == subnet_id)
