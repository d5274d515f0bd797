"""Writes fixtures/exposure-internet-edge/snapshot (run from the repository root: python -m tests.sets.make_fixture).

One VPC, four subnets, six instances whose security groups all open something to the world; the story is in
the fixture's STORY.md."""

from __future__ import annotations

from pathlib import Path

from tests.builder import SnapshotBuilder, acl_entry, tcp

FOLDER = Path(__file__).resolve().parents[2] / "fixtures" / "exposure-internet-edge" / "snapshot"


def build() -> SnapshotBuilder:
    b = SnapshotBuilder()
    vpc = b.vpc("10.40.0.0/16", ipv6="2600:1f18:4a3:6b00::/56", name="edge")
    igw = b.internet_gateway(vpc)
    public = b.subnet(vpc, "10.40.0.0/24", ipv6="2600:1f18:4a3:6b00::/64")
    private = b.subnet(vpc, "10.40.1.0/24")
    isolated = b.subnet(vpc, "10.40.2.0/24")
    ftp_subnet = b.subnet(vpc, "10.40.3.0/24")
    nat = b.nat_gateway(public, "10.40.0.5", "3.80.5.5")
    b.route_table(vpc, [public], [
        {"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": igw, "State": "active"},
        {"DestinationIpv6CidrBlock": "::/0", "GatewayId": igw, "State": "active"},
    ])
    b.route_table(vpc, [private], [{"DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": nat, "State": "active"}])
    b.route_table(vpc, [ftp_subnet], [{"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": igw, "State": "active"}])
    b.nacl(vpc, [public], [
        acl_entry(90, "deny", False, protocol="6", ports=(22, 22)),
        acl_entry(100, "allow", False),
        acl_entry(101, "allow", False, "::/0"),
        acl_entry(100, "allow", True),
        acl_entry(101, "allow", True, "::/0"),
    ])
    b.nacl(vpc, [ftp_subnet], [
        acl_entry(100, "allow", False, protocol="6", ports=(21, 21)),
        acl_entry(100, "allow", True, protocol="6", ports=(32768, 65535)),
    ])
    echo = {"IpProtocol": "icmp", "FromPort": 8, "ToPort": -1, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
    web_sg = b.security_group(vpc, "web-sg", [tcp(80), tcp(443), tcp(22), echo])
    api_sg = b.security_group(vpc, "api-sg", [
        {"IpProtocol": "tcp", "FromPort": 8443, "ToPort": 8443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
         "Ipv6Ranges": [{"CidrIpv6": "::/0"}]},
    ])
    bastion_sg = b.security_group(vpc, "bastion-sg", [tcp(22)])
    db_sg = b.security_group(vpc, "db-sg", [tcp(5432)])
    rdp_sg = b.security_group(vpc, "rdp-sg", [tcp(3389)])
    ftp_sg = b.security_group(vpc, "ftp-sg", [tcp(21)])
    b.interface(public, "10.40.0.10", [web_sg], public_ip="54.210.20.10", name="web")
    b.interface(public, "10.40.0.20", [api_sg], ipv6=["2600:1f18:4a3:6b00::20"], name="api-v6")
    b.interface(private, "10.40.1.10", [bastion_sg], public_ip="3.80.5.10", name="bastion")
    b.interface(private, "10.40.1.20", [db_sg], name="db")
    b.interface(isolated, "10.40.2.10", [rdp_sg], public_ip="3.80.5.20", name="legacy")
    b.interface(ftp_subnet, "10.40.3.10", [ftp_sg], public_ip="3.80.5.30", name="ftp")
    return b


if __name__ == "__main__":
    build().write(FOLDER)
