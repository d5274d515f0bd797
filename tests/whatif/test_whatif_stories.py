"""The what-if fixtures' stories: each change is caught before it is applied, with what it breaks and why."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import reach
from reach.cli import app
from tests.conftest import FIXTURES

runner = CliRunner()

WEB = FIXTURES / "whatif-web-http-revoke"
SEED_003_BEFORE = FIXTURES / "web-http-revoked" / "snapshot-before"
NACL = FIXTURES / "whatif-nacl-renumber"
ROUTE = FIXTURES / "whatif-route-missing-nat"
WEB_SG = "sg-04915b9bbbde6f140"
HTTP_CLIENTS = {"198.51.100.23": 40, "203.0.113.7": 40, "192.0.2.44": 40, "198.51.100.180": 20}


# --- seed 003, forwards -----------------------------------------------------------------------------------


@pytest.mark.parametrize("change", ["change.json", "plan.json"])
def test_seed_003_forwards_the_http_revoke_breaks_four_live_connections(change: str) -> None:
    result = reach.whatif(SEED_003_BEFORE, WEB / change, flow_logs=[WEB / "flow-logs"])

    broken = {c.flow.src: c for c in result.changed}
    assert {src: c.observed_records for src, c in broken.items()} == HTTP_CLIENTS
    assert [c.observed_records for c in result.changed] == sorted(HTTP_CLIENTS.values(), reverse=True)
    for changed in result.changed:
        assert (changed.source, changed.before, changed.after) == ("observed", "ACCEPT", "REJECT")
        assert (changed.flow.dst, changed.flow.dst_port) == ("54.210.167.204", 80)  # the public address clients used
        blocker = changed.blocked_by
        assert blocker is not None
        assert (blocker.kind, blocker.id, blocker.direction, blocker.rule) == (
            "security-group",
            WEB_SG,
            "ingress",
            None,
        )
        assert changed.first_seen is not None and changed.last_seen is not None
        assert changed.first_seen < changed.last_seen
    summary = result.summary
    assert (summary.broken_observed_connections, summary.broken_observed_records) == (4, 140)
    assert summary.observed_records == 150 and summary.observed_connections == 6  # SSH and telnet keep their verdicts
    assert [(r.kind, r.id, r.change) for r in result.rule_changes] == [("security-group", WEB_SG, "removed")]


def test_the_terraform_plan_lists_what_it_does_not_translate() -> None:
    result = reach.whatif(SEED_003_BEFORE, WEB / "plan.json")
    assert "not translated (reach does not model these resource types): aws_instance.web (update)" in result.notes


def test_without_flow_logs_the_header_space_says_the_whole_internet_loses_port_80() -> None:
    result = reach.whatif(SEED_003_BEFORE, WEB / "change.json")
    [changed] = result.changed
    assert changed.source == "header-space"
    assert (changed.flow.src, changed.flow.dst, changed.flow.protocol, changed.dst_ports) == (
        "0.0.0.0/0",
        "10.10.1.15",
        "tcp",
        "80",
    )
    assert (changed.interface, changed.direction) == ("eni-0a8f44391eae18254", "ingress")


def test_the_intent_internet_to_web_http_would_stop_holding() -> None:
    result = reach.whatif(SEED_003_BEFORE, WEB / "change.json", intents=WEB / "intents.yaml")
    assert [(c.name, c.expect, c.before, c.after) for c in result.changed] == [
        ("internet-to-web-http", "ACCEPT", "ACCEPT", "REJECT")
    ]
    assert result.summary.broken_intents == 1 and result.breaks_live_flow


def test_moving_http_behind_a_load_balancer_the_plan_creates_names_it_by_its_address() -> None:
    result = reach.whatif(SEED_003_BEFORE, WEB / "plan-alb.json", flow_logs=[WEB / "flow-logs"])
    placeholder = "sg-<aws_security_group.alb>"
    assert any("aws_security_group.alb is created by the plan" in n and placeholder in n for n in result.notes)
    assert any("aws_lb.web (create)" in n for n in result.notes)
    added = {(r.id, r.change) for r in result.rule_changes}
    assert (placeholder, "added") in added and (WEB_SG, "removed") in added and (WEB_SG, "added") in added
    # No interface carries the new group yet: the internet's HTTP breaks all the same.
    assert result.summary.broken_observed_connections == 4


def test_the_fixture_snapshot_after_the_change_is_the_seed_s_snapshot_after() -> None:
    after = reach.Snapshot.load(SEED_003_BEFORE).apply(WEB / "plan.json")
    assert after.check(FIXTURES / "web-http-revoked" / "intents.yaml").passed


def test_reach_whatif_fail_on_break_gates_a_terraform_plan_in_ci() -> None:
    args = ["whatif", str(WEB / "plan.json"), "--snapshot", str(SEED_003_BEFORE), "--flow-logs", str(WEB / "flow-logs")]
    gated = runner.invoke(app, [*args, "--fail-on-break", "--format", "json"])
    assert gated.exit_code == 1, gated.output
    body = json.loads(gated.stdout)
    first = body["changed"][0]
    assert set(first) >= {"flow", "before", "after", "blocked_by", "observed_records", "first_seen", "last_seen"}
    assert (first["before"], first["after"], first["observed_records"]) == ("ACCEPT", "REJECT", 40)
    assert first["blocked_by"]["id"] == WEB_SG and first["blocked_by"]["rule"] is None
    assert body["summary"]["broken_observed_connections"] == 4
    assert body["summary"]["change_format"] == "terraform"
    assert body["summary"]["unsupported"] == ["aws_instance.web (update)"]
    assert runner.invoke(app, args).exit_code == 0  # without --fail-on-break it only reports


def test_reach_whatif_text_names_the_rule_and_the_live_connections() -> None:
    result = runner.invoke(
        app,
        ["whatif", str(WEB / "change.json"), "--snapshot", str(SEED_003_BEFORE), "--flow-logs", str(WEB / "flow-logs")],
    )
    assert result.exit_code == 0, result.output
    assert "sgr-07ed9a40471de341d" in result.stdout
    assert "4 live connection(s) (140 records) would break" in result.stdout


# --- a NACL renumbering that silently shadows an allow -----------------------------------------------------


@pytest.mark.parametrize("change", ["change.json", "plan.json"])
def test_renumbering_the_mysql_allow_behind_the_vpc_wide_deny_breaks_the_lambda(change: str) -> None:
    result = reach.whatif(NACL / "snapshot", NACL / change, flow_logs=[NACL / "flow-logs"])
    [changed] = result.changed
    assert (changed.flow.src, changed.flow.dst, changed.flow.dst_port) == ("10.0.1.100", "10.0.2.50", 3306)
    assert changed.observed_records == 120  # every record, though some client ports are below 3306
    blocker = changed.blocked_by
    assert blocker is not None
    assert (blocker.kind, blocker.id, blocker.direction, blocker.rule) == (
        "network-acl",
        "acl-0a888ff01d6002462",
        "ingress",
        100,
    )
    assert result.summary.observed_connections == 2  # PostgreSQL to reports-db (rule 120) is re-explained, unchanged
    assert [(r.rule, r.change) for r in result.rule_changes] == [(90, "removed"), (110, "added")]


def test_the_renumbering_s_header_space_is_exactly_the_lambda_s_own_address() -> None:
    result = reach.whatif(NACL / "snapshot", NACL / "change.json")
    [changed] = result.changed
    assert (changed.src_ranges, changed.flow.dst, changed.dst_ports) == (["10.0.1.100/32"], "10.0.2.50", "3306")
    assert changed.blocked_by is not None and changed.blocked_by.rule == 100


def test_the_renumbering_turns_the_good_network_into_lambda_rds_nacl() -> None:
    after = reach.Snapshot.load(NACL / "snapshot").apply(NACL / "change.json")
    assert after.check(FIXTURES / "lambda-rds-nacl" / "intents.yaml").passed


# --- a route to a NAT gateway that is gone ----------------------------------------------------------------


def test_the_route_to_a_missing_nat_gateway_cuts_the_task_off_from_ecr() -> None:
    result = reach.whatif(ROUTE / "snapshot", ROUTE / "change.json", flow_logs=[ROUTE / "flow-logs"])
    assert {(c.flow.dst, c.observed_records) for c in result.changed} == {("52.46.145.1", 60), ("52.216.164.61", 60)}
    for changed in result.changed:
        assert changed.flow.src == "10.0.3.25"
        assert changed.blocked_by is not None
        assert (changed.blocked_by.kind, changed.blocked_by.id, changed.after_reason) == (
            "nat-gateway",
            "nat-0e3f5b2c41a9d7e60",
            "UNKNOWN_RESOURCE",
        )
    assert result.summary.observed_connections == 3  # the ALB's 8080 to the task stays on the local route
    assert any("nat-0e3f5b2c41a9d7e60, which the snapshot does not hold" in n for n in result.notes)


def test_the_route_change_s_header_space_is_everything_outside_the_vpc() -> None:
    result = reach.whatif(ROUTE / "snapshot", ROUTE / "change.json")
    [changed] = result.changed
    assert (changed.flow.src, changed.flow.dst) == ("10.0.3.0/24", "0.0.0.0/0 except 10.0.0.0/16")
    assert changed.after_reason == "UNKNOWN_RESOURCE"


def test_intents_show_all_three_ecr_paths_breaking() -> None:
    result = reach.whatif(ROUTE / "snapshot", ROUTE / "change.json", intents=ROUTE / "intents.yaml")
    assert {c.name for c in result.changed} == {
        "task-to-ecr-https",
        "task-to-ecr-https-fixed-port",
        "task-to-ecr-layer-bucket",
    }


# --- reach diff ---------------------------------------------------------------------------------------------


def test_reach_diff_of_seed_003_s_two_snapshots_names_the_revoked_rule_and_what_it_cut() -> None:
    result = runner.invoke(
        app,
        ["diff", str(SEED_003_BEFORE), str(FIXTURES / "web-http-revoked" / "snapshot"), "--format", "json"],
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["rule_changes"] == [
        {
            "kind": "security-group",
            "id": WEB_SG,
            "direction": "ingress",
            "rule": "sgr-07ed9a40471de341d",
            "change": "removed",
            "before": f"security group {WEB_SG} rule sgr-07ed9a40471de341d allows inbound tcp 80 from 0.0.0.0/0",
            "after": None,
        }
    ]
    [changed] = body["changed"]
    assert (changed["flow"]["src"], changed["flow"]["dst_port"], changed["after"]) == ("0.0.0.0/0", 80, "REJECT")


def test_reach_diff_with_flow_logs_counts_the_live_connections() -> None:
    result = reach.diff(SEED_003_BEFORE, FIXTURES / "web-http-revoked" / "snapshot", flow_logs=[WEB / "flow-logs"])
    assert result.summary.broken_observed_records == 140
