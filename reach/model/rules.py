"""Compiled filter rules: one line per AWS rule, each carrying where it came from.

A `RuleTable` is a set of columns (NumPy) in evaluation order; `RuleRef` names the AWS rule a line came
from, in the same shape as CONTRACT's `blocked_by`, so explanations never look back at JSON.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from reach.model.addr import IPV4, Cidr, split
from reach.model.protocols import protocol_name, protocol_number  # noqa: F401  (re-exported)


@dataclass(frozen=True)
class RuleRef:
    """The AWS rule behind a compiled line, or behind a verdict: the shape of CONTRACT's `blocked_by`.

    One type from compile to report: rule lines carry it, the interface decision answers with it, and a
    blocker is a `RuleRef` plus a reason.
    """

    kind: str  # a reach.model.vocabulary.Kind
    id: str | None
    direction: str | None = None  # ingress | egress, as seen from the component
    rule: int | str | None = None  # NACL rule number, sgr- id, route destination
    detail: str = ""
    groups: tuple[str, ...] | None = None  # an interface's security groups, when they decide as a whole
    implicit: bool = False  # no line matched: the implicit deny of a security group or network ACL


@dataclass(frozen=True)
class RuleLine:
    """One match line: peer range, protocol, port (or ICMP type) range, ICMP code range, allow/deny."""

    peer: Cidr | None  # None: matches no address (an unresolvable reference, kept so it is never lost)
    protocol: int  # -1 for all
    port_lo: int
    port_hi: int
    code_lo: int
    code_hi: int
    allow: bool
    ref: RuleRef
    peer_group: str | None = None  # the security group whose members `peer` stands for, if any
    peer_prefix_list: str | None = None  # the prefix list `peer` comes from, if any


ALL_PORTS = (0, 65535)
ALL_CODES = (0, 255)

_EMPTY_U64 = np.zeros(0, dtype=np.uint64)


@dataclass(frozen=True)
class RuleTable:
    """Rule lines as columns, in evaluation order (NACL: by rule number; SG: stable group/rule order)."""

    family: np.ndarray  # int8; 0 for a line that can match no address
    start_hi: np.ndarray
    start_lo: np.ndarray
    end_hi: np.ndarray
    end_lo: np.ndarray
    protocol: np.ndarray  # int16, -1 = all
    port_lo: np.ndarray  # int32
    port_hi: np.ndarray
    code_lo: np.ndarray  # int16
    code_hi: np.ndarray
    allow: np.ndarray  # bool
    lines: tuple[RuleLine, ...] = field(default=())

    @classmethod
    def build(cls, lines: Sequence[RuleLine]) -> RuleTable:
        n = len(lines)
        family = np.zeros(n, dtype=np.int8)
        start_hi = np.zeros(n, dtype=np.uint64)
        start_lo = np.zeros(n, dtype=np.uint64)
        end_hi = np.zeros(n, dtype=np.uint64)
        end_lo = np.zeros(n, dtype=np.uint64)
        for i, line in enumerate(lines):
            if line.peer is not None:
                family[i] = line.peer.family
                start_hi[i], start_lo[i] = split(line.peer.start)
                end_hi[i], end_lo[i] = split(line.peer.end)
        return cls(
            family=family,
            start_hi=start_hi,
            start_lo=start_lo,
            end_hi=end_hi,
            end_lo=end_lo,
            protocol=np.array([line.protocol for line in lines], dtype=np.int16),
            port_lo=np.array([line.port_lo for line in lines], dtype=np.int32),
            port_hi=np.array([line.port_hi for line in lines], dtype=np.int32),
            code_lo=np.array([line.code_lo for line in lines], dtype=np.int16),
            code_hi=np.array([line.code_hi for line in lines], dtype=np.int16),
            allow=np.array([line.allow for line in lines], dtype=bool),
            lines=tuple(lines),
        )

    @classmethod
    def concat(cls, tables: Sequence[RuleTable]) -> RuleTable:
        return cls.build([line for table in tables for line in table.lines])

    def __len__(self) -> int:
        return len(self.lines)


def empty_table() -> RuleTable:
    return RuleTable.build([])


def ports_for(protocol: int, from_port: int | None, to_port: int | None) -> tuple[tuple[int, int], tuple[int, int]]:
    """AWS's port fields -> (port-or-type range, code range).

    tcp/udp: From..To (missing or -1 = all). icmp/icmpv6: From is the type, To the code (-1 = any).
    Any other protocol, or all protocols: every port ("traffic on all ports is allowed").
    """
    if protocol in (6, 17):
        if from_port is None or from_port == -1:
            return ALL_PORTS, ALL_CODES
        return (from_port, to_port if to_port is not None and to_port != -1 else from_port), ALL_CODES
    if protocol in (1, 58):
        types = ALL_CODES if from_port is None or from_port == -1 else (from_port, from_port)
        codes = ALL_CODES if to_port is None or to_port == -1 else (to_port, to_port)
        return types, codes
    return ALL_PORTS, ALL_CODES


def describe_match(protocol: int, ports: tuple[int, int], codes: tuple[int, int]) -> str:
    """'tcp 3306', 'tcp 1024-65535', 'icmp type 8', 'all traffic' — as the console words it."""
    if protocol == -1:
        return "all traffic"
    name = protocol_name(protocol)
    if protocol in (6, 17):
        if ports == ALL_PORTS:
            return f"all {name}"
        return f"{name} {ports[0]}" if ports[0] == ports[1] else f"{name} {ports[0]}-{ports[1]}"
    if protocol in (1, 58):
        if ports == ALL_CODES:
            return f"all {name}"
        text = f"{name} type {ports[0]}"
        return text if codes == ALL_CODES else f"{text} code {codes[0]}"
    return f"protocol {name}"


def any_peer(family: int) -> Cidr:
    return Cidr.parse("0.0.0.0/0") if family == IPV4 else Cidr.parse("::/0")
