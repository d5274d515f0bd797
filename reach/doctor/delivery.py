"""What one flow log's configuration and delivery status mean for the records you will (not) get.

The delivery errors are those AWS's flow-log troubleshooting guide names for `DeliverLogsErrorMessage`
(`Rate limited`, `Access error`, `Unknown error`) and for `create-flow-logs`
(LogDestinationNotFoundException); the rest follows from what reconcile needs of a record.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from reach.doctor.report import Finding, Level, Severity
from reach.flowlogs import DEFAULT_LOG_FORMAT
from reach.model.network import FlowLogConfig

DEFAULT_FORMAT = " ".join(f"${{{name}}}" for name in DEFAULT_LOG_FORMAT)

# Without these a record cannot be placed on an interface and matched to a flow at all.
ESSENTIAL_FIELDS = ("interface-id", "srcaddr", "dstaddr", "dstport", "protocol", "action")

# Fields reconcile uses when they are there, and what is lost without each.
RECONCILE_FIELDS: dict[str, str] = {
    "tcp-flags": "which side opened a TCP connection (SYN) and which packets are replies, so a rejected "
    "response is told from a rejected request",
    "flow-direction": "whether the record is ingress or egress at the interface (without it the direction is "
    "guessed from the addresses, which fails for NAT gateways and other middleboxes)",
    "pkt-srcaddr": "the original source behind a NAT gateway, transit gateway or secondary address (srcaddr "
    "always shows the interface's primary private address)",
    "pkt-dstaddr": "the original destination behind a NAT gateway, transit gateway or secondary address "
    "(dstaddr always shows the interface's primary private address)",
}

RECOMMENDED_FORMAT = (
    "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} "
    "${packets} ${bytes} ${start} ${end} ${action} ${log-status} ${vpc-id} ${subnet-id} ${instance-id} "
    "${tcp-flags} ${type} ${pkt-srcaddr} ${pkt-dstaddr} ${flow-direction} ${traffic-path}"
)

_FIELD = re.compile(r"\$\{([a-z0-9-]+)\}")
_S3_ARN = re.compile(r"^arn:aws[a-z-]*:s3:::([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(/.*)?$")
_FIREHOSE_ARN = re.compile(r"^arn:aws[a-z-]*:firehose:[a-z0-9-]+:\d{12}:deliverystream/.+$")


@dataclass(frozen=True)
class _Known:
    code: str
    summary: str
    detail: str
    fix: str


# DeliverLogsErrorMessage -> meaning and remedy (AWS troubleshooting guide: "Incomplete flow log records").
DELIVERY_ERRORS: dict[str, _Known] = {
    "rate limited": _Known(
        "DELIVERY_RATE_LIMITED",
        "delivery is rate limited: records are being dropped",
        "CloudWatch Logs throttles this flow log: its interfaces produce more records than CloudWatch Logs "
        "accepts in the time window, or the account has reached its limit on the number of log groups. "
        "Records are lost while it lasts, so a missing record proves nothing.",
        "publish to Amazon S3 instead (delete the flow log, create it again with --log-destination-type s3), "
        "or raise the CloudWatch Logs quota / delete unused log groups",
    ),
    "access error": _Known(
        "DELIVERY_ACCESS_ERROR",
        "delivery fails with an access error: no records are published",
        "The IAM role the flow log publishes with (DeliverLogsPermissionArn) does not have sufficient "
        "permissions to publish flow log records to the CloudWatch Logs log group.",
        "give the role logs:CreateLogGroup, logs:CreateLogStream, logs:PutLogEvents, logs:DescribeLogGroups "
        "and logs:DescribeLogStreams, and a trust policy that lets vpc-flow-logs.amazonaws.com assume it",
    ),
    "unknown error": _Known(
        "DELIVERY_UNKNOWN_ERROR",
        "delivery fails with an unknown error",
        "An internal error has occurred in the flow logs service: nothing in the configuration explains it, "
        "and records may be missing while it lasts.",
        "if it persists, delete the flow log and create it again, or ask AWS Support",
    ),
}

_S3_ACCESS = (
    " For an S3 destination, check that the bucket still exists and that its bucket policy still lets "
    "delivery.logs.amazonaws.com write to it."
)
_CAUSES = {
    "s3": "For an S3 destination: the bucket may have been deleted, or its policy no longer lets "
    "delivery.logs.amazonaws.com write (reach cannot see S3 from a describe-* snapshot).",
    "cloud-watch-logs": "For CloudWatch Logs: the role in DeliverLogsPermissionArn may lack permissions, or "
    "the account may have reached its log group limit.",
    "kinesis-data-firehose": "For Firehose: the delivery stream may have been deleted, or the delivery role "
    "may lack permissions.",
}
_NO_DESTINATION = (
    "Records have nowhere to go. Creating a flow log that publishes to a bucket that does not exist fails "
    "with LogDestinationNotFoundException: the ARN must name an existing S3 bucket, in the right format."
)
_RESERVED_PREFIX = (
    "You cannot use AWSLogs as a subfolder name: AWS writes its own AWSLogs/<account>/vpcflowlogs/ folders "
    "under the prefix you give."
)
_ACCEPT_ONLY = (
    "A flow log with TrafficType ACCEPT records accepted traffic only. A connection that a security group or "
    "network ACL rejects leaves no record in it, so the absence of a REJECT record there is no evidence that "
    "nothing was rejected."
)
_REJECT_ONLY = (
    "A flow log with TrafficType REJECT records rejected traffic only, so it cannot confirm that a flow got "
    "through: reconcile can check rejections against it but not acceptances."
)
_UNUSABLE = (
    "Without the interface, addresses, destination port, protocol and action a record cannot be matched to "
    "a flow."
)
_TRANSIT = (
    "Transit gateway flow logs have their own record format and count packets lost to missing or blackhole "
    "routes; they record no security group or network ACL decision."
)
_NOT_IN_SNAPSHOT = (
    "The resource was deleted, or lives in a region or account the snapshot was not collected from; a flow "
    "log of a deleted resource records nothing."
)
_NO_INTERFACES = (
    "Flow logs record traffic per network interface; a VPC or subnet without interfaces yields no records "
    "(and a CloudWatch Logs log group is only created once traffic is recorded)."
)


def format_fields(config: FlowLogConfig) -> tuple[str, bool, list[str]]:
    """The effective LogFormat, whether it is the default one, and its field names in order."""
    log_format = config.log_format or DEFAULT_FORMAT
    return log_format, log_format == DEFAULT_FORMAT, _FIELD.findall(log_format)


def missing_fields(config: FlowLogConfig) -> list[str]:
    """Fields reconcile uses that this flow log's format lacks (essential ones first)."""
    fields = set(format_fields(config)[2])
    return [f for f in ESSENTIAL_FIELDS + tuple(RECONCILE_FIELDS) if f not in fields]


