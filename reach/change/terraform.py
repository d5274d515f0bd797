"""Terraform plans (`terraform show -json plan.out`) -> the EC2 calls they would make.

The parts of a plan reach reads are pydantic models: the envelope of every resource change, and `before` and
`after` of each resource type reach translates. A malformed plan is an error naming the JSON path of the bad
value (`resource_changes[3].change.after.ingress[0].to_port`), with AWS's ranges for ports, protocols and rule
numbers.

One translator per resource type (`TRANSLATORS`); each reads a resource change's `before` and `after` and
returns the calls that turn one into the other, in the phase they belong to: deletions first (rules before the
groups, tables and ACLs that hold them), then creations of containers, then everything created or updated,
then what `create_before_destroy` deletes last.

A resource the plan creates has no id yet. It gets a placeholder made from its address
(`sg-<aws_security_group.alb>`), and an attribute that is "known after apply" is resolved through the plan's
configuration: `security_group_id = aws_security_group.alb.id` names `aws_security_group.alb`. Every
placeholder is reported. Resource types reach does not translate are listed, never dropped silently.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import partial
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator
from pydantic.alias_generators import to_snake

from reach.change.calls import (
    ROUTE_DESTINATIONS,
    ROUTE_TARGETS,
    IcmpNumber,
    Ipv4Cidr,
    Ipv6Cidr,
    Port,
    Protocol,
    RuleAction,
    RuleNumber,
    acl_protocol,
    check_ports,
    parse_call,
    sg_protocol,
)
from reach.change.change_set import Change, ChangeFormat, ChangeSet
from reach.change.inputs import clip, problems
from reach.errors import ChangeError
from reach.model.protocols import ICMP_FAMILY, PORTED, protocol_number
from reach.snapshot.loader import SnapshotResources

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


# --- the plan, as far as reach reads it ------------------------------------------------------------------


class _Tf(BaseModel):
    """A part of a plan: Terraform's own snake_case names; attributes reach does not read are ignored."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)


class PlanAction(StrEnum):
    NO_OP = "no-op"
    CREATE = "create"
    READ = "read"
    UPDATE = "update"
    DELETE = "delete"
    FORGET = "forget"  # removed from the state, left as it is in AWS


class TfChange(_Tf):
    actions: Annotated[list[PlanAction], Field(min_length=1)]
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    after_unknown: dict[str, Any] | None = None


class TfResourceChange(_Tf):
    address: str
    mode: Literal["managed", "data"] = "managed"
    type: str
    name: str
    change: TfChange


class TfPlan(_Tf):
    resource_changes: list[TfResourceChange] = []
    configuration: dict[str, Any] | None = None


class TfConfigResource(_Tf):
    address: str
    expressions: dict[str, Any] = {}


class TfModule(_Tf):
    resources: list[TfConfigResource] = []
    module_calls: dict[str, dict[str, Any]] = {}


def _blank(value: object) -> object:
    """Terraform writes an unset string attribute as ""."""
    return None if value == "" else value


Text = Annotated[str | None, BeforeValidator(_blank)]
TfIpv4 = Annotated[Ipv4Cidr | None, BeforeValidator(_blank)]
TfIpv6 = Annotated[Ipv6Cidr | None, BeforeValidator(_blank)]


class TfSecurityGroupBlock(_Tf):
    """An inline `ingress`/`egress` block of aws_security_group (and the body of aws_security_group_rule)."""

    protocol: Protocol = "-1"
    from_port: Port | None = None
    to_port: Port | None = None
    cidr_blocks: list[Ipv4Cidr] | None = None
    ipv6_cidr_blocks: list[Ipv6Cidr] | None = None
    prefix_list_ids: list[str] | None = None
    security_groups: list[str] | None = None
    self_: bool | None = Field(None, alias="self")
    description: Text = None

    @model_validator(mode="after")
    def _ports(self) -> TfSecurityGroupBlock:
        check_ports(self.protocol, self.from_port, self.to_port, ("from_port", "to_port"))
        return self


class TfSecurityGroup(_Tf):
    id: Text = None
    name: Text = None
    name_prefix: Text = None
    description: Text = None
    vpc_id: Text = None
    ingress: list[TfSecurityGroupBlock] | None = None
    egress: list[TfSecurityGroupBlock] | None = None


