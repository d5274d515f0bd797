"""Transit gateways: attachments, route tables, peering across regions.

A VPC route to a transit gateway takes the packet into the gateway through the VPC attachment's subnet in
the packet's Availability Zone (none there: `TGW_ROUTE_AZ_RESTRICTION`). The route table associated with
that attachment picks the next attachment: a VPC (the packet enters through that attachment's subnet and
is routed by its route table, so inspection VPCs work), a peering attachment (the peer gateway's table
continues, in another region or account), or a VPN / Direct Connect / Connect attachment, where the path
leaves the modelled network. Network ACLs of the attachment subnets apply as AWS documents
(`tgw-nacls.md`): the entry subnet's inbound rules on the way in, the exit subnet's outbound rules on the
way out, none between an attachment and instances of its own subnet.
"""

from __future__ import annotations

from typing import Literal

from reach.engine.fixes import KnownFix, RouteFix
from reach.engine.leg import MAX_TRANSIT_HOPS, Leg
from reach.engine.moves import Follow, Next, RouteOut
from reach.engine.packet import Packet
from reach.engine.steps.filters import subnet_boundary
from reach.engine.steps.vpn_gateway import transit_vpn_state
from reach.model.transit import TgwAttachment, TransitGateway
from reach.model.vocabulary import Direction, Kind, Reason

_OUTSIDE = {
    "vpn": "VPN connection",
    "direct-connect-gateway": "Direct Connect gateway",
    "connect": "Connect attachment",
}
_INSPECTION = (Kind.NETWORK_INTERFACE, Kind.VPC_ENDPOINT)  # route targets that steer to an appliance


def enter(leg: Leg, move: Follow) -> Next:
    """A VPC route sends the packet from `subnet` to the transit gateway."""
    tgw_id, table, route, subnet, packet = move.route.target_id, move.table, move.route, move.subnet, move.packet
    transit = leg.network.transit
    gateway = transit.gateways.get(tgw_id)
    if gateway is None:
        note = (
            f"{tgw_id} is not in the snapshot: reach assumed it carries the packet on, out of what the snapshot shows"
        )
        return leg.leave(Kind.TRANSIT_GATEWAY, tgw_id, f"leaves the snapshot through {tgw_id}", packet, note,
                         assumed=True)
    if gateway.state != "available":
        leg.block(Kind.TRANSIT_GATEWAY, tgw_id, Reason.BAD_STATE, f"{gateway.label} is {gateway.state}, not available")
        return None
    attachment = transit.vpc_attachment(tgw_id, subnet.vpc_id)
    if attachment is None:
        leg.block(
            Kind.TRANSIT_GATEWAY,
            tgw_id,
            Reason.UNKNOWN_RESOURCE,
            f"{table.id} routes {route.destination} to {gateway.label}, but the snapshot holds no attachment of "
            f"{subnet.vpc_id} to it (describe-transit-gateway-vpc-attachments): reach assumed the packet is "
            "dropped there, as AWS drops traffic for a route whose attachment is gone",
            rule=route.destination,
        )
        return None
    if attachment.state != "available":
        leg.block(
            Kind.TRANSIT_GATEWAY,
            attachment.id,
            Reason.BAD_STATE_ATTACHMENT,
            f"{attachment.label} of {subnet.vpc_id} to {gateway.label} is {attachment.state}",
        )
        return None
    if not attachment.subnets:  # AWS attaches a VPC through one subnet per zone at least: these are unknown
        leg.block(
            Kind.TRANSIT_GATEWAY,
            attachment.id,
            Reason.UNKNOWN_RESOURCE,
            f"the snapshot does not list the subnets of {attachment.label} (describe-transit-gateway-vpc-"
            f"attachments), so where the packet enters {gateway.label} is unknown",
            direction=Direction.INGRESS,
        )
        return None
    if subnet.az is None and not leg.topology.subnet_known(subnet.id):
        leg.block(
            Kind.TRANSIT_GATEWAY,
            attachment.id,
            Reason.UNKNOWN_RESOURCE,
            f"{subnet.id} is not in the snapshot, so its Availability Zone, and the subnet of {attachment.label} "
            f"the packet enters {gateway.label} through, are unknown",
            direction=Direction.INGRESS,
        )
        return None
    entry_id = attachment.subnet_in(subnet.az)
    if entry_id is None:
        zones = ", ".join(f"{az} ({sid})" for az, sid in attachment.subnets) or "none"
        leg.block(
            Kind.TRANSIT_GATEWAY,
            attachment.id,
            Reason.TGW_ROUTE_AZ_RESTRICTION,
            f"{attachment.label} has no subnet in {subnet.az}, where {subnet.id} is, so traffic from there "
            f"cannot enter {gateway.label} (attachment subnets: {zones})",
            direction=Direction.INGRESS,
            fix_context=KnownFix(
                f"aws ec2 modify-transit-gateway-vpc-attachment --transit-gateway-attachment-id "
                f"{attachment.id} --add-subnet-ids <a subnet of {subnet.vpc_id} in {subnet.az}>"
            ),
        )
        return None
    entry = leg.network.subnets.get(entry_id)
    if entry is not None:
        subnet_boundary(leg, entry, Direction.INGRESS, packet, None)
    leg.hop(
        Kind.TRANSIT_GATEWAY,
        gateway.id,
        f"{attachment.label} takes it into {gateway.label} in {subnet.az} (attachment subnet {entry_id})",
        direction=Direction.INGRESS,
    )
    return route_in(leg, gateway, attachment, packet, subnet.az)


