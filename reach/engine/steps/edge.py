"""Where the snapshot ends: flows that start outside every VPC, responses coming back in.

A flow from an address outside the snapshot comes in the way the destination VPC routes its source back:
through its VPN gateway, or through a transit gateway's VPN / Direct Connect attachment, when the source is
a private address, a route names its range (not just a default route), or a VPN connection's static route
holds it; otherwise from the internet. A response to a request that left the snapshot (a VPN, an endpoint, a
peering the snapshot lacks) comes back in through the gateway it left by.
"""

from __future__ import annotations

from reach.engine.leg import Leg
from reach.engine.moves import FromOutside, Internet, Local, Next, Reenter
from reach.engine.steps import transit_gateway, vpn_gateway
from reach.engine.steps.appliance import redirect
from reach.model.addr import is_rfc1918, is_rfc6598
from reach.model.vocabulary import Direction, Kind, Reason


def from_outside(leg: Leg, move: FromOutside) -> Next:
    packet = move.packet
    private = is_rfc1918(packet.family, packet.src) or is_rfc6598(packet.family, packet.src)
    network = leg.network
    for vpc in network.vpcs_holding(packet.family, packet.dst):
        home = network.subnet_of(vpc.id, packet.family, packet.dst)
        home_table = network.route_table_of(home) if home else None
        tables = [home_table] if home_table else []
        tables += [t for t in leg.topology.route_tables_of(vpc.id) if t not in tables]
        for table in tables:
            route = table.lookup(packet.family, packet.src)
            if route is None or route.state != "active":
                continue
            on_premises = vpn_gateway.holds_source(network, route.target_id, packet.family, packet.src)
            if route.cidr.prefixlen == 0 and not private and not on_premises:
                continue
            if route.target_kind == Kind.VPN_GATEWAY:
                why = f"{table.id} routes {route.destination} there"
                if not vpn_gateway.inbound(leg, route.target_id, vpc.id, why, packet):
                    return None
                redirected = redirect(leg, route.target_id, vpc.id, packet)
                return Local(vpc.id, packet) if redirected is False else redirected
            if route.target_kind == Kind.TRANSIT_GATEWAY:
                entered = transit_gateway.from_outside(leg, route.target_id, table.id, packet)
                return Internet(packet) if entered is False else entered
    return Internet(packet)


def reenter(leg: Leg, move: Reenter) -> Next:
    """A response coming back in through the gateway its request left by."""
    gateway_id, packet = move.gateway_id, move.packet
    topology = leg.topology
    for side in topology.attachment_sides(gateway_id):
        if side.kind not in ("vpc", "peering"):
            return transit_gateway.reenter(leg, side, packet)
    leg.hop(
        topology.kind(gateway_id) or "gateway",
        gateway_id,
        f"the response comes back in through {gateway_id}",
        direction=Direction.INGRESS,
    )
    order = {vpc_id: i for i, vpc_id in enumerate(leg.network.vpcs)}
    holders = sorted(
        {i.vpc_id for i in leg.network.interfaces_at(packet.family, packet.dst)},
        key=lambda v: (order.get(v, len(order)), v),
    )
    for vpc_id in holders:
        if leg.network.subnet_of(vpc_id, packet.family, packet.dst) is not None:
            redirected = redirect(leg, gateway_id, vpc_id, packet)
            return Local(vpc_id, packet) if redirected is False else redirected
    leg.block(
        Kind.ROUTE_TABLE, None, Reason.NO_ROUTE_TO_DESTINATION, f"nothing routes the response to {packet.dst_text}"
    )
    return None