class TfSecurityGroupRule(TfSecurityGroupBlock):
    type: Literal["ingress", "egress"] = "ingress"
    security_group_id: Text = None
    source_security_group_id: Text = None


class TfVpcSecurityGroupRule(_Tf):
    """aws_vpc_security_group_ingress_rule / _egress_rule: one rule, one peer, with its sgr- id."""

    security_group_id: Text = None
    security_group_rule_id: Text = None
    ip_protocol: Protocol = "-1"
    from_port: Port | None = None
    to_port: Port | None = None
    cidr_ipv4: TfIpv4 = None
    cidr_ipv6: TfIpv6 = None
    prefix_list_id: Text = None
    referenced_security_group_id: Text = None
    description: Text = None

    @model_validator(mode="after")
    def _ports(self) -> TfVpcSecurityGroupRule:
        check_ports(self.ip_protocol, self.from_port, self.to_port, ("from_port", "to_port"))
        return self


class _TfAclRule(_Tf):
    protocol: Protocol
    cidr_block: TfIpv4 = None
    ipv6_cidr_block: TfIpv6 = None
    from_port: Port | None = None
    to_port: Port | None = None
    icmp_type: IcmpNumber | None = None
    icmp_code: IcmpNumber | None = None


class TfNetworkAclBlock(_TfAclRule):
    """An inline `ingress`/`egress` block of aws_network_acl."""

    rule_no: RuleNumber
    action: RuleAction


class TfNetworkAcl(_Tf):
    id: Text = None
    vpc_id: Text = None
    subnet_ids: list[str] | None = None
    ingress: list[TfNetworkAclBlock] | None = None
    egress: list[TfNetworkAclBlock] | None = None


class TfNetworkAclRule(_TfAclRule):
    network_acl_id: Text = None
    rule_number: RuleNumber
    egress: bool = False
    rule_action: RuleAction


# A route target: Terraform's attribute for each of AWS's parameters.
_TF_TARGETS = tuple(
    ("egress_only_gateway_id" if name == "EgressOnlyInternetGatewayId" else to_snake(name), name)
    for name in ROUTE_TARGETS
)


class _TfRouteTargets(_Tf):
    gateway_id: Text = None
    nat_gateway_id: Text = None
    network_interface_id: Text = None
    instance_id: Text = None
    vpc_peering_connection_id: Text = None
    transit_gateway_id: Text = None
    egress_only_gateway_id: Text = None
    vpc_endpoint_id: Text = None
    local_gateway_id: Text = None
    carrier_gateway_id: Text = None
    core_network_arn: Text = None


class TfRoute(_TfRouteTargets):
    route_table_id: Text = None
    destination_cidr_block: TfIpv4 = None
    destination_ipv6_cidr_block: TfIpv6 = None
    destination_prefix_list_id: Text = None


class TfInlineRoute(_TfRouteTargets):
    """An inline `route` block of aws_route_table."""

    cidr_block: TfIpv4 = None
    ipv6_cidr_block: TfIpv6 = None
    destination_prefix_list_id: Text = None


class TfRouteTable(_Tf):
    id: Text = None
    vpc_id: Text = None
    route: list[TfInlineRoute] | None = None


class TfRouteTableAssociation(_Tf):
    id: Text = None
    subnet_id: Text = None
    gateway_id: Text = None
    route_table_id: Text = None


class TfSecurityGroupAttachment(_Tf):
    security_group_id: Text = None
    network_interface_id: Text = None


# --- reading a plan -------------------------------------------------------------------------------------------

A = TypeVar("A", bound=_Tf)


@dataclass(frozen=True)
class _Resource(Generic[A]):
    """One resource change, its `before` and `after` read as the type's attributes."""

    address: str
    name: str
    path: str  # resource_changes[i]
    actions: tuple[PlanAction, ...]
    before: A | None
    after: A | None
    unknown: Mapping[str, Any]

    def old(self) -> A:
        if self.before is None:
            raise ChangeError(f"{self.path}.change.before: required to {'/'.join(self.actions)} {self.address}")
        return self.before

    def new(self) -> A:
        if self.after is None:
            raise ChangeError(f"{self.path}.change.after: required to {'/'.join(self.actions)} {self.address}")
        return self.after