def reenter(leg: Leg, attachment: TgwAttachment, packet: Packet) -> Next:
    """A response coming back in through the VPN / Direct Connect attachment its request left by: the gateway
    routes it with the table associated with that attachment."""
    gateway = leg.network.transit.gateways.get(attachment.tgw_id)
    if gateway is None:
        note = f"{attachment.tgw_id} is not in the snapshot: the response comes back from outside what reach can see"
        return leg.leave(
            Kind.TRANSIT_GATEWAY, attachment.id, f"the response comes back in through {attachment.id}", packet, note,
            assumed=True,
        )
    leg.hop(
        Kind.TRANSIT_GATEWAY,
        gateway.id,
        f"the response comes back into {gateway.label} through {attachment.label}",
        direction=Direction.INGRESS,
    )
    return route_in(leg, gateway, attachment, packet, None)


def from_outside(leg: Leg, tgw_id: str, table_id: str, packet: Packet) -> Next | Literal[False]:
    """A flow from beyond one of the gateway's VPN / Direct Connect attachments (a VPC table routes its source
    to the gateway). False: the gateway has no such attachment."""
    gateway = leg.network.transit.gateways.get(tgw_id)
    if gateway is None:
        return False
    outside = [
        a
        for a in leg.topology.transit_attachments(tgw_id)
        if a.kind not in ("vpc", "peering") and a.state == "available"
    ]
    if not outside:
        return False
    chosen = outside[0]
    for attachment in outside:  # one whose routes cover the source, if the snapshot lists any
        for table in leg.topology.transit_route_tables(tgw_id):
            route = table.lookup(packet.family, packet.src)
            if route is not None and attachment.id in route.attachments:
                chosen = attachment
    leg.hop(
        Kind.TRANSIT_GATEWAY,
        gateway.id,
        f"{packet.src_text} is on the far side of {gateway.label} ({table_id} "
        f"routes it there): it comes in through {chosen.label} ({chosen.kind} {chosen.resource_id or ''})".rstrip(),
        direction=Direction.INGRESS,
    )
    if chosen.kind == "vpn":
        transit_vpn_state(leg, chosen.id, chosen.resource_id, Direction.INGRESS)
    return route_in(leg, gateway, chosen, packet, None)


