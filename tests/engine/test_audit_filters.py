"""The §E audit, filters at an interface: security groups (E.1), connection tracking (E.2), network ACLs (E.3)
and the traffic neither ever filters (E.1, E.3, E.10). One story per rule, an ACCEPT and a REJECT each, or
the reason the rule cannot decide a verdict. `tests/AWS_SEMANTICS.md` maps each rule here.

The shop: VPC 10.0.0.0/16 (IPv6 2600:1f18:100::/56), subnets app 10.0.1.0/24 and db 10.0.2.0/24, each with
its own network ACL when a story needs one.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from reach.api import Snapshot
from reach.flowlogs import FLOW_LOG_SCHEMA
from reach.model.addr import parse_address
from reach.model.classes import AddressClasses
from reach.model.decision import Tracking, connection_tracking, decision_of
from reach.model.vocabulary import Direction
from reach.reconcile.pipeline import reconcile
from tests.builder import ALL_OUT, SnapshotBuilder, acl_entry, from_group, tcp
from tests.conftest import FIXTURES

DENY_ALL = [acl_entry(100, "deny", e, c) for e in (False, True) for c in ("0.0.0.0/0", "::/0")]


def load(b: SnapshotBuilder, tmp_path: Path) -> Snapshot:
    return Snapshot.load(b.write(tmp_path / "snap"), cache=False)


class Shop:
    def __init__(self) -> None:
        b = self.b = SnapshotBuilder()
        self.vpc = b.vpc("10.0.0.0/16", ipv6="2600:1f18:100::/56", name="shop")
        self.app = b.subnet(self.vpc, "10.0.1.0/24", ipv6="2600:1f18:100:1::/64")
        self.db = b.subnet(self.vpc, "10.0.2.0/24", ipv6="2600:1f18:100:2::/64")


@pytest.fixture
def shop() -> Shop:
    return Shop()


# --- the traffic security groups and network ACLs never filter (E.1, E.3, C.7, E.10) ----------------------


@pytest.mark.parametrize(
    ("address", "protocol", "port", "service"),
    [
        ("169.254.169.254", "tcp", 80, "instance metadata"),
        ("169.254.169.253", "udp", 53, "Amazon DNS"),
        ("10.0.0.2", "udp", 53, "Amazon DNS"),  # the VPC's base plus two
        ("10.0.0.2", "tcp", 53, "Amazon DNS"),
        ("169.254.169.123", "udp", 123, "Time Sync"),
        ("169.254.169.250", "tcp", 1688, "license activation"),
        ("169.254.170.2", "tcp", 80, "ECS task metadata"),
        ("10.0.1.1", "udp", 67, "VPC router"),  # the subnet's base plus one answers DHCP
        ("fd00:ec2::254", "tcp", 80, "instance metadata"),
    ],
)
def test_what_the_host_answers_passes_groups_and_acls_that_deny_everything(
    shop: Shop, tmp_path: Path, address: str, protocol: str, port: int, service: str
) -> None:
    locked = shop.b.security_group(shop.vpc, "locked", [], egress=[])  # no rule at all, either way
    shop.b.nacl(shop.vpc, [shop.app], DENY_ALL)
    shop.b.interface(shop.app, "10.0.1.10", [locked], ipv6=["2600:1f18:100:1::10"], name="box")
    snap = load(shop.b, tmp_path)
    src = "2600:1f18:100:1::10" if ":" in address else "box"
    out = snap.explain(src, address, port, protocol)
    assert (out.verdict, out.reason) == ("ACCEPT", "ACCEPTED"), [b.detail for b in out.blockers]
    assert out.flow_logs == []  # flow logs never record it (C.7): reconcile must not expect a record
    filters = [h for h in out.hops if h.kind in ("security-group", "network-acl")]
    assert len(filters) == 4 and all("do not filter" in h.detail for h in filters)
    assert any(service.split()[0] in h.detail for h in out.hops if h.kind == "aws-service")
    # anything else to the same box is denied, by the group that allows nothing
    assert snap.explain("box", "10.0.2.99", 443).reason == "ENI_SG_RULES_MISMATCH"


def test_a_host_service_answers_only_its_own_port(shop: Shop, tmp_path: Path) -> None:
    shop.b.interface(shop.app, "10.0.1.10", [shop.b.security_group(shop.vpc, "any", [], [ALL_OUT])], name="box")
    snap = load(shop.b, tmp_path)
    assert snap.explain("box", "169.254.169.254", 80).verdict == "ACCEPT"
    wrong = snap.explain("box", "169.254.169.254", 22)
    assert (wrong.verdict, wrong.reason) == ("REJECT", "PROTOCOL_RESTRICTION")
    assert wrong.blocked_by is not None and "answers only tcp 80" in wrong.blocked_by.detail


def test_other_link_local_and_reserved_addresses_are_never_forwarded(shop: Shop, tmp_path: Path) -> None:
    # E.4: no route can target 169.254.168.0/22 (or fd00:ec2::/32); link-local addresses are not routed
    shop.b.interface(shop.app, "10.0.1.10", [shop.b.security_group(shop.vpc, "any", [], [ALL_OUT])], name="box")
    igw = shop.b.internet_gateway(shop.vpc)
    shop.b.main_table(shop.vpc)["Routes"].append({"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": igw,
                                                  "State": "active"})
    snap = load(shop.b, tmp_path)
    for address in ("169.254.168.10", "169.254.1.1"):
        out = snap.explain("box", address, 443)
        assert (out.verdict, out.reason) == ("REJECT", "NO_ROUTE_TO_DESTINATION"), address
        assert "never forwards it" in out.blocked_by.detail  # type: ignore[union-attr]
    # the default route does carry a public address
    assert snap.explain("box", "8.8.8.8", 443).reason == "IGW_PUBLIC_IP_ASSOCIATION_FOR_EGRESS"


def test_the_decision_and_reconciles_address_classes_agree_on_unfiltered_addresses(shop: Shop, tmp_path: Path) -> None:
    """The rule lives in the interface decision, so explain, reconcile and the header space share it; reconcile
    evaluates one address per class, so the classes must cut around each service address."""
    locked = shop.b.security_group(shop.vpc, "locked", [], egress=[])
    shop.b.interface(shop.app, "10.0.1.10", [locked], name="box")
    network = load(shop.b, tmp_path).network
    decision = decision_of(network)
    eni = next(iter(network.interfaces))
    peers = ["10.0.0.2", "10.0.0.3", "169.254.169.254", "169.254.169.255", "10.0.1.1", "10.0.2.1"]
    rows = [decision.crossing(network.interfaces[eni], network.interfaces[eni].subnet_id, Direction.EGRESS,
                              response=False, family=4, peer=parse_address(p)[1], protocol=6, ports=[80],
                              crosses_nacl=True) for p in peers]
    unfiltered = [bool(decision.decide(r).unfiltered[0]) for r in rows]
    # its VPC's DNS, metadata, its own subnet's router: yes; the next address, another subnet's router: no
    assert unfiltered == [True, False, True, False, True, False]
    classes = AddressClasses.of(network)
    ids = classes.classify(np.array([4, 4], np.int8), np.zeros(2, np.uint64),
                           np.array([parse_address("169.254.169.254")[1], parse_address("169.254.169.253")[1]],
                                    np.uint64))
    assert ids[0] != ids[1] and classes.representative(ids[:1])[2][0] == parse_address("169.254.169.254")[1]


# --- security groups (E.1) -------------------------------------------------------------------------------


def test_a_group_reference_does_not_survive_a_middlebox(shop: Shop, tmp_path: Path) -> None:
    """E.1: "Through a middlebox (routes to an appliance ENI) SG references do not work". The db admits
    members of app's group; straight from app it is ACCEPT, through the inspection appliance it is
    SG_REFERENCES_NOT_PRESERVED, and admitting app's CIDR instead works through the appliance too."""
    b = shop.b
    inspect = b.subnet(shop.vpc, "10.0.9.0/24")
    app_sg = b.security_group(shop.vpc, "app", [], [ALL_OUT])
    fw_sg = b.security_group(shop.vpc, "fw", [tcp(5432, "10.0.0.0/16")], [ALL_OUT])
    db_sg = b.security_group(shop.vpc, "db", [from_group("tcp", 5432, app_sg)], [ALL_OUT])
    b.interface(shop.app, "10.0.1.10", [app_sg], name="app")
    b.interface(shop.db, "10.0.2.20", [db_sg], name="db")
    fw = b.interface(inspect, "10.0.9.5", [fw_sg], name="fw", source_dest_check=False)
    direct = load(b, tmp_path)
    assert direct.explain("app", "db", 5432).verdict == "ACCEPT"
    b.route_table(shop.vpc, [shop.app], [{"DestinationCidrBlock": "10.0.2.0/24", "NetworkInterfaceId": fw,
                                          "State": "active"}])
    through = load(b, tmp_path / "fw").explain("app", "db", 5432)
    assert (through.verdict, through.reason) == ("REJECT", "SG_REFERENCES_NOT_PRESERVED")
    assert through.blocked_by is not None and through.blocked_by.id == db_sg
    assert "does not preserve security group membership" in through.blocked_by.detail
    next(g for g in b.data["SecurityGroups"] if g["GroupId"] == db_sg)["IpPermissions"] = [tcp(5432, "10.0.1.0/24")]
    assert load(b, tmp_path / "cidr").explain("app", "db", 5432).verdict == "ACCEPT"


