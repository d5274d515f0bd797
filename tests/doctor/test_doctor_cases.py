"""The doctor on hand-made flow-log configurations over lambda-rds-ok's network: formats, destinations,
combined traffic types, transit gateways, and flow-log data that does not match the snapshot."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from reach.api import Snapshot
from reach.doctor import DoctorReport, diagnose
from tests.conftest import FIXTURES

LAMBDA, ORDERS_DB, REPORTS_DB = "eni-07079bc4987533224", "eni-06eda9f3bd974dd1b", "eni-0f6ebb446a0d90200"
VPC, DB_A = "vpc-0d18b2e01e25a7be6", "subnet-06d5b53804363c9bb"
FIELDS = (
    "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action "
    "log-status tcp-flags pkt-srcaddr pkt-dstaddr flow-direction"
)
FULL = " ".join(f"${{{name}}}" for name in FIELDS.split())
DEFAULT_HEADER = " ".join(FIELDS.split()[:14]) + "\n"


def _flow_log(flow_log_id: str, resource: str, **fields: Any) -> dict[str, Any]:
    log = {
        "FlowLogId": flow_log_id,
        "ResourceId": resource,
        "TrafficType": "ALL",
        "DeliverLogsStatus": "SUCCESS",
        "FlowLogStatus": "ACTIVE",
        "LogDestinationType": "s3",
        "LogDestination": "arn:aws:s3:::orders-flow-logs-prod",
        "LogFormat": FULL,
        "MaxAggregationInterval": 60,
    }
    log.update(fields)
    return {k: v for k, v in log.items() if v is not None}


def _doctor(
    tmp_path: Path, flow_logs: list[dict[str, Any]], data: dict[str, str] | None = None
) -> DoctorReport:
    snapshot = tmp_path / "snapshot"
    shutil.copytree(FIXTURES / "lambda-rds-ok" / "snapshot", snapshot)
    (snapshot / "describe-flow-logs.json").write_text(json.dumps({"FlowLogs": flow_logs}))
    sources = None
    if data is not None:
        for name, text in data.items():
            (tmp_path / "data").mkdir(exist_ok=True)
            (tmp_path / "data" / name).write_text(text)
        sources = [str(tmp_path / "data")]
    return diagnose(Snapshot.load(snapshot, cache=False).network, flow_logs=sources)


def _codes(report: DoctorReport) -> list[tuple[str, str, str]]:
    return [(f.severity, f.code, f.subject) for f in report.findings]


def test_an_accept_only_and_a_reject_only_flow_log_add_up_to_all(tmp_path: Path) -> None:
    report = _doctor(
        tmp_path,
        [
            _flow_log("fl-accept", VPC, TrafficType="ACCEPT"),
            _flow_log("fl-reject", VPC, TrafficType="REJECT"),
        ],
    )
    assert {i.status for i in report.interfaces} == {"covered"}
    assert _codes(report) == [
        ("info", "TRAFFIC_ACCEPT_ONLY", "fl-accept"),
        ("info", "TRAFFIC_REJECT_ONLY", "fl-reject"),
    ]
    assert all(not f.interfaces for f in report.findings)


def test_a_failing_flow_log_does_not_complete_a_partial_one(tmp_path: Path) -> None:
    report = _doctor(
        tmp_path,
        [
            _flow_log("fl-accept", VPC, TrafficType="ACCEPT"),
            _flow_log(
                "fl-reject",
                VPC,
                TrafficType="REJECT",
                DeliverLogsStatus="FAILED",
                DeliverLogsErrorMessage="Access error",
            ),
        ],
    )
    assert {i.status for i in report.interfaces} == {"accept-only"}
    assert ("warning", "TRAFFIC_ACCEPT_ONLY", "fl-accept") in _codes(report)
    access = next(f for f in report.findings if f.code == "DELIVERY_ACCESS_ERROR")
    assert (
        "bucket still exists" in access.detail
    )  # an S3 destination: the bucket and its policy, not a log group


def test_a_format_without_essential_fields_is_unusable(tmp_path: Path) -> None:
    report = _doctor(
        tmp_path, [_flow_log("fl-thin", VPC, LogFormat="${version} ${srcaddr} ${dstaddr} ${packets}")]
    )
    (finding,) = [f for f in report.findings if f.code == "FORMAT_UNUSABLE"]
    assert finding.severity == "error"
    assert "interface-id" in finding.summary and "action" in finding.summary
    assert report.flow_logs[0].missing_fields[:3] == ["interface-id", "dstport", "protocol"]


def test_destinations_that_cannot_receive(tmp_path: Path) -> None:
    report = _doctor(
        tmp_path,
        [
            _flow_log("fl-none", VPC, LogDestination=None),
            _flow_log("fl-name", DB_A, LogDestination="orders-flow-logs-prod"),
            _flow_log("fl-reserved", LAMBDA, LogDestination="arn:aws:s3:::orders-flow-logs-prod/AWSLogs/"),
        ],
    )
    assert _codes(report) == [
        ("error", "DESTINATION_MISSING", "fl-name"),
        ("error", "DESTINATION_MISSING", "fl-none"),
        ("warning", "DESTINATION_RESERVED_PREFIX", "fl-reserved"),
    ]
    assert "LogDestinationNotFoundException" in report.findings[0].detail


def test_failed_without_a_known_message(tmp_path: Path) -> None:
    report = _doctor(tmp_path, [_flow_log("fl-s3", VPC, DeliverLogsStatus="FAILED")])
    (finding,) = report.findings
    assert (finding.code, finding.severity) == ("DELIVERY_FAILED", "error")
    assert (
        "no DeliverLogsErrorMessage" in finding.summary and "bucket may have been deleted" in finding.detail
    )


def test_transit_gateway_and_vanished_resources(tmp_path: Path) -> None:
    report = _doctor(
        tmp_path,
        [
            _flow_log("fl-all", VPC),
            _flow_log("fl-tgw", "tgw-0a1b2c3d4e5f67890"),
            _flow_log("fl-gone", "subnet-0123456789abcdef0"),
        ],
    )
    assert _codes(report) == [
        ("info", "RESOURCE_NOT_IN_SNAPSHOT", "fl-gone"),
        ("info", "TRANSIT_GATEWAY_FLOW_LOG", "fl-tgw"),
    ]
    levels = {r.id: (r.level, r.resource_in_snapshot, len(r.interfaces)) for r in report.flow_logs}
    assert levels == {
        "fl-all": ("vpc", True, 3),
        "fl-tgw": ("transit-gateway", False, 0),
        "fl-gone": ("subnet", False, 0),
    }


def test_no_flow_log_at_all(tmp_path: Path) -> None:
    report = _doctor(tmp_path, [])
    assert _codes(report) == [
        ("warning", "INTERFACES_NOT_COVERED", VPC),
        ("warning", "NO_FLOW_LOGS", "snapshot"),
    ]
    assert report.summary.uncovered == 3


def test_data_for_interfaces_the_snapshot_does_not_cover_or_know(tmp_path: Path) -> None:
    lines = [
        f"2 123456789012 {LAMBDA} 10.0.1.100 10.0.2.50 41724 3306 6 4 240 1709543460 1709543518 ACCEPT OK",
        "2 123456789012 eni-0123456789abcdef0 10.9.0.1 10.9.0.2 1234 443 6 4 240 1709543460 1709543518 "
        "REJECT OK",
    ]
    report = _doctor(
        tmp_path, [_flow_log("fl-db", DB_A)], data={"flows.log": DEFAULT_HEADER + "\n".join(lines) + "\n"}
    )
    codes = _codes(report)
    assert ("info", "DATA_UNKNOWN_INTERFACES", "flow-log data") in codes
    assert ("info", "DATA_WITHOUT_FLOW_LOG", "flow-log data") in codes
    assert ("warning", "COVERED_BUT_SILENT", "fl-db") in codes  # orders-db: covered, nothing in the data
    assert report.data is not None and report.data.unknown_interfaces == ["eni-0123456789abcdef0"]


def test_headerless_data_is_read_with_the_snapshots_own_format(tmp_path: Path) -> None:
    # A CloudWatch Logs export has no header line: the flow log's LogFormat says what each column is.
    fields = (
        "interface-id action log-status srcaddr dstaddr srcport dstport protocol tcp-flags flow-direction"
    )
    fmt = " ".join(f"${{{name}}}" for name in f"{fields} pkt-srcaddr pkt-dstaddr".split())
    lines = [
        f"{LAMBDA} ACCEPT OK 10.0.1.100 10.0.2.50 41724 3306 6 2 egress 10.0.1.100 10.0.2.50",
        f"{ORDERS_DB} REJECT OK 10.0.1.100 10.0.2.50 50312 5432 6 2 ingress 10.0.1.100 10.0.2.50",
    ]
    report = _doctor(
        tmp_path, [_flow_log("fl-vpc", VPC, LogFormat=fmt)], data={"export.log": "\n".join(lines) + "\n"}
    )
    observed = {i.interface_id: i.observed for i in report.interfaces}
    assert observed[LAMBDA] is not None and observed[LAMBDA].accept == 1
    assert observed[ORDERS_DB] is not None and observed[ORDERS_DB].reject == 1
    assert report.data is not None and report.data.unparsable == 0


def test_empty_data_is_said(tmp_path: Path) -> None:
    report = _doctor(tmp_path, [_flow_log("fl-vpc", VPC)], data={"empty.log": ""})
    assert ("warning", "DATA_EMPTY", "flow-log data") in _codes(report)
    assert report.summary.silent == 3
