"""Terraform plans (`terraform show -json plan.out`) -> the EC2 API calls they would make.

One translator per resource type (`TRANSLATORS`); each reads a resource change's `before` and `after` and
returns the calls that turn one into the other, in the phase they belong to: deletions first (rules
before the groups, tables and ACLs that hold them), then creations of containers, then everything
created or updated, then what `create_before_destroy` deletes last.

A resource the plan creates has no id yet. It gets a placeholder made from its address
(`sg-<aws_security_group.alb>`), and an attribute that is "known after apply" is resolved through the
plan's configuration: `security_group_id = aws_security_group.alb.id` names `aws_security_group.alb`. Every
placeholder is reported. Resource types reach does not translate are listed, never dropped silently.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reach.errors import ChangeError
from reach.snapshot.changes import Change, parse_changes
from reach.snapshot.loader import Snapshot

_PREFIXES = {
    "aws_security_group": "sg",
    "aws_network_acl": "acl",
    "aws_route_table": "rtb",
    "aws_route_table_association": "rtbassoc",
    "aws_nat_gateway": "nat",
    "aws_internet_gateway": "igw",
    "aws_egress_only_internet_gateway": "eigw",
    "aws_network_interface": "eni",
    "aws_vpc_peering_connection": "pcx",
    "aws_ec2_transit_gateway": "tgw",
    "aws_vpc_endpoint": "vpce",
    "aws_subnet": "subnet",
    "aws_vpc": "vpc",
    "aws_instance": "i",
}
_INDEX = re.compile(r"\[[^\]]*\]$")

# Phases: the order in which the calls of a whole plan are applied.
DELETE_LEAF, DELETE_CONTAINER, CREATE_CONTAINER, CHANGE, LATE_DELETE_LEAF, LATE_DELETE_CONTAINER = range(6)


@dataclass
class ChangeSet:
    """A change set ready to apply, with what is worth telling about how it was read."""

    changes: list[Change]
    source: str
    kind: str  # api | terraform
    notes: list[str] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)  # Terraform resources reach does not translate
    placeholders: dict[str, str] = field(default_factory=dict)  # Terraform address -> id used for it


def is_terraform_plan(data: Any) -> bool:
    return isinstance(data, Mapping) and ("resource_changes" in data or "terraform_version" in data)


def read_change_set(source: str | Path | Sequence[Any] | Mapping[str, Any], snapshot: Snapshot) -> ChangeSet:
    """A path to a JSON file, or its parsed content: a list of EC2 API calls, or a Terraform plan."""
    name = "change set"
    data: Any = source
    if isinstance(source, str | Path):
        name = str(source)
        try:
            data = json.loads(Path(source).read_text())
        except OSError as exc:
            raise ChangeError(f"change set {source} cannot be read ({exc.strerror})") from None
        except json.JSONDecodeError as exc:
            raise ChangeError(f"{source}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    if is_terraform_plan(data):
        return plan_changes(data, snapshot, source=name)
    if isinstance(data, list | tuple) and data and all(isinstance(c, Change) for c in data):
        return ChangeSet(list(data), name, "api")
    return ChangeSet(parse_changes(data, name), name, "api")


# --- reading a plan -------------------------------------------------------------------------------------------


@dataclass
class _Plan:
    snapshot: Snapshot
    source: str
    references: dict[str, dict[str, Any]]  # resource address -> its configuration expressions
    placeholders: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    groups: dict[str, list[str]] = field(default_factory=dict)  # interface -> its groups as the plan goes

    def placeholder(self, address: str) -> str | None:
        return self.placeholders.get(address) or self.placeholders.get(_INDEX.sub("", address))

    def value(self, change: Mapping[str, Any], address: str, name: str) -> Any:
        """An attribute of `after`; when it is only known after apply, the placeholder of what it refers to."""
        after = change.get("after") or {}
        if after.get(name) not in (None, ""):
            return after[name]
        unknown = change.get("after_unknown") or {}
        if not unknown.get(name):
            return after.get(name)
        expression = self.references.get(address, {}).get(name) or self.references.get(_INDEX.sub("", address), {}).get(
            name
        )
        for reference in (expression or {}).get("references", []):
            target = self.placeholder(_module_prefix(address) + reference.removesuffix(".id"))
            if target:
                return target
        self.notes.append(f"{address}: {name} is only known after apply and refers to nothing the plan creates")
        return f"<{address}.{name}>"


def _module_prefix(address: str) -> str:
    parts = address.split(".")
    prefix = []
    while len(parts) >= 2 and parts[0] == "module":
        prefix += parts[:2]
        parts = parts[2:]
    return ".".join(prefix) + ("." if prefix else "")


def _expressions(module: Mapping[str, Any], prefix: str, found: dict[str, dict[str, Any]]) -> None:
    for resource in module.get("resources", []):
        found[prefix + resource["address"]] = resource.get("expressions", {})
    for name, call in (module.get("module_calls") or {}).items():
        _expressions(call.get("module", {}), f"{prefix}module.{name}.", found)


def plan_changes(plan: Mapping[str, Any], snapshot: Snapshot, source: str = "plan") -> ChangeSet:
    references: dict[str, dict[str, Any]] = {}
    _expressions((plan.get("configuration") or {}).get("root_module", {}), "", references)
    state = _Plan(snapshot, source, references)
    resources = [rc for rc in plan.get("resource_changes", []) if rc.get("mode", "managed") == "managed"]
    unsupported = []
    for rc in resources:
        actions = rc["change"]["actions"]
        if "create" in actions and rc["type"] in _PREFIXES:
            known = (rc["change"].get("after") or {}).get("id")
            state.placeholders[rc["address"]] = known or f"{_PREFIXES[rc['type']]}-<{rc['address']}>"
    phased: list[tuple[int, int, str, dict[str, Any]]] = []
    for order, rc in enumerate(resources):
        actions = rc["change"]["actions"]
        if actions in (["no-op"], ["read"]):
            continue
        translate = TRANSLATORS.get(rc["type"])
        if translate is None:
            unsupported.append(f"{rc['address']} ({'/'.join(actions)})")
            continue
        for phase, action, params in translate(state, rc):
            phased.append((phase, order, action, params))
    phased.sort(key=lambda item: (item[0], item[1]))
    calls = [{"action": action, "params": params} for _, _, action, params in phased]
    notes = list(state.notes)
    for address, placeholder in sorted(state.placeholders.items()):
        if placeholder.endswith(">"):
            notes.append(
                f"{address} is created by the plan: its id is known after apply, so reach calls it {placeholder}"
            )
    if unsupported:
        notes.append(f"not translated (reach does not model these resource types): {', '.join(unsupported)}")
    return ChangeSet(parse_changes(calls, source), source, "terraform", notes, unsupported, dict(state.placeholders))


# --- translators ---------------------------------------------------------------------------------------------

Call = tuple[int, str, dict[str, Any]]


def _phases(actions: Sequence[str], container: bool) -> tuple[int, int]:
    """(phase of the deletion, phase of the creation) for a resource's actions."""
    late = actions == ["create", "delete"]
    if container:
        return (LATE_DELETE_CONTAINER if late else DELETE_CONTAINER), CREATE_CONTAINER
    return (LATE_DELETE_LEAF if late else DELETE_LEAF), CHANGE


