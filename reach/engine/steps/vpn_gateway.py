"""Virtual private gateways and VPN attachments: where a VPC's routes leave for a Site-to-Site VPN or Direct
Connect, and what the snapshot says about the far side (`Network.vpn`).

A virtual private gateway routes by its own table, separate from the VPC's: each VPN connection's static
routes, the routes its BGP sessions learn, and those of an associated Direct Connect gateway. AWS picks the
longest prefix; at equal length Direct Connect's BGP routes, then VPN static routes, then VPN BGP routes
(Site-to-Site VPN guide, "Route tables and VPN route priority"). The snapshot lists static routes only:

- a packet no connection can carry is dropped at the gateway (`NO_ROUTE_TO_DESTINATION`), with the fix;
- a connection whose tunnels are all DOWN (`VgwTelemetry`) carries nothing (`BAD_STATE_VPN`, on a transit
  gateway `TGW_BAD_STATE_VPN`): a BGP session runs inside the tunnels, so it has learned nothing either;
- a BGP connection (or a Direct Connect gateway) may carry anything: reach says it assumed so;
- otherwise the packet leaves the modelled network there, and the explanation says what lies beyond is
  unknown (`UNKNOWN_DESTINATION`).

A Direct Connect gateway advertises to on-premises only its association's allowed prefixes, so a flow from
on-premises that only Direct Connect brings in can reach nothing outside them.
"""

from __future__ import annotations

from dataclasses import dataclass

from reach.engine.fixes import KnownFix
from reach.engine.leg import Leg
from reach.engine.moves import Follow, Next
from reach.engine.packet import Packet
from reach.model.addr import IPV4, Cidr, format_address
from reach.model.network import Network, Route, RouteTable
from reach.model.rules import RuleRef
from reach.model.vocabulary import Direction, Kind, Reason
from reach.model.vpn import LIVE, VpnConnection

_ASSOCIATED = (None, "associated")  # a Direct Connect association that carries traffic (None: state not given)


@dataclass(frozen=True)
class Carrier:
    """What takes a packet beyond a VPN gateway: a VPN connection, by one of its static routes or over BGP,
    or a Direct Connect gateway (over BGP)."""

    kind: Kind  # VPN_CONNECTION | DIRECT_CONNECT_GATEWAY
    id: str
    label: str
    route: str | None  # the static route that holds the address; None: learned over BGP, unknown to the snapshot
    down: bool  # a VPN connection whose tunnels are all DOWN
    tunnels: str = ""  # "both tunnels DOWN (IPSEC IS DOWN)", when down


def carrier(network: Network, gateway_id: str, family: int, address: int) -> Carrier | None:
    """The connection a virtual private gateway sends `address` into, as far as the snapshot tells: the most
    specific static route; else a Direct Connect gateway or a BGP connection that may have learned it; else a
    BGP connection that could, were its tunnels up. None: nothing carries it."""
    vpn = network.vpn
    live = [c for c in vpn.connections_of(gateway_id) if c.state == LIVE]
    static = [(c, r) for c in live if c.static_routes_only and (r := c.route_for(family, address)) is not None]
    if static:
        connection, route = max(static, key=lambda found: found[1].cidr.prefixlen)
        return _of(connection, route.destination)
    for dx in vpn.direct_connect_of(gateway_id):
        if any(a.gateway_id == gateway_id and a.state in _ASSOCIATED for a in dx.associations):
            name = f"{dx.id} ({dx.name})" if dx.name else dx.id
            return Carrier(Kind.DIRECT_CONNECT_GATEWAY, dx.id, name, None, False)
    learning = [c for c in live if c.bgp and c.up is not False and not _learned_nothing(c)]
    if learning:
        return _of(learning[0], None)
    down = [c for c in live if c.bgp and c.up is False]
    return _of(down[0], None) if down else None


def _of(connection: VpnConnection, route: str | None) -> Carrier:
    down = connection.up is False
    tunnels = _tunnels(connection) if down else ""
    return Carrier(Kind.VPN_CONNECTION, connection.id, connection.label, route, down, tunnels)


