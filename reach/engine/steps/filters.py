"""Filters: what the interface decision (`reach.model.decision`) says at an interface, said as hops.

The walker never decides a security group or network ACL verdict itself: `decide` asks the decision for a
batch of one (or one row per piece of a port range), and `security_groups` / `network_acl` say its answer
as a hop, or as a blocker naming the deciding rule, what it blocks and what reach assumed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reach.engine.fixes import FilterFix
from reach.engine.leg import Leg, Record
from reach.engine.packet import Packet, port_text
from reach.model.addr import format_address
from reach.model.decision import REASONS, Crossings, Decided, Tracking, connection_tracking, decision_of, is_filtered
from reach.model.network import Interface, Subnet
from reach.model.rules import RuleRef, describe_match
from reach.model.vocabulary import Direction, Kind, Reason

_DEFAULT_RULES = (32767, 32768)  # a network ACL's `*` entry, IPv4 and IPv6


@dataclass(frozen=True)
class Filtered:
    """What the interface decision said for one packet at one interface (or subnet boundary): one row per
    piece of the packet's destination ports, `pieces` as (first port, last port, row)."""

    interface: Interface | None
    subnet: Subnet | None
    direction: Direction
    packet: Packet
    peer: int
    record: Record | None
    crossing: bool
    pieces: list[tuple[int, int, int]]
    decided: Decided

    def widest(self, mask: np.ndarray) -> tuple[int, int, int] | None:
        """The widest piece where `mask` (per row) holds, None if it holds nowhere."""
        found = [p for p in self.pieces if mask[p[2]]]
        return max(found, key=lambda p: p[1] - p[0]) if found else None


def decide(
    leg: Leg,
    interface: Interface | None,
    subnet: Subnet | None,
    direction: Direction,
    packet: Packet,
    record: Record | None,
    *,
    crossing: bool,
) -> Filtered:
    """Ask the interface decision what the packet meets at `interface` (and at `subnet`'s boundary when it
    crosses it): a batch of one, or one row per piece of a port range (a response to the client's ephemeral
    ports), pieces that decide alike merged."""
    decision = decision_of(leg.network)
    peer = packet.src if direction == Direction.INGRESS else packet.dst
    lo, hi = packet.dst_ports

    def rows(ports: list[int]) -> Crossings:
        return decision.crossing(
            interface,
            subnet.id if subnet else None,
            direction,
            response=leg.response,
            family=packet.family,
            peer=peer,
            protocol=packet.protocol,
            ports=ports,
            code=packet.code,
            crosses_nacl=crossing,
            groups_kept=leg.groups_kept is not False,
        )

    cuts = decision.port_cuts(rows([lo]), lo, hi) if lo != hi else [(lo, hi)]
    decided = decision.decide(rows([a for a, _ in cuts]))
    pieces: list[tuple[int, int, int]] = []
    for k, (a, b) in enumerate(cuts):
        same = pieces and all(
            column[pieces[-1][2]] == column[k]
            for column in (decided.sg, decided.nacl, decided.sg_allow, decided.nacl_allow)
        )
        pieces[-1:] = [(pieces[-1][0], b, pieces[-1][2])] if same else [*pieces[-1:], (a, b, k)]
    return Filtered(interface, subnet, direction, packet, peer, record, crossing, pieces, decided)