def route_in(leg: Leg, gateway: TransitGateway, came_from: TgwAttachment, packet: Packet, az: str | None) -> Next:
    """The gateway routes a packet that came in through `came_from`, with the table associated with it."""
    leg.transit_hops += 1
    if leg.transit_hops > MAX_TRANSIT_HOPS:
        leg.block(
            Kind.TRANSIT_GATEWAY,
            gateway.id,
            Reason.ROUTING_LOOP,
            f"the packet has crossed transit gateways {MAX_TRANSIT_HOPS} times: the routes loop",
        )
        return None
    transit = leg.network.transit
    if came_from.route_table is None:
        leg.block(
            Kind.TRANSIT_GATEWAY,
            came_from.id,
            Reason.TGW_ATTACH_MISSING_TGW_RTB_ASSOCIATION,
            f"{came_from.label} is associated with no route table of {gateway.label}, so nothing routes "
            "the traffic it brings in",
            fix_context=KnownFix(
                "aws ec2 associate-transit-gateway-route-table --transit-gateway-route-table-id "
                f"<table> --transit-gateway-attachment-id {came_from.id}"
            ),
        )
        return None
    table = transit.route_tables.get(came_from.route_table)
    if table is None or not table.known:
        leg.block(
            Kind.TRANSIT_GATEWAY_ROUTE_TABLE,
            came_from.route_table,
            Reason.TGW_RTB_ROUTES_ARE_UNKNOWN,
            f"{came_from.label} is associated with {came_from.route_table}, whose routes are not in the snapshot "
            "(search-transit-gateway-routes, or its propagations): reach assumed nothing is routed",
        )
        return None
    route = table.lookup(packet.family, packet.dst)
    if route is None:
        learned = _learned_exit(leg, gateway, table.id, packet)
        if learned is not None:
            return learned
        _no_route(leg, gateway, table.id, packet)
        return None
    if route.blackhole:
        leg.block(
            Kind.TRANSIT_GATEWAY_ROUTE_TABLE,
            table.id,
            Reason.TGW_RTB_BAD_STATE_ROUTE,
            f"{table.label} has a blackhole route for {route.destination}: {gateway.label} drops {packet.dst_text}",
            rule=route.destination,
        )
        return None
    if len(route.attachments) > 1:
        leg.note(
            f"{table.id} spreads {route.destination} over {len(route.attachments)} attachments "
            f"(ECMP); reach follows {route.attachments[0]}"
        )
    target_id = route.attachments[0]
    leg.hop(
        Kind.TRANSIT_GATEWAY_ROUTE_TABLE,
        table.id,
        f"{table.label} routes {route.destination} to {target_id} ({route.origin})",
        rule=route.destination,
    )
    target = transit.attachment(gateway.id, target_id)
    if target is None:
        leg.block(
            Kind.TRANSIT_GATEWAY_ROUTE_TABLE,
            table.id,
            Reason.UNKNOWN_RESOURCE,
            f"{table.label} routes {route.destination} to {target_id}, which is not in the snapshot: reach "
            "assumed the packet is dropped there",
            rule=route.destination,
        )
        return None
    if target.state != "available":
        leg.block(Kind.TRANSIT_GATEWAY, target.id, Reason.BAD_STATE_ATTACHMENT, f"{target.label} is {target.state}")
        return None
    if target.kind == "vpc":
        return _into_vpc(leg, gateway, target, packet, az, peered=came_from.kind == "peering")
    if target.kind == "peering":
        return _across_peering(leg, gateway, target, packet)
    return _out_through(leg, gateway, target, packet, f"towards {route.destination} ({table.id}, {route.origin})")


def _held_by_attached_vpc(leg: Leg, gateway: TransitGateway, packet: Packet) -> TgwAttachment | None:
    for attachment in leg.topology.transit_attachments(gateway.id):
        if (
            attachment.kind == "vpc"
            and attachment.resource_id is not None
            and leg.topology.has_vpc(attachment.resource_id)
            and leg.vpc_holds(attachment.resource_id, packet.family, packet.dst)
        ):
            return attachment
    return None


