"""The answer first, on an 80-column terminal: the verdict on line 1, the blocker by its name, the fix whole
on one line, the path on one line; tables that fit; no id or address ever split; COLUMNS honoured when piped."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from reach.cli import app
from tests.conftest import FIXTURES

runner = CliRunner()
LAMBDA = str(FIXTURES / "lambda-rds-nacl" / "snapshot")
EXPLAIN = ["explain", "10.0.1.100", "10.0.2.50", "3306", "--snapshot", LAMBDA]
FIX = ("aws ec2 create-network-acl-entry --network-acl-id acl-0a888ff01d6002462 --ingress --rule-number 99 "
       "--protocol 6 --port-range From=3306,To=3306 --cidr-block 10.0.1.100/32 --rule-action allow")
# An AWS id (prefix and 8 or 17 hex digits) or an IPv4 address, as the texts print them.
ID = re.compile(r"(?<![\w-])(?:eni|sg|sgr|acl|rtb|vpc|subnet|igw|nat|fl)-[0-9a-f]*(?![\w-])")
IPV4 = re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b")
WEB = FIXTURES / "whatif-web-http-revoke"
SEED_003 = FIXTURES / "reconcile-web-http-revoked"


def _run(args: list[str], columns: int = 80) -> list[str]:
    result = runner.invoke(app, args, env={"COLUMNS": str(columns)})
    assert result.exit_code in (0, 1), result.output
    return result.stdout.splitlines()


def _ids_whole(lines: list[str], every: set[str]) -> None:
    """Each id the text shows is one of the ids the JSON holds: none was cut at a line's end."""
    for line in lines:
        for found in ID.findall(line):
            assert found in every, (found, line)


def _fits(lines: list[str], columns: int, allowed: tuple[str, ...] = ()) -> None:
    for line in lines:
        assert len(line) <= columns or line.lstrip().startswith(allowed), line


def test_explain_leads_with_the_verdict_then_the_blocker_by_name_the_fix_and_the_path() -> None:
    lines = _run(EXPLAIN)
    assert lines[0] == "REJECT  10.0.1.100 → 10.0.2.50 tcp 3306  SUBNET_ACL_RESTRICTION"
    text = " ".join(" ".join(lines).split())
    assert ("Blocked by network ACL acl-0a888ff01d6002462 (orders-db-acl) inbound rule #100 denies tcp 3306 "
            "from 10.0.0.0/16 (on the way there)") in text
    assert lines.index("Fix  allow ports 3306 before rule 100:") < lines.index(FIX)  # the call, whole, own line
    path = next(line for line in lines if line.startswith("Path  "))
    assert path == "Path  lambda eni → sg ✓ → nacl ✓ → rtb ✓ → orders-db-acl ✗ #100 → sg ✓ → rds eni"
    assert len(lines) < 15  # the hop table is for --hops
    _fits(lines, 80, allowed=("aws ",))


def test_the_fix_stays_one_line_however_narrow_the_terminal() -> None:
    for columns in (40, 80, 300):
        assert FIX in _run(EXPLAIN, columns)


def test_hops_show_every_component_by_name_with_ids_whole_at_any_width() -> None:
    body = json.loads(runner.invoke(app, [*EXPLAIN, "--format", "json"]).stdout)
    every = {h["id"] for h in body["hops"]} | {h["rule"] for h in body["hops"] if isinstance(h["rule"], str)}
    for columns in (50, 80, 120):
        lines = _run([*EXPLAIN, "--hops"], columns)
        _ids_whole(lines, every)
        _fits(lines, columns, allowed=("aws ", "Path "))
        text = " ".join(lines)
        for name in ("lambda-sg", "rds-sg", "orders-app-acl", "orders-db-acl", "orders-main-rt"):
            assert name in text
        assert "forward" in lines and "return" in lines


def test_a_blocked_response_gets_its_own_path_line() -> None:
    ok = str(FIXTURES / "lambda-rds-ok" / "snapshot")
    lines = _run(["explain", "10.0.1.100", "10.0.2.50", "3306", "--snapshot", ok, "--src-port", "1000"])
    back = next(line for line in lines if line.startswith("Back  "))
    assert back.count("✗ #32767") == 2 and back.startswith("Back  rds eni → ")


def test_an_accepted_flow_says_its_response_gets_back_too() -> None:
    lines = _run(["explain", "10.0.1.100", "10.0.3.60", "5432", "--snapshot", LAMBDA])
    assert lines[0].startswith("ACCEPT  10.0.1.100 → 10.0.3.60 tcp 5432")
    assert next(line for line in lines if line.startswith("Path  ")).endswith("rds eni  ↩ ✓")


