"""The seed stories, told by `reach reconcile` end to end from the command line."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from reach.cli import app

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
runner = CliRunner()


def at(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp())


def reconcile(snapshot: str, logs: str, *extra: str) -> dict[str, Any]:
    result = runner.invoke(app, ["reconcile", str(FIXTURES / logs), "--snapshot", str(FIXTURES / snapshot),
                                 "--format", "json", *extra])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def web(snapshot: str = "web-http-revoked/snapshot") -> dict[str, Any]:
    return reconcile(snapshot, "reconcile-web-http-revoked/flowlogs", "--cloudtrail",
                     str(FIXTURES / "reconcile-web-http-revoked/cloudtrail"))


def rule_of(entry: dict[str, Any]) -> tuple[Any, ...]:
    return (entry["kind"], entry["id"], entry["direction"], entry["rule"], entry["return_path"])


# ----- seed 003: "after last week's maintenance our web server is no longer reachable; SSH still works" ----


def test_the_web_servers_http_turned_to_reject_at_1407_because_alice_revoked_sgr_07ed() -> None:
    out = web()
    http = [d for d in out["disagreements"] if d["service_port"] == 80]
    assert {d["src"] for d in http} == {"198.51.100.23", "203.0.113.50", "192.0.2.44"}
    for d in http:
        assert (d["interface_id"], d["direction"], d["observed"], d["predicted"]) == (
            "eni-0a8f44391eae18254", "ingress", "ACCEPT", "REJECT")
        assert d["records"] == 17 and d["last_seen"] < at("2024-03-12T14:07:00")
        point = d["change_point"]
        assert (point["before"], point["after"]) == ("ACCEPT", "REJECT")
        assert point["at"] == at("2024-03-12T14:07:05") and point["previous"] == at("2024-03-12T14:06:45")
        event = d["suspected_event"]
        assert event["event"] == "RevokeSecurityGroupIngress"
        assert event["principal"] == "arn:aws:iam::123456789012:user/alice"
        assert event["source_ip"] == "203.0.113.77"
        assert event["time"] == at("2024-03-12T14:06:50")
        assert event["components"] == ["sg-04915b9bbbde6f140"] and event["rules"] == ["sgr-07ed9a40471de341d"]
        assert d["blocked_by"]["id"] == "sg-04915b9bbbde6f140" and d["blocked_by"]["rule"] is None
        assert [c["id"] for c in d["rules_to_differ"]] == ["sg-04915b9bbbde6f140"]
        assert "snapshot was taken after that change" in d["explanation"]
    # nothing else disagrees: SSH, the server's own HTTPS and every response agree with the snapshot
    assert len(out["disagreements"]) == 3
    assert out["summary"]["disagree"] == 51


def test_a_failed_revoke_closer_to_the_change_is_not_the_suspect() -> None:
    event = web()["disagreements"][0]["suspected_event"]
    assert "mallory" not in event["principal"]  # mallory's RevokeSecurityGroupIngress at 14:06:58 failed


def test_after_the_revoke_every_http_reject_is_attributed_to_web_sgs_implicit_deny() -> None:
    blocking = web()["blocking"]
    assert [rule_of(b) for b in blocking] == [("security-group", "sg-04915b9bbbde6f140", "ingress", None, False)]
    (sg,) = blocking
    assert sg["records"] == 39 + 2 and sg["flows"] == 41  # 13 minutes x 3 clients on port 80, and telnet twice
    assert sg["ports"] == ["tcp 80", "tcp 23"]
    assert sg["first_seen"] == at("2024-03-12T13:55:40")


def test_with_the_snapshot_from_before_the_revoke_sgr_07ed_is_the_rule_that_would_have_to_go() -> None:
    out = web("web-http-revoked/snapshot-before")
    assert len(out["disagreements"]) == 3
    for d in out["disagreements"]:
        assert (d["observed"], d["predicted"], d["service_port"]) == ("REJECT", "ACCEPT", 80)
        assert d["first_seen"] >= at("2024-03-12T14:07:00")
        assert "sgr-07ed9a40471de341d" in [c["rule"] for c in d["rules_to_differ"]]
        assert d["change_point"]["at"] == at("2024-03-12T14:07:05")
        assert d["suspected_event"]["rules"] == ["sgr-07ed9a40471de341d"]
        assert "snapshot predates that change" in d["explanation"]
    assert [b["ports"] for b in out["blocking"]] == [["tcp 23"]]


def test_the_text_output_tells_the_web_story() -> None:
    result = runner.invoke(app, [
        "reconcile", str(FIXTURES / "reconcile-web-http-revoked/flowlogs"),
        "--snapshot", str(FIXTURES / "web-http-revoked/snapshot"),
        "--cloudtrail", str(FIXTURES / "reconcile-web-http-revoked/cloudtrail")])
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert "Reconciled 215 records: 209 evaluated, 158 agree, 51 disagree; 6 skipped, 2 unparsable" in text
    assert "flipped ACCEPT -> REJECT at 2024-03-12 14:07:05 UTC" in text
    assert "RevokeSecurityGroupIngress on sg-04915b9bbbde6f140 at 2024-03-12 14:06:50 UTC by" in text
    assert "arn:aws:iam::123456789012:user/alice" in text and "removes sgr-07ed9a40471de341d" in text
    assert "no inbound rule of sg-04915b9bbbde6f140 (web-sg) matches (implicit deny)" in text
    assert "eni-0123456789abcdef0: 4 (not in the snapshot)" in text
    assert "20240312T1400Z_5e6f7a8b.log:9" in text.replace(" ", "")


def test_skipped_and_unparsable_records_are_counted_never_dropped() -> None:
    s = web()["summary"]
    assert (s["records"], s["evaluated"], s["skipped"], s["unparsable"]) == (215, 209, 6, 2)
    assert (s["nodata"], s["skipdata"], s["unknown_interface"]) == (1, 1, 4)
    assert s["records"] == s["evaluated"] + s["skipped"]
    out = web()
    assert out["skipped_interfaces"] == [
        {"interface_id": "eni-0123456789abcdef0", "records": 4, "reason": "not in the snapshot"}]
    lines = [(Path(b["source"]).name[-27:], b["line"]) for b in out["bad_lines"]]
    assert lines == [("20240312T1400Z_5e6f7a8b.log", 9), ("20240312T1400Z_5e6f7a8b.log", 18)]


# ----- seed 002: "my Lambda times out connecting to RDS" --------------------------------------------------


def test_case_b_the_rejects_are_the_db_subnets_nacl_rule_100_and_the_5432_probe_is_rds_sgs() -> None:
    out = reconcile("lambda-rds-nacl/snapshot", "reconcile-lambda-rds-nacl/flowlogs")
    assert out["disagreements"] == []
    acl, sg = out["blocking"]
    assert rule_of(acl) == ("network-acl", "acl-0a888ff01d6002462", "ingress", 100, False)
    assert (acl["records"], acl["flows"], acl["ports"]) == (30, 30, ["tcp 3306"])
    assert acl["interfaces"] == ["eni-06eda9f3bd974dd1b"]
    assert rule_of(sg) == ("security-group", "sg-090ebaa4fc798dbb3", "ingress", None, False)
    assert (sg["records"], sg["ports"]) == (15, ["tcp 5432"])


def test_cases_a_c_the_same_rejects_are_rds_sgs_when_its_rule_references_the_wrong_group() -> None:
    out = reconcile("lambda-rds-sg/snapshot", "reconcile-lambda-rds-sg/flowlogs")
    assert out["disagreements"] == []
    (sg,) = out["blocking"]
    assert rule_of(sg) == ("security-group", "sg-090ebaa4fc798dbb3", "ingress", None, False)
    assert (sg["records"], sg["ports"]) == (45, ["tcp 3306", "tcp 5432"])
    assert out["summary"]["response_methods"]["tcp_flags"] == 60  # v5 custom format: SYN-ACK tells responses


def test_responses_to_the_lambda_never_disagree_although_lambda_sg_allows_nothing_inbound() -> None:
    out = reconcile("lambda-rds-nacl/snapshot", "reconcile-lambda-rds-nacl/flowlogs")
    s = out["summary"]
    assert (s["responses"], s["agree"], s["disagree"]) == (60, 210, 0)


def test_every_format_aws_delivers_reconciles_to_the_same_answer() -> None:
    one = reconcile("lambda-rds-nacl/snapshot", "reconcile-lambda-rds-nacl/flowlogs")
    mixed = reconcile("lambda-rds-nacl/snapshot", "reconcile-mixed-formats/flowlogs")
    assert mixed["blocking"] == one["blocking"]
    keys = ("records", "evaluated", "agree", "disagree", "skipped", "unparsable", "responses")
    assert [mixed["summary"][k] for k in keys] == [one["summary"][k] for k in keys]


# ----- AWS's ping example: the NACL lets the ping in and drops the reply ----------------------------------


def test_the_echo_reply_is_rejected_by_the_outbound_default_rule_on_the_return_path() -> None:
    out = reconcile("icmp-nacl-reply/snapshot", "reconcile-icmp-nacl-reply/flowlogs")
    assert out["disagreements"] == []
    by_rule = {rule_of(b): b for b in out["blocking"]}
    reply = by_rule[("network-acl", "acl-032f3a1755ca4662e", "egress", 32767, True)]
    assert (reply["records"], reply["first_seen"], reply["ports"]) == (1, 1432917094, ["icmp"])
    scanner = by_rule[("security-group", "sg-092e11c6c2648fd44", "ingress", None, False)]
    assert scanner["records"] == 5
    assert out["summary"]["response_methods"]["pairing"] == 1
    assert any("ICMP" in note for note in out["notes"])
