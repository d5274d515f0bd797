"""NAT gateways: a route sends the packet to one; it translates the source to its own address.

The packet enters the NAT gateway's subnet (its network ACL applies when it comes from another subnet) and
meets the gateway's interface, which has no security groups. The gateway carries TCP, UDP and ICMP only
(`NGW_PROTOCOL_RESTRICTION`), remembers the connection, and routes the translated packet from its own
subnet. The response comes back to its address and is translated back to the client. A connection started
towards the gateway (from the internet, or to its own address) has no session and is dropped.
"""

from __future__ import annotations

from reach.engine.leg import Leg
from reach.engine.moves import AtNat, Enter, Follow, NatFromInternet, Next, RouteOut
from reach.engine.packet import NAT_PORTS, port_text
from reach.model.addr import IPV4, format_address
from reach.model.network import Gateway, Subnet
from reach.model.protocols import ICMP, PORTED, TCP, UDP
from reach.model.vocabulary import Direction, Kind, Reason

NAT_PROTOCOLS = (ICMP, TCP, UDP)


def _subnet(leg: Leg, gateway: Gateway) -> Subnet:
    return leg.subnet(gateway.subnet_id or "", gateway.vpc_ids[0] if gateway.vpc_ids else "", of=gateway.id)


def to_nat(leg: Leg, move: Follow) -> Next:
    """A route sends the packet to a NAT gateway: it enters the gateway's subnet, addressed to the gateway."""
    nat_id, subnet, packet = move.route.target_id, move.subnet, move.packet
    gateway = leg.network.gateways.get(nat_id)
    if gateway is None:
        missing = (
            "the snapshot has no NatGateways (describe-nat-gateways)" if leg.lacks("NatGateways")
            else f"{nat_id} is not in the snapshot"
        )
        leg.block(
            Kind.NAT_GATEWAY, nat_id, Reason.UNKNOWN_RESOURCE,
            f"the route's target is {nat_id}, but {missing}: where it sends the packet is unknown",
        )
        return None
    if gateway.state != "available":
        leg.block(Kind.NAT_GATEWAY, nat_id, Reason.BAD_STATE, f"{nat_id} is {gateway.state}")
        return None
    if gateway.subnet_id not in leg.network.subnets or gateway.private_ip is None:
        leg.block(
            Kind.NAT_GATEWAY, nat_id, Reason.UNKNOWN_RESOURCE, f"{nat_id}'s subnet or address is not in the snapshot"
        )
        return None
    nat_subnet = leg.network.subnets[gateway.subnet_id]
    return Enter(nat_subnet, packet, crossing=nat_subnet.id != subnet.id, at=gateway.private_ip)


def at_nat(leg: Leg, move: AtNat) -> Next:
    gateway, packet = move.gateway, move.packet
    nat_subnet = _subnet(leg, gateway)
    session = leg.nat_sessions.get(gateway.id) if leg.response else None
    if session is not None:
        client, ports = session
        leg.hop(
            Kind.NAT_GATEWAY,
            gateway.id,
            f"{gateway.id} translates the response back to {format_address(packet.family, client)} port "
            f"{port_text(ports)}",
            direction=Direction.EGRESS,
        )
        back = packet.with_(dst=client, dst_ports=ports)
        record = leg.observe(gateway.interface_id, Direction.EGRESS, back)
        return RouteOut(nat_subnet, back, record)
    # A response that reaches a NAT gateway it never left by is translated as a new connection: the client
    # then sees it come from the NAT's address (the asymmetric-route check names that).
    if packet.dst == gateway.private_ip:
        leg.block(
            Kind.NAT_GATEWAY,
            gateway.id,
            Reason.NAT_GATEWAY_NO_SESSION,
            f"{gateway.id} accepts no connection addressed to itself ({packet.dst_text})",
            direction=Direction.INGRESS,
        )
        return None
    vpc_id = gateway.vpc_ids[0] if gateway.vpc_ids else None
    if vpc_id and leg.transit_hops == 0 and not leg.vpc_holds(vpc_id, packet.family, packet.src):
        leg.block(
            Kind.NAT_GATEWAY,
            gateway.id,
            Reason.NGW_REQUIRES_SOURCE_IN_VPC,
            f"{gateway.id} carries only traffic that starts in {vpc_id} (or comes through a transit gateway "
            f"attachment there); {packet.src_text} comes from a peering, a VPN or Direct Connect",
            direction=Direction.INGRESS,
        )
        return None
    if packet.protocol not in NAT_PROTOCOLS:
        leg.block(
            Kind.NAT_GATEWAY,
            gateway.id,
            Reason.NGW_PROTOCOL_RESTRICTION,
            f"{gateway.id} carries only TCP, UDP and ICMP",
        )
        return None
    leg.nat_sessions[gateway.id] = (packet.src, packet.src_ports)
    leg.auto_tracked = f"NAT gateway {gateway.id}"  # NAT gateways' connections are tracked automatically
    assert gateway.private_ip is not None
    ported = packet.protocol in PORTED
    translated = packet.with_(src=gateway.private_ip, src_ports=NAT_PORTS if ported else packet.src_ports)
    leg.hop(
        Kind.NAT_GATEWAY,
        gateway.id,
        f"{gateway.id} translates {packet.src_text} to its address {translated.src_text}"
        + (f" (ports {port_text(NAT_PORTS)})" if ported else ""),
        direction=Direction.INGRESS,
    )
    record = leg.observe(gateway.interface_id, Direction.EGRESS, translated)
    return RouteOut(nat_subnet, translated, record)


def from_internet(leg: Leg, move: NatFromInternet) -> Next:
    """A packet from the internet to the NAT gateway's public address: only a response of its sessions."""
    gateway, packet = move.gateway, move.packet
    if not leg.response or gateway.id not in leg.nat_sessions:
        leg.block(
            Kind.NAT_GATEWAY,
            gateway.id,
            Reason.NAT_GATEWAY_NO_SESSION,
            f"{gateway.id} drops connections started from the internet (it only carries responses)",
            direction=Direction.INGRESS,
        )
        return None
    igw = leg.topology.gateway_of(gateway.vpc_ids[0], Kind.INTERNET_GATEWAY) if gateway.vpc_ids else None
    assert gateway.private_ip is not None
    leg.hop(
        Kind.INTERNET_GATEWAY,
        igw,
        f"{igw} translates {packet.dst_text} to {gateway.id}'s private address "
        f"{format_address(IPV4, gateway.private_ip)}",
        direction=Direction.INGRESS,
    )
    return Enter(_subnet(leg, gateway), packet.with_(dst=gateway.private_ip), crossing=True)
