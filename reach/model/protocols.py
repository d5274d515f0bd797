"""One table of IP protocols and one of route targets, for every stage that reads or writes them: the
compile passes, the EC2 calls of a change set, Terraform plans, CloudTrail events, flow logs and reports.

AWS spells a protocol several ways: security groups `tcp`/`6`/`-1`, network ACLs `6`/`-1`, Terraform
`tcp`/`all`/`-1`, flow logs the number. Everything here turns them into the IANA number (-1 for all).
"""

from __future__ import annotations

from reach.model.vocabulary import Kind

ALL = -1
ICMP = 1
TCP = 6
UDP = 17
ICMPV6 = 58

PORTED = frozenset({TCP, UDP})  # protocols whose rules and flow logs carry ports
ICMP_FAMILY = frozenset({ICMP, ICMPV6})  # protocols whose rules carry a type and a code instead

NAMES = {ALL: "all", ICMP: "icmp", TCP: "tcp", UDP: "udp", ICMPV6: "icmpv6"}
_NUMBERS = {"all": ALL, "-1": ALL, "icmp": ICMP, "tcp": TCP, "udp": UDP, "icmpv6": ICMPV6}

# Echo request type -> echo reply type: the only ICMP a connection is tracked for (aws-semantics E.2).
ECHO_REPLY = {(ICMP, 8): 0, (ICMPV6, 128): 129}
ECHO_REQUEST = {ICMP: 8, ICMPV6: 128}


def protocol_number(text: str | int) -> int:
    """'tcp' -> 6, '-1' -> -1, 'all' -> -1, '58' -> 58. Raises ValueError for anything else."""
    if isinstance(text, bool):
        raise ValueError(f"protocol {text!r} is not a protocol")
    if isinstance(text, int):
        number = text
    else:
        key = text.strip().lower()
        if key in _NUMBERS:
            return _NUMBERS[key]
        if not key.lstrip("-").isdigit() or len(key) > 4:
            raise ValueError(f"protocol {text!r} is not tcp, udp, icmp, icmpv6, all, -1 or a number 0-255")
        number = int(key)
    if not -1 <= number <= 255:
        raise ValueError(f"protocol {text!r} is not -1 or 0-255")
    return number


def protocol_name(number: int) -> str:
    """6 -> 'tcp', -1 -> 'all', 47 -> '47'."""
    return NAMES.get(number, str(number))


def echo_reply(protocol: int, icmp_type: int) -> int | None:
    """The reply type of an ICMP echo request, None for any other ICMP (one-way, never tracked)."""
    return ECHO_REPLY.get((protocol, icmp_type))


# A route's target, by the describe-route-tables field that names it, and for GatewayId by the id's prefix
# (GatewayId holds internet, virtual private and gateway-endpoint ids alike).
ROUTE_TARGET_FIELDS: dict[str, Kind | str] = {
    "NatGatewayId": Kind.NAT_GATEWAY,
    "NetworkInterfaceId": Kind.NETWORK_INTERFACE,
    "InstanceId": "instance",
    "VpcPeeringConnectionId": Kind.VPC_PEERING_CONNECTION,
    "TransitGatewayId": Kind.TRANSIT_GATEWAY,
    "EgressOnlyInternetGatewayId": Kind.EGRESS_ONLY_INTERNET_GATEWAY,
    "VpcEndpointId": Kind.VPC_ENDPOINT,
    "LocalGatewayId": "local-gateway",
    "CarrierGatewayId": "carrier-gateway",
    "CoreNetworkArn": "core-network",
}
GATEWAY_ID_PREFIXES: dict[str, Kind] = {
    "igw-": Kind.INTERNET_GATEWAY,
    "vgw-": Kind.VPN_GATEWAY,
    "vpce-": Kind.VPC_ENDPOINT,
    "eigw-": Kind.EGRESS_ONLY_INTERNET_GATEWAY,
    "nat-": Kind.NAT_GATEWAY,
    "tgw-": Kind.TRANSIT_GATEWAY,
    "pcx-": Kind.VPC_PEERING_CONNECTION,
    "eni-": Kind.NETWORK_INTERFACE,
}


def gateway_kind(gateway_id: str) -> Kind | str:
    """The kind of the target a route's GatewayId names: 'local', a Kind, or 'gateway' when unknown."""
    if gateway_id == "local":
        return "local"
    for prefix, kind in GATEWAY_ID_PREFIXES.items():
        if gateway_id.startswith(prefix):
            return kind
    return "gateway"
