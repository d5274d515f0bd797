"""The walker: follows one packet hop by hop through the compiled network, forward then back.

Blocked-path style, like Reachability Analyzer: a filter that denies is recorded as a blocker and the
walk goes on as if it had allowed, so every blocker on the path is found, not only the first. Routing
failures end the walk (there is nowhere further to go). While no filter has denied, the walker also
notes the records flow logs would write on each interface it crosses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from reach.engine.explanation import Blocker, FlowLogRecord, Hop
from reach.engine.fixes import suggest_fix
from reach.engine.graph import INTERNET
from reach.engine.load_balancer import at_load_balancer
from reach.engine.packet import NAT_PORTS, Packet, port_text
from reach.engine.transit import (
    discarded_reference_detail,
    endpoint_hint,
    enter_from_outside,
    interface_endpoint_note,
    masquerade,
    reenter_transit,
    to_gateway_endpoint,
    to_transit_gateway,
    unknown_reference_detail,
    unmasquerade,
)
from reach.model.addr import IPV4, format_address, is_rfc1918, is_rfc6598
from reach.model.decision import REASONS, Crossings, Decided, decision_of, is_filtered
from reach.model.network import Gateway, Interface, Network, Route, RouteTable, Subnet
from reach.model.rules import describe_match
from reach.model.vocabulary import Direction, Reason

_MAX_ROUTINGS = 32  # a packet routed more often than this is in a loop (appliances routing to each other)

# Where a leg ended: an interface, the internet, or a gateway that leaves the snapshot (VPN, endpoint…).
Arrival = tuple[str, str, Packet]  # (kind: interface | internet | exit, id, packet as delivered)

if TYPE_CHECKING:
    import networkx as nx


@dataclass
class _Record:
    interface_id: str
    direction: str
    packet: Packet
    srcaddr: str
    dstaddr: str
    return_path: bool
    action: str = "ACCEPT"


@dataclass(frozen=True)
class Filtered:
    """What the interface decision said for one packet at one interface (or subnet boundary): one row per
    piece of the packet's destination ports, `pieces` as (first port, last port, row)."""

    interface: Interface | None
    subnet: Subnet | None
    direction: str
    packet: Packet
    peer: int
    record: _Record | None
    crossing: bool
    pieces: list[tuple[int, int, int]]
    decided: Decided

    def widest(self, mask: object) -> tuple[int, int, int] | None:
        """The widest piece where `mask` (per row) holds, None if it holds nowhere."""
        found = [p for p in self.pieces if mask[p[2]]]  # type: ignore[index]
        return max(found, key=lambda p: p[1] - p[0]) if found else None


