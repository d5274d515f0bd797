"""Security group calls applied to a snapshot.

A group's rules are kept in two shapes, as describe-* returns them: `IpPermissions` on the group and one
`SecurityGroupRules` line per peer. Both are edited together; a new rule gets the id `sgr-planned-<change>-<n>`
so explanations can name it before AWS has.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from reach.change.calls import (
    AuthorizeSecurityGroupEgress,
    AuthorizeSecurityGroupIngress,
    CreateSecurityGroup,
    DeleteSecurityGroup,
    IpPermissionRequest,
    ModifySecurityGroupRules,
    RevokeSecurityGroupEgress,
    RevokeSecurityGroupIngress,
    UserIdGroupPairRequest,
    sg_protocol,
)
from reach.change.work import Work
from reach.errors import SnapshotError
from reach.model.protocols import ALL, ICMP_FAMILY, PORTED, protocol_name, protocol_number
from reach.snapshot.security_group import (
    AwsSecurityGroup,
    IpPermission,
    IpRange,
    Ipv6Range,
    PrefixListRef,
    ReferencedGroupInfo,
    SecurityGroupRule,
    UserIdGroupPair,
)


class Peer(StrEnum):
    """What one rule names on its other side."""

    CIDR = "cidr"
    CIDR6 = "cidr6"
    PREFIX_LIST = "prefix-list"
    GROUP = "group"


# AWS's ceiling on a group's rules each way: the adjustable quota times the groups an interface may carry cannot
# pass 1,000, so no account can raise it further (one peer of a permission is one rule)
MAX_RULES = 1000

_PEERS = tuple(Peer)  # in the order describe-security-groups lists a permission's peers


RuleKey = tuple[bool, int, int | None, int | None, Peer, str]


@dataclass(frozen=True)
class _Rule:
    """One security group rule: one permission, one peer (the unit AWS gives an sgr- id)."""

    egress: bool
    protocol: int
    from_port: int | None
    to_port: int | None
    peer_kind: Peer
    peer: str
    description: str | None = None

    @property
    def key(self) -> RuleKey:
        """What tells two rules apart. Ports count only where the protocol has them: AWS writes a protocol
        without ports (50, ESP) with -1 in one describe-* call and none in the other."""
        ports = (self.from_port, self.to_port) if self.protocol in PORTED | ICMP_FAMILY else (None, None)
        return (self.egress, self.protocol, *ports, self.peer_kind, self.peer)

    def text(self) -> str:
        ports = "" if self.from_port is None else f" {self.from_port}-{self.to_port}"
        side = "to" if self.egress else "from"
        return f"{'egress' if self.egress else 'ingress'} {protocol_name(self.protocol)}{ports} {side} {self.peer}"


def _number(protocol: str, group_id: str) -> int:
    try:
        return protocol_number(protocol)
    except ValueError:
        raise SnapshotError(f"security group {group_id}: '{protocol[:60]}' is not a protocol") from None


def _rule(
    egress: bool,
    protocol: int,
    from_port: int | None,
    to_port: int | None,
    kind: Peer,
    peer: str,
    description: str | None = None,
) -> _Rule:
    if protocol == ALL:  # describe-security-groups gives all-traffic permissions no ports
        from_port = to_port = None
    return _Rule(egress, protocol, from_port, to_port, kind, peer, description)


def _peer_rules(
    egress: bool,
    protocol: int,
    permission: IpPermission | IpPermissionRequest,
    group_of: Callable[[UserIdGroupPair | UserIdGroupPairRequest], str],
) -> list[_Rule]:
    """One rule per peer of a permission, as a call or describe-security-groups writes it."""
    ports = (permission.from_port, permission.to_port)
    rules = [_rule(egress, protocol, *ports, Peer.CIDR, r.cidr_ip, r.description) for r in permission.ip_ranges]
    rules += [_rule(egress, protocol, *ports, Peer.CIDR6, r.cidr_ipv6, r.description) for r in permission.ipv6_ranges]
    rules += [
        _rule(egress, protocol, *ports, Peer.PREFIX_LIST, p.prefix_list_id, p.description)
        for p in permission.prefix_list_ids
    ]
    pairs: list[UserIdGroupPair | UserIdGroupPairRequest] = list(permission.user_id_group_pairs)
    rules += [_rule(egress, protocol, *ports, Peer.GROUP, group_of(p), p.description) for p in pairs]
    return rules


def _rules_of_permission(
    work: Work, permission: IpPermissionRequest, egress: bool, group_names: Mapping[str, str]
) -> list[_Rule]:
    def group_of(pair: UserIdGroupPair | UserIdGroupPairRequest) -> str:
        if pair.group_id:
            return pair.group_id
        if not pair.group_name:
            raise work.fail("a UserIdGroupPair names no GroupId")
        if pair.group_name not in group_names:
            raise work.fail(f"security group named {pair.group_name} is not in the snapshot")
        return group_names[pair.group_name]

    rules = _peer_rules(egress, protocol_number(permission.ip_protocol), permission, group_of)
    if not rules:
        raise work.fail(
            f"a permission ({permission.ip_protocol}) names no peer: "
            "no IpRanges, Ipv6Ranges, PrefixListIds or UserIdGroupPairs"
        )
    return rules


def _rules_of_group(group: AwsSecurityGroup) -> list[_Rule]:
    rules = []
    for egress, permissions in ((False, group.ip_permissions), (True, group.ip_permissions_egress)):
        for permission in permissions:
            protocol = _number(permission.ip_protocol, group.group_id)
            rules += _peer_rules(egress, protocol, permission, lambda pair: pair.group_id or "?")
    return rules


def _rule_of_line(line: SecurityGroupRule) -> _Rule:
    protocol = _number(line.ip_protocol, line.group_id)
    if line.cidr_ipv4:
        kind, peer = Peer.CIDR, line.cidr_ipv4
    elif line.cidr_ipv6:
        kind, peer = Peer.CIDR6, line.cidr_ipv6
    elif line.prefix_list_id:
        kind, peer = Peer.PREFIX_LIST, line.prefix_list_id
    else:
        kind, peer = Peer.GROUP, (line.referenced_group_info.group_id if line.referenced_group_info else None) or "?"
    return _rule(line.is_egress, protocol, line.from_port, line.to_port, kind, peer, line.description)


def _peer_model(rule: _Rule) -> IpRange | Ipv6Range | PrefixListRef | UserIdGroupPair:
    if rule.peer_kind is Peer.CIDR:
        return IpRange(cidr_ip=rule.peer, description=rule.description)
    if rule.peer_kind is Peer.CIDR6:
        return Ipv6Range(cidr_ipv6=rule.peer, description=rule.description)
    if rule.peer_kind is Peer.PREFIX_LIST:
        return PrefixListRef(prefix_list_id=rule.peer, description=rule.description)
    return UserIdGroupPair(group_id=rule.peer, description=rule.description)


def _permissions(work: Work, rules: Sequence[_Rule], egress: bool) -> list[IpPermission]:
    """Rules -> IpPermissions as describe-security-groups groups them: by protocol and ports, in order. Each
    permission is built once per change set for the same rules (frozen models: shared)."""
    made: dict[tuple[_Rule, ...], IpPermission] = work.memo.setdefault("sg permissions", {})
    permissions = []
    for (protocol, from_port, to_port), mine in _by_permission(rules, egress).items():
        key = tuple(mine)
        permission = made.get(key)
        if permission is None:
            peers: dict[Peer, list[Any]] = {kind: [] for kind in _PEERS}
            for rule in mine:
                peers[rule.peer_kind].append(_peer_model(rule))
            permission = made[key] = IpPermission(
                ip_protocol=sg_protocol(protocol),
                from_port=from_port,
                to_port=to_port,
                ip_ranges=peers[Peer.CIDR],
                ipv6_ranges=peers[Peer.CIDR6],
                prefix_list_ids=peers[Peer.PREFIX_LIST],
                user_id_group_pairs=peers[Peer.GROUP],
            )
        permissions.append(permission)
    return permissions


def _rule_line(group_id: str, rule: _Rule, rule_id: str) -> SecurityGroupRule:
    ports = (-1, -1) if rule.from_port is None else (rule.from_port, rule.to_port)
    return SecurityGroupRule(
        security_group_rule_id=rule_id,
        group_id=group_id,
        is_egress=rule.egress,
        ip_protocol=sg_protocol(rule.protocol),
        from_port=ports[0],
        to_port=ports[1],
        cidr_ipv4=rule.peer if rule.peer_kind is Peer.CIDR else None,
        cidr_ipv6=rule.peer if rule.peer_kind is Peer.CIDR6 else None,
        prefix_list_id=rule.peer if rule.peer_kind is Peer.PREFIX_LIST else None,
        referenced_group_info=ReferencedGroupInfo(group_id=rule.peer) if rule.peer_kind is Peer.GROUP else None,
        description=rule.description,
    )


def _group_id(work: Work, group_id: str | None, group_name: str | None) -> str:
    if group_id:
        return group_id
    if group_name:
        matches = [g.group_id for g in work.items("SecurityGroups") if g.group_name == group_name]
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise work.fail(f"several security groups are named {group_name}: {', '.join(matches)}; use GroupId")
        raise work.fail(f"security group named {group_name} is not in the snapshot")
    raise work.fail("parameter 'GroupId' is missing")


def _group_names(work: Work) -> dict[str, str]:
    return {g.group_name: g.group_id for g in work.items("SecurityGroups") if g.group_name}


Ids = dict[RuleKey, str]
Edit = Callable[[list[_Rule], Ids], tuple[list[_Rule], Ids]]


def _edit_group(work: Work, group_id: str, edit: Edit) -> None:
    """Rewrite a group's rules through `edit(rules, sgr ids by rule key)`, then both describe-* shapes."""
    position, group = work.get("SecurityGroups", "group_id", group_id, "security group")
    lines = work.items("SecurityGroupRules")
    # A change set may edit one group a thousand times: what the last edit wrote is remembered with the group
    # it made, so each edit costs its own rules rather than parsing and validating the whole group again.
    remembered = work.memo.get(("sg", group_id))
    if remembered is not None and remembered[0] is group:
        rules, ids = list(remembered[1]), dict(remembered[2])
    else:
        rules = _rules_of_group(group)
        ids = {_rule_of_line(line).key: line.security_group_rule_id for line in lines if line.group_id == group_id}
    existing = {rule.key for rule in rules}
    rules, ids = edit(rules, ids)
    permissions = {
        "ip_permissions": _permissions(work, rules, False),
        "ip_permissions_egress": _permissions(work, rules, True),
    }
    edited = group.model_copy(update=permissions)
    work.put("SecurityGroups", position, edited)
    kept = [line for line in lines if line.group_id != group_id]
    made: dict[tuple[_Rule, str], SecurityGroupRule] = work.memo.setdefault("sg rule lines", {})
    for rule in rules:
        rule_id = ids.get(rule.key)
        if rule_id is None and rule.key in existing:
            continue  # the snapshot has no describe-security-group-rules line for it: it still has none
        if rule_id is None:
            rule_id = ids[rule.key] = work.planned("sgr")
        line = made.get((rule, rule_id))
        if line is None or line.group_id != group_id:
            line = made[(rule, rule_id)] = _rule_line(group_id, rule, rule_id)
        kept.append(line)
    lines[:] = kept
    work.memo[("sg", group_id)] = (edited, _as_described(rules), ids)


