"""The §E audit, the way a packet goes: routes (E.4), internet gateways (E.5), NAT gateways (E.6), VPC
peering (E.7), and ingress routing through gateway route tables (E.4). One story per rule, an ACCEPT and a
REJECT each; `tests/AWS_SEMANTICS.md` maps each rule here.

The shop: VPC 10.0.0.0/16 with a public subnet 10.0.0.0/24 (web, 54.0.0.10, routed to the internet
gateway), an app subnet 10.0.1.0/24, and what each story adds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from reach.api import Snapshot
from reach.flowlogs import FLOW_LOG_SCHEMA
from reach.reconcile.pipeline import reconcile
from tests.builder import ALL_OUT, SnapshotBuilder, acl_entry, tcp
from tests.conftest import FIXTURES
from tests.topology.conftest import Workspace


def load(b: SnapshotBuilder, tmp_path: Path) -> Snapshot:
    return Snapshot.load(b.write(tmp_path / "snap"), cache=False)


def route(cidr: str, **target: str) -> dict[str, Any]:
    return {"DestinationCidrBlock": cidr, "State": "active", **target}


class Shop:
    def __init__(self) -> None:
        b = self.b = SnapshotBuilder()
        self.vpc = b.vpc("10.0.0.0/16", name="shop")
        self.public = b.subnet(self.vpc, "10.0.0.0/24")
        self.app = b.subnet(self.vpc, "10.0.1.0/24")
        self.igw = b.internet_gateway(self.vpc)
        self.public_table = b.route_table(self.vpc, [self.public], [route("0.0.0.0/0", GatewayId=self.igw)])
        self.open = b.security_group(self.vpc, "open", [tcp(443), tcp(443, "10.0.0.0/8")], [ALL_OUT])
        self.web = b.interface(self.public, "10.0.0.10", [self.open], public_ip="54.0.0.10", name="web")

    def table(self, table_id: str) -> dict[str, Any]:
        return next(t for t in self.b.data["RouteTables"] if t["RouteTableId"] == table_id)


@pytest.fixture
def shop() -> Shop:
    return Shop()


# --- routes (E.4) ----------------------------------------------------------------------------------------


def test_routes_apply_to_traffic_leaving_the_subnet_not_within_it(shop: Shop, tmp_path: Path) -> None:
    """E.4's layer-2 exception: a route for the subnet's own range (here a blackhole) does not touch traffic
    between two interfaces of that subnet, only traffic that leaves it through the router."""
    b = shop.b
    b.interface(shop.app, "10.0.1.10", [shop.open], name="app-1")
    b.interface(shop.app, "10.0.1.11", [shop.open], name="app-2")
    shop.table(shop.public_table)["Routes"].append(dict(route("10.0.1.0/24", NatGatewayId="nat-0gone"),
                                                        State="blackhole"))
    snap = load(b, tmp_path)
    assert snap.explain("app-1", "app-2", 443).verdict == "ACCEPT"
    assert snap.explain("web", "app-2", 443).reason == "BAD_STATE_ROUTE"


def test_a_static_route_beats_a_propagated_one_to_the_same_prefix(shop: Shop, tmp_path: Path) -> None:
    """E.4: "If the destination of a propagated route overlaps a static route, the static route takes
    priority"; here the static route is a blackhole, so the packet is dropped where the propagated route would
    have carried it to the VPN."""
    b = shop.b
    app = b.interface(shop.app, "10.0.1.10", [shop.open], name="app")
    b.data["VpnGateways"] = [{"VpnGatewayId": "vgw-0a1", "State": "available",
                              "VpcAttachments": [{"VpcId": shop.vpc, "State": "attached"}]}]
    b.data["VpnConnections"] = [{"VpnConnectionId": "vpn-0a1", "State": "available", "VpnGatewayId": "vgw-0a1",
                                 "Options": {"StaticRoutesOnly": True},
                                 "Routes": [{"DestinationCidrBlock": "172.16.0.0/16", "State": "available"}],
                                 "VgwTelemetry": [{"Status": "UP"}, {"Status": "UP"}]}]
    propagated = dict(route("172.16.0.0/16", GatewayId="vgw-0a1"), Origin="EnableVgwRoutePropagation")
    table = b.route_table(shop.vpc, [shop.app], [propagated])
    assert load(b, tmp_path).explain(app, "172.16.0.9", 443).reason == "UNKNOWN_DESTINATION"
    shop.table(table)["Routes"].append(dict(route("172.16.0.0/16", NatGatewayId="nat-0gone"), State="blackhole",
                                            Origin="CreateRoute"))
    assert load(b, tmp_path / "static").explain(app, "172.16.0.9", 443).reason == "BAD_STATE_ROUTE"


# --- internet gateways (E.5) -----------------------------------------------------------------------------


def test_the_internet_gateway_drops_shared_address_space_sources(shop: Shop, tmp_path: Path) -> None:
    snap = load(shop.b, tmp_path)
    assert snap.explain("198.51.100.7", "54.0.0.10", 443).verdict == "ACCEPT"
    shared = snap.explain("100.64.0.7", "54.0.0.10", 443)  # RFC 6598, carrier-grade NAT space
    assert (shared.verdict, shared.reason) == ("REJECT", "IGW_SOURCE_ADDRESS_NOT_IN_RFC6598_INGRESS")
    private = snap.explain("192.168.0.7", "54.0.0.10", 443)
    assert private.reason in ("IGW_SOURCE_ADDRESS_NOT_IN_RFC1918_INGRESS", "NO_ROUTE_TO_DESTINATION")


# --- NAT gateways (E.6) ----------------------------------------------------------------------------------


def test_a_private_nat_gateway_routed_to_the_internet_gateway_is_dropped(shop: Shop, tmp_path: Path) -> None:
    """E.6: "if you route traffic from the private NAT gateway to the internet gateway, the internet gateway
    drops the traffic"."""
    b = shop.b
    app = b.interface(shop.app, "10.0.1.10", [shop.open], name="app")
    public_nat = b.nat_gateway(shop.public, "10.0.0.50", "54.0.0.50")
    private_nat = b.nat_gateway(shop.public, "10.0.0.51", None)
    app_table = b.route_table(shop.vpc, [shop.app], [route("0.0.0.0/0", NatGatewayId=public_nat)])
    assert load(b, tmp_path).explain(app, "8.8.8.8", 443).verdict == "ACCEPT"
    shop.table(app_table)["Routes"][-1] = route("0.0.0.0/0", NatGatewayId=private_nat)
    out = load(b, tmp_path / "private").explain(app, "8.8.8.8", 443)
    assert (out.verdict, out.reason) == ("REJECT", "IGW_PUBLIC_IP_ASSOCIATION_FOR_EGRESS")
    assert out.blocked_by is not None and f"{private_nat} is a private NAT gateway" in out.blocked_by.detail


