"""The passes one by one: telling responses, the kernel decomposition, CloudTrail, `explain --flow-logs`."""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from reach.api import Snapshot
from reach.cli import app
from reach.errors import ReachError
from reach.flowlogs import FLOW_LOG_SCHEMA
from reach.model.addr import parse_address, split
from reach.model.decision import Crossings, decision_of
from reach.model.match import Probe, first_match
from reach.reconcile import CloudTrail, reconcile
from reach.reconcile.addresses import AddressClasses
from reach.reconcile.place import InterfaceIndex, PlaceStats, place
from reach.reconcile.responses import FLAGS, PAIRING, PORTS, ResponseClassifier

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
runner = CliRunner()


def batch(rows: list[dict[str, Any]]) -> pa.RecordBatch:
    """Records as the flow-log reader yields them: every FLOW_LOG_SCHEMA column, absent fields null."""
    base = {"version": 2, "account_id": "123456789012", "protocol": 6, "packets": 1, "bytes": 60, "log_status": "OK"}
    full = [{**base, **r} for r in rows]
    return pa.RecordBatch.from_pylist(full, schema=FLOW_LOG_SCHEMA)


def record(eni: str, src: str, dst: str, sport: int, dport: int, action: str, start: int = 1716195600,
           **extra: Any) -> dict[str, Any]:
    return {"interface_id": eni, "srcaddr": src, "dstaddr": dst, "srcport": sport, "dstport": dport,
            "start": start, "end": start + 59, "action": action, **extra}


LAMBDA, ORDERS, REPORTS = "eni-07079bc4987533224", "eni-06eda9f3bd974dd1b", "eni-0f6ebb446a0d90200"


@pytest.fixture(scope="module")
def orders() -> Snapshot:
    return Snapshot.load(FIXTURES / "lambda-rds-nacl/snapshot")


