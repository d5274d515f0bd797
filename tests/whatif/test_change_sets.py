"""Change sets: EC2 API calls applied to a snapshot give a new snapshot, and absent things are clear errors."""

from __future__ import annotations

import json
from typing import Any

import pytest

from reach import ChangeError, Snapshot
from reach.change import apply_changes, parse_changes
from reach.snapshot.loader import load_snapshot
from tests.builder import acl_entry, tcp
from tests.conftest import FIXTURES

WEB = FIXTURES / "web-http-revoked"
WEB_SG = "sg-04915b9bbbde6f140"
HTTP_RULE = "sgr-07ed9a40471de341d"


def _web_intents_hold(snapshot: Snapshot) -> None:
    result = snapshot.check(WEB / "intents.yaml")
    assert result.passed, [(r.name, r.problems) for r in result.failures]


def test_the_revoke_cloudtrail_recorded_turns_the_snapshot_before_into_the_snapshot_after() -> None:
    before = Snapshot.load(WEB / "snapshot-before")
    assert before.explain("198.51.100.23", "54.210.167.204", 80).verdict == "ACCEPT"
    after = before.apply(WEB / "change.json")
    _web_intents_hold(after)  # the same verdicts, reasons and blockers as the snapshot taken afterwards
    assert before.explain("198.51.100.23", "54.210.167.204", 80).verdict == "ACCEPT", "the original is untouched"


def test_revoking_by_permission_is_the_same_as_revoking_by_rule_id() -> None:
    revoke = {
        "action": "RevokeSecurityGroupIngress",
        "params": {"GroupId": WEB_SG, "IpPermissions": [tcp(80)]},
    }
    after = Snapshot.load(WEB / "snapshot-before").apply([revoke])
    _web_intents_hold(after)
    assert HTTP_RULE not in {r.security_group_rule_id for r in after.raw_snapshot().security_group_rules}


def test_authorizing_again_gives_the_new_rule_a_planned_id_that_explanations_name() -> None:
    fixed = Snapshot.load(WEB / "snapshot").apply(WEB / "fix.json")
    explanation = fixed.explain("198.51.100.23", "web-server-01", 80)
    assert explanation.verdict == "ACCEPT"
    group_hop = next(h for h in explanation.hops if h.kind == "security-group")
    assert group_hop.rule == "sgr-planned-1-1"
    raw = fixed.raw_snapshot()
    group = next(g for g in raw.security_groups if g.group_id == WEB_SG)
    http = [p for p in group.ip_permissions if p.from_port == 80]
    assert [r.cidr_ip for r in http[0].ip_ranges] == ["0.0.0.0/0"]
    assert [r.description for r in http[0].ip_ranges] == ["HTTP from anywhere"]
    lines = [r for r in raw.security_group_rules if r.security_group_rule_id == "sgr-planned-1-1"]
    assert [(r.group_id, r.is_egress, r.from_port, r.cidr_ipv4) for r in lines] == [(WEB_SG, False, 80, "0.0.0.0/0")]


