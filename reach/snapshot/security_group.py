"""describe-security-groups and describe-security-group-rules: the shapes, and their compilation into one
line per permission and peer, each named by its sgr- id where describe-security-group-rules gives one.

A rule that references a group or prefix list the snapshot lacks becomes a line that matches nothing,
plus a warning: never a missing line (STYLE example 3).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from pydantic import Field, ValidationInfo, field_validator

from reach.model.addr import Cidr
from reach.model.network import GroupReferences, Interface
from reach.model.network import SecurityGroup as CompiledGroup
from reach.model.protocols import ALL, protocol_number
from reach.model.rules import RuleLine, RuleRef, describe_match, ports_for
from reach.model.vocabulary import Direction, Kind
from reach.snapshot import ranges
from reach.snapshot.base import AwsModel, Compiled, Tag, parse_cidr, where

if TYPE_CHECKING:
    from reach.snapshot.loader import SnapshotResources


class IpRange(AwsModel):
    cidr_ip: str
    description: str | None = None


class Ipv6Range(AwsModel):
    cidr_ipv6: str
    description: str | None = None


class PrefixListRef(AwsModel):
    prefix_list_id: str
    description: str | None = None


class UserIdGroupPair(AwsModel):
    group_id: str | None = None
    group_name: str | None = None
    user_id: str | None = None
    vpc_id: str | None = None
    vpc_peering_connection_id: str | None = None
    peering_status: str | None = None
    description: str | None = None


class _ProtocolAndPorts(AwsModel):
    """IpProtocol, FromPort and ToPort, checked against AWS's ranges (`reach.snapshot.ranges`)."""

    ip_protocol: str
    from_port: int | None = None
    to_port: int | None = None

    @field_validator("ip_protocol", mode="before")
    @classmethod
    def _protocol(cls, value: object) -> object:
        return ranges.protocol(str(value)) if isinstance(value, str | int) and not isinstance(value, bool) else value

    @field_validator("from_port", "to_port")
    @classmethod
    def _port(cls, value: int | None, info: ValidationInfo) -> int | None:
        protocol = info.data.get("ip_protocol")
        field = "FromPort" if info.field_name == "from_port" else "ToPort"
        ranges.rule_port(protocol, value, field)
        if info.field_name == "to_port":
            ranges.port_order(protocol, info.data.get("from_port"), value)
        return value


class IpPermission(_ProtocolAndPorts):
    ip_ranges: list[IpRange] = Field(default_factory=list)
    ipv6_ranges: list[Ipv6Range] = Field(default_factory=list)
    prefix_list_ids: list[PrefixListRef] = Field(default_factory=list)
    user_id_group_pairs: list[UserIdGroupPair] = Field(default_factory=list)


class AwsSecurityGroup(AwsModel):
    group_id: str
    group_name: str | None = None
    description: str | None = None
    vpc_id: str | None = None
    owner_id: str | None = None
    ip_permissions: list[IpPermission] = Field(default_factory=list)
    ip_permissions_egress: list[IpPermission] = Field(default_factory=list)
    tags: list[Tag] = Field(default_factory=list)


class ReferencedGroupInfo(AwsModel):
    group_id: str | None = None
    user_id: str | None = None
    vpc_id: str | None = None
    vpc_peering_connection_id: str | None = None
    peering_status: str | None = None


class SecurityGroupRule(_ProtocolAndPorts):
    """One line of describe-security-group-rules: gives each permission line its sgr- id."""

    security_group_rule_id: str
    group_id: str
    is_egress: bool
    cidr_ipv4: str | None = None
    cidr_ipv6: str | None = None
    prefix_list_id: str | None = None
    referenced_group_info: ReferencedGroupInfo | None = None
    description: str | None = None


# --- compile -----------------------------------------------------------------------------------------

# (group, egress, protocol, from, to, peer) -> the sgr- id of that line
RuleIds = dict[tuple[str, bool, int, int | None, int | None, str], str]


def compile_security_groups(
    snapshot: SnapshotResources, interfaces: dict[str, Interface], prefix_lists: dict[str, list[Cidr]]
) -> Compiled[dict[str, CompiledGroup]]:
    """Every group's lines, a group reference expanded to its members' private addresses."""
    members: dict[str, list[Cidr]] = {}
    for interface in interfaces.values():
        for member_of in interface.groups:
            members.setdefault(member_of, []).extend(Cidr.host(f, v) for f, v in interface.private_ips)
    names = {g.group_id: g.group_name for g in snapshot.security_groups}
    rule_ids = _rule_ids(snapshot.security_group_rules)
    warnings: list[str] = []
    groups = {}
    for group in snapshot.security_groups:
        at = where(snapshot.origins, group.group_id)
        tables: dict[bool, tuple[RuleLine, ...]] = {}
        for egress, permissions in ((False, group.ip_permissions), (True, group.ip_permissions_egress)):
            lines: list[RuleLine] = []
            for permission in permissions:
                lines += _permission_lines(
                    group.group_id, egress, permission, members, names, prefix_lists, rule_ids, at, warnings
                )
            tables[egress] = tuple(lines)
        groups[group.group_id] = CompiledGroup(
            group.group_id, group.group_name, group.vpc_id, group.owner_id, tables[False], tables[True]
        )
    return Compiled(groups, tuple(warnings) + absent_groups(interfaces, groups))