def test_a_nat_gateway_carries_only_traffic_that_starts_in_its_vpc(shop: Shop, tmp_path: Path) -> None:
    """E.6 (NGW_REQUIRES_SOURCE_IN_VPC): a NAT gateway cannot carry traffic from a VPN, Direct Connect or a
    peering. The peering and the VPN gateway already refuse a packet addressed outside the VPC, so the case
    arises where ingress routing hands on-premises traffic to an appliance whose subnet routes it to the NAT
    gateway. From the app subnet itself, the same NAT gateway carries it."""
    b = shop.b
    inspect = b.subnet(shop.vpc, "10.0.9.0/24")
    nat = b.nat_gateway(shop.public, "10.0.0.50", "54.0.0.50")
    fw = b.interface(inspect, "10.0.9.5", [shop.open], name="fw", source_dest_check=False)
    app = b.interface(shop.app, "10.0.1.10", [shop.open], name="app")
    b.route_table(shop.vpc, [shop.app], [route("0.0.0.0/0", NatGatewayId=nat)])
    b.route_table(shop.vpc, [inspect], [route("10.0.1.0/24", NatGatewayId=nat)])  # a subnet route to the NAT
    edge = b.route_table(shop.vpc, [], [route("10.0.1.0/24", NetworkInterfaceId=fw)])
    shop.table(edge)["Associations"] = [{"Main": False, "GatewayId": "vgw-0a1", "RouteTableId": edge}]
    b.data["VpnGateways"] = [{"VpnGatewayId": "vgw-0a1", "State": "available",
                              "VpcAttachments": [{"VpcId": shop.vpc, "State": "attached"}]}]
    shop.table(shop.public_table)["Routes"].append(route("172.16.0.0/12", GatewayId="vgw-0a1"))
    snap = load(b, tmp_path)
    assert snap.explain(app, "8.8.8.8", 443).verdict == "ACCEPT"
    out = snap.explain("172.16.0.9", "10.0.1.10", 443)
    assert ("nat-gateway", nat, "NGW_REQUIRES_SOURCE_IN_VPC") in [(x.kind, x.id, x.reason) for x in out.blockers]


