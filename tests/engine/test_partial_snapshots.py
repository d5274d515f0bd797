"""A snapshot that lacks a whole kind, or one resource others point at, still gets an answer: explain says
what it assumed (a note), and names the missing piece (`UNKNOWN_RESOURCE`) where the path cannot go on.
Never a traceback.

Every story starts from one shop: VPC 10.0.0.0/16 with a public subnet (web, 54.1.1.1, routed to the
internet gateway and over a peering), a private subnet (worker, routed to a NAT gateway in its own subnet)
and an isolated subnet on the main route table (db); and a peer VPC 10.1.0.0/16 (partner) across the
peering. The story deletes a file, or one resource, and asks.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from reach.api import Snapshot
from reach.cli import app
from reach.engine.explanation import Explanation
from tests.builder import SnapshotBuilder, tcp
from tests.conftest import FIXTURES


@pytest.fixture
def shop() -> SnapshotBuilder:
    b = SnapshotBuilder()
    vpc = b.vpc("10.0.0.0/16", name="shop")
    peer_vpc = b.vpc("10.1.0.0/16", name="partner")
    public = b.subnet(vpc, "10.0.0.0/24")
    private = b.subnet(vpc, "10.0.1.0/24")
    isolated = b.subnet(vpc, "10.0.2.0/24")
    egress = b.subnet(vpc, "10.0.3.0/24")
    partner = b.subnet(peer_vpc, "10.1.0.0/24")
    igw = b.internet_gateway(vpc)
    nat = b.nat_gateway(egress, "10.0.3.10", "3.3.3.3")
    pcx = b.peering(vpc, peer_vpc)
    to_partner = {"DestinationCidrBlock": "10.1.0.0/16", "VpcPeeringConnectionId": pcx, "State": "active"}
    to_internet = {"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": igw, "State": "active"}
    b.route_table(vpc, [public, egress], [to_internet, to_partner])
    b.route_table(vpc, [private], [{"DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": nat, "State": "active"}])
    b.route_table(
        peer_vpc, [partner], [{"DestinationCidrBlock": "10.0.0.0/16", "VpcPeeringConnectionId": pcx, "State": "active"}]
    )
    web_sg = b.security_group(vpc, "web", [tcp(443), tcp(22, "10.0.0.0/8")])
    partner_sg = b.security_group(peer_vpc, "partner", [tcp(22, "10.0.0.0/8")])
    b.interface(public, "10.0.0.5", [web_sg], public_ip="54.1.1.1", name="web")
    b.interface(private, "10.0.1.5", [web_sg], name="worker")
    b.interface(isolated, "10.0.2.5", [web_sg], name="db")
    b.interface(partner, "10.1.0.5", [partner_sg], name="partner")
    b.meta = {"public": public, "egress": egress, "nat": nat, "pcx": pcx, "vpc": vpc, "igw": igw}  # type: ignore[attr-defined]
    return b


def without(builder: SnapshotBuilder, tmp_path: Path, *kinds: str, **drop: str) -> Snapshot:
    """Write the snapshot without the files of `kinds`, and without the resources `drop` names (a kind's
    file -> the id of the one resource to leave out of it)."""
    folder = builder.write(tmp_path / "snapshot")
    for kind in kinds:
        (folder / f"{kind}.json").unlink()
    for kind, resource_id in drop.items():
        path = folder / f"{kind}.json"
        data: dict[str, list[dict[str, Any]]] = json.loads(path.read_text())
        data[kind] = [r for r in data[kind] if resource_id not in r.values()]
        path.write_text(json.dumps(data))
    return Snapshot.load(folder, cache=False)


def notes(result: Explanation) -> str:
    return "\n".join(result.notes)


# --- a whole kind missing -------------------------------------------------------------------------


def test_without_vpcs_a_vpc_is_known_by_its_subnets_and_the_peering_reaches_into_it(
    shop: SnapshotBuilder, tmp_path: Path
) -> None:
    snap = without(shop, tmp_path, "Vpcs")
    across = snap.explain("web", "partner", 22)
    assert across.verdict == "ACCEPT", across.blockers
    # the compile assumed both VPCs (their ranges from their local routes), and the answer says so
    assert "is not in the snapshot" in notes(across) and "assumed, its CIDR blocks taken from" in notes(across)
    # db's subnet is on the main table, which describe-route-tables still marks Main: its local route routes it
    local = snap.explain("db", "web", 443)
    assert local.verdict == "ACCEPT"
    assert any(h.kind == "route-table" and h.rule == "10.0.0.0/16" for h in local.hops)
    out = snap.explain("db", "8.8.8.8", 443)
    assert (out.verdict, out.reason) == ("REJECT", "NO_ROUTE_TO_DESTINATION")


def test_without_subnets_each_interface_is_assumed_in_an_unfiltered_subnet_on_the_main_table(
    shop: SnapshotBuilder, tmp_path: Path
) -> None:
    snap = without(shop, tmp_path, "Subnets")
    inside = snap.explain("web", "worker", 22)
    assert inside.verdict == "ACCEPT"
    # the compile assumed each subnet the interfaces name; the answer names those on its path, only those
    web, worker = (snap.network.interfaces[snap.explain(n, "worker", 22).hops[0].id] for n in ("web", "worker"))
    assert f"subnet {web.subnet_id} is not in the snapshot: assumed" in notes(inside)
    assert f"subnet {worker.subnet_id} is not in the snapshot: assumed" in notes(inside)
    assert len(inside.notes) == 2


def test_without_route_tables_only_the_local_route_is_assumed(shop: SnapshotBuilder, tmp_path: Path) -> None:
    snap = without(shop, tmp_path, "RouteTables")
    assert any("no route table in the snapshot" in w for w in snap.warnings)
    assert snap.explain("web", "worker", 22).verdict == "ACCEPT"
    out = snap.explain("web", "8.8.8.8", 443)
    assert (out.verdict, out.reason) == ("REJECT", "NO_ROUTE_TO_DESTINATION")
    # said as what reach assumed, never as a fact about the subnet
    assert out.blocked_by is not None
    assert out.blocked_by.detail.startswith("the snapshot has no RouteTables (describe-route-tables): reach assumed")
    assert "the snapshot has no RouteTables (describe-route-tables)" in out.assumed[0]


def test_without_network_acls_subnet_boundaries_are_assumed_open(shop: SnapshotBuilder, tmp_path: Path) -> None:
    result = without(shop, tmp_path, "NetworkAcls").explain("web", "worker", 22)
    assert result.verdict == "ACCEPT"
    # never "the subnet has no network ACL": the snapshot simply has no NetworkAcls file, and the answer says so
    acl_hops = [h for h in result.hops if h.kind == "network-acl"]
    assert acl_hops and all(h.detail.startswith("the snapshot has no NetworkAcls") for h in acl_hops)
    assert result.assumed == [
        "the snapshot has no NetworkAcls (describe-network-acls): reach assumed every network ACL allows all traffic"
    ]
    assert result.assumed[0] in result.notes  # JSON `notes` carries it too


def test_without_security_groups_their_rules_are_unknown_and_allow_nothing(
    shop: SnapshotBuilder, tmp_path: Path
) -> None:
    result = without(shop, tmp_path, "SecurityGroups").explain("web", "worker", 22)
    assert (result.verdict, result.reason) == ("REJECT", "ENI_SG_RULES_MISMATCH")
    assert result.blocked_by is not None
    assert "the snapshot has no SecurityGroups (describe-security-groups)" in result.blocked_by.detail
    assert any("as allowing nothing" in a for a in result.assumed)


def test_without_internet_gateways_the_one_the_routes_name_is_assumed_both_ways(
    shop: SnapshotBuilder, tmp_path: Path
) -> None:
    igw = shop.meta["igw"]  # type: ignore[attr-defined]
    snap = without(shop, tmp_path, "InternetGateways")
    inbound = snap.explain("203.0.113.9", "web", 443)
    assert inbound.verdict == "ACCEPT", inbound.blockers
    assert f"{igw} is not in the snapshot: assumed to be an internet gateway" in notes(inbound)
    assert [h.id for h in inbound.hops if h.kind == "internet-gateway"] == [igw, igw]
    assert snap.explain("web", "8.8.8.8", 443).verdict == "ACCEPT"


def test_without_nat_gateways_the_routes_target_is_unknown(shop: SnapshotBuilder, tmp_path: Path) -> None:
    result = without(shop, tmp_path, "NatGateways").explain("worker", "1.1.1.1", 443)
    assert (result.verdict, result.reason) == ("REJECT", "UNKNOWN_RESOURCE")
    assert result.blocked_by is not None and result.blocked_by.kind == "nat-gateway"


def test_without_peering_connections_the_path_leaves_the_snapshot_there(shop: SnapshotBuilder, tmp_path: Path) -> None:
    pcx = shop.meta["pcx"]  # type: ignore[attr-defined]
    result = without(shop, tmp_path, "VpcPeeringConnections").explain("web", "partner", 22)
    assert f"{pcx} is not in the snapshot: the path leaves what reach can see there" in notes(result)
    assert any(h.kind == "vpc-peering-connection" and h.id == pcx and h.return_path for h in result.hops)


# --- one resource missing ---------------------------------------------------------------------------


def test_an_interface_whose_subnet_is_unknown_is_routed_by_the_main_table_and_said_so(
    shop: SnapshotBuilder, tmp_path: Path
) -> None:
    public = shop.meta["public"]  # type: ignore[attr-defined]
    snap = without(shop, tmp_path, Subnets=public)
    inside = snap.explain("web", "worker", 22)
    assert inside.verdict == "ACCEPT", inside.blockers
    assert f"subnet {public} is not in the snapshot: assumed" in notes(inside)
    # describe-route-tables still associates the missing subnet with its own table: that table routes it out
    out = snap.explain("web", "8.8.8.8", 443)
    assert out.verdict == "ACCEPT", out.blockers
    assert any(h.kind == "internet-gateway" for h in out.hops)
    inbound = snap.explain("203.0.113.9", "web", 443)
    assert inbound.verdict == "ACCEPT", inbound.blockers


def test_a_nat_gateway_whose_subnet_is_unknown_goes_on_through_the_assumed_subnet_and_says_so(
    shop: SnapshotBuilder, tmp_path: Path
) -> None:
    egress = shop.meta["egress"]  # type: ignore[attr-defined]
    snap = without(shop, tmp_path, Subnets=egress)
    result = snap.explain("worker", "1.1.1.1", 443)
    assert result.verdict == "ACCEPT", result.blockers
    assert f"subnet {egress} is not in the snapshot: assumed" in notes(result)
    # a connection started from the internet to its public address is still dropped for want of a session
    assert snap.explain("203.0.113.9", "3.3.3.3", 443).reason == "NAT_GATEWAY_NO_SESSION"


def test_a_vpc_missing_from_describe_vpcs_is_explained_from_the_command_line(
    shop: SnapshotBuilder, tmp_path: Path
) -> None:
    folder = shop.write(tmp_path / "snapshot")
    (folder / "Vpcs.json").unlink()
    result = CliRunner().invoke(app, ["explain", "web", "partner", "22", "--snapshot", str(folder), "--format", "json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["verdict"] == "ACCEPT"
    assert any("is not in the snapshot" in note and "assumed" in note for note in body["notes"])


# --- transit gateways: the hub-and-spoke story without some of its listings -------------------------

TGW_STORY = FIXTURES / "topology-tgw-missing-propagation" / "snapshot"


def _story_without(tmp_path: Path, name: str) -> Snapshot:
    folder = tmp_path / "tgw"
    shutil.copytree(TGW_STORY, folder)
    (folder / name).unlink()
    return Snapshot.load(folder, cache=False)


def test_a_vpc_attachment_whose_subnets_are_not_listed_is_unknown_not_missing_a_zone(tmp_path: Path) -> None:
    result = _story_without(tmp_path, "describe-transit-gateway-vpc-attachments.json").explain(
        "orders-api", "artifacts", 443
    )
    assert (result.verdict, result.reason) == ("REJECT", "UNKNOWN_RESOURCE")
    assert result.blocked_by is not None and result.blocked_by.kind == "transit-gateway"
    assert "does not list the subnets of" in result.blocked_by.detail


def test_without_describe_transit_gateways_the_gateway_is_assumed_available(tmp_path: Path) -> None:
    snap = _story_without(tmp_path, "describe-transit-gateways.json")
    assert any("assumed available" in w for w in snap.warnings)
    # the story's own answer: the hub's attachment does not propagate into the orders table
    assert snap.explain("orders-api", "artifacts", 443).reason == "TGW_RTB_NO_ROUTE_TO_TGW_ATTACHMENT"
