"""The EC2 calls reach applies, as typed models: one per action, named as the action, with the parameters that
`aws ec2 <action> --cli-input-json` takes, spelled as AWS spells them, and AWS's own ranges.

Unknown parameters are refused (`extra="forbid"`), not warned about: a misspelt `IpPermission` would make a
revoke revoke nothing, and "this change breaks nothing" would be a silently wrong answer. Parameters AWS takes
that shape no path (`DryRun`, `TagSpecifications`, `ClientToken`) are accepted; those AWS takes but reach
cannot apply (`AssociatePublicIpAddress`, `OdbNetworkArn`, …) are refused by name (`unmodelled`). A few
parameters reach takes beyond AWS's (`extensions`) let a Terraform plan name what it creates.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    ValidationError,
    model_validator,
)
from pydantic.alias_generators import to_pascal

from reach.change.inputs import clip, problems
from reach.errors import ChangeError
from reach.model.addr import IPV4, Cidr
from reach.model.protocols import ALL, ICMP_FAMILY, PORTED, ROUTE_TARGET_FIELDS, protocol_name, protocol_number
from reach.model.vocabulary import Action
from reach.snapshot.base import Tag

# --- value types, with AWS's ranges -------------------------------------------------------------------------


def _protocol(value: object) -> str:
    """Any spelling AWS takes (`tcp`, `6`, `-1`, `all`; a bare number too), kept as written."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"{clip(value)} is not a protocol (tcp, udp, icmp, icmpv6, -1 or a number 0-255)")
    try:
        protocol_number(value)
    except ValueError:
        raise ValueError(f"{clip(value)} is not a protocol (tcp, udp, icmp, icmpv6, -1 or a number 0-255)") from None
    return str(value).strip()


def _cidr(family: int) -> Any:
    def check(text: str) -> str:
        try:
            cidr = Cidr.parse(text)
        except ValueError:
            cidr = None
        if cidr is None or cidr.family != family:
            raise ValueError(f"{clip(text)} is not an {'IPv4' if family == IPV4 else 'IPv6'} CIDR block")
        return text

    return AfterValidator(check)


def _rule_action(value: object) -> object:
    return value.strip().lower() if isinstance(value, str) else value


def _value_of(value: object) -> object:
    """`{"Value": x}` as AWS's attribute parameters take it; a bare value is taken as its Value."""
    return value if value is None or isinstance(value, Mapping) else {"Value": value}


Protocol = Annotated[str, BeforeValidator(_protocol)]
Port = Annotated[StrictInt, Field(ge=-1, le=65535)]  # -1: all (ICMP types, or ports of protocols without any)
IcmpNumber = Annotated[StrictInt, Field(ge=-1, le=255)]
RuleNumber = Annotated[StrictInt, Field(ge=1, le=32766)]  # 32767 and up are the default (*) rules
RuleAction = Annotated[Action, BeforeValidator(_rule_action)]
Ipv4Cidr = Annotated[str, _cidr(IPV4)]
Ipv6Cidr = Annotated[str, _cidr(6)]


def check_ports(protocol: str, low: int | None, high: int | None, names: tuple[str, str]) -> None:
    """AWS's rules for a permission's ports: tcp/udp a range low <= high, ICMP a type and a code (-1..255)."""
    number = protocol_number(protocol)
    if number in PORTED:
        if low is None or high is None:
            raise ValueError(f"{protocol_name(number)} needs both {names[0]} and {names[1]}")
        if low > high:
            raise ValueError(f"{names[0]} {low} is greater than {names[1]} {high}")
    elif number in ICMP_FAMILY:
        for name, value in zip(names, (low, high), strict=True):
            if value is not None and not -1 <= value <= 255:
                raise ValueError(f"{name} {value} is not an ICMP {'type' if name == names[0] else 'code'} (-1..255)")


def sg_protocol(text: str | int) -> str:
    """A protocol as describe-security-groups writes it: tcp, udp, icmp, icmpv6, -1, or the number."""
    number = protocol_number(text)
    return "-1" if number == ALL else protocol_name(number)


