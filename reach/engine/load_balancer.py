"""Walker steps through an ELBv2 load balancer: a listener, then every registered target.

The client's packet reaches a load balancer node (its interface in one Availability Zone) through the
usual checks: the node subnet's network ACL and, for an ALB or an NLB with security groups, the load
balancer's groups. A listener must accept the protocol and port (`ELBV2_LISTENERS_MISMATCH`). The node
then opens a connection to each registered target it may use (its own zone only when cross-zone load
balancing is off): from its own private address, or from the client's when an NLB preserves client IPs,
to the target's registered port. That leg leaves through the node's security groups and subnet and meets
the target's network ACL and groups as any packet would; the target's response comes back to the node.
The answer to the client then leaves the node. Every target is walked, so one unreachable target among
healthy ones is named, not hidden.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reach.engine.packet import NAT_PORTS, Packet, port_text
from reach.model.addr import format_address
from reach.model.load_balancer import LoadBalancer, Target, TargetGroup
from reach.model.network import Interface
from reach.model.rules import describe_match
from reach.model.vocabulary import Direction

if TYPE_CHECKING:
    from reach.engine.walk import Arrival, Walker


def at_load_balancer(walker: Walker, balancer: LoadBalancer, node: Interface, packet: Packet) -> Arrival | None:
    """`packet` has reached `node`, an interface of `balancer` (filters already crossed)."""
    if walker.return_path:  # a target's response, back at the node that opened the connection
        walker.hop(
            "load-balancer",
            balancer.short_id,
            f"{balancer.label} node {node.id} takes the target's response",
            direction="ingress",
        )
        return ("interface", node.id, packet)
    zone = walker.network.subnets[node.subnet_id].az if node.subnet_id in walker.network.subnets else None
    walker.hop(
        "load-balancer",
        balancer.short_id,
        f"{balancer.label} node {node.id} in {zone} receives "
        f"{describe_match(packet.protocol, packet.dst_ports, (packet.code, packet.code))}",
        direction="ingress",
    )
    if balancer.state != "active":
        walker.block("load-balancer", balancer.short_id, "BAD_STATE", f"{balancer.label} is {balancer.state}")
        return None
    listener = next((x for x in balancer.listeners if x.accepts(packet.protocol, packet.dst_ports[0])), None)
    if listener is None:
        walker.block(
            "load-balancer",
            balancer.short_id,
            "ELBV2_LISTENERS_MISMATCH",
            f"{balancer.label} has no listener for {describe_match(packet.protocol, packet.dst_ports, (0, 255))}"
            f" (listeners: {', '.join(x.label for x in balancer.listeners) or 'none in the snapshot'})"
            + _port_hint(walker, balancer, packet),
            direction="ingress",
        )
        return None
    walker.hop(
        "load-balancer",
        balancer.short_id,
        f"listener {listener.label} of {balancer.label} accepts it",
        direction="ingress",
        rule=listener.port,
    )
    if "forward" not in listener.actions:
        action = listener.actions[0] if listener.actions else "no action"
        walker.notes.append(
            f"listener {listener.label} of {balancer.label} answers itself ({action}): no target is involved"
        )
        return ("interface", node.id, packet)
    targets = _targets(walker, balancer, node, zone, listener.target_groups)
    if targets is None:
        return None
    saved_alive = walker.alive
    reached = 0
    for group, target in targets:
        walker.alive = saved_alive
        before = len(walker.blockers)
        _to_target(walker, balancer, node, group, target, packet)
        reached += len(walker.blockers) == before
    walker.alive = saved_alive and reached == len(targets)
    walker.return_path = False
    if targets and reached < len(targets):
        through = f"from its node {node.id} in {zone}"
        walker.notes.append(
            f"{balancer.label}: no target is reachable {through}: every request it takes fails"
            if reached == 0
            else f"{balancer.label}: {reached} of {len(targets)} targets reachable {through}; "
            "requests it sends to the others fail"
        )
    return ("interface", node.id, packet)


def _port_hint(walker: Walker, balancer: LoadBalancer, packet: Packet) -> str:
    port = packet.dst_ports[0]
    for listener in balancer.listeners:
        for arn in listener.target_groups:
            group = walker.network.balancing.target_groups.get(arn)
            if group and any((t.port or group.port) == port for t in group.targets):
                return (
                    f"; {port} is the targets' port behind listener {listener.label}: clients connect to "
                    f"the listener's port"
                )
    return ""


def _targets(
    walker: Walker, balancer: LoadBalancer, node: Interface, zone: str | None, arns: tuple[str, ...]
) -> list[tuple[TargetGroup, Target]] | None:
    """The (group, target) pairs this node sends to, or None when a blocker ends the path here."""
    found: list[tuple[TargetGroup, Target]] = []
    for arn in arns:
        group = walker.network.balancing.target_groups.get(arn)
        if group is None:
            walker.block(
                "load-balancer",
                balancer.short_id,
                "UNKNOWN_RESOURCE",
                f"{balancer.label} forwards to target group {arn}, which is not in the snapshot: reach assumed "
                "no target receives the traffic",
            )
            return None
        if not group.targets_known:
            walker.notes.append(
                f"the targets of {group.label} are not in the snapshot (aws elbv2 describe-target-health): "
                "the path is followed only to the load balancer"
            )
            continue
        if not group.targets:
            walker.block(
                "load-balancer",
                balancer.short_id,
                "ELBV2_LISTENER_HAS_NO_TG",
                f"{group.label}, where {balancer.label} forwards, has no registered targets",
            )
            return None
        found += [(group, t) for t in group.targets]
    if balancer.cross_zone or not found:
        return found
    local = [(g, t) for g, t in found if t.az in (zone, "all", None)]
    if not local:
        zones = ", ".join(sorted({t.az or "?" for _, t in found}))
        walker.block(
            "load-balancer",
            balancer.short_id,
            "ELBV2_NO_TARGETS_IN_AZ",
            f"cross-zone load balancing is off on {balancer.label} and its node in {zone} has no target there "
            f"(targets are in {zones})",
            fix_context={
                "fix": "aws elbv2 modify-load-balancer-attributes "
                f"--load-balancer-arn {balancer.arn} --attributes Key=load_balancing.cross_zone.enabled,Value=true"
            },
        )
        return None
    if len(local) < len(found):
        walker.notes.append(
            f"cross-zone load balancing is off on {balancer.label}: its node in {zone} sends only to "
            f"the {len(local)} targets in {zone}"
        )
    return local


def _to_target(
    walker: Walker,
    balancer: LoadBalancer,
    node: Interface,
    group: TargetGroup,
    target: Target,
    packet: Packet,
) -> None:
    """One target leg: node -> target, then the target's response back to the node."""
    walker.return_path = False
    walker.tgw_sg_refs = None  # a new connection, from the node
    health = f", {target.health}" if target.health else ""
    if target.address is None or target.address[0] != packet.family or node.primary_ip is None:
        why = "a Lambda function" if group.target_type == "lambda" else "not in the snapshot"
        walker.notes.append(f"target {target.id} of {group.label} is {why}: its leg is not followed")
        return
    preserve = balancer.kind == "network" and group.preserve_client_ip
    source = (
        packet.src if preserve else next((v for f, v in node.private_ips if f == packet.family), node.primary_ip[1])
    )
    port = target.port if target.port is not None else packet.dst_ports[0]
    leg = packet.with_(
        src=source,
        dst=target.address[1],
        dst_ports=(port, port),
        src_ports=packet.src_ports if preserve else (NAT_PORTS if packet.protocol in (6, 17) else packet.src_ports),
    )
    walker.hop(
        "load-balancer",
        balancer.short_id,
        f"{balancer.label} sends it to target {target.id} ({format_address(*target.address)}:{port}{health}) "
        f"from {leg.src_text}" + (" (client IP preserved)" if preserve else ""),
        direction="egress",
    )
    record = walker.observe(node.id, "egress", leg)
    node_subnet = walker.network.subnets[node.subnet_id]
    leaving = not any(c.contains(leg.family, leg.dst) for c in node_subnet.cidrs)
    filtered = walker.decide(node, node_subnet, Direction.EGRESS, leg, record, crossing=leaving)
    if node.groups:
        walker.security_groups(filtered)
    arrival = walker.route(node_subnet, leg, record, filtered)
    if arrival is None or arrival[0] != "interface":
        return
    response = arrival[2].response()
    if response is None:
        return
    walker.return_path = True
    receiver = walker.network.interfaces[arrival[1]]
    if not preserve:
        walker.send(receiver, response)
        return
    # The target answers the client's address; the load balancer takes the answer back in its own subnet.
    record = walker.observe(receiver.id, "egress", response)
    walker.hop(
        "network-interface",
        receiver.id,
        f"{receiver.label} answers {response.dst_text} port "
        f"{port_text(response.dst_ports)}; {balancer.label} carries it back",
        direction="egress",
    )
    target_subnet = walker.network.subnets[receiver.subnet_id]
    crossing = target_subnet.id != node_subnet.id
    filtered = walker.decide(receiver, target_subnet, Direction.EGRESS, response, record, crossing=crossing)
    walker.security_groups(filtered)
    if crossing:
        walker.network_acl(filtered)
        walker.subnet_boundary(node_subnet, Direction.INGRESS, response, None)
    walker.hop(
        "load-balancer",
        balancer.short_id,
        f"{balancer.label} node {node.id} takes the target's response",
        direction="ingress",
    )