def _learned_exit(leg: Leg, gateway: TransitGateway, table_id: str, packet: Packet) -> Next:
    """No listed route, but the table learns routes over BGP that the snapshot lacks: a destination no VPC of
    this gateway holds is assumed announced by the VPN / Direct Connect attachment (and said so)."""
    table = leg.network.transit.route_tables[table_id]
    if not table.learned or _held_by_attached_vpc(leg, gateway, packet) is not None:
        return None
    attachment = leg.network.transit.attachment(gateway.id, table.learned[0])
    if attachment is None or attachment.state != "available":
        return None
    leg.assume(
        f"{table.id} learns routes over BGP from {attachment.label} ({attachment.kind}), which the "
        f"snapshot does not list: reach assumed that attachment announces {packet.dst_text}"
    )
    leg.hop(
        Kind.TRANSIT_GATEWAY_ROUTE_TABLE,
        table.id,
        f"{table.label} routes {packet.dst_text} to {attachment.id} (learned over BGP: assumed)",
    )
    return _out_through(leg, gateway, attachment, packet, f"towards {packet.dst_text} (learned over BGP: assumed)")


def _out_through(leg: Leg, gateway: TransitGateway, target: TgwAttachment, packet: Packet, towards: str) -> Next:
    """Out through a VPN, Direct Connect or Connect attachment: the path leaves the modelled network (a VPN
    whose tunnels are all DOWN carries nothing)."""
    far_side = f"{_OUTSIDE.get(target.kind, target.kind)} {target.resource_id or ''}".rstrip()
    detail = f"{gateway.label} sends it out through {target.label} ({far_side}): it leaves the snapshot"
    leg.hop(Kind.TRANSIT_GATEWAY, target.id, detail, direction=Direction.EGRESS)
    if target.kind == "vpn":
        transit_vpn_state(leg, target.id, target.resource_id, Direction.EGRESS)
    return leg.exit(Kind.TRANSIT_GATEWAY, target.id, packet, f"through {target.label} ({far_side}) {towards}")


def _no_route(leg: Leg, gateway: TransitGateway, table_id: str, packet: Packet) -> None:
    table = leg.network.transit.route_tables[table_id]
    wanted = _held_by_attached_vpc(leg, gateway, packet)
    if wanted is None:
        leg.block(
            Kind.TRANSIT_GATEWAY_ROUTE_TABLE,
            table_id,
            Reason.NO_ROUTE_TO_DESTINATION,
            f"no route in {table.label} matches {packet.dst_text}",
            fix_context=RouteFix(packet),
        )
        return
    partial = table.routes_to(wanted.id)
    if partial:
        covered = ", ".join(sorted({r.destination for r in partial}))
        leg.block(
            Kind.TRANSIT_GATEWAY_ROUTE_TABLE,
            table_id,
            Reason.TGW_RTB_CANNOT_ROUTE,
            f"{table.label} routes only {covered} to {wanted.label} ({wanted.resource_id}); {packet.dst_text} "
            "is outside",
            fix_context=RouteFix(packet),
        )
        return
    leg.block(
        Kind.TRANSIT_GATEWAY_ROUTE_TABLE,
        table_id,
        Reason.TGW_RTB_NO_ROUTE_TO_TGW_ATTACHMENT,
        f"{table.label} has no route to {wanted.label}, the attachment of {wanted.resource_id} that holds "
        f"{packet.dst_text}: that attachment does not propagate into this table and no static route points at it",
        fix_context=KnownFix(
            "aws ec2 enable-transit-gateway-route-table-propagation --transit-gateway-route-table-id "
            f"{table_id} --transit-gateway-attachment-id {wanted.id}"
        ),
    )


