"""The VPC router: a packet leaving an interface, the route lookup, local delivery, arrival in a subnet.

A packet leaves an interface through its security groups; leaving the subnet it crosses the subnet's
network ACL, then the subnet's route table picks the longest matching route. The local route delivers it
into the subnet holding its destination, where the network ACL and then the receiver's security groups
apply. Who receives decides what follows: an interface (delivered, or forwarded when source/destination
check is off), a NAT gateway, a load balancer node, or a NAT instance holding the response's session.
"""

from __future__ import annotations

from reach.engine.fixes import KnownFix, RouteFix
from reach.engine.leg import MAX_ROUTINGS, Arrival, End, Leg
from reach.engine.moves import (
    AtBalancer,
    AtNat,
    AtService,
    Enter,
    Follow,
    Local,
    Next,
    RouteOut,
    Send,
    Unmasquerade,
)
from reach.engine.steps.appliance import forwards, source_dest_check
from reach.engine.steps.endpoint import endpoint_hint, interface_endpoint_note
from reach.engine.steps.filters import Filtered, decide, inside, network_acl, security_groups, subnet_boundary
from reach.engine.steps.vpn_gateway import propagated_route, propagation_hint
from reach.model.addr import format_address
from reach.model.network import Interface
from reach.model.services import NOT_FORWARDED, service_at
from reach.model.vocabulary import Direction, Kind, Reason


def send(leg: Leg, move: Send) -> Next:
    interface, packet = move.interface, move.packet
    service = service_at(leg.network, interface, packet.family, packet.dst)
    if service is not None and interface.holds(packet.family, packet.src):
        return AtService(interface, packet, service)
    if any(c.contains(packet.family, packet.dst) for c in NOT_FORWARDED):
        leg.block(
            Kind.ROUTE_TABLE,
            None,
            Reason.NO_ROUTE_TO_DESTINATION,
            f"{packet.dst_text} is a link-local or AWS-reserved address, which no route carries: the VPC router "
            "never forwards it",
        )
        return None
    record = leg.observe(interface.id, Direction.EGRESS, packet)
    if not source_dest_check(leg, interface, packet, Direction.EGRESS, record):
        leg.hop(
            Kind.NETWORK_INTERFACE,
            interface.id,
            f"{interface.label} sends {packet.src_text} -> {packet.dst_text}",
            direction=Direction.EGRESS,
        )
    subnet = leg.subnet(interface.subnet_id, interface.vpc_id, of=interface.id)
    filtered = decide(leg, interface, subnet, Direction.EGRESS, packet, record, crossing=not inside(subnet, packet))
    security_groups(leg, filtered)
    return RouteOut(subnet, packet, record, filtered)


def route_out(leg: Leg, move: RouteOut) -> Next:
    subnet, packet = move.subnet, move.packet
    leg.routed += 1
    if leg.routed > MAX_ROUTINGS:
        leg.block(
            Kind.ROUTE_TABLE,
            subnet.route_table,
            Reason.ROUTING_LOOP,
            f"the packet to {packet.dst_text} went through {MAX_ROUTINGS} routers without arriving: a routing loop",
        )
        return None
    if inside(subnet, packet):
        return Enter(subnet, packet, crossing=False)
    # Leaving the subnet: its network ACL decides at the interface, whatever the routes then do (a packet a
    # route then drops was still logged by the interface as the ACL decided: ACCEPT for a blackhole).
    _leave_subnet(leg, move)
    table = leg.network.route_table_of(subnet)
    if table is None:
        return _without_table(leg, move)
    route = table.lookup(packet.family, packet.dst)
    if route is None and not leg.topology.subnet_known(subnet.id):
        leg.block(
            Kind.ROUTE_TABLE,
            table.id,
            Reason.UNKNOWN_RESOURCE,
            f"no route in {table.id} matches {packet.dst_text}, but that is only the main route table reach "
            f"assumed for {subnet.id}, which is not in the snapshot: the subnet's own table may route it",
        )
        return None
    route = propagated_route(leg, table, packet, route) or route
    if route is None:
        hint, fix = endpoint_hint(leg, table, packet)
        if not hint:
            hint, fix = propagation_hint(leg, table, packet)
        leg.block(
            Kind.ROUTE_TABLE,
            table.id,
            Reason.NO_ROUTE_TO_DESTINATION,
            f"no route in {table.id} matches {packet.dst_text}" + hint,
            fix_context=KnownFix(fix) if fix else RouteFix(packet),
        )
        return None
    if route.target_kind == Kind.VPN_GATEWAY:
        # a route to a VPN gateway (propagated, more specific than the local route) never beats the local route
        local = [r for r in table.routes if r.target_kind == "local" and r.cidr.contains(packet.family, packet.dst)]
        route = local[0] if local else route
    leg.last_route = (table, route)
    tied = sorted({r.target_id for r in table.routes if r.cidr == route.cidr and r.priority == route.priority} - {
        route.target_id}) if route.destination.startswith("pl-") else []  # only prefix lists can tie
    if tied:  # overlapping prefix lists to different targets (aws-semantics E.4): AWS picks one, at random
        leg.note(
            f"{table.id} has routes to {route.cidr} through {route.target_id} and {', '.join(tied)} at the same "
            f"priority (overlapping prefix lists): AWS picks one at random and keeps it; reach followed "
            f"{route.destination} to {route.target_id}, the first in the snapshot's order"
        )
    if route.state != "active":
        leg.block(
            Kind.ROUTE_TABLE,
            table.id,
            Reason.BAD_STATE_ROUTE,
            route.ref.detail + f": its target is gone, so {packet.dst_text} is dropped",
            rule=route.destination,
        )
        return None
    leg.hop(Kind.ROUTE_TABLE, table.id, route.ref.detail, rule=route.destination)
    return Follow(route, table, subnet, packet)


