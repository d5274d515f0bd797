"""VPN connections, virtual private gateways, customer gateways and Direct Connect gateways: compiled as the
snapshot describes them, so the engine can tell where the modelled network ends and how."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
from moto import mock_aws

from reach.model.addr import parse_address
from reach.snapshot.collector import collect
from reach.snapshot.compile import compile_snapshot
from reach.snapshot.loader import load_snapshot
from tests.conftest import FIXTURES

BATFISH = FIXTURES / "external" / "batfish" / "e2e"


def test_batfish_public_private_subnet_has_one_static_route_and_both_tunnels_down() -> None:
    vpn = compile_snapshot(load_snapshot(BATFISH / "test-public-private-subnet")).vpn
    assert list(vpn.connections) == ["vpn-05044757278685fd3"]
    connection = vpn.connections["vpn-05044757278685fd3"]
    assert (connection.state, connection.static_routes_only, connection.bgp) == ("available", True, False)
    assert [(r.destination, r.state) for r in connection.routes] == [("19.168.0.0/16", "available")]
    assert [(t.outside_ip, t.status) for t in connection.tunnels] == [
        ("3.13.210.90", "DOWN"),
        ("18.221.157.90", "DOWN"),
    ]
    assert connection.up is False
    assert (connection.vpn_gateway_id, connection.transit_gateway_id) == ("vgw-070087240d6fa2989", None)
    assert connection.customer_gateway_id == "cgw-0e0d620a3ae284684"
    assert connection.route_for(*parse_address("19.168.4.4")) is not None
    assert connection.route_for(*parse_address("8.8.8.8")) is None  # no route beyond 19.168.0.0/16
    gateway = vpn.vpn_gateways["vgw-070087240d6fa2989"]
    assert (gateway.state, gateway.vpc_ids, gateway.connections) == (
        "available",
        ("vpc-0b966fdeb36d5e43f",),
        ("vpn-05044757278685fd3",),
    )
    customer = vpn.customer_gateways["cgw-0e0d620a3ae284684"]
    assert (customer.ip_address, customer.bgp_asn) == ("1.1.1.1", "65000")
    assert vpn.propagating == {"rtb-002f0eabf583bf991": ("vgw-070087240d6fa2989",)}
    assert [c.id for c in vpn.connections_of("vgw-070087240d6fa2989")] == ["vpn-05044757278685fd3"]


def test_a_bgp_connection_has_no_known_routes_and_says_so() -> None:
    network = compile_snapshot(load_snapshot(BATFISH / "test-vpn-gateway"))
    bgp = network.vpn.connections["vpn-03701a53bba3c48b7"]
    assert (bgp.bgp, bgp.routes, bgp.up) == (True, (), False)
    assert bgp.tunnels[0].message == "IPSEC IS DOWN"
    deleted = network.vpn.connections["vpn-05044757278685fd3"]
    assert (deleted.state, deleted.up, deleted.routes[0].live) == ("deleted", False, False)
    assert any("vpn-03701a53bba3c48b7 uses BGP" in w for w in network.warnings)


def test_a_transit_gateway_vpn_and_its_telemetry() -> None:
    vpn = compile_snapshot(load_snapshot(FIXTURES / "external" / "batfish" / "pybatfish" / "hybrid-cloud")).vpn
    connection = vpn.connections["vpn-01c45673532d3e33e"]
    assert (connection.transit_gateway_id, connection.vpn_gateway_id) == ("tgw-06b348adabd13452d", None)
    assert connection.up is True and [t.accepted_routes for t in connection.tunnels] == [15, 15]


def test_direct_connect_gateways_and_their_allowed_prefixes(tmp_path: Path) -> None:
    (tmp_path / "vpcs.json").write_text(json.dumps({"Vpcs": [{"VpcId": "vpc-1", "CidrBlock": "10.0.0.0/16"}]}))
    gateways = {
        "directConnectGateways": [
            {
                "directConnectGatewayId": "5f294f92-bafb-4011-916d-9b0bec7EXAMPLE",
                "directConnectGatewayName": "dx-prod",
                "amazonSideAsn": 64512,
                "ownerAccount": "123456789012",
                "directConnectGatewayState": "available",
            }
        ]
    }
    associations = {
        "directConnectGatewayAssociations": [
            {
                "directConnectGatewayId": "5f294f92-bafb-4011-916d-9b0bec7EXAMPLE",
                "associationId": "6441f8bf-5917-4279-ade1-9708bEXAMPLE",
                "associationState": "associated",
                "associatedGateway": {"id": "tgw-1", "type": "transitGateway", "region": "us-east-1"},
                "allowedPrefixesToDirectConnectGateway": [{"cidr": "10.0.0.0/16"}],
            },
            {  # a gateway only its associations name
                "directConnectGatewayId": "11111111-2222-3333-4444-555555555555",
                "associationState": "associated",
                "virtualGatewayId": "vgw-1",
            },
        ]
    }
    (tmp_path / "dx.json").write_text(json.dumps(gateways))
    (tmp_path / "dx-associations.json").write_text(json.dumps(associations))
    network = compile_snapshot(load_snapshot(tmp_path))
    prod = network.vpn.direct_connect_gateways["5f294f92-bafb-4011-916d-9b0bec7EXAMPLE"]
    assert (prod.name, prod.state, prod.amazon_side_asn) == ("dx-prod", "available", 64512)
    [association] = prod.associations
    assert (association.gateway_id, association.gateway_kind, association.state) == (
        "tgw-1",
        "transitGateway",
        "associated",
    )
    assert [str(c) for c in association.allowed_prefixes] == ["10.0.0.0/16"]
    assert [d.id for d in network.vpn.direct_connect_of("vgw-1")] == ["11111111-2222-3333-4444-555555555555"]
    assert any("11111111-2222-3333-4444-555555555555 has associations" in w for w in network.warnings)


@mock_aws
def test_collect_writes_vpn_connections_without_their_pre_shared_keys(tmp_path: Path) -> None:
    session = boto3.Session(region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    ec2 = session.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    vgw = ec2.create_vpn_gateway(Type="ipsec.1")["VpnGateway"]["VpnGatewayId"]
    ec2.attach_vpn_gateway(VpcId=vpc, VpnGatewayId=vgw)
    cgw = ec2.create_customer_gateway(Type="ipsec.1", PublicIp="203.0.113.12", BgpAsn=65000)["CustomerGateway"]
    created = ec2.create_vpn_connection(Type="ipsec.1", CustomerGatewayId=cgw["CustomerGatewayId"], VpnGatewayId=vgw)[
        "VpnConnection"
    ]
    assert "CustomerGatewayConfiguration" in ec2.describe_vpn_connections()["VpnConnections"][0]

    result = collect(tmp_path / "snap", session=session, regions=["us-east-1"])
    written = next(result.outdir.rglob("describe-vpn-connections.json")).read_text()
    assert created["VpnConnectionId"] in written
    assert "CustomerGatewayConfiguration" not in written and "pre_shared_key" not in written
    network = compile_snapshot(load_snapshot(result.outdir))
    assert network.vpn.connections[created["VpnConnectionId"]].vpn_gateway_id == vgw
    assert network.vpn.vpn_gateways[vgw].vpc_ids == (vpc,)
    assert cgw["CustomerGatewayId"] in network.vpn.customer_gateways
