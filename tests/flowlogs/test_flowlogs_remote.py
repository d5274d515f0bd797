"""S3 and CloudWatch Logs through a real moto server on localhost (boto3 itself is not mocked)."""

from __future__ import annotations

import gzip
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from flowlogs_support import EXTERNAL, read
from moto.server import ThreadedMotoServer

from reach.errors import FlowLogError
from reach.flowlogs import Filters

HEADER = (
    "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"
)
T0 = 1600000000  # 2020-09-13T12:26:40Z
# CloudWatch Logs refuses events older than 14 days, so its records are stamped an hour ago.
NOW = (int(time.time()) - 3600) // 60 * 60


def record(eni: str, i: int, action: str = "ACCEPT", start: int = T0) -> str:
    src = f"10.0.0.{i % 250}"
    return f"2 123456789010 {eni} {src} 10.0.1.7 {40000 + i} 443 6 3 180 {start} {start + 60} {action} OK"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def client(service: str, endpoint: str) -> Any:
    return boto3.client(
        service,  # type: ignore[call-overload]
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture(scope="module")
def s3(endpoint: str) -> Any:
    s3 = client("s3", endpoint)
    s3.create_bucket(Bucket="flows")
    prefix = "AWSLogs/123456789010/vpcflowlogs"
    for region in ("us-east-1", "eu-west-1"):
        for k in range(3):
            stamp = f"20200913T12{20 + 5 * k}Z"
            key = f"{prefix}/{region}/2020/09/13/123456789010_vpcflowlogs_{region}_fl-1_{stamp}_h{k}.log.gz"
            body = "\n".join([HEADER, *(record(f"eni-{region[:2]}{k}", i) for i in range(4))]) + "\n"
            s3.put_object(Bucket="flows", Key=key, Body=gzip.compress(body.encode()))
    s3.put_object(
        Bucket="flows",
        Key=f"{prefix}/us-east-1/2020/09/13/123456789010_vpcflowlogs_us-east-1_fl-2_20200913T1230Z_p.log.parquet",
        Body=(EXTERNAL / "flowlogs-reader/tests/data/flows.parquet").read_bytes(),
    )
    s3.put_object(Bucket="flows", Key="plain/one.log", Body=(HEADER + "\n" + record("eni-p", 1) + "\n").encode())
    s3.put_object(Bucket="flows", Key="plain/README.md", Body=b"not a flow log\n")
    return s3


@pytest.fixture(scope="module")
def logs(endpoint: str) -> Any:
    logs = client("logs", endpoint)
    logs.create_log_group(logGroupName="/aws/vpc/flowlogs")
    for eni in ("eni-aaa", "eni-bbb"):
        logs.create_log_stream(logGroupName="/aws/vpc/flowlogs", logStreamName=f"{eni}-all")
        events = [{"timestamp": (NOW + 60 * i) * 1000, "message": record(eni, i, start=NOW + 60 * i)} for i in range(7)]
        events.append({"timestamp": (NOW + 600) * 1000, "message": "this is not a record"})
        logs.put_log_events(logGroupName="/aws/vpc/flowlogs", logStreamName=f"{eni}-all", logEvents=events)
    return logs


def test_s3_prefix_paginated_gzip_and_parquet(s3: Any) -> None:
    rows, stats = read(["s3://flows/AWSLogs/"], s3_client=s3, page_size=2)
    assert stats.files == 7  # six .log.gz and one .log.parquet, listed two keys per page
    # flowlogs-reader's third Parquet record has protocol 8080, outside IANA's 0-255: unparsable, with its row.
    assert stats.records == 6 * 4 + 2 and stats.unparsable == 1
    assert (stats.bad_lines[0].line, stats.bad_lines[0].reason) == (3, "protocol 8080 is out of range (0-255)")
    assert {r["interface_id"] for r in rows} >= {"eni-us0", "eni-eu2", "eni-102010ab"}


def test_s3_filters_prune_keys_by_layout(s3: Any) -> None:
    _, stats = read(["s3://flows/AWSLogs/"], s3_client=s3, filters=Filters.of(regions=["eu-west-1"]))
    assert (stats.files, stats.records) == (3, 12)
    _, stats = read(["s3://flows/AWSLogs"], s3_client=s3, filters=Filters.of(accounts=["999999999999"]))
    assert (stats.files, stats.records) == (0, 0)
    _, stats = read(["s3://flows"], s3_client=s3, filters=Filters.of(start=T0 + 30 * 86400))
    assert stats.files == 1  # only plain/one.log, whose name says nothing about time


def test_s3_plain_object_and_non_log_keys(s3: Any) -> None:
    rows, stats = read(["s3://flows/plain/"], s3_client=s3)
    assert stats.files == 1 and [r["interface_id"] for r in rows] == ["eni-p"]


def test_s3_missing_bucket_and_empty_prefix(s3: Any) -> None:
    with pytest.raises(FlowLogError, match="s3://no-such-bucket/x: no such bucket"):
        read(["s3://no-such-bucket/x"], s3_client=s3)
    with pytest.raises(FlowLogError, match="s3://flows/nothing/: no objects"):
        read(["s3://flows/nothing/"], s3_client=s3)


def test_cloudwatch_group_paginated(logs: Any) -> None:
    rows, stats = read(["cloudwatch:///aws/vpc/flowlogs"], logs_client=logs, page_size=3)
    assert stats.records == 14 and stats.unparsable == 2
    assert {r["interface_id"] for r in rows} == {"eni-aaa", "eni-bbb"}
    assert stats.bad_lines[0].source == "cloudwatch:///aws/vpc/flowlogs"
    assert stats.bad_lines[0].text == "this is not a record"


def test_cloudwatch_interface_and_time_window(logs: Any) -> None:
    window = Filters.of(interfaces=["eni-bbb"], start=NOW + 100, end=NOW + 250)
    rows, stats = read(["cloudwatch:///aws/vpc/flowlogs"], logs_client=logs, filters=window)
    assert {r["interface_id"] for r in rows} == {"eni-bbb"}
    assert sorted(r["start"] for r in rows) == [NOW + 60, NOW + 120, NOW + 180, NOW + 240]


def test_cloudwatch_missing_group(logs: Any) -> None:
    with pytest.raises(FlowLogError, match="cloudwatch://nope: no such log group"):
        read(["cloudwatch://nope"], logs_client=logs)


# ----- the AWS CLI's --profile and --region ----------------------------------------------------------


@pytest.fixture()
def aws_home(endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An AWS configuration with a profile `ireland` (region eu-west-1), every client pointed at moto."""
    config = tmp_path / "config"
    config.write_text("[default]\nregion = us-east-1\n\n[profile ireland]\nregion = eu-west-1\n")
    credentials = tmp_path / "credentials"
    credentials.write_text(
        "[default]\naws_access_key_id = testing\naws_secret_access_key = testing\n\n"
        "[ireland]\naws_access_key_id = testing\naws_secret_access_key = testing\n"
    )
    for name in (
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    group = "/aws/vpc/dublin"
    logs = client("logs", endpoint)
    irish = boto3.client(
        "logs",  # type: ignore[call-overload]
        endpoint_url=endpoint,
        region_name="eu-west-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    if irish.describe_log_groups(logGroupNamePrefix=group)["logGroups"]:
        return tmp_path  # the moto server lives for the module: made by an earlier test
    for c in (logs, irish):
        c.create_log_group(logGroupName=group)
        c.create_log_stream(logGroupName=group, logStreamName="eni-ie")
    irish.put_log_events(
        logGroupName=group,
        logStreamName="eni-ie",
        logEvents=[{"timestamp": NOW * 1000, "message": record("eni-ie", 1, start=NOW)}],
    )
    return tmp_path


def test_region_chooses_where_cloudwatch_is_read(aws_home: Path) -> None:
    rows, _ = read(["cloudwatch:///aws/vpc/dublin"], region="eu-west-1")
    assert [r["interface_id"] for r in rows] == ["eni-ie"]
    # The group of the same name in us-east-1 (the default profile's region) holds nothing.
    rows, stats = read(["cloudwatch:///aws/vpc/dublin"])
    assert rows == [] and stats.files == 1


def test_profile_chooses_credentials_and_region(aws_home: Path) -> None:
    rows, _ = read(["cloudwatch:///aws/vpc/dublin"], profile="ireland")
    assert [r["interface_id"] for r in rows] == ["eni-ie"]
    # An explicit region wins over the profile's, as with the AWS CLI.
    rows, _ = read(["cloudwatch:///aws/vpc/dublin"], profile="ireland", region="us-east-1")
    assert rows == []


def test_a_session_is_used_as_given(aws_home: Path) -> None:
    session = boto3.Session(profile_name="ireland")
    rows, _ = read(["cloudwatch:///aws/vpc/dublin"], session=session)
    assert [r["interface_id"] for r in rows] == ["eni-ie"]


def test_an_unknown_profile_is_an_error_naming_it(aws_home: Path) -> None:
    with pytest.raises(FlowLogError, match="AWS profile 'nope' not found"):
        read(["s3://flows/plain/"], profile="nope")
