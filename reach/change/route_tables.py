"""Route table calls applied to a snapshot: routes by destination, subnet associations, tables.

A route to a target the snapshot does not hold is what AWS would accept (the target may be in another
account, or created later): it is applied and noted, and the what-if shows where it leads.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reach.change.calls import (
    AssociateRouteTable,
    CreateRoute,
    CreateRouteTable,
    DeleteRoute,
    DeleteRouteTable,
    DisassociateRouteTable,
    ReplaceRoute,
    ReplaceRouteTableAssociation,
)
from reach.change.work import Work
from reach.model.protocols import ROUTE_TARGET_FIELDS, gateway_kind
from reach.model.vocabulary import Kind
from reach.snapshot.route_table import AwsRoute, AwsRouteTable, RouteTableAssociation

# Where a route's target would be found in the snapshot, to say so when it is not.
_HOMES: dict[Kind | str, tuple[str, str, str]] = {
    Kind.NAT_GATEWAY: ("NatGateways", "nat_gateway_id", "NAT gateway"),
    Kind.NETWORK_INTERFACE: ("NetworkInterfaces", "network_interface_id", "network interface"),
    Kind.VPC_PEERING_CONNECTION: ("VpcPeeringConnections", "vpc_peering_connection_id", "VPC peering connection"),
    Kind.EGRESS_ONLY_INTERNET_GATEWAY: (
        "EgressOnlyInternetGateways",
        "egress_only_internet_gateway_id",
        "egress-only internet gateway",
    ),
    Kind.INTERNET_GATEWAY: ("InternetGateways", "internet_gateway_id", "internet gateway"),
}


def _table(work: Work, table_id: str) -> tuple[int, AwsRouteTable]:
    return work.get("RouteTables", "route_table_id", table_id, "route table")


def _route(work: Work, call: CreateRoute | ReplaceRoute, table: AwsRouteTable) -> AwsRoute:
    destination_field, destination = call.destination()
    target_field, target = call.target()
    kind = gateway_kind(target) if target_field == "GatewayId" else ROUTE_TARGET_FIELDS[target_field]
    home = _HOMES.get(kind)
    if home and work.index(home[0], home[1], target) < 0:
        work.note(
            f"{table.route_table_id} route {destination} points at {home[2]} {target}, which the snapshot does not hold"
        )
    data = {destination_field: destination, target_field: target, "State": "active", "Origin": "CreateRoute"}
    return AwsRoute.model_validate(data)


def _route_position(table: AwsRouteTable, destination: str) -> int:
    for position, route in enumerate(table.routes):
        if route.destination() == destination:
            return position
    return -1


def create_route(work: Work, call: CreateRoute) -> None:
    position, table = _table(work, call.route_table_id)
    route = _route(work, call, table)
    if _route_position(table, call.destination()[1]) >= 0:
        raise work.fail(
            f"route table {table.route_table_id} already has a route for {call.destination()[1]} "
            "(AWS: RouteAlreadyExists); use ReplaceRoute"
        )
    work.put("RouteTables", position, table.model_copy(update={"routes": [*table.routes, route]}))


def replace_route(work: Work, call: ReplaceRoute) -> None:
    position, table = _table(work, call.route_table_id)
    route = _route(work, call, table)
    destination = call.destination()[1]
    at = _route_position(table, destination)
    if at < 0:
        raise work.fail(f"route table {table.route_table_id} has no route for {destination} to replace")
    if table.routes[at].gateway_id == "local" and route.gateway_id != "local":
        work.note(f"replaces the local route {destination} of {table.route_table_id}")
    routes = list(table.routes)
    routes[at] = route
    work.put("RouteTables", position, table.model_copy(update={"routes": routes}))


def delete_route(work: Work, call: DeleteRoute) -> None:
    position, table = _table(work, call.route_table_id)
    destination = call.destination()[1]
    at = _route_position(table, destination)
    if at < 0:
        raise work.fail(f"route table {table.route_table_id} has no route for {destination} to delete")
    if table.routes[at].gateway_id == "local":
        raise work.fail(f"the local route {destination} of {table.route_table_id} cannot be deleted")
    routes = [r for i, r in enumerate(table.routes) if i != at]
    work.put("RouteTables", position, table.model_copy(update={"routes": routes}))


def _find_association(work: Work, association_id: str) -> tuple[int, AwsRouteTable, RouteTableAssociation]:
    for position, table in enumerate(work.items("RouteTables")):
        for association in table.associations:
            if association.route_table_association_id == association_id:
                return position, table, association
    raise work.fail(f"route table association {association_id} is not in the snapshot")


def _without(table: AwsRouteTable, association_id: str) -> AwsRouteTable:
    kept = [a for a in table.associations if a.route_table_association_id != association_id]
    return table.model_copy(update={"associations": kept})


def replace_association(work: Work, call: ReplaceRouteTableAssociation) -> None:
    position, table, association = _find_association(work, call.association_id)
    target_position, _ = _table(work, call.route_table_id)
    work.put("RouteTables", position, _without(table, call.association_id))
    target = work.items("RouteTables")[target_position]
    moved = association.model_copy(update={"route_table_association_id": work.planned("rtbassoc")})
    work.put("RouteTables", target_position, target.model_copy(update={"associations": [*target.associations, moved]}))


def associate(work: Work, call: AssociateRouteTable) -> None:
    position, table = _table(work, call.route_table_id)
    if call.subnet_id:
        work.get("Subnets", "subnet_id", call.subnet_id, "subnet")
        for other in work.items("RouteTables"):
            if any(a.subnet_id == call.subnet_id for a in other.associations):
                raise work.fail(
                    f"subnet {call.subnet_id} is already associated with {other.route_table_id} "
                    "(AWS: Resource.AlreadyAssociated); use ReplaceRouteTableAssociation"
                )
    association = RouteTableAssociation(
        main=False,
        subnet_id=call.subnet_id,
        gateway_id=call.gateway_id,
        route_table_association_id=call.association_id or work.planned("rtbassoc"),
    )
    work.put("RouteTables", position, table.model_copy(update={"associations": [*table.associations, association]}))


def disassociate(work: Work, call: DisassociateRouteTable) -> None:
    position, table, association = _find_association(work, call.association_id)
    if association.main:
        raise work.fail(
            f"{call.association_id} is the main route table association of {table.vpc_id}; it can only be replaced"
        )
    work.put("RouteTables", position, _without(table, call.association_id))


def create_table(work: Work, call: CreateRouteTable) -> None:
    _, vpc = work.get("Vpcs", "vpc_id", call.vpc_id, "VPC")
    table_id = call.route_table_id or work.planned("rtb")
    if work.index("RouteTables", "route_table_id", table_id) >= 0:
        raise work.fail(f"route table {table_id} already exists")
    local = [
        AwsRoute(destination_cidr_block=c, gateway_id="local", origin="CreateRouteTable") for c in vpc.ipv4_cidrs()
    ]
    local += [
        AwsRoute(destination_ipv6_cidr_block=c, gateway_id="local", origin="CreateRouteTable") for c in vpc.ipv6_cidrs()
    ]
    work.items("RouteTables").append(AwsRouteTable(route_table_id=table_id, vpc_id=call.vpc_id, routes=local))


def delete_table(work: Work, call: DeleteRouteTable) -> None:
    position, table = _table(work, call.route_table_id)
    if table.associations:
        raise work.fail(f"route table {table.route_table_id} still has associations (AWS: DependencyViolation)")
    del work.items("RouteTables")[position]


HANDLERS: dict[type, Callable[[Work, Any], None]] = {
    CreateRoute: create_route,
    ReplaceRoute: replace_route,
    DeleteRoute: delete_route,
    ReplaceRouteTableAssociation: replace_association,
    AssociateRouteTable: associate,
    DisassociateRouteTable: disassociate,
    CreateRouteTable: create_table,
    DeleteRouteTable: delete_table,
}
