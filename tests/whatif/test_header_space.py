"""With no flows given, the header space a change flips is computed exactly on address and port intervals."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

import pytest

from reach import ChangedFlow, Snapshot
from tests.builder import ALLOW_ALL_NACL, SnapshotBuilder, acl_entry, tcp


@pytest.fixture
def web(tmp_path: Path) -> dict[str, Any]:
    """One interface, web (10.0.1.10), in 10.0.1.0/24 with its own allow-all ACL, and web-sg:
    A: tcp 1000-2000 from 10.0.0.0/8, B: tcp 1500-1600 from 10.1.0.0/16, C: all traffic from 192.168.0.0/16."""
    b = SnapshotBuilder()
    vpc = b.vpc("10.0.0.0/16")
    subnet = b.subnet(vpc, "10.0.1.0/24")
    acl = b.nacl(vpc, [subnet], list(ALLOW_ALL_NACL))
    everything = {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "192.168.0.0/16"}]}
    group = b.security_group(
        vpc, "web-sg", [tcp(1000, "10.0.0.0/8", to_port=2000), tcp(1500, "10.1.0.0/16", to_port=1600), everything]
    )
    eni = b.interface(subnet, "10.0.1.10", [group], name="web")
    return {"snap": Snapshot.load(b.write(tmp_path / "snapshot"), cache=False), "sg": group, "acl": acl, "eni": eni}


def flips(snapshot: Snapshot, changes: list[dict[str, Any]]) -> list[ChangedFlow]:
    result = snapshot.whatif(changes)
    assert all(c.source == "header-space" for c in result.changed)
    return result.changed


def addresses(ranges: list[str]) -> set[ipaddress.IPv4Network]:
    return {ipaddress.IPv4Network(r) for r in ranges}


def test_revoking_a_wide_rule_flips_exactly_what_the_narrower_one_does_not_cover(web: dict[str, Any]) -> None:
    revoke = {
        "action": "RevokeSecurityGroupIngress",
        "params": {"GroupId": web["sg"], "IpPermissions": [tcp(1000, "10.0.0.0/8", to_port=2000)]},
    }
    found = {(tuple(c.src_ranges or ()), c.dst_ports, c.before, c.after) for c in flips(web["snap"], [revoke])}
    outside_b = tuple(
        str(n) for n in ipaddress.IPv4Network("10.0.0.0/8").address_exclude(ipaddress.IPv4Network("10.1.0.0/16"))
    )
    below_b = ("10.0.0.0/16",)
    above_b = tuple(
        str(n)
        for n in ipaddress.summarize_address_range(
            ipaddress.IPv4Address("10.2.0.0"), ipaddress.IPv4Address("10.255.255.255")
        )
    )
    assert found == {
        (("10.0.0.0/8",), "1000-1499", "ACCEPT", "REJECT"),  # B does not reach below 1500 …
        (("10.0.0.0/8",), "1601-2000", "ACCEPT", "REJECT"),  # … nor above 1600
        (below_b + above_b, "1500-1600", "ACCEPT", "REJECT"),  # and on 1500-1600, only outside 10.1.0.0/16
    }
    assert addresses(list(below_b + above_b)) == set(map(ipaddress.IPv4Network, outside_b))
    middle = next(c for c in flips(web["snap"], [revoke]) if c.dst_ports == "1500-1600")
    assert middle.flow.src == "10.0.0.0/8 except 10.1.0.0/16"


def test_every_flipped_piece_names_the_group_that_no_longer_allows_it(web: dict[str, Any]) -> None:
    revoke = {
        "action": "RevokeSecurityGroupIngress",
        "params": {"GroupId": web["sg"], "IpPermissions": [tcp(1000, "10.0.0.0/8", to_port=2000)]},
    }
    for changed in flips(web["snap"], [revoke]):
        assert changed.blocked_by is not None
        assert (changed.blocked_by.kind, changed.blocked_by.id, changed.blocked_by.rule) == (
            "security-group",
            web["sg"],
            None,
        )
        assert (changed.interface, changed.direction, changed.flow.dst) == (web["eni"], "ingress", "10.0.1.10")


def test_revoking_all_traffic_from_a_range_is_one_group_for_all_protocols(web: dict[str, Any]) -> None:
    revoke = {
        "action": "RevokeSecurityGroupIngress",
        "params": {
            "GroupId": web["sg"],
            "IpPermissions": [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "192.168.0.0/16"}]}],
        },
    }
    [changed] = flips(web["snap"], [revoke])
    assert (changed.flow.protocol, changed.src_ranges, changed.dst_ports) == ("all", ["192.168.0.0/16"], None)


def test_an_acl_deny_flips_only_what_leaves_the_subnet(web: dict[str, Any]) -> None:
    deny = {
        "action": "CreateNetworkAclEntry",
        "params": {"NetworkAclId": web["acl"], **acl_entry(50, "deny", True, "10.0.0.0/16", "17", (53, 53))},
    }
    [changed] = flips(web["snap"], [deny])
    assert changed.direction == "egress" and changed.flow.protocol == "udp" and changed.dst_ports == "53"
    # DNS inside the subnet never crosses the ACL; and no ACL blocks what the host answers: the VPC's Amazon
    # DNS (10.0.0.2) and each subnet's router (its base + 1)
    network = web["snap"].network
    unfiltered = {ipaddress.ip_network("10.0.0.2/32")} | {
        ipaddress.ip_network(f"{ipaddress.ip_address(c.start + 1)}/32")
        for subnet in network.subnets.values() for c in subnet.cidrs if c.family == 4}
    expected = {ipaddress.ip_network("10.0.0.0/16")}
    for hole in [ipaddress.ip_network("10.0.1.0/24"), *unfiltered]:
        expected = {part for net in expected for part in (net.address_exclude(hole) if hole.subnet_of(net) else [net])}
    assert addresses(changed.dst_ranges or []) == expected
    assert changed.blocked_by is not None and (changed.blocked_by.id, changed.blocked_by.rule) == (web["acl"], 50)


def test_allowing_ping_is_a_fix_for_icmp_type_8_of_any_code(web: dict[str, Any]) -> None:
    ping = {
        "action": "AuthorizeSecurityGroupIngress",
        "params": {
            "GroupId": web["sg"],
            "IpPermissions": [
                {"IpProtocol": "icmp", "FromPort": 8, "ToPort": -1, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
            ],
        },
    }
    found = flips(web["snap"], [ping])
    assert {(c.flow.protocol, c.dst_ports, c.before, c.after) for c in found} == {("icmp", "8", "REJECT", "ACCEPT")}
    # 192.168.0.0/16 could already ping (rule C): the fix covers the rest of the internet
    covered = set().union(*(addresses(c.src_ranges or []) for c in found))
    assert ipaddress.IPv4Network("192.168.0.0/16") not in covered
    assert all(c.blocked_by is None and c.unblocked is not None for c in found)


def test_a_change_that_alters_nothing_flips_nothing(web: dict[str, Any]) -> None:
    same = {"action": "ReplaceNetworkAclEntry", "params": {"NetworkAclId": web["acl"], **ALLOW_ALL_NACL[0]}}
    result = web["snap"].whatif([same])
    assert result.changed == [] and result.rule_changes == []