@dataclass
class _Plan:
    snapshot: SnapshotResources
    source: str
    references: dict[str, dict[str, Any]]  # resource address -> its configuration expressions
    placeholders: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    groups: dict[str, list[str]] = field(default_factory=dict)  # interface -> its groups as the plan goes

    def placeholder(self, address: str) -> str | None:
        return self.placeholders.get(address) or self.placeholders.get(_INDEX.sub("", address))

    def expression(self, address: str, name: str) -> Any:
        return self.references.get(address, self.references.get(_INDEX.sub("", address), {})).get(name)

    def value(self, rc: _Resource[Any], name: str) -> Any:
        """An attribute of `after`; when it is only known after apply, the placeholder of what it refers to."""
        value = getattr(rc.after, name, None)
        if value not in (None, "") or not rc.unknown.get(name):
            return value
        expression = self.expression(rc.address, name)
        references = expression.get("references", []) if isinstance(expression, Mapping) else []
        for reference in references if isinstance(references, list) else []:
            if not isinstance(reference, str):
                continue
            target = self.placeholder(_module_prefix(rc.address) + reference.removesuffix(".id"))
            if target:
                return target
        self.notes.append(f"{rc.address}: {name} is only known after apply and refers to nothing the plan creates")
        return f"<{rc.address}.{name}>"


def _module_prefix(address: str) -> str:
    parts = address.split(".")
    prefix = []
    while len(parts) >= 2 and parts[0] == "module":
        prefix += parts[:2]
        parts = parts[2:]
    return ".".join(prefix) + ("." if prefix else "")


def _validate(model: type[A], data: Any, path: str, source: str) -> A:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ChangeError(f"{source}: {problems(exc, path)}") from None


def _expressions(module: Any, prefix: str, path: str, source: str, found: dict[str, dict[str, Any]]) -> None:
    read = _validate(TfModule, module, path, source)
    for resource in read.resources:
        found[prefix + resource.address] = resource.expressions
    for name, call in read.module_calls.items():
        where = f"{path}.module_calls.{clip(name)}"
        _expressions(call.get("module", {}), f"{prefix}module.{name}.", f"{where}.module", source, found)


def is_terraform_plan(data: Any) -> bool:
    return isinstance(data, Mapping) and ("resource_changes" in data or "terraform_version" in data)


def plan_changes(plan: Mapping[str, Any], snapshot: SnapshotResources, source: str = "plan") -> ChangeSet:
    read = _validate(TfPlan, plan, "", source)
    references: dict[str, dict[str, Any]] = {}
    root = (read.configuration or {}).get("root_module", {})
    _expressions(root, "", "configuration.root_module", source, references)
    state = _Plan(snapshot, source, references)
    managed = [(i, rc) for i, rc in enumerate(read.resource_changes) if rc.mode == "managed"]
    for _, rc in managed:
        if PlanAction.CREATE in rc.change.actions and rc.type in _PREFIXES:
            known = (rc.change.after or {}).get("id")
            state.placeholders[rc.address] = known if isinstance(known, str) and known else _placeholder(rc)
    phased: list[tuple[int, int, str, dict[str, Any], str]] = []
    unsupported = []
    for order, rc in managed:
        actions = rc.change.actions
        if set(actions) <= {PlanAction.NO_OP, PlanAction.READ, PlanAction.FORGET}:
            continue
        translator = TRANSLATORS.get(rc.type)
        if translator is None:
            unsupported.append(f"{rc.address} ({'/'.join(actions)})")
            continue
        model, translate = translator
        path = f"resource_changes[{order}]"
        try:
            resource = _resource(model, rc, path, source)
            calls = translate(state, resource)
        except ChangeError as exc:
            message = str(exc)
            raise ChangeError(message if message.startswith(f"{source}:") else f"{source}: {message}") from None
        phased += [(phase, order, action, params, rc.address) for phase, action, params in calls]
    phased.sort(key=lambda item: (item[0], item[1]))
    changes = [
        Change(position, parse_call(action, params, f"{source}: {address}"))
        for position, (_, _, action, params, address) in enumerate(phased, start=1)
    ]
    notes = list(state.notes)
    for address, placeholder in sorted(state.placeholders.items()):
        if placeholder.endswith(">"):
            notes.append(
                f"{address} is created by the plan: its id is known after apply, so reach calls it {placeholder}"
            )
    if unsupported:
        notes.append(f"not translated (reach does not model these resource types): {', '.join(unsupported)}")
    return ChangeSet(changes, source, ChangeFormat.TERRAFORM, notes, unsupported, dict(state.placeholders))


