"""Terraform plans (`terraform show -json`) become the EC2 API calls they would make, resource type by type."""

from __future__ import annotations

from typing import Any

import pytest

from reach import ChangeError, Snapshot
from reach.change import is_terraform_plan, plan_changes
from tests.builder import acl_entry, tcp


def plan(*changes: dict[str, Any], configuration: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "format_version": "1.2",
        "terraform_version": "1.7.5",
        "resource_changes": list(changes),
        "configuration": {"root_module": {"resources": configuration or []}},
    }


def rc(address: str, actions: list[str], before: Any = None, after: Any = None, unknown: Any = None) -> dict[str, Any]:
    kind, name = address.split(".")[-2:]
    return {
        "address": address,
        "mode": "managed",
        "type": kind,
        "name": name,
        "change": {"actions": actions, "before": before, "after": after, "after_unknown": unknown or {}},
    }


def calls(snapshot: Snapshot, the_plan: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(c.action, dict(c.params)) for c in plan_changes(the_plan, snapshot.raw_snapshot()).changes]


def test_a_plan_is_recognised_by_its_shape() -> None:
    assert is_terraform_plan(plan())
    assert not is_terraform_plan([{"action": "DeleteRoute", "params": {}}])


def test_an_aws_security_group_rule_created_and_one_destroyed(small: dict[str, Any]) -> None:
    rule = {
        "type": "ingress",
        "security_group_id": small["db_sg"],
        "protocol": "tcp",
        "from_port": 5432,
        "to_port": 5432,
        "cidr_blocks": ["10.0.1.0/24"],
        "self": False,
        "source_security_group_id": None,
    }
    new = dict(rule, from_port=6432, to_port=6432, cidr_blocks=[], source_security_group_id=small["app_sg"])
    found = calls(
        small["snapshot"],
        plan(
            rc("aws_security_group_rule.old", ["delete"], before=rule),
            rc("aws_security_group_rule.new", ["create"], after=new),
        ),
    )
    assert found == [
        (
            "RevokeSecurityGroupIngress",
            {
                "GroupId": small["db_sg"],
                "IpPermissions": [
                    {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "IpRanges": [{"CidrIp": "10.0.1.0/24"}]}
                ],
            },
        ),
        (
            "AuthorizeSecurityGroupIngress",
            {
                "GroupId": small["db_sg"],
                "IpPermissions": [
                    {
                        "IpProtocol": "tcp",
                        "FromPort": 6432,
                        "ToPort": 6432,
                        "UserIdGroupPairs": [{"GroupId": small["app_sg"]}],
                    }
                ],
            },
        ),
    ]
    after = small["snapshot"].apply(plan(rc("aws_security_group_rule.new", ["create"], after=new)))
    assert after.explain("app", "db", 6432).verdict == "ACCEPT"


def test_a_vpc_security_group_rule_updated_in_place_keeps_its_rule_id(small: dict[str, Any]) -> None:
    snap = small["snapshot"].apply(
        [
            {
                "action": "AuthorizeSecurityGroupEgress",
                "params": {"GroupId": small["app_sg"], "IpPermissions": [tcp(443, "10.0.2.0/24")]},
            }
        ]
    )
    rule_id = next(r.security_group_rule_id for r in snap.raw_snapshot().security_group_rules if r.from_port == 443)
    before = {
        "security_group_id": small["app_sg"],
        "security_group_rule_id": rule_id,
        "ip_protocol": "tcp",
        "from_port": 443,
        "to_port": 443,
        "cidr_ipv4": "10.0.2.0/24",
    }
    after = dict(before, cidr_ipv4="10.0.9.0/24")
    [(action, params)] = calls(snap, plan(rc("aws_vpc_security_group_egress_rule.https", ["update"], before, after)))
    assert action == "ModifySecurityGroupRules"
    assert params["SecurityGroupRules"][0]["SecurityGroupRuleId"] == rule_id
    assert params["SecurityGroupRules"][0]["SecurityGroupRule"]["CidrIpv4"] == "10.0.9.0/24"
    deleted = calls(snap, plan(rc("aws_vpc_security_group_egress_rule.https", ["delete"], before)))
    assert deleted == [("RevokeSecurityGroupEgress", {"GroupId": small["app_sg"], "SecurityGroupRuleIds": [rule_id]})]