def _rid(state: _Plan, rc: Mapping[str, Any], name: str) -> Any:
    return state.value(rc["change"], rc["address"], name)


def _before(rc: Mapping[str, Any]) -> dict[str, Any]:
    return dict(rc["change"].get("before") or {})


def _after(rc: Mapping[str, Any]) -> dict[str, Any]:
    return dict(rc["change"].get("after") or {})


# security groups: rules as single-peer permissions, keyed without their description

_PermissionKey = tuple[str, Any, Any, str, str]
_PEER_FIELDS = {
    "cidr": ("IpRanges", "CidrIp"),
    "cidr6": ("Ipv6Ranges", "CidrIpv6"),
    "prefix-list": ("PrefixListIds", "PrefixListId"),
    "group": ("UserIdGroupPairs", "GroupId"),
}


def _protocol(value: Any) -> str:
    text = str(value).strip().lower()
    return {"6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6", "all": "-1"}.get(text, text)


def _permission(
    protocol: str, from_port: Any, to_port: Any, kind: str, peer: str, description: Any
) -> tuple[_PermissionKey, dict[str, Any]]:
    protocol = _protocol(protocol)
    permission: dict[str, Any] = {"IpProtocol": protocol}
    if protocol != "-1":
        permission["FromPort"], permission["ToPort"] = from_port, to_port
    else:
        from_port = to_port = None
    list_name, peer_field = _PEER_FIELDS[kind]
    item = {peer_field: peer}
    if description:
        item["Description"] = description
    permission[list_name] = [item]
    return (protocol, from_port, to_port, kind, peer), permission


