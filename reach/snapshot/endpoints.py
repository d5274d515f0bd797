"""VPC endpoints and flow-log configurations (transit gateways: `reach.snapshot.transit_gateway`)."""

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