def test_inline_network_acl_rules_and_subnets(small: dict[str, Any]) -> None:
    def block(number: int, action: str, port: int) -> dict[str, Any]:
        return {
            "rule_no": number,
            "action": action,
            "protocol": "tcp",
            "cidr_block": "10.0.2.0/24",
            "ipv6_cidr_block": "",
            "from_port": port,
            "to_port": port,
            "icmp_type": 0,
            "icmp_code": 0,
        }

    before = {
        "id": small["acl"],
        "vpc_id": small["vpc"],
        "subnet_ids": [small["app_net"]],
        "ingress": [],
        "egress": [block(100, "allow", 5432), block(110, "allow", 443)],
    }
    after = dict(before, egress=[block(100, "deny", 5432), block(120, "allow", 22)], subnet_ids=[small["db_net"]])
    found = calls(small["snapshot"], plan(rc("aws_network_acl.app", ["update"], before, after)))
    default = next(a.network_acl_id for a in small["snapshot"].raw_snapshot().network_acls if a.is_default)
    assert [(a, p.get("RuleNumber"), p.get("RuleAction"), p.get("SubnetId"), p["NetworkAclId"]) for a, p in found] == [
        ("ReplaceNetworkAclEntry", 100, "deny", None, small["acl"]),
        ("DeleteNetworkAclEntry", 110, None, None, small["acl"]),
        ("CreateNetworkAclEntry", 120, "allow", None, small["acl"]),
        ("ReplaceNetworkAclAssociation", None, None, small["db_net"], small["acl"]),
        ("ReplaceNetworkAclAssociation", None, None, small["app_net"], default),
    ]


def test_a_route_to_a_nat_gateway_the_plan_creates_uses_its_address_as_id(small: dict[str, Any]) -> None:
    the_plan = plan(
        rc("aws_nat_gateway.b", ["create"], after={"subnet_id": "subnet-x"}, unknown={"id": True}),
        rc(
            "aws_route.app_default",
            ["update"],
            before={
                "route_table_id": small["app_table"],
                "destination_cidr_block": "0.0.0.0/0",
                "nat_gateway_id": small["nat"],
                "gateway_id": "",
                "network_interface_id": "",
            },
            after={
                "route_table_id": small["app_table"],
                "destination_cidr_block": "0.0.0.0/0",
                "nat_gateway_id": None,
                "gateway_id": "",
                "network_interface_id": "",
            },
            unknown={"nat_gateway_id": True, "network_interface_id": True, "instance_id": True},
        ),
        configuration=[
            {
                "address": "aws_route.app_default",
                "expressions": {
                    "route_table_id": {"constant_value": small["app_table"]},
                    "nat_gateway_id": {"references": ["aws_nat_gateway.b.id", "aws_nat_gateway.b"]},
                },
            }
        ],
    )
    change_set = plan_changes(the_plan, small["snapshot"].raw_snapshot())
    assert [(c.action, dict(c.params)) for c in change_set.changes] == [
        (
            "ReplaceRoute",
            {
                "RouteTableId": small["app_table"],
                "DestinationCidrBlock": "0.0.0.0/0",
                "NatGatewayId": "nat-<aws_nat_gateway.b>",
            },
        )
    ]
    assert change_set.unsupported == ["aws_nat_gateway.b (create)"]
    assert any("reach calls it nat-<aws_nat_gateway.b>" in n for n in change_set.notes)


def test_inline_routes_of_a_route_table_and_its_associations(small: dict[str, Any]) -> None:
    route = {"cidr_block": "0.0.0.0/0", "nat_gateway_id": small["nat"], "gateway_id": "", "ipv6_cidr_block": ""}
    peer = {"cidr_block": "172.16.0.0/12", "vpc_peering_connection_id": "pcx-0abc", "gateway_id": ""}
    association = {"id": small["association"], "subnet_id": small["app_net"], "route_table_id": small["app_table"]}
    spare_and_move = (
        rc("aws_route_table.spare", ["create"], after={"vpc_id": small["vpc"], "route": []}, unknown={"id": True}),
        rc(
            "aws_route_table_association.app",
            ["update"],
            before=association,
            after=dict(association, route_table_id=None),
            unknown={"route_table_id": True},
        ),
    )
    references = [
        {
            "address": "aws_route_table_association.app",
            "expressions": {"route_table_id": {"references": ["aws_route_table.spare.id", "aws_route_table.spare"]}},
        }
    ]
    app_routes = rc(
        "aws_route_table.app",
        ["update"],
        before={"id": small["app_table"], "route": [route]},
        after={"id": small["app_table"], "route": [peer]},
    )

    found = calls(small["snapshot"], plan(app_routes, *spare_and_move, configuration=references))

    spare = "rtb-<aws_route_table.spare>"
    assert found == [
        ("CreateRouteTable", {"VpcId": small["vpc"], "RouteTableId": spare}),
        ("DeleteRoute", {"RouteTableId": small["app_table"], "DestinationCidrBlock": "0.0.0.0/0"}),
        (
            "CreateRoute",
            {
                "RouteTableId": small["app_table"],
                "DestinationCidrBlock": "172.16.0.0/12",
                "VpcPeeringConnectionId": "pcx-0abc",
            },
        ),
        ("ReplaceRouteTableAssociation", {"AssociationId": small["association"], "RouteTableId": spare}),
    ]
    moved = small["snapshot"].apply(plan(*spare_and_move, configuration=references))
    assert moved.network.subnets[small["app_net"]].route_table == spare
    assert moved.explain("app", "1.1.1.1", 443).reason == "NO_ROUTE_TO_DESTINATION"


