"""Internet gateways (and egress-only ones), and the internet beyond them.

Out: an internet gateway drops private destinations, and carries IPv4 only from an address with a public
one (which it translates to); IPv6 passes as is. An egress-only gateway carries IPv6 out, and lets in only
the responses of connections that went out. In: a public address maps to the interface (or NAT gateway)
holding it; a private address is unreachable from the internet, and so is a VPC without an internet gateway.
"""

from __future__ import annotations

from reach.engine.graph import INTERNET
from reach.engine.leg import Arrival, End, Leg
from reach.engine.moves import Enter, Follow, Internet, Local, NatFromInternet, Next
from reach.engine.packet import Packet
from reach.engine.steps.appliance import redirect, redirected_around
from reach.model.addr import IPV4, format_address, is_rfc1918, is_rfc6598
from reach.model.network import Interface
from reach.model.vocabulary import Direction, Kind, Reason


def out(leg: Leg, move: Follow) -> Next:
    """A route sends the packet to an internet gateway."""
    igw_id, vpc_id, packet = move.route.target_id, move.subnet.vpc_id, move.packet
    gateway = leg.network.gateways.get(igw_id)
    if gateway is None:
        _assumed(leg, igw_id, vpc_id)
    elif vpc_id not in gateway.vpc_ids:
        attached = f"attached to {', '.join(gateway.vpc_ids)}" if gateway.vpc_ids else "detached"
        leg.block(
            Kind.INTERNET_GATEWAY,
            igw_id,
            Reason.BAD_STATE_ATTACHMENT,
            f"{igw_id} is {attached}, not attached to {vpc_id}: it carries nothing for {vpc_id}",
            direction=Direction.EGRESS,
        )
        return None
    if packet.family == IPV4:
        if is_rfc1918(packet.family, packet.dst) or is_rfc6598(packet.family, packet.dst):
            code = (
                Reason.IGW_DESTINATION_ADDRESS_NOT_IN_RFC1918_EGRESS
                if is_rfc1918(packet.family, packet.dst)
                else Reason.IGW_DESTINATION_ADDRESS_NOT_IN_RFC6598_EGRESS
            )
            leg.block(
                Kind.INTERNET_GATEWAY,
                igw_id,
                code,
                f"{igw_id} drops traffic to the private address {packet.dst_text}",
                direction=Direction.EGRESS,
            )
            return None
        if redirected_around(leg, igw_id, vpc_id, packet):
            return None
        public = _public_address(leg, vpc_id, packet)
        if public is None:
            private_nat = next((g for g in leg.topology.nat_gateways_of(vpc_id) if g.private_ip == packet.src), None)
            leg.block(
                Kind.INTERNET_GATEWAY,
                igw_id,
                Reason.IGW_PUBLIC_IP_ASSOCIATION_FOR_EGRESS,
                f"{private_nat.id} is a private NAT gateway (no public address): {igw_id} drops its traffic"
                if private_nat is not None
                else f"{packet.src_text} has no public IPv4 address, so {igw_id} cannot carry it to the internet",
                direction=Direction.EGRESS,
            )
            return None
        leg.hop(
            Kind.INTERNET_GATEWAY,
            igw_id,
            f"{igw_id} translates {packet.src_text} to its public address {format_address(IPV4, public)}",
            direction=Direction.EGRESS,
        )
        packet = packet.with_(src=public)
    else:
        if redirected_around(leg, igw_id, vpc_id, packet):
            return None
        leg.hop(
            Kind.INTERNET_GATEWAY, igw_id, f"{igw_id} carries IPv6 traffic to the internet", direction=Direction.EGRESS
        )
    return Internet(packet)


def _assumed(leg: Leg, igw_id: str, vpc_id: str) -> None:
    leg.assume(f"{igw_id} is not in the snapshot: assumed to be an internet gateway attached to {vpc_id}")


def egress_only(leg: Leg, move: Follow) -> Next:
    """A route sends the packet to an egress-only internet gateway."""
    target, packet = move.route.target_id, move.packet
    kind = Kind.EGRESS_ONLY_INTERNET_GATEWAY
    if packet.family == IPV4:
        leg.block(kind, target, Reason.BAD_STATE_ROUTE, f"{target} carries only IPv6 traffic")
        return None
    leg.hop(kind, target, f"{target} lets IPv6 traffic out (and its responses back in)", direction=Direction.EGRESS)
    leg.auto_tracked = f"egress-only internet gateway {target}"
    return Internet(packet)


def _public_address(leg: Leg, vpc_id: str, packet: Packet) -> int | None:
    interface = leg.network.interface_in_vpc(vpc_id, packet.family, packet.src)
    if interface is not None:
        return interface.public_for(packet.family, packet.src)
    for gateway in leg.topology.nat_gateways_of(vpc_id):
        if gateway.private_ip == packet.src:
            return gateway.public_ip
    return None


