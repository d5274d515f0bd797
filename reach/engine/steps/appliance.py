"""Appliances: a route whose target is a network interface (a firewall, a NAT instance).

The packet enters the appliance's subnet (its network ACL applies from another subnet) and meets the
appliance's security groups. An interface with source/destination check on drops traffic not addressed to
it (`ENI_SOURCE_DEST_CHECK_RESTRICTION`); with it off, the appliance forwards the packet as its own sender.
An appliance forwarding someone else's IPv4 packet to an internet gateway must translate its source, as a
NAT instance does: reach assumes so, says so, and remembers the connection so the answer finds its way back.

A packet a middlebox forwards untranslated loses its security group membership: further on, rules that
admit members of a group do not admit it (`SG_REFERENCES_NOT_PRESERVED`, aws-semantics E.1). A gateway
route table (ingress routing) sends what comes in through an internet or VPN gateway to an appliance the
same way (`redirect`).
"""

from __future__ import annotations

from typing import Literal

from reach.engine.leg import Leg, Record
from reach.engine.moves import Follow, Next, Send, Unmasquerade
from reach.engine.packet import NAT_PORTS, Packet
from reach.engine.steps.filters import decide, network_acl, security_groups
from reach.model.addr import IPV4
from reach.model.network import Interface, Route, RouteTable
from reach.model.protocols import PORTED
from reach.model.vocabulary import Direction, Kind, Reason


def to_appliance(leg: Leg, move: Follow) -> Next:
    return into_appliance(leg, move.route.target_id, move.packet, move.subnet.id)


def into_appliance(leg: Leg, interface_id: str, packet: Packet, from_subnet: str | None) -> Next:
    """A route sends the packet to an appliance's interface, from `from_subnet` (None: from a gateway)."""
    appliance = leg.network.interfaces.get(interface_id)
    if appliance is None:
        leg.block(
            Kind.NETWORK_INTERFACE,
            interface_id,
            Reason.UNKNOWN_RESOURCE,
            f"the route's target {interface_id} is not in the snapshot",
        )
        return None
    target_subnet = leg.subnet(appliance.subnet_id, appliance.vpc_id, of=appliance.id)
    record = leg.observe(appliance.id, Direction.INGRESS, packet)
    crossing = target_subnet.id != from_subnet
    filtered = decide(leg, appliance, target_subnet, Direction.INGRESS, packet, record, crossing=crossing)
    if crossing:
        network_acl(leg, filtered)
    security_groups(leg, filtered)
    if not source_dest_check(leg, appliance, packet, Direction.INGRESS, record):
        leg.hop(
            Kind.NETWORK_INTERFACE,
            appliance.id,
            f"{appliance.label} forwards (source/destination check off)",
            direction=Direction.INGRESS,
        )
    forwarded = _masquerade(leg, appliance, packet)
    forwards(leg, appliance, forwarded)
    return Send(appliance, forwarded)


def forwards(leg: Leg, appliance: Interface, packet: Packet) -> None:
    """The appliance sends on a packet: remembered (for ingress routing's symmetry), and one it did not
    translate to its own address carries no security group membership any more."""
    leg.forwarders.append((leg.response, appliance.id))
    if not appliance.holds(packet.family, packet.src):
        leg.discard_groups(Reason.SG_REFERENCES_NOT_PRESERVED, f"{appliance.label}, a middlebox")


def source_dest_check(
    leg: Leg, interface: Interface, packet: Packet, direction: Direction, record: Record | None
) -> bool:
    """Does the interface's source/destination check drop the packet (one not from it on the way out, not
    for it on the way in)? Then it is a blocker."""
    egress = direction == Direction.EGRESS
    if not interface.source_dest_check or interface.holds(packet.family, packet.src if egress else packet.dst):
        return False
    what = f"packets from {packet.src_text}" if egress else f"traffic for {packet.dst_text}"
    leg.block(
        Kind.NETWORK_INTERFACE,
        interface.id,
        Reason.ENI_SOURCE_DEST_CHECK_RESTRICTION,
        f"{interface.label} has source/destination check on, so it drops {what}, which is not its own address",
        direction=direction,
        record=record,
    )
    return True


