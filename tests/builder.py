"""Build small describe-* snapshots in tests: one VPC at a time, real AWS shapes, written to a folder."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

_ids = itertools.count(1)


def _id(prefix: str) -> str:
    return f"{prefix}-{next(_ids):017x}"


ALLOW_ALL_NACL = [
    {"RuleNumber": 100, "Protocol": "-1", "RuleAction": "allow", "Egress": False, "CidrBlock": "0.0.0.0/0"},
    {"RuleNumber": 100, "Protocol": "-1", "RuleAction": "allow", "Egress": True, "CidrBlock": "0.0.0.0/0"},
    {"RuleNumber": 101, "Protocol": "-1", "RuleAction": "allow", "Egress": False, "Ipv6CidrBlock": "::/0"},
    {"RuleNumber": 101, "Protocol": "-1", "RuleAction": "allow", "Egress": True, "Ipv6CidrBlock": "::/0"},
]


def tcp(port: int, cidr: str = "0.0.0.0/0", to_port: int | None = None) -> dict[str, Any]:
    return {"IpProtocol": "tcp", "FromPort": port, "ToPort": to_port or port, "IpRanges": [{"CidrIp": cidr}]}


def from_group(protocol: str, port: int, group_id: str) -> dict[str, Any]:
    return {"IpProtocol": protocol, "FromPort": port, "ToPort": port, "UserIdGroupPairs": [{"GroupId": group_id}]}


ALL_OUT = {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}], "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}


def acl_entry(
    number: int,
    action: str,
    egress: bool,
    cidr: str = "0.0.0.0/0",
    protocol: str = "-1",
    ports: tuple[int, int] | None = None,
    icmp: tuple[int, int] | None = None,
) -> dict[str, Any]:
    entry: dict[str, Any] = {"RuleNumber": number, "Protocol": protocol, "RuleAction": action, "Egress": egress}
    entry["Ipv6CidrBlock" if ":" in cidr else "CidrBlock"] = cidr
    if ports:
        entry["PortRange"] = {"From": ports[0], "To": ports[1]}
    if icmp:
        entry["IcmpTypeCode"] = {"Type": icmp[0], "Code": icmp[1]}
    return entry


class SnapshotBuilder:
    def __init__(self) -> None:
        self.data: dict[str, list[dict[str, Any]]] = {
            k: []
            for k in (
                "Vpcs",
                "Subnets",
                "RouteTables",
                "SecurityGroups",
                "NetworkAcls",
                "NetworkInterfaces",
                "InternetGateways",
                "EgressOnlyInternetGateways",
                "NatGateways",
                "VpcPeeringConnections",
                "PrefixLists",
            )
        }

    def vpc(self, cidr: str, ipv6: str | None = None, name: str | None = None) -> str:
        vpc_id = _id("vpc")
        vpc: dict[str, Any] = {
            "VpcId": vpc_id,
            "OwnerId": "123456789012",
            "CidrBlock": cidr,
            "CidrBlockAssociationSet": [{"CidrBlock": cidr, "CidrBlockState": {"State": "associated"}}],
        }
        if ipv6:
            vpc["Ipv6CidrBlockAssociationSet"] = [
                {"Ipv6CidrBlock": ipv6, "Ipv6CidrBlockState": {"State": "associated"}}
            ]
        if name:
            vpc["Tags"] = [{"Key": "Name", "Value": name}]
        self.data["Vpcs"].append(vpc)
        main = _id("rtb")
        routes = [{"DestinationCidrBlock": cidr, "GatewayId": "local", "State": "active", "Origin": "CreateRouteTable"}]
        if ipv6:
            routes.append(
                {
                    "DestinationIpv6CidrBlock": ipv6,
                    "GatewayId": "local",
                    "State": "active",
                    "Origin": "CreateRouteTable",
                }
            )
        self.data["RouteTables"].append(
            {
                "RouteTableId": main,
                "VpcId": vpc_id,
                "Routes": routes,
                "Associations": [{"Main": True, "RouteTableId": main}],
            }
        )
        self.data["NetworkAcls"].append(
            {
                "NetworkAclId": _id("acl"),
                "VpcId": vpc_id,
                "IsDefault": True,
                "Entries": list(ALLOW_ALL_NACL),
                "Associations": [],
            }
        )
        return vpc_id

    def subnet(self, vpc_id: str, cidr: str, ipv6: str | None = None, az: str = "us-east-1a") -> str:
        subnet_id = _id("subnet")
        subnet: dict[str, Any] = {"SubnetId": subnet_id, "VpcId": vpc_id, "CidrBlock": cidr, "AvailabilityZone": az}
        if ipv6:
            subnet["Ipv6CidrBlockAssociationSet"] = [
                {"Ipv6CidrBlock": ipv6, "Ipv6CidrBlockState": {"State": "associated"}}
            ]
        self.data["Subnets"].append(subnet)
        return subnet_id

    def main_table(self, vpc_id: str) -> dict[str, Any]:
        return next(
            t
            for t in self.data["RouteTables"]
            if t["VpcId"] == vpc_id and any(a.get("Main") for a in t["Associations"])
        )

    def route_table(self, vpc_id: str, subnets: list[str], routes: list[dict[str, Any]]) -> str:
        table_id = _id("rtb")
        local = [r for r in self.main_table(vpc_id)["Routes"] if r.get("GatewayId") == "local"]
        self.data["RouteTables"].append(
            {
                "RouteTableId": table_id,
                "VpcId": vpc_id,
                "Routes": local + routes,
                "Associations": [{"Main": False, "SubnetId": s, "RouteTableId": table_id} for s in subnets],
            }
        )
        return table_id

    def nacl(self, vpc_id: str, subnets: list[str], entries: list[dict[str, Any]]) -> str:
        acl_id = _id("acl")
        for acl in self.data["NetworkAcls"]:
            acl["Associations"] = [a for a in acl["Associations"] if a["SubnetId"] not in subnets]
        self.data["NetworkAcls"].append(
            {
                "NetworkAclId": acl_id,
                "VpcId": vpc_id,
                "IsDefault": False,
                "Entries": entries,
                "Associations": [{"SubnetId": s, "NetworkAclId": acl_id} for s in subnets],
            }
        )
        return acl_id

    def security_group(
        self, vpc_id: str, name: str, ingress: list[dict[str, Any]], egress: list[dict[str, Any]] | None = None
    ) -> str:
        group_id = _id("sg")
        self.data["SecurityGroups"].append(
            {
                "GroupId": group_id,
                "GroupName": name,
                "VpcId": vpc_id,
                "IpPermissions": ingress,
                "IpPermissionsEgress": [ALL_OUT] if egress is None else egress,
            }
        )
        return group_id

    def interface(
        self,
        subnet_id: str,
        ip: str,
        groups: list[str],
        *,
        public_ip: str | None = None,
        ipv6: list[str] | None = None,
        name: str | None = None,
        source_dest_check: bool = True,
        kind: str = "interface",
    ) -> str:
        eni_id = _id("eni")
        subnet = next(s for s in self.data["Subnets"] if s["SubnetId"] == subnet_id)
        eni: dict[str, Any] = {
            "NetworkInterfaceId": eni_id,
            "SubnetId": subnet_id,
            "VpcId": subnet["VpcId"],
            "InterfaceType": kind,
            "PrivateIpAddress": ip,
            "PrivateIpAddresses": [{"PrivateIpAddress": ip, "Primary": True}],
            "Groups": [{"GroupId": g} for g in groups],
            "SourceDestCheck": source_dest_check,
            "Status": "in-use",
            "Ipv6Addresses": [{"Ipv6Address": a} for a in ipv6 or []],
        }
        if public_ip:
            eni["Association"] = {"PublicIp": public_ip}
            eni["PrivateIpAddresses"][0]["Association"] = {"PublicIp": public_ip}
        if name:
            eni["TagSet"] = [{"Key": "Name", "Value": name}]
        self.data["NetworkInterfaces"].append(eni)
        return eni_id

    def internet_gateway(self, vpc_id: str) -> str:
        igw = _id("igw")
        self.data["InternetGateways"].append(
            {"InternetGatewayId": igw, "Attachments": [{"VpcId": vpc_id, "State": "available"}]}
        )
        return igw

    def egress_only_gateway(self, vpc_id: str) -> str:
        eigw = _id("eigw")
        self.data["EgressOnlyInternetGateways"].append(
            {"EgressOnlyInternetGatewayId": eigw, "Attachments": [{"VpcId": vpc_id, "State": "attached"}]}
        )
        return eigw

    def nat_gateway(self, subnet_id: str, private_ip: str, public_ip: str | None) -> str:
        nat = _id("nat")
        eni = self.interface(
            subnet_id, private_ip, [], public_ip=public_ip, kind="nat_gateway", source_dest_check=False
        )
        subnet = next(s for s in self.data["Subnets"] if s["SubnetId"] == subnet_id)
        self.data["NatGateways"].append(
            {
                "NatGatewayId": nat,
                "SubnetId": subnet_id,
                "VpcId": subnet["VpcId"],
                "State": "available",
                "ConnectivityType": "public" if public_ip else "private",
                "NatGatewayAddresses": [
                    {"PrivateIp": private_ip, "PublicIp": public_ip, "NetworkInterfaceId": eni, "IsPrimary": True}
                ],
            }
        )
        return nat

    def peering(self, requester: str, accepter: str, status: str = "active") -> str:
        pcx = _id("pcx")

        def info(vpc_id: str) -> dict[str, Any]:
            vpc = next(v for v in self.data["Vpcs"] if v["VpcId"] == vpc_id)
            return {
                "VpcId": vpc_id,
                "OwnerId": "123456789012",
                "CidrBlock": vpc["CidrBlock"],
                "CidrBlockSet": [{"CidrBlock": vpc["CidrBlock"]}],
            }

        self.data["VpcPeeringConnections"].append(
            {
                "VpcPeeringConnectionId": pcx,
                "Status": {"Code": status},
                "RequesterVpcInfo": info(requester),
                "AccepterVpcInfo": info(accepter),
            }
        )
        return pcx

    def prefix_list(self, name: str, cidrs: list[str]) -> str:
        pl = _id("pl")
        self.data["PrefixLists"].append({"PrefixListId": pl, "PrefixListName": name, "Cidrs": cidrs})
        return pl

    def write(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        for key, items in self.data.items():
            (folder / f"{key}.json").write_text(json.dumps({key: items}, indent=2))
        return folder