def _placeholder(rc: TfResourceChange) -> str:
    return f"{_PREFIXES[rc.type]}-<{rc.address}>"


def _resource(model: type[A], rc: TfResourceChange, path: str, source: str) -> _Resource[A]:
    def side(name: str, data: dict[str, Any] | None) -> A | None:
        return None if data is None else _validate(model, data, f"{path}.change.{name}", f"{source}")

    return _Resource(
        rc.address,
        rc.name,
        path,
        tuple(rc.change.actions),
        side("before", rc.change.before),
        side("after", rc.change.after),
        rc.change.after_unknown or {},
    )


# --- translators ---------------------------------------------------------------------------------------------

Call = tuple[int, str, dict[str, Any]]


def _phases(actions: Sequence[PlanAction], container: bool) -> tuple[int, int]:
    """(phase of the deletion, phase of the creation) for a resource's actions."""
    late = list(actions) == [PlanAction.CREATE, PlanAction.DELETE]
    if container:
        return (LATE_DELETE_CONTAINER if late else DELETE_CONTAINER), CREATE_CONTAINER
    return (LATE_DELETE_LEAF if late else DELETE_LEAF), CHANGE


def _deletes(rc: _Resource[Any]) -> bool:
    return PlanAction.DELETE in rc.actions


def _creates(rc: _Resource[Any]) -> bool:
    return PlanAction.CREATE in rc.actions


def _updates(rc: _Resource[Any]) -> bool:
    return PlanAction.UPDATE in rc.actions


# security groups: rules as single-peer permissions, keyed without their description

_PermissionKey = tuple[int, Any, Any, str, str]
_PEER_FIELDS = {
    "cidr": ("IpRanges", "CidrIp"),
    "cidr6": ("Ipv6Ranges", "CidrIpv6"),
    "prefix-list": ("PrefixListIds", "PrefixListId"),
    "group": ("UserIdGroupPairs", "GroupId"),
}


def _permission(
    protocol: str, from_port: int | None, to_port: int | None, kind: str, peer: str, description: str | None
) -> tuple[_PermissionKey, dict[str, Any]]:
    spelled = sg_protocol(protocol)
    permission: dict[str, Any] = {"IpProtocol": spelled}
    if spelled != "-1":
        permission["FromPort"], permission["ToPort"] = from_port, to_port
    else:
        from_port = to_port = None
    list_name, peer_field = _PEER_FIELDS[kind]
    item = {peer_field: peer}
    if description:
        item["Description"] = description
    permission[list_name] = [item]
    return (protocol_number(spelled), from_port, to_port, kind, peer), permission


def _block_permissions(
    block: TfSecurityGroupBlock, group_id: str, source_group: str | None = None
) -> list[tuple[_PermissionKey, dict[str, Any]]]:
    """An inline ingress/egress block (or aws_security_group_rule) -> one permission per peer."""
    args = (block.protocol, block.from_port, block.to_port)
    peers = [("cidr", p) for p in block.cidr_blocks or []] + [("cidr6", p) for p in block.ipv6_cidr_blocks or []]
    peers += [("prefix-list", p) for p in block.prefix_list_ids or []]
    peers += [("group", p) for p in block.security_groups or []]
    if source_group:
        peers.append(("group", source_group))
    if block.self_:
        peers.append(("group", group_id))
    return [_permission(*args, kind, peer, block.description) for kind, peer in peers if peer]


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
    state: _Plan, rc: _Resource[TfSecurityGroup], name: str, group_id: str, *, planned: bool
) -> dict[_PermissionKey, dict[str, Any]]:
    """A group's inline rules of one kind (`ingress`, `egress`) before, or as planned."""
    if planned and rc.unknown.get(name) is True:
        state.notes.append(f"{rc.address}: its {name} rules are only known after apply: not applied")
        return {}
    rules: dict[_PermissionKey, dict[str, Any]] = {}
    for block in getattr(rc.new() if planned else rc.old(), name) or []:
        rules.update(_block_permissions(block, group_id))
    return rules