def _block_permissions(block: Mapping[str, Any], group_id: str) -> list[tuple[_PermissionKey, dict[str, Any]]]:
    """An inline ingress/egress block (or aws_security_group_rule) -> one permission per peer."""
    args = (block.get("protocol", "-1"), block.get("from_port"), block.get("to_port"))
    description = block.get("description")
    out = []
    for kind, name in (
        ("cidr", "cidr_blocks"),
        ("cidr6", "ipv6_cidr_blocks"),
        ("prefix-list", "prefix_list_ids"),
        ("group", "security_groups"),
    ):
        for peer in block.get(name) or []:
            if peer:
                out.append(_permission(*args, kind, peer, description))
    if block.get("source_security_group_id"):
        out.append(_permission(*args, "group", block["source_security_group_id"], description))
    if block.get("self"):
        out.append(_permission(*args, "group", group_id, description))
    return out


def _group_calls(
    group_id: str,
    before: dict[_PermissionKey, dict[str, Any]],
    after: dict[_PermissionKey, dict[str, Any]],
    egress: bool,
    phase: int,
) -> list[Call]:
    side = "Egress" if egress else "Ingress"
    calls = []
    gone = [p for k, p in before.items() if k not in after]
    new = [p for k, p in after.items() if k not in before]
    if gone:
        calls.append((phase, f"RevokeSecurityGroup{side}", {"GroupId": group_id, "IpPermissions": gone}))
    if new:
        calls.append((phase, f"AuthorizeSecurityGroup{side}", {"GroupId": group_id, "IpPermissions": new}))
    return calls


def _inline_rules(
    state: _Plan, rc: Mapping[str, Any], name: str, group_id: str, *, planned: bool
) -> dict[_PermissionKey, dict[str, Any]]:
    """A group's inline rules of one kind (`ingress`, `egress`) before, or as planned."""
    if planned and (rc["change"].get("after_unknown") or {}).get(name) is True:
        state.notes.append(f"{rc['address']}: its {name} rules are only known after apply: not applied")
        return {}
    rules: dict[_PermissionKey, dict[str, Any]] = {}
    for block in (_after(rc) if planned else _before(rc)).get(name) or []:
        rules.update(_block_permissions(block, group_id))
    return rules


def _security_group(state: _Plan, rc: Mapping[str, Any]) -> list[Call]:
    actions, before, after = rc["change"]["actions"], _before(rc), _after(rc)
    delete_phase, create_phase = _phases(actions, container=True)
    calls: list[Call] = []
    if "delete" in actions:
        calls.append((delete_phase, "DeleteSecurityGroup", {"GroupId": before["id"]}))
    if "create" in actions:
        group_id = str(state.placeholder(rc["address"]))
        calls.append(
            (
                create_phase,
                "CreateSecurityGroup",
                {
                    "GroupName": after.get("name") or after.get("name_prefix") or rc["name"],
                    "Description": after.get("description"),
                    "VpcId": _rid(state, rc, "vpc_id"),
                    "GroupId": group_id,
                },
            )
        )
        # AWS starts a group with "all traffic out"; Terraform keeps only the egress the configuration lists.
        default_egress = dict([_permission("-1", None, None, "cidr", "0.0.0.0/0", None)])
        old_in: dict[_PermissionKey, dict[str, Any]] = {}
        old_out = default_egress
    elif "update" in actions:
        group_id = before["id"]
        old_in = _inline_rules(state, rc, "ingress", group_id, planned=False)
        old_out = _inline_rules(state, rc, "egress", group_id, planned=False)
    else:
        return calls
    new_in = _inline_rules(state, rc, "ingress", group_id, planned=True)
    new_out = _inline_rules(state, rc, "egress", group_id, planned=True)
    return (
        calls
        + _group_calls(group_id, old_in, new_in, False, CHANGE)
        + _group_calls(group_id, old_out, new_out, True, CHANGE)
    )


