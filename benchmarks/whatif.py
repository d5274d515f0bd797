"""What-if benchmark: one security-group change against a 2,000-interface snapshot and 5 M observed records.

The snapshot is one VPC of 40 subnets and 100 security groups; each interface carries one or two groups,
each group admits one or two service ports from the VPC or from another group. The records are what flow
logs on both ends write for ~20,000 distinct connections between those interfaces (request and response, on
the client's and the server's interface, in many aggregation windows), in S3's Parquet delivery format and,
for comparison, in the default text format. The change revokes one ingress rule of the group that the most
interfaces carry. Generated once under benchmarks/.data/whatif/ (gitignored).

Prints the end-to-end seconds of `reach whatif CHANGE --snapshot DIR --flow-logs FILE` (a fresh process,
snapshot cache warm) and, in-process, the breakdown: load, apply and recompile, read and group the records
in DuckDB, re-explain the connections in scope, before and after.

    python benchmarks/whatif.py [--records 5000000] [--interfaces 2000] [--regenerate] [--text]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

DATA = Path(__file__).resolve().parent / ".data" / "whatif"
ACCOUNT = "123456789012"
VPC = "vpc-0bench00000000001"
SUBNETS = 40
GROUPS = 100
SERVICES = [22, 80, 443, 3306, 5432, 6379, 8080, 9092]
CONNECTIONS = 20_000
T0 = 1718870400


def _ip(index: int) -> str:
    return f"10.0.{index % SUBNETS}.{4 + index // SUBNETS}"


def build_snapshot(folder: Path, interfaces: int, rng: np.random.Generator) -> dict[int, set[int]]:
    """describe-* JSON; returns, per interface, the ports its groups admit from the VPC."""
    data: dict[str, list[dict[str, object]]] = {
        k: [] for k in ("Vpcs", "Subnets", "RouteTables", "SecurityGroups", "NetworkAcls", "NetworkInterfaces")
    }
    data["Vpcs"].append({"VpcId": VPC, "OwnerId": ACCOUNT, "CidrBlock": "10.0.0.0/16"})
    data["RouteTables"].append(
        {
            "RouteTableId": "rtb-0bench",
            "VpcId": VPC,
            "Associations": [{"Main": True}],
            "Routes": [{"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local"}],
        }
    )
    subnets = [f"subnet-{i:017x}" for i in range(SUBNETS)]
    data["Subnets"] = [{"SubnetId": s, "VpcId": VPC, "CidrBlock": f"10.0.{i}.0/24"} for i, s in enumerate(subnets)]
    allow_all = [
        {"RuleNumber": 100, "Protocol": "-1", "RuleAction": "allow", "Egress": e, "CidrBlock": "0.0.0.0/0"}
        for e in (False, True)
    ]
    data["NetworkAcls"].append(
        {
            "NetworkAclId": "acl-0bench",
            "VpcId": VPC,
            "IsDefault": True,
            "Entries": allow_all,
            "Associations": [{"SubnetId": s} for s in subnets],
        }
    )
    groups = [f"sg-{i:017x}" for i in range(GROUPS)]
    ports: dict[str, set[int]] = {}
    for i, group in enumerate(groups):
        ingress = []
        ports[group] = set()
        for port in rng.choice(SERVICES, size=int(rng.integers(1, 3)), replace=False):
            ports[group].add(int(port))
            peer = (
                {"IpRanges": [{"CidrIp": "10.0.0.0/16"}]}
                if rng.random() < 0.7
                else {"UserIdGroupPairs": [{"GroupId": groups[int(rng.integers(GROUPS))]}]}
            )
            ingress.append({"IpProtocol": "tcp", "FromPort": int(port), "ToPort": int(port), **peer})
        data["SecurityGroups"].append(
            {
                "GroupId": group,
                "GroupName": f"g{i}",
                "VpcId": VPC,
                "IpPermissions": ingress,
                "IpPermissionsEgress": [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
            }
        )
    # Group 0 is the popular one: every tenth interface carries it.
    admitted: dict[int, set[int]] = {}
    for i in range(interfaces):
        mine = [groups[int(g)] for g in rng.choice(np.arange(1, GROUPS), size=int(rng.integers(1, 3)), replace=False)]
        if i % 10 == 0:
            mine = [groups[0], *mine[:1]]
        admitted[i] = set().union(*(ports[g] for g in mine))
        data["NetworkInterfaces"].append(
            {
                "NetworkInterfaceId": f"eni-{i:017x}",
                "SubnetId": subnets[i % SUBNETS],
                "VpcId": VPC,
                "InterfaceType": "interface",
                "PrivateIpAddress": _ip(i),
                "PrivateIpAddresses": [{"PrivateIpAddress": _ip(i), "Primary": True}],
                "Groups": [{"GroupId": g} for g in mine],
                "SourceDestCheck": True,
            }
        )
    folder.mkdir(parents=True, exist_ok=True)
    for key, items in data.items():
        (folder / f"{key}.json").write_text(json.dumps({key: items}))
    return admitted


def build_records(
    folder: Path, interfaces: int, records: int, admitted: dict[int, set[int]], rng: np.random.Generator
) -> int:
    """Four records per connection and aggregation window: request and response on the client's and on the
    server's interface. Written as Parquet (S3 delivery) and as default-format text."""
    servers = np.array([i for i in range(interfaces) if admitted[i]])
    server = rng.choice(servers, CONNECTIONS)
    client = rng.integers(0, interfaces, CONNECTIONS)
    port = np.array([rng.choice(sorted(admitted[int(s)])) for s in server])
    windows = rng.multinomial(records // 4 - CONNECTIONS, np.ones(CONNECTIONS) / CONNECTIONS) + 1
    conn = np.repeat(np.arange(CONNECTIONS), windows)
    n = len(conn)
    client_port = rng.integers(32768, 61000, n)
    start = T0 + rng.integers(0, 86_400, n)
    ip = np.array([_ip(i) for i in range(interfaces)], dtype=object)
    eni = np.array([f"eni-{i:017x}" for i in range(interfaces)], dtype=object)
    c_ip, s_ip, sp = ip[client[conn]], ip[server[conn]], port[conn]
    c_eni, s_eni = eni[client[conn]], eni[server[conn]]
    # (interface, src, dst, srcport, dstport) for the 4 records of each window
    legs = [
        (c_eni, c_ip, s_ip, client_port, sp),
        (c_eni, s_ip, c_ip, sp, client_port),
        (s_eni, c_ip, s_ip, client_port, sp),
        (s_eni, s_ip, c_ip, sp, client_port),
    ]
    columns = {
        "version": pa.array(np.full(4 * n, 2, dtype=np.int32)),
        "account_id": pa.array(np.full(4 * n, ACCOUNT, dtype=object), pa.string()),
        "interface_id": pa.array(np.concatenate([leg[0] for leg in legs]), pa.string()),
        "srcaddr": pa.array(np.concatenate([leg[1] for leg in legs]), pa.string()),
        "dstaddr": pa.array(np.concatenate([leg[2] for leg in legs]), pa.string()),
        "srcport": pa.array(np.concatenate([leg[3] for leg in legs]).astype(np.int32)),
        "dstport": pa.array(np.concatenate([leg[4] for leg in legs]).astype(np.int32)),
        "protocol": pa.array(np.full(4 * n, 6, dtype=np.int32)),
        "packets": pa.array(np.tile(rng.integers(1, 50, n), 4).astype(np.int64)),
        "bytes": pa.array(np.tile(rng.integers(60, 90_000, n), 4).astype(np.int64)),
        "start": pa.array(np.tile(start, 4).astype(np.int64)),
        "end": pa.array(np.tile(start + 60, 4).astype(np.int64)),
        "action": pa.array(np.full(4 * n, "ACCEPT", dtype=object), pa.string()),
        "log_status": pa.array(np.full(4 * n, "OK", dtype=object), pa.string()),
    }
    table = pa.table(columns)
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, folder / "flowlogs.parquet", row_group_size=256 * 1024)
    with (folder / "flowlogs.log").open("wb") as out:
        out.write((" ".join(c.replace("_", "-") for c in columns) + "\n").encode())
        pacsv.write_csv(table, out, pacsv.WriteOptions(include_header=False, delimiter=" ", quoting_style="none"))
    return table.num_rows


