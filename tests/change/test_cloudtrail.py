"""CloudTrail records become the same typed calls a change set holds: CloudTrail's spelling in, AWS's calls out."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

import reach
from reach import ReachError
from reach.change.calls import (
    AuthorizeSecurityGroupIngress,
    CreateSecurityGroup,
    ModifyNetworkInterfaceAttribute,
    ModifySecurityGroupRules,
    ReplaceNetworkAclEntry,
    RevokeSecurityGroupIngress,
)
from reach.change.change_set import Change
from reach.change.cloudtrail import call_of, read_cloudtrail
from tests.conftest import FIXTURES

TRAIL = FIXTURES / "reconcile-web-http-revoked" / "cloudtrail"
WEB = FIXTURES / "web-http-revoked"


def record(name: str, **params: Any) -> dict[str, Any]:
    return {"eventTime": "2024-05-20T08:55:00Z", "eventSource": "ec2.amazonaws.com", "eventName": name,
            "sourceIPAddress": "192.0.2.1", "userIdentity": {"arn": "arn:aws:iam::123456789012:user/ops"},
            "requestParameters": params}


def test_the_revoke_alice_made_applied_to_the_snapshot_before_gives_the_snapshot_after() -> None:
    """The CloudTrail call is the change-set call: replaying it reproduces what AWS did."""
    read = read_cloudtrail([TRAIL])
    [revoke] = [c for c in read.calls if c.principal and c.principal.endswith("user/alice")]
    assert isinstance(revoke.call, RevokeSecurityGroupIngress)
    after = reach.Snapshot.load(WEB / "snapshot-before").apply([Change(1, revoke.call)])
    assert after.check(WEB / "intents.yaml").passed
    assert (read.records, read.unreadable) == (5, 0)


def test_items_wrappers_and_camel_case_become_the_api_s_parameters() -> None:
    permission = {"ipProtocol": "tcp", "fromPort": 80, "toPort": 80, "groups": {"items": [{"groupId": "sg-2"}]},
                  "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0", "description": "web"}]}, "ipv6Ranges": {},
                  "prefixListIds": {}}
    found = call_of(record("AuthorizeSecurityGroupIngress", groupId="sg-1", ipPermissions={"items": [permission]}))
    assert found is not None and isinstance(found.call, AuthorizeSecurityGroupIngress)
    assert found.call.params() == {"GroupId": "sg-1", "IpPermissions": [{
        "IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "UserIdGroupPairs": [{"GroupId": "sg-2"}],
        "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "web"}], "Ipv6Ranges": [], "PrefixListIds": []}]}
    assert found.summary == "adds tcp 80 0.0.0.0/0/sg-2"


def test_a_network_acl_entry_keeps_its_port_range() -> None:
    found = call_of(record("ReplaceNetworkAclEntry", networkAclId="acl-1", ruleNumber=100, egress=False,
                           ruleAction="deny", protocol="6", portRange={"from": 3306, "to": 3306},
                           cidrBlock="10.0.0.0/16"))
    assert found is not None and isinstance(found.call, ReplaceNetworkAclEntry)
    assert found.call.port_range is not None and (found.call.port_range.low, found.call.port_range.high) == (3306, 3306)
    assert found.call.components() == ["acl-1"]


def test_an_interface_s_new_groups_are_its_components() -> None:
    found = call_of(record("ModifyNetworkInterfaceAttribute", networkInterfaceId="eni-1",
                           groupSet={"items": [{"groupId": "sg-1"}, {"groupId": "sg-2"}]}))
    assert found is not None and isinstance(found.call, ModifyNetworkInterfaceAttribute)
    assert found.call.groups == ["sg-1", "sg-2"] and found.call.components() == ["eni-1", "sg-1", "sg-2"]


def test_modify_security_group_rules_is_read_from_its_own_wrapper() -> None:
    request = {"ModifySecurityGroupRulesRequest": {"GroupId": "sg-1", "SecurityGroupRule": {
        "SecurityGroupRuleId": "sgr-1", "tag": 1,
        "SecurityGroupRule": {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIpv4": "10.0.0.0/8"}}}}
    found = call_of(record("ModifySecurityGroupRules", **request))
    assert found is not None and isinstance(found.call, ModifySecurityGroupRules)
    [update] = found.call.security_group_rules
    assert (update.security_group_rule_id, update.security_group_rule.cidr_ipv4) == ("sgr-1", "10.0.0.0/8")
    assert found.rules == ("sgr-1",) and found.call.components() == ["sg-1"]


def test_a_created_group_gets_the_id_aws_gave_it_so_later_changes_to_it_are_its_changes() -> None:
    trail = record("CreateSecurityGroup", groupName="web", groupDescription="web servers", vpcId="vpc-1")
    trail["responseElements"] = {"_return": True, "groupId": "sg-0new"}
    found = call_of(trail)
    assert found is not None and isinstance(found.call, CreateSecurityGroup)
    assert (found.call.group_id, found.call.description, found.call.components()) == ("sg-0new", "web servers",
                                                                                      ["sg-0new"])


def test_the_rule_ids_aws_assigned_are_kept_from_the_response() -> None:
    trail = record("AuthorizeSecurityGroupIngress", groupId="sg-1", ipPermissions={"items": [
        {"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "ipRanges": {"items": [{"cidrIp": "10.0.0.0/8"}]}}]})
    trail["responseElements"] = {"securityGroupRuleSet": {"items": [{"securityGroupRuleId": "sgr-new"}]}}
    found = call_of(trail)
    assert found is not None and found.rules == ("sgr-new",)
    assert found.summary == "adds tcp 22 10.0.0.0/8; sgr-new"


def test_failed_read_only_and_unreadable_records_are_skipped_and_the_unreadable_counted(tmp_path: Path) -> None:
    records = [
        record("DescribeSecurityGroups"),
        {**record("DeleteNetworkAclEntry", networkAclId="acl-1", ruleNumber=1), "errorCode": "UnauthorizedOperation"},
        record("CreateRoute", routeTableId="rtb-1", destinationCidrBlock="0.0.0.0/0"),  # no target: unreadable
        {**record("CreateRoute", routeTableId="rtb-1", destinationCidrBlock="0.0.0.0/0", gatewayId="igw-1"),
         "eventTime": "yesterday"},
        record("DeleteRoute", routeTableId="rtb-1", destinationCidrBlock="0.0.0.0/0"),
        {**record("DeleteRoute"), "eventSource": "s3.amazonaws.com"},
    ]
    (tmp_path / "trail.json.gz").write_bytes(gzip.compress(json.dumps({"Records": records}).encode()))
    read = read_cloudtrail([tmp_path])
    assert [c.call.action for c in read.calls] == ["DeleteRoute"]
    assert (read.records, read.unreadable, read.ignored_files) == (6, 2, 0)


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"\x1f\x8b\x08\x00corrupt", "not a CloudTrail log file"),
        (b"[" * 100_000, "not a CloudTrail log file"),
        (b'{"Records": ' + b"9" * 5000 + b"}", "more than 4300 digits"),
        (b'{"digestStartTime": "2024-05-20T08:00:00Z"}', 'no "Records" list'),
    ],
)
def test_a_named_file_that_is_no_cloudtrail_log_is_an_error_and_in_a_folder_it_is_counted(
    tmp_path: Path, content: bytes, said: str
) -> None:
    (tmp_path / "bad.json").write_bytes(content)
    with pytest.raises(ReachError, match=f"--cloudtrail {tmp_path / 'bad.json'}: .*{said}"):
        read_cloudtrail([tmp_path / "bad.json"])
    assert read_cloudtrail([tmp_path]).ignored_files == 1
