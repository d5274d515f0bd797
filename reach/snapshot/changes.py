"""Change sets: EC2 API calls applied to a loaded snapshot, giving a new snapshot.

A change set is a JSON list of `{"action": "<EC2 API action>", "params": {...}}`, with the parameters
`aws ec2 <action> --cli-input-json` takes. `apply_changes` never touches the snapshot it is given: models are
frozen, and every edited resource is a `model_copy(update=...)` in a new resource list.

What AWS would refuse because something is absent (a group, an ACL, a route, an entry, a rule id) is a
`ChangeError` naming the action's position, the action and the missing id. What AWS would accept but that
leads nowhere (a route to a NAT gateway the snapshot does not hold) is applied and noted: the what-if then
shows its consequence.

Security group rules are kept in two shapes, as describe-* returns them: `IpPermissions` on the group and
one `SecurityGroupRules` line per peer. Both are edited together; a new rule gets the id
`sgr-planned-<action>-<n>` so explanations can name it before AWS has.

Besides the actions a change set typically holds, a few creations and deletions that Terraform plans need
are supported (`CreateSecurityGroup`, `DeleteSecurityGroup`, `CreateNetworkAcl`, `DeleteNetworkAcl`,
`CreateRouteTable`, `DeleteRouteTable`, `DisassociateRouteTable`). For a creation, the id AWS would assign
may be given in the params (`GroupId`, `NetworkAclId`, `RouteTableId`); else a planned id is made up.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from reach.errors import ChangeError
from reach.snapshot.loader import Snapshot
from reach.snapshot.network_acl import NetworkAcl, NetworkAclAssociation, NetworkAclEntry
from reach.snapshot.network_interface import GroupIdentifier, NetworkInterface
from reach.snapshot.route_table import Route, RouteTable, RouteTableAssociation
from reach.snapshot.security_group import (
    IpPermission,
    IpRange,
    Ipv6Range,
    PrefixListRef,
    ReferencedGroupInfo,
    SecurityGroup,
    SecurityGroupRule,
    UserIdGroupPair,
)


@dataclass(frozen=True)
class Change:
    """One EC2 API call of a change set; `index` is its 1-based position, for messages."""

    index: int
    action: str
    params: Mapping[str, Any]

    def __str__(self) -> str:
        return f"change #{self.index} ({self.action})"


def parse_changes(data: Any, source: str = "change set") -> list[Change]:
    """A JSON list of `{"action", "params"}` objects -> changes. A single object is a list of one.

    Actions may be written as the API names them (`RevokeSecurityGroupIngress`) or as the CLI does
    (`revoke-security-group-ingress`).
    """
    if isinstance(data, Mapping) and "action" in data:
        data = [data]
    if not isinstance(data, list):
        raise ChangeError(
            f'{source}: expected a JSON list of {{"action": ..., "params": {{...}}}}, found {type(data).__name__}'
        )
    changes = []
    for position, item in enumerate(data, start=1):
        if not isinstance(item, Mapping) or not isinstance(item.get("action"), str):
            raise ChangeError(f"{source}: item #{position} is not an object with a string 'action'")
        params = item.get("params", {})
        if not isinstance(params, Mapping):
            raise ChangeError(f"{source}: item #{position} ({item['action']}): 'params' must be an object")
        action = _api_name(item["action"])
        if action not in ACTIONS:
            raise ChangeError(
                f"{source}: item #{position}: '{item['action']}' is not an action reach can apply; "
                f"supported: {', '.join(sorted(ACTIONS))}"
            )
        changes.append(Change(position, action, dict(params)))
    return changes


def apply_changes(snapshot: Snapshot, changes: Iterable[Change] | Any, notes: list[str] | None = None) -> Snapshot:
    """Apply the changes in order to a copy of `snapshot`; `notes` (if given) collects what is worth saying
    about changes AWS would accept but that point at things the snapshot lacks."""
    parsed = list(changes) if _all_changes(changes) else parse_changes(changes)
    work = _Work(snapshot, notes if notes is not None else [])
    for change in parsed:
        handler = ACTIONS.get(change.action)
        if handler is None:
            raise ChangeError(f"{change}: not an action reach can apply; supported: {', '.join(sorted(ACTIONS))}")
        work.change = change
        handler(work, change.params)
    return work.result()


def supported_actions() -> list[str]:
    return sorted(ACTIONS)


def _all_changes(changes: Any) -> bool:
    return isinstance(changes, list | tuple) and all(isinstance(c, Change) for c in changes)


def _api_name(action: str) -> str:
    action = action.strip()
    if action.startswith("ec2:"):
        action = action[4:]
    if "-" in action or action.islower():
        return "".join(part.capitalize() for part in re.split(r"[-_]", action))
    return action


# --- the working copy -------------------------------------------------------------------------------------


@dataclass
class _Work:
    """The snapshot being edited: resource lists are copied the first time they change."""

    base: Snapshot
    notes: list[str]
    change: Change = field(default_factory=lambda: Change(0, "", {}))
    _lists: dict[str, list[Any]] = field(default_factory=dict)
    _counter: int = 0

    def items(self, key: str) -> list[Any]:
        if key not in self._lists:
            self._lists[key] = list(self.base.of(key))
        return self._lists[key]

    def fail(self, message: str) -> ChangeError:
        return ChangeError(f"{self.change}: {message}")

    def index(self, key: str, attr: str, rid: str) -> int:
        """Position of the resource whose `attr` is `rid`, or -1."""
        for position, item in enumerate(self.items(key)):
            if getattr(item, attr) == rid:
                return position
        return -1

    def get(self, key: str, attr: str, rid: str, what: str) -> tuple[int, Any]:
        """The resource whose `attr` is `rid`, and its position; a ChangeError naming it when it is absent."""
        position = self.index(key, attr, rid)
        if position < 0:
            raise self.fail(f"{what} {rid} is not in the snapshot")
        return position, self.items(key)[position]

    def put(self, key: str, position: int, item: Any) -> None:
        self.items(key)[position] = item

    def planned(self, prefix: str) -> str:
        self._counter += 1
        return f"{prefix}-planned-{self.change.index}-{self._counter}"

    def result(self) -> Snapshot:
        resources = dict(self.base.resources)
        resources.update(self._lists)
        return dataclasses.replace(self.base, resources=resources, origins=dict(self.base.origins))


def _param(work: _Work, params: Mapping[str, Any], name: str) -> Any:
    if name not in params or params[name] in (None, ""):
        raise work.fail(f"parameter '{name}' is missing")
    return params[name]


def _validate(work: _Work, model: type[BaseModel], data: Mapping[str, Any], what: str) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"'{'.'.join(str(p) for p in e['loc'])}': {e['msg'].lower()}" for e in exc.errors()[:3])
        raise work.fail(f"{what}: {problems}") from None


def _bool(value: Any) -> bool:
    if isinstance(value, Mapping):  # {"Value": true}, as ModifyNetworkInterfaceAttribute takes it
        value = value.get("Value")
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


# --- security groups ----------------------------------------------------------------------------------------

_PROTOCOLS = {"6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6", "all": "-1"}


@dataclass(frozen=True)
class _Rule:
    """One security group rule: one permission, one peer (the unit AWS gives an sgr- id)."""

    egress: bool
    protocol: str
    from_port: int | None
    to_port: int | None
    peer_kind: str  # cidr | cidr6 | prefix-list | group
    peer: str
    description: str | None = None

    @property
    def key(self) -> tuple[bool, str, int | None, int | None, str, str]:
        return (self.egress, self.protocol, self.from_port, self.to_port, self.peer_kind, self.peer)

    def text(self) -> str:
        ports = "" if self.protocol == "-1" else f" {self.from_port}-{self.to_port}"
        side = "to" if self.egress else "from"
        return f"{'egress' if self.egress else 'ingress'} {self.protocol}{ports} {side} {self.peer}"


def _norm_protocol(value: Any) -> str:
    text = str(value).strip().lower()
    return _PROTOCOLS.get(text, text)


def _norm_ports(protocol: str, from_port: Any, to_port: Any) -> tuple[int | None, int | None]:
    if protocol == "-1":
        return None, None
    return (None if from_port is None else int(from_port)), (None if to_port is None else int(to_port))


def _rules_of_permission(
    permission: Mapping[str, Any], egress: bool, group_names: Mapping[str, str], work: _Work
) -> list[_Rule]:
    protocol = _norm_protocol(permission.get("IpProtocol", "-1"))
    from_port, to_port = _norm_ports(protocol, permission.get("FromPort"), permission.get("ToPort"))
    rules = []

    def add(kind: str, peer: str, description: Any) -> None:
        rules.append(_Rule(egress, protocol, from_port, to_port, kind, peer, description))

    for list_name, kind, field_name in (
        ("IpRanges", "cidr", "CidrIp"),
        ("Ipv6Ranges", "cidr6", "CidrIpv6"),
        ("PrefixListIds", "prefix-list", "PrefixListId"),
    ):
        for item in permission.get(list_name, []) or []:
            if not isinstance(item, Mapping) or not item.get(field_name):
                raise work.fail(f"an item of {list_name} has no {field_name}")
            add(kind, str(item[field_name]), item.get("Description"))
    for item in permission.get("UserIdGroupPairs", []) or []:
        group_id = item.get("GroupId")
        if not group_id and item.get("GroupName"):
            group_id = group_names.get(item["GroupName"])
            if group_id is None:
                raise work.fail(f"security group named {item['GroupName']} is not in the snapshot")
        if not group_id:
            raise work.fail("a UserIdGroupPair names no GroupId")
        add("group", group_id, item.get("Description"))
    if not rules:
        raise work.fail(
            f"a permission ({protocol}) names no peer: no IpRanges, Ipv6Ranges, PrefixListIds or UserIdGroupPairs"
        )
    return rules


def _rules_of_group(group: SecurityGroup) -> list[_Rule]:
    rules = []
    for egress, permissions in ((False, group.ip_permissions), (True, group.ip_permissions_egress)):
        for permission in permissions:
            protocol = _norm_protocol(permission.ip_protocol)
            from_port, to_port = _norm_ports(protocol, permission.from_port, permission.to_port)
            for r in permission.ip_ranges:
                rules.append(_Rule(egress, protocol, from_port, to_port, "cidr", r.cidr_ip, r.description))
            for r6 in permission.ipv6_ranges:
                rules.append(_Rule(egress, protocol, from_port, to_port, "cidr6", r6.cidr_ipv6, r6.description))
            for pl in permission.prefix_list_ids:
                rules.append(
                    _Rule(egress, protocol, from_port, to_port, "prefix-list", pl.prefix_list_id, pl.description)
                )
            for pair in permission.user_id_group_pairs:
                rules.append(
                    _Rule(egress, protocol, from_port, to_port, "group", pair.group_id or "?", pair.description)
                )
    return rules


def _rule_of_line(line: SecurityGroupRule) -> _Rule:
    protocol = _norm_protocol(line.ip_protocol)
    from_port, to_port = _norm_ports(protocol, line.from_port, line.to_port)
    if line.cidr_ipv4:
        kind, peer = "cidr", line.cidr_ipv4
    elif line.cidr_ipv6:
        kind, peer = "cidr6", line.cidr_ipv6
    elif line.prefix_list_id:
        kind, peer = "prefix-list", line.prefix_list_id
    else:
        kind, peer = (
            "group",
            (line.referenced_group_info.group_id if line.referenced_group_info else None) or "?",
        )
    return _Rule(line.is_egress, protocol, from_port, to_port, kind, peer, line.description)


def _permissions(rules: Sequence[_Rule], egress: bool) -> list[IpPermission]:
    """Rules -> IpPermissions as describe-security-groups groups them: by protocol and ports, in order."""
    grouped: dict[tuple[str, int | None, int | None], dict[str, list[Any]]] = {}
    for rule in rules:
        if rule.egress != egress:
            continue
        bucket = grouped.setdefault(
            (rule.protocol, rule.from_port, rule.to_port),
            {"cidr": [], "cidr6": [], "prefix-list": [], "group": []},
        )
        if rule.peer_kind == "cidr":
            bucket["cidr"].append(IpRange(cidr_ip=rule.peer, description=rule.description))
        elif rule.peer_kind == "cidr6":
            bucket["cidr6"].append(Ipv6Range(cidr_ipv6=rule.peer, description=rule.description))
        elif rule.peer_kind == "prefix-list":
            bucket["prefix-list"].append(PrefixListRef(prefix_list_id=rule.peer, description=rule.description))
        else:
            bucket["group"].append(UserIdGroupPair(group_id=rule.peer, description=rule.description))
    return [
        IpPermission(
            ip_protocol=protocol,
            from_port=from_port,
            to_port=to_port,
            ip_ranges=peers["cidr"],
            ipv6_ranges=peers["cidr6"],
            prefix_list_ids=peers["prefix-list"],
            user_id_group_pairs=peers["group"],
        )
        for (protocol, from_port, to_port), peers in grouped.items()
    ]


def _rule_line(group_id: str, rule: _Rule, rule_id: str) -> SecurityGroupRule:
    ports = (-1, -1) if rule.protocol == "-1" else (rule.from_port, rule.to_port)
    return SecurityGroupRule(
        security_group_rule_id=rule_id,
        group_id=group_id,
        is_egress=rule.egress,
        ip_protocol=rule.protocol,
        from_port=ports[0],
        to_port=ports[1],
        cidr_ipv4=rule.peer if rule.peer_kind == "cidr" else None,
        cidr_ipv6=rule.peer if rule.peer_kind == "cidr6" else None,
        prefix_list_id=rule.peer if rule.peer_kind == "prefix-list" else None,
        referenced_group_info=ReferencedGroupInfo(group_id=rule.peer) if rule.peer_kind == "group" else None,
        description=rule.description,
    )


def _group_id(work: _Work, params: Mapping[str, Any]) -> str:
    if params.get("GroupId"):
        return str(params["GroupId"])
    if params.get("GroupName"):
        matches = [g.group_id for g in work.items("SecurityGroups") if g.group_name == params["GroupName"]]
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise work.fail(
                f"several security groups are named {params['GroupName']}: {', '.join(matches)}; use GroupId"
            )
        raise work.fail(f"security group named {params['GroupName']} is not in the snapshot")
    raise work.fail("parameter 'GroupId' is missing")


def _group_names(work: _Work) -> dict[str, str]:
    return {g.group_name: g.group_id for g in work.items("SecurityGroups") if g.group_name}


def _edit_group(
    work: _Work,
    group_id: str,
    edit: Callable[[list[_Rule], dict[tuple[Any, ...], str]], tuple[list[_Rule], dict[tuple[Any, ...], str]]],
) -> None:
    """Rewrite a group's rules through `edit(rules, sgr ids by rule key)`, then both describe-* shapes."""
    position, group = work.get("SecurityGroups", "group_id", group_id, "security group")
    rules = _rules_of_group(group)
    existing = {rule.key for rule in rules}
    lines = work.items("SecurityGroupRules")
    ids = {_rule_of_line(line).key: line.security_group_rule_id for line in lines if line.group_id == group_id}
    rules, ids = edit(rules, ids)
    work.put(
        "SecurityGroups",
        position,
        group.model_copy(
            update={
                "ip_permissions": _permissions(rules, egress=False),
                "ip_permissions_egress": _permissions(rules, egress=True),
            }
        ),
    )
    kept = [line for line in lines if line.group_id != group_id]
    for rule in rules:
        rule_id = ids.get(rule.key)
        if rule_id is None and rule.key in existing:
            continue  # the snapshot has no describe-security-group-rules line for it: it still has none
        if rule_id is None:
            rule_id = ids[rule.key] = work.planned("sgr")
        kept.append(_rule_line(group_id, rule, rule_id))
    lines[:] = kept


