"""Paths and helpers shared by the flow-log tests (a module of its own: every test folder has a conftest)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa

from reach.flowlogs import FLOW_LOG_SCHEMA, FlowLogStats, read_flow_logs

ROOT = Path(__file__).resolve().parents[2]
EXTERNAL = ROOT / "fixtures" / "external"
DATA = Path(__file__).resolve().parent / "data"
AWSDOCS = EXTERNAL / "awsdocs" / "records"
BEATS = EXTERNAL / "elastic" / "beats" / "x-pack" / "filebeat"
INTEGRATIONS = EXTERNAL / "elastic" / "integrations" / "packages/aws/data_stream/vpcflow/_dev/test/pipeline"
OTEL = EXTERNAL / "otel" / "extension/encoding/awslogsencodingextension/internal/unmarshaler/vpc-flow-log/testdata"

# Every VPC field in AWS's table order (Elastic's v5/v7/v8 samples use this order, with no header).
V5_ALL = (
    "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action "
    "log-status vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr region az-id "
    "sublocation-type sublocation-id pkt-src-aws-service pkt-dst-aws-service flow-direction traffic-path"
)
ECS = (
    "ecs-cluster-arn ecs-cluster-name ecs-container-instance-arn ecs-container-instance-id ecs-container-id "
    "ecs-second-container-id ecs-service-name ecs-task-definition-arn ecs-task-arn ecs-task-id"
)
V7_ALL = f"{V5_ALL} {ECS}"
V8_ALL = f"{V7_ALL} reject-reason"
# The transit-gateway default format (AWS TGW guide), which Elastic's TGW samples use.
TGW_DEFAULT = (
    "version resource-type account-id tgw-id tgw-attachment-id tgw-src-vpc-account-id tgw-dst-vpc-account-id "
    "tgw-src-vpc-id tgw-dst-vpc-id tgw-src-subnet-id tgw-dst-subnet-id tgw-src-eni tgw-dst-eni tgw-src-az-id "
    "tgw-dst-az-id tgw-pair-attachment-id srcaddr dstaddr srcport dstport protocol packets bytes start end "
    "log-status type packets-lost-no-route packets-lost-blackhole packets-lost-mtu-exceeded "
    "packets-lost-ttl-expired tcp-flags region flow-direction pkt-src-aws-service pkt-dst-aws-service"
)


def read(sources: Sequence[str | Path] | str | Path, **kwargs: Any) -> tuple[list[dict[str, Any]], FlowLogStats]:
    """Every record as a dict (schema columns and extras), and the stats; checks every batch's schema."""
    if isinstance(sources, (str, Path)):
        sources = [sources]
    kwargs.setdefault("quiet", True)
    stream = read_flow_logs(list(sources), **kwargs)
    rows: list[dict[str, Any]] = []
    for batch in stream:
        assert batch.schema.names[: len(FLOW_LOG_SCHEMA)] == FLOW_LOG_SCHEMA.names
        for field in FLOW_LOG_SCHEMA:
            assert batch.schema.field(field.name).type == field.type, field.name
        rows.extend(pa.Table.from_batches([batch]).to_pylist())
    return rows, stream.stats


def present(row: dict[str, Any]) -> dict[str, Any]:
    """The non-null fields of a row."""
    return {k: v for k, v in row.items() if v is not None}
