"""ELBv2 load balancers: a listener, then every registered target.

The client's packet reaches a load balancer node (its interface in one Availability Zone) through the
usual checks: the node subnet's network ACL and, for an ALB or an NLB with security groups, the load
balancer's groups. A listener must accept the protocol and port (`ELBV2_LISTENERS_MISMATCH`). The node
then opens a connection to each registered target it may use (its own zone only when cross-zone load
balancing is off): from its own private address, or from the client's when an NLB preserves client IPs,
to the target's registered port. That leg leaves through the node's security groups and subnet and meets
the target's network ACL and groups as any packet would; the target's response comes back to the node.
The answer to the client then leaves the node. Every target is walked, so one unreachable target among
healthy ones is named, not hidden.

`at_load_balancer` is a generator: it yields each target leg's first move and is sent where it ended.
"""

from __future__ import annotations

from reach.engine.fixes import KnownFix
from reach.engine.leg import Arrival, End, Leg
from reach.engine.moves import AtBalancer, RouteOut, Send, Walks
from reach.engine.packet import NAT_PORTS, Packet, port_text
from reach.engine.steps.filters import decide, inside, network_acl, security_groups, subnet_boundary
from reach.model.addr import format_address
from reach.model.load_balancer import LoadBalancer, Target, TargetGroup
from reach.model.network import Interface
from reach.model.protocols import PORTED
from reach.model.rules import describe_match
from reach.model.vocabulary import Direction, Kind, Reason


def at_load_balancer(leg: Leg, move: AtBalancer) -> Walks:
    """The packet has reached `node`, an interface of `balancer` (filters already crossed)."""
    balancer, node, packet = move.balancer, move.node, move.packet
    lb = balancer.short_id
    if leg.response:  # a target's response, back at the node that opened the connection
        leg.hop(
            Kind.LOAD_BALANCER,
            lb,
            f"{balancer.label} node {node.id} takes the target's response",
            direction=Direction.INGRESS,
        )
        return Arrival(End.INTERFACE, node.id, packet)
    subnet = leg.network.subnets.get(node.subnet_id)
    zone = subnet.az if subnet is not None else None
    leg.hop(
        Kind.LOAD_BALANCER,
        lb,
        f"{balancer.label} node {node.id} in {zone} receives "
        f"{describe_match(packet.protocol, packet.dst_ports, (packet.code, packet.code))}",
        direction=Direction.INGRESS,
    )
    if balancer.state != "active":
        leg.block(Kind.LOAD_BALANCER, lb, Reason.BAD_STATE, f"{balancer.label} is {balancer.state}")
        return None
    listener = next((x for x in balancer.listeners if x.accepts(packet.protocol, packet.dst_ports[0])), None)
    if listener is None:
        leg.block(
            Kind.LOAD_BALANCER,
            lb,
            Reason.ELBV2_LISTENERS_MISMATCH,
            f"{balancer.label} has no listener for {describe_match(packet.protocol, packet.dst_ports, (0, 255))}"
            f" (listeners: {', '.join(x.label for x in balancer.listeners) or 'none in the snapshot'})"
            + _port_hint(leg, balancer, packet),
            direction=Direction.INGRESS,
        )
        return None
    leg.hop(
        Kind.LOAD_BALANCER,
        lb,
        f"listener {listener.label} of {balancer.label} accepts it",
        direction=Direction.INGRESS,
        rule=listener.port,
    )
    if "forward" not in listener.actions:
        action = listener.actions[0] if listener.actions else "no action"
        leg.note(f"listener {listener.label} of {balancer.label} answers itself ({action}): no target is involved")
        return Arrival(End.INTERFACE, node.id, packet)
    targets = _targets(leg, balancer, zone, listener.target_groups)
    if targets is None:
        return None
    saved_alive = leg.trace.alive
    reached = 0
    for group, target in targets:
        leg.trace.alive = saved_alive
        before = len(leg.trace.blockers)
        yield from _to_target(leg, balancer, node, group, target, packet)
        reached += len(leg.trace.blockers) == before
    leg.trace.alive = saved_alive and reached == len(targets)
    leg.response = False
    if targets and reached < len(targets):
        through = f"from its node {node.id} in {zone}"
        leg.note(
            f"{balancer.label}: no target is reachable {through}: every request it takes fails"
            if reached == 0
            else f"{balancer.label}: {reached} of {len(targets)} targets reachable {through}; "
            "requests it sends to the others fail"
        )
    return Arrival(End.INTERFACE, node.id, packet)


def _port_hint(leg: Leg, balancer: LoadBalancer, packet: Packet) -> str:
    port = packet.dst_ports[0]
    for listener in balancer.listeners:
        for arn in listener.target_groups:
            group = leg.network.balancing.target_groups.get(arn)
            if group and any((t.port or group.port) == port for t in group.targets):
                return (
                    f"; {port} is the targets' port behind listener {listener.label}: clients connect to the "
                    "listener's port"
                )
    return ""