def _as_described(rules: Sequence[_Rule]) -> list[_Rule]:
    """The rules in the order reading the group back would give: ingress, then egress; permissions in order
    of first appearance; in each, ranges, IPv6 ranges, prefix lists, then groups."""
    return [rule for egress in (False, True) for mine in _by_permission(rules, egress).values()
            for kind in _PEERS for rule in mine if rule.peer_kind is kind]


def _by_permission(rules: Sequence[_Rule], egress: bool) -> dict[tuple[int, int | None, int | None], list[_Rule]]:
    """One direction's rules by the permission that holds them (protocol and ports), in order of first appearance."""
    grouped: dict[tuple[int, int | None, int | None], list[_Rule]] = {}
    for rule in rules:
        if rule.egress == egress:
            grouped.setdefault((rule.protocol, rule.from_port, rule.to_port), []).append(rule)
    return grouped


_Permissions = AuthorizeSecurityGroupIngress | AuthorizeSecurityGroupEgress
_Revocation = RevokeSecurityGroupIngress | RevokeSecurityGroupEgress


def _requested_rules(work: Work, call: _Permissions | _Revocation, egress: bool) -> list[_Rule]:
    permissions = call.permissions()
    if not permissions:
        raise work.fail("no IpPermissions (nor CidrIp/SourceSecurityGroupName) to apply")
    names = _group_names(work)
    rules = [rule for permission in permissions for rule in _rules_of_permission(work, permission, egress, names)]
    for rule in rules:
        if rule.peer_kind is Peer.GROUP and work.index("SecurityGroups", "group_id", rule.peer) < 0:
            work.note(
                f"rule {rule.text()} references security group {rule.peer}, which the snapshot does not hold: "
                "it matches nothing"
            )
    return rules


