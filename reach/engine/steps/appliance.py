"""Appliances: a route whose target is a network interface (a firewall, a NAT instance).

The packet enters the appliance's subnet (its network ACL applies from another subnet) and meets the
appliance's security groups. An interface with source/destination check on drops traffic not addressed to
it (`ENI_SOURCE_DEST_CHECK_RESTRICTION`); with it off, the appliance forwards the packet as its own sender.
An appliance forwarding someone else's IPv4 packet to an internet gateway must translate its source, as a
NAT instance does: reach assumes so, says so, and remembers the connection so the answer finds its way back.
"""

from __future__ import annotations

from reach.engine.leg import Leg, Record
from reach.engine.moves import Follow, Next, Send, Unmasquerade
from reach.engine.packet import NAT_PORTS, Packet
from reach.engine.steps.filters import decide, network_acl, security_groups
from reach.model.addr import IPV4
from reach.model.network import Interface
from reach.model.protocols import PORTED
from reach.model.vocabulary import Direction, Kind, Reason


def to_appliance(leg: Leg, move: Follow) -> Next:
    interface_id, subnet, packet = move.route.target_id, move.subnet, move.packet
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
    crossing = target_subnet.id != subnet.id
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
    return Send(appliance, _masquerade(leg, appliance, packet))


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
    leg.note(
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
    return Send(appliance, back)