@dataclass
class Walker:
    network: Network
    graph: nx.MultiDiGraph
    hops: list[Hop] = field(default_factory=list)
    blockers: list[Blocker] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    path: list[str] = field(default_factory=list)  # graph nodes visited, in order
    return_path: bool = False
    alive: bool = True  # no filter has really denied the packet yet
    _records: list[_Record] = field(default_factory=list)
    _nat_sessions: dict[str, tuple[int, tuple[int, int]]] = field(default_factory=dict)
    _last_route: tuple[RouteTable, Route] | None = None
    tgw_zones: dict[str, str] = field(default_factory=dict)  # transit attachment -> AZ the request used
    tgw_hops: int = 0  # transit gateway traversals so far (loop guard)
    appliance_sessions: dict[str, tuple[int, tuple[int, int]]] = field(default_factory=dict)  # NAT instances
    tgw_sg_refs: bool | None = None  # came through a transit gateway: does it keep security group membership?

    # --- bookkeeping ---------------------------------------------------------------------------

    def hop(
        self,
        kind: str,
        id: str | None,
        detail: str,
        *,
        direction: str | None = None,
        decision: str = "allow",
        rule: int | str | None = None,
    ) -> None:
        self.hops.append(
            Hop(
                kind=kind,
                id=id,
                direction=direction,
                decision=decision,
                rule=rule,
                detail=detail,
                return_path=self.return_path,
            )
        )
        if id is not None:
            self.path.append(id)

    def block(
        self,
        kind: str,
        id: str | None,
        reason: str,
        detail: str,
        *,
        direction: str | None = None,
        rule: int | str | None = None,
        groups: list[str] | None = None,
        record: _Record | None = None,
        blocked_ports: str | None = None,
        fix_context: dict[str, object] | None = None,
    ) -> None:
        self.hop(kind, id, detail, direction=direction, decision="deny", rule=rule)
        blocker = Blocker(
            kind=kind,
            id=id,
            direction=direction,
            rule=rule,
            return_path=self.return_path,
            groups=groups,
            detail=detail,
            reason=reason,
            blocked_ports=blocked_ports,
        )
        self.blockers.append(blocker)
        if record is not None and self.alive:
            record.action = "REJECT"
        self.alive = False
        self._fix_context.append(fix_context or {})

    def __post_init__(self) -> None:
        self._fix_context: list[dict[str, object]] = []
        self._routed = 0

    def fixes(self) -> list[str | None]:
        return [suggest_fix(self.network, b, ctx) for b, ctx in zip(self.blockers, self._fix_context, strict=True)]

    def observe(self, interface_id: str | None, direction: str, packet: Packet) -> _Record | None:
        if interface_id is None or not self.alive:
            return None
        interface = self.network.interfaces.get(interface_id)
        src, dst = packet.src_text, packet.dst_text
        primary = interface.primary_ip if interface else None
        # An interface logs its own primary address where the packet is not addressed to or from it.
        if interface and primary and direction == "ingress" and not interface.holds(packet.family, packet.dst):
            dst = format_address(*primary)
        if interface and primary and direction == "egress" and not interface.holds(packet.family, packet.src):
            src = format_address(*primary)
        record = _Record(interface_id, direction, packet, src, dst, self.return_path)
        self._records.append(record)
        return record

    def flow_log_records(self) -> list[FlowLogRecord]:
        out = []
        for r in self._records:
            ports = r.packet.protocol in (6, 17)
            out.append(
                FlowLogRecord(
                    interface_id=r.interface_id,
                    direction=r.direction,
                    action=r.action,
                    return_path=r.return_path,
                    srcaddr=r.srcaddr,
                    dstaddr=r.dstaddr,
                    srcport=(r.packet.src_ports[0] if r.packet.src_ports[0] == r.packet.src_ports[1] else None)
                    if ports
                    else 0,
                    dstport=(r.packet.dst_ports[0] if r.packet.dst_ports[0] == r.packet.dst_ports[1] else None)
                    if ports
                    else 0,
                    protocol=r.packet.protocol if r.packet.protocol >= 0 else None,
                )
            )
        return out

    # --- filters: the interface decision, said as hops -----------------------------------------

    def decide(
        self,
        interface: Interface | None,
        subnet: Subnet | None,
        direction: str,
        packet: Packet,
        record: _Record | None,
        *,
        crossing: bool,
    ) -> Filtered:
        """Ask the interface decision what the packet meets at `interface` (and at `subnet`'s boundary when
        it crosses it): a batch of one, or one row per piece of a port range (a response to the client's
        ephemeral ports), pieces that decide alike merged."""
        decision = decision_of(self.network)
        peer = packet.src if direction == Direction.INGRESS else packet.dst
        lo, hi = packet.dst_ports

        def rows(ports: list[int]) -> Crossings:
            return decision.crossing(
                interface, subnet.id if subnet else None, direction, response=self.return_path,
                family=packet.family, peer=peer, protocol=packet.protocol, ports=ports, code=packet.code,
                crosses_nacl=crossing, groups_kept=self.tgw_sg_refs is not False,
            )

        cuts = decision.port_cuts(rows([lo]), lo, hi) if lo != hi else [(lo, hi)]
        decided = decision.decide(rows([a for a, _ in cuts]))
        pieces: list[tuple[int, int, int]] = []
        for k, (a, b) in enumerate(cuts):
            same = pieces and all(
                column[pieces[-1][2]] == column[k]
                for column in (decided.sg, decided.nacl, decided.sg_allow, decided.nacl_allow)
            )
            pieces[-1:] = [(pieces[-1][0], b, pieces[-1][2])] if same else [*pieces[-1:], (a, b, k)]
        return Filtered(interface, subnet, direction, packet, peer, record, crossing, pieces, decided)

    def security_groups(self, filtered: Filtered) -> None:
        """The hop (or blocker) of the interface's security groups, as the decision has it."""
        interface, direction, packet, peer = filtered.interface, filtered.direction, filtered.packet, filtered.peer
        assert interface is not None
        groups = list(interface.groups)
        label = groups[0] if len(groups) == 1 else interface.id
        if self.return_path:
            self.hop(
                "security-group",
                label,
                f"response of a tracked connection: {interface.label}'s security "
                "groups let it through whatever their rules say",
                direction=direction,
            )
            return
        if not is_filtered(interface):
            self.notes.append(f"{interface.label} has no security groups (requester-managed): not filtered")
            return
        decided, rules = filtered.decided, decision_of(self.network).registry.rules
        _, _, row = filtered.widest(~decided.sg_allow) or filtered.pieces[0]
        if decided.sg_allow[row]:
            ref = rules[int(decided.sg[row])]
            self.hop(
                "security-group", ref.id if len(groups) > 1 else label, ref.detail, direction=direction, rule=ref.rule
            )
            return
        what = describe_match(packet.protocol, packet.dst_ports, (packet.code, packet.code))
        names = ", ".join(self.network.group_label(g) for g in groups) or "no security group"
        side, to_from = ("inbound", "from") if direction == Direction.INGRESS else ("outbound", "to")
        detail = f"no rule of {names} on {interface.label} allows {side} {what} {to_from} "
        detail += format_address(packet.family, peer)
        unresolved = int(decided.unresolved[row])
        if unresolved >= 0:
            ref = rules[unresolved]
            detail += unknown_reference_detail(
                [(str(ref.rule) if ref.rule else str(ref.id), self.network.unresolved[ref])], packet, peer
            )
        discarded = int(decided.discarded[row])
        if discarded >= 0:
            detail += discarded_reference_detail(rules[discarded], self.network.group_references[rules[discarded]])
        absent = [g for g in groups if g not in self.network.security_groups]
        if absent:
            detail += (
                f"; {', '.join(absent)} {'is' if len(absent) == 1 else 'are'} not in the snapshot, so "
                "their rules are unknown (taken as allowing nothing)"
            )
        self.block(
            "security-group",
            label,
            REASONS[int(decided.sg_reason[row])],
            detail,
            direction=direction,
            groups=groups,
            record=filtered.record,
            fix_context={"interface": interface.id, "packet": packet, "peer": peer},
        )

    def network_acl(self, filtered: Filtered) -> None:
        """The hop (or blocker) of the subnet's network ACL, as the decision has it."""
        subnet, direction, packet = filtered.subnet, filtered.direction, filtered.packet
        assert subnet is not None
        acl = self.network.nacl_of(subnet)
        if acl is None:
            self.hop(
                "network-acl",
                None,
                f"{subnet.id} has no network ACL in the snapshot: assumed to allow",
                direction=direction,
            )
            return
        decided, rules = filtered.decided, decision_of(self.network).registry.rules
        denied = [p for p in filtered.pieces if not decided.nacl_allow[p[2]]]
        if not denied:
            ref = rules[int(decided.nacl[filtered.pieces[0][2]])]
            self.hop("network-acl", acl.id, ref.detail, direction=direction, rule=ref.rule)
            return
        lo, hi, row = filtered.widest(~decided.nacl_allow) or denied[0]
        ref = rules[int(decided.nacl[row])]
        detail = ref.detail
        blocked_ports = None
        if len(denied) < len(filtered.pieces) or packet.ports_are_range:
            blocked = ", ".join(port_text((a, b)) for a, b, _ in denied)
            blocked_ports = f"{blocked} of {port_text(packet.dst_ports)}"
            if len(denied) < len(filtered.pieces):
                detail = (
                    f"ports {blocked_ports} are blocked by {acl.id} "
                    f"{'inbound' if direction == Direction.INGRESS else 'outbound'} rule "
                    f"{'*' if ref.rule in (32767, 32768) else '#' + str(ref.rule)}: {detail}"
                )
        self.block(
            "network-acl",
            acl.id,
            Reason.SUBNET_ACL_RESTRICTION,
            detail,
            direction=direction,
            rule=ref.rule,
            record=filtered.record,
            blocked_ports=blocked_ports,
            fix_context={
                "acl": acl.id,
                "packet": packet,
                "peer": filtered.peer,
                "ports": (lo, hi),
                "subnet": subnet.id,
            },
        )

    def subnet_boundary(self, subnet: Subnet, direction: str, packet: Packet, record: _Record | None) -> None:
        """A packet crosses a subnet's boundary where no interface of the snapshot filters it (a transit
        gateway attachment's subnet, a NAT gateway's translated packet leaving)."""
        self.network_acl(self.decide(None, subnet, direction, packet, record, crossing=True))

    # --- moving ----------------------------------------------------------------------------------

    def send(self, interface: Interface, packet: Packet) -> Arrival | None:
        """A packet leaves an interface (its own, or forwarded by an appliance)."""
        record = self.observe(interface.id, "egress", packet)
        if not interface.holds(packet.family, packet.src) and interface.source_dest_check:
            self.block(
                "network-interface",
                interface.id,
                "ENI_SOURCE_DEST_CHECK_RESTRICTION",
                f"{interface.label} has source/destination check on, so it drops packets from "
                f"{packet.src_text}, which is not its own address",
                direction="egress",
                record=record,
                fix_context={"interface": interface.id},
            )
        else:
            self.hop(
                "network-interface",
                interface.id,
                f"{interface.label} sends {packet.src_text} -> {packet.dst_text}",
                direction="egress",
            )
        subnet = self.network.subnets[interface.subnet_id]
        leaving = not any(c.contains(packet.family, packet.dst) for c in subnet.cidrs)
        filtered = self.decide(interface, subnet, Direction.EGRESS, packet, record, crossing=leaving)
        self.security_groups(filtered)
        return self.route(subnet, packet, record, filtered)

    def route(
        self, subnet: Subnet, packet: Packet, record: _Record | None, filtered: Filtered | None = None
    ) -> Arrival | None:
        """The VPC router takes the packet out of `subnet`: same-subnet delivery, or a route. `filtered`: what
        the interface decision said for the interface it left by (its network ACL part is said here)."""
        self._routed += 1
        if self._routed > _MAX_ROUTINGS:
            self.block(
                "route-table",
                subnet.route_table,
                "ROUTING_LOOP",
                f"the packet to {packet.dst_text} went through {_MAX_ROUTINGS} routers without arriving: "
                "a routing loop",
            )
            return None
        if any(c.contains(packet.family, packet.dst) for c in subnet.cidrs):
            return self.arrive(subnet, packet, crossing=False)
        # Leaving the subnet: its network ACL decides at the interface, whatever the routes then do (a packet
        # a route then drops was still logged by the interface as the ACL decided: ACCEPT for a blackhole).
        self._leave_subnet(subnet, packet, record, filtered)
        table = self.network.route_table_of(subnet)
        route = table.lookup(packet.family, packet.dst) if table else None
        if table is None:
            if self.network.vpc_holds(subnet.vpc_id, packet.family, packet.dst):
                self.hop(
                    "route-table",
                    None,
                    f"{subnet.id} has no route table in the snapshot; the VPC's local route applies",
                )
                return self.local(subnet.vpc_id, packet, None, None)
            self.block(
                "route-table",
                None,
                "NO_ROUTE_TO_DESTINATION",
                f"{subnet.id} has no route table in the snapshot, so nothing routes {packet.dst_text}",
            )
            return None
        if route is None:
            hint, fix = endpoint_hint(self, table, packet)
            self.block(
                "route-table",
                table.id,
                "NO_ROUTE_TO_DESTINATION",
                f"no route in {table.id} matches {packet.dst_text}" + hint,
                fix_context={"table": table.id, "packet": packet, **({"fix": fix} if fix else {})},
            )
            return None
        self._last_route = (table, route)
        if route.state != "active":
            self.block(
                "route-table",
                table.id,
                "BAD_STATE_ROUTE",
                route.ref.detail + f": its target is gone, so {packet.dst_text} is dropped",
                rule=route.destination,
                fix_context={"table": table.id, "route": route},
            )
            return None
        self.hop("route-table", table.id, route.ref.detail, rule=route.destination)
        return self.follow(route, table, subnet, packet)

    def _leave_subnet(self, subnet: Subnet, packet: Packet, record: _Record | None, filtered: Filtered | None) -> None:
        if filtered is not None and filtered.crossing:
            self.network_acl(filtered)
        else:
            self.subnet_boundary(subnet, Direction.EGRESS, packet, record)

    def follow(self, route: Route, table: RouteTable, subnet: Subnet, packet: Packet) -> Arrival | None:
        kind, target = route.target_kind, route.target_id
        if kind == "local":
            return self.local(subnet.vpc_id, packet, table, route)
        gateway = self.network.gateways.get(target)
        if kind == "internet-gateway":
            return self.internet_gateway_out(target, gateway, subnet.vpc_id, packet)
        if kind == "egress-only-internet-gateway":
            if packet.family == IPV4:
                self.block(kind, target, "BAD_STATE_ROUTE", f"{target} carries only IPv6 traffic")
                return None
            self.hop(kind, target, f"{target} lets IPv6 traffic out (and its responses back in)", direction="egress")
            return self.internet(packet)
        if kind == "nat-gateway":
            return self.to_nat(target, gateway, subnet, packet)
        if kind == "vpc-peering-connection":
            return self.peering(target, subnet.vpc_id, packet)
        if kind == "network-interface":
            return self.to_appliance(target, subnet, packet)
        if kind == "transit-gateway":
            return to_transit_gateway(self, target, table, route, subnet, packet)
        if kind == "vpc-endpoint":
            outside = not self.network.vpc_holds(subnet.vpc_id, packet.family, packet.src)
            return to_gateway_endpoint(self, target, gateway, subnet, packet, from_outside=outside)
        if kind == "vpn-gateway":
            self.hop(kind, target, "leaves the snapshot through a VPN gateway", direction="egress")
            return ("exit", target, packet)
        self.block(
            "route-table",
            table.id,
            "UNSUPPORTED_COMPONENT",
            f"{table.id} routes {route.destination} to {target} ({kind}), which reach does not model yet",
            rule=route.destination,
        )
        return None

    def local(self, vpc_id: str, packet: Packet, table: RouteTable | None, route: Route | None) -> Arrival | None:
        subnet = self.network.subnet_of(vpc_id, packet.family, packet.dst)
        if subnet is None:
            vpc = self.network.vpcs.get(vpc_id)
            self.block(
                "route-table",
                table.id if table else None,
                "VPC_ADDRESS_NOT_IN_SUBNET",
                f"{packet.dst_text} is inside {vpc_id}'s CIDR but in no subnet, so the local route delivers it nowhere"
                if vpc
                else f"{packet.dst_text} is in no subnet of {vpc_id}",
                rule=route.destination if route else None,
            )
            return None
        return self.arrive(subnet, packet, crossing=True)

    def arrive(self, subnet: Subnet, packet: Packet, *, crossing: bool, at: int | None = None) -> Arrival | None:
        """The packet enters `subnet` (crossing its network ACL if it comes from outside) for its receiver:
        whoever holds `at` (the packet's destination, or the NAT gateway a route sends it to)."""
        at = packet.dst if at is None else at
        nat = self._nat_at(subnet, at)
        receiver = self.network.interface_in_vpc(subnet.vpc_id, packet.family, at)
        if receiver is not None and receiver.subnet_id != subnet.id:
            receiver = None
        if nat is None and receiver is not None:
            nat = self.network.gateway_for_interface(receiver.id)
        if nat is None and receiver is None:
            self.block(
                "network-interface",
                None,
                "DESTINATION_ADDRESS_UNASSIGNED",
                f"no interface in {subnet.id} holds {format_address(packet.family, at)}",
            )
            return None
        record = self.observe(
            nat.interface_id if nat else receiver.id if receiver else None,
            "ingress",
            packet if nat is None or self.return_path else packet.with_(dst=at),
        )
        at_interface = self.network.interfaces.get(nat.interface_id or "") if nat else receiver
        filtered = self.decide(at_interface, subnet, Direction.INGRESS, packet, record, crossing=crossing)
        if crossing:
            self.network_acl(filtered)
        if nat is not None:
            return self.at_nat(nat, packet)
        assert receiver is not None
        self.security_groups(filtered)
        if not receiver.holds(packet.family, packet.dst):
            self.hop(
                "network-interface",
                receiver.id,
                f"{receiver.label} forwards (source/destination check off)",
                direction="ingress",
            )
            return self.send(receiver, packet)
        if self.return_path and receiver.id in self.appliance_sessions:  # a NAT instance's answer
            return unmasquerade(self, receiver, packet)
        balancer = self.network.balancing.of_interface(receiver.id)
        if balancer is not None:
            return at_load_balancer(self, balancer, receiver, packet)
        if receiver.kind == "vpc_endpoint" and not self.return_path:
            self.notes.append(interface_endpoint_note(receiver.label, receiver.description))
        self.hop("network-interface", receiver.id, f"delivered to {receiver.label}", direction="ingress")
        return ("interface", receiver.id, packet)

    def _nat_at(self, subnet: Subnet, address: int) -> Gateway | None:
        for gateway in self.network.gateways.values():
            if gateway.kind == "nat-gateway" and gateway.subnet_id == subnet.id and gateway.private_ip == address:
                return gateway
        return None

    def to_appliance(self, interface_id: str, subnet: Subnet, packet: Packet) -> Arrival | None:
        appliance = self.network.interfaces.get(interface_id)
        if appliance is None:
            self.block(
                "network-interface",
                interface_id,
                "UNKNOWN_RESOURCE",
                f"the route's target {interface_id} is not in the snapshot",
            )
            return None
        target_subnet = self.network.subnets[appliance.subnet_id]
        record = self.observe(appliance.id, "ingress", packet)
        crossing = target_subnet.id != subnet.id
        filtered = self.decide(appliance, target_subnet, Direction.INGRESS, packet, record, crossing=crossing)
        if crossing:
            self.network_acl(filtered)
        self.security_groups(filtered)
        if appliance.source_dest_check and not appliance.holds(packet.family, packet.dst):
            self.block(
                "network-interface",
                appliance.id,
                "ENI_SOURCE_DEST_CHECK_RESTRICTION",
                f"{appliance.label} has source/destination check on, so it drops traffic for {packet.dst_text}, "
                "which is not its own address",
                direction="ingress",
                record=record,
                fix_context={"interface": appliance.id},
            )
        else:
            self.hop(
                "network-interface",
                appliance.id,
                f"{appliance.label} forwards (source/destination check off)",
                direction="ingress",
            )
        return self.send(appliance, masquerade(self, appliance, packet))

    # --- gateways --------------------------------------------------------------------------------

    def _public_address(self, vpc_id: str, packet: Packet) -> int | None:
        interface = self.network.interface_in_vpc(vpc_id, packet.family, packet.src)
        if interface is not None:
            return interface.public_for(packet.family, packet.src)
        for gateway in self.network.gateways.values():
            if gateway.kind == "nat-gateway" and gateway.private_ip == packet.src and vpc_id in gateway.vpc_ids:
                return gateway.public_ip
        return None

    def internet_gateway_out(self, igw_id: str, gateway: Gateway | None, vpc_id: str, packet: Packet) -> Arrival | None:
        if gateway is None:
            self.notes.append(
                f"{igw_id} is not in the snapshot: assumed to be an internet gateway attached to {vpc_id}"
            )
        if packet.family == IPV4:
            if is_rfc1918(packet.family, packet.dst) or is_rfc6598(packet.family, packet.dst):
                code = (
                    "IGW_DESTINATION_ADDRESS_NOT_IN_RFC1918_EGRESS"
                    if is_rfc1918(packet.family, packet.dst)
                    else "IGW_DESTINATION_ADDRESS_NOT_IN_RFC6598_EGRESS"
                )
                self.block(
                    "internet-gateway",
                    igw_id,
                    code,
                    f"{igw_id} drops traffic to the private address {packet.dst_text}",
                    direction="egress",
                )
                return None
            public = self._public_address(vpc_id, packet)
            if public is None:
                self.block(
                    "internet-gateway",
                    igw_id,
                    "IGW_PUBLIC_IP_ASSOCIATION_FOR_EGRESS",
                    f"{packet.src_text} has no public IPv4 address, so {igw_id} cannot carry it to the internet",
                    direction="egress",
                    fix_context={"vpc": vpc_id, "src": packet.src},
                )
                return None
            self.hop(
                "internet-gateway",
                igw_id,
                f"{igw_id} translates {packet.src_text} to its public address {format_address(IPV4, public)}",
                direction="egress",
            )
            packet = packet.with_(src=public)
        else:
            self.hop("internet-gateway", igw_id, f"{igw_id} carries IPv6 traffic to the internet", direction="egress")
        return self.internet(packet)

    def internet(self, packet: Packet) -> Arrival | None:
        """The packet is on the internet: it reaches a host out there, or comes back into a VPC."""
        if not self.return_path and not self.hops:  # a flow that starts outside: maybe behind a VPN
            entered = enter_from_outside(self, packet)
            if entered is not False:
                return entered
        self.path.append(INTERNET)
        if packet.family == IPV4:
            for gateway in self.network.gateways.values():
                if gateway.kind == "nat-gateway" and gateway.public_ip == packet.dst:
                    return self.nat_from_internet(gateway, packet)
            owner = self.network.public_owner(packet.dst)
            if owner is not None:
                return self.internet_gateway_in(owner[0], packet, owner[1])
            private = self.network.interfaces_at(packet.family, packet.dst) or (
                self.network.vpcs_holding(packet.family, packet.dst) if is_rfc1918(IPV4, packet.dst) else []
            )
            if private:
                vpc_id = private[0].vpc_id if isinstance(private[0], Interface) else private[0].id
                igw = self._igw_of(vpc_id)
                self.block(
                    "internet-gateway",
                    igw,
                    "IGW_PRIVATE_IP_ASSOCIATION_FOR_INGRESS",
                    f"{packet.dst_text} is a private address: from the internet only public addresses are reachable",
                    direction="ingress",
                )
                return None
        else:
            inside = self.network.interfaces_at(packet.family, packet.dst)
            if inside:
                return self.internet_gateway_in(inside[0], packet, packet.dst)
        self.hop("internet", None, f"reaches {packet.dst_text} on the internet")
        return ("internet", packet.dst_text, packet)

    def _igw_of(self, vpc_id: str) -> str | None:
        for gateway in self.network.gateways.values():
            if gateway.kind == "internet-gateway" and vpc_id in gateway.vpc_ids:
                return gateway.id
        return None

    def internet_gateway_in(self, interface: Interface, packet: Packet, private: int) -> Arrival | None:
        igw = self._igw_of(interface.vpc_id)
        if igw is None:
            eigw = any(
                g.kind == "egress-only-internet-gateway" and interface.vpc_id in g.vpc_ids
                for g in self.network.gateways.values()
            )
            if eigw and self.return_path and packet.family != IPV4:
                self.hop("egress-only-internet-gateway", None, "lets the response of an outbound IPv6 connection in")
                return self.local(interface.vpc_id, packet, None, None)
            self.block(
                "internet-gateway",
                None,
                "NO_ROUTE_TO_DESTINATION",
                f"{interface.vpc_id} has no internet gateway, so {packet.dst_text} is unreachable from the internet"
                + (" (an egress-only internet gateway lets no connection in)" if eigw else ""),
                direction="ingress",
            )
            return None
        if packet.family == IPV4 and (is_rfc1918(IPV4, packet.src) or is_rfc6598(IPV4, packet.src)):
            self.block(
                "internet-gateway",
                igw,
                "IGW_SOURCE_ADDRESS_NOT_IN_RFC1918_INGRESS",
                f"{igw} drops traffic from the private address {packet.src_text}",
                direction="ingress",
            )
            return None
        if packet.family == IPV4:
            self.hop(
                "internet-gateway",
                igw,
                f"{igw} translates {packet.dst_text} to {interface.label}'s private "
                f"address {format_address(IPV4, private)}",
                direction="ingress",
            )
            packet = packet.with_(dst=private)
        else:
            self.hop("internet-gateway", igw, f"{igw} carries IPv6 traffic in", direction="ingress")
        subnet = self.network.subnets[interface.subnet_id]
        return self.arrive(subnet, packet, crossing=True)

    def to_nat(self, nat_id: str, gateway: Gateway | None, subnet: Subnet, packet: Packet) -> Arrival | None:
        if gateway is None:
            self.block("nat-gateway", nat_id, "UNKNOWN_RESOURCE", f"the route's target {nat_id} is not in the snapshot")
            return None
        if gateway.state != "available":
            self.block("nat-gateway", nat_id, "BAD_STATE", f"{nat_id} is {gateway.state}")
            return None
        if gateway.subnet_id not in self.network.subnets or gateway.private_ip is None:
            self.block(
                "nat-gateway", nat_id, "UNKNOWN_RESOURCE", f"{nat_id}'s subnet or address is not in the snapshot"
            )
            return None
        nat_subnet = self.network.subnets[gateway.subnet_id]
        return self.arrive(nat_subnet, packet, crossing=nat_subnet.id != subnet.id, at=gateway.private_ip)

    def at_nat(self, gateway: Gateway, packet: Packet) -> Arrival | None:
        nat_subnet = self.network.subnets[gateway.subnet_id or ""]
        session = self._nat_sessions.get(gateway.id) if self.return_path else None
        if session is not None:
            client, ports = session
            self.hop(
                "nat-gateway",
                gateway.id,
                f"{gateway.id} translates the response back to "
                f"{format_address(packet.family, client)} port {port_text(ports)}",
                direction="egress",
            )
            back = packet.with_(dst=client, dst_ports=ports)
            record = self.observe(gateway.interface_id, "egress", back)
            return self.route(nat_subnet, back, record)
        # A response that reaches a NAT gateway it never left by is translated as a new connection: the
        # client then sees it come from the NAT's address (the asymmetric-route check names that).
        if packet.dst == gateway.private_ip:
            self.block(
                "nat-gateway",
                gateway.id,
                "NAT_GATEWAY_NO_SESSION",
                f"{gateway.id} accepts no connection addressed to itself ({packet.dst_text})",
                direction="ingress",
            )
            return None
        if packet.protocol not in (1, 6, 17):
            self.block(
                "nat-gateway", gateway.id, "NGW_PROTOCOL_RESTRICTION", f"{gateway.id} carries only TCP, UDP and ICMP"
            )
            return None
        self._nat_sessions[gateway.id] = (packet.src, packet.src_ports)
        assert gateway.private_ip is not None
        translated = packet.with_(
            src=gateway.private_ip, src_ports=NAT_PORTS if packet.protocol in (6, 17) else packet.src_ports
        )
        self.hop(
            "nat-gateway",
            gateway.id,
            f"{gateway.id} translates {packet.src_text} to its address "
            f"{translated.src_text}" + (f" (ports {port_text(NAT_PORTS)})" if packet.protocol in (6, 17) else ""),
            direction="ingress",
        )
        record = self.observe(gateway.interface_id, "egress", translated)
        return self.route(nat_subnet, translated, record)

    def nat_from_internet(self, gateway: Gateway, packet: Packet) -> Arrival | None:
        if not self.return_path or gateway.id not in self._nat_sessions:
            self.block(
                "nat-gateway",
                gateway.id,
                "NAT_GATEWAY_NO_SESSION",
                f"{gateway.id} drops connections started from the internet (it only carries responses)",
                direction="ingress",
            )
            return None
        igw = self._igw_of(gateway.vpc_ids[0])
        assert gateway.private_ip is not None
        self.hop(
            "internet-gateway",
            igw,
            f"{igw} translates {packet.dst_text} to {gateway.id}'s private address "
            f"{format_address(IPV4, gateway.private_ip)}",
            direction="ingress",
        )
        packet = packet.with_(dst=gateway.private_ip)
        return self.arrive(self.network.subnets[gateway.subnet_id or ""], packet, crossing=True)

    def peering(self, pcx_id: str, vpc_id: str, packet: Packet) -> Arrival | None:
        peering = self.network.peerings.get(pcx_id)
        if peering is None:
            self.notes.append(f"{pcx_id} is not in the snapshot: the path leaves what reach can see there")
            self.hop("vpc-peering-connection", pcx_id, f"leaves the snapshot through {pcx_id}", direction="egress")
            return ("exit", pcx_id, packet)
        if peering.status != "active":
            self.block("vpc-peering-connection", pcx_id, "BAD_STATE", f"{pcx_id} is {peering.status}, not active")
            return None
        other = peering.other_side(vpc_id)
        if other is None:
            self.block("vpc-peering-connection", pcx_id, "BAD_STATE", f"{pcx_id} does not connect {vpc_id}")
            return None
        if not any(c.contains(packet.family, packet.dst) for c in other.cidrs):
            self.block(
                "vpc-peering-connection",
                pcx_id,
                "PCX_REQUIRES_ADDRESS_IN_VPC_CIDR",
                f"{pcx_id} carries only traffic for {other.vpc_id}'s CIDRs "
                f"({', '.join(str(c) for c in other.cidrs)}); {packet.dst_text} is outside them",
            )
            return None
        self.hop("vpc-peering-connection", pcx_id, f"{pcx_id} carries it to {other.vpc_id}")
        if other.vpc_id not in self.network.vpcs:
            self.notes.append(
                f"{other.vpc_id} (peer of {pcx_id}) is not in the snapshot: the path leaves what reach can see"
            )
            return ("exit", pcx_id, packet)
        return self.local(other.vpc_id, packet, None, None)

    def reenter(self, gateway_id: str, packet: Packet) -> Arrival | None:
        """A response coming back in through the gateway its request left by (VPN, endpoint, peering)."""
        back = reenter_transit(self, gateway_id, packet)
        if back is not False:
            return back
        self.hop(
            self.graph.nodes[gateway_id].get("kind", "gateway") if gateway_id in self.graph else "gateway",
            gateway_id,
            f"the response comes back in through {gateway_id}",
            direction="ingress",
        )
        for vpc in self.network.vpcs.values():
            if self.network.subnet_of(vpc.id, packet.family, packet.dst) and self.network.interface_in_vpc(
                vpc.id, packet.family, packet.dst
            ):
                return self.local(vpc.id, packet, None, None)
        self.block("route-table", None, "NO_ROUTE_TO_DESTINATION", f"nothing routes the response to {packet.dst_text}")
        return None