def _legacy_permission(params: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The pre-IpPermissions form: CidrIp, IpProtocol, FromPort, ToPort, SourceSecurityGroupName/Id."""
    if not any(k in params for k in ("CidrIp", "SourceSecurityGroupName", "SourceSecurityGroupId")):
        return []
    permission: dict[str, Any] = {
        "IpProtocol": params.get("IpProtocol", "-1"),
        "FromPort": params.get("FromPort"),
        "ToPort": params.get("ToPort"),
    }
    if params.get("CidrIp"):
        permission["IpRanges"] = [{"CidrIp": params["CidrIp"]}]
    pair = {
        k: params[v]
        for k, v in (("GroupId", "SourceSecurityGroupId"), ("GroupName", "SourceSecurityGroupName"))
        if params.get(v)
    }
    if pair:
        permission["UserIdGroupPairs"] = [pair]
    return [permission]


def _requested_rules(work: _Work, params: Mapping[str, Any], egress: bool) -> list[_Rule]:
    permissions = params.get("IpPermissions") or _legacy_permission(params)
    if not permissions:
        raise work.fail("no IpPermissions (nor CidrIp/SourceSecurityGroupId) to apply")
    names = _group_names(work)
    rules = []
    for permission in permissions:
        if not isinstance(permission, Mapping):
            raise work.fail("each IpPermissions item must be an object")
        rules += _rules_of_permission(permission, egress, names, work)
    for rule in rules:
        if rule.peer_kind == "group" and work.index("SecurityGroups", "group_id", rule.peer) < 0:
            work.notes.append(
                f"{work.change}: rule {rule.text()} references security group {rule.peer}, "
                "which the snapshot does not hold: it matches nothing"
            )
    return rules


def _authorize(egress: bool) -> Callable[[_Work, Mapping[str, Any]], None]:
    def handler(work: _Work, params: Mapping[str, Any]) -> None:
        group_id = _group_id(work, params)
        new = _requested_rules(work, params, egress)

        def edit(rules: list[_Rule], ids: dict[tuple[Any, ...], str]) -> tuple[list[_Rule], dict[tuple[Any, ...], str]]:
            present = {r.key for r in rules}
            for rule in new:
                if rule.key in present:
                    raise work.fail(
                        f"security group {group_id} already has the rule {rule.text()} "
                        "(AWS: InvalidPermission.Duplicate)"
                    )
                present.add(rule.key)
            return rules + new, ids

        _edit_group(work, group_id, edit)

    return handler


def _revoke(egress: bool) -> Callable[[_Work, Mapping[str, Any]], None]:
    def handler(work: _Work, params: Mapping[str, Any]) -> None:
        group_id = _group_id(work, params)
        rule_ids = params.get("SecurityGroupRuleIds") or []
        by_permission = [] if rule_ids and not params.get("IpPermissions") else _requested_rules(work, params, egress)

        def edit(rules: list[_Rule], ids: dict[tuple[Any, ...], str]) -> tuple[list[_Rule], dict[tuple[Any, ...], str]]:
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

    return handler


def _modify_security_group_rules(work: _Work, params: Mapping[str, Any]) -> None:
    group_id = _group_id(work, params)
    updates = params.get("SecurityGroupRules") or []
    if not updates:
        raise work.fail("parameter 'SecurityGroupRules' is missing")

    def edit(rules: list[_Rule], ids: dict[tuple[Any, ...], str]) -> tuple[list[_Rule], dict[tuple[Any, ...], str]]:
        by_id = {v: k for k, v in ids.items()}
        for update in updates:
            rule_id = update.get("SecurityGroupRuleId")
            key = by_id.get(rule_id)
            if key is None:
                raise work.fail(f"security group rule {rule_id} of {group_id} is not in the snapshot")
            spec = update.get("SecurityGroupRule") or {}
            protocol = _norm_protocol(spec.get("IpProtocol", "-1"))
            from_port, to_port = _norm_ports(protocol, spec.get("FromPort"), spec.get("ToPort"))
            peers = [
                (k, spec[f])
                for k, f in (
                    ("cidr", "CidrIpv4"),
                    ("cidr6", "CidrIpv6"),
                    ("prefix-list", "PrefixListId"),
                    ("group", "ReferencedGroupId"),
                )
                if spec.get(f)
            ]
            if len(peers) != 1:
                raise work.fail(
                    f"rule {rule_id}: give exactly one of CidrIpv4, CidrIpv6, PrefixListId, ReferencedGroupId"
                )
            new = _Rule(key[0], protocol, from_port, to_port, peers[0][0], peers[0][1], spec.get("Description"))
            position = next(i for i, r in enumerate(rules) if r.key == key)
            rules[position] = new
            del ids[key]
            ids[new.key] = rule_id
            by_id[rule_id] = new.key
        return rules, ids

    _edit_group(work, group_id, edit)


def _create_security_group(work: _Work, params: Mapping[str, Any]) -> None:
    name = _param(work, params, "GroupName")
    group_id = params.get("GroupId") or work.planned("sg")
    if work.index("SecurityGroups", "group_id", group_id) >= 0:
        raise work.fail(f"security group {group_id} already exists")
    vpc_id = params.get("VpcId")
    if vpc_id and work.index("Vpcs", "vpc_id", vpc_id) < 0:
        raise work.fail(f"VPC {vpc_id} is not in the snapshot")
    # AWS gives a new VPC group one rule: all traffic out.
    everything = IpPermission(ip_protocol="-1", ip_ranges=[IpRange(cidr_ip="0.0.0.0/0")])
    work.items("SecurityGroups").append(
        SecurityGroup(
            group_id=group_id,
            group_name=name,
            description=params.get("Description"),
            vpc_id=vpc_id,
            ip_permissions=[],
            ip_permissions_egress=[everything],
        )
    )
    work.items("SecurityGroupRules").append(
        _rule_line(group_id, _Rule(True, "-1", None, None, "cidr", "0.0.0.0/0"), work.planned("sgr"))
    )


def _delete_security_group(work: _Work, params: Mapping[str, Any]) -> None:
    group_id = _group_id(work, params)
    position, _ = work.get("SecurityGroups", "group_id", group_id, "security group")
    users = [
        eni.network_interface_id
        for eni in work.items("NetworkInterfaces")
        if any(g.group_id == group_id for g in eni.groups)
    ]
    if users:
        raise work.fail(f"security group {group_id} is still used by {', '.join(users)} (AWS: DependencyViolation)")
    del work.items("SecurityGroups")[position]
    lines = work.items("SecurityGroupRules")
    lines[:] = [line for line in lines if line.group_id != group_id]


# --- network ACLs -------------------------------------------------------------------------------------------


def _acl_entry(work: _Work, params: Mapping[str, Any]) -> NetworkAclEntry:
    data: dict[str, Any] = {
        "RuleNumber": _param(work, params, "RuleNumber"),
        "Protocol": str(_param(work, params, "Protocol")),
        "RuleAction": str(_param(work, params, "RuleAction")).lower(),
        "Egress": _bool(params.get("Egress", False)),
    }
    for name in ("CidrBlock", "Ipv6CidrBlock", "PortRange", "IcmpTypeCode"):
        if params.get(name) is not None:
            data[name] = params[name]
    if not data.get("CidrBlock") and not data.get("Ipv6CidrBlock"):
        raise work.fail("parameter 'CidrBlock' (or 'Ipv6CidrBlock') is missing")
    if data["RuleAction"] not in ("allow", "deny"):
        raise work.fail(f"RuleAction must be allow or deny, not '{data['RuleAction']}'")
    entry: NetworkAclEntry = _validate(work, NetworkAclEntry, data, "network ACL entry")
    return entry


def _acl(work: _Work, params: Mapping[str, Any]) -> tuple[int, NetworkAcl]:
    acl_id = str(_param(work, params, "NetworkAclId"))
    return work.get("NetworkAcls", "network_acl_id", acl_id, "network ACL")


def _entry_position(acl: NetworkAcl, number: int, egress: bool) -> int:
    for position, entry in enumerate(acl.entries):
        if entry.rule_number == number and entry.egress == egress:
            return position
    return -1


def _side(egress: bool) -> str:
    return "outbound" if egress else "inbound"


def _create_network_acl_entry(work: _Work, params: Mapping[str, Any]) -> None:
    position, acl = _acl(work, params)
    entry = _acl_entry(work, params)
    if _entry_position(acl, entry.rule_number, entry.egress) >= 0:
        raise work.fail(
            f"network ACL {acl.network_acl_id} already has {_side(entry.egress)} rule #{entry.rule_number} "
            "(AWS: NetworkAclEntryAlreadyExists); use ReplaceNetworkAclEntry"
        )
    work.put("NetworkAcls", position, acl.model_copy(update={"entries": [*acl.entries, entry]}))


def _replace_network_acl_entry(work: _Work, params: Mapping[str, Any]) -> None:
    position, acl = _acl(work, params)
    entry = _acl_entry(work, params)
    at = _entry_position(acl, entry.rule_number, entry.egress)
    if at < 0:
        raise work.fail(
            f"network ACL {acl.network_acl_id} has no {_side(entry.egress)} rule #{entry.rule_number} to replace"
        )
    entries = list(acl.entries)
    entries[at] = entry
    work.put("NetworkAcls", position, acl.model_copy(update={"entries": entries}))


def _delete_network_acl_entry(work: _Work, params: Mapping[str, Any]) -> None:
    position, acl = _acl(work, params)
    number, egress = int(_param(work, params, "RuleNumber")), _bool(params.get("Egress", False))
    at = _entry_position(acl, number, egress)
    if at < 0:
        raise work.fail(f"network ACL {acl.network_acl_id} has no {_side(egress)} rule #{number} to delete")
    entries = [e for i, e in enumerate(acl.entries) if i != at]
    work.put("NetworkAcls", position, acl.model_copy(update={"entries": entries}))


def _replace_network_acl_association(work: _Work, params: Mapping[str, Any]) -> None:
    """Moves a subnet to another ACL. Besides AWS's `AssociationId`, reach takes `SubnetId` (the subnet's
    association at that point of the change set), which is what a Terraform plan knows."""
    association_id, subnet_id = params.get("AssociationId"), params.get("SubnetId")
    if not association_id and not subnet_id:
        raise work.fail("parameter 'AssociationId' is missing")
    target_position, _ = _acl(work, params)
    found: NetworkAclAssociation | None = None
    for position, acl in enumerate(work.items("NetworkAcls")):
        for association in acl.associations:
            if association.network_acl_association_id == association_id or (
                not association_id and association.subnet_id == subnet_id
            ):
                found = association
                rest = [a for a in acl.associations if a is not association]
                work.put("NetworkAcls", position, acl.model_copy(update={"associations": rest}))
                break
        if found is not None:
            break
    if found is None:
        if association_id:
            raise work.fail(f"network ACL association {association_id} is not in the snapshot")
        work.get("Subnets", "subnet_id", str(subnet_id), "subnet")  # a subnet on its VPC's default ACL, implicitly
    target = work.items("NetworkAcls")[target_position]
    moved = NetworkAclAssociation(
        subnet_id=found.subnet_id if found else str(subnet_id),
        network_acl_id=target.network_acl_id,
        network_acl_association_id=work.planned("aclassoc"),
    )
    work.put("NetworkAcls", target_position, target.model_copy(update={"associations": [*target.associations, moved]}))


def _create_network_acl(work: _Work, params: Mapping[str, Any]) -> None:
    vpc_id = str(_param(work, params, "VpcId"))
    if work.index("Vpcs", "vpc_id", vpc_id) < 0:
        raise work.fail(f"VPC {vpc_id} is not in the snapshot")
    acl_id = params.get("NetworkAclId") or work.planned("acl")
    if work.index("NetworkAcls", "network_acl_id", acl_id) >= 0:
        raise work.fail(f"network ACL {acl_id} already exists")
    # A new ACL denies everything until entries are added (the * rules).
    defaults = [
        NetworkAclEntry(rule_number=32767, protocol="-1", rule_action="deny", egress=egress, cidr_block="0.0.0.0/0")
        for egress in (False, True)
    ]
    work.items("NetworkAcls").append(NetworkAcl(network_acl_id=acl_id, vpc_id=vpc_id, entries=defaults))


def _delete_network_acl(work: _Work, params: Mapping[str, Any]) -> None:
    position, acl = _acl(work, params)
    if acl.associations:
        raise work.fail(
            f"network ACL {acl.network_acl_id} is still associated with "
            f"{', '.join(a.subnet_id for a in acl.associations)} (AWS: DependencyViolation)"
        )
    if acl.is_default:
        raise work.fail(f"network ACL {acl.network_acl_id} is its VPC's default and cannot be deleted")
    del work.items("NetworkAcls")[position]


# --- routes -------------------------------------------------------------------------------------------

_DESTINATIONS = ("DestinationCidrBlock", "DestinationIpv6CidrBlock", "DestinationPrefixListId")
_TARGETS = (
    "GatewayId",
    "NatGatewayId",
    "NetworkInterfaceId",
    "InstanceId",
    "VpcPeeringConnectionId",
    "TransitGatewayId",
    "EgressOnlyInternetGatewayId",
    "LocalGatewayId",
    "CarrierGatewayId",
    "CoreNetworkArn",
    "VpcEndpointId",
)
# Where a route's target would be found in the snapshot, to say so when it is not.
_TARGET_HOMES = {
    "NatGatewayId": ("NatGateways", "nat_gateway_id", "NAT gateway"),
    "NetworkInterfaceId": ("NetworkInterfaces", "network_interface_id", "network interface"),
    "VpcPeeringConnectionId": (
        "VpcPeeringConnections",
        "vpc_peering_connection_id",
        "VPC peering connection",
    ),
    "EgressOnlyInternetGatewayId": (
        "EgressOnlyInternetGateways",
        "egress_only_internet_gateway_id",
        "egress-only internet gateway",
    ),
}


def _table(work: _Work, params: Mapping[str, Any]) -> tuple[int, RouteTable]:
    table_id = str(_param(work, params, "RouteTableId"))
    return work.get("RouteTables", "route_table_id", table_id, "route table")


def _destination(work: _Work, params: Mapping[str, Any]) -> tuple[str, str]:
    given = [(name, str(params[name])) for name in _DESTINATIONS if params.get(name)]
    if len(given) != 1:
        raise work.fail("give exactly one of DestinationCidrBlock, DestinationIpv6CidrBlock, DestinationPrefixListId")
    return given[0]


def _route(work: _Work, params: Mapping[str, Any], table: RouteTable) -> Route:
    name, destination = _destination(work, params)
    targets = {t: params[t] for t in _TARGETS if params.get(t)}
    if len(targets) != 1:
        raise work.fail(f"give exactly one route target ({', '.join(_TARGETS)}); found {len(targets)}")
    ((target_name, target),) = targets.items()
    home = _TARGET_HOMES.get(target_name)
    if target_name == "GatewayId" and str(target).startswith("igw-"):
        home = ("InternetGateways", "internet_gateway_id", "internet gateway")
    if home and work.index(home[0], home[1], target) < 0:
        work.notes.append(
            f"{work.change}: {table.route_table_id} route {destination} points at {home[2]} {target}, "
            "which the snapshot does not hold"
        )
    data = {name: destination, target_name: target, "State": "active", "Origin": "CreateRoute"}
    route: Route = _validate(work, Route, data, "route")
    return route


def _route_position(table: RouteTable, destination: str) -> int:
    for position, route in enumerate(table.routes):
        if route.destination() == destination:
            return position
    return -1


def _create_route(work: _Work, params: Mapping[str, Any]) -> None:
    position, table = _table(work, params)
    route = _route(work, params, table)
    if _route_position(table, route.destination() or "") >= 0:
        raise work.fail(
            f"route table {table.route_table_id} already has a route for {route.destination()} "
            "(AWS: RouteAlreadyExists); use ReplaceRoute"
        )
    work.put("RouteTables", position, table.model_copy(update={"routes": [*table.routes, route]}))


def _replace_route(work: _Work, params: Mapping[str, Any]) -> None:
    position, table = _table(work, params)
    route = _route(work, params, table)
    at = _route_position(table, route.destination() or "")
    if at < 0:
        raise work.fail(f"route table {table.route_table_id} has no route for {route.destination()} to replace")
    if table.routes[at].gateway_id == "local" and route.gateway_id != "local":
        work.notes.append(f"{work.change}: replaces the local route {route.destination()} of {table.route_table_id}")
    routes = list(table.routes)
    routes[at] = route
    work.put("RouteTables", position, table.model_copy(update={"routes": routes}))


def _delete_route(work: _Work, params: Mapping[str, Any]) -> None:
    position, table = _table(work, params)
    _, destination = _destination(work, params)
    at = _route_position(table, destination)
    if at < 0:
        raise work.fail(f"route table {table.route_table_id} has no route for {destination} to delete")
    if table.routes[at].gateway_id == "local":
        raise work.fail(f"the local route {destination} of {table.route_table_id} cannot be deleted")
    work.put(
        "RouteTables",
        position,
        table.model_copy(update={"routes": [r for i, r in enumerate(table.routes) if i != at]}),
    )


def _find_association(work: _Work, association_id: str) -> tuple[int, RouteTable, RouteTableAssociation]:
    for position, table in enumerate(work.items("RouteTables")):
        for association in table.associations:
            if association.route_table_association_id == association_id:
                return position, table, association
    raise work.fail(f"route table association {association_id} is not in the snapshot")


def _without(table: RouteTable, association_id: str) -> RouteTable:
    return table.model_copy(
        update={"associations": [a for a in table.associations if a.route_table_association_id != association_id]}
    )


def _replace_route_table_association(work: _Work, params: Mapping[str, Any]) -> None:
    association_id = str(_param(work, params, "AssociationId"))
    position, table, association = _find_association(work, association_id)
    target_position, _ = _table(work, params)
    work.put("RouteTables", position, _without(table, association_id))
    target = work.items("RouteTables")[target_position]
    moved = association.model_copy(update={"route_table_association_id": work.planned("rtbassoc")})
    work.put(
        "RouteTables",
        target_position,
        target.model_copy(update={"associations": [*target.associations, moved]}),
    )


def _associate_route_table(work: _Work, params: Mapping[str, Any]) -> None:
    position, table = _table(work, params)
    subnet_id, gateway_id = params.get("SubnetId"), params.get("GatewayId")
    if not subnet_id and not gateway_id:
        raise work.fail("parameter 'SubnetId' (or 'GatewayId') is missing")
    if subnet_id:
        work.get("Subnets", "subnet_id", subnet_id, "subnet")
        for other in work.items("RouteTables"):
            if any(a.subnet_id == subnet_id for a in other.associations):
                raise work.fail(
                    f"subnet {subnet_id} is already associated with {other.route_table_id} "
                    "(AWS: Resource.AlreadyAssociated); use ReplaceRouteTableAssociation"
                )
    association = RouteTableAssociation(
        main=False,
        subnet_id=subnet_id,
        gateway_id=gateway_id,
        route_table_association_id=params.get("AssociationId") or work.planned("rtbassoc"),
    )
    work.put("RouteTables", position, table.model_copy(update={"associations": [*table.associations, association]}))


def _disassociate_route_table(work: _Work, params: Mapping[str, Any]) -> None:
    association_id = str(_param(work, params, "AssociationId"))
    position, table, association = _find_association(work, association_id)
    if association.main:
        raise work.fail(
            f"{association_id} is the main route table association of {table.vpc_id}; it can only be replaced"
        )
    work.put("RouteTables", position, _without(table, association_id))


def _create_route_table(work: _Work, params: Mapping[str, Any]) -> None:
    vpc_id = str(_param(work, params, "VpcId"))
    _, vpc = work.get("Vpcs", "vpc_id", vpc_id, "VPC")
    table_id = params.get("RouteTableId") or work.planned("rtb")
    if work.index("RouteTables", "route_table_id", table_id) >= 0:
        raise work.fail(f"route table {table_id} already exists")
    local = [Route(destination_cidr_block=c, gateway_id="local", origin="CreateRouteTable") for c in vpc.ipv4_cidrs()]
    local += [
        Route(destination_ipv6_cidr_block=c, gateway_id="local", origin="CreateRouteTable") for c in vpc.ipv6_cidrs()
    ]
    work.items("RouteTables").append(RouteTable(route_table_id=table_id, vpc_id=vpc_id, routes=local))


def _delete_route_table(work: _Work, params: Mapping[str, Any]) -> None:
    position, table = _table(work, params)
    if table.associations:
        raise work.fail(f"route table {table.route_table_id} still has associations (AWS: DependencyViolation)")
    del work.items("RouteTables")[position]


# --- network interfaces ------------------------------------------------------------------------------------


def _modify_network_interface_attribute(work: _Work, params: Mapping[str, Any]) -> None:
    eni_id = str(_param(work, params, "NetworkInterfaceId"))
    position, eni = work.get("NetworkInterfaces", "network_interface_id", eni_id, "network interface")
    update: dict[str, Any] = {}
    if "Groups" in params:
        groups = []
        for group_id in params["Groups"] or []:
            _, group = work.get("SecurityGroups", "group_id", group_id, "security group")
            groups.append(GroupIdentifier(group_id=group_id, group_name=group.group_name))
        if not groups:
            raise work.fail("an interface needs at least one security group")
        update["groups"] = groups
    if "SourceDestCheck" in params:
        update["source_dest_check"] = _bool(params["SourceDestCheck"])
    if "Description" in params:
        update["description"] = _text_value(params["Description"])
    unknown = set(params) - {"NetworkInterfaceId", "Groups", "SourceDestCheck", "Description", "DryRun"}
    if unknown:
        raise work.fail(f"reach models only Groups and SourceDestCheck, not {', '.join(sorted(unknown))}")
    if not update:
        raise work.fail("nothing to modify: give Groups or SourceDestCheck")
    modified: NetworkInterface = eni.model_copy(update=update)
    work.put("NetworkInterfaces", position, modified)


def _text_value(value: Any) -> str | None:
    if isinstance(value, Mapping):
        value = value.get("Value")
    return None if value is None else str(value)


ACTIONS: dict[str, Callable[[_Work, Mapping[str, Any]], None]] = {
    "AuthorizeSecurityGroupIngress": _authorize(egress=False),
    "AuthorizeSecurityGroupEgress": _authorize(egress=True),
    "RevokeSecurityGroupIngress": _revoke(egress=False),
    "RevokeSecurityGroupEgress": _revoke(egress=True),
    "ModifySecurityGroupRules": _modify_security_group_rules,
    "CreateSecurityGroup": _create_security_group,
    "DeleteSecurityGroup": _delete_security_group,
    "CreateNetworkAclEntry": _create_network_acl_entry,
    "ReplaceNetworkAclEntry": _replace_network_acl_entry,
    "DeleteNetworkAclEntry": _delete_network_acl_entry,
    "ReplaceNetworkAclAssociation": _replace_network_acl_association,
    "CreateNetworkAcl": _create_network_acl,
    "DeleteNetworkAcl": _delete_network_acl,
    "CreateRoute": _create_route,
    "ReplaceRoute": _replace_route,
    "DeleteRoute": _delete_route,
    "ReplaceRouteTableAssociation": _replace_route_table_association,
    "AssociateRouteTable": _associate_route_table,
    "DisassociateRouteTable": _disassociate_route_table,
    "CreateRouteTable": _create_route_table,
    "DeleteRouteTable": _delete_route_table,
    "ModifyNetworkInterfaceAttribute": _modify_network_interface_attribute,
}