def _masquerade(leg: Leg, appliance: Interface, packet: Packet) -> Packet:
    """The packet as the appliance forwards it: translated to its own address when it goes on to an internet
    gateway (a NAT instance), else as it came."""
    if leg.response or packet.family != IPV4 or appliance.holds(packet.family, packet.src):
        return packet
    own = next((v for f, v in appliance.private_ips if f == IPV4), None)
    table = leg.network.route_table_of(leg.subnet(appliance.subnet_id, appliance.vpc_id, of=appliance.id))
    route = table.lookup(packet.family, packet.dst) if table else None
    if (
        own is None
        or route is None
        or route.target_kind != Kind.INTERNET_GATEWAY
        or appliance.public_for(IPV4, own) is None
    ):
        return packet
    leg.appliance_sessions[appliance.id] = (packet.src, packet.src_ports)
    leg.assume(
        f"{appliance.label} forwards {packet.src_text}'s traffic to {route.target_id}: reach assumed it "
        "translates the source to its own address, as a NAT instance does (its OS rules are not in the "
        "snapshot)"
    )
    translated = packet.with_(src=own, src_ports=NAT_PORTS if packet.protocol in PORTED else packet.src_ports)
    leg.hop(
        Kind.NETWORK_INTERFACE,
        appliance.id,
        f"{appliance.label} translates {packet.src_text} to its own address "
        f"{translated.src_text} (assumed: it forwards to {route.target_id}, as a NAT instance does)",
        direction=Direction.EGRESS,
    )
    return translated


def unmasquerade(leg: Leg, move: Unmasquerade) -> Next:
    """A NAT instance's response: translated back to the client the request came from, and forwarded."""
    appliance = move.appliance
    client, ports = leg.appliance_sessions.pop(appliance.id)
    back = move.packet.with_(dst=client, dst_ports=ports)
    leg.hop(
        Kind.NETWORK_INTERFACE,
        appliance.id,
        f"{appliance.label} translates the response back to {back.dst_text} and forwards it",
        direction=Direction.INGRESS,
    )
    forwards(leg, appliance, back)
    return Send(appliance, back)


# --- ingress routing: gateway route tables --------------------------------------------------------------


def gateway_route(leg: Leg, gateway_id: str, vpc_id: str, family: int, address: int) -> tuple[RouteTable, Route] | None:
    """The route of the gateway's own route table (edge association) for `address`, if it has one."""
    for table in leg.topology.route_tables_of(vpc_id):
        if gateway_id in table.gateways:
            route = table.lookup(family, address)
            return (table, route) if route is not None else None
    return None


def redirect(leg: Leg, gateway_id: str, vpc_id: str, packet: Packet) -> Next | Literal[False]:
    """What comes in through an internet or VPN gateway is routed by the gateway's route table, when it has
    one (ingress routing): to an appliance, or on by the local route. False: nothing redirects it."""
    found = gateway_route(leg, gateway_id, vpc_id, packet.family, packet.dst)
    if found is None:
        return False
    table, route = found
    if route.state != "active":
        leg.block(
            Kind.ROUTE_TABLE,
            table.id,
            Reason.BAD_STATE_ROUTE,
            f"{table.id}, the route table of {gateway_id}, routes {route.destination} to a target that is gone: "
            f"{packet.dst_text} is dropped",
            rule=route.destination,
        )
        return None
    leg.hop(
        Kind.ROUTE_TABLE,
        table.id,
        f"{route.ref.detail} (the gateway route table of {gateway_id})",
        rule=route.destination,
    )
    if route.target_kind == Kind.NETWORK_INTERFACE:
        return into_appliance(leg, route.target_id, packet, None)
    if route.target_kind == "local":
        return False
    note = (
        f"{table.id} sends what comes in through {gateway_id} to {route.target_id}: what lies behind it is not "
        "modelled"
    )
    detail = f"leaves the snapshot through {route.target_id}"
    return leg.leave(str(route.target_kind), route.target_id, detail, packet, note)


def redirected_around(leg: Leg, gateway_id: str, vpc_id: str, packet: Packet) -> bool:
    """A packet about to leave through an internet gateway whose route table sends its source's inbound traffic
    to an appliance must leave through that appliance too: the direct route cannot be used
    (`INGRESS_RTB_TRAFFIC_REDIRECTION`). True when it is so blocked."""
    found = gateway_route(leg, gateway_id, vpc_id, packet.family, packet.src)
    if found is None or found[1].target_kind not in (Kind.NETWORK_INTERFACE, Kind.VPC_ENDPOINT):
        return False
    table, route = found
    if (leg.response, route.target_id) in leg.forwarders:
        return False
    leg.block(
        Kind.ROUTE_TABLE,
        leg.last_route[0].id if leg.last_route else table.id,
        Reason.INGRESS_RTB_TRAFFIC_REDIRECTION,
        f"{table.id}, the route table of {gateway_id}, sends traffic for {route.destination} to {route.target_id}, so "
        f"{packet.src_text} cannot leave through {gateway_id} directly: it must go through {route.target_id} too",
        rule=leg.last_route[1].destination if leg.last_route else None,
    )
    return True