def _into_vpc(
    leg: Leg, gateway: TransitGateway, target: TgwAttachment, packet: Packet, az: str | None, *, peered: bool
) -> Next:
    vpc_id = target.resource_id or ""
    network = leg.network
    if not leg.topology.has_vpc(vpc_id):
        note = f"{vpc_id} (behind {target.id}) is not in the snapshot: the path leaves what reach can see"
        return leg.leave(Kind.TRANSIT_GATEWAY, target.id, f"{gateway.label} sends it to {vpc_id}", packet, note,
                         assumed=True)
    zone = _zone(leg, target, packet, az)
    subnet_id = target.subnet_in(zone)
    entry = network.subnets.get(subnet_id or "")
    if entry is None:
        leg.block(
            Kind.TRANSIT_GATEWAY,
            target.id,
            Reason.UNKNOWN_RESOURCE,
            f"{target.label} has no subnet the snapshot holds, so where it enters {vpc_id} is unknown",
        )
        return None
    # group membership survives only with referencing support on both, and never across a TGW peering
    if peered:
        leg.discard_groups(Reason.SG_REFERENCING_SUPPORT, f"a peering of transit gateway {gateway.label}")
    elif not (gateway.sg_referencing and target.sg_referencing):
        leg.discard_groups(Reason.SG_REFERENCING_SUPPORT, f"transit gateway {gateway.label}")
    elif leg.groups_kept is None:
        leg.groups_kept = True
    if not leg.response:
        leg.auto_tracked = f"the attachment {target.id}"  # transit gateway attachments are tracked automatically
    leg.hop(
        Kind.TRANSIT_GATEWAY,
        gateway.id,
        f"{gateway.label} delivers it into {vpc_id} through {target.label} in {zone} (attachment subnet {entry.id})",
        direction=Direction.EGRESS,
    )
    # Routed in the destination VPC by the attachment subnet's route table (local, or an inspection appliance).
    return RouteOut(entry, packet)


def _zone(leg: Leg, target: TgwAttachment, packet: Packet, az: str | None) -> str | None:
    """The Availability Zone where the packet enters the target VPC. Default mode keeps it in the zone it came
    from when the attachment has a subnet there; appliance mode keeps both directions of a flow in one zone."""
    zones = [z for z, _ in target.subnets]
    forward = leg.transit_zones.get(f"into:{target.id}")
    if leg.response and forward is not None and target.appliance_mode:
        return forward
    zone: str | None = az
    if az not in zones:
        subnet = leg.network.subnet_of(target.resource_id or "", packet.family, packet.dst)
        zone = subnet.az if subnet is not None and subnet.az in zones else (zones[0] if zones else None)
    if not leg.response:
        leg.transit_zones[f"into:{target.id}"] = zone or ""
    elif forward is not None and zone != forward and _steers_to_appliance(leg, target, zone, packet):
        leg.note(
            f"the response enters {target.resource_id} in {zone} while the request entered in {forward}: with "
            f"appliance mode off on {target.id}, a stateful appliance there sees only one direction of the flow "
            "(TRANSIT_GATEWAY_APPLIANCE_MODE_RECOMMENDED)"
        )
    return zone


def _steers_to_appliance(leg: Leg, target: TgwAttachment, zone: str | None, packet: Packet) -> bool:
    subnet = leg.network.subnets.get(target.subnet_in(zone) or "")
    table = leg.network.route_table_of(subnet) if subnet else None
    route = table.lookup(packet.family, packet.dst) if table else None
    return route is not None and route.target_kind in _INSPECTION


def _across_peering(leg: Leg, gateway: TransitGateway, target: TgwAttachment, packet: Packet) -> Next:
    transit = leg.network.transit
    peer_id = target.resource_id or ""
    peer = transit.gateways.get(peer_id)
    peer_side = transit.attachment(peer_id, target.id)
    if peer is None or peer_side is None:
        note = f"{peer_id}, the peer of {gateway.id} over {target.id}, is not in the snapshot: the path leaves it there"
        return leg.leave(Kind.TRANSIT_GATEWAY, target.id, f"{target.label} carries it to {peer_id}", packet, note,
                         assumed=True)
    where = f" in {peer.region}" if peer.region and peer.region != gateway.region else ""
    leg.hop(
        Kind.TRANSIT_GATEWAY,
        peer.id,
        f"{target.label} carries it from {gateway.label} to {peer.label}{where}",
        direction=Direction.INGRESS,
    )
    return route_in(leg, peer, peer_side, packet, None)