def test_a_group_reference_does_not_cross_a_peering_between_regions(tmp_path: Path) -> None:
    """E.1/E.7: "You cannot reference the security group of a peer VPC that's in a different Region"."""
    def story(peer_region: str) -> Snapshot:
        b = SnapshotBuilder()
        home, peer = b.vpc("10.0.0.0/16"), b.vpc("10.1.0.0/16")
        a, c = b.subnet(home, "10.0.1.0/24"), b.subnet(peer, "10.1.1.0/24")
        client = b.security_group(home, "client", [], [ALL_OUT])
        server = b.security_group(peer, "server", [from_group("tcp", 443, client)], [ALL_OUT])
        b.interface(a, "10.0.1.10", [client], name="client")
        b.interface(c, "10.1.1.10", [server], name="server")
        pcx = b.peering(home, peer)
        connection = b.data["VpcPeeringConnections"][0]
        connection["RequesterVpcInfo"]["Region"] = "us-east-1"
        connection["AccepterVpcInfo"]["Region"] = peer_region
        b.main_table(home)["Routes"].append({"DestinationCidrBlock": "10.1.0.0/16", "VpcPeeringConnectionId": pcx,
                                             "State": "active"})
        b.main_table(peer)["Routes"].append({"DestinationCidrBlock": "10.0.0.0/16", "VpcPeeringConnectionId": pcx,
                                             "State": "active"})
        return Snapshot.load(b.write(tmp_path / peer_region), cache=False)

    assert story("us-east-1").explain("client", "server", 443).verdict == "ACCEPT"
    across = story("eu-west-1").explain("client", "server", 443)
    assert (across.verdict, across.reason) == ("REJECT", "SG_REFERENCES_NOT_PRESERVED")
    assert across.blocked_by is not None and "a peering across Regions" in across.blocked_by.detail