def _security_group(state: _Plan, rc: _Resource[TfSecurityGroup]) -> list[Call]:
    delete_phase, create_phase = _phases(rc.actions, container=True)
    calls: list[Call] = []
    if _deletes(rc):
        calls.append((delete_phase, "DeleteSecurityGroup", {"GroupId": _id(rc)}))
    if _creates(rc):
        after = rc.new()
        group_id = str(state.placeholder(rc.address))
        create = {
            "GroupName": after.name or after.name_prefix or rc.name,
            "Description": after.description or "Managed by Terraform",  # the provider's default
            "VpcId": state.value(rc, "vpc_id"),
            "GroupId": group_id,
        }
        calls.append((create_phase, "CreateSecurityGroup", {k: v for k, v in create.items() if v is not None}))
        # AWS starts a group with "all traffic out"; Terraform keeps only the egress the configuration lists.
        old_in: dict[_PermissionKey, dict[str, Any]] = {}
        old_out = dict([_permission("-1", None, None, "cidr", "0.0.0.0/0", None)])
    elif _updates(rc):
        group_id = _id(rc)
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


def _id(rc: _Resource[Any]) -> str:
    """The id of what the plan deletes or updates: it exists, so `before` has it."""
    rid = getattr(rc.old(), "id", None)
    if not rid:
        raise ChangeError(f"{rc.path}.change.before.id: required to {'/'.join(rc.actions)} {rc.address}")
    return str(rid)


def _required(rc: _Resource[Any], side: str, value: str | None, name: str) -> str:
    if not value:
        raise ChangeError(f"{rc.path}.change.{side}.{name}: required to {'/'.join(rc.actions)} {rc.address}")
    return value


def _security_group_rule(state: _Plan, rc: _Resource[TfSecurityGroupRule]) -> list[Call]:
    delete_phase, create_phase = _phases(rc.actions, container=False)
    calls: list[Call] = []
    if _deletes(rc) or _updates(rc):
        before = rc.old()
        group_id = _required(rc, "before", before.security_group_id, "security_group_id")
        side = "Egress" if before.type == "egress" else "Ingress"
        permissions = [p for _, p in _block_permissions(before, group_id, before.source_security_group_id)]
        phase = delete_phase if _deletes(rc) else CHANGE
        calls.append((phase, f"RevokeSecurityGroup{side}", {"GroupId": group_id, "IpPermissions": permissions}))
    if _creates(rc) or _updates(rc):
        after = rc.new()
        group_id = state.value(rc, "security_group_id")
        side = "Egress" if after.type == "egress" else "Ingress"
        source_group = state.value(rc, "source_security_group_id")
        permissions = [p for _, p in _block_permissions(after, group_id, source_group)]
        authorize = {"GroupId": group_id, "IpPermissions": permissions}
        calls.append((create_phase, f"AuthorizeSecurityGroup{side}", authorize))
    return calls


_VPC_RULE_PEERS = (
    ("cidr", "cidr_ipv4", "CidrIpv4"),
    ("cidr6", "cidr_ipv6", "CidrIpv6"),
    ("prefix-list", "prefix_list_id", "PrefixListId"),
)


def _vpc_rule(egress: bool) -> Callable[[_Plan, _Resource[TfVpcSecurityGroupRule]], list[Call]]:
    side = "Egress" if egress else "Ingress"

    def peer(state: _Plan, rc: _Resource[TfVpcSecurityGroupRule], values: TfVpcSecurityGroupRule) -> tuple[str, str]:
        for kind, name, _ in _VPC_RULE_PEERS:
            if getattr(values, name):
                return kind, str(getattr(values, name))
        known = values is rc.after
        group = state.value(rc, "referenced_security_group_id") if known else values.referenced_security_group_id
        return "group", str(group)

    def permission(state: _Plan, rc: _Resource[TfVpcSecurityGroupRule], values: TfVpcSecurityGroupRule) -> Any:
        kind, target = peer(state, rc, values)
        return _permission(values.ip_protocol, values.from_port, values.to_port, kind, target, values.description)[1]

    def translate(state: _Plan, rc: _Resource[TfVpcSecurityGroupRule]) -> list[Call]:
        delete_phase, create_phase = _phases(rc.actions, container=False)
        if list(rc.actions) == [PlanAction.UPDATE] and rc.old().security_group_rule_id:
            before, after = rc.old(), rc.new()
            kind, target = peer(state, rc, after)
            peer_field = {name: api for name, _, api in _VPC_RULE_PEERS}.get(kind, "ReferencedGroupId")
            spec = {
                "IpProtocol": sg_protocol(after.ip_protocol),
                "FromPort": after.from_port,
                "ToPort": after.to_port,
                "Description": after.description,
                peer_field: target,
            }
            update = {"SecurityGroupRuleId": before.security_group_rule_id, "SecurityGroupRule": spec}
            group_id = _required(rc, "before", before.security_group_id, "security_group_id")
            return [(CHANGE, "ModifySecurityGroupRules", {"GroupId": group_id, "SecurityGroupRules": [update]})]
        calls: list[Call] = []
        if _deletes(rc):
            before = rc.old()
            params: dict[str, Any] = {"GroupId": _required(rc, "before", before.security_group_id, "security_group_id")}
            if before.security_group_rule_id:
                params["SecurityGroupRuleIds"] = [before.security_group_rule_id]
            else:
                params["IpPermissions"] = [permission(state, rc, before)]
            calls.append((delete_phase, f"RevokeSecurityGroup{side}", params))
        if _creates(rc):
            group_id = state.value(rc, "security_group_id")
            params = {"GroupId": group_id, "IpPermissions": [permission(state, rc, rc.new())]}
            calls.append((create_phase, f"AuthorizeSecurityGroup{side}", params))
        return calls

    return translate


