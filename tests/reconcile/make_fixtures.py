"""Writes the reconcile fixtures (fixtures/reconcile-*/): flow logs and CloudTrail told from each story.

Run it to regenerate them: `.venv/bin/python tests/reconcile/make_fixtures.py`. The output is deterministic;
the tests read the committed files, not this script. Interface ids, addresses and accounts are those of the
scenario snapshots under fixtures/.
"""

from __future__ import annotations

import gzip
import json
import shutil
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures"
AWS_EXAMPLES = Path("/work/shared/external/awsdocs-vpc-flowlog-examples/records")

DEFAULT = ("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action "
           "log-status")
V5 = (DEFAULT + " vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr region az-id sublocation-type "
      "sublocation-id pkt-src-aws-service pkt-dst-aws-service flow-direction traffic-path")
SYN, SYN_ACK = 2, 18


def at(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp())


def record(account: str, eni: str, src: str | None, dst: str | None, sport: int | None, dport: int | None,
           proto: int | None, start: int, action: str | None, *, packets: int | None = 10, size: int | None = 840,
           end: int | None = None, status: str = "OK", **extra: object) -> dict[str, Any]:
    return {"version": 2, "account-id": account, "interface-id": eni, "srcaddr": src, "dstaddr": dst,
            "srcport": sport, "dstport": dport, "protocol": proto, "packets": packets, "bytes": size,
            "start": start, "end": end if end is not None else start - start % 60 + 59, "action": action,
            "log-status": status, **extra}


def line(fields: str, rec: dict[str, Any]) -> str:
    return " ".join("-" if rec.get(f) is None else str(rec[f]) for f in fields.split())


def write_text(path: Path, fields: str, records: Iterable[dict[str, Any]], *, header: bool = True,
               extra_lines: Iterable[tuple[int, str]] = ()) -> None:
    lines = [line(fields, r) for r in records]
    for position, text in sorted(extra_lines, reverse=True):
        lines.insert(position, text)
    body = ((fields + "\n") if header else "") + "\n".join(lines) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.name.endswith(".gz"):
        path.write_bytes(gzip.compress(body.encode(), mtime=0))
    else:
        path.write_text(body)


def write_parquet(path: Path, records: list[dict[str, Any]]) -> None:
    """As S3 Parquet delivery writes them: underscored names, typed columns."""
    types = {"version": pa.int32(), "srcport": pa.int32(), "dstport": pa.int32(), "protocol": pa.int32(),
             "packets": pa.int64(), "bytes": pa.int64(), "start": pa.int64(), "end": pa.int64()}
    columns = {}
    for name in DEFAULT.split():
        columns[name.replace("-", "_")] = pa.array([r.get(name) for r in records], types.get(name, pa.string()))
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(columns), path)


def v5(rec: dict[str, Any], *, vpc: str, subnet: str, direction: str, flags: int | None,
       instance: str | None = None) -> dict[str, Any]:
    return {**rec, "version": 5, "vpc-id": vpc, "subnet-id": subnet, "instance-id": instance, "tcp-flags": flags,
            "type": "IPv4", "pkt-srcaddr": rec["srcaddr"], "pkt-dstaddr": rec["dstaddr"], "region": "us-east-1",
            "az-id": "use1-az1", "flow-direction": direction, "traffic-path": 1 if direction == "egress" else None}


def cloudtrail_record(name: str, when: str, user: str, ip: str, params: dict[str, Any], *,
                      error: str | None = None, read_only: bool = False) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "eventVersion": "1.09",
        "userIdentity": {"type": "IAMUser", "principalId": f"AIDA{user.upper()}EXAMPLE",
                         "arn": f"arn:aws:iam::123456789012:user/{user}", "accountId": "123456789012",
                         "userName": user},
        "eventTime": when, "eventSource": "ec2.amazonaws.com", "eventName": name, "awsRegion": "us-east-1",
        "sourceIPAddress": ip, "userAgent": "aws-cli/2.15.30 Python/3.11.8 Linux/6.1.0", "requestParameters": params,
        "responseElements": None if error else {"_return": True}, "readOnly": read_only,
        "eventType": "AwsApiCall", "managementEvent": True, "recipientAccountId": "123456789012",
        "eventCategory": "Management",
    }
    if error:
        rec["errorCode"] = error
        rec["errorMessage"] = "You are not authorized to perform this operation."
    return rec


