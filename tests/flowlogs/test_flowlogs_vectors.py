"""Real vectors: AWS's documented records, and the Elastic, OpenTelemetry, OpenSearch and flowlogs-reader
fixtures with their expected parses. Where an upstream expectation is itself wrong, the test says so and
asserts what reach does instead."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from flowlogs_support import (
    AWSDOCS,
    BEATS,
    EXTERNAL,
    INTEGRATIONS,
    OTEL,
    TGW_DEFAULT,
    V5_ALL,
    V7_ALL,
    V8_ALL,
    present,
    read,
)

from reach.errors import FlowLogError


def iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ----- AWS documentation examples -----------------------------------------------------------------


def test_accepted_and_rejected() -> None:
    rows, stats = read(AWSDOCS / "flow-log-example-accepted-rejected.log")
    assert stats.headers == 1 and stats.unparsable == 0
    assert rows == [
        {
            **{k: None for k in rows[0]},
            "version": 2,
            "account_id": "123456789010",
            "interface_id": "eni-1235b8ca123456789",
            "srcaddr": "172.31.16.139",
            "dstaddr": "172.31.16.21",
            "srcport": 20641,
            "dstport": 22,
            "protocol": 6,
            "packets": 20,
            "bytes": 4249,
            "start": 1418530010,
            "end": 1418530070,
            "action": "ACCEPT",
            "log_status": "OK",
        },
        {
            **{k: None for k in rows[0]},
            "version": 2,
            "account_id": "123456789010",
            "interface_id": "eni-1235b8ca123456789",
            "srcaddr": "172.31.9.69",
            "dstaddr": "172.31.9.12",
            "srcport": 49761,
            "dstport": 3389,
            "protocol": 6,
            "packets": 20,
            "bytes": 4249,
            "start": 1418530010,
            "end": 1418530070,
            "action": "REJECT",
            "log_status": "OK",
        },
    ]


def test_nodata_and_skipdata_carry_only_interface_times_and_status() -> None:
    rows, stats = read(AWSDOCS / "flow-log-example-no-data.log")
    assert (stats.records, stats.nodata, stats.skipdata) == (2, 1, 1)
    base = {"version": 2, "account_id": "123456789010", "start": 1431280876, "end": 1431280934}
    assert [present(r) for r in rows] == [
        {**base, "interface_id": "eni-1235b8ca123456789", "log_status": "NODATA"},
        {**base, "interface_id": "eni-11111111aaaaaaaaa", "log_status": "SKIPDATA"},
    ]


def test_security_group_ping_pair() -> None:
    rows, _ = read(AWSDOCS / "flow-log-example-security-groups.log")
    assert [(r["srcaddr"], r["dstaddr"], r["srcport"], r["dstport"], r["protocol"], r["action"]) for r in rows] == [
        ("203.0.113.12", "172.31.16.139", 0, 0, 1, "ACCEPT"),
        ("172.31.16.139", "203.0.113.12", 0, 0, 1, "REJECT"),
    ]
    assert [(r["packets"], r["bytes"], r["start"], r["end"]) for r in rows] == [
        (4, 336, 1432917027, 1432917142),
        (4, 336, 1432917094, 1432917142),
    ]


def test_ipv6() -> None:
    (row,), _ = read(AWSDOCS / "flow-log-example-ipv6.log")
    assert row["srcaddr"] == "2001:db8:1234:a100:8d6e:3477:df66:f105"
    assert row["dstaddr"] == "2001:db8:1234:a102:3304:8879:34cf:4071"
    assert (row["srcport"], row["dstport"], row["packets"], row["bytes"]) == (34892, 22, 54, 8855)


def test_tcp_flag_sequence_custom_order_and_double_space() -> None:
    rows, stats = read(AWSDOCS / "flow-log-example-tcp-flag.log")
    assert stats.unparsable == 0 and len(rows) == 8
    first = rows[0]
    # This custom format puts bytes before packets: the header, not the position, decides.
    assert (first["bytes"], first["packets"]) == (568, 8)
    assert (first["vpc_id"], first["subnet_id"], first["instance_id"], first["type"]) == (
        "vpc-abcdefab012345678",
        "subnet-aaaaaaaa012345678",
        "i-01234567890123456",
        "IPv4",
    )
    assert [r["tcp_flags"] for r in rows] == [2, 18, 2, 18, 1, 1, 3, 19]
    # The last record has a double space in AWS's own text ("43638  10.0.0.62").
    last = rows[-1]
    assert (last["srcport"], last["dstport"], last["pkt_srcaddr"], last["bytes"], last["packets"]) == (
        5001,
        43638,
        "10.0.0.62",
        967,
        14,
    )


def test_nat_gateway_and_the_docs_comment_lines() -> None:
    rows, stats = read(AWSDOCS / "flow-log-example-nat.log")
    assert len(rows) == 4
    assert all(r["instance_id"] is None for r in rows)  # requester-managed NAT ENI: "-"
    assert (rows[0]["dstaddr"], rows[0]["pkt_dstaddr"]) == ("10.0.0.220", "203.0.113.5")
    assert (rows[3]["srcaddr"], rows[3]["pkt_srcaddr"]) == ("10.0.0.220", "203.0.113.5")
    # The instance-ENI lines end with "#Traffic from …" comments: documentation text AWS never emits. reach
    # does not guess at comments; those two lines have too many fields and are counted with file and line.
    assert stats.unparsable == 2
    assert [(Path(b.source).name, b.line) for b in stats.bad_lines] == [
        ("flow-log-example-nat.log", 6),
        ("flow-log-example-nat.log", 7),
    ]
    assert "16 fields where the format has 6" in stats.bad_lines[0].reason


def test_transit_gateway() -> None:
    rows, _ = read(AWSDOCS / "flow-log-example-tgw.log")
    assert [r["interface_id"][-3:] for r in rows] == ["333", "333", "111", "222"]
    assert [r["instance_id"] for r in rows] == ["i-01234567890123456", "i-01234567890123456", None, None]
    assert [r["tcp_flags"] for r in rows] == [3, 19, 3, 19]
    assert (rows[2]["srcaddr"], rows[2]["pkt_srcaddr"]) == ("10.40.1.175", "10.20.33.164")
    assert (rows[3]["dstaddr"], rows[3]["pkt_dstaddr"]) == ("10.40.2.31", "10.20.33.164")


def test_service_name_traffic_path_flow_direction() -> None:
    ingress, egress = read(AWSDOCS / "flow-log-example-traffic-path.log")[0]
    assert (ingress["version"], ingress["flow_direction"], ingress["traffic_path"]) == (5, "ingress", None)
    assert (egress["flow_direction"], egress["traffic_path"]) == ("egress", 8)
    assert (ingress["pkt_src_aws_service"], ingress["pkt_dst_aws_service"]) == ("S3", None)
    assert (egress["pkt_src_aws_service"], egress["pkt_dst_aws_service"]) == (None, "S3")
    assert (ingress["region"], ingress["az_id"]) == ("ap-southeast-2", "apse2-az3")
    assert ingress["sublocation_type"] is None and ingress["sublocation_id"] is None
    assert (ingress["tcp_flags"], egress["tcp_flags"]) == (19, 3)
    assert (ingress["packets"], ingress["bytes"], egress["packets"], egress["bytes"]) == (14, 15044, 7, 471)


def test_every_documented_record_is_read() -> None:
    rows, stats = read(AWSDOCS)
    assert stats.files == 8 and stats.headers == 8
    assert stats.records == 25 and stats.unparsable == 2  # 27 record lines, two with doc comments


# ----- Elastic Beats processor vectors ------------------------------------------------------------

BEATS_CASES = yaml.safe_load((BEATS / "processors/aws_vpcflow/testdata/aws-vpc-flow-logs.yml").read_text())


def _beats_case(name: str, write: Any) -> tuple[list[dict[str, Any]], Any]:
    case = BEATS_CASES[name]
    path = write(f"{name}.log", "\n".join(case["samples"]) + "\n")
    return read(path, log_format=case["format"])


def _assert_original_golden(row: dict[str, Any], golden_file: str) -> None:
    (expected,) = json.loads((BEATS / "processors/aws_vpcflow/testdata" / golden_file).read_text())
    for key, value in expected["aws"]["vpcflow"].items():
        if key == "tcp_flags_array":
            continue
        got = row[key]
        if key in ("start", "end"):
            got = iso(got)
        assert got == value, key
    # Elastic drops "-" values; reach keeps them as nulls: every other field is null.
    named = set(expected["aws"]["vpcflow"]) - {"tcp_flags_array"}
    assert all(v is None for k, v in row.items() if k not in named), present(row)


@pytest.mark.parametrize(
    "name,count,unparsable",
    [
        ("default-v2-format", 7, 0),
        ("tcp-flag-sequence", 8, 0),
        # The two "#comment" tails copied from the AWS docs are YAML comments in this file, so these samples
        # arrive clean (compare test_nat_gateway_and_the_docs_comment_lines, where they are kept).
        ("custom-nat-gateway", 6, 0),
        ("transit-gateway", 4, 0),
        ("service-name-path-direction", 2, 0),
        ("v5-fields-original", 1, 0),
        ("v6-fields-original", 1, 0),
        ("v7-fields-original", 1, 0),
    ],
)
def test_beats_cases(name: str, count: int, unparsable: int, write: Any) -> None:
    rows, stats = _beats_case(name, write)
    assert (len(rows), stats.unparsable) == (count, unparsable)


def test_beats_default_v2_golden(write: Any) -> None:
    rows, _ = _beats_case("default-v2-format", write)
    golden = json.loads((BEATS / "processors/aws_vpcflow/testdata/default-v2-format.golden.json").read_text())
    assert len(golden) == len(rows)
    for row, exp in zip(rows, golden, strict=True):
        assert row["interface_id"] == exp["aws"]["vpcflow"]["interface_id"]
        assert row["log_status"] == exp["aws"]["vpcflow"]["log_status"]
        assert row["account_id"] == exp["cloud"]["account"]["id"]
        assert (iso(row["start"]), iso(row["end"])) == (exp["event"]["start"], exp["event"]["end"])
        if "source" in exp:
            assert (row["srcaddr"], row["srcport"]) == (exp["source"]["ip"], exp["source"]["port"])
            assert (row["dstaddr"], row["dstport"]) == (exp["destination"]["ip"], exp["destination"]["port"])
            assert (row["bytes"], row["packets"]) == (exp["network"]["bytes"], exp["network"]["packets"])
            assert row["protocol"] == int(exp["network"]["iana_number"])
            assert row["action"].lower() == exp["event"]["action"]
        else:
            assert row["srcaddr"] is None and row["action"] is None


def test_beats_v5_golden(write: Any) -> None:
    (row,), _ = _beats_case("v5-fields-original", write)
    _assert_original_golden(row, "v5-fields-original.golden.json")


def test_beats_v6_transit_gateway_golden_double_spaces_and_cyrillic(write: Any) -> None:
    (row,), _ = _beats_case("v6-fields-original", write)
    _assert_original_golden(row, "v6-fields-original.golden.json")
    assert row["tgw_src_subnet_id"] == "subnet-3fbc536e360c36caб"
    assert (row["packets_lost_no_route"], row["packets_lost_mtu_exceeded"]) == (1, 2)


def test_beats_v7_ecs_golden(write: Any) -> None:
    (row,), _ = _beats_case("v7-fields-original", write)
    _assert_original_golden(row, "v7-fields-original.golden.json")


def test_beats_module_bad_line_is_counted_not_kept() -> None:
    # Elastic keeps "Phony unsupported log format." as an event with no fields (bad.log-expected.json);
    # reach counts it as unparsable and shows it with its line number.
    # reach says the file is not flow logs at all (its one line is no record), naming the line.
    with pytest.raises(FlowLogError, match=r"bad.log: not flow logs: none of its 1 line is a flow-log record") as e:
        read(BEATS / "module/aws/vpcflow/test/bad.log")
    assert "bad.log:1: 4 fields where the format has 14\n      Phony unsupported log format." in str(e.value)


def test_beats_module_header_blank_line_header_again() -> None:
    rows, stats = read(BEATS / "module/aws/vpcflow/test/tcp-flag-sequence-skip-data.log")
    assert [r["log_status"] for r in rows] == ["SKIPDATA", "NODATA"]
    assert (stats.headers, stats.unparsable) == (2, 0)
    assert rows[0]["srcaddr"] is None and rows[0]["tcp_flags"] is None


# ----- Elastic integrations pipeline vectors ------------------------------------------------------


def test_integrations_header_repeated_before_every_record() -> None:
    rows, stats = read(INTEGRATIONS / "test-tcp-flag-sequence.log")
    assert (stats.headers, stats.records, stats.unparsable) == (3, 3, 0)
    expected = json.loads((INTEGRATIONS / "test-tcp-flag-sequence.log-expected.json").read_text())["expected"]
    assert [r["log_status"] for r in rows] == ["OK", "SKIPDATA", "NODATA"]
    assert (rows[0]["srcaddr"], rows[0]["srcport"], rows[0]["bytes"]) == (
        expected[0]["source"]["ip"],
        expected[0]["source"]["port"],
        expected[0]["source"]["bytes"],
    )


def test_integrations_no_trailing_newline() -> None:
    rows, stats = read(INTEGRATIONS / "test-extra-samples.log")
    assert len(rows) == 7 and stats.unparsable == 0
    assert rows[-1]["log_status"] == "OK" and rows[-1]["action"] == "REJECT"


def test_integrations_v5_malformed_start_is_unparsable() -> None:
    # Elastic's expected output renders start = 164000066 (9 digits) as 1975-03-14 without complaint. A flow
    # log cannot start in 1975, 46 years before it ends: reach counts the record as unparsable.
    # Its only record being unparsable, the file is no flow log at all: an error that names the line.
    with pytest.raises(FlowLogError, match="test-v5-all-fields.log:1: impossible time: start 164000066"):
        read(INTEGRATIONS / "test-v5-all-fields.log", log_format=V5_ALL)


def test_integrations_v8_reject_reason_and_dash_everywhere() -> None:
    (row,), _ = read(INTEGRATIONS / "test-v8-samples.log", log_format=V8_ALL)
    assert row["reject_reason"] == "BPA"
    assert row["version"] == 3  # says 3 while carrying v7 and v8 fields: version is not the layout
    # Elastic leaks the literal "-" into cloud.region and cloud.availability_zone; here "-" is always null.
    assert row["region"] is None and row["az_id"] is None and row["interface_id"] is None
    assert (row["ecs_container_id"], row["ecs_second_container_id"], row["ecs_task_id"]) == (
        "601a6500-efa",
        "dea79277-480",
        "e504f037-35c",
    )
    assert (row["srcaddr"], row["dstaddr"]) == ("2a02:cf40::", "1.128.0.0")
    assert (row["action"], row["log_status"]) == ("REJECT", "NODATA")


def test_integrations_ecs_samples() -> None:
    rows, stats = read(INTEGRATIONS / "test-ecs-samples.log", log_format=V7_ALL)
    assert (len(rows), stats.unparsable, stats.nodata, stats.skipdata) == (10, 0, 4, 2)
    assert all(r["interface_id"] is None and r["account_id"] == "000000000000" for r in rows)
    assert (rows[0]["srcaddr"], rows[0]["dstaddr"]) == ("1.128.0.0", "2a02:cf40::")
    assert rows[0]["ecs_service_name"] == "payments-service"


def test_integrations_tgw_samples() -> None:
    rows, stats = read(INTEGRATIONS / "test-tgw-samples.log", log_format=TGW_DEFAULT)
    assert (len(rows), stats.unparsable) == (10, 0)
    assert rows[0]["account_id"] == "748335378900" and rows[0]["tgw_attachment_id"] == "tgw-attach-0789ijkl"
    assert rows[0]["log_status"] == "SKIPDATA" and rows[0]["srcaddr"] == "1.128.0.0"


def test_integrations_message_envelope() -> None:
    (row,), _ = read(INTEGRATIONS / "test-with-message-field.log")
    exp = json.loads((INTEGRATIONS / "test-with-message-field.log-expected.json").read_text())["expected"][0]
    vpc = exp["aws"]["vpcflow"]
    assert (row["account_id"], row["interface_id"], row["log_status"], str(row["version"])) == (
        vpc["account_id"],
        vpc["interface_id"],
        vpc["log_status"],
        vpc["version"],
    )
    assert iso(row["start"]) == exp["event"]["start"].replace(".000", "")


# ----- OpenTelemetry vectors ----------------------------------------------------------------------


def test_otel_s3_text_files() -> None:
    (nodata,), _ = read(OTEL / "valid_vpc_flow_log.log")
    assert nodata["account_id"] == "12345678910"  # 11 digits: kept as the string it is
    assert nodata["log_status"] == "NODATA"
    multi, stats = read(OTEL / "valid_vpc_flow_log_multi.log")  # no trailing newline
    assert [r["action"] for r in multi] == ["ACCEPT", "REJECT"] and stats.unparsable == 0
    (ecs,), _ = read(OTEL / "valid_vpc_flow_log_ecs.log")
    assert (ecs["version"], ecs["ecs_cluster_name"], ecs["ecs_second_container_id"]) == (
        5,
        "my-cluster",
        "container-2",
    )


def test_otel_transit_gateway_file_typed_extras() -> None:
    stream_rows, stats = read(OTEL / "valid_tgw_flow_log.log")
    (row,) = stream_rows
    assert row["version"] == 6 and row["interface_id"] is None
    assert [row[f"packets_lost_{k}"] for k in ("no_route", "blackhole", "mtu_exceeded", "ttl_expired")] == [
        1,
        2,
        3,
        4,
    ]
    assert row["tgw_src_eni"] == "eni-0abc12345def67890"


def test_otel_field_count_mismatches_are_unparsable() -> None:
    # One OTel version (matching vpc_flow_log_too_few_fields_expected.yaml) accepts the 13-token record and
    # emits the fields present; the record lacks log-status, so reach rejects it rather than half-parse it.
    # Each file's only record is unparsable, so each file is an error naming that line.
    with pytest.raises(FlowLogError, match="too_few_fields.log:2: 13 fields where the format has 14"):
        read(OTEL / "vpc_flow_log_too_few_fields.log")
    with pytest.raises(FlowLogError, match="too_many_fields.log:2: 15 fields where the format has 14"):
        read(OTEL / "vpc_flow_log_too_many_fields.log")


def test_otel_cloudwatch_subscription_payloads() -> None:
    rows, _ = read(OTEL / "valid_vpc_flow_cw.json")
    assert [(r["srcaddr"], r["dstport"], r["action"]) for r in rows] == [
        ("172.31.16.139", 22, "ACCEPT"),
        ("172.31.9.69", 3389, "REJECT"),
    ]
    # No format in the payload: without one, the default format does not fit the 4-token records.
    with pytest.raises(FlowLogError, match="none of its 2 lines is a flow-log record"):
        read(OTEL / "valid_vpc_flow_cw_custom.json")
    rows, stats = read(
        OTEL / "valid_vpc_flow_cw_custom.json", log_format="${version} ${interface-id} ${srcaddr} ${dstaddr}"
    )
    assert [present(r) for r in rows] == [
        {
            "version": 2,
            "interface_id": "eni-1235b8ca123456789",
            "srcaddr": "172.31.16.139",
            "dstaddr": "172.31.16.21",
        },
        {
            "version": 2,
            "interface_id": "eni-1235b8ca123456789",
            "srcaddr": "172.31.9.69",
            "dstaddr": "172.31.9.12",
        },
    ]


def test_otel_tgw_cloudwatch_payload() -> None:
    # SOURCE.md says 26 tokens; the message has 27 (version through region), matching this format.
    fmt = (
        "version account-id tgw-id tgw-attachment-id tgw-src-vpc-id tgw-dst-vpc-id tgw-src-subnet-id "
        "tgw-dst-subnet-id tgw-src-eni tgw-dst-eni tgw-src-az-id tgw-dst-az-id tgw-pair-attachment-id "
        "srcaddr dstaddr srcport dstport protocol packets bytes start end log-status type tcp-flags "
        "flow-direction region"
    )
    (row,), stats = read(OTEL / "valid_tgw_flow_cw.json", log_format=fmt)
    assert (row["tgw_id"], row["dstport"], row["flow_direction"], row["region"]) == (
        "tgw-0abc12345def67890",
        443,
        "ingress",
        "us-east-1",
    )


# ----- OpenSearch and flowlogs-reader -------------------------------------------------------------


def test_opensearch_raw_log() -> None:
    rows, stats = read(EXTERNAL / "opensearch/integrations/observability/aws_vpc_flow/data/raw.log")
    assert (stats.records, stats.nodata, stats.unparsable) == (775, 404, 0)
    assert sum(r["action"] == "ACCEPT" for r in rows) == 371
    assert not any(r["action"] == "REJECT" for r in rows)
    assert len({r["interface_id"] for r in rows}) == 6
    assert {r["account_id"] for r in rows} == {"347283850106"}


def test_flowlogs_reader_parquet() -> None:
    rows, stats = read(EXTERNAL / "flowlogs-reader/tests/data/flows.parquet")
    assert stats.unparsable == 1 and len(rows) == 2
    first, second = rows
    assert present(first) == {
        "version": 2,
        "account_id": "123456789010",
        "interface_id": "eni-102010ab",
        "srcaddr": "198.51.100.1",
        "dstaddr": "192.0.2.1",
        "srcport": 443,
        "dstport": 49152,
        "protocol": 6,
        "packets": 10,
        "bytes": 840,
        "start": 1439387263,  # 2015-08-12 13:47:43 UTC
        "end": 1439387264,
        "action": "ACCEPT",
        "log_status": "OK",
    }
    assert present(second) == {
        "version": 2,
        "account_id": "123456789010",
        "interface_id": "eni-202010ab",
        "start": 1439387263,
        "end": 1439387264,
        "log_status": "NODATA",
    }
    # protocol 8080 is not an IP protocol number (0-255): the third row is unparsable, named by its row.
    (bad,) = stats.bad_lines
    assert (bad.line, bad.reason) == (3, "protocol 8080 is out of range (0-255)")