def _group_name(call: Any) -> str | None:
    return getattr(call, "group_name", None)


def authorize(work: Work, call: _Permissions) -> None:
    egress = isinstance(call, AuthorizeSecurityGroupEgress)
    group_id = _group_id(work, call.group_id, _group_name(call))
    new = _requested_rules(work, call, egress)

    def edit(rules: list[_Rule], ids: Ids) -> tuple[list[_Rule], Ids]:
        present = {r.key for r in rules}
        for rule in new:
            if rule.key in present:
                raise work.fail(
                    f"security group {group_id} already has the rule {rule.text()} (AWS: InvalidPermission.Duplicate)"
                )
            present.add(rule.key)
        rules = rules + new
        if sum(1 for rule in rules if rule.egress == egress) > MAX_RULES:
            side = "outbound" if egress else "inbound"
            raise work.fail(f"security group {group_id} would hold more than {MAX_RULES:,} {side} rules "
                            "(AWS: RulesPerSecurityGroupLimitExceeded)")
        return rules, ids

    _edit_group(work, group_id, edit)


def revoke(work: Work, call: _Revocation) -> None:
    egress = isinstance(call, RevokeSecurityGroupEgress)
    group_id = _group_id(work, call.group_id, _group_name(call))
    rule_ids = call.security_group_rule_ids
    by_permission = [] if rule_ids and not call.permissions() else _requested_rules(work, call, egress)

    def edit(rules: list[_Rule], ids: Ids) -> tuple[list[_Rule], Ids]:
        by_id = {v: k for k, v in ids.items()}
        drop = set()
        for rule_id in rule_ids:
            key = by_id.get(rule_id)
            if key is None:
                raise work.fail(f"security group rule {rule_id} of {group_id} is not in the snapshot")
            if key[0] != egress:
                side = "an egress" if key[0] else "an ingress"
                raise work.fail(f"security group rule {rule_id} is {side} rule of {group_id}")
            drop.add(key)
        present = {r.key for r in rules}
        for rule in by_permission:
            if rule.key not in present:
                raise work.fail(f"security group {group_id} has no rule {rule.text()} to revoke")
            drop.add(rule.key)
        return [r for r in rules if r.key not in drop], ids

    _edit_group(work, group_id, edit)