def test_columns_is_honoured_when_the_output_is_piped() -> None:
    wide = _run(EXPLAIN, 200)
    narrow = _run(EXPLAIN, 60)
    blocked = [line for line in wide if line.startswith("Blocked by")]
    assert len(blocked) == 1 and len(blocked[0]) > 80  # one line at 200 columns
    _fits(narrow, 60, allowed=("aws ", "Path "))
    assert len(narrow) > len(wide)


def test_whatif_says_what_breaks_and_the_top_blocking_rule_before_any_table() -> None:
    lines = _run(["whatif", str(WEB / "plan.json"), "--snapshot", str(WEB / "snapshot"), "--flow-logs",
                  str(WEB / "flow-logs")])
    assert lines[0] == "Breaks  4 live connection(s) (140 records) of 6 that touch the change"
    assert lines[1].startswith("Top blocker  no rule of sg-04915b9bbbde6f140 (web-sg)")
    head = " ".join(lines[: lines.index("Rule changes")])
    assert "(4 flow(s), 140 records)" in head
    _fits(lines, 80)
    assert any(line.startswith("(left out to fit 80 columns: from, first seen, last seen;") for line in lines)
    addresses = {"192.0.2.44", "198.51.100.23", "203.0.113.7", "198.51.100.180", "54.210.167.204", "0.0.0.0"}
    for line in lines:
        assert set(IPV4.findall(line)) <= addresses, line  # no address cut in two


def test_whatif_with_nothing_broken_says_so_first() -> None:
    fix = FIXTURES / "lambda-rds-nacl" / "fix.json"
    lines = _run(["whatif", str(fix), "--snapshot", LAMBDA])
    assert lines[0].startswith(("Opens  ", "No verdict changes"))


def test_reconcile_leads_with_the_tally_the_top_rule_and_the_drift_and_draws_the_flip() -> None:
    lines = _run(["reconcile", str(SEED_003 / "flowlogs"), "--snapshot", str(FIXTURES / "web-http-revoked/snapshot"),
                  "--cloudtrail", str(SEED_003 / "cloudtrail")])
    text = " ".join(" ".join(lines).split())
    assert lines[0].startswith("Reconciled 215 records:")
    top = text.index("Top blocking rule no inbound rule of sg-04915b9bbbde6f140 (web-sg) matches")
    drift = text.index("Drift [1] flipped ACCEPT -> REJECT at 2024-03-12 14:07:05 UTC")
    assert top < drift < text.index("Blocking rules (observed REJECTs")
    assert "suspected: RevokeSecurityGroupIngress by arn:aws:iam::123456789012:user/alice" in text
    accept = next(line for line in lines if line.startswith("    ACCEPT "))
    reject = next(line for line in lines if line.startswith("    REJECT "))
    axis = next(line for line in lines if "^14:07:05" in line)
    flip = axis.index("^")
    assert set(accept[11:flip]) == {"█"} and set(accept[flip:].strip()) <= {" "}  # accepted until the flip
    assert reject[11:flip].strip() == "" and set(reject[flip:]) == {"█"}  # rejected from it on
    assert axis.split() == ["13:50", "^14:07:05", "14:19"]
    _fits(lines, 80, allowed=(str(FIXTURES),))  # the unparsable lines' file:line, whole


def test_long_file_paths_in_messages_are_not_wrapped() -> None:
    lines = _run(["reconcile", str(SEED_003 / "flowlogs"), "--snapshot", str(FIXTURES / "web-http-revoked/snapshot")])
    bad = [line for line in lines if line.endswith("20240312T1400Z_5e6f7a8b.log:9: 8 fields where the format has 14")]
    assert len(bad) == 1 and "fixtures/reconcile-web-http-revoked/flowlogs/AWSLogs/" in bad[0]


@pytest.mark.parametrize("args", [
    ["doctor", "--snapshot", str(FIXTURES / "doctor-coverage-levels/snapshot")],
    ["doctor", "--snapshot", str(FIXTURES / "doctor-active-no-records/snapshot"), "--flow-logs",
     str(FIXTURES / "doctor-active-no-records/flowlogs")],
    ["check", str(FIXTURES / "web-http-revoked/intents.yaml"), "--snapshot",
     str(FIXTURES / "web-http-revoked/snapshot-before")],
    ["diff", str(FIXTURES / "web-http-revoked/snapshot-before"), str(FIXTURES / "web-http-revoked/snapshot")],
], ids=["doctor", "doctor --flow-logs", "check", "diff"])
def test_the_other_commands_fit_80_columns_and_lead_with_their_tally(args: list[str]) -> None:
    lines = _run(args)
    _fits(lines, 80, allowed=("fix: aws ",))
    first = {"doctor": "Summary  ", "check": "", "diff": ""}[args[0]]
    assert lines[0].startswith(first)
    if args[0] == "check":
        assert re.fullmatch(r"\d of 4 intent\(s\) hold", lines[0])
