"""The path graph: the network's topology as a networkx MultiDiGraph, built once per network.

The walker reads its adjacency here (through `reach.engine.topology`): which gateway serves a VPC, which
NAT gateway sits at an address of a subnet, which interface a gateway owns, what a peering connects, which
attachments a transit gateway has. Set queries traverse the same graph.

Nodes are keyed by AWS id (a VPC's router by `router:<vpc id>`, a load balancer by `app/<name>/<id>`) and
carry `kind`, `known` (False: the snapshot references the resource but does not describe it) and, for a
resource the snapshot describes, `item`: the compiled model object. Node kinds:

- `internet`: the one node for every address outside AWS; `outside`: the far side of a VPN, Direct
  Connect gateway or Connect attachment
- `vpc-router`: a VPC's implicit router (attr `vpc`), for every VPC the snapshot describes or holds
  subnets, interfaces or route tables of
- `subnet` (attr `vpc`), also for one an interface or NAT gateway sits in but the snapshot lacks
- `network-interface` (attr `vpc`), `route-table` (attr `vpc`)
- gateways: `internet-gateway`, `egress-only-internet-gateway`, `nat-gateway`, `vpc-endpoint`,
  `vpn-gateway`; and whatever else a route names (`instance`, `local-gateway`, …), known or not
- `vpc-peering-connection` (attr `status`)
- `transit-gateway` (attr `region`), `transit-gateway-route-table`, `transit-gateway-attachment` (attr
  `attachment`: vpc, peering, vpn, …; a peering attachment is one node linked to both its gateways)
- `load-balancer` (attr `lb_type`)

Edge kinds (attr `kind`). Each is a hop a packet can take, except the association edges
`uses-route-table` and `has-route-table`, which say which table routes a subnet's packets and which
tables a VPC or a transit gateway has:

- `send`: interface -> its subnet; NAT gateway -> its subnet; transit gateway attachment -> its subnets
- `deliver`: subnet -> an interface or NAT gateway in it (attr `address` for a NAT gateway); attachment
  subnet -> its attachment
- `subnet-egress`: subnet -> its VPC's router; `subnet-ingress`: router -> subnet (both cross the
  subnet's network ACL, attr `nacl`)
- `uses-route-table`: subnet -> its route table; `has-route-table`: VPC router or transit gateway -> its
  route tables
- `route`: route table -> the target (the VPC's router for `local`), attrs `destination`, `state` and,
  in a VPC, `target_kind`
- `gateway-to-vpc`: gateway -> the router of a VPC it serves (attr `inferred`: the snapshot lacks the
  gateway, and an active route of the VPC names it)
- `owns`: NAT gateway -> its own interface
- `to-internet` / `from-internet`: internet gateway <-> internet (egress-only: out only)
- `peer`: peering -> each side's router; transit gateway peering attachment -> the peer gateway
- `attach`: transit gateway <-> attachment (attrs `state`, `side`: the attachment as that gateway sees it,
  in the gateway's own order); VPC attachment -> the VPC's router
- `leaves-snapshot`: VPN / Direct Connect / Connect attachment -> outside
- `listener`: a load balancer node's interface -> the load balancer; `forward`: load balancer -> a
  registered target's interface (attr `port`)
"""

from __future__ import annotations

import gc
from enum import StrEnum
from typing import TYPE_CHECKING

from reach.model.network import Network
from reach.model.vocabulary import Kind

if TYPE_CHECKING:
    import networkx as nx

INTERNET = "internet"
OUTSIDE = "outside"


class Node(StrEnum):
    """Node kinds the vocabulary's `Kind` does not name (the others are `Kind` values)."""

    INTERNET = "internet"
    OUTSIDE = "outside"
    VPC_ROUTER = "vpc-router"
    SUBNET = "subnet"
    TRANSIT_GATEWAY_ATTACHMENT = "transit-gateway-attachment"


class Edge(StrEnum):
    SEND = "send"
    DELIVER = "deliver"
    SUBNET_EGRESS = "subnet-egress"
    SUBNET_INGRESS = "subnet-ingress"
    USES_ROUTE_TABLE = "uses-route-table"
    ROUTE = "route"
    GATEWAY_TO_VPC = "gateway-to-vpc"
    OWNS = "owns"
    TO_INTERNET = "to-internet"
    FROM_INTERNET = "from-internet"
    PEER = "peer"
    ATTACH = "attach"
    HAS_ROUTE_TABLE = "has-route-table"
    LEAVES_SNAPSHOT = "leaves-snapshot"
    LISTENER = "listener"
    FORWARD = "forward"


def vpc_router(vpc_id: str) -> str:
    return f"router:{vpc_id}"


def build_path_graph(network: Network) -> nx.MultiDiGraph:
    # Tens of thousands of small dicts would trigger full collections that rescan the whole compiled
    # network (two thirds of the build time on 10,000 interfaces); the build frees nothing, so pausing
    # collection until it is done loses nothing.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _build(network)
    finally:
        if enabled:
            gc.enable()


