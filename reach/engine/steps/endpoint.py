"""VPC endpoints: gateway endpoints (S3, DynamoDB) that a prefix-list route sends to, and interface
endpoints, whose interface receives the packet like any other (the service behind it is not modelled).

A gateway endpoint carries only traffic that starts in its VPC, and only TCP and ICMP echo
(`VPCE_GATEWAY_PROTOCOL_RESTRICTION`); the path ends there, and neither its endpoint policy nor the bucket
or table policy is evaluated. A route table of the VPC without the endpoint's route is named with the fix.
"""

from __future__ import annotations

from reach.engine.leg import Leg
from reach.engine.moves import Follow, Next
from reach.engine.packet import Packet
from reach.model.network import Gateway, RouteTable
from reach.model.protocols import ICMP, TCP
from reach.model.vocabulary import Kind, Reason

GATEWAY_ENDPOINT_PROTOCOLS = (TCP, ICMP)  # VPCE_GATEWAY_PROTOCOL_RESTRICTION: TCP, or ICMP echo
_ECHO_REQUEST = 8


def to_gateway_endpoint(leg: Leg, move: Follow) -> Next:
    """A prefix-list route sends the packet to a gateway endpoint."""
    endpoint_id, subnet, packet = move.route.target_id, move.subnet, move.packet
    gateway = leg.network.gateways.get(endpoint_id)
    if gateway is None:
        note = (
            f"{endpoint_id} is not a gateway endpoint of the snapshot (a Gateway Load Balancer endpoint, or "
            "missing): what lies behind it is not modelled"
        )
        return leg.leave(Kind.VPC_ENDPOINT, endpoint_id, f"leaves the snapshot through {endpoint_id}", packet, note)
    service = f" ({gateway.service})" if gateway.service else ""
    if gateway.state != "available":
        leg.block(
            Kind.VPC_ENDPOINT,
            endpoint_id,
            Reason.BAD_STATE,
            f"gateway endpoint {endpoint_id}{service} is {gateway.state}",
        )
        return None
    if not leg.vpc_holds(subnet.vpc_id, packet.family, packet.src):
        leg.block(
            Kind.VPC_ENDPOINT,
            endpoint_id,
            Reason.NO_ROUTE_TO_DESTINATION,
            f"gateway endpoint {endpoint_id}{service} carries only traffic that starts in {subnet.vpc_id}; "
            "traffic arriving through a transit gateway, peering or VPN cannot use it",
        )
        return None
    if packet.protocol not in GATEWAY_ENDPOINT_PROTOCOLS or (
        packet.protocol == ICMP and packet.dst_ports[0] != _ECHO_REQUEST
    ):
        leg.block(
            Kind.VPC_ENDPOINT,
            endpoint_id,
            Reason.VPCE_GATEWAY_PROTOCOL_RESTRICTION,
            f"gateway endpoint {endpoint_id}{service} accepts only TCP and ICMP echo",
        )
        return None
    leg.note(_policy_note(endpoint_id, gateway))
    return leg.leave(
        Kind.VPC_ENDPOINT,
        endpoint_id,
        f"leaves the snapshot through gateway endpoint {endpoint_id}{service}; endpoint policies are not evaluated",
        packet,
    )


def _policy_note(endpoint_id: str, gateway: Gateway) -> str:
    service = f" ({gateway.service})" if gateway.service else ""
    return (
        f"the path ends at gateway endpoint {endpoint_id}{service}: its endpoint policy (and the "
        "bucket or table policy) decide the request, and reach does not evaluate them"
    )


def endpoint_hint(leg: Leg, table: RouteTable, packet: Packet) -> tuple[str, str | None]:
    """When another route table of the VPC sends the destination to a gateway endpoint, the endpoint is simply
    not associated with this one (its prefix-list route is missing here): what to add to the explanation, and
    the fix (routes to a gateway endpoint cannot be created by hand)."""
    for other in leg.topology.route_tables_of(table.vpc_id):
        if other.id == table.id:
            continue
        route = other.lookup(packet.family, packet.dst)
        if route is not None and route.target_kind == Kind.VPC_ENDPOINT and route.state == "active":
            gateway = leg.network.gateways.get(route.target_id)
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