def _rule_ids(rules: Iterable[SecurityGroupRule]) -> RuleIds:
    """(group, egress, protocol, from, to, peer) -> sgr- id, to name each compiled line by its AWS rule id."""
    ids = {}
    for rule in rules:
        peer = rule.cidr_ipv4 or rule.cidr_ipv6 or rule.prefix_list_id
        if peer is None and rule.referenced_group_info:
            peer = rule.referenced_group_info.group_id
        if peer is None:
            continue
        key = (rule.group_id, rule.is_egress, protocol_number(rule.ip_protocol), rule.from_port, rule.to_port, peer)
        ids[key] = rule.security_group_rule_id
    return ids


def _permission_lines(
    group_id: str,
    egress: bool,
    permission: IpPermission,
    members: dict[str, list[Cidr]],
    names: dict[str, str | None],
    prefix_lists: dict[str, list[Cidr]],
    rule_ids: RuleIds,
    at: str,
    warnings: list[str],
) -> list[RuleLine]:
    """One permission -> lines, one per peer (CIDR, prefix-list CIDR, referenced group member)."""
    protocol = protocol_number(permission.ip_protocol)
    ports, codes = ports_for(protocol, permission.from_port, permission.to_port)
    direction = Direction.EGRESS if egress else Direction.INGRESS
    verb, to_from = ("allows outbound", "to") if egress else ("allows inbound", "from")
    what = describe_match(protocol, ports, codes)

    def ref(peer_key: str, peer_text: str) -> RuleRef:
        key = (group_id, egress, protocol, permission.from_port, permission.to_port, peer_key)
        sgr = rule_ids.get(key)
        if sgr is None and protocol == ALL:  # -1 rules come back with -1 ports or none at all
            sgr = rule_ids.get((group_id, egress, protocol, -1, -1, peer_key))
        label = f"rule {sgr}" if sgr else "rule"
        return RuleRef(
            Kind.SECURITY_GROUP,
            group_id,
            direction,
            sgr,
            f"security group {group_id} {label} {verb} {what} {to_from} {peer_text}",
        )

    def line(peer: Cidr | None, rule_ref: RuleRef, group: str | None = None, plist: str | None = None) -> RuleLine:
        return RuleLine(peer, protocol, ports[0], ports[1], codes[0], codes[1], True, rule_ref, group, plist)

    lines = []
    for ip_range in permission.ip_ranges:
        lines.append(line(parse_cidr(ip_range.cidr_ip, at), ref(ip_range.cidr_ip, ip_range.cidr_ip)))
    for ip_range6 in permission.ipv6_ranges:
        lines.append(line(parse_cidr(ip_range6.cidr_ipv6, at), ref(ip_range6.cidr_ipv6, ip_range6.cidr_ipv6)))
    for pl in permission.prefix_list_ids:
        rule_ref = ref(pl.prefix_list_id, f"prefix list {pl.prefix_list_id}")
        cidrs = prefix_lists.get(pl.prefix_list_id)
        if cidrs is None:
            warnings.append(
                f"{at}: rule references prefix list {pl.prefix_list_id}, which the snapshot does not contain: "
                "it matches nothing"
            )
            lines.append(line(None, rule_ref, plist=pl.prefix_list_id))
        lines += [line(c, rule_ref, plist=pl.prefix_list_id) for c in cidrs or []]
    for pair in permission.user_id_group_pairs:
        ref_group = pair.group_id or "?"
        label = f"members of {ref_group}" + (f" ({names[ref_group]})" if names.get(ref_group) else "")
        rule_ref = ref(ref_group, label)
        if ref_group not in names:
            warnings.append(
                f"{at}: rule references security group {ref_group}, which the snapshot does not contain: "
                "it matches nothing (as AWS treats unknown peered groups)"
            )
            lines.append(line(None, rule_ref, ref_group))
            continue
        found = members.get(ref_group, [])
        lines += [line(c, rule_ref, ref_group) for c in found] or [line(None, rule_ref, ref_group)]
    return lines


def absent_groups(interfaces: dict[str, Interface], security_groups: dict[str, CompiledGroup]) -> tuple[str, ...]:
    """Interfaces naming groups the snapshot lacks: their rules are unknown, so say so once per group."""
    users: dict[str, list[str]] = {}
    for interface in interfaces.values():
        for group in interface.groups:
            if group not in security_groups:
                users.setdefault(group, []).append(interface.id)
    return tuple(
        f"security group {group} (on {', '.join(enis[:3])}{' …' if len(enis) > 3 else ''}) is not in the snapshot: "
        "its rules are unknown and taken as allowing nothing"
        for group, enis in sorted(users.items())
    )


def find_group_references(security_groups: dict[str, CompiledGroup]) -> Compiled[Mapping[RuleRef, str]]:
    """Compiled lines that match by membership of another group -> that group: a transit gateway without
    security group referencing support discards that membership, so these lines cannot match what it forwards.
    A view over the groups (`GroupReferences`), read one group at a time, as the compile cache reads it too."""
    return Compiled(GroupReferences(security_groups))


def find_unresolved(
    security_groups: dict[str, CompiledGroup], prefix_lists: dict[str, list[Cidr]]
) -> Compiled[dict[RuleRef, str]]:
    """Compiled rule lines that stand for a group or prefix list the snapshot lacks -> that missing id, so
    an explanation can say which piece was missing and what was assumed (it matches nothing)."""
    found: dict[RuleRef, str] = {}
    for group in security_groups.values():
        for line in group.ingress_lines + group.egress_lines:
            if line.peer_group is not None and line.peer_group not in security_groups:
                found[line.ref] = line.peer_group
            elif line.peer_prefix_list is not None and line.peer_prefix_list not in prefix_lists:
                found[line.ref] = line.peer_prefix_list
    return Compiled(found)