def _build(network: Network) -> nx.MultiDiGraph:
    import networkx as nx  # here, not at the top: explain's start-up does not wait for it

    graph = nx.MultiDiGraph()
    graph.add_node(INTERNET, kind=Node.INTERNET, known=True)
    graph.add_node(OUTSIDE, kind=Node.OUTSIDE, known=True)
    _add_vpcs(graph, network)
    _add_subnets(graph, network)
    _add_route_tables(graph, network)
    _add_gateways(graph, network)
    for peering in network.peerings.values():
        graph.add_node(peering.id, kind=Kind.VPC_PEERING_CONNECTION, known=True, item=peering, status=peering.status)
        for side in (peering.requester, peering.accepter):
            if vpc_router(side.vpc_id) in graph:
                graph.add_edge(peering.id, vpc_router(side.vpc_id), kind=Edge.PEER)
    _add_transit(graph, network)
    _add_load_balancers(graph, network)
    return graph


def _reference(graph: nx.MultiDiGraph, node: str, kind: str, **attrs: object) -> None:
    """A node for something the snapshot names; `known` stays as it is when the node is described."""
    if node not in graph:
        graph.add_node(node, kind=kind, known=False, **attrs)


def _add_vpcs(graph: nx.MultiDiGraph, network: Network) -> None:
    """One router per VPC the snapshot describes or holds subnets, interfaces or route tables of."""
    for vpc in network.vpcs.values():
        graph.add_node(vpc_router(vpc.id), kind=Node.VPC_ROUTER, known=True, item=vpc, vpc=vpc.id)
    for owner in (network.subnets, network.interfaces, network.route_tables):
        for thing in owner.values():
            _reference(graph, vpc_router(thing.vpc_id), Node.VPC_ROUTER, vpc=thing.vpc_id)


def _add_subnets(graph: nx.MultiDiGraph, network: Network) -> None:
    """Subnets the snapshot describes, and those its interfaces and NAT gateways sit in (known=False)."""
    for subnet in network.subnets.values():
        graph.add_node(subnet.id, kind=Node.SUBNET, known=True, item=subnet, vpc=subnet.vpc_id)
    for interface in network.interfaces.values():
        _reference(graph, interface.subnet_id, Node.SUBNET, vpc=interface.vpc_id)
    for gateway in network.gateways.values():
        if gateway.kind == Kind.NAT_GATEWAY and gateway.subnet_id and gateway.vpc_ids:
            _reference(graph, gateway.subnet_id, Node.SUBNET, vpc=gateway.vpc_ids[0])
    subnets = [(node, attrs) for node, attrs in graph.nodes(data=True) if attrs["kind"] == Node.SUBNET]
    for subnet_id, attrs in subnets:
        router = vpc_router(attrs["vpc"])
        if router not in graph:
            continue
        subnet = attrs.get("item")
        # Leaving or entering a subnet crosses its network ACL.
        graph.add_edge(subnet_id, router, kind=Edge.SUBNET_EGRESS, nacl=subnet.nacl if subnet else None)
        graph.add_edge(router, subnet_id, kind=Edge.SUBNET_INGRESS, nacl=subnet.nacl if subnet else None)
        if subnet is not None and subnet.route_table:
            _reference(graph, subnet.route_table, Kind.ROUTE_TABLE)
            graph.add_edge(subnet_id, subnet.route_table, kind=Edge.USES_ROUTE_TABLE)
    for interface in network.interfaces.values():
        graph.add_node(interface.id, kind=Kind.NETWORK_INTERFACE, known=True, item=interface, vpc=interface.vpc_id)
        graph.add_edge(interface.id, interface.subnet_id, kind=Edge.SEND)
        graph.add_edge(interface.subnet_id, interface.id, kind=Edge.DELIVER)


def _add_route_tables(graph: nx.MultiDiGraph, network: Network) -> None:
    for table in network.route_tables.values():
        graph.add_node(table.id, kind=Kind.ROUTE_TABLE, known=True, item=table, vpc=table.vpc_id)
        graph.add_edge(vpc_router(table.vpc_id), table.id, kind=Edge.HAS_ROUTE_TABLE)
    for table in network.route_tables.values():
        for route in table.routes:
            if route.target_kind == "local":
                target = vpc_router(table.vpc_id)
            else:
                target = route.target_id
                _reference(graph, target, route.target_kind)
            graph.add_edge(
                table.id,
                target,
                kind=Edge.ROUTE,
                destination=route.destination,
                state=route.state,
                target_kind=route.target_kind,
            )


