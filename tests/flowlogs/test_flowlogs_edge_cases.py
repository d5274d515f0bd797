"""Every case of shared/reference/flowlog-parsing-edge-cases.md, on small files written here."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from flowlogs_support import present, read

from reach.errors import FlowLogError
from reach.flowlogs import Filters, read_flow_logs
from reach.flowlogs.fields import parse_log_format

HEADER = (
    "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"
)
R1 = "2 123456789010 eni-aaa 10.0.0.1 10.0.0.2 40000 443 6 10 840 1600000000 1600000060 ACCEPT OK"
R2 = "2 123456789010 eni-bbb 10.0.0.2 10.0.0.1 443 40000 6 8 620 1600000000 1600000060 REJECT OK"
NODATA = "2 123456789010 eni-ccc - - - - - - - 1600000000 1600000060 - NODATA"


def test_header_may_start_with_any_field_and_change_mid_file(write: Any) -> None:
    path = write(
        "f.log",
        "account-id interface-id srcaddr dstaddr action\n"
        "123456789010 eni-aaa 10.0.0.1 10.0.0.2 ACCEPT\n"
        "\n"
        "resource-type tgw-id srcaddr dstaddr packets-lost-no-route log-status\n"
        "TransitGateway tgw-1 10.0.0.1 10.0.0.9 7 OK\n",
    )
    rows, stats = read(path)
    assert (stats.headers, stats.unparsable) == (2, 0)
    assert present(rows[0]) == {
        "account_id": "123456789010",
        "interface_id": "eni-aaa",
        "srcaddr": "10.0.0.1",
        "dstaddr": "10.0.0.2",
        "action": "ACCEPT",
    }
    assert present(rows[1]) == {
        "srcaddr": "10.0.0.1",
        "dstaddr": "10.0.0.9",
        "log_status": "OK",
        "resource_type": "TransitGateway",
        "tgw_id": "tgw-1",
        "packets_lost_no_route": 7,
    }


def test_a_line_naming_fewer_than_three_known_fields_is_not_a_header(write: Any) -> None:
    rows, stats = read(write("f.log", f"foo-bar baz-qux srcaddr\n{R1}\n"))
    assert len(rows) == 1 and stats.headers == 0 and stats.unparsable == 1


def test_whitespace_double_spaces_crlf_no_trailing_newline(write: Any) -> None:
    text = f"{HEADER}\r\n{R1.replace(' 10.0.0.2 ', '  10.0.0.2   ')}\r\n\r\n   \n\t{R2}"
    rows, stats = read(write("f.log", text))
    assert stats.unparsable == 0
    assert [(r["dstaddr"], r["action"]) for r in rows] == [("10.0.0.2", "ACCEPT"), ("10.0.0.1", "REJECT")]


def test_dash_is_null_in_every_field(write: Any) -> None:
    fields = parse_log_format(" ".join(f"${{{n}}}" for n in HEADER.split()))
    (row,), _ = read(write("f.log", " ".join("-" for _ in fields) + "\n"))
    assert all(v is None for v in row.values())


def test_nodata_and_skipdata(write: Any) -> None:
    rows, stats = read(write("f.log", f"{NODATA}\n{NODATA.replace('NODATA', 'SKIPDATA')}\n{R1}\n"))
    assert (stats.records, stats.nodata, stats.skipdata) == (3, 1, 1)
    assert rows[1]["log_status"] == "SKIPDATA" and rows[1]["srcaddr"] is None


def test_ipv6_full_compressed_and_mixed(write: Any) -> None:
    line = R1.replace("10.0.0.1", "2a02:cf40::").replace("10.0.0.2", "2001:db8:1234:a102:3304:8879:34cf:4071")
    mixed = R2.replace("10.0.0.2", "1.128.0.0", 1).replace("10.0.0.1", "::ffff:10.0.0.1")
    rows, stats = read(write("f.log", f"{line}\n{mixed}\n"))
    assert stats.unparsable == 0
    assert (rows[0]["srcaddr"], rows[1]["dstaddr"]) == ("2a02:cf40::", "::ffff:10.0.0.1")


@pytest.mark.parametrize(
    "bad,reason",
    [
        ("10.0.0.999", "not an IP address"),
        ("eni-123", "not an IP address"),
        ("2001:db8::1::2", "not an IP address"),
    ],
)
def test_bad_address_is_unparsable(bad: str, reason: str, write: Any) -> None:
    rows, stats = read(write("f.log", f"{R1}\n{R2.replace('10.0.0.2', bad, 1)}\n"))
    assert len(rows) == 1 and stats.unparsable == 1
    assert reason in stats.bad_lines[0].reason and bad in stats.bad_lines[0].reason
    assert stats.bad_lines[0].line == 2


def test_millisecond_timestamps_are_normalised(write: Any) -> None:
    (row,), _ = read(write("f.log", R1.replace("1600000000 1600000060", "1512564058000 1512564118000") + "\n"))
    assert (row["start"], row["end"]) == (1512564058, 1512564118)


@pytest.mark.parametrize(
    "times,reason",
    [
        ("1600000060 1600000000", "start 1600000060 is after end 1600000000"),
        ("164000066 1640000297", "start 164000066 is not between 2010 and 2100"),
        # milliseconds are normalised first: 5000000000000 ms is 2128
        ("1600000000 5000000000000", "end 5000000000 is not between 2010 and 2100"),
    ],
)
def test_impossible_times_are_unparsable(times: str, reason: str, write: Any) -> None:
    rows, stats = read(write("f.log", R2 + "\n" + R1.replace("1600000000 1600000060", times) + "\n"))
    assert len(rows) == 1 and stats.unparsable == 1 and reason in stats.bad_lines[0].reason


def test_non_integer_where_an_integer_belongs(write: Any) -> None:
    rows, stats = read(
        write("f.log", f"{R1}\n{R1.replace(' 443 ', ' https ')}\n{R1.replace(' 6 ', ' 99999999999 ')}\n")
    )
    assert len(rows) == 1 and stats.unparsable == 2
    assert [b.reason for b in stats.bad_lines] == [
        "dstport 'https' is not an integer",
        "protocol '99999999999' is not an integer",
    ]


def test_account_ids_stay_strings(write: Any) -> None:
    rows, _ = read(
        write("f.log", R1.replace("123456789010", "000000000000") + "\n" + R1.replace("123456789010", "unknown"))
    )
    assert [r["account_id"] for r in rows] == ["000000000000", "unknown"]


def test_non_ascii_is_kept(write: Any) -> None:
    (row,), _ = read(
        write(
            "f.log",
            "subnet-id interface-id srcaddr dstaddr\nsubnet-3fbc536e360c36caб eni-a 10.0.0.1 10.0.0.2\n",
        )
    )
    assert row["subnet_id"] == "subnet-3fbc536e360c36caб"


def test_invalid_utf8_line_is_unparsable(write: Any) -> None:
    rows, stats = read(write("f.log", R1.encode() + b"\n" + R2.encode().replace(b"eni-bbb", b"eni-b\xff") + b"\n"))
    assert len(rows) == 1 and stats.unparsable == 1 and stats.bad_lines[0].reason == "not valid UTF-8"


def test_unknown_newer_fields_become_string_columns(write: Any) -> None:
    path = write(
        "f.log",
        "version interface-id srcaddr dstaddr encryption-status resource-id next-hop-vpc-id\n"
        "10 eni-a 10.0.0.1 10.0.0.2 1 res-1 -\n",
    )
    stream = read_flow_logs([path], quiet=True)
    (batch,) = list(stream)
    assert list(stream.extra_columns) == ["encryption_status", "resource_id", "next_hop_vpc_id"]
    assert batch.schema.field("encryption_status").type == pa.string()
    row = batch.to_pylist()[0]
    assert (row["encryption_status"], row["resource_id"], row["next_hop_vpc_id"]) == ("1", "res-1", None)


def test_custom_log_format_for_headerless_lines(write: Any) -> None:
    path = write("f.log", "2 eni-aaa 10.0.0.1 10.0.0.2\n")
    rows, _ = read(path, log_format="${version} ${interface-id} ${srcaddr} ${dstaddr}")
    assert present(rows[0]) == {
        "version": 2,
        "interface_id": "eni-aaa",
        "srcaddr": "10.0.0.1",
        "dstaddr": "10.0.0.2",
    }
    # A header in the file still wins over --log-format for the lines after it.
    path = write("g.log", f"2 eni-aaa 10.0.0.1 10.0.0.2\n{HEADER}\n{R1}\n")
    rows, stats = read(path, log_format="version interface-id srcaddr dstaddr")
    assert [r["interface_id"] for r in rows] == ["eni-aaa", "eni-aaa"] and rows[1]["dstport"] == 443


@pytest.mark.parametrize("bad", ["", "${srcaddr} ${srcaddr}", "${Src Addr}"])
def test_bad_log_format_is_an_error(bad: str) -> None:
    with pytest.raises(FlowLogError, match="log-format"):
        parse_log_format(bad)


# ----- envelopes ----------------------------------------------------------------------------------


def _payload(*messages: str) -> dict[str, Any]:
    return {
        "messageType": "DATA_MESSAGE",
        "owner": "123456789010",
        "logGroup": "/aws/vpc/flowlogs",
        "logStream": "eni-aaa-all",
        "subscriptionFilters": ["f"],
        "logEvents": [{"id": str(i), "timestamp": 1600000000000, "message": m} for i, m in enumerate(messages)],
    }


def test_message_lines_mixed_with_plain_lines(write: Any) -> None:
    text = f'{{"message":"{R1}"}}\n{R2}\n{{"message": "{NODATA}", "other": 1}}\n{{"not": "a record"}}\n'
    rows, stats = read(write("f.log", text))
    assert [r["interface_id"] for r in rows] == ["eni-aaa", "eni-bbb", "eni-ccc"]
    assert stats.unparsable == 1 and stats.bad_lines[0].line == 4


def test_subscription_payload_plain_pretty_gzipped_and_base64(write: Any) -> None:
    doc = json.dumps(_payload(R1, R2), indent=2)
    for name, content in [
        ("plain.json", doc),
        ("payload.gz", gzip.compress(doc.encode())),
        ("lambda.b64", base64.b64encode(gzip.compress(doc.encode())).decode()),
        (
            "event.json",
            json.dumps({"awslogs": {"data": base64.b64encode(gzip.compress(doc.encode())).decode()}}),
        ),
        ("control.json", json.dumps({"messageType": "CONTROL_MESSAGE", "logEvents": []})),
    ]:
        rows, stats = read(write(name, content))
        expected = [] if name == "control.json" else ["ACCEPT", "REJECT"]
        assert [r["action"] for r in rows] == expected, name
        assert stats.unparsable == 0, name


def test_subscription_payloads_one_per_line(write: Any) -> None:
    text = json.dumps(_payload(R1)) + "\n" + json.dumps(_payload(R2, NODATA)) + "\n"
    rows, stats = read(write("firehose.log", text))
    assert [r["interface_id"] for r in rows] == ["eni-aaa", "eni-bbb", "eni-ccc"] and stats.unparsable == 0


def test_cloudwatch_export_timestamps_are_stripped(write: Any) -> None:
    rows, _ = read(write("export.log", f"2020-09-13T12:26:40.000Z {R1}\n"))
    assert rows[0]["interface_id"] == "eni-aaa"


# ----- containers and files -----------------------------------------------------------------------


def test_gzip_and_concatenated_gzip_members(write: Any) -> None:
    one = gzip.compress(f"{HEADER}\n{R1}\n".encode())
    two = gzip.compress(f"{HEADER}\n{R2}\n".encode())
    rows, stats = read(write("a.log.gz", one + two))
    assert [r["action"] for r in rows] == ["ACCEPT", "REJECT"] and stats.headers == 2


def test_broken_gzip_is_an_error_naming_the_file(write: Any) -> None:
    path = write("broken.log.gz", b"\x1f\x8b\x08\x00garbage that is not deflate")
    with pytest.raises(FlowLogError, match="broken.log.gz"):
        read(path)
    truncated = write("truncated.log.gz", gzip.compress((R1 + "\n").encode() * 1000)[:200])
    with pytest.raises(FlowLogError, match="truncated"):
        read(truncated)


def test_missing_path_is_an_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(FlowLogError, match="nope.log: no such file"):
        read_flow_logs([tmp_path / "nope.log"])


def test_folder_without_flow_logs_is_an_error_and_firehose_names_are_read(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("hello\n")
    with pytest.raises(FlowLogError, match="no flow-log files"):
        read(tmp_path)
    # Firehose writes objects without an extension.
    (tmp_path / "vpc-flows-1-2020-09-13-12-26-40-0a1b2c3d").write_text(R1 + "\n")
    rows, stats = read(tmp_path)
    assert stats.files == 1 and len(rows) == 1


def test_parquet_as_s3_writes_it(tmp_path: Path) -> None:
    table = pa.table(
        {
            "version": pa.array([5, 5], pa.int32()),
            "account_id": pa.array(["123456789010", "123456789010"]),
            "interface_id": pa.array(["eni-a", "eni-b"]),
            "srcaddr": pa.array(["10.0.0.1", "10.0.0.999"]),
            "dstaddr": pa.array(["10.0.0.2", "10.0.0.1"]),
            "dstport": pa.array([443, 22], pa.int32()),
            "start": pa.array([1600000000, 1600000000], pa.int64()),
            "end": pa.array([1600000060, 1600000060], pa.int64()),
            "flow_direction": pa.array(["ingress", "egress"]),
            "new_field": pa.array(["x", "y"]),
        }
    )
    path = tmp_path / "123456789010_vpcflowlogs_us-east-1_fl-1_20200913T1225Z_abc.log.parquet"
    pq.write_table(table, path)
    rows, stats = read(path)
    assert len(rows) == 1 and stats.unparsable == 1
    assert stats.bad_lines[0].line == 2 and "10.0.0.999" in stats.bad_lines[0].reason
    assert (rows[0]["flow_direction"], rows[0]["new_field"], rows[0]["dstport"]) == ("ingress", "x", 443)


def test_folder_layouts_and_filters(tmp_path: Path) -> None:
    def put(rel: str, *lines: str) -> None:
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(gzip.compress(("\n".join([HEADER, *lines]) + "\n").encode()))

    t = 1600000000  # 2020-09-13T12:26:40Z
    put(
        "AWSLogs/123456789010/vpcflowlogs/us-east-1/2020/09/13/123456789010_vpcflowlogs_us-east-1_fl-1_20200913T1225Z_a.log.gz",
        R1,
    )
    put(
        "AWSLogs/123456789010/vpcflowlogs/eu-west-1/2020/09/13/123456789010_vpcflowlogs_eu-west-1_fl-1_20200913T1225Z_b.log.gz",
        R2,
    )
    put(
        "AWSLogs/aws-account-id=210987654321/aws-service=vpcflowlogs/aws-region=us-east-1/year=2020/month=09/day=14/x.log.gz",
        R1.replace("123456789010", "210987654321").replace(str(t), str(t + 86400)).replace(str(t + 60), str(t + 86460)),
    )
    (tmp_path / "README.md").write_text("not a flow log\n")

    rows, stats = read(tmp_path)
    assert (stats.files, stats.records, stats.unparsable) == (3, 3, 0)
    rows, stats = read(tmp_path, filters=Filters.of(regions=["us-east-1"]))
    assert stats.files == 2 and {r["account_id"] for r in rows} == {"123456789010", "210987654321"}
    rows, stats = read(tmp_path, filters=Filters.of(accounts=["210987654321"]))
    assert stats.files == 1 and rows[0]["account_id"] == "210987654321"
    # The 14th's folder is pruned by its day; the two files of the 13th are read, then filtered on records.
    rows, stats = read(tmp_path, filters=Filters.of(start=t - 600, end=t + 600))
    assert stats.files == 2 and len(rows) == 2
    rows, stats = read(tmp_path, filters=Filters.of(interfaces=["eni-bbb"]))
    assert [r["interface_id"] for r in rows] == ["eni-bbb"] and stats.filtered == 2


def test_record_time_window_overlap(write: Any) -> None:
    path = write("f.log", f"{R1}\n{R1.replace('1600000000 1600000060', '1600001000 1600001060')}\n")
    rows, stats = read(path, filters=Filters.of(start=1600000030, end=1600000100))
    assert [r["start"] for r in rows] == [1600000000] and stats.filtered == 1


def test_bad_lines_keep_ten_samples_and_count_all(write: Any) -> None:
    lines = [R1] + [f"garbage {i}" for i in range(25)]
    rows, stats = read(write("f.log", "\n".join(lines) + "\n"))
    assert len(rows) == 1 and stats.unparsable == 25 and len(stats.bad_lines) == 10
    assert [b.line for b in stats.bad_lines] == list(range(2, 12))