# --- VPC peering (E.7) -----------------------------------------------------------------------------------


def test_peering_is_neither_transitive_nor_edge_to_edge(tmp_path: Path) -> None:
    """E.7: VPC B reaches A across their peering, but neither C (peered with A only) through A, nor the
    internet through A's internet gateway, nor A's gateway endpoint."""
    b = SnapshotBuilder()
    a, bb, c = b.vpc("10.0.0.0/16"), b.vpc("10.1.0.0/16"), b.vpc("10.2.0.0/16")
    sa, sb, sc = b.subnet(a, "10.0.0.0/24"), b.subnet(bb, "10.1.0.0/24"), b.subnet(c, "10.2.0.0/24")
    open_ = {v: b.security_group(v, "open", [tcp(443, "10.0.0.0/8")], [ALL_OUT]) for v in (a, bb, c)}
    b.interface(sa, "10.0.0.10", [open_[a]], name="a")
    b.interface(sb, "10.1.0.10", [open_[bb]], name="b")
    b.interface(sc, "10.2.0.10", [open_[c]], name="c")
    ab, ac = b.peering(a, bb), b.peering(a, c)
    igw = b.internet_gateway(a)
    b.main_table(a)["Routes"] += [route("10.1.0.0/16", VpcPeeringConnectionId=ab),
                                  route("10.2.0.0/16", VpcPeeringConnectionId=ac), route("0.0.0.0/0", GatewayId=igw)]
    # B sends everything to A, hoping A passes it on
    b.main_table(bb)["Routes"] += [route("0.0.0.0/0", VpcPeeringConnectionId=ab)]
    b.main_table(c)["Routes"] += [route("10.0.0.0/16", VpcPeeringConnectionId=ac)]
    snap = load(b, tmp_path)
    assert snap.explain("b", "a", 443).verdict == "ACCEPT"
    for dst in ("10.2.0.10", "8.8.8.8", "52.216.0.1"):  # C, the internet, S3
        out = snap.explain("b", dst, 443)
        assert (out.verdict, out.reason) == ("REJECT", "PCX_REQUIRES_ADDRESS_IN_VPC_CIDR"), dst


# --- ingress routing: gateway route tables (E.4) ---------------------------------------------------------


