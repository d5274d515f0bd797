"""Addresses as integers: (family, value), with 128-bit values split into (hi, lo) uint64 for NumPy."""

from __future__ import annotations

import functools
import ipaddress
from dataclasses import dataclass

IPV4 = 4
IPV6 = 6
_MASK64 = (1 << 64) - 1


@dataclass(frozen=True, order=True)
class Cidr:
    """A network as the closed integer range [start, end] of one family."""

    family: int
    start: int
    end: int
    prefixlen: int

    @classmethod
    def parse(cls, text: str) -> Cidr:
        """Parse a CIDR the way AWS canonicalises it (host bits dropped: 100.68.0.18/18 -> 100.68.0.0/18)."""
        return _parse_cidr(text.strip())

    @classmethod
    def host(cls, family: int, value: int) -> Cidr:
        return _host(family, value)

    def contains(self, family: int, value: int) -> bool:
        return family == self.family and self.start <= value <= self.end

    def __str__(self) -> str:
        address = ipaddress.ip_address(self.start) if self.family == IPV4 else ipaddress.IPv6Address(self.start)
        return f"{address}/{self.prefixlen}"


@functools.lru_cache(maxsize=65536)
def _host(family: int, value: int) -> Cidr:
    return Cidr(family, value, value, 32 if family == IPV4 else 128)


@functools.lru_cache(maxsize=65536)
def _parse_cidr(text: str) -> Cidr:
    net = ipaddress.ip_network(text, strict=False)
    return Cidr(net.version, int(net.network_address), int(net.broadcast_address), net.prefixlen)


def parse_address(text: str) -> tuple[int, int]:
    """'10.0.1.5' -> (4, 167772421). Raises ValueError for anything that is not one address."""
    address = ipaddress.ip_address(text.strip())
    return address.version, int(address)


def format_address(family: int, value: int) -> str:
    return str(ipaddress.IPv4Address(value) if family == IPV4 else ipaddress.IPv6Address(value))


def split(value: int) -> tuple[int, int]:
    """A 128-bit value as (hi, lo) 64-bit halves; an IPv4 value has hi = 0."""
    return value >> 64, value & _MASK64


def is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text.strip())
    except ValueError:
        return False
    return True


_PRIVATE_EGRESS = [Cidr.parse(c) for c in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")]
_SHARED = Cidr.parse("100.64.0.0/10")


def is_rfc1918(family: int, value: int) -> bool:
    return any(c.contains(family, value) for c in _PRIVATE_EGRESS)


def is_rfc6598(family: int, value: int) -> bool:
    return _SHARED.contains(family, value)