def test_the_input_snapshot_is_never_modified() -> None:
    raw = load_snapshot(WEB / "snapshot-before")
    rules = list(raw.security_group_rules)
    groups = list(raw.security_groups)
    apply_changes(raw, json.loads((WEB / "change.json").read_text()))
    assert raw.security_group_rules == rules and raw.security_groups == groups


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {
                "action": "RevokeSecurityGroupIngress",
                "params": {"GroupId": WEB_SG, "SecurityGroupRuleIds": ["sgr-0nope"]},
            },
            "change #1 (RevokeSecurityGroupIngress): security group rule sgr-0nope of sg-04915b9bbbde6f140 is not",
        ),
        (
            {"action": "AuthorizeSecurityGroupIngress", "params": {"GroupId": "sg-0gone", "IpPermissions": [tcp(443)]}},
            "change #1 (AuthorizeSecurityGroupIngress): security group sg-0gone is not in the snapshot",
        ),
        (
            {"action": "RevokeSecurityGroupIngress", "params": {"GroupId": WEB_SG, "IpPermissions": [tcp(8080)]}},
            "has no rule ingress tcp 8080-8080 from 0.0.0.0/0 to revoke",
        ),
        (
            {"action": "AuthorizeSecurityGroupIngress", "params": {"GroupId": WEB_SG, "IpPermissions": [tcp(22)]}},
            "already has the rule ingress tcp 22-22 from 0.0.0.0/0",
        ),
        (
            {"action": "DeleteNetworkAclEntry", "params": {"NetworkAclId": "acl-0nope", "RuleNumber": 100}},
            "change #1 (DeleteNetworkAclEntry): network ACL acl-0nope is not in the snapshot",
        ),
        (
            {"action": "DeleteRoute", "params": {"RouteTableId": "rtb-0nope", "DestinationCidrBlock": "0.0.0.0/0"}},
            "change #1 (DeleteRoute): route table rtb-0nope is not in the snapshot",
        ),
        (
            {
                "action": "ReplaceRouteTableAssociation",
                "params": {"AssociationId": "rtbassoc-0nope", "RouteTableId": "x"},
            },
            "route table association rtbassoc-0nope is not in the snapshot",
        ),
        (
            {"action": "ModifyNetworkInterfaceAttribute", "params": {"NetworkInterfaceId": "eni-0nope", "Groups": []}},
            "network interface eni-0nope is not in the snapshot",
        ),
    ],
)
def test_an_action_naming_something_absent_is_an_error_naming_the_action_and_the_id(
    change: dict[str, Any], message: str
) -> None:
    with pytest.raises(ChangeError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Snapshot.load(WEB / "snapshot-before").apply([change])


def test_an_unknown_action_lists_the_supported_ones() -> None:
    with pytest.raises(ChangeError) as caught:
        parse_changes([{"action": "DeleteVpc", "params": {"VpcId": "vpc-1"}}], "plan.json")
    assert "plan.json: item #1: 'DeleteVpc' is not an action reach can apply" in str(caught.value)
    assert "RevokeSecurityGroupIngress" in str(caught.value) and "ReplaceRoute" in str(caught.value)


def test_actions_may_be_written_as_the_cli_spells_them() -> None:
    [change] = parse_changes([{"action": "revoke-security-group-ingress", "params": {}}])
    assert change.action == "RevokeSecurityGroupIngress"


# --- one small VPC for the other kinds of change (conftest.small) -------------------------------------


def test_network_acl_entries_are_created_replaced_and_deleted_by_direction_and_number(small: dict[str, Any]) -> None:
    snap, acl = small["snapshot"], small["acl"]
    assert snap.explain("app", "db", 5432).verdict == "ACCEPT"
    deny = {
        "action": "CreateNetworkAclEntry",
        "params": {"NetworkAclId": acl, **acl_entry(50, "deny", True, "10.0.2.0/24", "6", (5432, 5432))},
    }
    denied = snap.apply([deny])
    blocked = denied.explain("app", "db", 5432).blocked_by
    assert blocked is not None and (blocked.kind, blocked.id, blocked.rule) == ("network-acl", acl, 50)
    replace = {"action": "ReplaceNetworkAclEntry", "params": {"NetworkAclId": acl, **acl_entry(50, "allow", True)}}
    assert denied.apply([replace]).explain("app", "db", 5432).verdict == "ACCEPT"
    delete = {"action": "DeleteNetworkAclEntry", "params": {"NetworkAclId": acl, "RuleNumber": 50, "Egress": True}}
    assert denied.apply([delete]).explain("app", "db", 5432).verdict == "ACCEPT"
    with pytest.raises(ChangeError, match="already has outbound rule #50"):
        denied.apply([deny])
    with pytest.raises(ChangeError, match="has no inbound rule #50 to delete"):
        denied.apply([{"action": "DeleteNetworkAclEntry", "params": {"NetworkAclId": acl, "RuleNumber": 50}}])


def test_a_route_to_a_nat_gateway_the_snapshot_lacks_is_applied_and_noted(small: dict[str, Any]) -> None:
    snap = small["snapshot"]
    assert snap.explain("app", "1.1.1.1", 443).verdict == "ACCEPT"
    moved = snap.apply(
        [
            {
                "action": "ReplaceRoute",
                "params": {
                    "RouteTableId": small["app_table"],
                    "DestinationCidrBlock": "0.0.0.0/0",
                    "NatGatewayId": "nat-0gone",
                },
            }
        ]
    )
    assert moved.applied is not None
    assert any("points at NAT gateway nat-0gone, which the snapshot does not hold" in n for n in moved.applied.notes)
    blocked = moved.explain("app", "1.1.1.1", 443).blocked_by
    assert blocked is not None and (blocked.kind, blocked.id) == ("nat-gateway", "nat-0gone")


def test_routes_are_created_and_deleted_by_destination(small: dict[str, Any]) -> None:
    snap, table = small["snapshot"], small["app_table"]
    deleted = snap.apply(
        [{"action": "DeleteRoute", "params": {"RouteTableId": table, "DestinationCidrBlock": "0.0.0.0/0"}}]
    )
    assert deleted.explain("app", "1.1.1.1", 443).reason == "NO_ROUTE_TO_DESTINATION"
    created = deleted.apply(
        [
            {
                "action": "CreateRoute",
                "params": {"RouteTableId": table, "DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": small["nat"]},
            }
        ]
    )
    assert created.explain("app", "1.1.1.1", 443).verdict == "ACCEPT"
    with pytest.raises(ChangeError, match="already has a route for 0.0.0.0/0"):
        created.apply(
            [
                {
                    "action": "CreateRoute",
                    "params": {"RouteTableId": table, "DestinationCidrBlock": "0.0.0.0/0", "GatewayId": small["igw"]},
                }
            ]
        )
    with pytest.raises(ChangeError, match="local route 10.0.0.0/16 .* cannot be deleted"):
        snap.apply(
            [{"action": "DeleteRoute", "params": {"RouteTableId": table, "DestinationCidrBlock": "10.0.0.0/16"}}]
        )


def test_moving_a_subnet_to_the_main_route_table_drops_its_nat_route(small: dict[str, Any]) -> None:
    snap = small["snapshot"]
    main = next(t for t in snap.raw_snapshot().route_tables if any(a.main for a in t.associations))
    association = next(
        a for t in snap.raw_snapshot().route_tables for a in t.associations if a.subnet_id == small["app_net"]
    )
    moved = snap.apply(
        [
            {
                "action": "ReplaceRouteTableAssociation",
                "params": {
                    "AssociationId": association.route_table_association_id,
                    "RouteTableId": main.route_table_id,
                },
            }
        ]
    )
    assert moved.network.subnets[small["app_net"]].route_table == main.route_table_id
    assert moved.explain("app", "1.1.1.1", 443).reason == "NO_ROUTE_TO_DESTINATION"
    with pytest.raises(ChangeError, match="already associated"):
        snap.apply(
            [
                {
                    "action": "AssociateRouteTable",
                    "params": {"RouteTableId": main.route_table_id, "SubnetId": small["app_net"]},
                }
            ]
        )


def test_moving_a_subnet_to_another_acl_by_its_association_id(small: dict[str, Any]) -> None:
    snap = small["snapshot"]
    deny_all = [acl_entry(32767, "deny", False), acl_entry(32767, "deny", True)]
    association = next(
        a for acl in snap.raw_snapshot().network_acls for a in acl.associations if a.subnet_id == small["app_net"]
    )
    moved = snap.apply(
        [
            {"action": "CreateNetworkAcl", "params": {"VpcId": small["vpc"], "NetworkAclId": "acl-0quarantine"}},
            {
                "action": "ReplaceNetworkAclAssociation",
                "params": {"AssociationId": association.network_acl_association_id, "NetworkAclId": "acl-0quarantine"},
            },
        ]
    )
    assert moved.network.subnets[small["app_net"]].nacl == "acl-0quarantine"
    blocked = moved.explain("app", "db", 5432).blocked_by
    assert blocked is not None and (blocked.id, blocked.rule) == ("acl-0quarantine", 32767)
    assert deny_all  # the new ACL holds only the * rules, as AWS creates it


def test_an_interface_changes_groups_and_source_dest_check(small: dict[str, Any]) -> None:
    snap = small["snapshot"]
    regrouped = snap.apply(
        [
            {
                "action": "ModifyNetworkInterfaceAttribute",
                "params": {"NetworkInterfaceId": small["db"], "Groups": [small["app_sg"]]},
            }
        ]
    )
    assert regrouped.explain("app", "db", 5432).reason == "ENI_SG_RULES_MISMATCH"
    unchecked = snap.apply(
        [
            {
                "action": "ModifyNetworkInterfaceAttribute",
                "params": {"NetworkInterfaceId": small["app"], "SourceDestCheck": {"Value": False}},
            }
        ]
    )
    assert unchecked.network.interfaces[small["app"]].source_dest_check is False
    with pytest.raises(ChangeError, match="security group sg-0nope is not in the snapshot"):
        snap.apply(
            [
                {
                    "action": "ModifyNetworkInterfaceAttribute",
                    "params": {"NetworkInterfaceId": small["db"], "Groups": ["sg-0nope"]},
                }
            ]
        )


def test_modify_security_group_rules_rewrites_a_rule_in_place_keeping_its_id(small: dict[str, Any]) -> None:
    snap = small["snapshot"].apply(
        [
            {
                "action": "AuthorizeSecurityGroupIngress",
                "params": {"GroupId": small["db_sg"], "IpPermissions": [tcp(6432, "10.0.1.0/24")]},
            }
        ]
    )
    rule_id = next(r.security_group_rule_id for r in snap.raw_snapshot().security_group_rules if r.from_port == 6432)
    narrowed = snap.apply(
        [
            {
                "action": "ModifySecurityGroupRules",
                "params": {
                    "GroupId": small["db_sg"],
                    "SecurityGroupRules": [
                        {
                            "SecurityGroupRuleId": rule_id,
                            "SecurityGroupRule": {
                                "IpProtocol": "tcp",
                                "FromPort": 6432,
                                "ToPort": 6432,
                                "CidrIpv4": "10.0.9.0/24",
                            },
                        }
                    ],
                },
            }
        ]
    )
    assert narrowed.explain("app", "db", 6432).verdict == "REJECT"
    line = next(r for r in narrowed.raw_snapshot().security_group_rules if r.security_group_rule_id == rule_id)
    assert line.cidr_ipv4 == "10.0.9.0/24"


def test_rules_without_an_sgr_id_keep_none_so_only_the_change_shows_in_the_diff(small: dict[str, Any]) -> None:
    """The builder's snapshot has no describe-security-group-rules: only the new rule gets a (planned) id."""
    snap = small["snapshot"]
    after = snap.apply(
        [
            {
                "action": "AuthorizeSecurityGroupIngress",
                "params": {"GroupId": small["app_sg"], "IpPermissions": [tcp(22, "10.0.0.0/16")]},
            }
        ]
    )
    assert [r.security_group_rule_id for r in after.raw_snapshot().security_group_rules] == ["sgr-planned-1-1"]
    result = snap.compare(after)
    assert [(r.id, r.direction, r.rule, r.change) for r in result.rule_changes] == [
        (small["app_sg"], "ingress", "sgr-planned-1-1", "added")
    ]
