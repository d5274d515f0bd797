"""`diagnose(network)`: every flow log's configuration and delivery, every interface's coverage, and with
flow-log data, the interfaces that are covered yet silent."""

from __future__ import annotations

from collections.abc import Sequence

from reach.doctor.coverage import covering_logs, delivering, interface_coverage, level_of, most_specific
from reach.doctor.delivery import RECOMMENDED_FORMAT, flow_log_findings, format_fields, missing_fields
from reach.doctor.observed import ObservedData, observe
from reach.doctor.report import (
    SEVERITY_ORDER,
    CoverageSummary,
    DataReport,
    DoctorReport,
    Finding,
    FlowLogReport,
    InterfaceCoverage,
    Level,
)
from reach.model.network import FlowLogConfig, Network

_UNKNOWN_SHOWN = 20
_PARTIAL = ("accept-only", "reject-only")

_NO_FLOW_LOGS = (
    "No describe-flow-logs output, or an empty one: either no flow log exists in the accounts and regions "
    "collected, or describe-flow-logs was not collected (see the manifest's errors)."
)
_NOT_COVERED = (
    "No flow log is attached to these interfaces, their subnets or their VPC, so nothing records their "
    "traffic. If create-flow-logs failed with LogDestinationNotFoundException, the S3 bucket it named does "
    "not exist or its ARN is malformed, and no flow log was created."
)
_SILENT = (
    "The flow log is active and reports no delivery error, yet the data holds nothing for these interfaces. "
    "Either the flow log is still being created (it can take ten minutes or more before the log group exists "
    "and data appears), or no traffic has been recorded for them yet: CloudWatch Logs creates the log group "
    "only when traffic is recorded. Or the data read does not include this flow log's destination or time "
    "range."
)
_DATA_WITHOUT_FLOW_LOG = (
    "A flow log that recorded them has been deleted since, or was created in an account or region the "
    "snapshot does not include."
)


def diagnose(network: Network, *, flow_logs: Sequence[str] | None = None, profile: str | None = None,
             region: str | None = None) -> DoctorReport:
    """Diagnose a compiled snapshot's flow logs; `flow_logs`: paths of flow-log data (files, folders, s3://…),
    read with the AWS client's `profile` and `region`."""
    covering = covering_logs(network)
    observed = (observe(flow_logs, log_format=_shared_format(network.flow_logs), profile=profile, region=region)
                if flow_logs else None)
    interfaces = interface_coverage(network, covering, observed.per_interface if observed else None)
    reports = [_flow_log_report(network, config, interfaces) for config in network.flow_logs]
    findings = [f for report in reports for f in report.findings]
    findings += _uncovered(network, interfaces)
    if observed is not None:
        findings += _silent(network, interfaces, covering)
        findings += _data_findings(network, interfaces, observed)
    if not network.flow_logs:
        findings.append(Finding(severity="warning", code="NO_FLOW_LOGS", subject="snapshot",
                                summary="the snapshot holds no flow log", detail=_NO_FLOW_LOGS))
    findings.sort(key=lambda f: (SEVERITY_ORDER[f.severity], f.code, f.subject))
    data = _data_report(network, observed) if observed is not None else None
    return DoctorReport(
        summary=_summary(reports, interfaces, findings, observed is not None),
        flow_logs=reports,
        interfaces=interfaces,
        findings=findings,
        data=data,
    )


def _flow_log_report(
    network: Network, config: FlowLogConfig, interfaces: list[InterfaceCoverage]
) -> FlowLogReport:
    level = level_of(config.resource_id)
    covered = [i for i in interfaces if any(c.flow_log_id == config.id for c in i.flow_logs)]
    # The interfaces that see only what this flow log captures: partial coverage is its doing.
    partial = [i.interface_id for i in covered if i.status in _PARTIAL and delivering(config)]
    in_snapshot = (
        config.resource_id in network.vpcs
        or config.resource_id in network.subnets
        or config.resource_id in network.interfaces
    )
    log_format, default, _ = format_fields(config)
    ids = [i.interface_id for i in covered]
    return FlowLogReport(
        id=config.id,
        resource_id=config.resource_id,
        level=level,
        resource_in_snapshot=in_snapshot,
        traffic_type=config.traffic_type,
        destination_type=config.destination_type,
        destination=config.destination,
        log_format=log_format,
        default_format=default,
        missing_fields=missing_fields(config),
        aggregation_interval=config.aggregation_interval,
        deliver_logs_status=config.status,
        deliver_logs_error_message=config.error,
        interfaces=ids,
        findings=flow_log_findings(config, level, ids, partial, in_snapshot),
    )


def _uncovered(network: Network, interfaces: list[InterfaceCoverage]) -> list[Finding]:
    """Interfaces no flow log covers, one finding per VPC (with the command that covers the whole VPC)."""
    by_vpc: dict[str, list[InterfaceCoverage]] = {}
    for entry in interfaces:
        if entry.status == "none":
            by_vpc.setdefault(entry.vpc_id, []).append(entry)
    findings = []
    for vpc_id, entries in sorted(by_vpc.items()):
        vpc = network.vpcs.get(vpc_id)
        label = f"{vpc_id} ({vpc.name})" if vpc and vpc.name else vpc_id
        findings.append(Finding(
            severity="warning",
            code="INTERFACES_NOT_COVERED",
            subject=vpc_id,
            summary=f"{_count(entries)} in {label} {_have(entries)} no flow log: {_list(entries)}",
            detail=_NOT_COVERED,
            fix=f"aws ec2 create-flow-logs --resource-type VPC --resource-ids {vpc_id} --traffic-type ALL "
            "--log-destination-type s3 --log-destination arn:aws:s3:::EXISTING-BUCKET "
            f"--max-aggregation-interval 60 --log-format '{RECOMMENDED_FORMAT}'",
            interfaces=[e.interface_id for e in entries],
        ))
    return findings


