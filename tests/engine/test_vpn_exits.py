"""Site-to-Site VPN exits, as a user asks about them (issue 11).

One story: the orders VPC 10.0.0.0/16 has an app subnet routed to its virtual private gateway for the office
(10.50.0.0/16) and, by a default route, for everything else; a public subnet routed to the internet gateway.
The VPN connection has static routes, or BGP; its tunnels are UP or DOWN. The snapshot says nothing about
what lies beyond the gateway, and each answer says so.
"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from reach.api import Snapshot
from reach.engine.explanation import Explanation
from reach.reconcile import observe
from reach.report.explain import render_explanation_text
from tests.builder import ALL_OUT, SnapshotBuilder, tcp
from tests.conftest import FIXTURES

VGW, VPN, CGW = "vgw-0aaaaaaaaaaaaaaa1", "vpn-0aaaaaaaaaaaaaaa1", "cgw-0aaaaaaaaaaaaaaa1"


def vpn_connection(
    *, static: list[str] | None = None, tunnels: tuple[str, ...] = ("UP", "UP"), accepted: int | None = None,
    gateway: str = VGW, connection: str = VPN, state: str = "available", transit: str | None = None,
) -> dict[str, Any]:
    """A describe-vpn-connections entry: static routes (None: BGP), one telemetry entry per tunnel."""
    entry: dict[str, Any] = {
        "VpnConnectionId": connection, "State": state, "Type": "ipsec.1", "CustomerGatewayId": CGW,
        "Options": {"StaticRoutesOnly": static is not None},
        "Routes": [{"DestinationCidrBlock": c, "Source": "Static", "State": "available"} for c in static or []],
        "VgwTelemetry": [
            {"OutsideIpAddress": f"52.0.0.{i + 1}", "Status": s, "AcceptedRouteCount": accepted if accepted is not None
             else len(static or [1]), "StatusMessage": "" if s == "UP" else "IPSEC IS DOWN"}
            for i, s in enumerate(tunnels)
        ],
    }
    entry["TransitGatewayId" if transit else "VpnGatewayId"] = transit or gateway
    return entry


class Office:
    """The orders VPC with its VPN gateway; `write` stores the VPN connections given."""

    def __init__(self) -> None:
        b = self.b = SnapshotBuilder()
        self.vpc = b.vpc("10.0.0.0/16", name="orders")
        self.app = b.subnet(self.vpc, "10.0.1.0/24")
        self.public = b.subnet(self.vpc, "10.0.0.0/24")
        self.igw = b.internet_gateway(self.vpc)
        self.to_office = {"DestinationCidrBlock": "10.50.0.0/16", "GatewayId": VGW, "State": "active"}
        self.default = {"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": VGW, "State": "active"}
        self.app_table = b.route_table(self.vpc, [self.app], [self.to_office, self.default])
        b.route_table(self.vpc, [self.public], [{"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": self.igw,
                                                 "State": "active"}])
        sg = b.security_group(self.vpc, "app", [tcp(443, "10.50.0.0/16"), tcp(443, "192.0.2.0/24")], [ALL_OUT])
        b.interface(self.app, "10.0.1.10", [sg], name="app")
        web = b.security_group(self.vpc, "web", [tcp(443)], [ALL_OUT])
        b.interface(self.public, "10.0.0.10", [web], public_ip="54.0.0.10", name="web")
        b.data["VpnGateways"] = [{"VpnGatewayId": VGW, "State": "available", "Type": "ipsec.1",
                                  "VpcAttachments": [{"VpcId": self.vpc, "State": "attached"}]}]
        b.data["CustomerGateways"] = [{"CustomerGatewayId": CGW, "State": "available", "IpAddress": "198.51.100.1",
                                       "BgpAsn": "65000", "Type": "ipsec.1"}]

    def load(self, tmp_path: Path, *connections: dict[str, Any], **edits: Any) -> Snapshot:
        self.b.data["VpnConnections"] = list(connections)
        for key, value in edits.items():
            self.b.data[key] = value
        return Snapshot.load(self.b.write(tmp_path / "snap"), cache=False)


@pytest.fixture
def office() -> Office:
    return Office()


def blockers(result: Explanation) -> list[tuple[str, str | None, str]]:
    return [(b.kind, b.id, b.reason) for b in result.blockers]


# --- out through the gateway ------------------------------------------------------------------------------


def test_a_static_route_carries_the_flow_out_and_beyond_that_is_unknown(office: Office, tmp_path: Path) -> None:
    snap = office.load(tmp_path, vpn_connection(static=["10.50.0.0/16"]))
    out = snap.explain("app", "10.50.3.4", 443)
    # Nothing the snapshot holds stops it, both ways: ACCEPT. It did not "reach" 10.50.3.4, it left through
    # the VPN towards it: the reason says so, and a note says where (README "Traffic that leaves the snapshot").
    assert (out.verdict, out.reason, out.blocked_by) == ("ACCEPT", "UNKNOWN_DESTINATION", None)
    assert any(f"through {VGW} into {VPN} towards 10.50.0.0/16 (its static route)" in n for n in out.notes)
    exit_hop = next(h for h in out.hops if h.kind == "vpn-gateway" and not h.return_path)
    assert (exit_hop.id, exit_hop.decision) == (VGW, "allow")
    # the response comes back in through the gateway, and the app's interface logs both directions
    assert [(r.direction, r.return_path) for r in out.flow_logs] == [("egress", False), ("ingress", True)]
    # the text's path does not end as if it got there
    console = Console(file=io.StringIO(), width=120)
    render_explanation_text(out, console)
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert text.startswith("ACCEPT  10.0.1.10 → 10.50.3.4 tcp 443  UNKNOWN_DESTINATION")
    assert "vgw ✓ → 10.50.3.4?" in text


def test_the_gateway_drops_what_no_vpn_route_covers_and_names_the_fix(office: Office, tmp_path: Path) -> None:
    snap = office.load(tmp_path, vpn_connection(static=["10.50.0.0/16"]))
    out = snap.explain("app", "8.8.8.8", 443)  # the default route sends it to the VGW, which has no route
    assert (out.verdict, out.reason) == ("REJECT", "NO_ROUTE_TO_DESTINATION")
    assert out.blocked_by is not None and (out.blocked_by.kind, out.blocked_by.id) == ("vpn-gateway", VGW)
    assert f"{VPN} (static) routes only 10.50.0.0/16" in out.blocked_by.detail
    assert out.fix == (
        f"aws ec2 create-vpn-connection-route --vpn-connection-id {VPN} --destination-cidr-block 8.8.8.8/32"
    )
    # Direct Connect is optional in a snapshot: where none is described, the answer says what was assumed
    assert any("no Direct Connect gateways" in a for a in out.assumed)


def test_both_tunnels_down_is_bad_state_vpn(office: Office, tmp_path: Path) -> None:
    snap = office.load(tmp_path, vpn_connection(static=["10.50.0.0/16"], tunnels=("DOWN", "DOWN")))
    out = snap.explain("app", "10.50.3.4", 443)
    assert (out.verdict, out.reason) == ("REJECT", "BAD_STATE_VPN")
    assert out.blocked_by is not None and (out.blocked_by.kind, out.blocked_by.id) == ("vpn-connection", VPN)
    assert "both its tunnels are DOWN (IPSEC IS DOWN)" in out.blocked_by.detail
    # one tunnel UP is enough
    up = office.load(tmp_path / "one", vpn_connection(static=["10.50.0.0/16"], tunnels=("DOWN", "UP")))
    assert up.explain("app", "10.50.3.4", 443).verdict == "ACCEPT"


def test_a_bgp_connection_is_assumed_to_announce_what_it_may_have_learned(office: Office, tmp_path: Path) -> None:
    out = office.load(tmp_path, vpn_connection(static=None)).explain("app", "172.20.1.1", 443)
    assert (out.verdict, out.reason) == ("ACCEPT", "UNKNOWN_DESTINATION")
    assert [a for a in out.assumed if "learns its routes over BGP" in a] == [
        f"{VPN} learns its routes over BGP, which the snapshot does not list: reach assumed it announces 172.20.1.1"
    ]
    # tunnels UP that accepted no route from the customer gateway: BGP learned nothing, the gateway drops it
    nothing = office.load(tmp_path / "zero", vpn_connection(static=None, accepted=0)).explain("app", "172.20.1.1", 443)
    assert (nothing.verdict, nothing.reason) == ("REJECT", "NO_ROUTE_TO_DESTINATION")
    assert "accepted no route from its customer gateway" in (nothing.blocked_by.detail if nothing.blocked_by else "")


def test_an_address_the_snapshot_holds_is_never_reached_by_leaving_it(office: Office, tmp_path: Path) -> None:
    # BGP may carry anything, so the gateway sends 54.0.0.10 (web's public address) out: reach does not
    # pretend it comes back in from on-premises through the internet.
    out = office.load(tmp_path, vpn_connection(static=None)).explain("app", "54.0.0.10", 443)
    assert (out.verdict, out.reason) == ("REJECT", "UNKNOWN_DESTINATION")
    assert out.blocked_by is not None and (out.blocked_by.kind, out.blocked_by.id) == ("vpn-gateway", VGW)
    assert "54.0.0.10 is the public address of" in out.blocked_by.detail and "web" in out.blocked_by.detail
    # the same flow from the public subnet goes out through the internet gateway and comes back in: ACCEPT
    direct = office.load(tmp_path / "web", vpn_connection(static=None)).explain("web", "54.0.0.10", 443)
    assert (direct.verdict, direct.reason) == ("ACCEPT", "ACCEPTED")


def test_a_vpn_gateway_detached_from_the_vpc_carries_nothing(office: Office, tmp_path: Path) -> None:
    assert office.load(tmp_path / "ok", vpn_connection(static=["10.50.0.0/16"])).explain(
        "app", "10.50.3.4", 443).verdict == "ACCEPT"
    detached = [{"VpnGatewayId": VGW, "State": "available",
                 "VpcAttachments": [{"VpcId": "vpc-0other", "State": "attached"}]}]
    snap = office.load(tmp_path, vpn_connection(static=["10.50.0.0/16"]), VpnGateways=detached)
    out = snap.explain("app", "10.50.3.4", 443)
    assert (out.verdict, out.reason) == ("REJECT", "BAD_STATE_ATTACHMENT")


def test_without_vpn_connections_in_the_snapshot_the_gateway_is_assumed_to_carry_it(
    office: Office, tmp_path: Path
) -> None:
    folder = office.b.write(tmp_path / "snap")
    (folder / "VpnConnections.json").unlink(missing_ok=True)
    out = Snapshot.load(folder, cache=False).explain("app", "10.50.3.4", 443)
    assert (out.verdict, out.reason) == ("ACCEPT", "UNKNOWN_DESTINATION")
    assert any(a.startswith("the snapshot has no VpnConnections (describe-vpn-connections)") for a in out.assumed)


# --- in from on-premises ----------------------------------------------------------------------------------


def test_a_public_source_inside_a_static_vpn_route_comes_in_through_the_vpn(office: Office, tmp_path: Path) -> None:
    # 192.0.2.7 is a public address; only the VPN's static route says it is on-premises
    snap = office.load(tmp_path, vpn_connection(static=["10.50.0.0/16", "192.0.2.0/24"]))
    inbound = snap.explain("192.0.2.7", "app", 443)
    assert (inbound.verdict, inbound.reason) == ("ACCEPT", "ACCEPTED"), blockers(inbound)
    assert inbound.hops[0].kind == "vpn-gateway" and f"through {VPN}" in inbound.hops[0].detail
    down = office.load(tmp_path / "down", vpn_connection(static=["10.50.0.0/16", "192.0.2.0/24"],
                                                          tunnels=("DOWN", "DOWN")))
    assert blockers(down.explain("192.0.2.7", "app", 443))[0] == ("vpn-connection", VPN, "BAD_STATE_VPN")


def test_direct_connect_advertises_only_its_allowed_prefixes(office: Office, tmp_path: Path) -> None:
    dx = "dxgw-0123456789abcdef0"
    gateways = [{"directConnectGatewayId": dx, "directConnectGatewayName": "corp", "directConnectGatewayState":
                 "available", "amazonSideAsn": 64512}]
    associations = [{"associationId": "dxa-1", "directConnectGatewayId": dx, "associationState": "associated",
                     "associatedGateway": {"id": VGW, "type": "virtualPrivateGateway"},
                     "allowedPrefixesToDirectConnectGateway": [{"cidr": "10.0.1.0/25"}]}]
    snap = office.load(tmp_path, directConnectGateways=gateways, directConnectGatewayAssociations=associations)
    # no VPN connection: on-premises is behind Direct Connect, which advertises 10.0.1.0/25 only
    assert snap.explain("10.50.3.4", "10.0.1.10", 443).verdict == "ACCEPT"
    outside = snap.explain("10.50.3.4", "10.0.0.10", 443)  # web, 10.0.0.0/24: never advertised
    assert ("direct-connect-gateway", dx, "NO_ROUTE_TO_DESTINATION") in blockers(outside)


# --- route tables and propagation -------------------------------------------------------------------------


def test_a_propagated_vpn_route_never_beats_the_local_route(office: Office, tmp_path: Path) -> None:
    # the office announces 10.0.0.0/24, more specific than nothing but inside the VPC: AWS keeps the local route
    propagated = {"DestinationCidrBlock": "10.0.0.0/24", "GatewayId": VGW, "State": "active",
                  "Origin": "EnableVgwRoutePropagation"}
    table = next(t for t in office.b.data["RouteTables"] if t["RouteTableId"] == office.app_table)
    table["Routes"].append(propagated)
    table["PropagatingVgws"] = [{"GatewayId": VGW}]
    snap = office.load(tmp_path, vpn_connection(static=["10.50.0.0/16", "10.0.0.0/24"]))
    inside = snap.explain("app", "web", 443)
    assert (inside.verdict, inside.reason) == ("ACCEPT", "ACCEPTED")
    assert any(h.kind == "route-table" and h.rule == "10.0.0.0/16" for h in inside.hops)
    assert snap.explain("app", "10.50.0.9", 443).reason == "UNKNOWN_DESTINATION"


def test_a_transit_gateway_vpn_with_both_tunnels_down_is_tgw_bad_state_vpn(tmp_path: Path) -> None:
    folder = tmp_path / "aws_configs"
    shutil.copytree(FIXTURES / "external" / "batfish" / "pybatfish" / "hybrid-cloud" / "aws_configs", folder)
    path = folder / "us-east-2" / "VpnConnections.json"
    up = Snapshot.load(folder, cache=False).explain("203.0.113.12", "10.20.1.207", 22)
    assert (up.verdict, up.reason) == ("ACCEPT", "ACCEPTED")  # comes in from on-premises: it reached its target
    data = json.loads(path.read_text())
    for tunnel in data["VpnConnections"][0]["VgwTelemetry"]:
        tunnel["Status"] = "DOWN"
    path.write_text(json.dumps(data))
    down = Snapshot.load(folder, cache=False).explain("203.0.113.12", "10.20.1.207", 22)
    assert (down.verdict, down.reason) == ("REJECT", "TGW_BAD_STATE_VPN")
    assert down.blocked_by is not None and down.blocked_by.id == "vpn-01c45673532d3e33e"


def test_flow_logs_record_nothing_past_a_drop_at_the_vpn_gateway(office: Office, tmp_path: Path) -> None:
    """`reach explain --flow-logs`: a packet the VPN gateway drops is a routing drop, which no flow log records
    (C.9); the answer says so rather than expecting a record further on."""
    snap = office.load(tmp_path, vpn_connection(static=["10.50.0.0/16"]))
    out = snap.explain("app", "8.8.8.8", 443)
    seen = observe(snap.network, out, [])
    assert [r.predicted for r in seen.records] == ["ACCEPT"]  # the app's own egress, logged as its ACL decided
    assert any(VGW in note and "Routing drops are never logged" in note for note in seen.unreached)
    down = office.load(tmp_path / "down", vpn_connection(static=["10.50.0.0/16"], tunnels=("DOWN", "DOWN")))
    assert any(VPN in note for note in observe(down.network, down.explain("app", "10.50.0.9", 443), []).unreached)


@pytest.mark.parametrize(("propagates", "tunnels", "verdict"), [
    (False, ("UP", "UP"), "NO_ROUTE_TO_DESTINATION"),
    (True, ("UP", "UP"), "UNKNOWN_DESTINATION"),
    (True, ("DOWN", "DOWN"), "NO_ROUTE_TO_DESTINATION"),
])
def test_route_propagation_brings_the_vpn_routes_while_a_tunnel_is_up(
    office: Office, tmp_path: Path, propagates: bool, tunnels: tuple[str, ...], verdict: str
) -> None:
    """A route table with `PropagatingVgws` gets each static route of the gateway's VPN connections while a
    tunnel is UP (Site-to-Site VPN guide, route propagation). The db subnet's table lists only its local
    route: without propagation the answer is the fix that enables it; with it and a tunnel UP, reach assumes
    the propagated route the listing lacks (and says so); with the tunnels DOWN nothing is propagated."""
    db = office.b.subnet(office.vpc, "10.0.2.0/24")
    table = office.b.route_table(office.vpc, [db], [])
    office.b.data["RouteTables"][-1]["PropagatingVgws"] = [{"GatewayId": VGW}] if propagates else []
    office.b.interface(db, "10.0.2.10", [office.b.security_group(office.vpc, "db", [], [ALL_OUT])], name="db")
    snap = office.load(tmp_path, vpn_connection(static=["10.50.0.0/16"], tunnels=tunnels))
    out = snap.explain("db", "10.50.3.4", 443)
    assert out.reason == verdict
    if not propagates:
        assert out.fix == f"aws ec2 enable-vgw-route-propagation --route-table-id {table} --gateway-id {VGW}"
    elif verdict == "UNKNOWN_DESTINATION":
        assert any(f"{table} propagates {VGW}" in a and "reach assumed AWS propagated it" in a for a in out.assumed)
    else:
        assert out.blocked_by is not None
        assert "is not propagated while both its tunnels are DOWN" in out.blocked_by.detail