# network ACLs


def _acl_entry(values: _TfAclRule, number: int, action: str, egress: bool) -> dict[str, Any]:
    protocol = acl_protocol(values.protocol)
    entry: dict[str, Any] = {"RuleNumber": number, "Protocol": protocol, "RuleAction": action, "Egress": egress}
    if values.cidr_block:
        entry["CidrBlock"] = values.cidr_block
    if values.ipv6_cidr_block:
        entry["Ipv6CidrBlock"] = values.ipv6_cidr_block
    if int(protocol) in PORTED:
        entry["PortRange"] = {"From": values.from_port, "To": values.to_port}
    if int(protocol) in ICMP_FAMILY:
        icmp_type = -1 if values.icmp_type is None else values.icmp_type
        entry["IcmpTypeCode"] = {"Type": icmp_type, "Code": -1 if values.icmp_code is None else values.icmp_code}
    return entry


def _inline_entries(values: TfNetworkAcl) -> dict[tuple[bool, int], dict[str, Any]]:
    entries = {}
    for egress, blocks in ((False, values.ingress), (True, values.egress)):
        for block in blocks or []:
            entries[(egress, block.rule_no)] = _acl_entry(block, block.rule_no, block.action.value, egress)
    return entries


def _default_acl(state: _Plan, vpc_id: str | None) -> str:
    for acl in state.snapshot.network_acls:
        if acl.vpc_id == vpc_id and acl.is_default:
            return acl.network_acl_id
    raise ChangeError(
        f"{state.source}: the snapshot holds no default network ACL for {vpc_id}, to which the plan returns subnets"
    )


def _network_acl(state: _Plan, rc: _Resource[TfNetworkAcl]) -> list[Call]:
    delete_phase, create_phase = _phases(rc.actions, container=True)
    calls: list[Call] = []
    if _deletes(rc):
        before = rc.old()
        default = _default_acl(state, before.vpc_id)
        calls += [
            (delete_phase, "ReplaceNetworkAclAssociation", {"SubnetId": s, "NetworkAclId": default})
            for s in before.subnet_ids or []
        ]
        calls.append((delete_phase, "DeleteNetworkAcl", {"NetworkAclId": _id(rc)}))
    if _creates(rc):
        acl_id = str(state.placeholder(rc.address))
        calls.append((create_phase, "CreateNetworkAcl", {"VpcId": state.value(rc, "vpc_id"), "NetworkAclId": acl_id}))
        old_entries: dict[tuple[bool, int], dict[str, Any]] = {}
        old_subnets: set[str] = set()
    elif _updates(rc):
        acl_id = _id(rc)
        old_entries, old_subnets = _inline_entries(rc.old()), set(rc.old().subnet_ids or [])
    else:
        return calls
    after = rc.new()
    new_entries = _inline_entries(after)
    for key in sorted(set(old_entries) | set(new_entries)):
        was, now = old_entries.get(key), new_entries.get(key)
        if was == now:
            continue
        if now is None:
            delete = {"NetworkAclId": acl_id, "RuleNumber": key[1], "Egress": key[0]}
            calls.append((CHANGE, "DeleteNetworkAclEntry", delete))
        else:
            action = "CreateNetworkAclEntry" if was is None else "ReplaceNetworkAclEntry"
            calls.append((CHANGE, action, {"NetworkAclId": acl_id, **now}))
    new_subnets = set(after.subnet_ids or [])
    calls += [
        (CHANGE, "ReplaceNetworkAclAssociation", {"SubnetId": s, "NetworkAclId": acl_id})
        for s in sorted(new_subnets - old_subnets)
    ]
    if old_subnets - new_subnets:
        default = _default_acl(state, after.vpc_id or (rc.before.vpc_id if rc.before else None))
        calls += [
            (CHANGE, "ReplaceNetworkAclAssociation", {"SubnetId": s, "NetworkAclId": default})
            for s in sorted(old_subnets - new_subnets)
        ]
    return calls


