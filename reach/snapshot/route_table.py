"""describe-route-tables: the shapes, and the routes compiled for longest-prefix lookup.

A route to a prefix list becomes one route per CIDR of the list; routes to the same prefix keep AWS's
order (the local route, static, prefix list, propagated) in `priority`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from reach.errors import SnapshotError
from reach.model.addr import Cidr
from reach.model.network import Instance, Interface
from reach.model.network import Route as CompiledRoute
from reach.model.network import RouteTable as CompiledTable
from reach.model.protocols import ROUTE_TARGET_FIELDS, gateway_kind
from reach.model.rules import RuleRef
from reach.model.vocabulary import Kind
from reach.snapshot.base import AwsModel, Compiled, Tag, name_tag, parse_cidr, where

if TYPE_CHECKING:
    from reach.snapshot.loader import SnapshotResources


class RouteTableAssociation(AwsModel):
    main: bool = False
    subnet_id: str | None = None
    gateway_id: str | None = None
    route_table_association_id: str | None = None


class AwsRoute(AwsModel):
    destination_cidr_block: str | None = None
    destination_ipv6_cidr_block: str | None = None
    destination_prefix_list_id: str | None = None
    gateway_id: str | None = None
    nat_gateway_id: str | None = None
    network_interface_id: str | None = None
    instance_id: str | None = None
    vpc_peering_connection_id: str | None = None
    transit_gateway_id: str | None = None
    egress_only_internet_gateway_id: str | None = None
    local_gateway_id: str | None = None
    carrier_gateway_id: str | None = None
    core_network_arn: str | None = None
    vpc_endpoint_id: str | None = None
    state: str = "active"
    origin: str | None = None

    def destination(self) -> str | None:
        return self.destination_cidr_block or self.destination_ipv6_cidr_block or self.destination_prefix_list_id


class PropagatingVgw(AwsModel):
    gateway_id: str


class AwsRouteTable(AwsModel):
    route_table_id: str
    vpc_id: str
    associations: list[RouteTableAssociation] = Field(default_factory=list)
    routes: list[AwsRoute] = Field(default_factory=list)
    propagating_vgws: list[PropagatingVgw] = Field(default_factory=list)
    owner_id: str | None = None
    tags: list[Tag] = Field(default_factory=list)


# --- compile -----------------------------------------------------------------------------------------

# Equal prefixes: lower wins (static before prefix list before propagated).
_ROUTE_PRIORITY = {"CreateRouteTable": 0, "CreateRoute": 1, "EnableVgwRoutePropagation": 3}
_PREFIX_LIST_PRIORITY = 2

# describe-route-tables field -> the Route attribute holding it (GatewayId is read first, by its id's prefix).
_ALIASES = {info.alias: name for name, info in AwsRoute.model_fields.items()}
_TARGET_ATTRIBUTES = {field: _ALIASES[field] for field in ROUTE_TARGET_FIELDS}


def compile_route_tables(
    snapshot: SnapshotResources,
    prefix_lists: dict[str, list[Cidr]],
    interfaces: dict[str, Interface],
    instances: dict[str, Instance],
) -> Compiled[dict[str, CompiledTable]]:
    warnings: list[str] = []
    tables = {}
    for table in snapshot.route_tables:
        at = where(snapshot.origins, table.route_table_id)
        routes = []
        for raw in table.routes:
            destination = raw.destination()
            if destination is None:
                raise SnapshotError(
                    f"{at}: a route has no DestinationCidrBlock, DestinationIpv6CidrBlock or DestinationPrefixListId"
                )
            kind, target = route_target(raw, interfaces, instances)
            ref = RuleRef(
                kind=Kind.ROUTE_TABLE,
                id=table.route_table_id,
                rule=destination,
                detail=f"route table {table.route_table_id} routes {destination} to {target}"
                + (" (blackhole)" if raw.state == "blackhole" else ""),
            )
            if raw.destination_prefix_list_id:
                cidrs = prefix_lists.get(raw.destination_prefix_list_id)
                if cidrs is None:
                    warnings.append(
                        f"{at}: route to prefix list {destination}, which the snapshot does not contain: ignored"
                    )
                    continue
                priority = _PREFIX_LIST_PRIORITY
            else:
                cidrs = [parse_cidr(destination, at)]
                priority = _ROUTE_PRIORITY.get(raw.origin or "CreateRoute", 1)
            routes += [CompiledRoute(destination, cidr, kind, target, raw.state, priority, ref) for cidr in cidrs]
        edges = tuple(a.gateway_id for a in table.associations if a.gateway_id)  # a gateway route table's gateways
        tables[table.route_table_id] = CompiledTable(
            table.route_table_id, name_tag(table.tags), table.vpc_id, routes, edges
        )
    return Compiled(tables, tuple(warnings))


def route_target(route: AwsRoute, interfaces: dict[str, Interface], instances: dict[str, Instance]) -> tuple[str, str]:
    """(target kind, target id) of a route, by the field that names its target (`ROUTE_TARGET_FIELDS`).
    A route to an instance goes to the instance's interface where the snapshot has it."""
    if route.gateway_id:
        return str(gateway_kind(route.gateway_id)), route.gateway_id
    for field, attribute in _TARGET_ATTRIBUTES.items():
        value = getattr(route, attribute)
        if not value:
            continue
        kind = ROUTE_TARGET_FIELDS[field]
        if kind == "instance":
            instance = instances.get(value)
            eni = next((i for i in instance.interfaces if i in interfaces), None) if instance else None
            return (str(Kind.NETWORK_INTERFACE), eni) if eni else ("instance", value)
        return str(kind), value
    return "unknown", "?"
