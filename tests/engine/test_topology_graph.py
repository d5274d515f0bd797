"""The path graph is the topology the walker reads: every node has a kind, every edge is a documented kind,
and the answers the steps ask for (which gateway serves a VPC, which NAT gateway sits at an address, what a
peering connects, which attachments a transit gateway has) come from its edges. Cut an edge and the walk
changes."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import pytest

from reach.api import Snapshot
from reach.engine.graph import INTERNET, Edge, Node, vpc_router
from reach.engine.topology import Topology
from reach.model.vocabulary import Kind
from tests.builder import SnapshotBuilder, tcp
from tests.conftest import FIXTURES


@pytest.fixture
def shop(tmp_path: Path) -> tuple[Snapshot, dict[str, str]]:
    """VPC shop: web in a public subnet (internet gateway), worker behind a NAT gateway, a peering to partner."""
    b = SnapshotBuilder()
    vpc, peer_vpc = b.vpc("10.0.0.0/16"), b.vpc("10.1.0.0/16")
    public, private, partner = (
        b.subnet(vpc, "10.0.0.0/24"),
        b.subnet(vpc, "10.0.1.0/24"),
        b.subnet(peer_vpc, "10.1.0.0/24"),
    )
    igw = b.internet_gateway(vpc)
    nat = b.nat_gateway(public, "10.0.0.10", "3.3.3.3")
    pcx = b.peering(vpc, peer_vpc)
    public_rt = b.route_table(
        vpc, [public], [{"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": igw, "State": "active"}]
    )
    private_rt = b.route_table(
        vpc, [private], [{"DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": nat, "State": "active"}]
    )
    sg = b.security_group(vpc, "web", [tcp(443)])
    web = b.interface(public, "10.0.0.5", [sg], public_ip="54.1.1.1", name="web")
    b.interface(private, "10.0.1.5", [sg], name="worker")
    b.interface(partner, "10.1.0.5", [b.security_group(peer_vpc, "partner", [])], name="partner")
    nat_eni = next(e["NetworkInterfaceId"] for e in b.data["NetworkInterfaces"] if e["InterfaceType"] == "nat_gateway")
    main_rt = b.main_table(vpc)["RouteTableId"]
    ids = dict(
        vpc=vpc,
        peer_vpc=peer_vpc,
        public=public,
        igw=igw,
        nat=nat,
        pcx=pcx,
        web=web,
        nat_eni=nat_eni,
        main_rt=main_rt,
        public_rt=public_rt,
        private_rt=private_rt,
    )
    return Snapshot.load(b.write(tmp_path / "snap"), cache=False), ids


def test_every_node_has_a_kind_and_every_edge_a_documented_kind(shop: tuple[Snapshot, dict[str, str]]) -> None:
    for snapshot in (shop[0], Snapshot.load(FIXTURES / "topology-tgw-missing-propagation" / "snapshot")):
        graph = snapshot.analyzer.topology.graph
        assert all("kind" in attrs and "known" in attrs for _, attrs in graph.nodes(data=True))
        assert {kind for _, _, kind in graph.edges(data="kind")} <= set(Edge)


def test_the_topology_answers_from_the_graphs_edges(shop: tuple[Snapshot, dict[str, str]]) -> None:
    snapshot, ids = shop
    topology = snapshot.analyzer.topology
    assert topology.gateway_of(ids["vpc"], Kind.INTERNET_GATEWAY) == ids["igw"]
    assert topology.gateway_of(ids["peer_vpc"], Kind.INTERNET_GATEWAY) is None
    nat = topology.nat_gateway_at(ids["public"], snapshot.network.gateways[ids["nat"]].private_ip or 0)
    assert nat is not None and nat.id == ids["nat"]
    assert topology.gateway_owning(ids["nat_eni"]) == nat
    assert topology.gateway_owning(ids["web"]) is None
    assert [t.id for t in topology.route_tables_of(ids["vpc"])] == [ids["main_rt"], ids["public_rt"], ids["private_rt"]]
    # what a peering connects: both routers, and the internet reaches only the VPC with a gateway
    assert set(topology.successors(ids["pcx"], Edge.PEER)) == {vpc_router(ids["vpc"]), vpc_router(ids["peer_vpc"])}
    assert topology.successors(INTERNET, Edge.FROM_INTERNET) == [ids["igw"]]


def test_reachability_is_a_set_query_on_the_same_graph(shop: tuple[Snapshot, dict[str, str]]) -> None:
    """What a later `reach reachable` does: which interfaces a hop-by-hop path from the internet can touch."""
    snapshot, ids = shop
    graph = snapshot.analyzer.topology.graph
    hops = nx.subgraph_view(
        graph,
        filter_edge=lambda a, b, k: graph.edges[a, b, k]["kind"] not in (Edge.USES_ROUTE_TABLE, Edge.HAS_ROUTE_TABLE),
    )
    reached = {n for n in nx.descendants(hops, INTERNET) if graph.nodes[n]["kind"] == Kind.NETWORK_INTERFACE}
    assert ids["web"] in reached
    assert {graph.nodes[n]["kind"] for n in nx.descendants(hops, INTERNET)} >= {Node.VPC_ROUTER, Node.SUBNET}


def test_cutting_the_gateways_edge_to_its_vpc_cuts_the_walk(shop: tuple[Snapshot, dict[str, str]]) -> None:
    """The walker asks the graph which internet gateway serves a VPC: without the edge, none does."""
    snapshot, ids = shop
    assert snapshot.explain("203.0.113.9", "web", 443).verdict == "ACCEPT"
    graph = snapshot.analyzer.topology.graph.copy()
    graph.remove_edges_from(
        [(ids["igw"], vpc_router(ids["vpc"]), k) for k in list(graph[ids["igw"]][vpc_router(ids["vpc"])])]
    )
    snapshot.analyzer.topology = Topology(snapshot.network, graph)
    result = snapshot.explain("203.0.113.9", "web", 443)
    assert (result.verdict, result.reason) == ("REJECT", "NO_ROUTE_TO_DESTINATION")
    assert result.blocked_by is not None and "has no internet gateway" in result.blocked_by.detail


def test_a_transit_gateways_attachments_and_tables_come_from_its_edges() -> None:
    snapshot = Snapshot.load(FIXTURES / "topology-tgw-missing-propagation" / "snapshot")
    topology, transit = snapshot.analyzer.topology, snapshot.network.transit
    for gateway in transit.gateways.values():
        assert [a.id for a in topology.transit_attachments(gateway.id)] == list(gateway.attachments)
        assert sorted(t.id for t in topology.transit_route_tables(gateway.id)) == sorted(gateway.route_tables)
        for attachment in topology.transit_attachments(gateway.id):
            assert attachment in topology.attachment_sides(attachment.id)
            assert topology.kind(attachment.id) == Node.TRANSIT_GATEWAY_ATTACHMENT