def test_a_gateway_route_table_sends_what_comes_in_through_the_appliance_and_back(shop: Shop, tmp_path: Path) -> None:
    """E.4: a route table associated with the internet gateway (edge association) routes inbound traffic: here
    the public subnet's range goes to a firewall. The answer must leave through the firewall too: a public
    subnet whose table still sends 0.0.0.0/0 straight to the internet gateway is
    INGRESS_RTB_TRAFFIC_REDIRECTION; routed through the firewall, the connection works both ways."""
    b = shop.b
    inspect = b.subnet(shop.vpc, "10.0.9.0/24")
    fw = b.interface(inspect, "10.0.9.5", [b.security_group(shop.vpc, "fw", [tcp(443)], [ALL_OUT])], name="fw",
                     source_dest_check=False)
    b.route_table(shop.vpc, [inspect], [route("0.0.0.0/0", GatewayId=shop.igw)])
    edge = b.route_table(shop.vpc, [], [route("10.0.0.0/24", NetworkInterfaceId=fw)])
    shop.table(edge)["Associations"] = [{"Main": False, "GatewayId": shop.igw, "RouteTableId": edge}]
    direct = load(b, tmp_path).explain("198.51.100.7", "web", 443)
    assert (direct.verdict, direct.reason) == ("REJECT", "INGRESS_RTB_TRAFFIC_REDIRECTION")
    assert direct.blocked_by is not None and direct.blocked_by.return_path
    assert any(h.kind == "network-interface" and h.id == fw and not h.return_path for h in direct.hops)
    shop.table(shop.public_table)["Routes"][-1] = route("0.0.0.0/0", NetworkInterfaceId=fw)
    through = load(b, tmp_path / "fw").explain("198.51.100.7", "web", 443)
    assert (through.verdict, through.reason) == ("ACCEPT", "ACCEPTED"), [x.detail for x in through.blockers]
    assert [h.id for h in through.hops if h.id == fw and h.return_path]


# --- more of E.4, E.5, E.7, E.9, E.10 --------------------------------------------------------------------


def test_an_acl_and_a_route_that_both_refuse_name_the_acl_first(shop: Shop, tmp_path: Path) -> None:
    """E.10's order of evaluation (SG, route table, NACL outbound) is marked [derived] in the notes, not AWS
    text. reach's reading: the subnet's network ACL decides at the interface before the router looks up a
    route, because the interface's flow log records the ACL's decision whatever the route then does (a packet
    a blackhole route drops is logged ACCEPT). The verdict is the same either way; only the first blocker
    named depends on the order, and every blocker is listed."""
    b = shop.b
    app = b.interface(shop.app, "10.0.1.10", [shop.open], name="app")
    b.nacl(shop.vpc, [shop.app], [acl_entry(100, "deny", True, "8.8.8.0/24"),
                                  *[acl_entry(200, "allow", e) for e in (False, True)]])
    snap = load(b, tmp_path)
    both = snap.explain(app, "8.8.8.8", 443)  # the app subnet is on the main table: no route out either
    assert [(x.kind, x.reason) for x in both.blockers] == [
        ("network-acl", "SUBNET_ACL_RESTRICTION"), ("route-table", "NO_ROUTE_TO_DESTINATION")]
    assert snap.explain(app, "web", 443).verdict == "ACCEPT"


def test_overlapping_prefix_lists_are_an_ambiguity_the_answer_names(shop: Shop, tmp_path: Path) -> None:
    """E.4: with overlapping prefix lists to different targets AWS "randomly choose[s] which route takes
    priority. Thereafter, the same route always takes priority". The snapshot cannot say which; reach
    follows the first route in the snapshot's order and says so in a note (so the verdict below could be the
    other one in the account)."""
    b = shop.b
    app = b.interface(shop.app, "10.0.1.10", [shop.open], name="app")
    nat = b.nat_gateway(shop.public, "10.0.0.50", "54.0.0.50")
    first, second = b.prefix_list("partners", ["198.51.100.0/24"]), b.prefix_list("vendors", ["198.51.100.0/24"])
    b.route_table(shop.vpc, [shop.app], [
        {"DestinationPrefixListId": first, "NatGatewayId": nat, "State": "active"},
        {"DestinationPrefixListId": second, "NatGatewayId": "nat-0gone", "State": "blackhole"},
    ])
    out = load(b, tmp_path).explain(app, "198.51.100.7", 443)
    assert out.verdict == "ACCEPT"
    assert any("AWS picks one at random" in n and "nat-0gone" in n for n in out.notes)
    alone = load(b, tmp_path / "x").explain(app, "203.0.113.7", 443)  # no prefix list holds it
    assert alone.reason == "NO_ROUTE_TO_DESTINATION"


