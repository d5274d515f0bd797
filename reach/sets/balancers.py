"""Internet-facing load balancers as a way in: which node sends which listener to which target.

The selection follows the walker's load balancer step (reach.engine.load_balancer): a node forwards a
listener's traffic to every registered target of its target groups, only its own zone's when cross-zone
load balancing is off; a target whose address is not in the snapshot (a Lambda function, another
account) is not followed, and said.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from reach.model.addr import IPV4
from reach.model.load_balancer import LISTENER_PROTOCOLS, Listener, LoadBalancer, Target, TargetGroup
from reach.model.network import Interface, Network


@dataclass(frozen=True)
class Forward:
    """One node's listener to one target: the internet opens `protocol`/`listener.port` at the node, the
    target receives it on `port`."""

    balancer: LoadBalancer
    node: Interface
    listener: Listener
    group: TargetGroup
    target: Target
    interface: Interface
    protocol: int
    port: int

    @property
    def preserves_client(self) -> bool:
        return self.balancer.kind == "network" and self.group.preserve_client_ip


def internet_facing(network: Network) -> list[LoadBalancer]:
    return [
        b
        for b in network.balancing.balancers.values()
        if b.scheme == "internet-facing" and b.state == "active" and b.kind in ("application", "network")
    ]


def listeners_of(balancer: LoadBalancer) -> list[tuple[Listener, int]]:
    """(listener, IP protocol) for every listener with a port."""
    return [
        (listener, protocol)
        for listener in balancer.listeners
        if listener.port is not None
        for protocol in LISTENER_PROTOCOLS.get(listener.protocol.upper(), (6,))
    ]


def forwards(network: Network, balancer: LoadBalancer, notes: list[str]) -> Iterator[Forward]:
    """Every (node, listener, target) the balancer forwards over IPv4, with what is not followed in `notes`."""
    for node_id in balancer.interfaces:
        node = network.interfaces.get(node_id)
        if node is None:
            continue
        subnet = network.subnets.get(node.subnet_id)
        zone = subnet.az if subnet else None
        for listener, protocol in listeners_of(balancer):
            if "forward" not in listener.actions or listener.port is None:
                continue
            for arn in listener.target_groups:
                group = network.balancing.target_groups.get(arn)
                if group is None or not group.targets_known:
                    notes.append(f"{balancer.label}: the targets of {arn if group is None else group.label} are not "
                                 "in the snapshot, so what the internet opens on them is not known")
                    continue
                for target in group.targets:
                    if not balancer.cross_zone and target.az not in (zone, "all", None):
                        continue
                    interface = network.interfaces.get(target.interface_id or "")
                    if interface is None or target.address is None or target.address[0] != IPV4:
                        notes.append(f"{balancer.label}: target {target.id} of {group.label} is not an interface of "
                                     "the snapshot: not followed")
                        continue
                    port = target.port if target.port is not None else listener.port
                    yield Forward(balancer, node, listener, group, target, interface, protocol, port)