def _network_acl_rule(state: _Plan, rc: _Resource[TfNetworkAclRule]) -> list[Call]:
    delete_phase, create_phase = _phases(rc.actions, container=False)
    calls: list[Call] = []
    if _deletes(rc):
        before = rc.old()
        delete = {
            "NetworkAclId": _required(rc, "before", before.network_acl_id, "network_acl_id"),
            "RuleNumber": before.rule_number,
            "Egress": before.egress,
        }
        calls.append((delete_phase, "DeleteNetworkAclEntry", delete))
    if _creates(rc) or _updates(rc):
        after = rc.new()
        entry = _acl_entry(after, after.rule_number, after.rule_action.value, after.egress)
        action = "ReplaceNetworkAclEntry" if _updates(rc) else "CreateNetworkAclEntry"
        calls.append((create_phase, action, {"NetworkAclId": state.value(rc, "network_acl_id"), **entry}))
    return calls


# routes

_ROUTE_DESTINATIONS = tuple(zip(("destination_cidr_block", "destination_ipv6_cidr_block", "destination_prefix_list_id"),
                                ROUTE_DESTINATIONS, strict=True))
_INLINE_DESTINATIONS = tuple(zip(("cidr_block", "ipv6_cidr_block", "destination_prefix_list_id"),
                                 ROUTE_DESTINATIONS, strict=True))


def _route_params(
    values: _Tf, destinations: Sequence[tuple[str, str]], resolve: Callable[[str], Any]
) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for name, api in destinations:
        if getattr(values, name):
            params[api] = getattr(values, name)
            break
    for name, api in _TF_TARGETS:
        target = resolve(name)
        if target:
            params[api] = target
            break
    return params


def _route(state: _Plan, rc: _Resource[TfRoute]) -> list[Call]:
    delete_phase, create_phase = _phases(rc.actions, container=False)
    calls: list[Call] = []
    if _deletes(rc):
        before = rc.old()
        destination = _route_params(before, _ROUTE_DESTINATIONS, _nothing)
        table = _required(rc, "before", before.route_table_id, "route_table_id")
        calls.append((delete_phase, "DeleteRoute", {"RouteTableId": table, **destination}))
    if _creates(rc) or _updates(rc):
        after = rc.new()

        def resolve(name: str) -> Any:
            if getattr(after, name):
                return getattr(after, name)
            if rc.unknown.get(name) is True and state.expression(rc.address, name) is not None:
                return state.value(rc, name)  # a target the plan creates (computed-only ones are not configured)
            return None

        params = _route_params(after, _ROUTE_DESTINATIONS, resolve)
        action = "ReplaceRoute" if _updates(rc) else "CreateRoute"
        calls.append((create_phase, action, {"RouteTableId": state.value(rc, "route_table_id"), **params}))
    return calls


def _nothing(name: str) -> None:
    return None


def _inline_routes(values: TfRouteTable) -> dict[str, dict[str, Any]]:
    routes = {}
    for block in values.route or []:
        params = _route_params(block, _INLINE_DESTINATIONS, partial(getattr, block))
        destination = next((v for k, v in params.items() if k.startswith("Destination")), None)
        if destination:
            routes[destination] = params
    return routes