def acl_protocol(text: str | int) -> str:
    """A protocol as describe-network-acls writes it: the number, -1 for all."""
    return str(protocol_number(text))


# --- parts of calls ---------------------------------------------------------------------------------------


class Request(BaseModel):
    """A part of an EC2 request: PascalCase as AWS writes it, frozen, nothing unknown."""

    model_config = ConfigDict(alias_generator=to_pascal, populate_by_name=True, frozen=True, extra="forbid")


class IpRangeRequest(Request):
    cidr_ip: Ipv4Cidr
    description: str | None = None


class Ipv6RangeRequest(Request):
    cidr_ipv6: Ipv6Cidr
    description: str | None = None


class PrefixListIdRequest(Request):
    prefix_list_id: str
    description: str | None = None


class UserIdGroupPairRequest(Request):
    group_id: str | None = None
    group_name: str | None = None
    user_id: str | None = None
    vpc_id: str | None = None
    vpc_peering_connection_id: str | None = None
    peering_status: str | None = None
    description: str | None = None


class IpPermissionRequest(Request):
    ip_protocol: Protocol
    from_port: Port | None = None
    to_port: Port | None = None
    user_id_group_pairs: list[UserIdGroupPairRequest] = []
    ip_ranges: list[IpRangeRequest] = []
    ipv6_ranges: list[Ipv6RangeRequest] = []
    prefix_list_ids: list[PrefixListIdRequest] = []

    @model_validator(mode="after")
    def _ports(self) -> IpPermissionRequest:
        check_ports(self.ip_protocol, self.from_port, self.to_port, ("FromPort", "ToPort"))
        return self

    def describe(self) -> str:
        """`tcp 80 0.0.0.0/0`, `all traffic sg-1`: as a CloudTrail summary names it."""
        number = protocol_number(self.ip_protocol)
        what = "all traffic" if number == ALL else protocol_name(number)
        low, high = self.from_port, self.to_port
        if number != ALL and low is not None and low != -1:
            what += f" {low}" if low == high or high is None else f" {low}-{high}"
        peers = [r.cidr_ip for r in self.ip_ranges] + [r.cidr_ipv6 for r in self.ipv6_ranges]
        peers += [p.group_id or p.group_name or "?" for p in self.user_id_group_pairs]
        peers += [p.prefix_list_id for p in self.prefix_list_ids]
        return what + (f" {'/'.join(peers)}" if peers else "")


class TagSpecification(Request):
    resource_type: str | None = None
    tags: list[Tag] = []


class SecurityGroupRuleRequest(Request):
    """A rule's new form in ModifySecurityGroupRules: one peer."""

    ip_protocol: Protocol
    from_port: Port | None = None
    to_port: Port | None = None
    cidr_ipv4: Ipv4Cidr | None = None
    cidr_ipv6: Ipv6Cidr | None = None
    prefix_list_id: str | None = None
    referenced_group_id: str | None = None
    description: str | None = None

    @model_validator(mode="after")
    def _one_peer(self) -> SecurityGroupRuleRequest:
        check_ports(self.ip_protocol, self.from_port, self.to_port, ("FromPort", "ToPort"))
        if len(self.peers()) != 1:
            raise ValueError("give exactly one of CidrIpv4, CidrIpv6, PrefixListId, ReferencedGroupId")
        return self

    def peers(self) -> list[tuple[str, str]]:
        named = (
            ("CidrIpv4", self.cidr_ipv4),
            ("CidrIpv6", self.cidr_ipv6),
            ("PrefixListId", self.prefix_list_id),
            ("ReferencedGroupId", self.referenced_group_id),
        )
        return [(name, value) for name, value in named if value]


class SecurityGroupRuleUpdate(Request):
    security_group_rule_id: str
    security_group_rule: SecurityGroupRuleRequest


