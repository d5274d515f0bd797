"""The questions the walker asks of the network's shape, answered from the path graph (`reach.engine.graph`).

Adjacency comes from the graph's edges, grouped by edge kind and neighbour kind on first use per node (a
VPC router has an edge per subnet; the walker asks it for its one internet gateway). What sits at a subnet
or an interface (a NAT gateway, the gateway owning it) is read once from the few gateways' edges, since
every packet asks it. Lookups by address stay with the network's own indexes (`interfaces_at`,
`subnet_of`, `public_owner`).

What the snapshot references but does not describe is answered too, and said so by the caller: a subnet
the snapshot lacks stands in as one with no CIDR and no network ACL, routed by its VPC's main route table;
a VPC the snapshot lacks but whose subnets or interfaces it holds still has a router, and its range is
taken from them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING

from reach.engine.graph import Edge, Node, build_path_graph, vpc_router
from reach.model.network import Gateway, Network, Peering, RouteTable, Subnet
from reach.model.transit import TgwAttachment, TgwRouteTable
from reach.model.vocabulary import Kind

if TYPE_CHECKING:
    import networkx as nx


class Topology:
    """A compiled network and its path graph, built once and read by every walk."""

    def __init__(self, network: Network, graph: nx.MultiDiGraph | None = None) -> None:
        self.network = network
        self.graph = build_path_graph(network) if graph is None else graph
        # node -> (edge kind, None or the neighbour's kind) -> neighbours, grouped on first use
        self._out: dict[str, dict[tuple[str, str | None], list[str]]] = {}
        self._in: dict[str, dict[tuple[str, str | None], list[str]]] = {}
        self._stand_ins: dict[str, Subnet] = {}
        self._at: tuple[dict[tuple[str, int], Gateway], dict[str, Gateway], dict[int, Gateway]] | None = None

    # --- the graph, by edge kind ---------------------------------------------------------------

    def successors(self, node: str, edge: Edge, kind: str | None = None) -> list[str]:
        """Nodes `node` has an edge of kind `edge` to (only those of node kind `kind`, if given), in the order
        the graph was built."""
        grouped = self._out.get(node)
        if grouped is None:
            edges = self.graph.out_edges(node, data="kind") if node in self.graph else []
            grouped = self._out[node] = self._group((far, edge_kind) for _, far, edge_kind in edges)
        return grouped.get((edge, kind), [])

    def predecessors(self, node: str, edge: Edge, kind: str | None = None) -> list[str]:
        """Nodes with an edge of kind `edge` to `node` (only those of node kind `kind`, if given)."""
        grouped = self._in.get(node)
        if grouped is None:
            edges = self.graph.in_edges(node, data="kind") if node in self.graph else []
            grouped = self._in[node] = self._group((far, edge_kind) for far, _, edge_kind in edges)
        return grouped.get((edge, kind), [])

    def _group(self, neighbours: Iterable[tuple[str, str]]) -> dict[tuple[str, str | None], list[str]]:
        """(neighbour, edge kind) pairs -> (edge kind, None or the neighbour's kind) -> distinct neighbours."""
        grouped: dict[tuple[str, str | None], dict[str, None]] = defaultdict(dict)
        nodes = self.graph.nodes
        for neighbour, edge_kind in neighbours:
            grouped[(edge_kind, None)][neighbour] = None
            grouped[(edge_kind, nodes[neighbour]["kind"])][neighbour] = None
        return {key: list(found) for key, found in grouped.items()}

    def kind(self, node: str) -> str | None:
        return self.graph.nodes[node].get("kind") if node in self.graph else None

    def known(self, node: str) -> bool:
        return node in self.graph and bool(self.graph.nodes[node].get("known"))

    def _item(self, node: str) -> object:
        return self.graph.nodes[node].get("item") if node in self.graph else None

    # --- VPCs ------------------------------------------------------------------------------------

    def has_vpc(self, vpc_id: str) -> bool:
        """Does the snapshot hold the VPC, or at least subnets, interfaces or route tables of it?"""
        return vpc_router(vpc_id) in self.graph

    def vpc_known(self, vpc_id: str) -> bool:
        return vpc_id in self.network.vpcs

    def vpc_holds(self, vpc_id: str, family: int, value: int) -> bool:
        """Is the address inside the VPC: its CIDRs, or (a VPC the snapshot lacks) one of its subnets' or an
        address one of its interfaces holds."""
        vpc = self.network.vpcs.get(vpc_id)
        if vpc is not None:
            return any(c.contains(family, value) for c in vpc.cidrs)
        if self.network.subnet_of(vpc_id, family, value) is not None:
            return True
        return self.network.interface_in_vpc(vpc_id, family, value) is not None

    def gateway_of(self, vpc_id: str, kind: Kind) -> str | None:
        """The id of the gateway of `kind` (internet or egress-only) serving the VPC: one the snapshot
        describes first, else one its route tables name (`inferred`)."""
        found = self.predecessors(vpc_router(vpc_id), Edge.GATEWAY_TO_VPC, kind)
        known = [g for g in found if self.known(g)]
        return (known or found)[0] if found else None

    def nat_gateways_of(self, vpc_id: str) -> list[Gateway]:
        return self._gateways(self.predecessors(vpc_router(vpc_id), Edge.GATEWAY_TO_VPC, Kind.NAT_GATEWAY))

    def route_tables_of(self, vpc_id: str) -> list[RouteTable]:
        """The VPC's route tables, in the snapshot's order."""
        found = (self._item(t) for t in self.successors(vpc_router(vpc_id), Edge.HAS_ROUTE_TABLE))
        return [t for t in found if isinstance(t, RouteTable)]

    # --- subnets ---------------------------------------------------------------------------------

    def subnet(self, subnet_id: str, vpc_id: str) -> Subnet:
        """The subnet, or a stand-in for one the snapshot lacks: no CIDR (every packet leaves it), no network
        ACL (the interface decision knows none), routed by the VPC's main route table when that is known."""
        subnet = self.network.subnets.get(subnet_id)
        if subnet is not None:
            return subnet
        stand_in = self._stand_ins.get(subnet_id)
        if stand_in is None:
            vpc = self.network.vpcs.get(vpc_id)
            main = vpc.main_route_table if vpc is not None else None
            stand_in = self._stand_ins[subnet_id] = Subnet(
                id=subnet_id,
                name=None,
                vpc_id=vpc_id,
                cidrs=(),
                az=None,
                route_table=main if main in self.network.route_tables else None,
                route_table_is_main=True,
                nacl=None,
            )
        return stand_in

    def subnet_known(self, subnet_id: str) -> bool:
        return subnet_id in self.network.subnets

    # Every packet that reaches a subnet or an interface asks whether a gateway sits there. Gateways are few
    # and subnets many: their edges are read once, from the gateways' side, into `_at`.

    def nat_gateway_at(self, subnet_id: str, address: int) -> Gateway | None:
        """The NAT gateway in the subnet that holds `address`."""
        return self._gateway_index()[0].get((subnet_id, address))

    def gateway_owning(self, interface_id: str) -> Gateway | None:
        """The gateway whose own interface this is (a NAT gateway's)."""
        return self._gateway_index()[1].get(interface_id)

    def nat_gateway_with_public(self, address: int) -> Gateway | None:
        """The NAT gateway whose public address this is."""
        return self._gateway_index()[2].get(address)

    def _gateway_index(self) -> tuple[dict[tuple[str, int], Gateway], dict[str, Gateway], dict[int, Gateway]]:
        if self._at is None:
            at: dict[tuple[str, int], Gateway] = {}
            owners: dict[str, Gateway] = {}
            public: dict[int, Gateway] = {}
            for gateway in self.network.gateways.values():
                for owned in self.successors(gateway.id, Edge.OWNS):
                    owners.setdefault(owned, gateway)
                if gateway.kind != Kind.NAT_GATEWAY:
                    continue
                if gateway.private_ip is not None:
                    for subnet_id in self.successors(gateway.id, Edge.SEND, Node.SUBNET):
                        at.setdefault((subnet_id, gateway.private_ip), gateway)
                if gateway.public_ip is not None:
                    public.setdefault(gateway.public_ip, gateway)
            self._at = (at, owners, public)
        return self._at

    def _gateways(self, nodes: list[str]) -> list[Gateway]:
        return [g for g in (self._item(n) for n in nodes) if isinstance(g, Gateway)]

    # --- peerings --------------------------------------------------------------------------------

    def peering(self, pcx_id: str) -> tuple[Peering | None, list[str]]:
        """The peering connection, and the VPCs of the snapshot it connects."""
        peering = self._item(pcx_id)
        routers = self.successors(pcx_id, Edge.PEER)
        return (peering if isinstance(peering, Peering) else None), [self.graph.nodes[r]["vpc"] for r in routers]

    # --- transit gateways ------------------------------------------------------------------------

    def transit_attachments(self, tgw_id: str) -> list[TgwAttachment]:
        """The gateway's attachments as it sees them, in its own order."""
        return [
            side
            for side in (self.network.transit.attachment(tgw_id, a) for a in self.successors(tgw_id, Edge.ATTACH))
            if side is not None
        ]

    def attachment_sides(self, attachment_id: str) -> list[TgwAttachment]:
        """An attachment as each gateway it joins sees it (two for a peering attachment)."""
        if self.kind(attachment_id) != Node.TRANSIT_GATEWAY_ATTACHMENT:
            return []
        return [
            side
            for side in (
                self.network.transit.attachment(t, attachment_id) for t in self.successors(attachment_id, Edge.ATTACH)
            )
            if side is not None
        ]

    def transit_route_tables(self, tgw_id: str) -> list[TgwRouteTable]:
        return [
            t
            for t in (self.network.transit.route_tables.get(n) for n in self.successors(tgw_id, Edge.HAS_ROUTE_TABLE))
            if t is not None
        ]