def generate(interfaces: int, records: int) -> None:
    rng = np.random.default_rng(11)
    admitted = build_snapshot(DATA / "snapshot", interfaces, rng)
    written = build_records(DATA, interfaces, records, admitted, rng)
    change = [
        {
            "action": "RevokeSecurityGroupIngress",
            "params": {"GroupId": f"sg-{0:017x}", "IpPermissions": [_first_rule(DATA / "snapshot")]},
        }
    ]
    (DATA / "change.json").write_text(json.dumps(change, indent=2))
    (DATA / "meta.json").write_text(json.dumps({"interfaces": interfaces, "records": written}))


def _first_rule(snapshot: Path) -> dict[str, object]:
    groups = json.loads((snapshot / "SecurityGroups.json").read_text())["SecurityGroups"]
    return groups[0]["IpPermissions"][0]


def _stopwatch(timings: dict[str, float]) -> Callable[[str], None]:
    """lap(name) records the seconds since the previous lap under `name`."""
    clock = [time.perf_counter()]

    def lap(name: str) -> None:
        now = time.perf_counter()
        timings[name] = now - clock[0]
        clock[0] = now

    return lap


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=5_000_000)
    parser.add_argument("--interfaces", type=int, default=2_000)
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--text", action="store_true", help="also time the default-format text file")
    args = parser.parse_args()
    meta = DATA / "meta.json"
    if args.regenerate or not meta.exists() or json.loads(meta.read_text())["records"] < args.records * 0.99:
        print(f"generating {args.records:,} records for {args.interfaces:,} interfaces under {DATA} …", flush=True)
        generate(args.interfaces, args.records)
    os.environ["REACH_CACHE_DIR"] = str(DATA / "cache")
    from reach.api import Snapshot
    from reach.flowlogs import read_flow_logs
    from reach.whatif.diff import diff_networks
    from reach.whatif.observed import changed_connections, group_connections
    from reach.whatif.relevance import may_flip

    Snapshot.load(DATA / "snapshot")  # fills the cache, as a previous `reach explain` would have
    inputs = [("parquet", DATA / "flowlogs.parquet")] + ([("text", DATA / "flowlogs.log")] if args.text else [])
    records = json.loads(meta.read_text())["records"]
    print(
        f"snapshot: {args.interfaces:,} interfaces, {GROUPS} security groups, {SUBNETS} subnets; "
        f"{records:,} records; change: revoke one rule of the group every tenth interface carries"
    )
    for label, path in inputs:
        command = [
            sys.executable,
            "-m",
            "reach",
            "whatif",
            str(DATA / "change.json"),
            "--snapshot",
            str(DATA / "snapshot"),
            "--flow-logs",
            str(path),
            "--format",
            "json",
        ]
        begin, cpu = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
        done = subprocess.run(command, capture_output=True, text=True, check=True, env=os.environ)
        wall = time.perf_counter() - begin
        used = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu_seconds = used.ru_utime + used.ru_stime - cpu.ru_utime - cpu.ru_stime
        summary = json.loads(done.stdout)["summary"]
        print(
            f"\n[{label}] reach whatif end to end (fresh process): {wall:5.2f} s wall, {cpu_seconds:5.2f} s CPU "
            f"(target <= 5 s; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)"
        )
        print(
            f"  {summary['broken_observed_connections']:,} live connections ({summary['broken_observed_records']:,} "
            f"records) would break; {summary['observed_connections']:,} connections in scope, "
            f"{summary['explained_connections']:,} re-explained"
        )

        timings: dict[str, float] = {}
        lap = _stopwatch(timings)

        before = Snapshot.load(DATA / "snapshot")
        lap("load snapshot (cache)")
        after = before.apply(DATA / "change.json")
        lap("apply change, recompile, path graph")
        scope = diff_networks(before.network, after.network).scope
        lap("rule diff and scope")
        grouped = group_connections(
            read_flow_logs([path], quiet=True),
            interfaces=scope.interfaces,
            addresses=scope.addresses(before.network, after.network),
        )
        lap("read records, group in DuckDB")
        relevant = grouped.table.filter(may_flip(before.network, after.network, scope, grouped.table))
        lap(f"keep {relevant.num_rows:,} of {grouped.table.num_rows:,} a changed rule decides")
        changed_connections(before.analyzer, after.analyzer, relevant)
        lap(f"re-explain {relevant.num_rows:,} connections before and after")
        total = sum(timings.values())
        for name, seconds in timings.items():
            print(f"  {name:<38} {seconds:6.3f} s")
        print(f"  {'in-process total':<38} {total:6.3f} s")


if __name__ == "__main__":
    main()