class PortRangeRequest(Request):
    low: Annotated[StrictInt, Field(ge=0, le=65535, alias="From")]
    high: Annotated[StrictInt, Field(ge=0, le=65535, alias="To")]

    @model_validator(mode="after")
    def _ordered(self) -> PortRangeRequest:
        if self.low > self.high:
            raise ValueError(f"From {self.low} is greater than To {self.high}")
        return self


class IcmpTypeCodeRequest(Request):
    type: IcmpNumber | None = None
    code: IcmpNumber | None = None


class BooleanValue(Request):
    value: bool


class TextValue(Request):
    value: str | None = None


# --- the calls ------------------------------------------------------------------------------------------


_COMPONENTS = ("group_id", "network_acl_id", "route_table_id", "network_interface_id")


class Ec2Call(Request):
    """One EC2 API call. `action` is the class's name, which is the action's; `params()` gives the parameters
    back as `--cli-input-json` takes them (those given, and only those)."""

    action: ClassVar[str] = ""
    extensions: ClassVar[frozenset[str]] = frozenset()  # parameters reach takes that AWS does not
    unmodelled: ClassVar[frozenset[str]] = frozenset()  # parameters AWS takes that reach cannot apply
    verb: ClassVar[str] = "changes"  # what a summary says the call does

    dry_run: bool | None = None  # True: AWS only checks permissions, nothing changes

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.__name__.startswith("_"):
            cls.action = cls.__name__
        cls.verb = (
            "removes"
            if cls.__name__.startswith(("Revoke", "Delete", "Disassociate"))
            else "adds"
            if cls.__name__.startswith(("Authorize", "Create", "Associate"))
            else "changes"
        )

    def params(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_unset=True)

    def components(self) -> list[str]:
        """The ids of the groups, ACLs, route tables and interfaces the call changes."""
        found = [getattr(self, name, None) for name in _COMPONENTS]
        return [c for c in found if isinstance(c, str) and c]

    def summary(self) -> list[str]:
        """What the call says, in parts: `tcp 80 0.0.0.0/0`, `route 0.0.0.0/0 -> nat-1`."""
        return []

    def describe(self) -> str:
        parts = self.summary()
        return f"{self.verb} {'; '.join(parts)}" if parts else ""


class _SecurityGroupPermissions(Ec2Call):
    """Authorize and revoke: `IpPermissions`, or the single-rule form (CidrIp, IpProtocol, FromPort, ToPort,
    SourceSecurityGroupName) that predates it."""

    extensions: ClassVar[frozenset[str]] = frozenset({"SourceSecurityGroupId"})

    group_id: str | None = None
    ip_permissions: list[IpPermissionRequest] = []
    cidr_ip: Ipv4Cidr | None = None
    ip_protocol: Protocol | None = None
    from_port: Port | None = None
    to_port: Port | None = None
    source_security_group_name: str | None = None
    source_security_group_owner_id: str | None = None
    source_security_group_id: str | None = None

    @model_validator(mode="after")
    def _legacy_ports(self) -> _SecurityGroupPermissions:
        if self.ip_protocol is not None:
            check_ports(self.ip_protocol, self.from_port, self.to_port, ("FromPort", "ToPort"))
        return self

    def permissions(self) -> list[IpPermissionRequest]:
        """IpPermissions, or the one permission the single-rule form describes."""
        if self.ip_permissions:
            return list(self.ip_permissions)
        if not (self.cidr_ip or self.source_security_group_name or self.source_security_group_id):
            return []
        group_id, group_name = self.source_security_group_id, self.source_security_group_name
        pair = UserIdGroupPairRequest(group_id=group_id, group_name=group_name)
        return [
            IpPermissionRequest(
                ip_protocol=self.ip_protocol or "-1",
                from_port=self.from_port,
                to_port=self.to_port,
                ip_ranges=[IpRangeRequest(cidr_ip=self.cidr_ip)] if self.cidr_ip else [],
                user_id_group_pairs=[pair] if pair.group_id or pair.group_name else [],
            )
        ]

    def summary(self) -> list[str]:
        return [p.describe() for p in self.permissions()]


