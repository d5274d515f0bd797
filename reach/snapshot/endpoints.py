"""VPC endpoints, transit gateways and flow-log configurations."""

from __future__ import annotations

from reach.snapshot.base import AwsModel, Tag
from reach.snapshot.network_interface import GroupIdentifier


class VpcEndpoint(AwsModel):
    vpc_endpoint_id: str
    vpc_endpoint_type: str = "Gateway"
    vpc_id: str
    service_name: str | None = None
    state: str | None = None
    route_table_ids: list[str] = []
    subnet_ids: list[str] = []
    groups: list[GroupIdentifier] = []
    network_interface_ids: list[str] = []
    tags: list[Tag] = []


class TransitGateway(AwsModel):
    transit_gateway_id: str
    state: str | None = None
    owner_id: str | None = None
    tags: list[Tag] = []


class TransitGatewayAttachment(AwsModel):
    transit_gateway_attachment_id: str
    transit_gateway_id: str | None = None
    resource_type: str | None = None
    resource_id: str | None = None
    state: str | None = None


class TransitGatewayVpcAttachment(AwsModel):
    transit_gateway_attachment_id: str
    transit_gateway_id: str | None = None
    vpc_id: str | None = None
    subnet_ids: list[str] = []
    state: str | None = None


class TransitGatewayRouteTable(AwsModel):
    transit_gateway_route_table_id: str
    transit_gateway_id: str | None = None
    state: str | None = None


class FlowLog(AwsModel):
    flow_log_id: str
    resource_id: str
    traffic_type: str | None = None
    log_destination_type: str | None = None
    log_destination: str | None = None
    log_group_name: str | None = None
    log_format: str | None = None
    max_aggregation_interval: int | None = None
    deliver_logs_status: str | None = None
    deliver_logs_error_message: str | None = None
    flow_log_status: str | None = None
    tags: list[Tag] = []
