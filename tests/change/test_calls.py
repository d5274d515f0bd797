"""The typed EC2 calls: AWS's parameter names, AWS's ranges, and what each call gives back and applies."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import botocore.session
import pytest

import reach
from reach import ChangeError
from reach.change import CALLS, apply_changes, parse_call, parse_changes
from reach.change.apply import HANDLERS
from reach.change.calls import (
    AuthorizeSecurityGroupIngress,
    CreateRoute,
    Ec2Call,
    ModifyNetworkInterfaceAttribute,
    ReplaceRoute,
    RevokeSecurityGroupEgress,
    api_name,
)
from reach.model.protocols import ROUTE_TARGET_FIELDS
from reach.snapshot.loader import load_snapshot
from tests.conftest import FIXTURES, ROOT

EC2 = botocore.session.get_session().get_service_model("ec2")
WEB = FIXTURES / "web-http-revoked"
WEB_SG = "sg-04915b9bbbde6f140"


def _aliases(model: type[Any]) -> set[str]:
    return {field.alias or name for name, field in model.model_fields.items()}


def _members(shape: Any) -> set[str]:
    return set(shape.members)


@pytest.mark.parametrize("action", sorted(CALLS))
def test_every_parameter_is_spelt_as_aws_spells_it_or_is_a_declared_extension(action: str) -> None:
    """botocore's copy of the EC2 API model is the reference: a typo in an alias would refuse good input."""
    model, shape = CALLS[action], EC2.operation_model(action).input_shape
    assert _aliases(model) - model.extensions == _members(shape) & _aliases(model)
    assert model.extensions.isdisjoint(_members(shape)), "an extension AWS has is no extension"
    assert model.unmodelled <= _members(shape), "what reach refuses by name is AWS's"
    ignored = _members(shape) - _aliases(model) - model.unmodelled
    assert ignored == set(), f"{action} neither takes nor refuses by name {ignored}"


@pytest.mark.parametrize(
    ("part", "shape"),
    [
        ("IpPermissionRequest", "IpPermission"),
        ("IpRangeRequest", "IpRange"),
        ("Ipv6RangeRequest", "Ipv6Range"),
        ("PrefixListIdRequest", "PrefixListId"),
        ("UserIdGroupPairRequest", "UserIdGroupPair"),
        ("SecurityGroupRuleRequest", "SecurityGroupRuleRequest"),
        ("SecurityGroupRuleUpdate", "SecurityGroupRuleUpdate"),
        ("PortRangeRequest", "PortRange"),
        ("IcmpTypeCodeRequest", "IcmpTypeCode"),
    ],
)
def test_the_parts_of_calls_have_exactly_aws_s_fields(part: str, shape: str) -> None:
    from reach.change import calls

    assert _aliases(getattr(calls, part)) == _members(EC2.shape_for(shape))


def test_the_route_targets_are_the_protocols_table_s_plus_gateway_id() -> None:
    targets = {"GatewayId", *ROUTE_TARGET_FIELDS}
    assert targets <= _aliases(CreateRoute) and targets <= _aliases(ReplaceRoute)


def test_every_call_reach_parses_has_its_handler() -> None:
    assert set(HANDLERS) == set(CALLS.values())
    assert all(call.action == name for name, call in CALLS.items())


def test_no_public_class_of_the_change_stage_shares_a_name_with_another_in_reach() -> None:
    names: dict[str, list[str]] = {}
    for path in (ROOT / "reach").rglob("*.py"):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                names.setdefault(node.name, []).append(str(path.relative_to(ROOT)))
    clashes = {n: p for n, p in names.items() if len(p) > 1 and any(f.startswith("reach/change/") for f in p)}
    assert clashes == {}
    assert len(names["RuleChange"]) == 1, "what-if's RuleChange is the only one"


@pytest.mark.parametrize("file", sorted(FIXTURES.glob("*/change.json")) + sorted(FIXTURES.glob("*/fix.json")))
def test_a_change_set_s_calls_give_back_the_parameters_as_written(file: Path) -> None:
    written = json.loads(file.read_text())
    assert [{"action": c.action, "params": c.params} for c in parse_changes(written)] == written


@pytest.mark.parametrize(
    ("spelled", "action"),
    [
        ("revoke-security-group-ingress", "RevokeSecurityGroupIngress"),
        ("ec2:CreateRoute", "CreateRoute"),
        ("replace_network_acl_entry", "ReplaceNetworkAclEntry"),
    ],
)
def test_an_action_may_be_spelt_as_the_cli_or_iam_spells_it(spelled: str, action: str) -> None:
    assert api_name(spelled) == action


def test_a_rule_action_is_taken_in_any_case_and_kept_as_aws_writes_it() -> None:
    call = parse_call("CreateNetworkAclEntry", {"NetworkAclId": "acl-1", "RuleNumber": 1, "Protocol": "-1",
                                                "RuleAction": "ALLOW", "CidrBlock": "0.0.0.0/0"}, "x")
    assert call.params()["RuleAction"] == "allow"