class AuthorizeSecurityGroupIngress(_SecurityGroupPermissions):
    group_name: str | None = None
    tag_specifications: list[TagSpecification] = []


class AuthorizeSecurityGroupEgress(_SecurityGroupPermissions):
    group_id: str
    tag_specifications: list[TagSpecification] = []


class RevokeSecurityGroupIngress(_SecurityGroupPermissions):
    group_name: str | None = None
    security_group_rule_ids: list[str] = []

    def summary(self) -> list[str]:
        return super().summary() + list(self.security_group_rule_ids)


class RevokeSecurityGroupEgress(_SecurityGroupPermissions):
    group_id: str
    security_group_rule_ids: list[str] = []

    def summary(self) -> list[str]:
        return super().summary() + list(self.security_group_rule_ids)


class ModifySecurityGroupRules(Ec2Call):
    group_id: str
    security_group_rules: Annotated[list[SecurityGroupRuleUpdate], Field(min_length=1)]

    def summary(self) -> list[str]:
        return [u.security_group_rule_id for u in self.security_group_rules]


class CreateSecurityGroup(Ec2Call):
    extensions: ClassVar[frozenset[str]] = frozenset({"GroupId"})

    group_name: str
    description: str
    vpc_id: str | None = None
    tag_specifications: list[TagSpecification] = []
    group_id: str | None = None  # the id AWS would assign, when a plan knows it (else one is planned)


class DeleteSecurityGroup(Ec2Call):
    group_id: str | None = None
    group_name: str | None = None


class _NetworkAclEntryCall(Ec2Call):
    network_acl_id: str
    rule_number: RuleNumber
    egress: bool = False  # AWS requires it; reach takes a missing one as inbound, as the CLI's default


class _NetworkAclEntryRule(_NetworkAclEntryCall):
    protocol: Protocol
    rule_action: RuleAction
    cidr_block: Ipv4Cidr | None = None
    ipv6_cidr_block: Ipv6Cidr | None = None
    icmp_type_code: IcmpTypeCodeRequest | None = None
    port_range: PortRangeRequest | None = None

    @model_validator(mode="after")
    def _complete(self) -> _NetworkAclEntryRule:
        if bool(self.cidr_block) == bool(self.ipv6_cidr_block):
            raise ValueError("give exactly one of CidrBlock, Ipv6CidrBlock")
        if protocol_number(self.protocol) in PORTED and self.port_range is None:
            raise ValueError(f"PortRange is required for protocol {clip(self.protocol)}")
        return self

    def summary(self) -> list[str]:
        side = "outbound" if self.egress else "inbound"
        ports = f" {self.port_range.low}-{self.port_range.high}" if self.port_range else ""
        peer = self.cidr_block or self.ipv6_cidr_block
        return [f"{side} rule #{self.rule_number} {self.rule_action} protocol {self.protocol}{ports} {peer}"]


class CreateNetworkAclEntry(_NetworkAclEntryRule):
    pass


class ReplaceNetworkAclEntry(_NetworkAclEntryRule):
    pass


class DeleteNetworkAclEntry(_NetworkAclEntryCall):
    def summary(self) -> list[str]:
        return [f"{'outbound' if self.egress else 'inbound'} rule #{self.rule_number}"]


class ReplaceNetworkAclAssociation(Ec2Call):
    """Besides AWS's `AssociationId`, reach takes `SubnetId`: the subnet's association at that point of the
    change set, which is what a Terraform plan knows."""

    extensions: ClassVar[frozenset[str]] = frozenset({"SubnetId"})

    association_id: str | None = None
    network_acl_id: str
    subnet_id: str | None = None

    @model_validator(mode="after")
    def _which(self) -> ReplaceNetworkAclAssociation:
        if not self.association_id and not self.subnet_id:
            raise ValueError("give AssociationId (or, reach's own, SubnetId)")
        return self


class CreateNetworkAcl(Ec2Call):
    extensions: ClassVar[frozenset[str]] = frozenset({"NetworkAclId"})

    vpc_id: str
    client_token: str | None = None
    tag_specifications: list[TagSpecification] = []
    network_acl_id: str | None = None  # the id AWS would assign, when known