def classify(snap: Snapshot, rows: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
    index = InterfaceIndex.of(snap.network)
    placed = place(batch(rows), index, AddressClasses.of(snap.network), PlaceStats())
    return ResponseClassifier().classify(placed)


# ----- requests and responses -------------------------------------------------------------------------


def test_tcp_flags_tell_a_syn_ack_from_a_syn_whatever_the_ports(orders: Snapshot) -> None:
    # ports 40000 -> 45000 would say "request" for both; the flags say the second answers the first
    response, method = classify(orders, [
        record(LAMBDA, "10.0.1.100", "10.0.3.60", 40000, 45000, "ACCEPT", tcp_flags=2),
        record(LAMBDA, "10.0.3.60", "10.0.1.100", 45000, 40000, "ACCEPT", tcp_flags=18),
    ])
    assert response.tolist() == [False, True] and method.tolist() == [FLAGS, FLAGS]


def test_a_reject_whose_reverse_was_accepted_is_the_response(orders: Snapshot) -> None:
    # a Windows client's port 1500 calls 8080: both registered, so the ports would take the answer (8080 ->
    # 1500, dropped by a NACL on the way back) for a request; its accepted reverse says it is the response
    response, method = classify(orders, [
        record(LAMBDA, "10.0.1.100", "10.0.3.60", 1500, 8080, "ACCEPT"),
        record(LAMBDA, "10.0.3.60", "10.0.1.100", 8080, 1500, "REJECT"),
    ])
    assert response.tolist() == [False, True] and method.tolist() == [PAIRING, PAIRING]


def test_strong_ports_decide_without_pairing(orders: Snapshot) -> None:
    response, method = classify(orders, [
        record(LAMBDA, "10.0.1.100", "10.0.3.60", 40000, 5432, "ACCEPT"),
        record(LAMBDA, "10.0.3.60", "10.0.1.100", 5432, 40000, "REJECT"),
    ])
    assert response.tolist() == [False, True] and method.tolist() == [PORTS, PORTS]


def test_without_flags_or_a_pair_the_service_port_tells(orders: Snapshot) -> None:
    response, _ = classify(orders, [
        record(LAMBDA, "10.0.3.60", "10.0.1.100", 5432, 61000, "ACCEPT"),  # from the PostgreSQL port
        record(ORDERS, "10.0.1.100", "10.0.2.50", 40000, 3306, "REJECT"),  # to the MySQL port
        record(LAMBDA, "10.0.3.60", "10.0.1.100", 8080, 50000, "ACCEPT"),  # registered -> ephemeral: answers
        record(LAMBDA, "10.0.1.100", "10.0.3.60", 50000, 8080, "ACCEPT"),  # and the call it answers
    ])
    assert response.tolist() == [True, False, True, False]


def test_icmp_ports_cannot_tell_so_the_side_seen_first_asked(orders: Snapshot) -> None:
    rows = [record(REPORTS, "10.0.1.100", "10.0.3.60", 0, 0, "ACCEPT", start=1716195600, protocol=1),
            record(REPORTS, "10.0.3.60", "10.0.1.100", 0, 0, "ACCEPT", start=1716195605, protocol=1)]
    response, method = classify(orders, rows)
    assert response.tolist() == [False, True] and method.tolist() == [PAIRING, PAIRING]


def test_responses_are_checked_against_nacls_only_and_never_disagree(orders: Snapshot) -> None:
    # lambda-sg has no inbound rule: as new connections these would be REJECTed by the security group
    rows = [record(LAMBDA, "10.0.3.60", "10.0.1.100", 5432, 40000 + i, "ACCEPT") for i in range(50)]
    result = reconcile(orders.network, [batch(rows)])
    assert (result.summary.responses, result.summary.disagree) == (50, 0)
    # and a response the NACL drops (the app subnet takes 1024-65535 back only from 10.0.2.0/23) is a
    # return-path REJECT of the NACL, not of the security group
    rows = [record(LAMBDA, "10.0.5.5", "10.0.1.100", 5432, 40000, "REJECT")]
    (blocking,) = reconcile(orders.network, [batch(rows)]).blocking
    assert (blocking.kind, blocking.id, blocking.direction, blocking.rule, blocking.return_path) == (
        "network-acl", "acl-05ef02fad2172638a", "ingress", 32767, True)


# ----- the kernel: per-group decomposition and classes agree with first_match on the union ------------


def test_groups_in_order_decide_as_first_match_on_their_union() -> None:
    # the interface decision evaluates each group's table (memoised per class of its own) in the interface's
    # group order; that must equal the kernel on the union of the groups' lines
    snap = Snapshot.load(FIXTURES / "icmp-nacl-reply/snapshot")
    network = snap.network
    decision = decision_of(network)
    rng = random.Random(4)
    interface = decision.ids.index("eni-1235b8ca123456789")
    groups = network.interfaces["eni-1235b8ca123456789"].groups
    peers = ["203.0.113.12", "203.0.113.13", "198.51.100.99", "172.31.16.10", "0.0.0.0", "255.255.255.255"]
    for direction in ("ingress", "egress"):
        union = network.sg_table(groups, direction)
        n = 300
        addresses = [parse_address(rng.choice(peers)) for _ in range(n)]
        protocol = np.array([rng.choice([1, 6, 17, 50]) for _ in range(n)], dtype=np.int16)
        port = np.array([rng.choice([0, 8, 22, 443, 1024, 65535]) for _ in range(n)], dtype=np.int32)
        family = np.array([a[0] for a in addresses], dtype=np.int8)
        lo = np.array([split(a[1])[1] for a in addresses], dtype=np.uint64)
        hi = np.zeros(n, dtype=np.uint64)
        zeros = np.zeros(n, dtype=np.int16)
        expected = first_match(union, Probe(family, hi, lo, protocol, port, zeros))
        rows = Crossings(
            interface=np.full(n, interface, dtype=np.int32), subnet=np.full(n, -1, dtype=np.int32),
            egress=np.full(n, direction == "egress"), response=np.zeros(n, dtype=bool), family=family, peer_hi=hi,
            peer_lo=lo, protocol=protocol, port=port, code=zeros, crosses_nacl=np.zeros(n, dtype=bool),
            groups_kept=np.ones(n, dtype=bool))
        decided = decision.decide(rows)
        rules = decision.registry.rules
        assert (~decided.sg_allow).tolist() == (expected < 0).tolist()
        for got, want in zip(decided.sg.tolist(), expected.tolist(), strict=True):
            if want >= 0:
                assert rules[got] == union.lines[want].ref
            else:
                assert rules[got].implicit and rules[got].kind == "security-group"


def test_reconcile_names_the_rule_explain_names_for_the_same_flow(orders: Snapshot) -> None:
    rows = [record(ORDERS, "10.0.1.100", "10.0.2.50", 40000, 3306, "REJECT")]
    (blocking,) = reconcile(orders.network, [batch(rows)]).blocking
    blocked_by = orders.explain("10.0.1.100", "10.0.2.50", 3306, src_port=40000).blocked_by
    assert blocked_by is not None
    assert (blocking.kind, blocking.id, blocking.direction, blocking.rule) == (
        blocked_by.kind, blocked_by.id, blocked_by.direction, blocked_by.rule)


def test_a_record_on_an_address_its_interface_does_not_hold_is_skipped_for_that_interface(
        orders: Snapshot) -> None:
    rows = [record(ORDERS, "10.0.1.100", "10.0.9.9", 40000, 3306, "REJECT")]
    result = reconcile(orders.network, [batch(rows)])
    assert (result.summary.evaluated, result.summary.unplaceable) == (0, 1)
    assert result.skipped_interfaces[0].interface_id == ORDERS


def test_pkt_addresses_are_the_peer_the_rules_see() -> None:
    # the NAT gateway's interface: srcaddr is its own address, pkt-srcaddr the internet host it answers for
    snap = Snapshot.load(FIXTURES / "ecs-ecr-nat-return-blocked/snapshot")
    nat, task = "eni-07c2f8cc5952bc7d3", "eni-0cc4ac642eba1cd5d"
    rows = [
        record(task, "10.0.3.25", "52.46.145.1", 41000, 443, "ACCEPT", flow_direction="egress", tcp_flags=2),
        record(nat, "10.0.3.25", "10.0.0.10", 41000, 443, "ACCEPT", pkt_srcaddr="10.0.3.25",
               pkt_dstaddr="52.46.145.1", flow_direction="ingress", tcp_flags=2),
        record(nat, "10.0.0.10", "10.0.3.25", 443, 41000, "ACCEPT", pkt_srcaddr="52.46.145.1",
               pkt_dstaddr="10.0.3.25", flow_direction="egress", tcp_flags=18),
        record(task, "52.46.145.1", "10.0.3.25", 443, 41000, "REJECT", flow_direction="ingress", tcp_flags=18),
    ]
    result = reconcile(snap.network, [batch(rows)])
    assert result.summary.disagree == 0
    (blocking,) = result.blocking
    assert (blocking.kind, blocking.id, blocking.direction, blocking.rule, blocking.return_path) == (
        "network-acl", "acl-0d5324629a5ff89c5", "ingress", 32767, True)


# ----- CloudTrail ------------------------------------------------------------------------------------------


def trail_record(name: str, when: str, **params: Any) -> dict[str, Any]:
    return {"eventTime": when, "eventSource": "ec2.amazonaws.com", "eventName": name, "sourceIPAddress": "192.0.2.1",
            "userIdentity": {"arn": "arn:aws:iam::123456789012:user/ops"}, "requestParameters": params}


def test_cloudtrail_reads_plain_and_gzipped_files_and_folders_and_skips_what_changed_nothing(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(json.dumps({"Records": [
        trail_record("ReplaceNetworkAclEntry", "2024-05-20T08:55:00Z", networkAclId="acl-1", ruleNumber=100,
                     egress=False, ruleAction="deny", protocol="6", portRange={"from": 3306, "to": 3306},
                     cidrBlock="10.0.0.0/16"),
        trail_record("DescribeNetworkAcls", "2024-05-20T08:56:00Z"),
        {**trail_record("DeleteNetworkAclEntry", "2024-05-20T08:57:00Z", networkAclId="acl-1"),
         "errorCode": "Client.UnauthorizedOperation"},
    ]}))
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.json.gz").write_bytes(gzip.compress(json.dumps({"Records": [
        trail_record("CreateRoute", "2024-05-20T09:30:00Z", routeTableId="rtb-1", destinationCidrBlock="0.0.0.0/0",
                     natGatewayId="nat-1")]}).encode()))
    (tmp_path / "digest.json").write_text(json.dumps({"digestStartTime": "2024-05-20T08:00:00Z"}))
    trail = CloudTrail.load([tmp_path])
    assert [e.event for e in trail.events] == ["ReplaceNetworkAclEntry", "CreateRoute"]
    assert (trail.records, trail.ignored_files) == (4, 1)
    assert trail.events[0].summary == "changes inbound rule #100 deny protocol 6 3306-3306 10.0.0.0/16"
    assert trail.nearest_before(["acl-1"], 1716195600).event == "ReplaceNetworkAclEntry"  # type: ignore[union-attr]
    assert trail.nearest_before(["rtb-1"], 1716195600) is None
    with pytest.raises(ReachError, match="not a CloudTrail log"):
        CloudTrail.load([tmp_path / "digest.json"])


