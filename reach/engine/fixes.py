"""The smallest change that removes one blocker, as the AWS CLI call that makes it.

The step that finds a blocker knows what the fix needs and says it with a typed context: the whole call
(`KnownFix`, when only that step can word it: transit gateways, endpoints, load balancers), the packet a
filter must let through (`FilterFix`) or the destination a route table must route (`RouteFix`).
"""

from __future__ import annotations

from dataclasses import dataclass

from reach.engine.explanation import Blocker
from reach.engine.packet import Packet, port_text
from reach.model.addr import IPV4, format_address
from reach.model.network import Network
from reach.model.rules import protocol_name
from reach.model.vocabulary import Kind


@dataclass(frozen=True)
class KnownFix:
    """The whole call, worded by the step that found the blocker."""

    call: str


@dataclass(frozen=True)
class FilterFix:
    """What a security group or network ACL must let through: the packet, its peer, and (ACL) the ports."""

    packet: Packet
    peer: int
    ports: tuple[int, int] | None = None


@dataclass(frozen=True)
class RouteFix:
    """A route table must route the packet's destination."""

    packet: Packet


FixContext = KnownFix | FilterFix | RouteFix


def suggest_fix(network: Network, blocker: Blocker, ctx: FixContext | None) -> str | None:
    if isinstance(ctx, KnownFix):
        return ctx.call
    if isinstance(ctx, FilterFix) and blocker.kind == Kind.SECURITY_GROUP:
        return _security_group_fix(network, blocker, ctx)
    if isinstance(ctx, FilterFix) and blocker.kind == Kind.NETWORK_ACL:
        return _nacl_fix(network, blocker, ctx)
    if isinstance(ctx, RouteFix):
        return _route_fix(blocker, ctx.packet)
    if blocker.reason == "BAD_STATE_ROUTE":
        return (
            f"point the blackhole route {blocker.rule} somewhere that exists: aws ec2 replace-route "
            f"--route-table-id {blocker.id} --destination-cidr-block {blocker.rule} --nat-gateway-id <live target>"
        )
    if blocker.reason == "IGW_PUBLIC_IP_ASSOCIATION_FOR_EGRESS":
        return "give the source a public or Elastic IP (aws ec2 associate-address), or route it through a NAT gateway"
    if blocker.reason == "ENI_SOURCE_DEST_CHECK_RESTRICTION":
        return f"aws ec2 modify-network-interface-attribute --network-interface-id {blocker.id} --no-source-dest-check"
    return None


def _protocol_args(packet: Packet, ports: tuple[int, int]) -> tuple[str, str]:
    name = protocol_name(packet.protocol)
    if packet.protocol in (1, 58):
        return name, f"FromPort={ports[0]},ToPort={packet.code}"
    if packet.protocol in (6, 17):
        return name, f"FromPort={ports[0]},ToPort={ports[1]}"
    return "-1", ""


def _route_fix(blocker: Blocker, packet: Packet) -> str:
    cidr = f"{packet.dst_text}/{32 if packet.family == IPV4 else 128}"
    flag = "--destination-cidr-block" if packet.family == IPV4 else "--destination-ipv6-cidr-block"
    if blocker.kind == Kind.TRANSIT_GATEWAY_ROUTE_TABLE:
        return (
            f"add a route for {packet.dst_text} to {blocker.id}: aws ec2 create-transit-gateway-route "
            f"--transit-gateway-route-table-id {blocker.id} --destination-cidr-block {cidr} "
            "--transit-gateway-attachment-id <attachment>"
        )
    return (
        f"add a route for {packet.dst_text} to {blocker.id}: aws ec2 create-route --route-table-id {blocker.id} "
        f"{flag} {cidr} --gateway-id <target>"
    )


def _security_group_fix(network: Network, blocker: Blocker, ctx: FilterFix) -> str:
    packet, peer = ctx.packet, ctx.peer
    group = (blocker.groups or [str(blocker.id)])[0]
    protocol, ports = _protocol_args(packet, packet.dst_ports)
    # Prefer naming the peer's security group (it follows the peer when its address changes).
    peer_interfaces = network.interfaces_at(packet.family, peer)
    peer_groups = peer_interfaces[0].groups if peer_interfaces else ()
    if peer_groups:
        source = f"UserIdGroupPairs=[{{GroupId={peer_groups[0]}}}]"
    elif packet.family == IPV4:
        source = f"IpRanges=[{{CidrIp={format_address(packet.family, peer)}/32}}]"
    else:
        source = f"Ipv6Ranges=[{{CidrIpv6={format_address(packet.family, peer)}/128}}]"
    verb = "ingress" if blocker.direction == "ingress" else "egress"
    spec = ",".join(p for p in (f"IpProtocol={protocol}", ports, source) if p)
    return f"aws ec2 authorize-security-group-{verb} --group-id {group} --ip-permissions {spec}"


def _nacl_fix(network: Network, blocker: Blocker, ctx: FilterFix) -> str:
    packet, peer = ctx.packet, ctx.peer
    ports = ctx.ports or packet.dst_ports
    acl = network.nacls[str(blocker.id)]
    table = acl.ingress if blocker.direction == "ingress" else acl.egress
    rule = blocker.rule if isinstance(blocker.rule, int) else 32767
    used = {line.ref.rule for line in table.lines}
    # An allow must come before the rule that denies: the highest free number below it.
    number = next((n for n in range(min(rule, 32767) - 1, 0, -1) if n not in used), 1)
    side = "--ingress" if blocker.direction == "ingress" else "--egress"
    cidr = f"{format_address(packet.family, peer)}/{32 if packet.family == IPV4 else 128}"
    cidr_flag = "--cidr-block" if packet.family == IPV4 else "--ipv6-cidr-block"
    if packet.protocol in (6, 17):
        match = f"--protocol {packet.protocol} --port-range From={ports[0]},To={ports[1]}"
    elif packet.protocol in (1, 58):
        match = f"--protocol {packet.protocol} --icmp-type-code Type={ports[0]},Code=-1"
    else:
        match = "--protocol -1"
    where = f"ports {port_text(ports)} " if packet.protocol in (6, 17) else ""
    return (
        f"allow {where}before rule {rule if rule < 32767 else '*'}: aws ec2 create-network-acl-entry "
        f"--network-acl-id {acl.id} {side} --rule-number {number} {match} {cidr_flag} {cidr} --rule-action allow"
    )
