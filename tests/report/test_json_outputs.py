"""CONTRACT §7: every JSON output carries schema_version 1, and `reach schema COMMAND` prints a JSON Schema
that the command's real output validates against."""

from __future__ import annotations

import json

import jsonschema
import pytest
from typer.testing import CliRunner

from reach.cli import app
from tests.conftest import FIXTURES

runner = CliRunner()
LAMBDA = str(FIXTURES / "lambda-rds-nacl" / "snapshot")
WEB = FIXTURES / "whatif-web-http-revoke"
SEED_003 = FIXTURES / "reconcile-web-http-revoked"

OUTPUTS = {
    "explain": ["explain", "10.0.1.100", "10.0.2.50", "3306", "--snapshot", LAMBDA],
    "explain --flow-logs": ["explain", "10.0.1.100", "10.0.2.50", "3306", "--snapshot", LAMBDA, "--flow-logs",
                            str(FIXTURES / "reconcile-lambda-rds-nacl" / "flowlogs")],
    "reconcile": ["reconcile", str(SEED_003 / "flowlogs"), "--snapshot", str(FIXTURES / "web-http-revoked/snapshot"),
                  "--cloudtrail", str(SEED_003 / "cloudtrail"), "--quiet"],
    "whatif": ["whatif", str(WEB / "plan.json"), "--snapshot", str(WEB / "snapshot"), "--flow-logs",
               str(WEB / "flow-logs")],
    "diff": ["diff", str(FIXTURES / "web-http-revoked/snapshot-before"), str(FIXTURES / "web-http-revoked/snapshot")],
    "check": ["check", str(FIXTURES / "web-http-revoked/intents.yaml"), "--snapshot",
              str(FIXTURES / "web-http-revoked/snapshot-before")],
    "doctor": ["doctor", "--snapshot", str(FIXTURES / "doctor-active-no-records/snapshot"), "--flow-logs",
               str(FIXTURES / "doctor-active-no-records/flowlogs")],
    "logs summary": ["logs", "summary", str(SEED_003 / "flowlogs")],
}


def _output(name: str) -> dict[str, object]:
    result = runner.invoke(app, [*OUTPUTS[name], "--format", "json"])
    assert result.exit_code in (0, 1), result.output  # check exits 1 when an intent fails
    body = json.loads(result.stdout)
    assert isinstance(body, dict)
    return body


def _schema(command: str) -> dict[str, object]:
    result = runner.invoke(app, ["schema", *command.split()])
    assert result.exit_code == 0, result.output
    schema = json.loads(result.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    return schema


@pytest.mark.parametrize("name", OUTPUTS)
def test_every_json_output_carries_schema_version_1_and_validates_against_its_schema(name: str) -> None:
    body = _output(name)
    assert body["schema_version"] == 1
    assert next(iter(body)) == "schema_version"  # first, where a reader looks
    jsonschema.validate(body, _schema(name.split(" --")[0]))


def test_the_schema_is_strict_enough_to_reject_a_broken_output() -> None:
    body = _output("explain")
    schema = _schema("explain")
    for broken in ({**body, "schema_version": 2}, {k: v for k, v in body.items() if k != "verdict"},
                   {**body, "hops": [{"kind": "security-group"}]}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(broken, schema)


def test_reconcile_blocking_rules_carry_their_reason_code() -> None:
    body = _output("reconcile")
    assert [b["reason"] for b in body["blocking"]] == ["ENI_SG_RULES_MISMATCH"]
    lambda_rds = runner.invoke(app, ["reconcile", str(FIXTURES / "reconcile-lambda-rds-nacl/flowlogs"), "--snapshot",
                                     LAMBDA, "--format", "json", "--quiet"])
    reasons = {(b["kind"], b["reason"]) for b in json.loads(lambda_rds.stdout)["blocking"]}
    assert reasons == {("network-acl", "SUBNET_ACL_RESTRICTION"), ("security-group", "ENI_SG_RULES_MISMATCH")}


def test_a_disagreement_with_a_change_point_carries_its_timeline() -> None:
    body = _output("reconcile")
    first = body["disagreements"][0]
    timeline, point = first["timeline"], first["change_point"]
    assert timeline["seconds"] == 60
    buckets = timeline["buckets"]
    assert buckets[0]["start"] <= 1710251400 + 60 and buckets[-1]["start"] >= 1710252000  # 13:50 to 14:19
    before = [b for b in buckets if b["start"] + timeline["seconds"] <= point["at"]]
    after = [b for b in buckets if b["start"] > point["at"]]
    assert sum(b["reject"] for b in before) == 0 and sum(b["accept"] for b in after) == 0
    assert sum(b["accept"] for b in buckets) >= point["records_before"]


def test_schema_of_an_unknown_command_is_refused() -> None:
    result = runner.invoke(app, ["schema", "collect"])
    assert result.exit_code == 2
    assert "no JSON output named 'collect'" in result.stderr and "explain" in result.stderr


def test_logs_summary_is_named_either_way() -> None:
    assert _schema("logs summary") == _schema("logs-summary")