def modify_rules(work: Work, call: ModifySecurityGroupRules) -> None:
    group_id = call.group_id

    def edit(rules: list[_Rule], ids: Ids) -> tuple[list[_Rule], Ids]:
        by_id = {v: k for k, v in ids.items()}
        for update in call.security_group_rules:
            rule_id = update.security_group_rule_id
            key = by_id.get(rule_id)
            if key is None:
                raise work.fail(f"security group rule {rule_id} of {group_id} is not in the snapshot")
            spec = update.security_group_rule
            ((peer_name, peer),) = spec.peers()
            kind = {"CidrIpv4": Peer.CIDR, "CidrIpv6": Peer.CIDR6, "PrefixListId": Peer.PREFIX_LIST}.get(
                peer_name, Peer.GROUP
            )
            protocol = protocol_number(spec.ip_protocol)
            new = _rule(key[0], protocol, spec.from_port, spec.to_port, kind, peer, spec.description)
            position = next((i for i, r in enumerate(rules) if r.key == key), None)
            if position is None:
                raise work.fail(f"security group rule {rule_id} is not among the rules of {group_id}'s IpPermissions")
            rules[position] = new
            del ids[key]
            ids[new.key] = rule_id
            by_id[rule_id] = new.key
        return rules, ids

    _edit_group(work, group_id, edit)


def create_group(work: Work, call: CreateSecurityGroup) -> None:
    group_id = call.group_id or work.planned("sg")
    if work.index("SecurityGroups", "group_id", group_id) >= 0:
        raise work.fail(f"security group {group_id} already exists")
    if call.vpc_id and work.index("Vpcs", "vpc_id", call.vpc_id) < 0:
        raise work.fail(f"VPC {call.vpc_id} is not in the snapshot")
    # AWS gives a new VPC group one rule: all traffic out.
    everything = IpPermission(ip_protocol="-1", ip_ranges=[IpRange(cidr_ip="0.0.0.0/0")])
    group = AwsSecurityGroup(
        group_id=group_id,
        group_name=call.group_name,
        description=call.description,
        vpc_id=call.vpc_id,
        ip_permissions=[],
        ip_permissions_egress=[everything],
    )
    work.items("SecurityGroups").append(group)
    rule = _Rule(True, ALL, None, None, Peer.CIDR, "0.0.0.0/0")
    work.items("SecurityGroupRules").append(_rule_line(group_id, rule, work.planned("sgr")))


def delete_group(work: Work, call: DeleteSecurityGroup) -> None:
    group_id = _group_id(work, call.group_id, call.group_name)
    position, _ = work.get("SecurityGroups", "group_id", group_id, "security group")
    interfaces = work.items("NetworkInterfaces")
    users = [e.network_interface_id for e in interfaces if any(g.group_id == group_id for g in e.groups)]
    if users:
        raise work.fail(f"security group {group_id} is still used by {', '.join(users)} (AWS: DependencyViolation)")
    del work.items("SecurityGroups")[position]
    lines = work.items("SecurityGroupRules")
    lines[:] = [line for line in lines if line.group_id != group_id]


HANDLERS: dict[type, Callable[[Work, Any], None]] = {
    AuthorizeSecurityGroupIngress: authorize,
    AuthorizeSecurityGroupEgress: authorize,
    RevokeSecurityGroupIngress: revoke,
    RevokeSecurityGroupEgress: revoke,
    ModifySecurityGroupRules: modify_rules,
    CreateSecurityGroup: create_group,
    DeleteSecurityGroup: delete_group,
}
