"""Transit gateways, edited from the hub-and-spoke story: blackholes, static over propagated routes, AZ
coverage, missing associations, attachments and gateways, VPN exits, loops, appliance mode."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.topology.conftest import Workspace

Make = Callable[[str], Workspace]

STORY = "topology-tgw-missing-propagation"
TGW = "tgw-059fb46d4b469820b"
HUB_ATTACH = "tgw-attach-078e02dc139140aab"
ORDERS_ATTACH = "tgw-attach-04548741805671173"
PAYMENTS_RT = "tgw-rtb-0c24335612c5d7f29"
PAYMENTS_TGW_B = "subnet-057cee3801d8738e3"  # payments' attachment subnet in us-east-1b
PAYMENTS_APP_B = "subnet-0bb137fd0b9dc996b"  # 10.1.2.0/24, us-east-1b


def _payments_routes(routes: list[dict[str, Any]]) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        data["Routes"] += routes

    return change


def _route(cidr: str, attachment: str | None, kind: str = "static", state: str = "active") -> dict[str, Any]:
    targets = [{"TransitGatewayAttachmentId": attachment, "ResourceType": "vpc"}] if attachment else []
    return {"DestinationCidrBlock": cidr, "TransitGatewayAttachments": targets, "Type": kind, "State": state}


def _host(ws: Workspace, name: str, subnet: str, ip: str) -> None:
    """Add an interface (no instance) to the snapshot, in `subnet` of the payments VPC."""

    def change(data: dict[str, Any]) -> None:
        template = next(e for e in data["NetworkInterfaces"] if e["PrivateIpAddress"] == "10.1.1.10")
        eni = dict(template, NetworkInterfaceId=f"eni-0{name}", SubnetId=subnet, PrivateIpAddress=ip,
                   PrivateIpAddresses=[{"Primary": True, "PrivateIpAddress": ip}],
                   TagSet=[{"Key": "Name", "Value": name}])
        eni.pop("Attachment")
        data["NetworkInterfaces"].append(eni)

    ws.edit("describe-network-interfaces.json", change)


def test_static_blackhole_beats_propagated_route(workspace: Make) -> None:
    ws = workspace(STORY)
    ws.edit("search-transit-gateway-routes-payments-rt.json",
            _payments_routes([_route("10.0.1.0/24", None, state="blackhole")]))
    result = ws.load().explain("payments-api", "10.0.1.20", 443)
    assert (result.reason, result.blocked_by and result.blocked_by.id) == ("TGW_RTB_BAD_STATE_ROUTE", PAYMENTS_RT)
    assert result.blocked_by is not None and result.blocked_by.rule == "10.0.1.0/24"
    # the more specific blackhole shadows the propagated /16 for that /24 only
    assert ws.load().explain("payments-api", "10.0.2.9", 443).reason != "TGW_RTB_BAD_STATE_ROUTE"


def test_static_route_wins_over_identical_propagated_route(workspace: Make) -> None:
    ws = workspace(STORY)
    ws.edit("search-transit-gateway-routes-payments-rt.json",
            _payments_routes([_route("10.0.0.0/16", ORDERS_ATTACH)]))
    result = ws.load().explain("payments-api", "10.0.1.20", 443)
    route_hop = next(h for h in result.hops if h.kind == "transit-gateway-route-table")
    assert ORDERS_ATTACH in route_hop.detail and "static" in route_hop.detail
    # into orders' VPC, where nothing holds 10.0.1.20
    assert result.verdict == "REJECT"


def test_route_to_an_attachment_the_snapshot_lacks_is_named(workspace: Make) -> None:
    ws = workspace(STORY)
    ws.edit("search-transit-gateway-routes-payments-rt.json",
            _payments_routes([_route("10.0.1.0/24", "tgw-attach-0aaaaaaaaaaaaaaaa")]))
    result = ws.load().explain("payments-api", "10.0.1.20", 443)
    assert result.reason == "UNKNOWN_RESOURCE"
    assert result.blocked_by is not None and "tgw-attach-0aaaaaaaaaaaaaaaa" in result.blocked_by.detail
    assert "assumed" in result.blocked_by.detail


def test_source_zone_without_attachment_subnet(workspace: Make) -> None:
    ws = workspace(STORY)

    def drop_zone_b(data: dict[str, Any]) -> None:
        for attachment in data["TransitGatewayVpcAttachments"]:
            attachment["SubnetIds"] = [s for s in attachment["SubnetIds"] if s != PAYMENTS_TGW_B]

    ws.edit("describe-transit-gateway-vpc-attachments.json", drop_zone_b)
    _host(ws, "payments-batch", PAYMENTS_APP_B, "10.1.2.30")
    snapshot = ws.load()
    result = snapshot.explain("10.1.2.30", "10.0.1.20", 443)
    assert result.reason == "TGW_ROUTE_AZ_RESTRICTION"
    assert result.blocked_by is not None and result.blocked_by.kind == "transit-gateway"
    assert "us-east-1b" in result.blocked_by.detail
    # the same VPC's host in us-east-1a still gets through
    assert snapshot.explain("payments-api", "10.0.1.20", 443).verdict == "ACCEPT"


def test_attachment_without_association(workspace: Make) -> None:
    ws = workspace(STORY)

    def unassociate(data: dict[str, Any]) -> None:
        for attachment in data["TransitGatewayAttachments"]:
            if attachment["ResourceId"] == "vpc-025ad27c7da1e4983":
                attachment.pop("Association")

    ws.edit("describe-transit-gateway-attachments.json", unassociate)
    ws.write("get-transit-gateway-route-table-associations-payments-rt.json",
             {"TransitGatewayRouteTableId": PAYMENTS_RT, "Associations": []})
    result = ws.load().explain("payments-api", "10.0.1.20", 443)
    assert result.reason == "TGW_ATTACH_MISSING_TGW_RTB_ASSOCIATION"


def test_gateway_missing_from_the_snapshot_is_an_exit_with_a_note(workspace: Make) -> None:
    ws = workspace(STORY)
    for name in ("describe-transit-gateways.json", "describe-transit-gateway-attachments.json",
                 "describe-transit-gateway-vpc-attachments.json", "describe-transit-gateway-route-tables.json"):
        (ws.root / name).unlink()
    for path in ws.root.glob("*-rt.json"):
        path.unlink()
    result = ws.load().explain("payments-api", "10.0.1.20", 443)
    assert any(f"{TGW} is not in the snapshot" in note for note in result.notes)
    assert any(h.kind == "transit-gateway" and "leaves the snapshot" in h.detail for h in result.hops)


def test_propagations_alone_install_the_vpc_cidrs(workspace: Make) -> None:
    """Without search-transit-gateway-routes, the propagations (CONTRACT's `Propagations` key) build the routes."""
    ws = workspace(STORY)
    for path in ws.root.glob("search-transit-gateway-routes-*.json"):
        path.unlink()
    for path in ws.root.glob("get-transit-gateway-route-table-propagations-*.json"):
        data = path.read_text().replace("TransitGatewayRouteTablePropagations", "Propagations")
        path.write_text(data)
    snapshot = ws.load()
    assert snapshot.explain("payments-api", "10.0.1.20", 443).verdict == "ACCEPT"
    assert snapshot.explain("orders-api", "10.0.1.20", 443).reason == "TGW_RTB_NO_ROUTE_TO_TGW_ATTACHMENT"


def test_vpn_attachment_is_an_exit_and_the_way_back_in(workspace: Make) -> None:
    ws = workspace(STORY)
    vpn = "tgw-attach-0vpn00000000000001"

    def add_vpn(data: dict[str, Any]) -> None:
        data["TransitGatewayAttachments"].append({
            "TransitGatewayAttachmentId": vpn, "TransitGatewayId": TGW, "ResourceType": "vpn",
            "ResourceId": "vpn-0f3e2d1c0b9a87654", "State": "available",
            "Association": {"TransitGatewayRouteTableId": "tgw-rtb-06dfee6376b32aa70", "State": "associated"}})

    ws.edit("describe-transit-gateway-attachments.json", add_vpn)
    ws.edit("search-transit-gateway-routes-payments-rt.json", _payments_routes([_route("172.16.0.0/12", vpn)]))
    ws.edit("describe-route-tables.json", lambda d: [t["Routes"].append(
        {"DestinationCidrBlock": "172.16.0.0/12", "TransitGatewayId": TGW, "Origin": "CreateRoute", "State": "active"})
        for t in d["RouteTables"]])
    snapshot = ws.load()
    out = snapshot.explain("payments-api", "172.16.8.9", 443)
    exit_hop = next(h for h in out.hops if h.id == vpn)
    assert "leaves the snapshot" in exit_hop.detail
    # the answer comes back in through the VPN attachment; hub-rt (its association) routes it to payments
    back_in = [h for h in out.hops if h.return_path and h.kind == "transit-gateway-route-table"]
    assert back_in and back_in[0].id == "tgw-rtb-06dfee6376b32aa70"
    assert out.verdict == "ACCEPT", [h.detail for h in out.hops]
    assert out.reason == "UNKNOWN_DESTINATION"  # it left through the VPN: beyond that, the snapshot shows nothing
    # on-premises -> payments: comes in through the VPN attachment, routed by the hub table it is associated with
    inbound = snapshot.explain("172.16.8.9", "payments-api", 8080)
    assert inbound.hops[0].kind == "transit-gateway" and vpn in inbound.hops[0].detail
    # it reaches payments-api, whose group admits 8080 only from 10.0.0.0/8
    assert inbound.reason == "ENI_SG_RULES_MISMATCH"
    assert inbound.blocked_by is not None and inbound.blocked_by.id == "sg-08d78cc0e57b894d7"


def test_routing_loop_between_gateway_and_vpc_is_cut(workspace: Make) -> None:
    ws = workspace(STORY)
    # payments-rt sends 10.9.0.0/16 to the orders attachment, and orders sends it straight back to the gateway
    ws.edit("search-transit-gateway-routes-payments-rt.json", _payments_routes([_route("10.9.0.0/16", ORDERS_ATTACH)]))
    ws.write("search-transit-gateway-routes-orders-rt.json", {
        "TransitGatewayRouteTableId": "tgw-rtb-03038002e389f265f", "Routes": [_route("10.9.0.0/16", ORDERS_ATTACH)]})
    result = ws.load().explain("payments-api", "10.9.1.1", 443)
    assert result.reason == "ROUTING_LOOP"


def test_inspection_vpc_appliance_between_spokes(workspace: Make) -> None:
    """Spoke-to-spoke through the hub: the hub's attachment subnets route everything to a firewall interface
    (source/destination check off), which routes it back to the gateway."""
    ws = workspace(STORY)
    hub, hub_tgw_a, hub_tgw_b, hub_app_a = (
        "vpc-065cfc8a2e86d14b8", "subnet-041d2b8d19e458482", "subnet-0b550a08122854806", "subnet-085987174da236770")
    firewall = "eni-0f1rewall000000001"
    ws.edit("search-transit-gateway-routes-payments-rt.json", _payments_routes([_route("10.2.0.0/16", HUB_ATTACH)]))
    ws.write("search-transit-gateway-routes-orders-rt.json", {
        "TransitGatewayRouteTableId": "tgw-rtb-03038002e389f265f", "Routes": [_route("10.1.0.0/16", HUB_ATTACH)]})

    def inspection_table(data: dict[str, Any]) -> None:
        for table in data["RouteTables"]:
            if table["VpcId"] == hub:
                kept = [a for a in table["Associations"] if a.get("SubnetId") not in (hub_tgw_a, hub_tgw_b)]
                table["Associations"] = kept
        data["RouteTables"].append({
            "RouteTableId": "rtb-0inspection000001", "VpcId": hub,
            "Associations": [{"Main": False, "SubnetId": s} for s in (hub_tgw_a, hub_tgw_b)],
            "Routes": [{"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local", "State": "active"},
                       {"DestinationCidrBlock": "0.0.0.0/0", "NetworkInterfaceId": firewall, "State": "active"}]})

    def add_firewall(data: dict[str, Any]) -> None:
        template = next(e for e in data["NetworkInterfaces"] if e["PrivateIpAddress"] == "10.0.1.20")
        eni = dict(template, NetworkInterfaceId=firewall, SubnetId=hub_app_a, PrivateIpAddress="10.0.1.50",
                   PrivateIpAddresses=[{"Primary": True, "PrivateIpAddress": "10.0.1.50"}], SourceDestCheck=False,
                   Groups=[{"GroupId": "sg-0f1rewall00000001", "GroupName": "firewall"}], TagSet=[])
        eni.pop("Attachment")
        data["NetworkInterfaces"].append(eni)

    def firewall_group(data: dict[str, Any]) -> None:
        data["SecurityGroups"].append({
            "GroupId": "sg-0f1rewall00000001", "GroupName": "firewall", "VpcId": hub,
            "IpPermissions": [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}],
            "IpPermissionsEgress": [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]})

    ws.edit("describe-route-tables.json", inspection_table)
    ws.edit("describe-network-interfaces.json", add_firewall)
    ws.edit("describe-security-groups.json", firewall_group)
    result = ws.load().explain("payments-api", "orders-api", 8080)
    assert result.verdict == "ACCEPT", [h.detail for h in result.hops]
    forwarded = [h for h in result.hops if h.id == firewall and "forwards" in h.detail]
    assert [h.return_path for h in forwarded] == [False, True]  # both ways through the firewall
    tables = [h.id for h in result.hops if h.kind == "transit-gateway-route-table" and not h.return_path]
    assert tables == ["tgw-rtb-0c24335612c5d7f29", "tgw-rtb-06dfee6376b32aa70"]  # payments-rt, then hub-rt


