"""describe-flow-logs: the shapes, and the flow-log configurations `reach doctor` reads."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from reach.model.network import FlowLogConfig
from reach.snapshot.base import AwsModel, Compiled, Tag

if TYPE_CHECKING:
    from reach.snapshot.loader import SnapshotResources


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
    tags: list[Tag] = Field(default_factory=list)


def compile_flow_logs(snapshot: SnapshotResources) -> Compiled[list[FlowLogConfig]]:
    return Compiled(
        [
            FlowLogConfig(
                id=f.flow_log_id,
                resource_id=f.resource_id,
                traffic_type=f.traffic_type,
                log_format=f.log_format,
                destination_type=f.log_destination_type,
                destination=f.log_destination or f.log_group_name,
                status=f.deliver_logs_status,
                error=f.deliver_logs_error_message,
                aggregation_interval=f.max_aggregation_interval,
            )
            for f in snapshot.flow_logs
        ]
    )
