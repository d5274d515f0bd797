from __future__ import annotations

from reach.snapshot.base import AwsModel, Tag


class RouteTableAssociation(AwsModel):
    main: bool = False
    subnet_id: str | None = None
    gateway_id: str | None = None
    route_table_association_id: str | None = None


class Route(AwsModel):
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


class RouteTable(AwsModel):
    route_table_id: str
    vpc_id: str
    associations: list[RouteTableAssociation] = []
    routes: list[Route] = []
    owner_id: str | None = None
    tags: list[Tag] = []