def test_an_exact_route_for_the_service_range_beats_the_gateway_endpoint_route(shop: Shop, tmp_path: Path) -> None:
    """E.4/E.9: "If there is a route that specifies the exact IP address range for the service … that route
    takes precedence over the endpoint route" (static before prefix list at equal length)."""
    b = shop.b
    s3 = b.prefix_list("com.amazonaws.us-east-1.s3", ["52.216.0.0/15"])
    b.data["VpcEndpoints"] = [{"VpcEndpointId": "vpce-0s3", "VpcEndpointType": "Gateway", "VpcId": shop.vpc,
                               "ServiceName": "com.amazonaws.us-east-1.s3", "State": "available"}]
    app = b.interface(shop.app, "10.0.1.10", [shop.open], name="app")
    table = b.route_table(shop.vpc, [shop.app], [{"DestinationPrefixListId": s3, "GatewayId": "vpce-0s3",
                                                  "State": "active"}])
    via_endpoint = load(b, tmp_path).explain(app, "52.216.1.1", 443)
    assert via_endpoint.verdict == "ACCEPT" and any(h.id == "vpce-0s3" for h in via_endpoint.hops)
    shop.table(table)["Routes"].append(route("52.216.0.0/15", GatewayId=shop.igw))
    exact = load(b, tmp_path / "exact").explain(app, "52.216.1.1", 443)
    assert exact.reason == "IGW_PUBLIC_IP_ASSOCIATION_FOR_EGRESS"  # the static route wins: to the IGW, no public IP


def test_an_internet_gateway_attached_elsewhere_carries_nothing(shop: Shop, tmp_path: Path) -> None:
    assert load(shop.b, tmp_path).explain("web", "8.8.8.8", 443).verdict == "ACCEPT"
    shop.b.data["InternetGateways"][0]["Attachments"] = []  # detached
    out = load(shop.b, tmp_path / "detached").explain("web", "8.8.8.8", 443)
    assert (out.verdict, out.reason) == ("REJECT", "BAD_STATE_ATTACHMENT")


def test_the_internet_gateway_drops_egress_to_shared_address_space(shop: Shop, tmp_path: Path) -> None:
    snap = load(shop.b, tmp_path)
    assert snap.explain("web", "8.8.8.8", 443).verdict == "ACCEPT"
    assert snap.explain("web", "100.64.1.1", 443).reason == "IGW_DESTINATION_ADDRESS_NOT_IN_RFC6598_EGRESS"
    assert snap.explain("web", "192.168.1.1", 443).reason == "IGW_DESTINATION_ADDRESS_NOT_IN_RFC1918_EGRESS"


def test_only_an_active_peering_carries_traffic(tmp_path: Path) -> None:
    def story(status: str) -> Snapshot:
        b = SnapshotBuilder()
        a, c = b.vpc("10.0.0.0/16"), b.vpc("10.1.0.0/16")
        sa, sc = b.subnet(a, "10.0.0.0/24"), b.subnet(c, "10.1.0.0/24")
        for vpc, subnet, ip, name in ((a, sa, "10.0.0.10", "a"), (c, sc, "10.1.0.10", "c")):
            b.interface(subnet, ip, [b.security_group(vpc, "open", [tcp(443, "10.0.0.0/8")], [ALL_OUT])], name=name)
        pcx = b.peering(a, c, status=status)
        b.main_table(a)["Routes"].append(route("10.1.0.0/16", VpcPeeringConnectionId=pcx))
        b.main_table(c)["Routes"].append(route("10.0.0.0/16", VpcPeeringConnectionId=pcx))
        return Snapshot.load(b.write(tmp_path / status), cache=False)

    assert story("active").explain("a", "c", 443).verdict == "ACCEPT"
    pending = story("pending-acceptance").explain("a", "c", 443)
    assert (pending.verdict, pending.reason) == ("REJECT", "BAD_STATE")


def test_reserved_subnet_addresses_hold_no_interface(shop: Shop, tmp_path: Path) -> None:
    """E.10: a subnet's base, +1 (router), +2 (DNS), +3 and broadcast are AWS's. +1 and +2 are answered by
    the host (test_audit_filters); +3 and the broadcast address hold nothing, so nothing answers there."""
    snap = load(shop.b, tmp_path)
    for address in ("10.0.0.3", "10.0.0.255"):
        assert snap.explain("web", address, 443).reason == "DESTINATION_ADDRESS_UNASSIGNED", address
    assert snap.explain("web", "10.0.0.2", 53, "udp").verdict == "ACCEPT"