# --- connection tracking (E.2) ---------------------------------------------------------------------------


def test_untracked_and_tracked_flows_get_the_same_verdict_and_differ_in_what_a_rule_change_does(
    shop: Shop, tmp_path: Path
) -> None:
    """E.2 cannot decide a new flow's verdict: an untracked flow needs a rule in the other direction that
    admits every response, so its response passes by rule exactly where a tracked one passes by tracking. It
    decides what survives a rule change, which explain says and reconcile uses (an ACCEPT after a revoke)."""
    b = shop.b
    web = b.security_group(shop.vpc, "web", [tcp(80), tcp(22, "10.0.1.0/24")], [ALL_OUT])
    client = b.security_group(shop.vpc, "client", [], [ALL_OUT])
    b.interface(shop.db, "10.0.2.20", [web], name="web")
    b.interface(shop.app, "10.0.1.10", [client], name="client")
    snap = load(b, tmp_path)
    network = snap.network
    interface = next(i for i in network.interfaces.values() if i.name == "web")
    # AWS's own example: inbound TCP 80 from 0.0.0.0/0 with outbound all is untracked; TCP 22 from one range is
    untracked = connection_tracking(network, interface, Direction.INGRESS, 4, 6, 80)
    assert untracked.tracking == Tracking.UNTRACKED and untracked.response_rule is not None
    assert connection_tracking(network, interface, Direction.INGRESS, 4, 6, 22).tracking == Tracking.TRACKED
    assert connection_tracking(network, interface, Direction.INGRESS, 4, 1, 8).tracking == Tracking.TRACKED  # ICMP
    assert connection_tracking(network, interface, Direction.INGRESS, 4, 6, 80, automatic=True).tracking == (
        Tracking.AUTOMATIC)
    for port, words in ((80, "untracked flow"), (22, "response of a tracked connection")):
        out = snap.explain("client", "web", port)
        assert out.verdict == "ACCEPT"
        back = next(h for h in out.hops if h.return_path and h.kind == "security-group" and h.id == web)
        assert back.detail.startswith(words)