def _security_group_rule(state: _Plan, rc: Mapping[str, Any]) -> list[Call]:
    actions = rc["change"]["actions"]
    delete_phase, create_phase = _phases(actions, container=False)
    calls: list[Call] = []
    if "delete" in actions or "update" in actions:
        before = _before(rc)
        side = "Egress" if before.get("type") == "egress" else "Ingress"
        permissions = [p for _, p in _block_permissions(before, before["security_group_id"])]
        calls.append(
            (
                delete_phase if "delete" in actions else CHANGE,
                f"RevokeSecurityGroup{side}",
                {"GroupId": before["security_group_id"], "IpPermissions": permissions},
            )
        )
    if "create" in actions or "update" in actions:
        after = _after(rc)
        group_id = _rid(state, rc, "security_group_id")
        after["source_security_group_id"] = _rid(state, rc, "source_security_group_id")
        side = "Egress" if after.get("type") == "egress" else "Ingress"
        permissions = [p for _, p in _block_permissions(after, group_id)]
        calls.append(
            (create_phase, f"AuthorizeSecurityGroup{side}", {"GroupId": group_id, "IpPermissions": permissions})
        )
    return calls


def _vpc_rule(egress: bool) -> Callable[[_Plan, Mapping[str, Any]], list[Call]]:
    side = "Egress" if egress else "Ingress"

    def peer(state: _Plan, rc: Mapping[str, Any], values: Mapping[str, Any], known: bool) -> tuple[str, str]:
        for kind, name in (("cidr", "cidr_ipv4"), ("cidr6", "cidr_ipv6"), ("prefix-list", "prefix_list_id")):
            if values.get(name):
                return kind, values[name]
        group = _rid(state, rc, "referenced_security_group_id") if known else values.get("referenced_security_group_id")
        return "group", str(group)

    def permission(state: _Plan, rc: Mapping[str, Any], values: Mapping[str, Any], known: bool) -> dict[str, Any]:
        kind, target = peer(state, rc, values, known)
        return _permission(
            values.get("ip_protocol", "-1"),
            values.get("from_port"),
            values.get("to_port"),
            kind,
            target,
            values.get("description"),
        )[1]

    def translate(state: _Plan, rc: Mapping[str, Any]) -> list[Call]:
        actions, before, after = rc["change"]["actions"], _before(rc), _after(rc)
        delete_phase, create_phase = _phases(actions, container=False)
        if actions == ["update"] and before.get("security_group_rule_id"):
            kind, target = peer(state, rc, after, True)
            spec = {
                "IpProtocol": _protocol(after.get("ip_protocol", "-1")),
                "FromPort": after.get("from_port"),
                "ToPort": after.get("to_port"),
                "Description": after.get("description"),
                {"cidr": "CidrIpv4", "cidr6": "CidrIpv6", "prefix-list": "PrefixListId", "group": "ReferencedGroupId"}[
                    kind
                ]: target,
            }
            return [
                (
                    CHANGE,
                    "ModifySecurityGroupRules",
                    {
                        "GroupId": before["security_group_id"],
                        "SecurityGroupRules": [
                            {"SecurityGroupRuleId": before["security_group_rule_id"], "SecurityGroupRule": spec}
                        ],
                    },
                )
            ]
        calls: list[Call] = []
        if "delete" in actions:
            params: dict[str, Any] = {"GroupId": before["security_group_id"]}
            if before.get("security_group_rule_id"):
                params["SecurityGroupRuleIds"] = [before["security_group_rule_id"]]
            else:
                params["IpPermissions"] = [permission(state, rc, before, False)]
            calls.append((delete_phase, f"RevokeSecurityGroup{side}", params))
        if "create" in actions:
            calls.append(
                (
                    create_phase,
                    f"AuthorizeSecurityGroup{side}",
                    {
                        "GroupId": _rid(state, rc, "security_group_id"),
                        "IpPermissions": [permission(state, rc, after, True)],
                    },
                )
            )
        return calls

    return translate


# network ACLs

_ACL_PROTOCOLS = {"tcp": "6", "udp": "17", "icmp": "1", "icmpv6": "58", "all": "-1"}