def _route_table(state: _Plan, rc: _Resource[TfRouteTable]) -> list[Call]:
    delete_phase, create_phase = _phases(rc.actions, container=True)
    calls: list[Call] = []
    if _deletes(rc):
        calls.append((delete_phase, "DeleteRouteTable", {"RouteTableId": _id(rc)}))
    if _creates(rc):
        table_id = str(state.placeholder(rc.address))
        calls.append((create_phase, "CreateRouteTable", {"VpcId": state.value(rc, "vpc_id"), "RouteTableId": table_id}))
        old: dict[str, dict[str, Any]] = {}
    elif _updates(rc):
        table_id, old = _id(rc), _inline_routes(rc.old())
    else:
        return calls
    if rc.unknown.get("route") is True:
        state.notes.append(f"{rc.address}: its routes are only known after apply: not applied")
        return calls
    new = _inline_routes(rc.new())
    for destination in sorted(set(old) | set(new)):
        was, now = old.get(destination), new.get(destination)
        if was == now:
            continue
        if now is None and was is not None:
            spec = {k: v for k, v in was.items() if k.startswith("Destination")}
            calls.append((CHANGE, "DeleteRoute", {"RouteTableId": table_id, **spec}))
        elif now is not None:
            calls.append((CHANGE, "CreateRoute" if was is None else "ReplaceRoute", {"RouteTableId": table_id, **now}))
    return calls


def _route_table_association(state: _Plan, rc: _Resource[TfRouteTableAssociation]) -> list[Call]:
    delete_phase, create_phase = _phases(rc.actions, container=False)
    if list(rc.actions) == [PlanAction.UPDATE]:
        replace = {"AssociationId": _id(rc), "RouteTableId": state.value(rc, "route_table_id")}
        return [(CHANGE, "ReplaceRouteTableAssociation", replace)]
    calls: list[Call] = []
    if _deletes(rc):
        calls.append((delete_phase, "DisassociateRouteTable", {"AssociationId": _id(rc)}))
    if _creates(rc):
        params = {"RouteTableId": state.value(rc, "route_table_id")}
        for name, api in (("subnet_id", "SubnetId"), ("gateway_id", "GatewayId")):
            value = state.value(rc, name)
            if value:
                params[api] = value
        calls.append((create_phase, "AssociateRouteTable", params))
    return calls


def _sg_attachment(state: _Plan, rc: _Resource[TfSecurityGroupAttachment]) -> list[Call]:
    delete_phase, create_phase = _phases(rc.actions, container=False)
    calls: list[Call] = []

    def groups_of(interface_id: str) -> list[str]:
        if interface_id not in state.groups:
            eni = next((e for e in state.snapshot.network_interfaces if e.network_interface_id == interface_id), None)
            if eni is None:
                raise ChangeError(
                    f"{state.source}: {rc.address}: network interface {interface_id} is not in the snapshot"
                )
            state.groups[interface_id] = [g.group_id for g in eni.groups]
        return state.groups[interface_id]

    if _deletes(rc):
        before = rc.old()
        interface_id = _required(rc, "before", before.network_interface_id, "network_interface_id")
        groups = groups_of(interface_id)
        groups[:] = [g for g in groups if g != before.security_group_id]
        modify = {"NetworkInterfaceId": interface_id, "Groups": list(groups)}
        calls.append((delete_phase, "ModifyNetworkInterfaceAttribute", modify))
    if _creates(rc):
        interface_id = str(state.value(rc, "network_interface_id"))
        groups = groups_of(interface_id)
        group_id = state.value(rc, "security_group_id")
        if group_id not in groups:
            groups.append(group_id)
        modify = {"NetworkInterfaceId": interface_id, "Groups": list(groups)}
        calls.append((create_phase, "ModifyNetworkInterfaceAttribute", modify))
    return calls


Translator = tuple[type[Any], Callable[[_Plan, Any], list[Call]]]
TRANSLATORS: dict[str, Translator] = {
    "aws_security_group": (TfSecurityGroup, _security_group),
    "aws_security_group_rule": (TfSecurityGroupRule, _security_group_rule),
    "aws_vpc_security_group_ingress_rule": (TfVpcSecurityGroupRule, _vpc_rule(egress=False)),
    "aws_vpc_security_group_egress_rule": (TfVpcSecurityGroupRule, _vpc_rule(egress=True)),
    "aws_network_acl": (TfNetworkAcl, _network_acl),
    "aws_network_acl_rule": (TfNetworkAclRule, _network_acl_rule),
    "aws_route": (TfRoute, _route),
    "aws_route_table": (TfRouteTable, _route_table),
    "aws_route_table_association": (TfRouteTableAssociation, _route_table_association),
    "aws_network_interface_sg_attachment": (TfSecurityGroupAttachment, _sg_attachment),
}