def _learned_nothing(connection: VpnConnection) -> bool:
    """Telemetry shows tunnels up that accepted no route from the customer gateway: BGP learned nothing."""
    up = [t for t in connection.tunnels if t.up]
    return bool(up) and all(t.accepted_routes == 0 for t in up)


def _tunnels(connection: VpnConnection) -> str:
    if connection.state != LIVE:
        return f"it is {connection.state}"
    messages = sorted({t.message for t in connection.tunnels if t.message})
    count = "both its tunnels are" if len(connection.tunnels) == 2 else f"all {len(connection.tunnels)} its tunnels are"
    if len(connection.tunnels) == 1:
        count = "its one tunnel is"
    return f"{count} DOWN" + (f" ({'; '.join(messages)})" if messages else "")


# --- out of a VPC ----------------------------------------------------------------------------------------


def out(leg: Leg, move: Follow) -> Next:
    """A VPC route sends the packet to a virtual private gateway."""
    vgw_id, vpc_id, packet = move.route.target_id, move.subnet.vpc_id, move.packet
    label = _gateway(leg, vgw_id, vpc_id)
    if label is None:
        return None
    if leg.lacks("VpnConnections"):
        leg.assume(
            f"the snapshot has no VpnConnections (describe-vpn-connections): which routes {label} has and whether "
            f"its tunnels are up is unknown; reach assumed it carries {packet.dst_text} out"
        )
        return leg.leave(
            Kind.VPN_GATEWAY,
            vgw_id,
            f"{label} sends it out of the snapshot",
            packet,
            beyond=f"towards {packet.dst_text} through {label}, whose VPN connections the snapshot does not list",
        )
    found = carrier(leg.network, vgw_id, packet.family, packet.dst)
    if found is None:
        _no_route(leg, vgw_id, label, packet)
        return None
    how = f"by its static route {found.route}" if found.route else "over BGP"
    if found.route is None and not found.down:
        leg.assume(
            f"{found.label} learns its routes over BGP, which the snapshot does not list: reach assumed it "
            f"announces {packet.dst_text}"
        )
    leg.hop(
        Kind.VPN_GATEWAY, vgw_id, f"{label} sends it into {found.label} {how}: it leaves the snapshot",
        direction=Direction.EGRESS,
    )
    _carries_nothing(leg, found, f"{label} sends {packet.dst_text} into", Direction.EGRESS)
    towards = f"towards {found.route} (its static route)" if found.route else f"towards {packet.dst_text} (over BGP)"
    return leg.exit(Kind.VPN_GATEWAY, vgw_id, packet, f"through {label} into {found.label} {towards}")


def _carries_nothing(leg: Leg, found: Carrier, what: str, direction: Direction) -> None:
    """A connection whose tunnels are all DOWN is a blocker, named once (the request, then its response)."""
    if found.down and not leg.blocked_at(found.id, Reason.BAD_STATE_VPN):
        leg.block(
            Kind.VPN_CONNECTION,
            found.id,
            Reason.BAD_STATE_VPN,
            f"{what} {found.label}, but {found.tunnels}, so it carries nothing",
            direction=direction,
            rule=found.route,
        )


def _gateway(leg: Leg, vgw_id: str, vpc_id: str) -> str | None:
    """The gateway's label, or None when it cannot carry anything (said as a blocker)."""
    gateway = leg.network.vpn.vpn_gateways.get(vgw_id)
    if gateway is None:
        why = "has no VpnGateways (describe-vpn-gateways)" if leg.lacks("VpnGateways") else "does not list it"
        leg.assume(f"{vgw_id} is named by a route, but the snapshot {why}: reach assumed it is attached to {vpc_id}")
        return vgw_id
    if gateway.state != LIVE:
        leg.block(Kind.VPN_GATEWAY, vgw_id, Reason.BAD_STATE, f"{gateway.label} is {gateway.state}")
        return None
    if gateway.vpc_ids and vpc_id not in gateway.vpc_ids:
        leg.block(
            Kind.VPN_GATEWAY,
            vgw_id,
            Reason.BAD_STATE_ATTACHMENT,
            f"{gateway.label} is not attached to {vpc_id} (attached: {', '.join(gateway.vpc_ids)})",
        )
        return None
    return gateway.label