# --- network ACLs (E.3) ----------------------------------------------------------------------------------


def test_an_acl_entry_for_a_protocol_without_ports_ignores_its_port_range(shop: Shop, tmp_path: Path) -> None:
    """E.3: "If you specify -1 or a protocol number other than 6, 17, or 1, traffic on all ports is allowed,
    regardless of any ports or ICMP types or codes that you specify"."""
    b = shop.b
    esp = [acl_entry(100, "allow", e, "10.0.0.0/16", "50", ports=(500, 500)) for e in (False, True)]
    b.nacl(shop.vpc, [shop.db], esp)
    anything = b.security_group(shop.vpc, "any", [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}],
                                [ALL_OUT])
    b.interface(shop.app, "10.0.1.10", [anything], name="a")
    b.interface(shop.db, "10.0.2.20", [anything], name="b")
    snap = load(b, tmp_path)
    assert snap.explain("a", "b", 0, "50").verdict == "ACCEPT"  # ESP: the entry's port range does not apply
    refused = snap.explain("a", "b", 500, "udp")  # udp 500 is another protocol: the default entry denies it
    assert (refused.reason, refused.blocked_by.rule if refused.blocked_by else None) == (
        "SUBNET_ACL_RESTRICTION", 32767)


def test_ipv4_and_ipv6_entries_are_separate_and_the_ipv6_default_is_32768(shop: Shop, tmp_path: Path) -> None:
    b = shop.b
    b.nacl(shop.vpc, [shop.db], [acl_entry(100, "allow", e, "0.0.0.0/0") for e in (False, True)])
    anything = b.security_group(shop.vpc, "any", [tcp(443, "0.0.0.0/0"), {"IpProtocol": "tcp", "FromPort": 443,
                                "ToPort": 443, "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}], [ALL_OUT])
    b.interface(shop.app, "10.0.1.10", [anything], ipv6=["2600:1f18:100:1::10"], name="a")
    b.interface(shop.db, "10.0.2.20", [anything], ipv6=["2600:1f18:100:2::20"], name="b")
    snap = load(b, tmp_path)
    assert snap.explain("a", "b", 443).verdict == "ACCEPT"
    six = snap.explain("2600:1f18:100:1::10", "2600:1f18:100:2::20", 443)
    assert (six.reason, six.blocked_by.rule if six.blocked_by else None) == ("SUBNET_ACL_RESTRICTION", 32768)


def test_reconcile_reads_an_accept_the_rules_reject_as_a_surviving_tracked_connection(
    shop: Shop, tmp_path: Path
) -> None:
    """E.2 decides the reading of flow logs that ACCEPT what the snapshot's rules reject: behind a security
    group they can be connections tracked from before a revoke; behind a network ACL they cannot."""
    b = shop.b
    closed = b.security_group(shop.vpc, "closed", [], [ALL_OUT])  # the rule for 5432 was revoked
    client = b.security_group(shop.vpc, "client", [], [ALL_OUT])
    b.interface(shop.db, "10.0.2.20", [closed], name="db")
    b.interface(shop.app, "10.0.1.10", [client], name="app")
    b.nacl(shop.vpc, [shop.db], [acl_entry(100, "deny", False, "10.0.1.0/24", "6", ports=(22, 22)),
                                 *[acl_entry(200, "allow", e) for e in (False, True)]])
    network = load(b, tmp_path).network
    db = next(i.id for i in network.interfaces.values() if i.name == "db")

    def observed(port: int) -> str:
        row = {"version": 2, "account_id": "123456789012", "interface_id": db, "srcaddr": "10.0.1.10",
               "dstaddr": "10.0.2.20", "srcport": 40000, "dstport": port, "protocol": 6, "packets": 3, "bytes": 180,
               "start": 1_700_000_000, "end": 1_700_000_059, "action": "ACCEPT", "log_status": "OK",
               "flow_direction": "ingress", "tcp_flags": 2}
        result = reconcile(network, [pa.RecordBatch.from_pylist([row], schema=FLOW_LOG_SCHEMA)])
        (disagreement,) = result.disagreements
        return disagreement.explanation

    assert "keeps allowing a tracked connection" in observed(5432)  # the security group denies it now
    assert "cuts existing connections at once" in observed(22)  # the network ACL denies it now


# --- more of E.1, E.2, E.3 -------------------------------------------------------------------------------


def test_a_reference_admits_members_and_inherits_none_of_the_referenced_groups_rules(
    shop: Shop, tmp_path: Path
) -> None:
    """E.1: "No rules are inherited from the referenced SG". The default group's shape (inbound all from
    itself) admits its members only."""
    b = shop.b
    default = b.security_group(shop.vpc, "default", [], [ALL_OUT])
    next(g for g in b.data["SecurityGroups"] if g["GroupId"] == default)["IpPermissions"] = [
        {"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": default}]}]
    app = b.security_group(shop.vpc, "app", [tcp(22)], [ALL_OUT])  # anyone may ssh into app's members
    db = b.security_group(shop.vpc, "db", [from_group("tcp", 5432, app)], [ALL_OUT])
    b.interface(shop.app, "10.0.1.10", [app], name="app")
    b.interface(shop.db, "10.0.2.20", [db], name="db")
    b.interface(shop.app, "10.0.1.30", [default], name="d1")
    b.interface(shop.db, "10.0.2.30", [default], name="d2")
    snap = load(b, tmp_path)
    assert snap.explain("app", "db", 5432).verdict == "ACCEPT"
    assert snap.explain("app", "db", 22).reason == "ENI_SG_RULES_MISMATCH"  # app's own tcp 22 rule is not db's
    assert snap.explain("d1", "d2", 8080).verdict == "ACCEPT"  # members of default reach each other on anything
    assert snap.explain("app", "d2", 8080).reason == "ENI_SG_RULES_MISMATCH"


def test_icmpv6_without_a_port_range_admits_every_type(shop: Shop, tmp_path: Path) -> None:
    """E.1: "For icmpv6, the port range is optional; if you omit the port range, traffic for all types and
    codes is allowed"."""
    b = shop.b
    any_v6 = b.security_group(shop.vpc, "v6", [{"IpProtocol": "icmpv6", "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}])
    echo_only = b.security_group(shop.vpc, "echo", [{"IpProtocol": "icmpv6", "FromPort": 128, "ToPort": -1,
                                                     "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}])
    b.interface(shop.app, "10.0.1.10", [any_v6], ipv6=["2600:1f18:100:1::10"], name="a")
    b.interface(shop.app, "10.0.1.11", [echo_only], ipv6=["2600:1f18:100:1::11"], name="b")
    snap = load(b, tmp_path)
    assert snap.explain("2600:1f18:100:1::11", "2600:1f18:100:1::10", "135/0", "icmpv6").verdict == "ACCEPT"
    assert snap.explain("2600:1f18:100:1::10", "2600:1f18:100:1::11", "135/0", "icmpv6").verdict == "REJECT"


def test_a_subnet_without_an_association_uses_the_default_acl_and_a_new_acl_denies_everything(
    shop: Shop, tmp_path: Path
) -> None:
    """E.3: a subnet with no explicit association uses the VPC's default network ACL (which allows all); a newly
    created custom ACL has only its `*` entries, so it denies everything until rules are added."""
    b = shop.b
    sg = b.security_group(shop.vpc, "open", [tcp(443, "10.0.0.0/16")], [ALL_OUT])
    b.interface(shop.app, "10.0.1.10", [sg], name="a")
    b.interface(shop.db, "10.0.2.20", [sg], name="b")
    assert load(b, tmp_path).explain("a", "b", 443).verdict == "ACCEPT"
    b.nacl(shop.vpc, [shop.db], [])
    new = load(b, tmp_path / "new").explain("a", "b", 443)
    assert (new.reason, new.blocked_by.rule if new.blocked_by else None) == ("SUBNET_ACL_RESTRICTION", 32767)


def test_a_one_way_icmp_message_needs_only_the_way_there(shop: Shop, tmp_path: Path) -> None:
    """E.3's path-MTU advice: ICMP type 3 code 4 has no response, so the ACL must admit it inbound only."""
    b = shop.b
    sg = b.security_group(shop.vpc, "icmp", [{"IpProtocol": "icmp", "FromPort": -1, "ToPort": -1,
                                              "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}], [ALL_OUT])
    b.interface(shop.app, "10.0.1.10", [sg], name="router")
    b.interface(shop.db, "10.0.2.20", [sg], name="host")
    b.nacl(shop.vpc, [shop.db], [acl_entry(100, "allow", False, "10.0.0.0/16", "1", icmp=(3, 4))])
    snap = load(b, tmp_path)
    mtu = snap.explain("router", "host", "3/4", "icmp")
    assert (mtu.verdict, [h.return_path for h in mtu.hops if h.return_path]) == ("ACCEPT", [])
    assert snap.explain("router", "host", "11/0", "icmp").reason == "SUBNET_ACL_RESTRICTION"  # traceroute's


def test_other_protocols_are_tracked_by_address_and_protocol(shop: Shop, tmp_path: Path) -> None:
    """E.2: for protocols other than TCP, UDP and ICMP, "only the IP address and protocol number is tracked":
    the answer of an ESP exchange passes the client's groups, which admit nothing inbound."""
    b = shop.b
    client = b.security_group(shop.vpc, "client", [], [ALL_OUT])
    server = b.security_group(shop.vpc, "server", [{"IpProtocol": "50", "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}],
                              [ALL_OUT])
    b.interface(shop.app, "10.0.1.10", [client], name="client")
    b.interface(shop.db, "10.0.2.20", [server], name="server")
    snap = load(b, tmp_path)
    out = snap.explain("client", "server", 0, "50")
    assert out.verdict == "ACCEPT"
    assert any(h.return_path and h.id == client and "tracked connection" in h.detail for h in out.hops)
    assert snap.explain("server", "client", 0, "50").reason == "ENI_SG_RULES_MISMATCH"


def test_a_connection_through_a_transit_gateway_attachment_is_tracked_automatically() -> None:
    """E.2: transit gateway attachments (and NAT gateways, egress-only internet gateways) are automatically
    tracked, whatever the rules: said where the response crosses the server's groups."""
    snap = Snapshot.load(FIXTURES / "topology-tgw-missing-propagation" / "snapshot")
    out = snap.explain("payments-api", "artifacts", 443)
    back = [h.detail for h in out.hops if h.return_path and h.kind == "security-group"]
    assert back and back[0].startswith("response of a connection tracked automatically (it came through the "
                                       "attachment tgw-attach-")