def _acl_entry(values: Mapping[str, Any], egress: bool, number_field: str, action_field: str) -> dict[str, Any]:
    protocol = _ACL_PROTOCOLS.get(str(values.get("protocol", "-1")).lower(), str(values.get("protocol", "-1")))
    entry: dict[str, Any] = {
        "RuleNumber": int(values[number_field]),
        "Protocol": protocol,
        "RuleAction": values[action_field],
        "Egress": egress,
    }
    if values.get("cidr_block"):
        entry["CidrBlock"] = values["cidr_block"]
    if values.get("ipv6_cidr_block"):
        entry["Ipv6CidrBlock"] = values["ipv6_cidr_block"]
    if protocol in ("6", "17"):
        entry["PortRange"] = {"From": values.get("from_port"), "To": values.get("to_port")}
    if protocol in ("1", "58"):
        entry["IcmpTypeCode"] = {"Type": values.get("icmp_type", -1), "Code": values.get("icmp_code", -1)}
    return entry


def _inline_entries(values: Mapping[str, Any]) -> dict[tuple[bool, int], dict[str, Any]]:
    entries = {}
    for egress, name in ((False, "ingress"), (True, "egress")):
        for block in values.get(name) or []:
            entry = _acl_entry(block, egress, "rule_no", "action")
            entries[(egress, entry["RuleNumber"])] = entry
    return entries


def _default_acl(state: _Plan, vpc_id: str) -> str:
    for acl in state.snapshot.network_acls:
        if acl.vpc_id == vpc_id and acl.is_default:
            return acl.network_acl_id
    raise ChangeError(
        f"{state.source}: the snapshot holds no default network ACL for {vpc_id}, to which the plan returns subnets"
    )


def _network_acl(state: _Plan, rc: Mapping[str, Any]) -> list[Call]:
    actions, before, after = rc["change"]["actions"], _before(rc), _after(rc)
    delete_phase, create_phase = _phases(actions, container=True)
    calls: list[Call] = []
    if "delete" in actions:
        default = _default_acl(state, before["vpc_id"])
        calls += [
            (delete_phase, "ReplaceNetworkAclAssociation", {"SubnetId": s, "NetworkAclId": default})
            for s in before.get("subnet_ids") or []
        ]
        calls.append((delete_phase, "DeleteNetworkAcl", {"NetworkAclId": before["id"]}))
    if "create" in actions:
        acl_id = str(state.placeholder(rc["address"]))
        calls.append((create_phase, "CreateNetworkAcl", {"VpcId": _rid(state, rc, "vpc_id"), "NetworkAclId": acl_id}))
        old_entries: dict[tuple[bool, int], dict[str, Any]] = {}
        old_subnets: set[str] = set()
    elif "update" in actions:
        acl_id = before["id"]
        old_entries, old_subnets = _inline_entries(before), set(before.get("subnet_ids") or [])
    else:
        return calls
    new_entries = _inline_entries(after)
    for key in sorted(set(old_entries) | set(new_entries)):
        was, now = old_entries.get(key), new_entries.get(key)
        if was == now:
            continue
        if now is None:
            calls.append(
                (CHANGE, "DeleteNetworkAclEntry", {"NetworkAclId": acl_id, "RuleNumber": key[1], "Egress": key[0]})
            )
        else:
            action = "CreateNetworkAclEntry" if was is None else "ReplaceNetworkAclEntry"
            calls.append((CHANGE, action, {"NetworkAclId": acl_id, **now}))
    new_subnets = set(after.get("subnet_ids") or [])
    calls += [
        (CHANGE, "ReplaceNetworkAclAssociation", {"SubnetId": s, "NetworkAclId": acl_id})
        for s in sorted(new_subnets - old_subnets)
    ]
    if old_subnets - new_subnets:
        default = _default_acl(state, after.get("vpc_id") or before["vpc_id"])
        calls += [
            (CHANGE, "ReplaceNetworkAclAssociation", {"SubnetId": s, "NetworkAclId": default})
            for s in sorted(old_subnets - new_subnets)
        ]
    return calls