def _leave_subnet(leg: Leg, move: RouteOut) -> None:
    if move.filtered is not None and move.filtered.crossing:
        network_acl(leg, move.filtered)
    else:
        subnet_boundary(leg, move.subnet, Direction.EGRESS, move.packet, move.record)


def _without_table(leg: Leg, move: RouteOut) -> Next:
    """No route table is known for the subnet: the VPC's local route still applies."""
    subnet, packet = move.subnet, move.packet
    if leg.lacks("RouteTables"):
        missing = "the snapshot has no RouteTables (describe-route-tables)"
    else:
        missing = f"no route table of the snapshot is associated with {subnet.id}, and its VPC's main one is unknown"
    if leg.vpc_holds(subnet.vpc_id, packet.family, packet.dst):
        leg.hop(Kind.ROUTE_TABLE, None, f"{missing}: the VPC's local route applies")
        return Local(subnet.vpc_id, packet)
    if not leg.topology.subnet_known(subnet.id):
        leg.block(
            Kind.ROUTE_TABLE,
            None,
            Reason.UNKNOWN_RESOURCE,
            f"{subnet.id} is not in the snapshot, nor is {subnet.vpc_id}'s main route table: which route "
            f"{packet.dst_text} takes out of {subnet.vpc_id} is unknown",
        )
        return None
    leg.block(
        Kind.ROUTE_TABLE,
        None,
        Reason.NO_ROUTE_TO_DESTINATION,
        f"{missing}: reach assumed {subnet.id} has only its VPC's local route, which does not hold {packet.dst_text}",
    )
    return None


def local_route(leg: Leg, move: Follow) -> Next:
    """A route whose target is `local`."""
    return Local(move.subnet.vpc_id, move.packet, move.table, move.route)


def local(leg: Leg, move: Local) -> Next:
    vpc_id, packet, table, route = move.vpc_id, move.packet, move.table, move.route
    leg.vpc_seen(vpc_id)
    subnet = leg.network.subnet_of(vpc_id, packet.family, packet.dst)
    if subnet is None:
        # An interface that holds the address sits in a subnet the snapshot lacks: deliver there (assumed).
        holder = leg.network.interface_in_vpc(vpc_id, packet.family, packet.dst)
        if holder is not None and not leg.topology.subnet_known(holder.subnet_id):
            return Enter(leg.subnet(holder.subnet_id, vpc_id, of=holder.id), packet, crossing=True)
        vpc = leg.network.vpcs.get(vpc_id)
        leg.block(
            Kind.ROUTE_TABLE,
            table.id if table else None,
            Reason.VPC_ADDRESS_NOT_IN_SUBNET,
            f"{packet.dst_text} is inside {vpc_id}'s CIDR but in no subnet, so the local route delivers it nowhere"
            if vpc
            else f"{packet.dst_text} is in no subnet of {vpc_id}",
            rule=route.destination if route else None,
        )
        return None
    return Enter(subnet, packet, crossing=True)


def enter(leg: Leg, move: Enter) -> Next:
    """The packet enters the subnet for its receiver: whoever holds `at` (its destination, or the NAT gateway
    a route sends it to)."""
    subnet, packet, crossing = move.subnet, move.packet, move.crossing
    at = packet.dst if move.at is None else move.at
    topology = leg.topology
    nat = topology.nat_gateway_at(subnet.id, at)
    receiver = leg.network.interface_in_vpc(subnet.vpc_id, packet.family, at)
    if receiver is not None and receiver.subnet_id != subnet.id:
        receiver = None
    if nat is None and receiver is not None:
        nat = topology.gateway_owning(receiver.id)
    if nat is None and receiver is None:
        leg.block(
            Kind.NETWORK_INTERFACE,
            None,
            Reason.DESTINATION_ADDRESS_UNASSIGNED,
            f"no interface in {subnet.id} holds {format_address(packet.family, at)}",
        )
        return None
    record = leg.observe(
        nat.interface_id if nat else receiver.id if receiver else None,
        Direction.INGRESS,
        packet if nat is None or leg.response else packet.with_(dst=at),
    )
    at_interface = leg.network.interfaces.get(nat.interface_id or "") if nat else receiver
    filtered = decide(leg, at_interface, subnet, Direction.INGRESS, packet, record, crossing=crossing)
    if crossing:
        network_acl(leg, filtered)
    if nat is not None:
        return AtNat(nat, packet)
    assert receiver is not None
    return _receive(leg, filtered, receiver)


def _receive(leg: Leg, filtered: Filtered, receiver: Interface) -> Next:
    packet = filtered.packet
    security_groups(leg, filtered)
    if not receiver.holds(packet.family, packet.dst):
        leg.hop(
            Kind.NETWORK_INTERFACE,
            receiver.id,
            f"{receiver.label} forwards (source/destination check off)",
            direction=Direction.INGRESS,
        )
        forwards(leg, receiver, packet)
        return Send(receiver, packet)
    if leg.response and receiver.id in leg.appliance_sessions:  # a NAT instance's answer
        return Unmasquerade(receiver, packet)
    balancer = leg.network.balancing.of_interface(receiver.id)
    if balancer is not None:
        return AtBalancer(balancer, receiver, packet)
    if receiver.kind == "vpc_endpoint" and not leg.response:
        leg.note(interface_endpoint_note(receiver.label, receiver.description))
    leg.hop(Kind.NETWORK_INTERFACE, receiver.id, f"delivered to {receiver.label}", direction=Direction.INGRESS)
    return Arrival(End.INTERFACE, receiver.id, packet)