def security_groups(leg: Leg, filtered: Filtered) -> None:
    """The hop (or blocker) of the interface's security groups, as the decision has it."""
    interface, direction, packet, peer = filtered.interface, filtered.direction, filtered.packet, filtered.peer
    assert interface is not None
    network = leg.network
    groups = list(interface.groups)
    label = groups[0] if len(groups) == 1 else interface.id
    if filtered.decided.unfiltered[filtered.pieces[0][2]]:
        leg.hop(
            Kind.SECURITY_GROUP,
            label,
            f"security groups do not filter traffic with {format_address(packet.family, peer)}, which the "
            "instance's host answers",
            direction=direction,
        )
        return
    if leg.response:
        service = packet.src_ports[0] if packet.src_ports[0] == packet.src_ports[1] else -1
        tracked = connection_tracking(network, interface, direction.opposite, packet.family, packet.protocol,
                                      service, automatic=leg.auto_tracked is not None)
        if tracked.tracking == Tracking.UNTRACKED:
            assert tracked.request_rule is not None and tracked.response_rule is not None
            detail = (
                f"untracked flow ({tracked.request_rule.detail}; {tracked.response_rule.detail}): the response "
                "passes by that rule, not by connection tracking, and removing either rule cuts the flow at once"
            )
        elif tracked.tracking == Tracking.AUTOMATIC:
            detail = (
                f"response of a connection tracked automatically (it came through {leg.auto_tracked}): "
                f"{interface.label}'s security groups let it through whatever their rules say"
            )
        else:
            detail = (
                f"response of a tracked connection: {interface.label}'s security groups let it through whatever "
                "their rules say"
            )
        leg.hop(Kind.SECURITY_GROUP, label, detail, direction=direction)
        return
    if not is_filtered(interface):
        leg.note(f"{interface.label} has no security groups (requester-managed): not filtered")
        return
    decided, rules = filtered.decided, decision_of(network).registry.rules
    _, _, row = filtered.widest(~decided.sg_allow) or filtered.pieces[0]
    if decided.sg_allow[row]:
        ref = rules[int(decided.sg[row])]
        leg.hop(
            Kind.SECURITY_GROUP, ref.id if len(groups) > 1 else label, ref.detail, direction=direction, rule=ref.rule
        )
        return
    what = describe_match(packet.protocol, packet.dst_ports, (packet.code, packet.code))
    names = ", ".join(network.group_label(g) for g in groups) or "no security group"
    side, to_from = ("inbound", "from") if direction == Direction.INGRESS else ("outbound", "to")
    detail = f"no rule of {names} on {interface.label} allows {side} {what} {to_from} "
    detail += format_address(packet.family, peer)
    unresolved = int(decided.unresolved[row])
    if unresolved >= 0:
        ref = rules[unresolved]
        detail += unknown_reference_detail(
            [(str(ref.rule) if ref.rule else str(ref.id), network.unresolved[ref])], packet, peer
        )
    discarded = int(decided.discarded[row])
    if discarded >= 0:
        lost = leg.groups_lost or (Reason.SG_REFERENCING_SUPPORT, "a transit gateway")
        detail += discarded_reference_detail(rules[discarded], network.group_references[rules[discarded]], lost)
    absent = [g for g in groups if g not in network.security_groups]
    if absent:
        missing = (
            "the snapshot has no SecurityGroups (describe-security-groups)"
            if leg.lacks("SecurityGroups")
            else f"{', '.join(absent)} {'is' if len(absent) == 1 else 'are'} not in the snapshot"
        )
        detail += f"; {missing}, so the rules of {', '.join(absent)} are unknown (taken as allowing nothing)"
        leg.assume(f"{missing}: reach took the rules of {', '.join(absent)} as allowing nothing")
    reason = REASONS[int(decided.sg_reason[row])]
    if reason == Reason.SG_REFERENCING_SUPPORT and leg.groups_lost is not None:
        reason = leg.groups_lost[0]  # what discarded the membership: the path knows, the decision does not
    leg.block(
        Kind.SECURITY_GROUP,
        label,
        reason,
        detail,
        direction=direction,
        groups=groups,
        record=filtered.record,
        fix_context=FilterFix(packet, peer),
    )


