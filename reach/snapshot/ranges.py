"""AWS's own ranges for the numbers a rule carries, checked when a resource is read.

A value outside them is refused with the field's name, never clamped, never read as something else: a
NACL rule numbered -5 does not exist, `RuleAction: "alow"` is not a deny, and a port of 2**32 does not fit
the rule tables. Sources: the EC2 API reference (`IpPermission`, `CreateNetworkAclEntry`, `PortRange`,
`IcmpTypeCode`) and aws-semantics.md §E.1/E.3.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from reach.model.protocols import ICMP_FAMILY, PORTED, protocol_number

PORT_MAX = 65535
ICMP_MAX = 255  # an ICMP type or code is one byte
NACL_RULE_MIN, NACL_RULE_MAX = 1, 32766  # what a user may number a rule
NACL_DEFAULT_RULES = (32767, 32768)  # the catch-all deny: 32767 for IPv4, 32768 for IPv6

Port = Annotated[int, Field(ge=0, le=PORT_MAX)]  # a listener's or a target's port


def protocol(text: str) -> str:
    """The protocol as written, once it is known to be tcp, udp, icmp, icmpv6, all, -1 or 0-255."""
    protocol_number(text)  # raises ValueError naming the value
    return text


def rule_port(protocol_text: str | None, value: int | None, field: str) -> int | None:
    """A security group rule's FromPort or ToPort: a port (or -1, all) for tcp/udp, an ICMP type or code (or
    -1, all) for icmp/icmpv6. Other protocols ignore ports ("traffic on all ports is allowed") but AWS still
    keeps them within -1..65535."""
    if value is None:
        return None
    number = _number(protocol_text)
    high = ICMP_MAX if number in ICMP_FAMILY else PORT_MAX
    if not -1 <= value <= high:
        what = ("ICMP type" if field == "FromPort" else "ICMP code") if number in ICMP_FAMILY else "port"
        raise ValueError(f"{field} {value} is not a valid {what} (-1 for all, else 0-{high})")
    return value


def port_order(protocol_text: str | None, from_port: int | None, to_port: int | None) -> None:
    """tcp/udp: FromPort must not exceed ToPort (-1 on either side means all ports)."""
    if _number(protocol_text) not in PORTED or from_port is None or to_port is None:
        return
    if from_port != -1 and to_port != -1 and from_port > to_port:
        raise ValueError(f"FromPort {from_port} is above ToPort {to_port}")


def nacl_rule_number(value: int) -> int:
    if not (NACL_RULE_MIN <= value <= NACL_RULE_MAX or value in NACL_DEFAULT_RULES):
        raise ValueError(
            f"rule number {value} is outside {NACL_RULE_MIN}-{NACL_RULE_MAX} "
            f"(and is not a default rule, {' or '.join(map(str, NACL_DEFAULT_RULES))})"
        )
    return value


def port(value: int, field: str) -> int:
    if not 0 <= value <= PORT_MAX:
        raise ValueError(f"{field} {value} is not a port (0-{PORT_MAX})")
    return value


def icmp(value: int | None, field: str) -> int | None:
    if value is not None and not -1 <= value <= ICMP_MAX:
        raise ValueError(f"{field} {value} is not -1 (all) or 0-{ICMP_MAX}")
    return value


def _number(protocol_text: str | None) -> int | None:
    if protocol_text is None:
        return None
    try:
        return protocol_number(protocol_text)
    except ValueError:
        return None  # reported on the protocol field itself