def test_a_gateway_endpoint_carries_only_traffic_that_starts_in_its_vpc(tmp_path: Path) -> None:
    """E.9: a gateway endpoint cannot be used through a transit gateway (nor a peering, nor a VPN). In the
    hub-and-spoke story the hub routes S3 to its endpoint: the hub's own instance gets there, payments'
    traffic, sent to the hub through the transit gateway, does not."""
    ws = Workspace(FIXTURES / "topology-tgw-missing-propagation" / "snapshot", tmp_path / "snapshot")
    hub_rt, payments_rt = "rtb-09ca541cf75330886", "rtb-0a32c6977df1e305b"
    ws.write("prefix-lists.json", {"PrefixLists": [{"PrefixListId": "pl-63a5400a", "PrefixListName":
                                                    "com.amazonaws.us-east-1.s3", "Cidrs": ["52.216.0.0/15"]}]})
    ws.write("vpc-endpoints.json", {"VpcEndpoints": [{
        "VpcEndpointId": "vpce-0s3", "VpcEndpointType": "Gateway", "VpcId": "vpc-065cfc8a2e86d14b8",
        "ServiceName": "com.amazonaws.us-east-1.s3", "State": "available", "RouteTableIds": [hub_rt]}]})

    def routes(data: dict[str, Any]) -> None:
        for table in data["RouteTables"]:
            if table["RouteTableId"] == hub_rt:
                table["Routes"].append({"DestinationPrefixListId": "pl-63a5400a", "GatewayId": "vpce-0s3",
                                        "State": "active", "Origin": "CreateRoute"})
            if table["RouteTableId"] == payments_rt:
                table["Routes"].append(route("52.216.0.0/15", TransitGatewayId="tgw-059fb46d4b469820b"))

    ws.edit("describe-route-tables.json", routes)
    ws.edit("search-transit-gateway-routes-payments-rt.json", lambda d: d["Routes"].append({
        "DestinationCidrBlock": "52.216.0.0/15", "Type": "static", "State": "active",
        "TransitGatewayAttachments": [{"TransitGatewayAttachmentId": "tgw-attach-078e02dc139140aab",
                                       "ResourceType": "vpc"}]}))
    snap = ws.load()
    assert snap.explain("artifacts", "52.216.1.1", 443).verdict == "ACCEPT"
    spoke = snap.explain("payments-api", "52.216.1.1", 443)
    assert (spoke.verdict, spoke.reason) == ("REJECT", "NO_ROUTE_TO_DESTINATION")
    assert spoke.blocked_by is not None and "carries only traffic that starts in" in spoke.blocked_by.detail


def test_block_public_access_is_seen_only_in_flow_logs_and_reconcile_names_it(shop: Shop, tmp_path: Path) -> None:
    """E.5: VPC Block Public Access can drop internet gateway traffic. No describe-* call of the snapshot shows
    it, so explain cannot (it answers ACCEPT from the configuration it has); a flow-log record with
    reject-reason BPA names it, and reconcile attributes that REJECT to it."""
    network = load(shop.b, tmp_path).network
    web = shop.web
    assert load(shop.b, tmp_path / "again").explain("198.51.100.7", "web", 443).verdict == "ACCEPT"
    row = {"version": 8, "account_id": "123456789012", "interface_id": web, "srcaddr": "198.51.100.7",
           "dstaddr": "10.0.0.10", "srcport": 40000, "dstport": 443, "protocol": 6, "packets": 1, "bytes": 60,
           "start": 1_700_000_000, "end": 1_700_000_059, "action": "REJECT", "log_status": "OK",
           "flow_direction": "ingress", "reject_reason": "BPA"}
    result = reconcile(network, [pa.RecordBatch.from_pylist([row], schema=FLOW_LOG_SCHEMA)])
    assert [(b.kind, b.records) for b in result.blocking] == [("vpc-block-public-access", 1)]