def flow_log_findings(
    config: FlowLogConfig, level: Level, interfaces: list[str], partial: list[str], resource_in_snapshot: bool
) -> list[Finding]:
    """Everything worth saying about one flow log. `partial`: the interfaces it covers that no other
    delivering flow log completes (they see only what this one captures)."""
    return (
        delivery_findings(config, interfaces)
        + destination_findings(config)
        + traffic_findings(config, partial)
        + format_findings(config)
        + aggregation_findings(config)
        + scope_findings(config, level, interfaces, resource_in_snapshot)
    )


def delivery_findings(config: FlowLogConfig, interfaces: list[str]) -> list[Finding]:
    status = (config.status or "").upper()
    if status != "FAILED" and not config.error:
        return []
    message = (config.error or "").strip()
    known = DELIVERY_ERRORS.get(message.lower().rstrip("."))
    affected = _affected(interfaces)
    if known is not None:
        detail, fix = known.detail, known.fix
        if known.code == "DELIVERY_ACCESS_ERROR" and destination_type(config) == "s3":
            detail += _S3_ACCESS
            fix = "restore the bucket, or its policy statement for delivery.logs.amazonaws.com"
        return [_finding("error", known.code, config, known.summary + affected, detail, fix, interfaces)]
    said = f": {message}" if message else " (no DeliverLogsErrorMessage)"
    detail = "AWS reports that this flow log's records are not being delivered. " + _CAUSES.get(
        destination_type(config), ""
    )
    where = config.destination or "the destination"
    fix = f"check that {where} exists and accepts delivery, then run aws ec2 describe-flow-logs again"
    summary = f"delivery FAILED{said}{affected}"
    return [_finding("error", "DELIVERY_FAILED", config, summary, detail, fix, interfaces)]


def destination_findings(config: FlowLogConfig) -> list[Finding]:
    kind = destination_type(config)
    destination = config.destination or ""
    problem = None
    if not destination:
        problem = f"names no {'log group' if kind == 'cloud-watch-logs' else 'destination'}"
    elif kind == "s3" and not _S3_ARN.match(destination):
        problem = f"names {destination!r}, which is not an S3 bucket ARN (arn:aws:s3:::bucket[/prefix/])"
    elif kind == "kinesis-data-firehose" and not _FIREHOSE_ARN.match(destination):
        problem = f"names {destination!r}, which is not a Firehose delivery stream ARN"
    if problem is not None:
        fix = "delete the flow log and create it again with --log-destination arn:aws:s3:::EXISTING-BUCKET"
        return [_finding("error", "DESTINATION_MISSING", config, f"the {kind} destination {problem}",
                         _NO_DESTINATION, fix)]
    match = _S3_ARN.match(destination) if kind == "s3" else None
    if match and match.group(2) and "/AWSLogs/" in f"{match.group(2)}/":
        summary = f"the S3 prefix of {destination} uses AWSLogs, a name AWS reserves"
        fix = "create the flow log again with a prefix that is not AWSLogs"
        return [_finding("warning", "DESTINATION_RESERVED_PREFIX", config, summary, _RESERVED_PREFIX, fix)]
    return []