def _no_route(leg: Leg, vgw_id: str, label: str, packet: Packet) -> None:
    vpn = leg.network.vpn
    connections = vpn.connections_of(vgw_id)
    live = [c for c in connections if c.state == LIVE]
    static = [c for c in live if c.static_routes_only]
    parts = [
        f"{c.label} (static) routes only {', '.join(r.destination for r in c.routes if r.live) or 'nothing'}"
        for c in static
    ]
    parts += [f"{c.label} (BGP) accepted no route from its customer gateway" for c in live if c.bgp]
    parts += [f"{c.label} is {c.state}" for c in connections if c.state != LIVE]
    why = "; ".join(parts) if parts else f"no VPN connection of the snapshot ends on {label}"
    if not vpn.direct_connect_gateways:
        leg.assume(
            "the snapshot has no Direct Connect gateways (aws directconnect describe-direct-connect-gateways): "
            f"reach assumed {label} learns no route over Direct Connect"
        )
    held = leg.network.interfaces_at(packet.family, packet.dst) or (
        packet.family == IPV4 and leg.network.public_owner(packet.dst) is not None
    )
    host = f"{format_address(packet.family, packet.dst)}/{32 if packet.family == IPV4 else 128}"
    fix = (  # a route to on-premises for the address; none for an address the snapshot itself holds
        KnownFix(
            f"aws ec2 create-vpn-connection-route --vpn-connection-id {static[0].id} --destination-cidr-block {host}"
        )
        if static and not held
        else None
    )
    leg.block(
        Kind.VPN_GATEWAY,
        vgw_id,
        Reason.NO_ROUTE_TO_DESTINATION,
        f"{label} has no route for {packet.dst_text}: {why}",
        direction=Direction.EGRESS,
        fix_context=fix,
    )


# --- into a VPC, from beyond the gateway -----------------------------------------------------------------


def holds_source(network: Network, vgw_id: str, family: int, address: int) -> bool:
    """Is the address on the far side of a static route of one of the gateway's VPN connections?"""
    found = carrier(network, vgw_id, family, address)
    return found is not None and found.route is not None


def inbound(leg: Leg, vgw_id: str, vpc_id: str, why: str, packet: Packet) -> bool:
    """A flow from on-premises comes in through the gateway (`why`: what says the source is there). False
    when the gateway cannot bring it in (said as a blocker)."""
    label = _gateway(leg, vgw_id, vpc_id)
    if label is None:
        return False
    found = None if leg.lacks("VpnConnections") else carrier(leg.network, vgw_id, packet.family, packet.src)
    if leg.lacks("VpnConnections"):
        leg.assume(
            f"the snapshot has no VpnConnections (describe-vpn-connections): whether {label}'s tunnels are up is "
            f"unknown; reach assumed they bring {packet.src_text} in"
        )
    if found is None and not leg.lacks("VpnConnections"):
        # no route of the gateway holds the source: it may still arrive over any tunnel, if one is up
        live = [c for c in leg.network.vpn.connections_of(vgw_id) if c.state == LIVE]
        if live and all(c.up is False for c in live) and not leg.network.vpn.direct_connect_of(vgw_id):
            found = _of(live[0], None)
    through = f" through {found.label}" if found else " through the VPN"
    leg.hop(
        Kind.VPN_GATEWAY,
        vgw_id,
        f"{packet.src_text} is on the far side of {label} ({why}): it comes in{through}",
        direction=Direction.INGRESS,
    )
    if found is not None:
        _carries_nothing(leg, found, f"{packet.src_text} would come in through", Direction.INGRESS)
    if found is not None and found.kind == Kind.DIRECT_CONNECT_GATEWAY:
        _advertised(leg, found, vgw_id, packet)
    return True


