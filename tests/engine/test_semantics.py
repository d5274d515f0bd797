"""AWS semantics, one story each, with at least one ACCEPT and one REJECT per rule.

Every test builds a small network in describe-* JSON, loads it like a user's snapshot, and asks reach.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reach.api import Snapshot
from reach.errors import ResolveError
from tests.builder import ALL_OUT, SnapshotBuilder, acl_entry, from_group, tcp


def load(builder: SnapshotBuilder, tmp_path: Path) -> Snapshot:
    return Snapshot.load(builder.write(tmp_path / "snap"), cache=False)


@pytest.fixture
def two_tier() -> SnapshotBuilder:
    """app subnet 10.0.1.0/24 and db subnet 10.0.2.0/24 in one VPC; default NACL allows everything."""
    b = SnapshotBuilder()
    vpc = b.vpc("10.0.0.0/16", name="shop")
    app = b.subnet(vpc, "10.0.1.0/24")
    db = b.subnet(vpc, "10.0.2.0/24")
    app_sg = b.security_group(vpc, "app-sg", [])
    db_sg = b.security_group(vpc, "db-sg", [from_group("tcp", 5432, app_sg)])
    b.interface(app, "10.0.1.10", [app_sg], name="app")
    b.interface(db, "10.0.2.20", [db_sg], name="db")
    b.interface(app, "10.0.1.11", [app_sg], name="app-2")
    b.meta = {"vpc": vpc, "app": app, "db": db, "app_sg": app_sg, "db_sg": db_sg}  # type: ignore[attr-defined]
    return b


# --- security groups ---------------------------------------------------------------------------


def test_app_reaches_db_because_db_sg_allows_members_of_app_sg(two_tier: SnapshotBuilder, tmp_path: Path) -> None:
    result = load(two_tier, tmp_path).explain("app", "db", 5432)
    assert result.verdict == "ACCEPT"
    ingress = [h for h in result.hops if h.kind == "security-group" and h.direction == "ingress" and not h.return_path]
    assert "members of" in ingress[0].detail


def test_db_sg_has_no_rule_for_mysql_so_app_is_rejected(two_tier: SnapshotBuilder, tmp_path: Path) -> None:
    result = load(two_tier, tmp_path).explain("app", "db", 3306)
    assert (result.verdict, result.reason) == ("REJECT", "ENI_SG_RULES_MISMATCH")
    assert result.blocked_by is not None
    assert (result.blocked_by.kind, result.blocked_by.id, result.blocked_by.rule) == (
        "security-group",
        two_tier.meta["db_sg"],
        None,
    )  # type: ignore[attr-defined]
    assert "authorize-security-group-ingress" in (result.fix or "")


def test_response_passes_the_client_sg_although_it_allows_nothing_inbound(
    two_tier: SnapshotBuilder, tmp_path: Path
) -> None:
    # app-sg has no inbound rule at all: the response to app's own connection is tracked, so it passes.
    result = load(two_tier, tmp_path).explain("app", "db", 5432)
    back = [h for h in result.hops if h.return_path and h.kind == "security-group"]
    assert back and all(h.decision == "allow" and "tracked" in h.detail for h in back)


def test_sg_rules_are_the_union_of_every_group_on_the_interface(tmp_path: Path) -> None:
    b = SnapshotBuilder()
    vpc = b.vpc("10.0.0.0/16")
    subnet = b.subnet(vpc, "10.0.1.0/24")
    ssh = b.security_group(vpc, "ssh", [tcp(22, "10.0.0.0/16")])
    web = b.security_group(vpc, "web", [tcp(443, "10.0.0.0/16")])
    b.interface(subnet, "10.0.1.5", [ssh, web], name="both")
    b.interface(subnet, "10.0.1.6", [ssh], name="client")
    snap = load(b, tmp_path)
    assert snap.explain("client", "both", 443).verdict == "ACCEPT"
    rejected = snap.explain("client", "both", 80)
    assert rejected.verdict == "REJECT"
    # With several groups, blocked_by names the interface and lists every group.
    assert rejected.blocked_by is not None and rejected.blocked_by.groups == [ssh, web]
    assert rejected.blocked_by.id.startswith("eni-")


def test_egress_rules_filter_the_request_and_an_empty_egress_list_allows_nothing(tmp_path: Path) -> None:
    b = SnapshotBuilder()
    vpc = b.vpc("10.0.0.0/16")
    subnet = b.subnet(vpc, "10.0.1.0/24")
    locked = b.security_group(vpc, "no-egress", [], egress=[])
    only_dns = b.security_group(
        vpc,
        "dns-only",
        [],
        egress=[{"IpProtocol": "udp", "FromPort": 53, "ToPort": 53, "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}],
    )
    server = b.security_group(vpc, "server", [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}])
    b.interface(subnet, "10.0.1.5", [locked], name="locked")
    b.interface(subnet, "10.0.1.6", [only_dns], name="resolver-client")
    b.interface(subnet, "10.0.1.7", [server], name="server")
    snap = load(b, tmp_path)
    assert snap.explain("locked", "server", 443).blocked_by.direction == "egress"  # type: ignore[union-attr]
    assert snap.explain("resolver-client", "server", 53, "udp").verdict == "ACCEPT"
    assert snap.explain("resolver-client", "server", 53, "tcp").verdict == "REJECT"


def test_icmp_type_and_code_are_matched(tmp_path: Path) -> None:
    b = SnapshotBuilder()
    vpc = b.vpc("10.0.0.0/16")
    subnet = b.subnet(vpc, "10.0.1.0/24")
    echo_only = b.security_group(
        vpc, "echo", [{"IpProtocol": "icmp", "FromPort": 8, "ToPort": 0, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
    )
    b.interface(subnet, "10.0.1.5", [echo_only], name="pingable")
    b.interface(subnet, "10.0.1.6", [echo_only], name="pinger")
    snap = load(b, tmp_path)
    assert snap.explain("pinger", "pingable", "8/0", "icmp").verdict == "ACCEPT"
    assert snap.explain("pinger", "pingable", "8/1", "icmp").verdict == "REJECT"  # code 1 is not code 0
    assert snap.explain("pinger", "pingable", "13", "icmp").verdict == "REJECT"  # timestamp request


def test_ipv6_cidrs_and_icmpv6_are_matched_separately_from_ipv4(tmp_path: Path) -> None:
    b = SnapshotBuilder()
    vpc = b.vpc("10.0.0.0/16", ipv6="2600:1f18:1::/56")
    subnet = b.subnet(vpc, "10.0.1.0/24", ipv6="2600:1f18:1:1::/64")
    v4_only = b.security_group(vpc, "v4", [tcp(443, "10.0.0.0/16")])
    v6 = b.security_group(
        vpc,
        "v6",
        [
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "Ipv6Ranges": [{"CidrIpv6": "2600:1f18:1::/56"}]},
            {"IpProtocol": "icmpv6", "FromPort": 128, "ToPort": -1, "Ipv6Ranges": [{"CidrIpv6": "::/0"}]},
        ],
    )
    b.interface(subnet, "10.0.1.5", [v4_only], ipv6=["2600:1f18:1:1::5"], name="v4-server")
    b.interface(subnet, "10.0.1.6", [v6], ipv6=["2600:1f18:1:1::6"], name="v6-server")
    b.interface(subnet, "10.0.1.7", [v4_only], ipv6=["2600:1f18:1:1::7"], name="client")
    snap = load(b, tmp_path)
    assert snap.explain("2600:1f18:1:1::7", "v6-server", 443).verdict == "ACCEPT"
    assert snap.explain("2600:1f18:1:1::7", "v4-server", 443).verdict == "REJECT"  # 10.0.0.0/16 covers no IPv6
    assert snap.explain("2600:1f18:1:1::7", "2600:1f18:1:1::6", 128, "icmpv6").verdict == "ACCEPT"


def test_prefix_list_in_a_sg_rule_admits_its_cidrs_only(tmp_path: Path) -> None:
    b = SnapshotBuilder()
    vpc = b.vpc("10.0.0.0/16")
    subnet = b.subnet(vpc, "10.0.1.0/24")
    pl = b.prefix_list("office", ["10.0.1.0/28"])
    sg = b.security_group(
        vpc,
        "office-only",
        [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "PrefixListIds": [{"PrefixListId": pl}]}],
    )
    b.interface(subnet, "10.0.1.100", [sg], name="bastion")
    b.interface(subnet, "10.0.1.5", [sg], name="office")
    b.interface(subnet, "10.0.1.50", [sg], name="elsewhere")
    snap = load(b, tmp_path)
    assert snap.explain("office", "bastion", 22).verdict == "ACCEPT"
    assert snap.explain("elsewhere", "bastion", 22).verdict == "REJECT"


def test_protocol_minus_one_and_protocol_numbers(tmp_path: Path) -> None:
    b = SnapshotBuilder()
    vpc = b.vpc("10.0.0.0/16")
    subnet = b.subnet(vpc, "10.0.1.0/24")
    gre = b.security_group(vpc, "gre", [{"IpProtocol": "47", "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}])
    everything = b.security_group(vpc, "all", [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}])
    b.interface(subnet, "10.0.1.5", [gre], name="tunnel")
    b.interface(subnet, "10.0.1.6", [everything], name="open")
    snap = load(b, tmp_path)
    assert snap.explain("open", "tunnel", 0, "47").verdict == "ACCEPT"
    assert snap.explain("open", "tunnel", 22).verdict == "REJECT"
    assert snap.explain("tunnel", "open", 9999, "udp").verdict == "ACCEPT"


# --- network ACLs ----------------------------------------------------------------------------------


def _nacl_between(
    entries_in: list[dict[str, object]], entries_out: list[dict[str, object]], tmp_path: Path
) -> Snapshot:
    b = SnapshotBuilder()
    vpc = b.vpc("10.0.0.0/16")
    app = b.subnet(vpc, "10.0.1.0/24")
    db = b.subnet(vpc, "10.0.2.0/24")
    open_sg = b.security_group(vpc, "open", [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    b.nacl(vpc, [db], entries_in + entries_out)
    b.interface(app, "10.0.1.10", [open_sg], name="app")
    b.interface(db, "10.0.2.20", [open_sg], name="db")
    b.interface(db, "10.0.2.21", [open_sg], name="db-2")
    return load(b, tmp_path)


RETURN_OK = [acl_entry(100, "allow", True, "10.0.1.0/24", "6", (1024, 65535))]


def test_nacl_rules_are_evaluated_by_rule_number_never_by_file_order(tmp_path: Path) -> None:
    # The file lists the allow (110) before the deny (100); AWS evaluates 100 first.
    entries = [
        acl_entry(110, "allow", False, "10.0.1.0/24", "6", (3306, 3306)),
        acl_entry(100, "deny", False, "10.0.0.0/16", "6", (3306, 3306)),
    ]
    result = _nacl_between(entries, RETURN_OK, tmp_path).explain("app", "db", 3306)
    assert (result.verdict, result.reason) == ("REJECT", "SUBNET_ACL_RESTRICTION")
    assert result.blocked_by is not None and (result.blocked_by.direction, result.blocked_by.rule) == ("ingress", 100)
    assert "--rule-number 99" in (result.fix or "")


def test_first_matching_nacl_rule_wins_and_the_default_rule_denies(tmp_path: Path) -> None:
    entries = [
        acl_entry(100, "allow", False, "10.0.1.0/24", "6", (3306, 3306)),
        acl_entry(200, "deny", False, "10.0.1.0/24", "6", (3306, 3306)),
    ]
    snap = _nacl_between(entries, RETURN_OK, tmp_path)
    assert snap.explain("app", "db", 3306).verdict == "ACCEPT"
    denied = snap.explain("app", "db", 5432)
    assert denied.blocked_by is not None and denied.blocked_by.rule == 32767 and "rule *" in denied.blocked_by.detail


def test_nacl_is_stateless_so_the_response_needs_the_clients_port_allowed_outbound(tmp_path: Path) -> None:
    inbound = [acl_entry(100, "allow", False, "10.0.1.0/24", "6", (3306, 3306))]
    snap = _nacl_between(inbound, [], tmp_path)
    result = snap.explain("app", "db", 3306)
    assert result.verdict == "REJECT"
    assert result.blocked_by is not None
    assert (result.blocked_by.direction, result.blocked_by.return_path, result.blocked_by.rule) == (
        "egress",
        True,
        32767,
    )
    # The request itself was accepted at the db interface; the response is what flow logs show as REJECT.
    db = next(i.id for i in snap.network.interfaces.values() if i.name == "db")
    db_records = {(r.direction, r.action) for r in result.flow_logs if r.interface_id == db}
    assert db_records == {("ingress", "ACCEPT"), ("egress", "REJECT")}


def test_a_partly_blocked_ephemeral_range_is_reported_as_such(tmp_path: Path) -> None:
    inbound = [acl_entry(100, "allow", False, "10.0.1.0/24", "6", (3306, 3306))]
    linux_only = [
        acl_entry(100, "allow", True, "10.0.1.0/24", "6", (1024, 32767)),
        acl_entry(110, "allow", True, "10.0.1.0/24", "6", (61000, 65535)),
    ]
    snap = _nacl_between(inbound, linux_only, tmp_path)
    result = snap.explain("app", "db", 3306)
    assert result.verdict == "REJECT"
    assert result.blocked_by is not None and result.blocked_by.blocked_ports == "32768-60999 of 1024-65535"
    assert "ports 32768-60999 of 1024-65535 are blocked by" in result.blocked_by.detail
    # A client whose port is allowed gets through.
    assert snap.explain("app", "db", 3306, src_port=2000).verdict == "ACCEPT"


def test_two_interfaces_in_one_subnet_never_meet_their_nacl(tmp_path: Path) -> None:
    deny_everything: list[dict[str, object]] = []  # only the * rules
    snap = _nacl_between(deny_everything, [], tmp_path)
    assert snap.explain("db", "db-2", 5432).verdict == "ACCEPT"
    assert snap.explain("app", "db", 5432).reason == "SUBNET_ACL_RESTRICTION"


# --- routing ---------------------------------------------------------------------------------------


@pytest.fixture
def public_private() -> SnapshotBuilder:
    b = SnapshotBuilder()
    vpc = b.vpc("10.0.0.0/16")
    public = b.subnet(vpc, "10.0.0.0/24")
    private = b.subnet(vpc, "10.0.1.0/24")
    isolated = b.subnet(vpc, "10.0.2.0/24")
    igw = b.internet_gateway(vpc)
    nat = b.nat_gateway(public, "10.0.0.10", "3.3.3.3")
    b.route_table(vpc, [public], [{"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": igw, "State": "active"}])
    b.route_table(
        vpc,
        [private],
        [
            {"DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": nat, "State": "active"},
            {"DestinationCidrBlock": "8.8.8.0/24", "NatGatewayId": "nat-0deleted00000000", "State": "blackhole"},
        ],
    )
    web = b.security_group(vpc, "web", [tcp(443), tcp(22, "10.0.0.0/16")])
    b.interface(public, "10.0.0.5", [web], public_ip="54.1.1.1", name="web")
    b.interface(public, "10.0.0.6", [web], name="web-no-public-ip")
    b.interface(private, "10.0.1.5", [web], public_ip="54.2.2.2", name="worker")
    b.interface(isolated, "10.0.2.5", [web], name="isolated")
    b.meta = {"igw": igw, "nat": nat}  # type: ignore[attr-defined]
    return b


def test_internet_reaches_a_public_address_through_the_igw(public_private: SnapshotBuilder, tmp_path: Path) -> None:
    snap = load(public_private, tmp_path)
    result = snap.explain("203.0.113.9", "web", 443)
    assert result.verdict == "ACCEPT"
    assert result.flow.dst == "54.1.1.1"  # a name stands for the public address seen from the internet
    assert snap.explain("203.0.113.9", "web", 80).reason == "ENI_SG_RULES_MISMATCH"


def test_the_internet_reaches_only_public_addresses(public_private: SnapshotBuilder, tmp_path: Path) -> None:
    result = load(public_private, tmp_path).explain("203.0.113.9", "10.0.0.5", 443)
    assert (result.verdict, result.reason) == ("REJECT", "IGW_PRIVATE_IP_ASSOCIATION_FOR_INGRESS")
    assert result.blocked_by is not None and result.blocked_by.kind == "internet-gateway"


def test_egress_through_the_igw_needs_a_public_address(public_private: SnapshotBuilder, tmp_path: Path) -> None:
    snap = load(public_private, tmp_path)
    assert snap.explain("web", "8.8.4.4", 443).verdict == "ACCEPT"
    result = snap.explain("web-no-public-ip", "8.8.4.4", 443)
    assert (result.verdict, result.reason) == ("REJECT", "IGW_PUBLIC_IP_ASSOCIATION_FOR_EGRESS")


def test_private_subnet_reaches_the_internet_through_the_nat_gateway(
    public_private: SnapshotBuilder, tmp_path: Path
) -> None:
    result = load(public_private, tmp_path).explain("worker", "1.1.1.1", 443)
    assert result.verdict == "ACCEPT"
    kinds = [h.kind for h in result.hops if not h.return_path]
    assert kinds.index("nat-gateway") < kinds.index("internet-gateway")
    assert any("translates 10.0.1.5 to its address 10.0.0.10" in h.detail for h in result.hops)


def test_a_public_ip_in_a_private_subnet_does_not_make_it_reachable(
    public_private: SnapshotBuilder, tmp_path: Path
) -> None:
    # worker has 54.2.2.2 but its subnet routes 0.0.0.0/0 to the NAT: the response leaves by the wrong door.
    result = load(public_private, tmp_path).explain("203.0.113.9", "worker", 443)
    assert (result.verdict, result.reason) == ("REJECT", "ASYMMETRIC_ROUTE")


def test_longest_prefix_wins_and_a_blackhole_route_drops(public_private: SnapshotBuilder, tmp_path: Path) -> None:
    result = load(public_private, tmp_path).explain("worker", "8.8.8.8", 53, "udp")
    assert (result.verdict, result.reason) == ("REJECT", "BAD_STATE_ROUTE")
    assert result.blocked_by is not None and result.blocked_by.rule == "8.8.8.0/24"


def test_a_subnet_on_the_main_table_has_only_the_local_route(public_private: SnapshotBuilder, tmp_path: Path) -> None:
    snap = load(public_private, tmp_path)
    assert snap.explain("isolated", "8.8.4.4", 443).reason == "NO_ROUTE_TO_DESTINATION"
    assert snap.explain("isolated", "web", 22).verdict == "ACCEPT"


def test_an_address_in_the_vpc_cidr_that_no_subnet_holds_is_dropped(
    public_private: SnapshotBuilder, tmp_path: Path
) -> None:
    result = load(public_private, tmp_path).explain("web", "10.0.99.1", 22)
    assert (result.verdict, result.reason) == ("REJECT", "VPC_ADDRESS_NOT_IN_SUBNET")


def test_nat_gateway_subnet_nacl_applies_on_both_legs(tmp_path: Path) -> None:
    b = SnapshotBuilder()
    vpc = b.vpc("10.0.0.0/16")
    public = b.subnet(vpc, "10.0.0.0/24")
    private = b.subnet(vpc, "10.0.1.0/24")
    igw = b.internet_gateway(vpc)
    nat = b.nat_gateway(public, "10.0.0.10", "3.3.3.3")
    b.route_table(vpc, [public], [{"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": igw, "State": "active"}])
    b.route_table(vpc, [private], [{"DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": nat, "State": "active"}])
    # The NAT subnet lets the task's request in and out, but not the internet's responses in.
    nat_acl = b.nacl(vpc, [public], [acl_entry(100, "allow", False, "10.0.0.0/16"), acl_entry(100, "allow", True)])
    sg = b.security_group(vpc, "task", [])
    b.interface(private, "10.0.1.5", [sg], name="task")
    result = load(b, tmp_path).explain("task", "52.46.145.1", 443)
    assert result.verdict == "REJECT"
    assert result.blocked_by is not None
    assert (result.blocked_by.id, result.blocked_by.direction, result.blocked_by.return_path) == (
        nat_acl,
        "ingress",
        True,
    )


def test_egress_only_internet_gateway_lets_ipv6_out_but_nothing_in(tmp_path: Path) -> None:
    b = SnapshotBuilder()
    vpc = b.vpc("10.0.0.0/16", ipv6="2600:1f18:1::/56")
    subnet = b.subnet(vpc, "10.0.1.0/24", ipv6="2600:1f18:1:1::/64")
    eigw = b.egress_only_gateway(vpc)
    b.route_table(
        vpc, [subnet], [{"DestinationIpv6CidrBlock": "::/0", "EgressOnlyInternetGatewayId": eigw, "State": "active"}]
    )
    sg = b.security_group(vpc, "any", [{"IpProtocol": "-1", "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}])
    b.interface(subnet, "10.0.1.5", [sg], ipv6=["2600:1f18:1:1::5"], name="v6")
    snap = load(b, tmp_path)
    assert snap.explain("2600:1f18:1:1::5", "2001:db8::1", 443).verdict == "ACCEPT"
    assert snap.explain("2001:db8::1", "2600:1f18:1:1::5", 443).verdict == "REJECT"


def test_peering_needs_routes_on_both_sides_and_carries_only_the_peer_cidr(tmp_path: Path) -> None:
    b = SnapshotBuilder()
    left = b.vpc("10.1.0.0/16")
    right = b.vpc("10.2.0.0/16")
    l_subnet = b.subnet(left, "10.1.1.0/24")
    r_subnet = b.subnet(right, "10.2.1.0/24")
    r_other = b.subnet(right, "10.2.2.0/24")
    pcx = b.peering(left, right)
    b.route_table(
        left, [l_subnet], [{"DestinationCidrBlock": "10.0.0.0/8", "VpcPeeringConnectionId": pcx, "State": "active"}]
    )
    b.route_table(
        right, [r_subnet], [{"DestinationCidrBlock": "10.1.0.0/16", "VpcPeeringConnectionId": pcx, "State": "active"}]
    )
    sg_l = b.security_group(left, "l", [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}])
    sg_r = b.security_group(right, "r", [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}])
    b.interface(l_subnet, "10.1.1.5", [sg_l], name="left")
    b.interface(r_subnet, "10.2.1.5", [sg_r], name="right")
    b.interface(r_other, "10.2.2.5", [sg_r], name="right-no-route-back")
    snap = load(b, tmp_path)
    assert snap.explain("left", "right", 22).verdict == "ACCEPT"
    no_way_back = snap.explain("left", "right-no-route-back", 22)
    assert (no_way_back.reason, no_way_back.blocked_by.return_path) == ("NO_ROUTE_TO_DESTINATION", True)  # type: ignore[union-attr]
    outside = snap.explain("left", "10.3.0.1", 22)
    assert outside.reason == "PCX_REQUIRES_ADDRESS_IN_VPC_CIDR"


def test_an_appliance_forwards_only_with_source_dest_check_off(tmp_path: Path) -> None:
    b = SnapshotBuilder()
    vpc = b.vpc("10.0.0.0/16")
    public = b.subnet(vpc, "10.0.0.0/24")
    private = b.subnet(vpc, "10.0.1.0/24")
    igw = b.internet_gateway(vpc)
    sg = b.security_group(vpc, "any", [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    nat_instance = b.interface(public, "10.0.0.50", [sg], public_ip="54.9.9.9", name="nat-instance")
    b.route_table(vpc, [public], [{"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": igw, "State": "active"}])
    b.route_table(
        vpc, [private], [{"DestinationCidrBlock": "0.0.0.0/0", "NetworkInterfaceId": nat_instance, "State": "active"}]
    )
    b.interface(private, "10.0.1.5", [sg], name="app")
    result = load(b, tmp_path).explain("app", "1.1.1.1", 443)
    assert (result.verdict, result.reason) == ("REJECT", "ENI_SOURCE_DEST_CHECK_RESTRICTION")
    assert "--no-source-dest-check" in (result.fix or "")


# --- resolution and bad input ----------------------------------------------------------------------


def test_an_unknown_name_is_an_error_with_the_closest_matches(two_tier: SnapshotBuilder, tmp_path: Path) -> None:
    with pytest.raises(ResolveError, match="closest matches: app"):
        load(two_tier, tmp_path).explain("ap", "db", 5432)


def test_a_bad_port_or_protocol_is_an_error(two_tier: SnapshotBuilder, tmp_path: Path) -> None:
    snap = load(two_tier, tmp_path)
    with pytest.raises(ResolveError, match="port '70000'"):
        snap.explain("app", "db", 70000)
    with pytest.raises(ResolveError, match="protocol 'sctpx'"):
        snap.explain("app", "db", 1, "sctpx")


def test_all_out_permission_shape_is_the_aws_default() -> None:
    assert ALL_OUT["IpProtocol"] == "-1"


def test_a_group_missing_from_the_snapshot_is_named_where_it_decides(tmp_path: Path) -> None:
    b = SnapshotBuilder()
    vpc = b.vpc("10.0.0.0/16")
    subnet = b.subnet(vpc, "10.0.1.0/24")
    known = b.security_group(vpc, "known", [])
    b.interface(subnet, "10.0.1.5", [known, "sg-0notcollected000"], name="server")
    b.interface(subnet, "10.0.1.6", [known], name="client")
    snap = load(b, tmp_path)
    assert any("sg-0notcollected000" in w and "not in the snapshot" in w for w in snap.warnings)
    result = snap.explain("client", "server", 443)
    assert result.verdict == "REJECT"
    assert result.blocked_by is not None and "sg-0notcollected000 is not in the snapshot" in result.blocked_by.detail