# ----- seed 003: the web server whose HTTP rule was revoked -----------------------------------------------

WEB_ACCOUNT, WEB_ENI, WEB_IP = "123456789012", "eni-0a8f44391eae18254", "10.10.1.15"
WEB_CLIENTS = ("198.51.100.23", "203.0.113.50", "192.0.2.44")
REVOKE_AT = "2024-03-12T14:06:50Z"


def web_records() -> list[dict[str, Any]]:
    out = []
    revoked = at("2024-03-12T14:06:50")
    first = at("2024-03-12T13:50:00")
    for m in range(30):
        minute = first + 60 * m
        for i, client in enumerate(WEB_CLIENTS):
            start, port = minute + 5 + 20 * i, 49152 + 3 * m + i
            if start < revoked:
                out.append(record(WEB_ACCOUNT, WEB_ENI, client, WEB_IP, port, 80, 6, start, "ACCEPT"))
                out.append(record(WEB_ACCOUNT, WEB_ENI, WEB_IP, client, 80, port, 6, start + 1, "ACCEPT",
                                  packets=12, size=14620))
            else:
                out.append(record(WEB_ACCOUNT, WEB_ENI, client, WEB_IP, port, 80, 6, start, "REJECT", packets=3,
                                  size=180))
        # an admin's SSH session, open the whole time (one connection, so the same 5-tuple each minute)
        out.append(record(WEB_ACCOUNT, WEB_ENI, "203.0.113.12", WEB_IP, 50514, 22, 6, minute + 2, "ACCEPT"))
        out.append(record(WEB_ACCOUNT, WEB_ENI, WEB_IP, "203.0.113.12", 22, 50514, 6, minute + 2, "ACCEPT"))
        if m in (2, 12, 22):  # the server fetches updates over HTTPS: its responses come back on 443
            port = 33000 + m
            out.append(record(WEB_ACCOUNT, WEB_ENI, WEB_IP, "151.101.64.223", port, 443, 6, minute + 30, "ACCEPT"))
            out.append(record(WEB_ACCOUNT, WEB_ENI, "151.101.64.223", WEB_IP, 443, port, 6, minute + 30, "ACCEPT",
                              packets=40, size=52000))
        if m in (5, 25):  # a telnet scanner
            out.append(record(WEB_ACCOUNT, WEB_ENI, "45.33.32.156", WEB_IP, 61000 + m, 23, 6, minute + 40, "REJECT",
                              packets=1, size=44))
    return out