def _advertised(leg: Leg, found: Carrier, gateway_id: str, packet: Packet) -> None:
    """On-premises can send only to what the Direct Connect gateway advertises: its allowed prefixes."""
    dx = leg.network.vpn.direct_connect_gateways[found.id]
    prefixes = [p for a in dx.associations if a.gateway_id == gateway_id for p in a.allowed_prefixes]
    if not prefixes or any(p.contains(packet.family, packet.dst) for p in prefixes):
        return
    leg.block(
        Kind.DIRECT_CONNECT_GATEWAY,
        found.id,
        Reason.NO_ROUTE_TO_DESTINATION,
        f"{found.label} advertises only {', '.join(str(p) for p in prefixes)} to on-premises (the allowed prefixes "
        f"of its association with {gateway_id}): {packet.dst_text} is outside, so on-premises has no route to it",
        direction=Direction.INGRESS,
    )


# --- a transit gateway's VPN attachment ----------------------------------------------------------------


def transit_vpn_state(leg: Leg, attachment_id: str, vpn_id: str | None, direction: Direction) -> None:
    """A transit gateway's VPN attachment whose connection has every tunnel DOWN carries nothing."""
    connection = leg.network.vpn.connections.get(vpn_id or "")
    if connection is None or connection.up is not False or leg.blocked_at(connection.id, Reason.TGW_BAD_STATE_VPN):
        return
    leg.block(
        Kind.VPN_CONNECTION,
        connection.id,
        Reason.TGW_BAD_STATE_VPN,
        f"{attachment_id} is {connection.label}, and {_tunnels(connection)}, so it carries nothing",
        direction=direction,
    )


# --- route propagation (PropagatingVgws) -------------------------------------------------------------------


def _propagating(leg: Leg, table: RouteTable, family: int, address: int) -> list[tuple[str, Carrier]]:
    """The VPC's VPN gateways whose static VPN routes hold the address, each with the connection."""
    vpn = leg.network.vpn
    gateways = [g for g in vpn.vpn_gateways.values() if table.vpc_id in g.vpc_ids]
    found = [(g.id, carrier(leg.network, g.id, family, address)) for g in gateways]
    return [(g, c) for g, c in found if c is not None and c.route is not None]


def propagated_route(leg: Leg, table: RouteTable, packet: Packet, listed: Route | None) -> Route | None:
    """A table that propagates a VPN gateway has, while a tunnel is UP, a route for each static route of its
    VPN connections. describe-route-tables lists them; where the snapshot's table lacks one that would beat
    the route it lists (`listed`), reach assumes it (and says so)."""
    if table.id not in leg.network.vpn.propagating:
        return None
    for vgw_id, found in _propagating(leg, table, packet.family, packet.dst):
        if vgw_id not in leg.network.vpn.propagating.get(table.id, ()) or found.down or found.route is None:
            continue
        cidr = Cidr.parse(found.route)
        if listed is not None and (listed.cidr.prefixlen >= cidr.prefixlen or listed.target_id == vgw_id):
            continue
        leg.assume(
            f"{table.id} propagates {vgw_id}, whose {found.label} has the static route {found.route} and a tunnel "
            f"UP, but the snapshot's {table.id} lists no such route: reach assumed AWS propagated it"
        )
        ref = RuleRef(Kind.ROUTE_TABLE, table.id, None, found.route,
                      f"route table {table.id} routes {found.route} to {vgw_id} (propagated, assumed)")
        return Route(found.route, cidr, Kind.VPN_GATEWAY, vgw_id, "active", 3, ref)
    return None


def propagation_hint(leg: Leg, table: RouteTable, packet: Packet) -> tuple[str, str | None]:
    """Why no route of the table sends the address to the VPC's VPN gateway, whose VPN routes hold it: the
    table does not propagate the gateway (the fix), or the connection's tunnels are DOWN (AWS propagates a
    VPN's routes only while a tunnel is UP)."""
    for vgw_id, found in _propagating(leg, table, packet.family, packet.dst):
        if vgw_id in leg.network.vpn.propagating.get(table.id, ()):
            return (
                f"; {table.id} propagates {vgw_id}, but {found.label}'s static route {found.route} is not "
                f"propagated while {found.tunnels}",
                None,
            )
        return (
            f"; {vgw_id} routes {found.route} to {found.label}, but {table.id} neither routes it there nor "
            f"propagates {vgw_id}'s routes",
            f"aws ec2 enable-vgw-route-propagation --route-table-id {table.id} --gateway-id {vgw_id}",
        )
    return "", None