class DeleteNetworkAcl(Ec2Call):
    network_acl_id: str


# Route targets: GatewayId, then the table of reach.model.protocols, each a field below.
ROUTE_TARGETS = ("GatewayId", *ROUTE_TARGET_FIELDS)
ROUTE_DESTINATIONS = ("DestinationCidrBlock", "DestinationIpv6CidrBlock", "DestinationPrefixListId")


class _RouteDestination(Ec2Call):
    route_table_id: str
    destination_cidr_block: Ipv4Cidr | None = None
    destination_ipv6_cidr_block: Ipv6Cidr | None = None
    destination_prefix_list_id: str | None = None

    @model_validator(mode="after")
    def _one_destination(self) -> _RouteDestination:
        if len(list(_given(self, ROUTE_DESTINATIONS))) != 1:
            raise ValueError(f"give exactly one of {', '.join(ROUTE_DESTINATIONS)}")
        return self

    def destination(self) -> tuple[str, str]:
        """(the parameter, the destination): ('DestinationCidrBlock', '0.0.0.0/0')."""
        return next(_given(self, ROUTE_DESTINATIONS))

    def summary(self) -> list[str]:
        return [f"route {self.destination()[1]}"]


class _RouteCall(_RouteDestination):
    unmodelled: ClassVar[frozenset[str]] = frozenset({"OdbNetworkArn"})

    gateway_id: str | None = None
    nat_gateway_id: str | None = None
    network_interface_id: str | None = None
    instance_id: str | None = None
    vpc_peering_connection_id: str | None = None
    transit_gateway_id: str | None = None
    egress_only_internet_gateway_id: str | None = None
    local_gateway_id: str | None = None
    carrier_gateway_id: str | None = None
    core_network_arn: str | None = None
    vpc_endpoint_id: str | None = None

    @model_validator(mode="after")
    def _one_target(self) -> _RouteCall:
        found = len(list(_given(self, ROUTE_TARGETS)))
        if found != 1 and not (found == 0 and getattr(self, "local_target", None)):
            raise ValueError(f"give exactly one route target, found {found} (one of {', '.join(ROUTE_TARGETS)})")
        return self

    def target(self) -> tuple[str, str]:
        """(the parameter, the target): ('NatGatewayId', 'nat-0abc'); ReplaceRoute's LocalTarget is 'local'."""
        return next(_given(self, ROUTE_TARGETS), ("GatewayId", "local"))

    def summary(self) -> list[str]:
        return [f"route {self.destination()[1]} -> {self.target()[1]}"]


class CreateRoute(_RouteCall):
    pass


class ReplaceRoute(_RouteCall):
    local_target: bool | None = None  # True: back to the local route's own target


class DeleteRoute(_RouteDestination):
    pass


class ReplaceRouteTableAssociation(Ec2Call):
    association_id: str
    route_table_id: str


class AssociateRouteTable(Ec2Call):
    extensions: ClassVar[frozenset[str]] = frozenset({"AssociationId"})
    unmodelled: ClassVar[frozenset[str]] = frozenset({"PublicIpv4Pool"})

    route_table_id: str
    subnet_id: str | None = None
    gateway_id: str | None = None
    association_id: str | None = None  # the id AWS would assign, when known

    @model_validator(mode="after")
    def _what(self) -> AssociateRouteTable:
        if not self.subnet_id and not self.gateway_id:
            raise ValueError("give SubnetId (or GatewayId)")
        return self


class DisassociateRouteTable(Ec2Call):
    association_id: str


class CreateRouteTable(Ec2Call):
    extensions: ClassVar[frozenset[str]] = frozenset({"RouteTableId"})

    vpc_id: str
    client_token: str | None = None
    tag_specifications: list[TagSpecification] = []
    route_table_id: str | None = None  # the id AWS would assign, when known


class DeleteRouteTable(Ec2Call):
    route_table_id: str


