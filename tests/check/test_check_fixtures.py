"""`reach check` gates the fixtures in CI: every fixture's intents hold against its snapshot, every fix repairs
what it says it repairs, and a failing intent names what blocks it (text, JSON and JUnit XML)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

import reach
from reach.cli import app
from tests.conftest import FIXTURES

runner = CliRunner()

SCENARIOS = sorted(p.parent for p in FIXTURES.glob("*/intents.yaml") if (p.parent / "snapshot").is_dir())
FIXED = sorted(p.parent for p in FIXTURES.glob("*/fix.json"))


def test_every_scenario_is_checked() -> None:
    assert {"lambda-rds-nacl", "web-http-revoked", "whatif-nacl-renumber"} <= {s.name for s in SCENARIOS}


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda p: p.name)
def test_reach_check_passes_every_fixture_s_intents_with_their_reasons_and_blockers(
    scenario: Path, tmp_path: Path
) -> None:
    junit = tmp_path / "junit.xml"
    args = ["check", str(scenario / "intents.yaml"), "--snapshot", str(scenario / "snapshot")]
    result = runner.invoke(app, [*args, "--format", "json", "--junit", str(junit)])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["summary"]["failed"] == 0
    written = yaml.safe_load((scenario / "intents.yaml").read_text())
    for intent, checked in zip(written, body["results"], strict=True):
        assert checked["verdict"] == intent["expect"]
        if "reason" in intent:
            assert checked["reason"] == intent["reason"]
        for key, value in (intent.get("blocked_by") or {}).items():
            assert checked["blocked_by"][key] == value, (intent["name"], key)
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "0" and suite.get("tests") == str(len(written))


def _touched(fix: list[dict[str, object]]) -> set[str]:
    ids = set()
    for call in fix:
        params = call["params"]
        assert isinstance(params, dict)
        ids |= {
            str(params[k]) for k in ("GroupId", "NetworkAclId", "RouteTableId", "NetworkInterfaceId") if k in params
        }
    return ids


@pytest.mark.parametrize("scenario", FIXED, ids=lambda p: p.name)
def test_applying_the_fix_turns_the_intents_it_targets_into_accept(scenario: Path) -> None:
    fix = json.loads((scenario / "fix.json").read_text())
    intents = yaml.safe_load((scenario / "intents.yaml").read_text())
    broken = [
        i["name"] for i in intents if i["expect"] == "REJECT" and i.get("blocked_by", {}).get("id") in _touched(fix)
    ]
    assert broken, "the fix must repair at least one intent's blocker"
    fixed = reach.Snapshot.load(scenario / "snapshot").apply(scenario / "fix.json")
    result = fixed.check(scenario / "intents.yaml")
    verdicts = {r.name: r.verdict for r in result.results}
    assert {name: verdicts[name] for name in broken} == dict.fromkeys(broken, "ACCEPT")
    for item in result.results:  # everything else keeps its verdict
        if item.name not in broken:
            assert item.passed, (item.name, item.problems)


def test_a_failing_intent_exits_1_and_names_its_blocker(tmp_path: Path) -> None:
    """The seed 003 intents written before the maintenance, checked against the snapshot after it."""
    junit = tmp_path / "junit.xml"
    result = runner.invoke(
        app,
        [
            "check",
            str(FIXTURES / "web-http-revoked" / "intents-before.yaml"),
            "--snapshot",
            str(FIXTURES / "web-http-revoked" / "snapshot"),
            "--junit",
            str(junit),
        ],
    )
    assert result.exit_code == 1
    assert "FAIL  internet-to-web-http" in result.stdout
    assert "expected ACCEPT, got REJECT (ENI_SG_RULES_MISMATCH)" in result.stdout
    assert "blocked by security-group sg-04915b9bbbde6f140 ingress" in result.stdout
    assert "2 of 3 intent(s) hold" in result.stdout
    root = ET.parse(junit).getroot()
    [failure] = root.iter("failure")
    assert "expected ACCEPT, got REJECT" in (failure.get("message") or "")
    assert "sg-04915b9bbbde6f140" in (failure.text or "")
    case_names = [c.get("name") for c in root.iter("testcase")]
    assert case_names == ["internet-to-web-http", "internet-to-web-ssh", "web-to-internet-https"]


def test_an_intent_whose_end_is_not_in_the_snapshot_fails_with_the_reason(tmp_path: Path) -> None:
    intents = tmp_path / "intents.yaml"
    intents.write_text("- {name: ghost, src: web-server-02, dst: 10.10.1.15, port: 22, expect: ACCEPT}\n")
    result = runner.invoke(
        app, ["check", str(intents), "--snapshot", str(FIXTURES / "web-http-revoked" / "snapshot"), "--format", "json"]
    )
    assert result.exit_code == 1
    [item] = json.loads(result.stdout)["results"]
    assert item["verdict"] is None and "'web-server-02' is not an address" in item["problems"][0]


def test_a_misspelt_field_is_a_usage_error_not_a_pass(tmp_path: Path) -> None:
    intents = tmp_path / "intents.yaml"
    intents.write_text("- {src: 10.0.1.100, dst: 10.0.2.50, port: 3306, expected: ACCEPT}\n")
    result = runner.invoke(app, ["check", str(intents), "--snapshot", str(FIXTURES / "lambda-rds-ok" / "snapshot")])
    assert result.exit_code == 2
    assert "intent #1: field 'expect': field required" in result.stderr
    assert "unknown field 'expected'" in result.stderr


def test_a_wrong_blocked_by_in_an_intent_fails_it(tmp_path: Path) -> None:
    intents = tmp_path / "intents.yaml"
    intents.write_text(
        "- src: 10.0.1.100\n  dst: 10.0.2.50\n  port: 3306\n  expect: REJECT\n"
        "  blocked_by: {kind: network-acl, rule: 110}\n"
    )
    result = reach.check(FIXTURES / "lambda-rds-nacl" / "snapshot", intents)
    assert not result.passed
    assert result.failures[0].problems == ["expected blocked_by.rule 110, got 100"]