# ----- explain --flow-logs ----------------------------------------------------------------------------------


def test_explain_shows_what_the_logs_recorded_next_to_the_prediction() -> None:
    result = runner.invoke(app, [
        "explain", "10.0.1.100", "10.0.2.50", "3306", "--snapshot", str(FIXTURES / "lambda-rds-nacl/snapshot"),
        "--flow-logs", str(FIXTURES / "reconcile-lambda-rds-nacl/flowlogs"), "--format", "json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["verdict"] == "REJECT"  # the explanation is unchanged; `observed` is added
    seen = [(r["interface_id"], r["direction"], r["predicted"], r["accept"], r["reject"], r["agrees"])
            for r in out["observed"]["records"]]
    assert seen == [(LAMBDA, "egress", "ACCEPT", 30, 0, True), (ORDERS, "ingress", "REJECT", 0, 30, True)]


def test_explain_says_why_no_record_may_be_expected() -> None:
    result = runner.invoke(app, [
        "explain", "web-server-01", "151.101.64.223", "80", "--snapshot", str(FIXTURES / "web-http-revoked/snapshot"),
        "--flow-logs", str(FIXTURES / "reconcile-web-http-revoked/flowlogs"), "--format", "json"])
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)["observed"]["records"]
    assert records and all(r["records"] == 0 for r in records)
    why = " ".join(records[0]["why_none"])
    assert "the snapshot has no FlowLogs" in why
    text = runner.invoke(app, [
        "explain", "web-server-01", "151.101.64.223", "80", "--snapshot", str(FIXTURES / "web-http-revoked/snapshot"),
        "--flow-logs", str(FIXTURES / "reconcile-web-http-revoked/flowlogs")])
    assert "No record on eni-0a8f44391eae18254" in " ".join(text.stdout.split())


def test_a_flow_log_capturing_only_accept_explains_the_missing_reject() -> None:
    # reach doctor's fixture: the VPC's only flow log has TrafficType ACCEPT, and rds-sg rejects 5432
    result = runner.invoke(app, [
        "explain", "10.0.1.100", "10.0.2.50", "5432", "--snapshot", str(FIXTURES / "doctor-accept-only/snapshot"),
        "--flow-logs", str(FIXTURES / "doctor-accept-only/flowlogs"), "--format", "json"])
    assert result.exit_code == 0, result.output
    lambda_out, db_in = json.loads(result.stdout)["observed"]["records"]
    assert (lambda_out["predicted"], lambda_out["accept"], lambda_out["agrees"]) == ("ACCEPT", 1, True)
    assert (db_in["predicted"], db_in["records"]) == ("REJECT", 0)
    assert db_in["why_none"] == ["the flow logs covering eni-06eda9f3bd974dd1b (fl-0f5c7e9a1b3d5f7c9) capture only "
                                 "ACCEPT, and this record would be REJECT"]


# ----- drift: bounded history, exact change points -----------------------------------------------------------


def test_history_widens_its_buckets_to_stay_bounded_and_still_dates_the_flip_to_the_second() -> None:
    from reach.reconcile.cells import CellStore
    from reach.reconcile.drift import DETAIL, TABLES, History, change_points, pack_slot, widen

    history = History(CellStore(TABLES))
    slot = pack_slot(*(np.array([v]) for v in (1, False, False, 6, 80)))
    start = 1_700_000_000 + 60 * np.arange(600) + 7  # ten hours, a record a minute
    accept = start < start[300]  # the snapshot (ACCEPT) is right until minute 300, then REJECTs
    history.add(slot, np.array([-1]), np.zeros(600, dtype=np.intp), accept, start, start + 50)
    folded = history.cells.fold({"detail": DETAIL.fold_sql("_detail_all"), "totals": "SELECT * FROM totals"})
    minutes = folded["detail"]
    keyed = minutes.drop_columns(["slot", "ref"]).append_column("key", pa.array(np.zeros(minutes.num_rows, np.int64)))
    detail, seconds = widen(keyed, 64)
    assert detail.num_rows <= 64 and seconds > 60
    point = change_points({0}, detail)[0]
    assert point is not None
    assert (point.before, point.after, point.at, point.previous) == ("ACCEPT", "REJECT", start[300], start[299])
    (totals,) = [r for r in folded["totals"].to_pylist() if r["accept"] == 0]
    assert (totals["records"], totals["first"], totals["end"]) == (300, start[300], start[-1] + 50)


def test_a_read_error_half_way_is_raised_not_swallowed(orders: Snapshot) -> None:
    from reach.errors import FlowLogError

    def batches() -> Any:
        yield batch([record(ORDERS, "10.0.1.100", "10.0.2.50", 40000, 3306, "REJECT")])
        raise FlowLogError("s3://bucket/key: connection reset")

    with pytest.raises(FlowLogError, match="connection reset"):
        reconcile(orders.network, batches())