class ModifyNetworkInterfaceAttribute(Ec2Call):
    unmodelled: ClassVar[frozenset[str]] = frozenset(
        {
            "Attachment",
            "AssociatePublicIpAddress",
            "AssociatedSubnetIds",
            "ConnectionTrackingSpecification",
            "EnablePrimaryIpv6",
            "EnaSrdSpecification",
        }
    )

    network_interface_id: str
    groups: list[str] | None = None
    source_dest_check: Annotated[BooleanValue | None, BeforeValidator(_value_of)] = None
    description: Annotated[TextValue | None, BeforeValidator(_value_of)] = None

    @model_validator(mode="after")
    def _something(self) -> ModifyNetworkInterfaceAttribute:
        if self.groups is None and self.source_dest_check is None and self.description is None:
            raise ValueError("nothing to modify: give Groups, SourceDestCheck or Description")
        return self

    def components(self) -> list[str]:
        return list(dict.fromkeys([*super().components(), *(self.groups or [])]))

    def summary(self) -> list[str]:
        parts = [f"groups {', '.join(self.groups)}"] if self.groups is not None else []
        if self.source_dest_check is not None:
            parts.append(f"source/destination check {'on' if self.source_dest_check.value else 'off'}")
        return parts


def _given(call: BaseModel, aliases: tuple[str, ...]) -> Iterator[tuple[str, str]]:
    """The parameters among `aliases` that the call gives a value (a blank string is none)."""
    names = {field.alias: name for name, field in type(call).model_fields.items()}
    for alias in aliases:
        value = getattr(call, names[alias]) if alias in names else None
        if value:
            yield alias, value


CALLS: dict[str, type[Ec2Call]] = {
    call.action: call
    for call in (
        AuthorizeSecurityGroupIngress,
        AuthorizeSecurityGroupEgress,
        RevokeSecurityGroupIngress,
        RevokeSecurityGroupEgress,
        ModifySecurityGroupRules,
        CreateSecurityGroup,
        DeleteSecurityGroup,
        CreateNetworkAclEntry,
        ReplaceNetworkAclEntry,
        DeleteNetworkAclEntry,
        ReplaceNetworkAclAssociation,
        CreateNetworkAcl,
        DeleteNetworkAcl,
        CreateRoute,
        ReplaceRoute,
        DeleteRoute,
        ReplaceRouteTableAssociation,
        AssociateRouteTable,
        DisassociateRouteTable,
        CreateRouteTable,
        DeleteRouteTable,
        ModifyNetworkInterfaceAttribute,
    )
}


def api_name(action: str) -> str:
    """`revoke-security-group-ingress`, `ec2:RevokeSecurityGroupIngress` -> `RevokeSecurityGroupIngress`."""
    action = action.strip().removeprefix("ec2:")
    if "-" in action or "_" in action or action.islower():
        return "".join(part.capitalize() for part in action.replace("_", "-").split("-"))
    return action


def parse_call(action: str, params: Any, where: str, path: str = "params") -> Ec2Call:
    """One call, validated; a `ChangeError` naming `where`, the action and the path of every bad value."""
    model = CALLS.get(api_name(action))
    if model is None:
        supported = ", ".join(sorted(CALLS))
        raise ChangeError(f"{where}: '{clip(action)}' is not an action reach can apply; supported: {supported}")
    try:
        return model.model_validate(params)
    except ValidationError as exc:
        raise ChangeError(f"{where} ({model.action}): {problems(exc, path, _explainer(model))}") from None


def _explainer(model: type[Ec2Call]) -> Any:
    def explain(error: dict[str, Any]) -> str | None:
        if error["type"] != "extra_forbidden" or len(error["loc"]) != 1:
            return None
        name = str(error["loc"][0])
        if name in model.unmodelled:
            return f"AWS takes {name}, but reach does not model what it changes"
        known = sorted(f.alias or n for n, f in model.model_fields.items())
        return f"not a parameter of {model.action} (it takes {', '.join(known)})"

    return explain