def traffic_findings(config: FlowLogConfig, partial: list[str]) -> list[Finding]:
    kind = (config.traffic_type or "ALL").upper()
    if kind not in ("ACCEPT", "REJECT"):
        return []
    severity: Severity = "warning" if partial else "info"
    others = (
        f"; {len(partial)} of its interfaces have no other flow log that records the rest"
        if partial
        else "; every interface it covers has another flow log that records the rest"
    )
    if kind == "ACCEPT":
        summary = f"captures only ACCEPT: it can never show a rejection{others}"
        fix = "add a flow log with --traffic-type ALL on the same resource (a traffic type cannot be changed)"
        return [_finding(severity, "TRAFFIC_ACCEPT_ONLY", config, summary, _ACCEPT_ONLY, fix, partial)]
    summary = f"captures only REJECT: it can never show accepted traffic{others}"
    fix = "add a flow log with --traffic-type ALL on the same resource if accepted traffic matters"
    return [_finding(severity, "TRAFFIC_REJECT_ONLY", config, summary, _REJECT_ONLY, fix, partial)]


def format_findings(config: FlowLogConfig) -> list[Finding]:
    log_format, default, _ = format_fields(config)
    missing = missing_fields(config)
    if not missing:
        return []
    essential = [f for f in missing if f in ESSENTIAL_FIELDS]
    which = "the default format" if default else "its custom format"
    fix = f"create a flow log with --log-format '{RECOMMENDED_FORMAT}' (a flow log's format is fixed)"
    if essential:
        summary = f"{which} lacks {', '.join(essential)}: reconcile cannot use its records"
        detail = f"{_UNUSABLE} The format: {log_format}"
        return [_finding("error", "FORMAT_UNUSABLE", config, summary, detail, fix)]
    severity: Severity = "warning" if {"tcp-flags", "flow-direction"} & set(missing) else "info"
    detail = "Without them reconcile loses " + "; ".join(f"{f}: {RECONCILE_FIELDS[f]}" for f in missing) + "."
    summary = f"{which} lacks {', '.join(missing)}, which reconcile uses"
    return [_finding(severity, "FORMAT_MISSING_FIELDS", config, summary, detail, fix)]


def aggregation_findings(config: FlowLogConfig) -> list[Finding]:
    if config.aggregation_interval is None or config.aggregation_interval <= 60:
        return []
    minutes = config.aggregation_interval // 60
    detail = (
        f"A record can cover up to {minutes} minutes of a flow, so a change in verdict shows up to {minutes} "
        f"minutes late and records are matched to the snapshot in {minutes}-minute windows (interfaces of "
        "Nitro-based instances aggregate over 1 minute or less whatever the setting)."
    )
    summary = f"aggregates over up to {minutes} minutes"
    fix = "create the flow log with --max-aggregation-interval 60 for 1-minute records"
    return [_finding("info", "AGGREGATION_INTERVAL", config, summary, detail, fix)]


def scope_findings(
    config: FlowLogConfig, level: Level, interfaces: list[str], resource_in_snapshot: bool
) -> list[Finding]:
    if level in ("transit-gateway", "transit-gateway-attachment"):
        summary = f"logs {level.replace('-', ' ')} {config.resource_id}, not network interfaces"
        return [_finding("info", "TRANSIT_GATEWAY_FLOW_LOG", config, summary, _TRANSIT)]
    if not resource_in_snapshot:
        summary = f"logs {config.resource_id}, which the snapshot does not contain"
        return [_finding("info", "RESOURCE_NOT_IN_SNAPSHOT", config, summary, _NOT_IN_SNAPSHOT)]
    if not interfaces:
        summary = f"{config.resource_id} has no network interface: this flow log has nothing to record"
        return [_finding("info", "NO_INTERFACES", config, summary, _NO_INTERFACES)]
    return []


def destination_type(config: FlowLogConfig) -> str:
    # Flow logs made before S3 delivery existed carry no LogDestinationType: they publish to CloudWatch Logs.
    return config.destination_type or "cloud-watch-logs"


def _finding(
    severity: Severity,
    code: str,
    config: FlowLogConfig,
    summary: str,
    detail: str,
    fix: str | None = None,
    interfaces: list[str] | None = None,
) -> Finding:
    return Finding(severity=severity, code=code, subject=config.id, summary=summary, detail=detail, fix=fix,
                   interfaces=interfaces or [])


def _affected(interfaces: list[str]) -> str:
    if not interfaces:
        return ""
    return f" ({len(interfaces)} interface{'s' if len(interfaces) != 1 else ''} affected)"