def _network_acl_rule(state: _Plan, rc: Mapping[str, Any]) -> list[Call]:
    actions, before = rc["change"]["actions"], _before(rc)
    delete_phase, create_phase = _phases(actions, container=False)
    calls: list[Call] = []
    if "delete" in actions:
        calls.append(
            (
                delete_phase,
                "DeleteNetworkAclEntry",
                {
                    "NetworkAclId": before["network_acl_id"],
                    "RuleNumber": before["rule_number"],
                    "Egress": bool(before.get("egress")),
                },
            )
        )
    if "create" in actions or "update" in actions:
        after = _after(rc)
        entry = _acl_entry(after, bool(after.get("egress")), "rule_number", "rule_action")
        action = "ReplaceNetworkAclEntry" if "update" in actions else "CreateNetworkAclEntry"
        calls.append((create_phase, action, {"NetworkAclId": _rid(state, rc, "network_acl_id"), **entry}))
    return calls


# routes

_ROUTE_DESTINATIONS = (
    ("destination_cidr_block", "DestinationCidrBlock"),
    ("destination_ipv6_cidr_block", "DestinationIpv6CidrBlock"),
    ("destination_prefix_list_id", "DestinationPrefixListId"),
)
_INLINE_DESTINATIONS = (
    ("cidr_block", "DestinationCidrBlock"),
    ("ipv6_cidr_block", "DestinationIpv6CidrBlock"),
    ("destination_prefix_list_id", "DestinationPrefixListId"),
)
_ROUTE_TARGETS = (
    ("gateway_id", "GatewayId"),
    ("nat_gateway_id", "NatGatewayId"),
    ("transit_gateway_id", "TransitGatewayId"),
    ("vpc_peering_connection_id", "VpcPeeringConnectionId"),
    ("egress_only_gateway_id", "EgressOnlyInternetGatewayId"),
    ("vpc_endpoint_id", "VpcEndpointId"),
    ("local_gateway_id", "LocalGatewayId"),
    ("carrier_gateway_id", "CarrierGatewayId"),
    ("core_network_arn", "CoreNetworkArn"),
    ("network_interface_id", "NetworkInterfaceId"),
    ("instance_id", "InstanceId"),
)


def _route_params(
    values: Mapping[str, Any], destinations: Sequence[tuple[str, str]], resolve: Callable[[str], Any]
) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for name, api in destinations:
        if values.get(name):
            params[api] = values[name]
            break
    for name, api in _ROUTE_TARGETS:
        target = resolve(name)
        if target:
            params[api] = target
            break
    return params


def _route(state: _Plan, rc: Mapping[str, Any]) -> list[Call]:
    actions, before, after = rc["change"]["actions"], _before(rc), _after(rc)
    delete_phase, create_phase = _phases(actions, container=False)
    calls: list[Call] = []
    if "delete" in actions:
        destination = _route_params(before, _ROUTE_DESTINATIONS, _nothing)
        calls.append((delete_phase, "DeleteRoute", {"RouteTableId": before["route_table_id"], **destination}))
    if "create" in actions or "update" in actions:
        unknown = rc["change"].get("after_unknown") or {}

        def resolve(name: str) -> Any:
            if after.get(name):
                return after[name]
            if unknown.get(name) is True and _configured(state, rc, name):
                return _rid(state, rc, name)  # a target the plan creates
            return None

        params = _route_params(after, _ROUTE_DESTINATIONS, resolve)
        action = "ReplaceRoute" if "update" in actions else "CreateRoute"
        calls.append((create_phase, action, {"RouteTableId": _rid(state, rc, "route_table_id"), **params}))
    return calls


def _configured(state: _Plan, rc: Mapping[str, Any], name: str) -> bool:
    """Whether the configuration sets the attribute (computed-only attributes like instance_id do not)."""
    address = rc["address"]
    return name in state.references.get(address, state.references.get(_INDEX.sub("", address), {}))


def _nothing(name: str) -> None:
    return None


