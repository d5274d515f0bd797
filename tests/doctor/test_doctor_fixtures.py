"""Each seed-000 situation, one fixture each: the doctor names it, at the right level, with nothing extra."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reach.api import Snapshot
from reach.cli import app
from reach.doctor import DoctorReport, diagnose
from tests.conftest import FIXTURES

LAMBDA, ORDERS_DB, REPORTS_DB = "eni-07079bc4987533224", "eni-06eda9f3bd974dd1b", "eni-0f6ebb446a0d90200"
VPC = "vpc-0d18b2e01e25a7be6"

runner = CliRunner()


def _doctor(name: str) -> DoctorReport:
    folder = FIXTURES / name
    data = folder / "flowlogs"
    flow_logs = [str(data)] if data.is_dir() else None
    return diagnose(Snapshot.load(folder / "snapshot", cache=False).network, flow_logs=flow_logs)


def _codes(report: DoctorReport) -> list[tuple[str, str, str]]:
    return [(f.severity, f.code, f.subject) for f in report.findings]


def _status(report: DoctorReport) -> dict[str, str]:
    return {i.interface_id: i.status for i in report.interfaces}


@pytest.mark.parametrize(
    ("fixture", "code", "flow_log", "status"),
    [
        ("doctor-rate-limited", "DELIVERY_RATE_LIMITED", "fl-0b1f3c5d7e9a2b4c6", "covered"),
        ("doctor-access-error", "DELIVERY_ACCESS_ERROR", "fl-0c2e4a6b8d0f1a3c5", "failing"),
        ("doctor-unknown-error", "DELIVERY_UNKNOWN_ERROR", "fl-0d3a5c7e9b1d3f5a7", "failing"),
    ],
)
def test_delivery_errors_are_explained(fixture: str, code: str, flow_log: str, status: str) -> None:
    report = _doctor(fixture)
    assert _codes(report) == [
        ("error", code, flow_log)
    ]  # the format and window are fine: nothing else to say
    finding = report.findings[0]
    assert sorted(finding.interfaces) == sorted([LAMBDA, ORDERS_DB, REPORTS_DB])
    assert "(3 interfaces affected)" in finding.summary and finding.fix
    assert set(_status(report).values()) == {status}
    assert report.flow_logs[0].deliver_logs_status == "FAILED"


def test_rate_limited_says_records_are_lost() -> None:
    finding = _doctor("doctor-rate-limited").findings[0]
    assert "throttles" in finding.detail and "limit on the number of log groups" in finding.detail
    assert "S3" in (finding.fix or "")


def test_access_error_names_the_role_permissions() -> None:
    finding = _doctor("doctor-access-error").findings[0]
    assert "DeliverLogsPermissionArn" in finding.detail
    assert "logs:PutLogEvents" in (finding.fix or "") and "vpc-flow-logs.amazonaws.com" in (finding.fix or "")


def test_missing_destination_leaves_interfaces_uncovered_and_says_why() -> None:
    report = _doctor("doctor-missing-destination")
    assert _codes(report) == [("warning", "INTERFACES_NOT_COVERED", VPC)]
    finding = report.findings[0]
    assert sorted(finding.interfaces) == sorted([ORDERS_DB, REPORTS_DB])
    assert "LogDestinationNotFoundException" in finding.detail
    assert f"--resource-ids {VPC}" in (finding.fix or "")
    assert _status(report) == {LAMBDA: "covered", ORDERS_DB: "none", REPORTS_DB: "none"}


def test_accept_only_flow_log_can_never_show_a_rejection() -> None:
    report = _doctor("doctor-accept-only")
    assert _codes(report) == [
        ("warning", "COVERED_BUT_SILENT", "fl-0f5c7e9a1b3d5f7c9"),
        ("warning", "TRAFFIC_ACCEPT_ONLY", "fl-0f5c7e9a1b3d5f7c9"),
    ]
    accept_only = report.findings[1]
    assert "can never show a rejection" in accept_only.summary
    assert sorted(accept_only.interfaces) == sorted([LAMBDA, ORDERS_DB, REPORTS_DB])
    assert set(_status(report).values()) == {"accept-only"}
    observed = {i.interface_id: i.observed for i in report.interfaces}
    assert observed[LAMBDA] is not None and (observed[LAMBDA].accept, observed[LAMBDA].reject) == (3, 0)
    # explain predicts the REJECT this flow log drops
    explanation = Snapshot.load(FIXTURES / "doctor-accept-only" / "snapshot").explain(
        "10.0.1.100", "10.0.2.50", 5432
    )
    assert explanation.verdict == "REJECT"
    assert any(r.interface_id == ORDERS_DB and r.action == "REJECT" for r in explanation.flow_logs)


def test_interface_with_no_flow_log() -> None:
    report = _doctor("doctor-no-flow-log")
    assert _codes(report) == [("warning", "INTERFACES_NOT_COVERED", VPC)]
    assert report.findings[0].interfaces == [LAMBDA]
    assert "has no flow log" in report.findings[0].summary
    assert _status(report) == {LAMBDA: "none", ORDERS_DB: "covered", REPORTS_DB: "covered"}
    assert report.summary.uncovered == 1


def test_coverage_at_interface_subnet_and_vpc_level() -> None:
    report = _doctor("doctor-coverage-levels")
    levels = {i.interface_id: [(c.flow_log_id, c.level) for c in i.flow_logs] for i in report.interfaces}
    assert levels == {
        LAMBDA: [("fl-0c3d4e5f607182930", "interface"), ("fl-0a1b2c3d4e5f60718", "vpc")],
        ORDERS_DB: [("fl-0b2c3d4e5f6071829", "subnet"), ("fl-0a1b2c3d4e5f60718", "vpc")],
        REPORTS_DB: [("fl-0a1b2c3d4e5f60718", "vpc")],
    }
    assert set(_status(report).values()) == {"covered"}  # the REJECT-only log is completed by the VPC's
    assert {r.id: r.level for r in report.flow_logs} == {
        "fl-0a1b2c3d4e5f60718": "vpc",
        "fl-0b2c3d4e5f6071829": "subnet",
        "fl-0c3d4e5f607182930": "interface",
    }
    assert _codes(report) == [
        ("warning", "FORMAT_MISSING_FIELDS", "fl-0a1b2c3d4e5f60718"),
        ("info", "AGGREGATION_INTERVAL", "fl-0a1b2c3d4e5f60718"),
        ("info", "TRAFFIC_REJECT_ONLY", "fl-0c3d4e5f607182930"),
    ]
    vpc_log = next(r for r in report.flow_logs if r.level == "vpc")
    assert vpc_log.default_format and vpc_log.missing_fields == [
        "tcp-flags",
        "flow-direction",
        "pkt-srcaddr",
        "pkt-dstaddr",
    ]


def test_active_flow_log_with_a_silent_interface() -> None:
    report = _doctor("doctor-active-no-records")
    assert _codes(report) == [("warning", "COVERED_BUT_SILENT", "fl-0d4e5f60718293a4b")]
    finding = report.findings[0]
    assert finding.interfaces == [REPORTS_DB]
    assert "ten minutes or more" in finding.detail and "only when traffic is recorded" in finding.detail
    records = {i.interface_id: i.observed.records for i in report.interfaces if i.observed}
    assert records == {LAMBDA: 3, ORDERS_DB: 2, REPORTS_DB: 0}
    assert report.data is not None and (report.data.records, report.data.interfaces) == (5, 2)
    assert report.summary.silent == 1


@pytest.mark.parametrize("fixture", sorted(p.name for p in FIXTURES.glob("doctor-*")))
def test_every_doctor_fixture_has_a_story_and_renders(fixture: str) -> None:
    folder = FIXTURES / fixture
    assert (folder / "STORY.md").read_text().startswith(f"# {fixture}:")
    args = ["doctor", "--snapshot", str(folder / "snapshot")]
    if (folder / "flowlogs").is_dir():
        args += ["--flow-logs", str(folder / "flowlogs")]
    text = runner.invoke(app, args)
    assert text.exit_code == 0, text.output
    assert "Summary" in text.stdout
    as_json = runner.invoke(app, [*args, "--format", "json"])
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.stdout) == {"schema_version": 1, **_doctor(fixture).model_dump(mode="json")}


def test_doctor_usage_errors_exit_2(tmp_path: Path) -> None:
    folder = str(FIXTURES / "doctor-rate-limited" / "snapshot")
    bad_format = runner.invoke(app, ["doctor", "--snapshot", folder, "--format", "yaml"])
    assert bad_format.exit_code == 2 and "--format" in bad_format.stderr
    missing = runner.invoke(app, ["doctor", "--snapshot", folder, "--flow-logs", str(tmp_path / "nope")])
    assert missing.exit_code == 2 and "no such file" in missing.stderr