def test_at_equal_length_a_vpc_propagation_beats_a_vpn_propagation(workspace: Make) -> None:
    """E.8: for identical destinations, "static → prefix-list referenced → VPC propagated → Direct Connect
    gateway propagated → Connect propagated → VPN propagated". The office announces the hub's own range over
    the VPN: payments still reaches the hub through its VPC attachment; without that route, the VPN's wins."""
    ws = workspace(STORY)
    vpn = "tgw-attach-0vpn00000000000001"
    ws.edit("describe-transit-gateway-attachments.json", lambda d: d["TransitGatewayAttachments"].append({
        "TransitGatewayAttachmentId": vpn, "TransitGatewayId": TGW, "ResourceType": "vpn",
        "ResourceId": "vpn-0f3e2d1c0b9a87654", "State": "available",
        "Association": {"TransitGatewayRouteTableId": "tgw-rtb-06dfee6376b32aa70", "State": "associated"}}))
    announced = {"DestinationCidrBlock": "10.0.0.0/16", "Type": "propagated", "State": "active",
                 "TransitGatewayAttachments": [{"TransitGatewayAttachmentId": vpn, "ResourceType": "vpn"}]}
    ws.edit("search-transit-gateway-routes-payments-rt.json", lambda d: d["Routes"].insert(0, announced))
    out = ws.load().explain("payments-api", "artifacts", 443)
    chosen = next(h for h in out.hops if h.kind == "transit-gateway-route-table" and not h.return_path)
    assert HUB_ATTACH in chosen.detail and vpn not in chosen.detail
    assert (out.verdict, out.reason) == ("ACCEPT", "ACCEPTED")
    # the same announcement for a range no VPC holds is followed out through the VPN
    wider = dict(announced, DestinationCidrBlock="172.16.0.0/12")
    ws.edit("search-transit-gateway-routes-payments-rt.json", lambda d: d["Routes"].insert(0, wider))
    ws.edit("describe-route-tables.json", lambda d: [t["Routes"].append(
        {"DestinationCidrBlock": "172.16.0.0/12", "TransitGatewayId": TGW, "State": "active"})
        for t in d["RouteTables"]])
    assert ws.load().explain("payments-api", "172.16.0.9", 443).reason == "UNKNOWN_DESTINATION"
