"""Write fixtures/reconcile-rule-usage: an orders database whose security group allows far more than is used.

    python tests/reconcile/make_usage_fixture.py

The story (fixtures/reconcile-rule-usage/STORY.md): the database 10.20.2.10 allows PostgreSQL from the whole
VPC 10.20.0.0/16, and only the app server 10.20.1.15 ever connects; it allows SSH from 10.0.0.0/8, and no
one has logged in for the whole day; it lets everything out, and it never starts a connection (its answers
leave on connection tracking). The bastion allows SSH from the internet, used by one admin.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2] / "fixtures" / "reconcile-rule-usage"
ACCOUNT, REGION = "123456789012", "us-east-1"
VPC = "vpc-0a11c0ffee0000001"
APP_SUBNET, DB_SUBNET = "subnet-0a11c0ffee0000011", "subnet-0a11c0ffee0000012"
APP_SG, DB_SG, BASTION_SG = "sg-0a11c0ffee0000021", "sg-0a11c0ffee0000022", "sg-0a11c0ffee0000023"
APP_ENI, APP2_ENI, DB_ENI, BASTION_ENI = (
    "eni-0a11c0ffee0000031", "eni-0a11c0ffee0000032", "eni-0a11c0ffee0000033", "eni-0a11c0ffee0000034")
START = 1717225200  # 2024-06-01 07:00:00 UTC


def _tags(name: str) -> list[dict[str, str]]:
    return [{"Key": "Name", "Value": name}]


def _rule(rule_id: str, group: str, egress: bool, protocol: str, ports: tuple[int, int], peer: dict[str, Any],
          description: str = "") -> dict[str, Any]:
    return {"SecurityGroupRuleId": rule_id, "GroupId": group, "GroupOwnerId": ACCOUNT, "IsEgress": egress,
            "IpProtocol": protocol, "FromPort": ports[0], "ToPort": ports[1], "Description": description,
            **peer}


RULES = [
    _rule("sgr-0db000000000postgres", DB_SG, False, "tcp", (5432, 5432), {"CidrIpv4": "10.20.0.0/16"},
          "postgres from the VPC"),
    _rule("sgr-0db00000000000ssh", DB_SG, False, "tcp", (22, 22), {"CidrIpv4": "10.0.0.0/8"}, "ssh from corp"),
    _rule("sgr-0db00000000000out", DB_SG, True, "-1", (-1, -1), {"CidrIpv4": "0.0.0.0/0"}),
    _rule("sgr-0a9900000000000out", APP_SG, True, "-1", (-1, -1), {"CidrIpv4": "0.0.0.0/0"}),
    _rule("sgr-0a9900000000000web", APP_SG, False, "tcp", (8080, 8080), {"CidrIpv4": "10.20.0.0/16"}),
    _rule("sgr-0b5700000000000ssh", BASTION_SG, False, "tcp", (22, 22), {"CidrIpv4": "0.0.0.0/0"}, "admins"),
    _rule("sgr-0b5700000000000out", BASTION_SG, True, "-1", (-1, -1), {"CidrIpv4": "0.0.0.0/0"}),
]


def _permissions(group: str, egress: bool) -> list[dict[str, Any]]:
    out = []
    for r in RULES:
        if r["GroupId"] == group and r["IsEgress"] == egress:
            permission: dict[str, Any] = {"IpProtocol": r["IpProtocol"],
                                          "IpRanges": [{"CidrIp": r["CidrIpv4"], "Description": r["Description"]}]}
            if r["IpProtocol"] != "-1":
                permission.update(FromPort=r["FromPort"], ToPort=r["ToPort"])
            out.append(permission)
    return out


def _eni(eni: str, subnet: str, ip: str, group: str, name: str, public: str | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {
        "NetworkInterfaceId": eni, "SubnetId": subnet, "VpcId": VPC, "AvailabilityZone": "us-east-1a",
        "InterfaceType": "interface", "OwnerId": ACCOUNT, "Status": "in-use", "SourceDestCheck": True,
        "PrivateIpAddress": ip, "PrivateIpAddresses": [{"PrivateIpAddress": ip, "Primary": True}],
        "Groups": [{"GroupId": group}], "TagSet": _tags(name), "RequesterManaged": False, "Ipv6Addresses": [],
    }
    if public:
        item["Association"] = {"PublicIp": public}
        item["PrivateIpAddresses"][0]["Association"] = {"PublicIp": public}
    return item


def snapshot() -> dict[str, dict[str, Any]]:
    local = {"DestinationCidrBlock": "10.20.0.0/16", "GatewayId": "local", "State": "active",
             "Origin": "CreateRouteTable"}
    allow_all = [{"RuleNumber": 100, "Protocol": "-1", "RuleAction": "allow", "Egress": e, "CidrBlock": "0.0.0.0/0"}
                 for e in (False, True)]
    deny = [{"RuleNumber": 32767, "Protocol": "-1", "RuleAction": "deny", "Egress": e, "CidrBlock": "0.0.0.0/0"}
            for e in (False, True)]
    return {
        "describe-vpcs.json": {"Vpcs": [{"VpcId": VPC, "OwnerId": ACCOUNT, "CidrBlock": "10.20.0.0/16",
                                         "Tags": _tags("orders")}]},
        "describe-subnets.json": {"Subnets": [
            {"SubnetId": APP_SUBNET, "VpcId": VPC, "CidrBlock": "10.20.1.0/24", "AvailabilityZone": "us-east-1a",
             "Tags": _tags("orders-app")},
            {"SubnetId": DB_SUBNET, "VpcId": VPC, "CidrBlock": "10.20.2.0/24", "AvailabilityZone": "us-east-1a",
             "Tags": _tags("orders-db")}]},
        "describe-route-tables.json": {"RouteTables": [
            {"RouteTableId": "rtb-0a11c0ffee0000041", "VpcId": VPC, "Routes": [
                local, {"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": "igw-0a11c0ffee0000051",
                        "State": "active", "Origin": "CreateRoute"}],
             "Associations": [{"Main": True, "RouteTableId": "rtb-0a11c0ffee0000041"}]}]},
        "describe-internet-gateways.json": {"InternetGateways": [
            {"InternetGatewayId": "igw-0a11c0ffee0000051", "Attachments": [{"VpcId": VPC, "State": "available"}]}]},
        "describe-network-acls.json": {"NetworkAcls": [
            {"NetworkAclId": "acl-0a11c0ffee0000061", "VpcId": VPC, "IsDefault": True, "Entries": allow_all + deny,
             "Associations": [{"SubnetId": s, "NetworkAclId": "acl-0a11c0ffee0000061"}
                              for s in (APP_SUBNET, DB_SUBNET)]}]},
        "describe-security-groups.json": {"SecurityGroups": [
            {"GroupId": g, "GroupName": n, "VpcId": VPC, "OwnerId": ACCOUNT, "Description": n,
             "IpPermissions": _permissions(g, False), "IpPermissionsEgress": _permissions(g, True)}
            for g, n in ((APP_SG, "orders-app-sg"), (DB_SG, "orders-db-sg"), (BASTION_SG, "bastion-sg"))]},
        "describe-security-group-rules.json": {"SecurityGroupRules": RULES},
        "describe-network-interfaces.json": {"NetworkInterfaces": [
            _eni(APP_ENI, APP_SUBNET, "10.20.1.15", APP_SG, "orders-app-1"),
            _eni(APP2_ENI, APP_SUBNET, "10.20.1.16", APP_SG, "orders-app-2"),
            _eni(DB_ENI, DB_SUBNET, "10.20.2.10", DB_SG, "orders-db"),
            _eni(BASTION_ENI, APP_SUBNET, "10.20.1.5", BASTION_SG, "bastion", public="198.51.100.7")]},
    }


def records() -> list[str]:
    """A day of flow logs on the database and the bastion (default format, 10-minute aggregation)."""
    lines = ["version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end "
             "action log-status"]
    for k in range(144):
        t = START + 600 * k
        port = 40000 + k
        lines.append(f"2 {ACCOUNT} {DB_ENI} 10.20.1.15 10.20.2.10 {port} 5432 6 20 4000 {t} {t + 599} ACCEPT OK")
        lines.append(f"2 {ACCOUNT} {DB_ENI} 10.20.2.10 10.20.1.15 5432 {port} 6 18 9000 {t} {t + 599} ACCEPT OK")
        if k % 12 == 0:  # the admin's SSH session, every two hours
            lines.append(f"2 {ACCOUNT} {BASTION_ENI} 203.0.113.12 10.20.1.5 {50000 + k} 22 6 40 5000 {t} "
                         f"{t + 599} ACCEPT OK")
            lines.append(f"2 {ACCOUNT} {BASTION_ENI} 10.20.1.5 203.0.113.12 22 {50000 + k} 6 40 9000 {t} "
                         f"{t + 599} ACCEPT OK")
    return lines


def main() -> None:
    for name, document in snapshot().items():
        path = ROOT / "snapshot" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(document, indent=2) + "\n")
    logs = ROOT / "flowlogs" / f"{ACCOUNT}_vpcflowlogs_{REGION}_fl-0a11c0ffee0000071_20240601T0700Z_a1b2c3d4.log"
    logs.parent.mkdir(parents=True, exist_ok=True)
    logs.write_text("\n".join(records()) + "\n")


if __name__ == "__main__":
    main()
