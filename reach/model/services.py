"""What the instance's own host answers: traffic that security groups and network ACLs never filter and
flow logs never record.

AWS documents these exceptions (aws-semantics E.1, E.3, C.7): Amazon DNS (the Route 53 Resolver at the
VPC's base address plus two, and at 169.254.169.253), instance metadata (169.254.169.254), the Amazon Time
Sync Service (169.254.169.123), Windows license activation (169.254.169.250 and .251), ECS task metadata
(169.254.170.2), their IPv6 addresses in fd00:ec2::/32 (Nitro instances), and the VPC router's own address
in each subnet (its base plus one), which answers DHCP. Each answers only its own protocol and port.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from reach.model.addr import IPV4, Cidr, parse_address
from reach.model.network import Interface, Network
from reach.model.protocols import TCP, UDP


@dataclass(frozen=True)
class Service:
    """A service the host answers, and the (protocol, port) pairs it answers on."""

    name: str
    ports: tuple[tuple[int, int], ...]

    def answers(self, protocol: int, port: int) -> bool:
        return (protocol, port) in self.ports

    @property
    def listens(self) -> str:
        return ", ".join(f"{'tcp' if p == TCP else 'udp'} {port}" for p, port in self.ports)


DNS = Service("Amazon DNS (the Route 53 Resolver)", ((UDP, 53), (TCP, 53)))
METADATA = Service("the instance metadata service", ((TCP, 80),))
TIME_SYNC = Service("the Amazon Time Sync Service", ((UDP, 123),))
ACTIVATION = Service("Windows license activation", ((TCP, 1688),))
ECS_METADATA = Service("the ECS task metadata endpoint", ((TCP, 80),))
ROUTER = Service("the VPC router (it answers DHCP)", ((UDP, 67),))

# Addresses that are the same in every VPC.
LINK_LOCAL: dict[tuple[int, int], Service] = {
    parse_address(text): service
    for text, service in (
        ("169.254.169.253", DNS),
        ("fd00:ec2::253", DNS),
        ("169.254.169.254", METADATA),
        ("fd00:ec2::254", METADATA),
        ("169.254.169.123", TIME_SYNC),
        ("fd00:ec2::123", TIME_SYNC),
        ("169.254.169.250", ACTIVATION),
        ("169.254.169.251", ACTIVATION),
        ("169.254.170.2", ECS_METADATA),
    )
}

# Address space AWS never forwards (E.4: no route can target 169.254.168.0/22 or fd00:ec2::/32; link-local
# addresses stay on the link; a VPC carries no broadcast).
NOT_FORWARDED = (
    Cidr.parse("169.254.0.0/16"),
    Cidr.parse("fd00:ec2::/32"),
    Cidr.parse("fe80::/10"),
    Cidr.parse("255.255.255.255/32"),
)


def dns_address(network: Network, vpc_id: str) -> tuple[int, int] | None:
    """The VPC's Amazon DNS address: the base of its primary IPv4 CIDR plus two."""
    vpc = network.vpcs.get(vpc_id)
    primary = next((c for c in vpc.cidrs if c.family == IPV4), None) if vpc else None
    return (IPV4, primary.start + 2) if primary else None


def service_at(network: Network, interface: Interface, family: int, address: int) -> Service | None:
    """The service the interface's host answers at `address`, None if the address is not one."""
    found = LINK_LOCAL.get((family, address))
    if found is not None:
        return found
    if dns_address(network, interface.vpc_id) == (family, address):
        return DNS
    subnet = network.subnets.get(interface.subnet_id)
    if subnet is not None and any(c.family == family and address == c.start + 1 for c in subnet.cidrs):
        return ROUTER
    return None


def service_addresses(network: Network) -> Iterator[Cidr]:
    """Every address that some interface reaches as a service: for cutting the address space into classes."""
    for family, value in LINK_LOCAL:
        yield Cidr.host(family, value)
    for vpc_id in network.vpcs:
        found = dns_address(network, vpc_id)
        if found is not None:
            yield Cidr.host(*found)
    for subnet in network.subnets.values():
        for cidr in subnet.cidrs:
            yield Cidr.host(cidr.family, cidr.start + 1)

