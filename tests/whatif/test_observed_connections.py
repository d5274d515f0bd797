"""Flow-log records become distinct connections in DuckDB: responses folded onto requests, weighted by records,
kept only where they touch what changed."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from reach.whatif import group_connections

ENI_A, ENI_B = "eni-0aaa", "eni-0bbb"


def batch(rows: list[dict[str, Any]]) -> pa.RecordBatch:
    """Records in the reader's schema (Athena column names); fields a row lacks are null."""
    columns = [
        "interface_id",
        "srcaddr",
        "dstaddr",
        "srcport",
        "dstport",
        "protocol",
        "start",
        "end",
        "action",
        "log_status",
        "tcp_flags",
        "pkt_srcaddr",
        "pkt_dstaddr",
    ]
    types = {
        "srcport": pa.int32(),
        "dstport": pa.int32(),
        "protocol": pa.int32(),
        "start": pa.int64(),
        "end": pa.int64(),
        "tcp_flags": pa.int32(),
    }
    return pa.RecordBatch.from_pydict(
        {c: pa.array([r.get(c) for r in rows], types.get(c, pa.string())) for c in columns}
    )


def record(src: str, dst: str, sport: int, dport: int, start: int = 100, **extra: Any) -> dict[str, Any]:
    return {
        "interface_id": ENI_A,
        "srcaddr": src,
        "dstaddr": dst,
        "srcport": sport,
        "dstport": dport,
        "protocol": 6,
        "start": start,
        "end": start + 60,
        "action": "ACCEPT",
        "log_status": "OK",
        **extra,
    }


def rows(batches: list[pa.RecordBatch], **scope: Any) -> list[dict[str, Any]]:
    return group_connections(batches, **{"interfaces": None, **scope}).table.to_pylist()


def test_requests_and_responses_are_one_connection_weighted_by_records() -> None:
    found = rows(
        [
            batch(
                [
                    record("10.0.1.5", "10.0.2.9", 50000, 443, tcp_flags=2),
                    record("10.0.2.9", "10.0.1.5", 443, 50000, tcp_flags=18),
                    record("10.0.1.5", "10.0.2.9", 50001, 443, start=400, tcp_flags=3),
                    record("10.0.2.9", "10.0.1.5", 443, 50001, start=400, tcp_flags=19),
                ]
            )
        ]
    )
    assert found == [
        {
            "src": "10.0.1.5",
            "dst": "10.0.2.9",
            "protocol": 6,
            "dst_port": 443,
            "src_port_lo": 50000,
            "src_port_hi": 50001,
            "records": 4,
            "first_seen": 100,
            "last_seen": 460,
        }
    ]


def test_without_flags_the_port_that_meets_many_peer_ports_is_the_server() -> None:
    """Client ports below the service's port (1024-65535 ephemeral ranges) do not flip the connection."""
    records = []
    for client_port in (1500, 2200, 40000, 61000):
        records += [
            record("10.0.1.100", "10.0.2.50", client_port, 3306),
            record("10.0.2.50", "10.0.1.100", 3306, client_port),
        ]
    [found] = rows([batch(records)])
    assert (found["src"], found["dst"], found["dst_port"], found["records"]) == ("10.0.1.100", "10.0.2.50", 3306, 8)
    assert (found["src_port_lo"], found["src_port_hi"]) == (1500, 61000)


def test_a_lone_exchange_without_flags_falls_back_to_the_lower_port() -> None:
    [found] = rows([batch([record("10.0.2.9", "10.0.1.5", 443, 50000)])])
    assert (found["src"], found["dst"], found["dst_port"]) == ("10.0.1.5", "10.0.2.9", 443)


def test_packet_addresses_fold_a_nat_gateway_s_records_onto_the_client_s_connection() -> None:
    found = rows(
        [
            batch(
                [
                    record("10.0.3.25", "52.46.145.1", 40000, 443, tcp_flags=2),
                    # on the NAT gateway's ENI: the task's packet, addressed to the NAT but really to ECR
                    record(
                        "10.0.3.25",
                        "10.0.0.10",
                        40000,
                        443,
                        tcp_flags=2,
                        interface_id=ENI_B,
                        pkt_srcaddr="10.0.3.25",
                        pkt_dstaddr="52.46.145.1",
                    ),
                ]
            )
        ]
    )
    assert [(r["src"], r["dst"], r["records"]) for r in found] == [("10.0.3.25", "52.46.145.1", 2)]


def test_nodata_and_skipdata_records_are_not_connections() -> None:
    found = rows(
        [
            batch(
                [
                    record("10.0.1.5", "10.0.2.9", 50000, 443),
                    {"interface_id": ENI_A, "log_status": "NODATA", "start": 100, "end": 160},
                    {"interface_id": ENI_A, "log_status": "SKIPDATA", "start": 100, "end": 160},
                ]
            )
        ]
    )
    assert len(found) == 1


def test_only_records_that_touch_the_scope_are_kept_but_all_are_counted() -> None:
    records = batch(
        [
            record("10.0.1.5", "10.0.2.9", 50000, 443),  # logged by ENI_A, in scope
            record("10.0.7.7", "10.0.8.8", 50000, 22, interface_id="eni-0other"),  # nothing to do with the change
            record("10.0.7.7", "10.0.9.9", 50000, 80, interface_id="eni-0other"),  # its peer is an affected address
        ]
    )
    grouped = group_connections([records], interfaces={ENI_A}, addresses={"10.0.9.9"})
    assert grouped.records_read == 3
    assert sorted((r["dst"], r["dst_port"]) for r in grouped.table.to_pylist()) == [("10.0.2.9", 443), ("10.0.9.9", 80)]


def test_batches_from_different_log_formats_conform_to_one_schema() -> None:
    v2 = pa.RecordBatch.from_pydict(
        {
            "interface_id": [ENI_A],
            "srcaddr": ["10.0.1.5"],
            "dstaddr": ["10.0.2.9"],
            "srcport": pa.array([50000], pa.int32()),
            "dstport": pa.array([443], pa.int32()),
            "protocol": pa.array([6], pa.int32()),
            "start": pa.array([5], pa.int64()),
            "end": pa.array([9], pa.int64()),
            "log_status": ["OK"],
            "account_id": ["123456789012"],
        }
    )
    found = rows([v2, batch([record("10.0.1.5", "10.0.2.9", 50001, 443, tcp_flags=2)])])
    assert [(r["records"], r["first_seen"]) for r in found] == [(2, 5)]