def _silent(
    network: Network,
    interfaces: list[InterfaceCoverage],
    covering: dict[str, list[tuple[FlowLogConfig, Level]]],
) -> list[Finding]:
    """Covered, delivering, yet no record in the data: one finding per flow log closest to the interfaces."""
    by_log: dict[str, tuple[FlowLogConfig, list[InterfaceCoverage]]] = {}
    for entry in interfaces:
        if entry.status in ("none", "failing") or (entry.observed and entry.observed.records):
            continue
        config = most_specific(covering.get(entry.interface_id, []))
        if config is not None:
            by_log.setdefault(config.id, (config, []))[1].append(entry)
    findings = []
    for log_id, (config, entries) in sorted(by_log.items()):
        where = (config.destination or "its destination").split(":log-group:")[-1]
        findings.append(Finding(
            severity="warning",
            code="COVERED_BUT_SILENT",
            subject=log_id,
            summary=f"{_count(entries)} covered by {log_id} {_have(entries)} no record in the data: "
            f"{_list(entries)}",
            detail=_SILENT,
            fix=f"read {where} over a time when the interfaces carried traffic (a new flow log can take ten "
            "minutes or more to deliver)",
            interfaces=[e.interface_id for e in entries],
        ))
    return findings


def _data_findings(
    network: Network, interfaces: list[InterfaceCoverage], observed: ObservedData
) -> list[Finding]:
    findings = []
    unknown = sorted(set(observed.per_interface) - set(network.interfaces))
    if unknown:
        findings.append(Finding(
            severity="info",
            code="DATA_UNKNOWN_INTERFACES",
            subject="flow-log data",
            summary=f"{len(unknown)} interface(s) in the data are not in the snapshot: "
            + ", ".join(unknown[:5]) + (" …" if len(unknown) > 5 else ""),
            detail="They were deleted since, or belong to a region or account the snapshot does not include.",
            interfaces=unknown[:_UNKNOWN_SHOWN],
        ))
    uncovered_with_data = [i for i in interfaces if i.status == "none" and i.observed and i.observed.records]
    if uncovered_with_data:
        findings.append(Finding(
            severity="info",
            code="DATA_WITHOUT_FLOW_LOG",
            subject="flow-log data",
            summary=f"{_count(uncovered_with_data)} with records but no flow log in the snapshot: "
            f"{_list(uncovered_with_data)}",
            detail=_DATA_WITHOUT_FLOW_LOG,
            interfaces=[i.interface_id for i in uncovered_with_data],
        ))
    if observed.records == 0:
        findings.append(Finding(
            severity="warning",
            code="DATA_EMPTY",
            subject="flow-log data",
            summary=f"no flow-log record in {', '.join(observed.sources)}",
            detail=f"{observed.files} file(s) read, {observed.unparsable} unparsable line(s).",
        ))
    return findings


def _data_report(network: Network, observed: ObservedData) -> DataReport:
    unknown = sorted(set(observed.per_interface) - set(network.interfaces))
    return DataReport(
        sources=observed.sources,
        files=observed.files,
        records=observed.records,
        unparsable=observed.unparsable,
        interfaces=len(observed.per_interface),
        unknown_interfaces=unknown[:_UNKNOWN_SHOWN],
        unknown_count=len(unknown),
    )


def _summary(
    reports: list[FlowLogReport],
    interfaces: list[InterfaceCoverage],
    findings: list[Finding],
    with_data: bool,
) -> CoverageSummary:
    status = [i.status for i in interfaces]
    silent = sum(
        1 for i in interfaces
        if i.status not in ("none", "failing") and i.observed is not None and i.observed.records == 0
    )
    return CoverageSummary(
        flow_logs=len(reports),
        interfaces=len(interfaces),
        covered=status.count("covered"),
        partial=status.count("accept-only") + status.count("reject-only"),
        failing=status.count("failing"),
        uncovered=status.count("none"),
        silent=silent if with_data else None,
        errors=sum(1 for f in findings if f.severity == "error"),
        warnings=sum(1 for f in findings if f.severity == "warning"),
    )


def _shared_format(configs: list[FlowLogConfig]) -> str | None:
    """The LogFormat to read header-less lines with: the snapshot's, when all its flow logs share one."""
    formats = {format_fields(c)[0] for c in configs}
    return formats.pop() if len(formats) == 1 else None


def _count(entries: list[InterfaceCoverage]) -> str:
    return f"{len(entries)} interface{'s' if len(entries) != 1 else ''}"


def _have(entries: list[InterfaceCoverage]) -> str:
    return "has" if len(entries) == 1 else "have"


def _list(entries: list[InterfaceCoverage], shown: int = 6) -> str:
    names = [f"{e.interface_id} ({e.name})" if e.name else e.interface_id for e in entries[:shown]]
    return ", ".join(names) + (f" and {len(entries) - shown} more" if len(entries) > shown else "")