def network_acl(leg: Leg, filtered: Filtered) -> None:
    """The hop (or blocker) of the subnet's network ACL, as the decision has it."""
    subnet, direction, packet = filtered.subnet, filtered.direction, filtered.packet
    assert subnet is not None
    acl = leg.network.nacl_of(subnet)
    if filtered.decided.unfiltered[filtered.pieces[0][2]]:
        leg.hop(
            Kind.NETWORK_ACL,
            acl.id if acl else None,
            f"network ACLs do not filter traffic with {format_address(packet.family, filtered.peer)}, which the "
            "instance's host answers",
            direction=direction,
        )
        return
    if acl is None:
        if leg.lacks("NetworkAcls"):
            detail = (
                f"the snapshot has no NetworkAcls (describe-network-acls): reach assumed the network ACL of "
                f"{subnet.id} allows"
            )
        elif subnet.nacl:
            detail = f"{subnet.id}'s network ACL {subnet.nacl} is not in the snapshot: reach assumed it allows"
        else:
            detail = f"no network ACL of the snapshot is associated with {subnet.id}: reach assumed it allows"
        if subnet.nacl and not leg.lacks("NetworkAcls"):  # otherwise compile's warning, or the whole kind, says it
            leg.assume(detail)
        leg.hop(Kind.NETWORK_ACL, None, detail, direction=direction)
        return
    decided, rules = filtered.decided, decision_of(leg.network).registry.rules
    denied = [p for p in filtered.pieces if not decided.nacl_allow[p[2]]]
    if not denied:
        ref = rules[int(decided.nacl[filtered.pieces[0][2]])]
        leg.hop(Kind.NETWORK_ACL, acl.id, ref.detail, direction=direction, rule=ref.rule)
        return
    lo, hi, row = filtered.widest(~decided.nacl_allow) or denied[0]
    ref = rules[int(decided.nacl[row])]
    detail = ref.detail
    blocked_ports = None
    if len(denied) < len(filtered.pieces) or packet.ports_are_range:
        blocked = ", ".join(port_text((a, b)) for a, b, _ in denied)
        blocked_ports = f"{blocked} of {port_text(packet.dst_ports)}"
        if len(denied) < len(filtered.pieces):
            detail = (
                f"ports {blocked_ports} are blocked by {acl.id} "
                f"{'inbound' if direction == Direction.INGRESS else 'outbound'} rule "
                f"{'*' if ref.rule in _DEFAULT_RULES else '#' + str(ref.rule)}: {detail}"
            )
    leg.block(
        Kind.NETWORK_ACL,
        acl.id,
        Reason.SUBNET_ACL_RESTRICTION,
        detail,
        direction=direction,
        rule=ref.rule,
        record=filtered.record,
        blocked_ports=blocked_ports,
        fix_context=FilterFix(packet, filtered.peer, (lo, hi)),
    )


def subnet_boundary(leg: Leg, subnet: Subnet, direction: Direction, packet: Packet, record: Record | None) -> None:
    """A packet crosses a subnet's boundary where no interface of the snapshot filters it (a transit gateway
    attachment's subnet, a NAT gateway's translated packet leaving)."""
    network_acl(leg, decide(leg, None, subnet, direction, packet, record, crossing=True))


def inside(subnet: Subnet, packet: Packet) -> bool:
    """Is the packet's destination in the subnet (a stand-in for a subnet the snapshot lacks holds nothing)."""
    return any(c.contains(packet.family, packet.dst) for c in subnet.cidrs)


# --- what the decision could not resolve, said ---------------------------------------------------------


def discarded_reference_detail(ref: RuleRef, group: str, lost: tuple[Reason, str]) -> str:
    """Why a rule that would allow by group membership did not: the way the packet came discarded it."""
    rule = ref.rule or f"a rule of {ref.id}"
    reason, where = lost
    if reason == Reason.SG_REFERENCING_SUPPORT:
        why = (
            f"{where} without security group referencing support, which discards that membership (enable "
            "SecurityGroupReferencingSupport on the gateway and its VPC attachments, or allow the CIDR)"
        )
    else:
        why = f"{where}, which does not preserve security group membership (allow the source's CIDR instead)"
    return f"; {rule} would allow it as a member of {group}, but it came through {why}"


def unknown_reference_detail(found: list[tuple[str, str]], packet: Packet, peer: int) -> str:
    """What the rules naming missing groups or prefix lists would have allowed, and what reach assumed."""
    rules = ", ".join(sorted({rule if rule.startswith("sgr-") else f"a rule of {rule}" for rule, _ in found}))
    groups = sorted({missing for _, missing in found if missing.startswith("sg-")})
    lists = sorted({missing for _, missing in found if not missing.startswith("sg-")})
    address = format_address(packet.family, peer)
    parts = []
    if groups:
        parts.append(
            f"security group {', '.join(groups)}, which the snapshot does not contain (another account, or across a "
            f"peering): reach assumed {address} is not a member, as AWS treats groups it cannot resolve as denying"
        )
    if lists:
        parts.append(
            f"prefix list {', '.join(lists)}, whose entries the snapshot does not contain (get-managed-prefix-list-"
            f"entries): reach assumed they do not hold {address}"
        )
    return f"; {rules} would allow it from " + "; and from ".join(parts)
