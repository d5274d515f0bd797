"""The path graph: interfaces, subnets, route tables, VPC routers, gateways and peering connections as
nodes; the hops a packet can take as edges. Built once per network and reused by every query."""

from __future__ import annotations

from typing import TYPE_CHECKING

from reach.model.network import Network

if TYPE_CHECKING:
    import networkx as nx

INTERNET = "internet"


def vpc_router(vpc_id: str) -> str:
    return f"router:{vpc_id}"


def build_path_graph(network: Network) -> nx.MultiDiGraph:
    import networkx as nx  # here, not at the top: explain's start-up does not wait for it

    graph = nx.MultiDiGraph()
    graph.add_node(INTERNET, kind="internet")
    for vpc in network.vpcs.values():
        graph.add_node(vpc_router(vpc.id), kind="vpc-router", vpc=vpc.id)
    for subnet in network.subnets.values():
        graph.add_node(subnet.id, kind="subnet")
        # Leaving or entering a subnet crosses its network ACL.
        graph.add_edge(subnet.id, vpc_router(subnet.vpc_id), kind="subnet-egress", nacl=subnet.nacl)
        graph.add_edge(vpc_router(subnet.vpc_id), subnet.id, kind="subnet-ingress", nacl=subnet.nacl)
        if subnet.route_table:
            graph.add_edge(subnet.id, subnet.route_table, kind="uses-route-table")
    for interface in network.interfaces.values():
        graph.add_node(interface.id, kind="network-interface")
        graph.add_edge(interface.id, interface.subnet_id, kind="send")
        graph.add_edge(interface.subnet_id, interface.id, kind="deliver")
    for table in network.route_tables.values():
        graph.add_node(table.id, kind="route-table")
        for route in table.routes:
            target = vpc_router(table.vpc_id) if route.target_kind == "local" else route.target_id
            graph.add_edge(table.id, target, kind="route", destination=route.destination, state=route.state)
    for gateway in network.gateways.values():
        graph.add_node(gateway.id, kind=gateway.kind)
        for vpc_id in gateway.vpc_ids:
            graph.add_edge(gateway.id, vpc_router(vpc_id), kind="gateway-to-vpc")
        if gateway.kind in ("internet-gateway", "egress-only-internet-gateway"):
            graph.add_edge(gateway.id, INTERNET, kind="to-internet")
            if gateway.kind == "internet-gateway":
                graph.add_edge(INTERNET, gateway.id, kind="from-internet")
        if gateway.kind == "nat-gateway" and gateway.subnet_id:
            graph.add_edge(gateway.id, gateway.subnet_id, kind="send")
            graph.add_edge(gateway.subnet_id, gateway.id, kind="deliver")
    _add_transit(graph, network)
    _add_load_balancers(graph, network)
    for peering in network.peerings.values():
        graph.add_node(peering.id, kind="vpc-peering-connection", status=peering.status)
        for side in (peering.requester, peering.accepter):
            if side.vpc_id in network.vpcs:
                graph.add_edge(peering.id, vpc_router(side.vpc_id), kind="peer")
    return graph


def _add_transit(graph: nx.MultiDiGraph, network: Network) -> None:
    """Transit gateways: each attachment links its gateway to a VPC router, a peer gateway, or the outside
    (VPN, Direct Connect); route tables hang off their gateway with an edge to each attachment they route to."""
    transit = network.transit
    for gateway in transit.gateways.values():
        graph.add_node(gateway.id, kind="transit-gateway", region=gateway.region)
    for attachment in transit.attachments.values():
        graph.add_node(attachment.id, kind="transit-gateway-attachment", attachment=attachment.kind)
        graph.add_edge(attachment.id, attachment.tgw_id, kind="attach", state=attachment.state)
        graph.add_edge(attachment.tgw_id, attachment.id, kind="attach", state=attachment.state)
        if attachment.kind == "vpc" and attachment.resource_id in network.vpcs:
            router = vpc_router(attachment.resource_id)
            for _, subnet_id in attachment.subnets:
                graph.add_edge(attachment.id, subnet_id, kind="deliver")
                graph.add_edge(subnet_id, attachment.id, kind="send")
            graph.add_edge(attachment.id, router, kind="attach")
        elif attachment.kind == "peering" and attachment.resource_id in transit.gateways:
            graph.add_edge(attachment.id, attachment.resource_id, kind="peer")
        elif attachment.kind != "peering":
            graph.add_edge(attachment.id, INTERNET, kind="leaves-snapshot")
    for table in transit.route_tables.values():
        graph.add_node(table.id, kind="transit-gateway-route-table")
        if table.tgw_id:
            graph.add_edge(table.tgw_id, table.id, kind="has-route-table")
        for route in table.routes:
            for target in route.attachments:
                graph.add_edge(table.id, target, kind="route", destination=route.destination, state=route.state)


def _add_load_balancers(graph: nx.MultiDiGraph, network: Network) -> None:
    """A load balancer is reached at its nodes' interfaces and sends to each target's interface."""
    balancing = network.balancing
    for balancer in balancing.balancers.values():
        graph.add_node(balancer.short_id, kind="load-balancer", lb_type=balancer.kind)
        for interface_id in balancer.interfaces:
            graph.add_edge(interface_id, balancer.short_id, kind="listener")
        for listener in balancer.listeners:
            for arn in listener.target_groups:
                group = balancing.target_groups.get(arn)
                for target in group.targets if group else ():
                    if target.interface_id:
                        graph.add_edge(balancer.short_id, target.interface_id, kind="forward", port=target.port)