def _add_gateways(graph: nx.MultiDiGraph, network: Network) -> None:
    served: set[tuple[str, str]] = set()
    for gateway in network.gateways.values():
        graph.add_node(gateway.id, kind=gateway.kind, known=True, item=gateway)
        for vpc_id in gateway.vpc_ids:
            if vpc_router(vpc_id) in graph:
                graph.add_edge(gateway.id, vpc_router(vpc_id), kind=Edge.GATEWAY_TO_VPC, inferred=False)
                served.add((gateway.id, vpc_id))
        if gateway.kind == Kind.NAT_GATEWAY and gateway.subnet_id in graph:
            graph.add_edge(gateway.id, str(gateway.subnet_id), kind=Edge.SEND)
            graph.add_edge(str(gateway.subnet_id), gateway.id, kind=Edge.DELIVER, address=gateway.private_ip)
        if gateway.interface_id and gateway.interface_id in graph:
            graph.add_edge(gateway.id, gateway.interface_id, kind=Edge.OWNS)
    # An internet gateway that an active route names but the snapshot lacks serves that table's VPC (assumed).
    internet = (Kind.INTERNET_GATEWAY, Kind.EGRESS_ONLY_INTERNET_GATEWAY)
    for table in network.route_tables.values():
        for route in table.routes:
            key = (route.target_id, table.vpc_id)
            if route.state != "active" or route.target_kind not in internet or key in served:
                continue
            if not graph.nodes[route.target_id]["known"]:
                graph.add_edge(route.target_id, vpc_router(table.vpc_id), kind=Edge.GATEWAY_TO_VPC, inferred=True)
                served.add(key)
    for node, attrs in list(graph.nodes(data=True)):
        if attrs["kind"] in internet:
            graph.add_edge(node, INTERNET, kind=Edge.TO_INTERNET)
            if attrs["kind"] == Kind.INTERNET_GATEWAY:
                graph.add_edge(INTERNET, node, kind=Edge.FROM_INTERNET)


def _add_transit(graph: nx.MultiDiGraph, network: Network) -> None:
    """Transit gateways: each attachment links its gateway to a VPC router, a peer gateway, or the outside
    (VPN, Direct Connect); route tables hang off their gateway with an edge to each attachment they route to.
    A gateway's attachment edges are added in the gateway's own order, which the walker relies on."""
    transit = network.transit
    for gateway in transit.gateways.values():
        graph.add_node(gateway.id, kind=Kind.TRANSIT_GATEWAY, known=True, item=gateway, region=gateway.region)
    listed = [
        transit.attachments[(g.id, a)]
        for g in transit.gateways.values()
        for a in g.attachments
        if (g.id, a) in transit.attachments
    ]
    seen = {(a.tgw_id, a.id) for a in listed}
    listed += [a for key, a in transit.attachments.items() if key not in seen]
    for attachment in listed:
        _reference(graph, attachment.tgw_id, Kind.TRANSIT_GATEWAY)
        graph.add_node(attachment.id, kind=Node.TRANSIT_GATEWAY_ATTACHMENT, known=True, attachment=attachment.kind)
        graph.add_edge(attachment.tgw_id, attachment.id, kind=Edge.ATTACH, state=attachment.state, side=attachment)
        graph.add_edge(attachment.id, attachment.tgw_id, kind=Edge.ATTACH, state=attachment.state, side=attachment)
        if attachment.kind == "vpc" and vpc_router(attachment.resource_id or "") in graph:
            for _, subnet_id in attachment.subnets:
                if subnet_id in graph:
                    graph.add_edge(attachment.id, subnet_id, kind=Edge.SEND)
                    graph.add_edge(subnet_id, attachment.id, kind=Edge.DELIVER)
            graph.add_edge(attachment.id, vpc_router(attachment.resource_id or ""), kind=Edge.ATTACH)
        elif attachment.kind == "peering" and attachment.resource_id in transit.gateways:
            graph.add_edge(attachment.id, attachment.resource_id, kind=Edge.PEER)
        elif attachment.kind != "peering":
            graph.add_edge(attachment.id, OUTSIDE, kind=Edge.LEAVES_SNAPSHOT)
    for table in transit.route_tables.values():
        graph.add_node(table.id, kind=Kind.TRANSIT_GATEWAY_ROUTE_TABLE, known=table.known, item=table)
        if table.tgw_id:
            _reference(graph, table.tgw_id, Kind.TRANSIT_GATEWAY)
            graph.add_edge(table.tgw_id, table.id, kind=Edge.HAS_ROUTE_TABLE)
        for route in table.routes:
            for target in route.attachments:
                _reference(graph, target, Node.TRANSIT_GATEWAY_ATTACHMENT)
                graph.add_edge(table.id, target, kind=Edge.ROUTE, destination=route.destination, state=route.state)


def _add_load_balancers(graph: nx.MultiDiGraph, network: Network) -> None:
    """A load balancer is reached at its nodes' interfaces and sends to each target's interface."""
    balancing = network.balancing
    for balancer in balancing.balancers.values():
        graph.add_node(balancer.short_id, kind=Kind.LOAD_BALANCER, known=True, item=balancer, lb_type=balancer.kind)
        for interface_id in balancer.interfaces:
            if interface_id in graph:
                graph.add_edge(interface_id, balancer.short_id, kind=Edge.LISTENER)
        for listener in balancer.listeners:
            for arn in listener.target_groups:
                group = balancing.target_groups.get(arn)
                for target in group.targets if group else ():
                    if target.interface_id in graph:
                        graph.add_edge(balancer.short_id, target.interface_id, kind=Edge.FORWARD, port=target.port)