def internet(leg: Leg, move: Internet) -> Next:
    """The packet is on the internet: it reaches a host out there, or comes back into a VPC."""
    packet = move.packet
    leg.trace.path.append(INTERNET)
    if packet.family == IPV4:
        nat = leg.topology.nat_gateway_with_public(packet.dst)
        if nat is not None:
            return NatFromInternet(nat, packet)
        owner = leg.network.public_owner(packet.dst)
        if owner is not None:
            return _into(leg, owner[0], packet, owner[1])
        private = leg.network.interfaces_at(packet.family, packet.dst) or (
            leg.network.vpcs_holding(packet.family, packet.dst) if is_rfc1918(IPV4, packet.dst) else []
        )
        if private:
            vpc_id = private[0].vpc_id if isinstance(private[0], Interface) else private[0].id
            igw = leg.topology.gateway_of(vpc_id, Kind.INTERNET_GATEWAY)
            if igw is not None and not leg.topology.known(igw):
                _assumed(leg, igw, vpc_id)
            leg.block(
                Kind.INTERNET_GATEWAY,
                igw,
                Reason.IGW_PRIVATE_IP_ASSOCIATION_FOR_INGRESS,
                f"{packet.dst_text} is a private address: from the internet only public addresses are reachable",
                direction=Direction.INGRESS,
            )
            return None
    else:
        inside = leg.network.interfaces_at(packet.family, packet.dst)
        if inside:
            return _into(leg, inside[0], packet, packet.dst)
    leg.hop(Kind.INTERNET, None, f"reaches {packet.dst_text} on the internet")
    return Arrival(End.INTERNET, packet.dst_text, packet)


def _into(leg: Leg, interface: Interface, packet: Packet, private: int) -> Next:
    """From the internet through the VPC's internet gateway to the interface holding the address."""
    igw = leg.topology.gateway_of(interface.vpc_id, Kind.INTERNET_GATEWAY)
    if igw is None:
        eigw = leg.topology.gateway_of(interface.vpc_id, Kind.EGRESS_ONLY_INTERNET_GATEWAY) is not None
        if eigw and leg.response and packet.family != IPV4:
            leg.hop(Kind.EGRESS_ONLY_INTERNET_GATEWAY, None, "lets the response of an outbound IPv6 connection in")
            return Local(interface.vpc_id, packet)
        if leg.lacks("InternetGateways"):  # unknown, not absent: say what was assumed
            none = (
                f"the snapshot has no InternetGateways (describe-internet-gateways) and no route of "
                f"{interface.vpc_id} names one: reach assumed it has no internet gateway"
            )
            leg.assume(none)
        else:
            none = f"{interface.vpc_id} has no internet gateway"
        leg.block(
            Kind.INTERNET_GATEWAY,
            None,
            Reason.NO_ROUTE_TO_DESTINATION,
            f"{none}, so {packet.dst_text} is unreachable from the internet"
            + (" (an egress-only internet gateway lets no connection in)" if eigw else ""),
            direction=Direction.INGRESS,
        )
        return None
    if not leg.topology.known(igw):  # only a route names it
        _assumed(leg, igw, interface.vpc_id)
    if packet.family == IPV4 and (is_rfc1918(IPV4, packet.src) or is_rfc6598(IPV4, packet.src)):
        shared = not is_rfc1918(IPV4, packet.src)
        code = Reason.IGW_SOURCE_ADDRESS_NOT_IN_RFC1918_INGRESS
        leg.block(
            Kind.INTERNET_GATEWAY,
            igw,
            Reason.IGW_SOURCE_ADDRESS_NOT_IN_RFC6598_INGRESS if shared else code,
            f"{igw} drops traffic from the {'shared (RFC 6598)' if shared else 'private'} address {packet.src_text}",
            direction=Direction.INGRESS,
        )
        return None
    if packet.family == IPV4:
        leg.hop(
            Kind.INTERNET_GATEWAY,
            igw,
            f"{igw} translates {packet.dst_text} to {interface.label}'s private address "
            f"{format_address(IPV4, private)}",
            direction=Direction.INGRESS,
        )
        packet = packet.with_(dst=private)
    else:
        leg.hop(Kind.INTERNET_GATEWAY, igw, f"{igw} carries IPv6 traffic in", direction=Direction.INGRESS)
    redirected = redirect(leg, igw, interface.vpc_id, packet)
    if redirected is not False:
        return redirected
    return Enter(leg.subnet(interface.subnet_id, interface.vpc_id, of=interface.id), packet, crossing=True)
