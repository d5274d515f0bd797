"""Walker steps beyond one VPC: transit gateways (attachments, route tables, peering across regions),
gateway endpoints, and references to what another account's part of the snapshot would hold.

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

from typing import TYPE_CHECKING, Literal

from reach.engine.packet import NAT_PORTS, Packet
from reach.model.addr import IPV4, format_address, is_rfc1918, is_rfc6598
from reach.model.network import Gateway, Interface, Route, RouteTable, Subnet
from reach.model.rules import RuleRef
from reach.model.transit import TgwAttachment, TransitGateway
from reach.model.vocabulary import Direction

if TYPE_CHECKING:
    from reach.engine.walk import Arrival, Walker

MAX_TRANSIT_HOPS = 16  # gateway traversals in one leg before reach calls it a loop

GATEWAY_ENDPOINT_PROTOCOLS = (6, 1)  # VPCE_GATEWAY_PROTOCOL_RESTRICTION: TCP, or ICMP echo


def _leave(walker: Walker, kind: str, id: str, detail: str, packet: Packet, note: str | None = None) -> Arrival:
    """The path leaves what the snapshot shows (a VPN, another account's network): an exit, said so."""
    if note:
        walker.notes.append(note)
    walker.hop(kind, id, detail, direction="egress")
    return ("exit", id, packet)


# --- transit gateways ----------------------------------------------------------------------------------


def to_transit_gateway(
    walker: Walker, tgw_id: str, table: RouteTable, route: Route, subnet: Subnet, packet: Packet
) -> Arrival | None:
    """A VPC route sends the packet from `subnet` to transit gateway `tgw_id`."""
    transit = walker.network.transit
    gateway = transit.gateways.get(tgw_id)
    if gateway is None:
        note = (
            f"{tgw_id} is not in the snapshot: reach assumed it carries the packet on, out of what the snapshot shows"
        )
        return _leave(walker, "transit-gateway", tgw_id, f"leaves the snapshot through {tgw_id}", packet, note)
    if gateway.state != "available":
        walker.block("transit-gateway", tgw_id, "BAD_STATE", f"{gateway.label} is {gateway.state}, not available")
        return None
    attachment = transit.vpc_attachment(tgw_id, subnet.vpc_id)
    if attachment is None:
        walker.block(
            "transit-gateway",
            tgw_id,
            "UNKNOWN_RESOURCE",
            f"{table.id} routes {route.destination} to {gateway.label}, but the snapshot holds no attachment of "
            f"{subnet.vpc_id} to it (describe-transit-gateway-vpc-attachments): reach assumed the packet is "
            "dropped there, as AWS drops traffic for a route whose attachment is gone",
            rule=route.destination,
        )
        return None
    if attachment.state != "available":
        walker.block(
            "transit-gateway",
            attachment.id,
            "BAD_STATE_ATTACHMENT",
            f"{attachment.label} of {subnet.vpc_id} to {gateway.label} is {attachment.state}",
        )
        return None
    entry_id = attachment.subnet_in(subnet.az)
    if entry_id is None:
        zones = ", ".join(f"{az} ({sid})" for az, sid in attachment.subnets) or "none"
        walker.block(
            "transit-gateway",
            attachment.id,
            "TGW_ROUTE_AZ_RESTRICTION",
            f"{attachment.label} has no subnet in {subnet.az}, where {subnet.id} is, so traffic from there "
            f"cannot enter {gateway.label} (attachment subnets: {zones})",
            direction="ingress",
            fix_context={
                "fix": f"aws ec2 modify-transit-gateway-vpc-attachment --transit-gateway-attachment-id "
                f"{attachment.id} --add-subnet-ids <a subnet of {subnet.vpc_id} in {subnet.az}>"
            },
        )
        return None
    entry = walker.network.subnets.get(entry_id)
    if entry is not None:
        walker.subnet_boundary(entry, Direction.INGRESS, packet, None)
    walker.hop(
        "transit-gateway",
        gateway.id,
        f"{attachment.label} takes it into {gateway.label} in {subnet.az} (attachment subnet {entry_id})",
        direction="ingress",
    )
    return _route_in(walker, gateway, attachment, packet, subnet.az)


def reenter_transit(walker: Walker, attachment_id: str, packet: Packet) -> Arrival | None | Literal[False]:
    """A response coming back in through the VPN / Direct Connect attachment its request left by: the
    gateway routes it with the table associated with that attachment. False: not a transit attachment."""
    for attachment in walker.network.transit.attachments.values():
        if attachment.id == attachment_id and attachment.kind not in ("vpc", "peering"):
            gateway = walker.network.transit.gateways[attachment.tgw_id]
            walker.hop(
                "transit-gateway",
                gateway.id,
                f"the response comes back into {gateway.label} through {attachment.label}",
                direction="ingress",
            )
            return _route_in(walker, gateway, attachment, packet, None)
    return False


def _route_in(
    walker: Walker, gateway: TransitGateway, came_from: TgwAttachment, packet: Packet, az: str | None
) -> Arrival | None:
    """The gateway routes a packet that came in through `came_from`, with the table associated with it."""
    walker.tgw_hops += 1
    if walker.tgw_hops > MAX_TRANSIT_HOPS:
        walker.block(
            "transit-gateway",
            gateway.id,
            "ROUTING_LOOP",
            f"the packet has crossed transit gateways {MAX_TRANSIT_HOPS} times: the routes loop",
        )
        return None
    transit = walker.network.transit
    if came_from.route_table is None:
        walker.block(
            "transit-gateway",
            came_from.id,
            "TGW_ATTACH_MISSING_TGW_RTB_ASSOCIATION",
            f"{came_from.label} is associated with no route table of {gateway.label}, so nothing routes "
            "the traffic it brings in",
            fix_context={
                "fix": "aws ec2 associate-transit-gateway-route-table --transit-gateway-route-table-id "
                f"<table> --transit-gateway-attachment-id {came_from.id}"
            },
        )
        return None
    table = transit.route_tables.get(came_from.route_table)
    if table is None or not table.known:
        walker.block(
            "transit-gateway-route-table",
            came_from.route_table,
            "TGW_RTB_ROUTES_ARE_UNKNOWN",
            f"{came_from.label} is associated with {came_from.route_table}, whose routes are not in the snapshot "
            "(search-transit-gateway-routes, or its propagations): reach assumed nothing is routed",
        )
        return None
    route = table.lookup(packet.family, packet.dst)
    if route is None:
        learned = _learned_exit(walker, gateway, table.id, packet)
        if learned is not None:
            return learned
        _no_route(walker, gateway, table.id, packet)
        return None
    if route.blackhole:
        walker.block(
            "transit-gateway-route-table",
            table.id,
            "TGW_RTB_BAD_STATE_ROUTE",
            f"{table.label} has a blackhole route for {route.destination}: {gateway.label} drops {packet.dst_text}",
            rule=route.destination,
        )
        return None
    if len(route.attachments) > 1:
        walker.notes.append(
            f"{table.id} spreads {route.destination} over {len(route.attachments)} attachments "
            f"(ECMP); reach follows {route.attachments[0]}"
        )
    target_id = route.attachments[0]
    walker.hop(
        "transit-gateway-route-table",
        table.id,
        f"{table.label} routes {route.destination} to {target_id} ({route.origin})",
        rule=route.destination,
    )
    target = transit.attachment(gateway.id, target_id)
    if target is None:
        walker.block(
            "transit-gateway-route-table",
            table.id,
            "UNKNOWN_RESOURCE",
            f"{table.label} routes {route.destination} to {target_id}, which is not in the snapshot: reach "
            "assumed the packet is dropped there",
            rule=route.destination,
        )
        return None
    if target.state != "available":
        walker.block("transit-gateway", target.id, "BAD_STATE_ATTACHMENT", f"{target.label} is {target.state}")
        return None
    if target.kind == "vpc":
        return _into_vpc(walker, gateway, target, packet, az, peered=came_from.kind == "peering")
    if target.kind == "peering":
        return _across_peering(walker, gateway, target, packet)
    what = {
        "vpn": "VPN connection",
        "direct-connect-gateway": "Direct Connect gateway",
        "connect": "Connect attachment",
    }
    far_side = f"{what.get(target.kind, target.kind)} {target.resource_id or ''}".rstrip()
    detail = f"{gateway.label} sends it out through {target.label} ({far_side}): it leaves the snapshot"
    return _leave(walker, "transit-gateway", target.id, detail, packet)


def _held_by_attached_vpc(walker: Walker, gateway: TransitGateway, packet: Packet) -> TgwAttachment | None:
    transit = walker.network.transit
    for attachment_id in gateway.attachments:
        attachment = transit.attachment(gateway.id, attachment_id)
        if (
            attachment
            and attachment.kind == "vpc"
            and attachment.resource_id in walker.network.vpcs
            and walker.network.vpc_holds(attachment.resource_id, packet.family, packet.dst)
        ):
            return attachment
    return None


def _learned_exit(walker: Walker, gateway: TransitGateway, table_id: str, packet: Packet) -> Arrival | None:
    """No listed route, but the table learns routes over BGP that the snapshot lacks: a destination no VPC of
    this gateway holds is assumed announced by the VPN / Direct Connect attachment (and said so)."""
    table = walker.network.transit.route_tables[table_id]
    if not table.learned or _held_by_attached_vpc(walker, gateway, packet) is not None:
        return None
    attachment = walker.network.transit.attachment(gateway.id, table.learned[0])
    if attachment is None or attachment.state != "available":
        return None
    walker.notes.append(
        f"{table.id} learns routes over BGP from {attachment.label} ({attachment.kind}), which the "
        f"snapshot does not list: reach assumed that attachment announces {packet.dst_text}"
    )
    walker.hop(
        "transit-gateway-route-table",
        table.id,
        f"{table.label} routes {packet.dst_text} to {attachment.id} (learned over BGP: assumed)",
    )
    far_side = f"{attachment.kind} {attachment.resource_id or ''}".rstrip()
    detail = f"{gateway.label} sends it out through {attachment.label} ({far_side}): it leaves the snapshot"
    return _leave(walker, "transit-gateway", attachment.id, detail, packet)


def enter_from_outside(walker: Walker, packet: Packet) -> Arrival | None | Literal[False]:
    """A flow that starts outside every VPC comes in the way the destination VPC routes its source back:
    through its VPN gateway, or through a transit gateway's VPN / Direct Connect attachment, when the source
    is a private address or a route names its range (not just a default route). False: it comes from the
    internet."""
    network = walker.network
    private = is_rfc1918(packet.family, packet.src) or is_rfc6598(packet.family, packet.src)
    for vpc in network.vpcs_holding(packet.family, packet.dst):
        home = network.subnet_of(vpc.id, packet.family, packet.dst)
        tables = [network.route_table_of(home)] if home else []
        tables += [t for t in network.route_tables.values() if t.vpc_id == vpc.id and t not in tables]
        for table in tables:
            route = table.lookup(packet.family, packet.src) if table else None
            if table is None or route is None or route.state != "active" or (route.cidr.prefixlen == 0 and not private):
                continue
            if route.target_kind == "vpn-gateway":
                walker.hop(
                    "vpn-gateway",
                    route.target_id,
                    f"{packet.src_text} is on the far side of {route.target_id} "
                    f"({table.id} routes {route.destination} there): it comes in through the VPN",
                    direction="ingress",
                )
                return walker.local(vpc.id, packet, None, None)
            if route.target_kind == "transit-gateway":
                return _enter_transit(walker, route.target_id, table.id, packet)
    return False


def _enter_transit(walker: Walker, tgw_id: str, table_id: str, packet: Packet) -> Arrival | None | Literal[False]:
    transit = walker.network.transit
    gateway = transit.gateways.get(tgw_id)
    if gateway is None:
        return False
    outside = [
        a
        for a in (transit.attachment(tgw_id, i) for i in gateway.attachments)
        if a is not None and a.kind not in ("vpc", "peering") and a.state == "available"
    ]
    if not outside:
        return False
    chosen = outside[0]
    for attachment in outside:  # one whose routes cover the source, if the snapshot lists any
        for table in transit.route_tables.values():
            route = table.lookup(packet.family, packet.src) if table.tgw_id == tgw_id else None
            if route is not None and attachment.id in route.attachments:
                chosen = attachment
    walker.hop(
        "transit-gateway",
        gateway.id,
        f"{packet.src_text} is on the far side of {gateway.label} ({table_id} "
        f"routes it there): it comes in through {chosen.label} ({chosen.kind} {chosen.resource_id or ''})".rstrip(),
        direction="ingress",
    )
    return _route_in(walker, gateway, chosen, packet, None)


def _no_route(walker: Walker, gateway: TransitGateway, table_id: str, packet: Packet) -> None:
    table = walker.network.transit.route_tables[table_id]
    wanted = _held_by_attached_vpc(walker, gateway, packet)
    if wanted is None:
        walker.block(
            "transit-gateway-route-table",
            table_id,
            "NO_ROUTE_TO_DESTINATION",
            f"no route in {table.label} matches {packet.dst_text}",
            fix_context={"packet": packet},
        )
        return
    partial = table.routes_to(wanted.id)
    if partial:
        covered = ", ".join(sorted({r.destination for r in partial}))
        walker.block(
            "transit-gateway-route-table",
            table_id,
            "TGW_RTB_CANNOT_ROUTE",
            f"{table.label} routes only {covered} to {wanted.label} ({wanted.resource_id}); {packet.dst_text} "
            "is outside",
            fix_context={"packet": packet},
        )
        return
    walker.block(
        "transit-gateway-route-table",
        table_id,
        "TGW_RTB_NO_ROUTE_TO_TGW_ATTACHMENT",
        f"{table.label} has no route to {wanted.label}, the attachment of {wanted.resource_id} that holds "
        f"{packet.dst_text}: that attachment does not propagate into this table and no static route points at it",
        fix_context={
            "fix": "aws ec2 enable-transit-gateway-route-table-propagation --transit-gateway-route-table-id "
            f"{table_id} --transit-gateway-attachment-id {wanted.id}"
        },
    )


def _into_vpc(
    walker: Walker, gateway: TransitGateway, target: TgwAttachment, packet: Packet, az: str | None, *, peered: bool
) -> Arrival | None:
    vpc_id = target.resource_id or ""
    network = walker.network
    if vpc_id not in network.vpcs:
        note = f"{vpc_id} (behind {target.id}) is not in the snapshot: the path leaves what reach can see"
        return _leave(walker, "transit-gateway", target.id, f"{gateway.label} sends it to {vpc_id}", packet, note)
    zone = _zone(walker, target, packet, az)
    subnet_id = target.subnet_in(zone)
    entry = network.subnets.get(subnet_id or "")
    if entry is None:
        walker.block(
            "transit-gateway",
            target.id,
            "UNKNOWN_RESOURCE",
            f"{target.label} has no subnet the snapshot holds, so where it enters {vpc_id} is unknown",
        )
        return None
    # group membership survives only with referencing support on both, and never across a TGW peering
    walker.tgw_sg_refs = gateway.sg_referencing and target.sg_referencing and not peered
    walker.hop(
        "transit-gateway",
        gateway.id,
        f"{gateway.label} delivers it into {vpc_id} through {target.label} in {zone} (attachment subnet {entry.id})",
        direction="egress",
    )
    # Routed in the destination VPC by the attachment subnet's route table (local, or an inspection appliance).
    return walker.route(entry, packet, None)


def _zone(walker: Walker, target: TgwAttachment, packet: Packet, az: str | None) -> str | None:
    """The Availability Zone where the packet enters the target VPC. Default mode keeps it in the zone it came
    from when the attachment has a subnet there; appliance mode keeps both directions of a flow in one zone."""
    zones = [z for z, _ in target.subnets]
    forward = walker.tgw_zones.get(f"into:{target.id}")
    if walker.return_path and forward is not None and target.appliance_mode:
        return forward
    zone: str | None = az
    if az not in zones:
        subnet = walker.network.subnet_of(target.resource_id or "", packet.family, packet.dst)
        zone = subnet.az if subnet is not None and subnet.az in zones else (zones[0] if zones else None)
    if not walker.return_path:
        walker.tgw_zones[f"into:{target.id}"] = zone or ""
    elif forward is not None and zone != forward and _steers_to_appliance(walker, target, zone, packet):
        walker.notes.append(
            f"the response enters {target.resource_id} in {zone} while the request entered in {forward}: with "
            f"appliance mode off on {target.id}, a stateful appliance there sees only one direction of the flow "
            "(TRANSIT_GATEWAY_APPLIANCE_MODE_RECOMMENDED)"
        )
    return zone


def _steers_to_appliance(walker: Walker, target: TgwAttachment, zone: str | None, packet: Packet) -> bool:
    subnet = walker.network.subnets.get(target.subnet_in(zone) or "")
    table = walker.network.route_table_of(subnet) if subnet else None
    route = table.lookup(packet.family, packet.dst) if table else None
    return route is not None and route.target_kind in ("network-interface", "vpc-endpoint")


def _across_peering(walker: Walker, gateway: TransitGateway, target: TgwAttachment, packet: Packet) -> Arrival | None:
    transit = walker.network.transit
    peer_id = target.resource_id or ""
    peer = transit.gateways.get(peer_id)
    peer_side = transit.attachment(peer_id, target.id)
    if peer is None or peer_side is None:
        note = f"{peer_id}, the peer of {gateway.id} over {target.id}, is not in the snapshot: the path leaves it there"
        return _leave(walker, "transit-gateway", target.id, f"{target.label} carries it to {peer_id}", packet, note)
    where = f" in {peer.region}" if peer.region and peer.region != gateway.region else ""
    walker.hop(
        "transit-gateway",
        peer.id,
        f"{target.label} carries it from {gateway.label} to {peer.label}{where}",
        direction="ingress",
    )
    return _route_in(walker, peer, peer_side, packet, None)


# --- gateway endpoints -----------------------------------------------------------------------------


def to_gateway_endpoint(
    walker: Walker,
    endpoint_id: str,
    gateway: Gateway | None,
    subnet: Subnet,
    packet: Packet,
    *,
    from_outside: bool,
) -> Arrival | None:
    """A prefix-list route sends the packet to a gateway endpoint (S3, DynamoDB)."""
    if gateway is None:
        note = (
            f"{endpoint_id} is not a gateway endpoint of the snapshot (a Gateway Load Balancer endpoint, or "
            "missing): what lies behind it is not modelled"
        )
        return _leave(walker, "vpc-endpoint", endpoint_id, f"leaves the snapshot through {endpoint_id}", packet, note)
    service = f" ({gateway.service})" if gateway.service else ""
    if gateway.state != "available":
        walker.block(
            "vpc-endpoint",
            endpoint_id,
            "BAD_STATE",
            f"gateway endpoint {endpoint_id}{service} is {gateway.state}",
        )
        return None
    if from_outside:
        walker.block(
            "vpc-endpoint",
            endpoint_id,
            "NO_ROUTE_TO_DESTINATION",
            f"gateway endpoint {endpoint_id}{service} carries only traffic that starts in {subnet.vpc_id}; "
            "traffic arriving through a transit gateway, peering or VPN cannot use it",
        )
        return None
    if packet.protocol not in GATEWAY_ENDPOINT_PROTOCOLS or (packet.protocol == 1 and packet.dst_ports[0] != 8):
        walker.block(
            "vpc-endpoint",
            endpoint_id,
            "VPCE_GATEWAY_PROTOCOL_RESTRICTION",
            f"gateway endpoint {endpoint_id}{service} accepts only TCP and ICMP echo",
        )
        return None
    walker.hop(
        "vpc-endpoint",
        endpoint_id,
        f"leaves the snapshot through gateway endpoint {endpoint_id}{service}; endpoint policies are not evaluated",
        direction="egress",
    )
    walker.notes.append(
        f"the path ends at gateway endpoint {endpoint_id}{service}: its endpoint policy (and the "
        "bucket or table policy) decide the request, and reach does not evaluate them"
    )
    return ("exit", endpoint_id, packet)


def endpoint_hint(walker: Walker, table: RouteTable, packet: Packet) -> tuple[str, str | None]:
    """When another route table of the VPC sends the destination to a gateway endpoint, the endpoint is simply
    not associated with this one (its prefix-list route is missing here): what to add to the explanation, and
    the fix (routes to a gateway endpoint cannot be created by hand)."""
    for other in walker.network.route_tables.values():
        if other.vpc_id != table.vpc_id or other.id == table.id:
            continue
        route = other.lookup(packet.family, packet.dst)
        if route is not None and route.target_kind == "vpc-endpoint" and route.state == "active":
            gateway = walker.network.gateways.get(route.target_id)
            service = f" ({gateway.service})" if gateway and gateway.service else ""
            fix = f"aws ec2 modify-vpc-endpoint --vpc-endpoint-id {route.target_id} --add-route-table-ids {table.id}"
            hint = (
                f"; {other.id} sends it to gateway endpoint {route.target_id}{service} by its prefix-list route "
                f"{route.destination}, but {table.id} is not associated with that endpoint"
            )
            return hint, fix
    return "", None


def interface_endpoint_note(interface_label: str, description: str | None) -> str:
    what = f" ({description})" if description else ""
    return (
        f"the path ends at interface endpoint {interface_label}{what}: the service behind it and its endpoint "
        "policy are outside the snapshot; endpoint policies are not evaluated"
    )


# --- appliances that translate (NAT instances) ----------------------------------------------------------


def masquerade(walker: Walker, appliance: Interface, packet: Packet) -> Packet:
    """An appliance forwarding someone else's IPv4 packet to an internet gateway must translate its source (the
    gateway drops private sources without a public address), as a NAT instance does: reach assumes so, says
    so, and remembers the connection so the answer finds its way back."""
    if walker.return_path or packet.family != IPV4 or appliance.holds(packet.family, packet.src):
        return packet
    own = next((v for f, v in appliance.private_ips if f == IPV4), None)
    table = walker.network.route_table_of(walker.network.subnets[appliance.subnet_id])
    route = table.lookup(packet.family, packet.dst) if table else None
    if (
        own is None
        or route is None
        or route.target_kind != "internet-gateway"
        or appliance.public_for(IPV4, own) is None
    ):
        return packet
    walker.appliance_sessions[appliance.id] = (packet.src, packet.src_ports)
    walker.notes.append(
        f"{appliance.label} forwards {packet.src_text}'s traffic to {route.target_id}: reach assumed it "
        "translates the source to its own address, as a NAT instance does (its OS rules are not in the "
        "snapshot)"
    )
    translated = packet.with_(src=own, src_ports=NAT_PORTS if packet.protocol in (6, 17) else packet.src_ports)
    walker.hop(
        "network-interface",
        appliance.id,
        f"{appliance.label} translates {packet.src_text} to its own address "
        f"{translated.src_text} (assumed: it forwards to {route.target_id}, as a NAT instance does)",
        direction="egress",
    )
    return translated


def unmasquerade(walker: Walker, appliance: Interface, packet: Packet) -> Arrival | None:
    client, ports = walker.appliance_sessions.pop(appliance.id)
    back = packet.with_(dst=client, dst_ports=ports)
    walker.hop(
        "network-interface",
        appliance.id,
        f"{appliance.label} translates the response back to {back.dst_text} and forwards it",
        direction="ingress",
    )
    return walker.send(appliance, back)


# --- references the snapshot cannot resolve ------------------------------------------------------------


def discarded_reference_detail(ref: RuleRef, group: str) -> str:
    """Why a rule that would allow by group membership did not: the way the packet came discarded it."""
    rule = ref.rule or f"a rule of {ref.id}"
    return (
        f"; {rule} would allow it as a member of {group}, but it came through a transit gateway "
        "without security group referencing support, which discards that membership (enable "
        "SecurityGroupReferencingSupport on the gateway and its VPC attachments, or allow the CIDR)"
    )


def unknown_reference_detail(found: list[tuple[str, str]], packet: Packet, peer: int) -> str:
    """What the rules naming missing groups or prefix lists would have allowed, and what reach assumed."""
    rules = ", ".join(sorted({rule if rule.startswith("sgr-") else f"a rule of {rule}" for rule, _ in found}))
    groups = sorted({missing for _, missing in found if missing.startswith("sg-")})
    lists = sorted({missing for _, missing in found if not missing.startswith("sg-")})
    address = format_address(packet.family, peer)
    parts = []
    if groups:
        parts.append(
            f"security group {', '.join(groups)}, which the snapshot does not contain (another account, or across a "
            f"peering): reach assumed {address} is not a member, as AWS treats groups it cannot resolve as denying"
        )
    if lists:
        parts.append(
            f"prefix list {', '.join(lists)}, whose entries the snapshot does not contain (get-managed-prefix-list-"
            f"entries): reach assumed they do not hold {address}"
        )
    return f"; {rules} would allow it from " + "; and from ".join(parts)
