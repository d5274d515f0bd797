"""Malformed change sets, Terraform plans and intents: each is bad input, exit 2, with a message naming the file
and the path of the bad value. Never a traceback, never a huge echo, never a failed intent for a broken file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import reach
from reach import ChangeError, ReachError
from reach.cli import app
from tests.conftest import FIXTURES

runner = CliRunner()
SNAPSHOT = FIXTURES / "lambda-rds-nacl" / "snapshot"
ACL = "acl-0a888ff01d6002462"


def whatif(path: Path) -> tuple[int, str]:
    result = runner.invoke(app, ["whatif", str(path), "--snapshot", str(SNAPSHOT)])
    return result.exit_code, result.stderr


def check(path: Path) -> tuple[int, str]:
    result = runner.invoke(app, ["check", str(path), "--snapshot", str(SNAPSHOT)])
    return result.exit_code, result.stderr


def rule_entry(**params: Any) -> list[dict[str, Any]]:
    entry = {"NetworkAclId": ACL, "RuleNumber": 50, "Protocol": "6", "RuleAction": "deny", "Egress": False,
             "CidrBlock": "10.0.0.0/16", "PortRange": {"From": 3306, "To": 3306}}
    return [{"action": "CreateNetworkAclEntry", "params": {**entry, **params}}]


def authorize(**permission: Any) -> list[dict[str, Any]]:
    rule = {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "0.0.0.0/0"}], **permission}
    return [{"action": "AuthorizeSecurityGroupIngress", "params": {"GroupId": "sg-1", "IpPermissions": [rule]}}]


def plan(*changes: Any) -> dict[str, Any]:
    return {"format_version": "1.2", "terraform_version": "1.7.5", "resource_changes": list(changes)}


def acl_rule(**after: Any) -> dict[str, Any]:
    values = {"network_acl_id": ACL, "rule_number": 50, "egress": False, "protocol": "6", "rule_action": "deny",
              "cidr_block": "10.0.0.0/16", "from_port": 3306, "to_port": 3306, **after}
    change = {"actions": ["create"], "before": None, "after": values}
    return {"address": "aws_network_acl_rule.db", "type": "aws_network_acl_rule", "name": "db", "change": change}


def sg_rule_block(**block: Any) -> dict[str, Any]:
    after = {"id": "sg-1", "ingress": [{"protocol": "tcp", "from_port": 80, "to_port": 80,
                                        "cidr_blocks": ["0.0.0.0/0"], **block}]}
    change = {"actions": ["update"], "before": {"id": "sg-1", "ingress": []}, "after": after}
    return {"address": "aws_security_group.web", "type": "aws_security_group", "name": "web", "change": change}


def write(tmp_path: Path, content: Any, name: str = "change.json") -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


# (story, file content, what the message must say). Each goes through `reach whatif` and `Snapshot.apply`.
CHANGE_SETS = [
    ("a port written as a word", authorize(ToPort="eighty"),
     "[0].params.IpPermissions[0].ToPort: input should be a valid integer"),
    ("a port above 65535", authorize(ToPort=65536), "[0].params.IpPermissions[0].ToPort: input should be less than"),
    ("a port below -1", authorize(FromPort=-2), "[0].params.IpPermissions[0].FromPort: input should be greater"),
    ("FromPort above ToPort for tcp", authorize(FromPort=443, ToPort=80),
     "[0].params.IpPermissions[0]: FromPort 443 is greater than ToPort 80"),
    ("an ICMP code out of range", authorize(IpProtocol="icmp", FromPort=8, ToPort=300),
     "[0].params.IpPermissions[0]: ToPort 300 is not an ICMP code (-1..255)"),
    ("a protocol that is no protocol", authorize(IpProtocol="bogus"),
     "[0].params.IpPermissions[0].IpProtocol: bogus is not a protocol"),
    ("protocol 256", authorize(IpProtocol="256"), "IpProtocol: 256 is not a protocol"),
    ("a CIDR that is not one", authorize(IpRanges=[{"CidrIp": "10.0.0.0/33"}]),
     "[0].params.IpPermissions[0].IpRanges[0].CidrIp: 10.0.0.0/33 is not an IPv4 CIDR block"),
    ("NACL rule number 0", rule_entry(RuleNumber=0), "[0].params.RuleNumber: input should be greater than or equal"),
    ("NACL rule number of the * rule", rule_entry(RuleNumber=32767), "[0].params.RuleNumber: input should be less"),
    ("NACL rule number 10**20", rule_entry(RuleNumber=10**20), "[0].params.RuleNumber: input should be less"),
    ("NACL rule number -5", rule_entry(RuleNumber=-5), "[0].params.RuleNumber: input should be greater"),
    ("RuleAction alow", rule_entry(RuleAction="alow"), "[0].params.RuleAction: input should be 'allow' or 'deny'"),
    ("a NACL port range backwards", rule_entry(PortRange={"From": 90, "To": 80}),
     "[0].params.PortRange: From 90 is greater than To 80"),
    ("a tcp NACL entry without ports", rule_entry(PortRange=None), "PortRange is required for protocol 6"),
    ("a misspelt parameter",
     [{"action": "RevokeSecurityGroupIngress", "params": {"GroupId": "sg-1", "IpPermission": []}}],
     "[0].params.IpPermission: not a parameter of RevokeSecurityGroupIngress (it takes "),
    ("an item that is not an object", ["RevokeSecurityGroupIngress"], 'item #1: [0]: expected an object {"action"'),
    ("params that are a list", [{"action": "DeleteRoute", "params": [1]}], "item #1: [0].params: expected an object"),
    ("a JSON scalar", "42", 'expected a JSON list of {"action": ..., "params": {...}}, found a number'),
    ("null", "null", "found null"),
    ("not JSON", "this is not JSON", "not valid JSON (line 1, column 1: Expecting value)"),
    ("invalid UTF-8", b'[{"action": "\xff\xfe"}]', "not UTF-8 text (byte 13 is 0xff)"),
    ("JSON nested 100,000 deep", "[" * 100_000 + "]" * 100_000, "JSON nested too deeply to read"),
    ("an integer of 5,000 digits",
     '[{"action": "DeleteNetworkAclEntry", "params": {"RuleNumber": ' + "9" * 5000 + "}}]",
     "a number (line 1) has more than 4300 digits"),
]

PLANS = [
    ("resource_changes[0] a string", plan("oops"),
     "resource_changes[0]: input should be a valid dictionary or instance of TfResourceChange"),
    ("a resource change without its change", plan({"address": "aws_route.a", "type": "aws_route", "name": "a"}),
     "resource_changes[0].change: required, missing"),
    ("before a list", plan({**acl_rule(), "change": {"actions": ["delete"], "before": [1, 2]}}),
     "resource_changes[0].change.before: input should be a valid dictionary"),
    ("rule_number null", plan(acl_rule(rule_number=None)),
     "resource_changes[0].change.after.rule_number: input should be a valid integer"),
    ("rule_number beyond AWS's range", plan(acl_rule(rule_number=40000)),
     "resource_changes[0].change.after.rule_number: input should be less than or equal to 32766"),
    ("rule_action alow", plan(acl_rule(rule_action="alow")), "change.after.rule_action: input should be 'allow'"),
    ("an inline rule's to_port written as a word", plan(sg_rule_block(to_port="eighty")),
     "resource_changes[0].change.after.ingress[0].to_port: input should be a valid integer"),
    ("an inline rule's ports backwards", plan(sg_rule_block(from_port=443)),
     "resource_changes[0].change.after.ingress[0]: from_port 443 is greater than to_port 80"),
    ("an unknown plan action", plan({**acl_rule(), "change": {"actions": ["explode"], "after": {}}}),
     "resource_changes[0].change.actions[0]: input should be"),
    ("an update without its before", plan({**acl_rule(), "change": {"actions": ["delete"], "before": None}}),
     "resource_changes[0].change.before: required to delete aws_network_acl_rule.db"),
]


@pytest.mark.parametrize(("story", "content", "said"), CHANGE_SETS + PLANS, ids=[c[0] for c in CHANGE_SETS + PLANS])
def test_a_malformed_change_set_or_plan_exits_2_naming_the_file_and_the_path(
    tmp_path: Path, story: str, content: Any, said: str
) -> None:
    path = write(tmp_path, content)
    code, stderr = whatif(path)
    assert code == 2, stderr
    message = " ".join(stderr.split())  # the console may wrap long lines
    assert message.startswith(f"reach: {path}") and said in message
    assert "Traceback" not in stderr and len(stderr) < 2000
    with pytest.raises(ChangeError, match="^" + str(path)):
        reach.Snapshot.load(SNAPSHOT).apply(path)


def test_a_long_bad_value_is_echoed_clipped(tmp_path: Path) -> None:
    path = write(tmp_path, authorize(IpProtocol="x" * 1_000_000))
    code, stderr = whatif(path)
    assert code == 2 and "IpProtocol: xxxx" in stderr and len(stderr) < 1000


def test_more_errors_than_are_shown_are_counted(tmp_path: Path) -> None:
    entry = rule_entry(RuleNumber=0, RuleAction="alow", Protocol="bogus", CidrBlock="nowhere", Egress="sideways")
    code, stderr = whatif(write(tmp_path, entry))
    assert code == 2 and "(and 2 more)" in stderr


def test_a_parsed_change_set_with_bad_values_is_refused_by_the_api_too() -> None:
    with pytest.raises(ChangeError, match=r"change set: item #1 \(CreateNetworkAclEntry\): \[0\]\.params\.RuleNumber"):
        reach.Snapshot.load(SNAPSHOT).apply(rule_entry(RuleNumber=0))


# --- intents ------------------------------------------------------------------------------------------------

INTENT = "- {src: 10.0.1.100, dst: 10.0.2.50, port: 3306, expect: ACCEPT}\n"


def _alias_bomb(field: str) -> str:
    """Nine levels of nine aliases: a few hundred bytes that expand to 9**9 values."""
    text = 'a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n'
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True):
        text += f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]\n"
    return text + f"intents:\n- {{src: 10.0.1.100, dst: 10.0.2.50, port: 3306, expect: ACCEPT, {field}: *i}}\n"


INTENTS = [
    ("a binary file", bytes(range(256)) * 4, "is not UTF-8 text (byte 128)"),
    ("YAML nested deep", "- " + "[" * 100_000 + "]" * 100_000, "is not valid YAML: line 1: more than 32 levels deep"),
    ("protocol 2**63", INTENT.replace("expect", f"protocol: {2**63}, expect"),
     f"intent #1: field 'protocol': {2**63} is not a protocol"),
    ("port 10**20", INTENT.replace("3306", str(10**20)),
     f"intent #1: field 'port': {10**20} is not a port 0-65535"),
    ("an ICMP type out of range", INTENT.replace("3306", "300").replace("expect", "protocol: icmp, expect"),
     "field 'port': 300 is not an ICMP type or TYPE/CODE"),
    ("a source port out of range", INTENT.replace("expect", "src_port: 70000, expect"),
     "field 'src_port': input should be less than or equal to 65535"),
    ("a YAML alias bomb", _alias_bomb("blocked_by"), "more than 100,000 values once its aliases are expanded"),
    ("an alias that contains itself", "- &x {src: a, dst: b, port: 1, expect: ACCEPT, blocked_by: {kind: *x}}\n",
     "more than 100,000 values once its aliases are expanded"),
    ("a 5,000-digit number", INTENT.replace("3306", "9" * 5000), "a value cannot be read (Exceeds the limit"),
    ("a date that is not one", INTENT.replace("expect", "name: 2024-13-45, expect"), "a value cannot be read"),
    ("a NUL byte", INTENT.replace("10.0.1.100", "10.0.1.100\x00"), "is not valid YAML: unacceptable character"),
    ("a scalar", "42\n", "expected a list of intents"),
]


@pytest.mark.parametrize(("story", "content", "said"), INTENTS, ids=[c[0] for c in INTENTS])
def test_a_malformed_intents_file_exits_2_naming_the_file(tmp_path: Path, story: str, content: Any, said: str) -> None:
    path = write(tmp_path, content, "intents.yaml")
    code, stderr = check(path)
    assert code == 2, stderr
    assert str(path) in stderr and said in " ".join(stderr.split())
    assert "Traceback" not in stderr and len(stderr) < 1000
    with pytest.raises(ReachError, match=str(path)):
        reach.check(SNAPSHOT, path)


def test_whatif_refuses_a_malformed_intents_file_as_check_does(tmp_path: Path) -> None:
    change = write(tmp_path, rule_entry())
    intents = write(tmp_path, INTENT.replace("3306", str(10**20)), "intents.yaml")
    result = runner.invoke(app, ["whatif", str(change), "--snapshot", str(SNAPSHOT), "--intents", str(intents)])
    assert result.exit_code == 2 and "is not a port 0-65535" in result.stderr


def test_an_intent_within_the_limits_still_runs_and_can_fail(tmp_path: Path) -> None:
    """The limits refuse hostile files only: a normal intent that does not hold exits 1, as before."""
    path = write(tmp_path, INTENT, "intents.yaml")
    assert check(path)[0] == 1  # 3306 is blocked by the ACL in this snapshot