def test_security_group_attachments_add_to_and_remove_from_an_interface(small: dict[str, Any]) -> None:
    attach = {"security_group_id": small["db_sg"], "network_interface_id": small["app"]}
    found = calls(small["snapshot"], plan(rc("aws_network_interface_sg_attachment.a", ["create"], after=attach)))
    assert found == [
        (
            "ModifyNetworkInterfaceAttribute",
            {"NetworkInterfaceId": small["app"], "Groups": [small["app_sg"], small["db_sg"]]},
        )
    ]
    detach = {"security_group_id": small["db_sg"], "network_interface_id": small["db"]}
    found = calls(small["snapshot"], plan(rc("aws_network_interface_sg_attachment.d", ["delete"], before=detach)))
    assert found == [("ModifyNetworkInterfaceAttribute", {"NetworkInterfaceId": small["db"], "Groups": []})]
    with pytest.raises(ChangeError, match="an interface needs at least one security group"):
        small["snapshot"].apply(plan(rc("aws_network_interface_sg_attachment.d", ["delete"], before=detach)))


def test_a_new_group_starts_with_what_the_configuration_lists_not_aws_s_default_egress(small: dict[str, Any]) -> None:
    after = {"name": "locked", "description": "no egress", "vpc_id": small["vpc"], "ingress": [], "egress": []}
    found = calls(
        small["snapshot"], plan(rc("aws_security_group.locked", ["create"], after=after, unknown={"id": True}))
    )
    assert [a for a, _ in found] == ["CreateSecurityGroup", "RevokeSecurityGroupEgress"]


def test_a_module_resource_resolves_references_inside_its_module(small: dict[str, Any]) -> None:
    the_plan = plan(
        rc(
            "module.db.aws_security_group.this",
            ["create"],
            after={"name": "x", "vpc_id": small["vpc"], "ingress": [], "egress": []},
            unknown={"id": True},
        ),
        rc(
            "module.db.aws_vpc_security_group_ingress_rule.pg",
            ["create"],
            after={"ip_protocol": "tcp", "from_port": 5432, "to_port": 5432, "cidr_ipv4": "10.0.1.0/24"},
            unknown={"security_group_id": True},
        ),
    )
    the_plan["configuration"]["root_module"]["module_calls"] = {
        "db": {
            "module": {
                "resources": [
                    {
                        "address": "aws_vpc_security_group_ingress_rule.pg",
                        "expressions": {
                            "security_group_id": {
                                "references": ["aws_security_group.this.id", "aws_security_group.this"]
                            }
                        },
                    }
                ]
            }
        }
    }
    found = calls(small["snapshot"], the_plan)
    assert found[-1] == (
        "AuthorizeSecurityGroupIngress",
        {
            "GroupId": "sg-<module.db.aws_security_group.this>",
            "IpPermissions": [
                {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "IpRanges": [{"CidrIp": "10.0.1.0/24"}]}
            ],
        },
    )


def test_network_acl_rule_renumbered_is_deleted_then_created(small: dict[str, Any]) -> None:
    rule = {
        "network_acl_id": small["acl"],
        "rule_number": 90,
        "egress": False,
        "protocol": "6",
        "rule_action": "allow",
        "cidr_block": "10.0.0.0/16",
        "from_port": 22,
        "to_port": 22,
    }
    found = calls(
        small["snapshot"], plan(rc("aws_network_acl_rule.ssh", ["delete", "create"], rule, dict(rule, rule_number=110)))
    )
    assert [(a, p["RuleNumber"]) for a, p in found] == [("DeleteNetworkAclEntry", 90), ("CreateNetworkAclEntry", 110)]
    assert found[1][1]["PortRange"] == {"From": 22, "To": 22}
    assert acl_entry(110, "allow", False, "10.0.0.0/16", "6", (22, 22)) == {
        k: v for k, v in found[1][1].items() if k != "NetworkAclId"
    }


def test_unchanged_and_data_resources_are_skipped_and_unknown_types_listed(small: dict[str, Any]) -> None:
    data = rc("data.aws_vpc.main", ["read"], after={})
    data["mode"] = "data"
    change_set = plan_changes(
        plan(
            data,
            rc("aws_security_group.kept", ["no-op"], before={}, after={}),
            rc("aws_lb_listener.http", ["update"], before={}, after={}),
            rc("aws_subnet.new", ["create"], after={}, unknown={"id": True}),
        ),
        small["snapshot"].raw_snapshot(),
    )
    assert change_set.changes == []
    assert change_set.unsupported == ["aws_lb_listener.http (update)", "aws_subnet.new (create)"]