def write_web() -> None:
    folder = FIXTURES / "reconcile-web-http-revoked"
    if folder.exists():
        shutil.rmtree(folder / "flowlogs", ignore_errors=True)
        shutil.rmtree(folder / "cloudtrail", ignore_errors=True)
    records = web_records()
    prefix = folder / "flowlogs" / "AWSLogs" / WEB_ACCOUNT / "vpcflowlogs" / "us-east-1" / "2024" / "03" / "12"
    stranger = "eni-0123456789abcdef0"  # an interface the snapshot does not have
    noise = [record(WEB_ACCOUNT, stranger, "10.10.1.99", "10.10.1.15", 40000 + i, 443, 6,
                    at("2024-03-12T14:01:00") + i, "ACCEPT") for i in range(4)]
    noise.append(record(WEB_ACCOUNT, stranger, None, None, None, None, None, at("2024-03-12T14:02:00"),
                        None, packets=None, size=None, status="NODATA"))
    skipped = record(WEB_ACCOUNT, WEB_ENI, None, None, None, None, None, at("2024-03-12T14:15:00"),
                     None, packets=None, size=None, status="SKIPDATA")
    for part, (low, high) in enumerate(((0, 10), (10, 20), (20, 30))):
        lo, hi = at("2024-03-12T13:50:00") + 600 * low // 10, at("2024-03-12T13:50:00") + 600 * high // 10
        chunk = [r for r in records if lo <= int(r["start"]) < hi]
        chunk += [r for r in noise if lo <= int(r["start"]) < hi]
        if lo <= int(skipped["start"]) < hi:
            chunk.append(skipped)
        chunk.sort(key=lambda r: (r["start"], str(r["srcaddr"])))
        stamp = datetime.fromtimestamp(lo, UTC).strftime("%Y%m%dT%H%MZ")
        bad = [(7, "this line is not a flow log record"),
               (15, f"2 {WEB_ACCOUNT} {WEB_ENI} 198.51.100.23 {WEB_IP} 49999 80 6")] if part == 1 else []
        write_text(prefix / f"{WEB_ACCOUNT}_vpcflowlogs_us-east-1_fl-0c9f1e2d3a4b5c6d7_{stamp}_5e6f7a8b.log",
                   DEFAULT, chunk, extra_lines=bad)
    trail = [
        cloudtrail_record("AuthorizeSecurityGroupIngress", "2024-03-05T10:12:31Z", "bob", "198.51.100.7", {
            "groupId": "sg-04915b9bbbde6f140", "ipPermissions": {"items": [{
                "ipProtocol": "tcp", "fromPort": 80, "toPort": 80,
                "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}}]}}),
        cloudtrail_record("DescribeSecurityGroups", "2024-03-12T14:05:02Z", "alice", "203.0.113.77",
                          {"securityGroupIdSet": {}}, read_only=True),
        cloudtrail_record("RevokeSecurityGroupIngress", REVOKE_AT, "alice", "203.0.113.77", {
            "groupId": "sg-04915b9bbbde6f140",
            "securityGroupRuleIds": {"items": [{"securityGroupRuleId": "sgr-07ed9a40471de341d"}]}}),
        cloudtrail_record("RevokeSecurityGroupIngress", "2024-03-12T14:06:58Z", "mallory", "192.0.2.200", {
            "groupId": "sg-04915b9bbbde6f140", "ipPermissions": {"items": [{
                "ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}}]}},
            error="Client.UnauthorizedOperation"),
        cloudtrail_record("CreateRoute", "2024-03-12T14:31:40Z", "bob", "198.51.100.7", {
            "routeTableId": "rtb-010c0191d0d7d0579", "destinationCidrBlock": "192.168.0.0/16",
            "gatewayId": "igw-0b5375546d9097b28"}),
    ]
    path = folder / "cloudtrail" / "AWSLogs" / WEB_ACCOUNT / "CloudTrail" / "us-east-1" / "2024" / "03" / "12"
    path.mkdir(parents=True, exist_ok=True)
    payload = json.dumps({"Records": trail}, indent=1).encode()
    (path / f"{WEB_ACCOUNT}_CloudTrail_us-east-1_20240312T1435Z_Yd3kq2Ux.json.gz").write_bytes(
        gzip.compress(payload, mtime=0))


# ----- seed 002: Lambda -> RDS -------------------------------------------------------------------------

ORDERS_ACCOUNT = "123456789012"
LAMBDA = ("eni-07079bc4987533224", "10.0.1.100", "subnet-0c6cc87c5e3be0969")
ORDERS_DB = ("eni-06eda9f3bd974dd1b", "10.0.2.50", "subnet-06d5b53804363c9bb")
REPORTS_DB = ("eni-0f6ebb446a0d90200", "10.0.3.60", "subnet-057701bcd648a54b7")
ORDERS_VPC = "vpc-0c8a5f0c1a2b3c4d5"


def lambda_records(*, tagged: bool) -> list[dict[str, Any]]:
    """Ten minutes of the orders Lambda: MySQL to orders-db (3306), PostgreSQL to reports-db (5432), and from
    minute 5 a misconfigured client trying PostgreSQL on orders-db. `tagged`: v5 fields (direction, flags)."""
    out = []
    first = at("2024-05-20T09:00:00")

    def add(eni: tuple[str, str, str], src: str, dst: str, sp: int, dp: int, start: int, action: str,
            direction: str, flags: int) -> None:
        rec = record(ORDERS_ACCOUNT, eni[0], src, dst, sp, dp, 6, start, action)
        out.append(v5(rec, vpc=ORDERS_VPC, subnet=eni[2], direction=direction, flags=flags) if tagged else rec)

    for m in range(10):
        minute = first + 60 * m
        for k in range(3):
            port = 40000 + 10 * m + k
            start = minute + 3 + 15 * k
            lam, db = LAMBDA[1], ORDERS_DB[1]
            add(LAMBDA, lam, db, port, 3306, start, "ACCEPT", "egress", SYN)
            add(ORDERS_DB, lam, db, port, 3306, start, "REJECT", "ingress", SYN)
            rport, rdb = 41000 + 10 * m + k, REPORTS_DB[1]
            add(LAMBDA, lam, rdb, rport, 5432, start + 1, "ACCEPT", "egress", SYN)
            add(REPORTS_DB, lam, rdb, rport, 5432, start + 1, "ACCEPT", "ingress", SYN)
            add(REPORTS_DB, rdb, lam, 5432, rport, start + 1, "ACCEPT", "egress", SYN_ACK)
            add(LAMBDA, rdb, lam, 5432, rport, start + 1, "ACCEPT", "ingress", SYN_ACK)
            if m >= 5:
                wport = 42000 + 10 * m + k
                add(LAMBDA, lam, db, wport, 5432, start + 2, "ACCEPT", "egress", SYN)
                add(ORDERS_DB, lam, db, wport, 5432, start + 2, "REJECT", "ingress", SYN)
    return out


def write_lambda() -> None:
    plain = lambda_records(tagged=False)
    folder = FIXTURES / "reconcile-lambda-rds-nacl" / "flowlogs"
    shutil.rmtree(folder, ignore_errors=True)
    write_text(folder / f"{ORDERS_ACCOUNT}_vpcflowlogs_us-east-1_fl-01b2c3d4e5f6a7b8c_20240520T0900Z_0a1b2c3d.log.gz",
               DEFAULT, plain)

    folder = FIXTURES / "reconcile-lambda-rds-sg" / "flowlogs"
    shutil.rmtree(folder, ignore_errors=True)
    write_text(folder / f"{ORDERS_ACCOUNT}_vpcflowlogs_us-east-1_fl-01b2c3d4e5f6a7b8c_20240520T0900Z_1b2c3d4e.log",
               V5, lambda_records(tagged=True))

    # the same traffic as reconcile-lambda-rds-nacl, in every format AWS delivers
    folder = FIXTURES / "reconcile-mixed-formats" / "flowlogs"
    shutil.rmtree(folder, ignore_errors=True)
    tagged = lambda_records(tagged=True)
    by_minute = [[r for r in recs if (int(r["start"]) - at("2024-05-20T09:00:00")) // 60 in minutes]
                 for recs, minutes in ((plain, (0, 1, 2)), (tagged, (3, 4, 5)), (plain, (6, 7)), (plain, (8, 9)))]
    write_text(folder / "cloudwatch-export-default.log", DEFAULT, by_minute[0], header=False)
    write_text(folder / "s3-custom-v5.log", V5, by_minute[1])
    write_text(folder / "s3-default.log.gz", DEFAULT, by_minute[2])
    write_parquet(folder / "s3-default.log.parquet", by_minute[3])


# ----- the AWS ping example: the NACL drops the echo reply ---------------------------------------------

LAB_ACCOUNT, LAB_ENI, LAB_IP = "123456789010", "eni-1235b8ca123456789", "172.31.16.139"


def write_icmp() -> None:
    folder = FIXTURES / "reconcile-icmp-nacl-reply" / "flowlogs"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    shutil.copy(AWS_EXAMPLES / "flow-log-example-security-groups.log", folder / "aws-docs-ping-example.log")
    first = 1432917000
    more = []
    for m in range(5):
        minute = first + 60 * m
        more.append(record(LAB_ACCOUNT, LAB_ENI, "203.0.113.12", LAB_IP, 50514, 22, 6, minute + 1, "ACCEPT"))
        more.append(record(LAB_ACCOUNT, LAB_ENI, LAB_IP, "203.0.113.12", 22, 50514, 6, minute + 1, "ACCEPT"))
        more.append(record(LAB_ACCOUNT, LAB_ENI, "198.51.100.99", LAB_IP, 51000 + m, 22, 6, minute + 9, "REJECT",
                           packets=2, size=120))
    more.append(record(LAB_ACCOUNT, LAB_ENI, LAB_IP, "52.94.236.248", 38844, 443, 6, first + 130, "ACCEPT"))
    more.append(record(LAB_ACCOUNT, LAB_ENI, "52.94.236.248", LAB_IP, 443, 38844, 6, first + 130, "ACCEPT"))
    name = f"{LAB_ACCOUNT}_vpcflowlogs_us-east-1_fl-0aa11bb22cc33dd44_20150529T1630Z_9f8e7d6c.log.parquet"
    write_parquet(folder / name, more)


if __name__ == "__main__":
    write_web()
    write_lambda()
    write_icmp()