def _inline_routes(values: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    routes = {}
    for block in values.get("route") or []:
        params = _route_params(block, _INLINE_DESTINATIONS, block.get)
        destination = next((v for k, v in params.items() if k.startswith("Destination")), None)
        if destination:
            routes[destination] = params
    return routes


def _route_table(state: _Plan, rc: Mapping[str, Any]) -> list[Call]:
    actions, before, after = rc["change"]["actions"], _before(rc), _after(rc)
    delete_phase, create_phase = _phases(actions, container=True)
    calls: list[Call] = []
    if "delete" in actions:
        calls.append((delete_phase, "DeleteRouteTable", {"RouteTableId": before["id"]}))
    if "create" in actions:
        table_id = str(state.placeholder(rc["address"]))
        calls.append((create_phase, "CreateRouteTable", {"VpcId": _rid(state, rc, "vpc_id"), "RouteTableId": table_id}))
        old: dict[str, dict[str, Any]] = {}
    elif "update" in actions:
        table_id, old = before["id"], _inline_routes(before)
    else:
        return calls
    if (rc["change"].get("after_unknown") or {}).get("route") is True:
        state.notes.append(f"{rc['address']}: its routes are only known after apply: not applied")
        return calls
    new = _inline_routes(after)
    for destination in sorted(set(old) | set(new)):
        was, now = old.get(destination), new.get(destination)
        if was == now:
            continue
        if now is None:
            assert was is not None
            spec = {k: v for k, v in was.items() if k.startswith("Destination")}
            calls.append((CHANGE, "DeleteRoute", {"RouteTableId": table_id, **spec}))
        else:
            calls.append((CHANGE, "CreateRoute" if was is None else "ReplaceRoute", {"RouteTableId": table_id, **now}))
    return calls


def _route_table_association(state: _Plan, rc: Mapping[str, Any]) -> list[Call]:
    actions, before = rc["change"]["actions"], _before(rc)
    delete_phase, create_phase = _phases(actions, container=False)
    if actions == ["update"]:
        return [
            (
                CHANGE,
                "ReplaceRouteTableAssociation",
                {"AssociationId": before["id"], "RouteTableId": _rid(state, rc, "route_table_id")},
            )
        ]
    calls: list[Call] = []
    if "delete" in actions:
        calls.append((delete_phase, "DisassociateRouteTable", {"AssociationId": before["id"]}))
    if "create" in actions:
        params = {"RouteTableId": _rid(state, rc, "route_table_id")}
        for name, api in (("subnet_id", "SubnetId"), ("gateway_id", "GatewayId")):
            value = _rid(state, rc, name)
            if value:
                params[api] = value
        calls.append((create_phase, "AssociateRouteTable", params))
    return calls


def _sg_attachment(state: _Plan, rc: Mapping[str, Any]) -> list[Call]:
    actions = rc["change"]["actions"]
    delete_phase, create_phase = _phases(actions, container=False)
    calls: list[Call] = []

    def groups_of(interface_id: str) -> list[str]:
        if interface_id not in state.groups:
            eni = next((e for e in state.snapshot.network_interfaces if e.network_interface_id == interface_id), None)
            if eni is None:
                raise ChangeError(
                    f"{state.source}: {rc['address']}: network interface {interface_id} is not in the snapshot"
                )
            state.groups[interface_id] = [g.group_id for g in eni.groups]
        return state.groups[interface_id]

    if "delete" in actions:
        before = _before(rc)
        groups = groups_of(before["network_interface_id"])
        groups[:] = [g for g in groups if g != before["security_group_id"]]
        calls.append(
            (
                delete_phase,
                "ModifyNetworkInterfaceAttribute",
                {"NetworkInterfaceId": before["network_interface_id"], "Groups": list(groups)},
            )
        )
    if "create" in actions:
        interface_id = _rid(state, rc, "network_interface_id")
        groups = groups_of(interface_id)
        group_id = _rid(state, rc, "security_group_id")
        if group_id not in groups:
            groups.append(group_id)
        calls.append(
            (
                create_phase,
                "ModifyNetworkInterfaceAttribute",
                {"NetworkInterfaceId": interface_id, "Groups": list(groups)},
            )
        )
    return calls


TRANSLATORS: dict[str, Callable[[_Plan, Mapping[str, Any]], list[Call]]] = {
    "aws_security_group": _security_group,
    "aws_security_group_rule": _security_group_rule,
    "aws_vpc_security_group_ingress_rule": _vpc_rule(egress=False),
    "aws_vpc_security_group_egress_rule": _vpc_rule(egress=True),
    "aws_network_acl": _network_acl,
    "aws_network_acl_rule": _network_acl_rule,
    "aws_route": _route,
    "aws_route_table": _route_table,
    "aws_route_table_association": _route_table_association,
    "aws_network_interface_sg_attachment": _sg_attachment,
}