def test_egress_rules_need_their_group_id_as_aws_says() -> None:
    with pytest.raises(ChangeError, match=r"x \(RevokeSecurityGroupEgress\): params\.GroupId: required, missing"):
        parse_call("RevokeSecurityGroupEgress", {"SecurityGroupRuleIds": ["sgr-1"]}, "x")


@pytest.mark.parametrize(
    ("params", "said"),
    [
        ({"RouteTableId": "rtb-1", "GatewayId": "igw-1"}, "give exactly one of DestinationCidrBlock"),
        ({"RouteTableId": "rtb-1", "DestinationCidrBlock": "0.0.0.0/0"}, "give exactly one route target"),
        ({"RouteTableId": "rtb-1", "DestinationCidrBlock": "0.0.0.0/0", "GatewayId": "igw-1", "NatGatewayId": "nat-1"},
         "found 2"),
        ({"RouteTableId": "rtb-1", "DestinationCidrBlock": "::/0", "GatewayId": "igw-1"}, "is not an IPv4 CIDR block"),
        ({"RouteTableId": "rtb-1", "DestinationCidrBlock": "0.0.0.0/0", "OdbNetworkArn": "arn:x"},
         "params.OdbNetworkArn: AWS takes OdbNetworkArn, but reach does not model what it changes"),
    ],
)
def test_a_route_names_one_destination_and_one_target(params: dict[str, Any], said: str) -> None:
    with pytest.raises(ChangeError, match=said.replace("(", r"\(").replace(")", r"\)")):
        parse_call("CreateRoute", params, "x")


def test_replace_route_may_send_a_destination_back_to_the_local_target() -> None:
    call = parse_call("ReplaceRoute", {"RouteTableId": "rtb-1", "DestinationCidrBlock": "10.0.0.0/16",
                                       "LocalTarget": True}, "x")
    assert isinstance(call, ReplaceRoute) and call.target() == ("GatewayId", "local")


def test_an_interface_attribute_reach_cannot_apply_is_refused_by_name() -> None:
    with pytest.raises(ChangeError, match="params.AssociatePublicIpAddress: AWS takes AssociatePublicIpAddress"):
        parse_call("ModifyNetworkInterfaceAttribute", {"NetworkInterfaceId": "eni-1", "AssociatePublicIpAddress": True},
                   "x")
    with pytest.raises(ChangeError, match="nothing to modify"):
        parse_call("ModifyNetworkInterfaceAttribute", {"NetworkInterfaceId": "eni-1"}, "x")


def test_source_dest_check_is_taken_as_aws_writes_it_or_bare() -> None:
    for value in ({"Value": False}, False):
        call = parse_call("ModifyNetworkInterfaceAttribute", {"NetworkInterfaceId": "e", "SourceDestCheck": value}, "x")
        assert isinstance(call, ModifyNetworkInterfaceAttribute)
        assert call.source_dest_check is not None and call.source_dest_check.value is False


def test_the_single_rule_form_authorizes_like_ip_permissions() -> None:
    legacy = parse_call("AuthorizeSecurityGroupIngress", {"GroupId": WEB_SG, "IpProtocol": "tcp", "FromPort": 80,
                                                          "ToPort": 80, "CidrIp": "0.0.0.0/0"}, "x")
    assert isinstance(legacy, AuthorizeSecurityGroupIngress)
    [permission] = legacy.permissions()
    assert (permission.ip_protocol, permission.from_port, [r.cidr_ip for r in permission.ip_ranges]) == (
        "tcp", 80, ["0.0.0.0/0"])
    fixed = reach.Snapshot.load(WEB / "snapshot").apply([{"action": "AuthorizeSecurityGroupIngress",
                                                          "params": legacy.params()}])
    assert fixed.explain("198.51.100.23", "web-server-01", 80).verdict == "ACCEPT"


def test_a_dry_run_changes_nothing_and_says_so() -> None:
    raw = load_snapshot(WEB / "snapshot-before")
    notes: list[str] = []
    revoke = json.loads((WEB / "change.json").read_text())
    revoke[0]["params"]["DryRun"] = True
    after = apply_changes(raw, revoke, notes)
    assert after.security_group_rules == raw.security_group_rules
    assert notes == ["change #1 (RevokeSecurityGroupIngress): DryRun: AWS would only check permissions and change "
                     "nothing; not applied"]


