"""The address index (sorted NumPy columns, what the compile cache stores) against the obvious dicts and
longest-prefix maps it replaced: the same interfaces for an address in the same order, the same public
address owner (the last listed wins), the same subnet (the longest prefix, the first listed on a tie)."""

from __future__ import annotations

import ipaddress

from hypothesis import given
from hypothesis import strategies as st

from reach.model.addr import IPV4, IPV6, Cidr
from reach.model.network import AddressIndex, Interface, Subnet
from reach.model.prefixes import PrefixMap

# Small pools, so that addresses are shared, CIDRs nest and repeat, and VPCs overlap.
V4 = [int(ipaddress.IPv4Address(f"10.0.{a}.{b}")) for a in (0, 1, 255) for b in (0, 1, 7, 255)]
V6 = [int(ipaddress.IPv6Address(f"2001:db8:0:{a}::{b}")) for a in (0, 1) for b in (0, 1, 9)] + [(1 << 128) - 1]
PUBLIC = [int(ipaddress.IPv4Address(f"203.0.113.{b}")) for b in (1, 2, 3)] + [0xFFFFFFFF]
CIDRS = ["10.0.0.0/8", "10.0.0.0/16", "10.0.0.0/24", "10.0.1.0/24", "10.0.255.0/24", "10.0.255.128/25",
         "2001:db8::/56", "2001:db8:0:1::/64", "::/0", "0.0.0.0/0"]
VPCS = ["vpc-a", "vpc-b", "vpc-c"]

addresses = st.one_of(st.tuples(st.just(IPV4), st.sampled_from(V4)), st.tuples(st.just(IPV6), st.sampled_from(V6)))
interfaces = st.lists(
    st.tuples(
        st.lists(addresses, max_size=3, unique=True),
        st.lists(st.tuples(st.sampled_from(PUBLIC), st.sampled_from(V4)), max_size=2),
    ),
    max_size=12,
)
subnets = st.lists(st.tuples(st.sampled_from(VPCS), st.lists(st.sampled_from(CIDRS), min_size=1, max_size=2)),
                   max_size=10)


def _interfaces(drawn: list[tuple[list[tuple[int, int]], list[tuple[int, int]]]]) -> dict[str, Interface]:
    return {
        f"eni-{n}": Interface(f"eni-{n}", None, "interface", None, "vpc-a", "subnet-0", tuple(private),
                              tuple(public), (), True, None, None, False)
        for n, (private, public) in enumerate(drawn)
    }


def _subnets(drawn: list[tuple[str, list[str]]]) -> dict[str, Subnet]:
    return {
        f"subnet-{n}": Subnet(f"subnet-{n}", None, vpc, tuple(Cidr.parse(c) for c in cidrs), None, None, True, None)
        for n, (vpc, cidrs) in enumerate(drawn)
    }


@given(interfaces, subnets)
def test_the_index_answers_as_the_dicts_and_prefix_maps_it_replaced(
    drawn_interfaces: list[tuple[list[tuple[int, int]], list[tuple[int, int]]]],
    drawn_subnets: list[tuple[str, list[str]]],
) -> None:
    enis, nets = _interfaces(drawn_interfaces), _subnets(drawn_subnets)
    private: dict[tuple[int, int], list[str]] = {}
    public: dict[int, tuple[str, int]] = {}
    for interface in enis.values():
        for address in interface.private_ips:
            private.setdefault(address, []).append(interface.id)
        for outside, behind in interface.public_ips:
            public[outside] = (interface.id, behind)
    by_vpc: dict[str, PrefixMap[str]] = {}
    for subnet in nets.values():
        for cidr in subnet.cidrs:
            by_vpc.setdefault(subnet.vpc_id, PrefixMap()).add(cidr, subnet.id)

    index = AddressIndex.of(enis, nets)

    for family, value in [(IPV4, v) for v in V4 + PUBLIC] + [(IPV6, v) for v in V6]:
        assert index.holders(family, value) == private.get((family, value), [])
        for vpc in [*VPCS, "vpc-none"]:
            found = by_vpc[vpc].longest(family, value) if vpc in by_vpc else []
            assert index.subnet_of(vpc, family, value) == (found[0] if found else None)
    for value in PUBLIC + V4 + [1 << 40]:
        assert index.public_owner(value) == public.get(value)
