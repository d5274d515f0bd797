"""The doctor's answer as data: `DoctorReport.model_dump()` is the JSON; the text renderer reads it too."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

Severity = Literal["error", "warning", "info"]
Level = Literal["interface", "subnet", "vpc", "transit-gateway", "transit-gateway-attachment", "unknown"]
CoverageStatus = Literal["covered", "accept-only", "reject-only", "failing", "none"]

SEVERITY_ORDER: dict[str, int] = {"error": 0, "warning": 1, "info": 2}


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Finding(_Frozen):
    """One problem, what it means, and what to do about it."""

    severity: Severity
    code: str  # DELIVERY_RATE_LIMITED, TRAFFIC_ACCEPT_ONLY, INTERFACES_NOT_COVERED, …
    subject: str  # the flow log, VPC or interface it is about
    summary: str
    detail: str
    fix: str | None = None
    interfaces: list[str] = []  # the interfaces it concerns, where it concerns some


class CoveringLog(_Frozen):
    flow_log_id: str
    level: Level
    traffic_type: str | None
    delivering: bool  # False when DeliverLogsStatus is FAILED


class ObservedCounts(_Frozen):
    """Flow-log records read for one interface (with `--flow-logs`)."""

    records: int = 0
    accept: int = 0
    reject: int = 0
    nodata: int = 0
    skipdata: int = 0


class InterfaceCoverage(_Frozen):
    interface_id: str
    name: str | None
    kind: str
    description: str | None
    vpc_id: str
    subnet_id: str
    instance_id: str | None
    flow_logs: list[CoveringLog]  # most specific first: interface, subnet, VPC
    captures: list[str]  # ACCEPT and/or REJECT, from the flow logs that deliver
    status: CoverageStatus
    observed: ObservedCounts | None = None  # None without --flow-logs


class FlowLogReport(_Frozen):
    id: str
    resource_id: str
    level: Level
    resource_in_snapshot: bool
    traffic_type: str | None
    destination_type: str | None
    destination: str | None
    log_format: str  # the effective format: the default one when LogFormat is absent
    default_format: bool
    missing_fields: list[str]  # fields reconcile uses that the format lacks
    aggregation_interval: int | None
    deliver_logs_status: str | None
    deliver_logs_error_message: str | None
    interfaces: list[str]  # interfaces it covers
    findings: list[Finding]


class DataReport(_Frozen):
    """What `--flow-logs` read."""

    sources: list[str]
    files: int
    records: int
    unparsable: int
    interfaces: int  # distinct interfaces with at least one record
    unknown_interfaces: list[str]  # with records, but not in the snapshot (first 20)
    unknown_count: int


class CoverageSummary(_Frozen):
    flow_logs: int
    interfaces: int
    covered: int
    partial: int  # ACCEPT-only or REJECT-only
    failing: int  # covered only by flow logs whose delivery fails
    uncovered: int
    silent: int | None  # covered, delivering, and no record in the data (None without --flow-logs)
    errors: int
    warnings: int


class DoctorReport(_Frozen):
    summary: CoverageSummary
    flow_logs: list[FlowLogReport]
    interfaces: list[InterfaceCoverage]
    findings: list[Finding]  # every finding, errors first
    data: DataReport | None = None