@pytest.mark.parametrize(
    ("action", "params", "components", "described"),
    [
        ("RevokeSecurityGroupEgress", {"GroupId": "sg-1", "SecurityGroupRuleIds": ["sgr-1"]}, ["sg-1"],
         "removes sgr-1"),
        ("AuthorizeSecurityGroupIngress",
         {"GroupId": "sg-1", "IpPermissions": [{"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": "sg-2"}]}]},
         ["sg-1"], "adds all traffic sg-2"),
        ("ReplaceNetworkAclEntry", {"NetworkAclId": "acl-1", "RuleNumber": 100, "Protocol": "6", "RuleAction": "deny",
                                    "CidrBlock": "10.0.0.0/16", "PortRange": {"From": 3306, "To": 3306}},
         ["acl-1"], "changes inbound rule #100 deny protocol 6 3306-3306 10.0.0.0/16"),
        ("CreateRoute", {"RouteTableId": "rtb-1", "DestinationCidrBlock": "0.0.0.0/0", "NetworkInterfaceId": "eni-1"},
         ["rtb-1", "eni-1"], "adds route 0.0.0.0/0 -> eni-1"),
        ("ModifyNetworkInterfaceAttribute", {"NetworkInterfaceId": "eni-1", "Groups": ["sg-1", "sg-2"]},
         ["eni-1", "sg-1", "sg-2"], "changes groups sg-1, sg-2"),
    ],
)
def test_a_call_names_the_components_it_changes_and_says_what_it_does(
    action: str, params: dict[str, Any], components: list[str], described: str
) -> None:
    call = parse_call(action, params, "x")
    assert (call.components(), call.describe()) == (components, described)


def test_calls_are_frozen_values() -> None:
    call = parse_call("RevokeSecurityGroupEgress", {"GroupId": "sg-1", "SecurityGroupRuleIds": ["sgr-1"]}, "x")
    assert isinstance(call, RevokeSecurityGroupEgress) and isinstance(call, Ec2Call)
    with pytest.raises(ValueError, match="frozen"):
        call.group_id = "sg-2"  # type: ignore[misc]


def test_many_edits_of_one_group_in_one_change_set_write_what_one_call_at_a_time_writes() -> None:
    """A change set remembers the group it edited between calls (a thousand rules on one group stay linear):
    the groups and rule lines it ends with are those of applying each call to the snapshot the last one left."""
    def rule(protocol: str, port: int, **peer: Any) -> dict[str, Any]:
        return {"IpProtocol": protocol, "FromPort": port, "ToPort": port, **peer}

    calls = [
        {"action": "AuthorizeSecurityGroupIngress",
         "params": {"GroupId": WEB_SG, "IpPermissions": [rule("tcp", 8080, IpRanges=[{"CidrIp": "10.0.0.0/8"}])]}},
        {"action": "AuthorizeSecurityGroupIngress",
         "params": {"GroupId": WEB_SG, "IpPermissions": [rule("tcp", 22, Ipv6Ranges=[{"CidrIpv6": "2001:db8::/32"}]),
                                                         rule("udp", 53, IpRanges=[{"CidrIp": "10.1.0.0/16"}])]}},
        {"action": "AuthorizeSecurityGroupEgress",
         "params": {"GroupId": WEB_SG, "IpPermissions": [rule("tcp", 443, UserIdGroupPairs=[
             {"GroupId": "sg-05be43684e97bf3de"}])]}},
        {"action": "AuthorizeSecurityGroupIngress",
         "params": {"GroupId": WEB_SG, "IpPermissions": [rule("tcp", 22, IpRanges=[{"CidrIp": "192.0.2.0/24"}])]}},
        {"action": "RevokeSecurityGroupIngress",
         "params": {"GroupId": WEB_SG, "IpPermissions": [rule("tcp", 8080, IpRanges=[{"CidrIp": "10.0.0.0/8"}])]}},
        {"action": "RevokeSecurityGroupIngress",
         "params": {"GroupId": WEB_SG, "SecurityGroupRuleIds": ["sgr-0b70035ec09c08357"]}},
    ]
    raw = load_snapshot(WEB / "snapshot")
    together = apply_changes(raw, calls)
    one_by_one = raw
    for call in calls:
        one_by_one = apply_changes(one_by_one, [call])

    def lines(snapshot: Any) -> list[dict[str, Any]]:  # planned ids depend on the call's number
        return [line.model_dump(exclude={"security_group_rule_id"}) for line in snapshot.security_group_rules]

    assert together.security_groups == one_by_one.security_groups
    assert lines(together) == lines(one_by_one)
    [web] = [g for g in together.security_groups if g.group_id == WEB_SG]
    assert [(p.ip_protocol, p.from_port) for p in web.ip_permissions] == [("tcp", 22), ("udp", 53)]


def test_a_group_cannot_be_given_more_rules_than_aws_allows_one_way() -> None:
    raw = load_snapshot(WEB / "snapshot")
    many = [{"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}
            for port in range(1000, 2000)]
    with pytest.raises(ChangeError, match=r"more than 1,000 inbound rules \(AWS: RulesPerSecurityGroupLimitExceeded\)"):
        apply_changes(raw, [{"action": "AuthorizeSecurityGroupIngress",
                             "params": {"GroupId": WEB_SG, "IpPermissions": many}}])  # the group holds one already
    after = apply_changes(raw, [{"action": "AuthorizeSecurityGroupIngress",
                                 "params": {"GroupId": WEB_SG, "IpPermissions": many[1:]}}])
    [web] = [g for g in after.security_groups if g.group_id == WEB_SG]
    assert len(web.ip_permissions) == 1000