def _targets(
    leg: Leg, balancer: LoadBalancer, zone: str | None, arns: tuple[str, ...]
) -> list[tuple[TargetGroup, Target]] | None:
    """The (group, target) pairs this node sends to, or None when a blocker ends the path here."""
    found: list[tuple[TargetGroup, Target]] = []
    for arn in arns:
        group = leg.network.balancing.target_groups.get(arn)
        if group is None:
            leg.block(
                Kind.LOAD_BALANCER,
                balancer.short_id,
                Reason.UNKNOWN_RESOURCE,
                f"{balancer.label} forwards to target group {arn}, which is not in the snapshot: reach assumed "
                "no target receives the traffic",
            )
            return None
        if not group.targets_known:
            leg.assume(
                f"the targets of {group.label} are not in the snapshot (aws elbv2 describe-target-health): "
                "the path is followed only to the load balancer"
            )
            continue
        if not group.targets:
            leg.block(
                Kind.LOAD_BALANCER,
                balancer.short_id,
                Reason.ELBV2_LISTENER_HAS_NO_TG,
                f"{group.label}, where {balancer.label} forwards, has no registered targets",
            )
            return None
        found += [(group, t) for t in group.targets]
    if balancer.cross_zone or not found:
        return found
    local = [(g, t) for g, t in found if t.az in (zone, "all", None)]
    if not local:
        zones = ", ".join(sorted({t.az or "?" for _, t in found}))
        leg.block(
            Kind.LOAD_BALANCER,
            balancer.short_id,
            Reason.ELBV2_NO_TARGETS_IN_AZ,
            f"cross-zone load balancing is off on {balancer.label} and its node in {zone} has no target there "
            f"(targets are in {zones})",
            fix_context=KnownFix(
                "aws elbv2 modify-load-balancer-attributes "
                f"--load-balancer-arn {balancer.arn} --attributes Key=load_balancing.cross_zone.enabled,Value=true"
            ),
        )
        return None
    if len(local) < len(found):
        leg.note(
            f"cross-zone load balancing is off on {balancer.label}: its node in {zone} sends only to "
            f"the {len(local)} targets in {zone}"
        )
    return local


def _to_target(
    leg: Leg, balancer: LoadBalancer, node: Interface, group: TargetGroup, target: Target, packet: Packet
) -> Walks:
    """One target leg: node -> target, then the target's response back to the node."""
    leg.response = False
    leg.groups_kept = None  # a new connection, from the node
    health = f", {target.health}" if target.health else ""
    if target.address is None or target.address[0] != packet.family or node.primary_ip is None:
        why = "a Lambda function" if group.target_type == "lambda" else "not in the snapshot"
        leg.note(f"target {target.id} of {group.label} is {why}: its leg is not followed")
        return None
    preserve = balancer.kind == "network" and group.preserve_client_ip
    source = (
        packet.src if preserve else next((v for f, v in node.private_ips if f == packet.family), node.primary_ip[1])
    )
    port = target.port if target.port is not None else packet.dst_ports[0]
    request = packet.with_(
        src=source,
        dst=target.address[1],
        dst_ports=(port, port),
        src_ports=packet.src_ports if preserve else (NAT_PORTS if packet.protocol in PORTED else packet.src_ports),
    )
    leg.hop(
        Kind.LOAD_BALANCER,
        balancer.short_id,
        f"{balancer.label} sends it to target {target.id} ({format_address(*target.address)}:{port}{health}) "
        f"from {request.src_text}" + (" (client IP preserved)" if preserve else ""),
        direction=Direction.EGRESS,
    )
    record = leg.observe(node.id, Direction.EGRESS, request)
    node_subnet = leg.subnet(node.subnet_id, node.vpc_id, of=node.id)
    filtered = decide(
        leg, node, node_subnet, Direction.EGRESS, request, record, crossing=not inside(node_subnet, request)
    )
    if node.groups:
        security_groups(leg, filtered)
    arrival = yield RouteOut(node_subnet, request, record, filtered)
    if arrival is None or arrival.end != End.INTERFACE:
        return None
    response = arrival.packet.response()
    if response is None:
        return None
    leg.response = True
    receiver = leg.network.interfaces[arrival.id]
    if not preserve:
        yield Send(receiver, response)
        return None
    # The target answers the client's address; the load balancer takes the answer back in its own subnet.
    record = leg.observe(receiver.id, Direction.EGRESS, response)
    leg.hop(
        Kind.NETWORK_INTERFACE,
        receiver.id,
        f"{receiver.label} answers {response.dst_text} port {port_text(response.dst_ports)}; {balancer.label} "
        "carries it back",
        direction=Direction.EGRESS,
    )
    target_subnet = leg.subnet(receiver.subnet_id, receiver.vpc_id, of=receiver.id)
    crossing = target_subnet.id != node_subnet.id
    filtered = decide(leg, receiver, target_subnet, Direction.EGRESS, response, record, crossing=crossing)
    security_groups(leg, filtered)
    if crossing:
        network_acl(leg, filtered)
        subnet_boundary(leg, node_subnet, Direction.INGRESS, response, None)
    leg.hop(
        Kind.LOAD_BALANCER,
        balancer.short_id,
        f"{balancer.label} node {node.id} takes the target's response",
        direction=Direction.INGRESS,
    )
    return None
