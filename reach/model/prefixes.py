"""Longest-prefix lookup over CIDRs of both families (routes, subnets, VPC ranges)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, TypeVar

from reach.model.addr import IPV4, Cidr

V = TypeVar("V")


class PrefixMap(Generic[V]):
    """CIDR -> values; `longest(family, address)` finds the values of the most specific match."""

    def __init__(self) -> None:
        self._by_len: dict[int, dict[int, dict[int, list[V]]]] = {IPV4: {}, 6: {}}
        self._lengths: dict[int, list[int]] = {IPV4: [], 6: []}

    def add(self, cidr: Cidr, value: V) -> None:
        table = self._by_len[cidr.family].setdefault(cidr.prefixlen, {})
        table.setdefault(cidr.start, []).append(value)
        self._lengths[cidr.family] = sorted(self._by_len[cidr.family], reverse=True)

    def matches(self, family: int, address: int) -> Iterator[tuple[int, list[V]]]:
        """(prefix length, values) of every CIDR holding the address, most specific first."""
        bits = 32 if family == IPV4 else 128
        for length in self._lengths[family]:
            key = (address >> (bits - length)) << (bits - length) if length else 0
            values = self._by_len[family][length].get(key)
            if values:
                yield length, values

    def longest(self, family: int, address: int) -> list[V]:
        for _, values in self.matches(family, address):
            return values
        return []
