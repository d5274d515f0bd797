"""describe-network-acls: the shapes, and their compilation into one rule table per direction.

AWS evaluates a network ACL by rule number, lowest first, never in file order; the catch-all deny (32767
for IPv4, 32768 for IPv6) ends every table, added where the snapshot left it out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field, ValidationInfo, field_validator, model_validator

from reach.errors import SnapshotError
from reach.model.addr import IPV4, IPV6, Cidr
from reach.model.network import NetworkAcl as CompiledAcl
from reach.model.protocols import ICMP, ICMPV6, PORTED, protocol_number
from reach.model.rules import ALL_CODES, ALL_PORTS, RuleLine, RuleRef, RuleTable, describe_match, ports_for
from reach.model.vocabulary import Action, Direction, Kind
from reach.snapshot import ranges
from reach.snapshot.base import AwsModel, Compiled, Tag, name_tag, parse_cidr, where

if TYPE_CHECKING:
    from reach.snapshot.loader import SnapshotResources


class IcmpTypeCode(AwsModel):
    type: int | None = None
    code: int | None = None

    @field_validator("type", "code")
    @classmethod
    def _one_byte(cls, value: int | None, info: ValidationInfo) -> int | None:
        return ranges.icmp(value, f"ICMP {info.field_name}")


class PortRange(AwsModel):
    from_: int = Field(default=0, alias="From")
    to: int = Field(default=65535, alias="To")

    @field_validator("from_", "to")
    @classmethod
    def _a_port(cls, value: int) -> int:
        return ranges.port(value, "port")

    @model_validator(mode="after")
    def _ordered(self) -> PortRange:
        if self.from_ > self.to:
            raise ValueError(f"From {self.from_} is above To {self.to}")
        return self


class NetworkAclEntry(AwsModel):
    rule_number: int
    protocol: str
    rule_action: Action
    egress: bool
    cidr_block: str | None = None
    ipv6_cidr_block: str | None = None
    port_range: PortRange | None = None
    icmp_type_code: IcmpTypeCode | None = None

    @field_validator("rule_number")
    @classmethod
    def _numbered(cls, value: int) -> int:
        return ranges.nacl_rule_number(value)

    @field_validator("protocol", mode="before")
    @classmethod
    def _protocol(cls, value: object) -> object:
        return ranges.protocol(str(value)) if isinstance(value, str | int) and not isinstance(value, bool) else value

    @field_validator("rule_action", mode="before")
    @classmethod
    def _action(cls, value: object) -> object:
        # AWS prints lowercase; anything but allow or deny is refused rather than read as a deny.
        return value.lower() if isinstance(value, str) else value

    def ports(self) -> tuple[int, int] | None:
        return None if self.port_range is None else (self.port_range.from_, self.port_range.to)


class NetworkAclAssociation(AwsModel):
    subnet_id: str
    network_acl_association_id: str | None = None
    network_acl_id: str | None = None


class AwsNetworkAcl(AwsModel):
    network_acl_id: str
    vpc_id: str
    is_default: bool = False
    associations: list[NetworkAclAssociation] = Field(default_factory=list)
    entries: list[NetworkAclEntry] = Field(default_factory=list)
    owner_id: str | None = None
    tags: list[Tag] = Field(default_factory=list)


# --- compile -----------------------------------------------------------------------------------------


def compile_network_acls(snapshot: SnapshotResources) -> Compiled[dict[str, CompiledAcl]]:
    """One table per direction, in rule-number order, one line per entry (named as the console names it)."""
    nacls = {}
    for acl in snapshot.network_acls:
        at = where(snapshot.origins, acl.network_acl_id)
        tables = {}
        for egress in (False, True):
            entries = sorted((e for e in acl.entries if e.egress == egress), key=lambda e: e.rule_number)
            lines = [_acl_line(acl.network_acl_id, e, at) for e in entries]
            for family, number in ((IPV4, 32767), (IPV6, 32768)):
                if not any(e.rule_number == number for e in entries):
                    lines.append(_default_deny(acl.network_acl_id, egress, family))
            tables[egress] = RuleTable.build(lines)
        nacls[acl.network_acl_id] = CompiledAcl(
            acl.network_acl_id, name_tag(acl.tags), acl.vpc_id, acl.is_default, tables[False], tables[True]
        )
    return Compiled(nacls)


def _acl_line(acl_id: str, entry: NetworkAclEntry, at: str) -> RuleLine:
    protocol = protocol_number(entry.protocol)
    if entry.cidr_block:
        peer = parse_cidr(entry.cidr_block, at)
    elif entry.ipv6_cidr_block:
        peer = parse_cidr(entry.ipv6_cidr_block, at)
    else:
        raise SnapshotError(f"{at}: entry #{entry.rule_number}: field 'CidrBlock': missing (nor Ipv6CidrBlock)")
    ports, codes = ALL_PORTS, ALL_CODES
    entry_ports = entry.ports()
    if protocol in PORTED and entry_ports is not None:
        ports = entry_ports
    elif protocol == ICMP or (protocol == ICMPV6 and peer.family == IPV6):
        icmp = entry.icmp_type_code
        if icmp is not None:
            ports, codes = ports_for(protocol, icmp.type, icmp.code)
    allow = entry.rule_action is Action.ALLOW
    direction = Direction.EGRESS if entry.egress else Direction.INGRESS
    number = "*" if entry.rule_number in ranges.NACL_DEFAULT_RULES else f"#{entry.rule_number}"
    side = "outbound" if entry.egress else "inbound"
    to_from = "to" if entry.egress else "from"
    detail = (
        f"network ACL {acl_id} {side} rule {number} {'allows' if allow else 'denies'} "
        f"{describe_match(protocol, ports, codes)} {to_from} {peer}"
    )
    ref = RuleRef(Kind.NETWORK_ACL, acl_id, direction, entry.rule_number, detail)
    return RuleLine(peer, protocol, ports[0], ports[1], codes[0], codes[1], allow, ref)


def _default_deny(acl_id: str, egress: bool, family: int) -> RuleLine:
    number = 32767 if family == IPV4 else 32768
    peer = Cidr.parse("0.0.0.0/0" if family == IPV4 else "::/0")
    side, to_from = ("outbound", "to") if egress else ("inbound", "from")
    detail = f"network ACL {acl_id} {side} rule * denies all traffic {to_from} {peer}"
    ref = RuleRef(Kind.NETWORK_ACL, acl_id, Direction.EGRESS if egress else Direction.INGRESS, number, detail)
    return RuleLine(peer, -1, *ALL_PORTS, *ALL_CODES, False, ref)
