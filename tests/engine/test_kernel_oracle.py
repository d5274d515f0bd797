"""The NumPy matching kernel against a slow, obvious oracle built on `ipaddress`.

Hypothesis generates random rule tables and packets; the kernel's first match must be the oracle's.
IPv6 peers straddling the 64-bit halves catch lexicographic-comparison bugs (hi/lo compared apart).
"""

from __future__ import annotations

import ipaddress

from hypothesis import given, settings
from hypothesis import strategies as st

from reach.model.addr import Cidr
from reach.model.match import Probe, first_match, port_cuts
from reach.model.rules import RuleLine, RuleRef, RuleTable

_V6_BASE = int(ipaddress.IPv6Address("2600:1f18::"))


def _v4(value: int) -> ipaddress.IPv4Address:
    return ipaddress.IPv4Address(value)


cidrs_v4 = st.builds(
    lambda a, p: ipaddress.ip_network(f"{_v4(a)}/{p}", strict=False), st.integers(0, 2**32 - 1), st.integers(0, 32)
)
# IPv6 networks around the 2^64 boundary inside one /32, so hi and lo halves both vary.
cidrs_v6 = st.builds(
    lambda a, p: ipaddress.ip_network(f"{ipaddress.IPv6Address(_V6_BASE + a)}/{p}", strict=False),
    st.integers(2**64 - 2**20, 2**64 + 2**20),
    st.integers(96, 128),
)
protocols = st.sampled_from([-1, 6, 17, 1])


@st.composite
def rule_lines(draw: st.DrawFn) -> RuleLine:
    network = draw(st.one_of(cidrs_v4, cidrs_v6))
    protocol = draw(protocols)
    lo = draw(st.integers(0, 65535))
    hi = draw(st.integers(lo, 65535))
    if protocol in (-1,):
        lo, hi = 0, 65535
    code_lo = draw(st.integers(0, 255))
    return RuleLine(
        Cidr.parse(str(network)),
        protocol,
        lo,
        hi,
        code_lo,
        draw(st.integers(code_lo, 255)),
        draw(st.booleans()),
        RuleRef("network-acl", "acl-x", "ingress", len(str(network))),
    )


@st.composite
def packets(draw: st.DrawFn) -> tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, int, int, int]:
    if draw(st.booleans()):
        address: ipaddress.IPv4Address | ipaddress.IPv6Address = _v4(draw(st.integers(0, 2**32 - 1)))
    else:
        address = ipaddress.IPv6Address(_V6_BASE + draw(st.integers(2**64 - 2**20, 2**64 + 2**20)))
    return address, draw(st.sampled_from([6, 17, 1])), draw(st.integers(0, 65535)), draw(st.integers(0, 255))


def oracle_first_match(
    lines: list[RuleLine], address: ipaddress.IPv4Address | ipaddress.IPv6Address, protocol: int, port: int, code: int
) -> int:
    for index, line in enumerate(lines):
        assert line.peer is not None
        network = ipaddress.ip_network(str(line.peer))
        if (
            network.version == address.version
            and address in network
            and line.protocol in (-1, protocol)
            and line.port_lo <= port <= line.port_hi
            and line.code_lo <= code <= line.code_hi
        ):
            return index
    return -1


@settings(max_examples=300, deadline=None)
@given(st.lists(rule_lines(), max_size=12), st.lists(packets(), min_size=1, max_size=20))
def test_kernel_first_match_equals_the_oracle(lines: list[RuleLine], probes: list[tuple]) -> None:  # type: ignore[type-arg]
    table = RuleTable.build(lines)
    for address, protocol, port, code in probes:
        probe = Probe.one(address.version, int(address), protocol, port, code)
        assert int(first_match(table, probe)[0]) == oracle_first_match(lines, address, protocol, port, code)


@settings(max_examples=200, deadline=None)
@given(st.lists(rule_lines(), max_size=8), packets(), st.integers(0, 65535), st.integers(0, 65535))
def test_every_port_of_a_cut_meets_the_same_first_match(
    lines: list[RuleLine], packet: tuple, a: int, b: int
) -> None:  # type: ignore[type-arg]
    address, protocol, _, code = packet
    lo, hi = min(a, b), min(max(a, b), min(a, b) + 300)  # keep the port-by-port oracle cheap
    pieces = port_cuts([RuleTable.build(lines[:4]), RuleTable.build(lines[4:])], lo, hi)
    assert pieces[0][0] == lo and pieces[-1][1] == hi
    assert all(p[1] + 1 == q[0] for p, q in zip(pieces, pieces[1:], strict=False))
    for first, last in pieces:
        decided = {oracle_first_match(part, address, protocol, first, code) for part in (lines[:4], lines[4:])}
        for port in range(first, last + 1):
            assert {oracle_first_match(part, address, protocol, port, code) for part in (lines[:4], lines[4:])} \
                == decided


def test_ipv6_ranges_spanning_the_64_bit_halves_match_exactly() -> None:
    # 2600:1f18::/63 spans two values of the high half; its neighbours on both sides must not match.
    network = Cidr.parse("2600:1f18::/63")
    table = RuleTable.build([RuleLine(network, -1, 0, 65535, 0, 255, True, RuleRef("security-group", "sg-1"))])
    inside = ipaddress.IPv6Address("2600:1f18:0:1:ffff:ffff:ffff:ffff")
    outside = ipaddress.IPv6Address("2600:1f18:0:2::")
    assert first_match(table, Probe.one(6, int(inside), 6, 443))[0] == 0
    assert first_match(table, Probe.one(6, int(outside), 6, 443))[0] == -1
