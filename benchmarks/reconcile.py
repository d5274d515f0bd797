"""Reconcile benchmark: a 2,000-interface snapshot and >= 5 M default-format flow-log records.

The records agree with the snapshot's interfaces and addresses (each record's interface holds its source
or its destination): clients calling the few servers they depend on (and, 2 % of the time, any other
interface), requests and their responses on both interfaces, REJECTs where a security group or a network
ACL denies, hosts on the internet knocking on closed ports, three security-group rules revoked half way
through (the snapshot, taken after, disagrees with the first half of their records), and a little noise.
Generated once under benchmarks/.data/ (gitignored), in a child process so that generating does not count
towards peak memory.

Prints, in one run: reconcile's records/s end to end (read, parse, place, predict, attribute), DuckDB's bare
scan of the same file, their ratio, and reconcile's peak memory (RSS).

    python benchmarks/reconcile.py [--records 5000000] [--interfaces 2000] [--repeat 3] [--times 1] [--regenerate]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

DATA = Path(__file__).resolve().parent / ".data" / "reconcile"
HEADER = ("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action "
          "log-status")
ACCOUNT = "123456789012"
VPC = "vpc-0bench00000000001"
SERVICES = np.array([22, 80, 443, 3306, 5432, 6379, 8080, 9092])
CLOSED = np.array([23, 3389, 8443, 9200])  # never allowed: REJECTed by a security group, 23 and 3389 by NACLs
SUBNETS = 40
GROUPS = 100
DEPENDENCIES = 8  # servers each interface usually calls
REVOKED = {(3, 1), (7, 1), (11, 1)}  # (group, its rule): revoked at minute 30, so absent from the snapshot
CHANGE = 1800  # seconds into the hour


def _ip(subnet: int, host: int) -> str:
    return f"10.0.{subnet}.{host}"


def build_snapshot(folder: Path, interfaces: int, rng: np.random.Generator) -> dict[str, object]:
    """describe-* JSON for one VPC: 40 subnets under 8 network ACLs, 100 security groups, the interfaces."""
    data: dict[str, list[dict[str, object]]] = {k: [] for k in (
        "Vpcs", "Subnets", "RouteTables", "SecurityGroups", "NetworkAcls", "NetworkInterfaces", "InternetGateways")}
    data["Vpcs"].append({"VpcId": VPC, "OwnerId": ACCOUNT, "CidrBlock": "10.0.0.0/16",
                         "CidrBlockAssociationSet": [{"CidrBlock": "10.0.0.0/16",
                                                      "CidrBlockState": {"State": "associated"}}]})
    data["InternetGateways"].append({"InternetGatewayId": "igw-0bench", "Attachments": [{"VpcId": VPC,
                                                                                        "State": "available"}]})
    data["RouteTables"].append({"RouteTableId": "rtb-0bench", "VpcId": VPC, "Associations": [{"Main": True}],
                                "Routes": [{"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local",
                                            "State": "active"},
                                           {"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": "igw-0bench",
                                            "State": "active"}]})
    subnet_ids = [f"subnet-{i:017x}" for i in range(SUBNETS)]
    for i, subnet in enumerate(subnet_ids):
        data["Subnets"].append({"SubnetId": subnet, "VpcId": VPC, "CidrBlock": f"10.0.{i}.0/24",
                                "AvailabilityZone": "us-east-1a"})
    for a in range(8):
        entries = [
            {"RuleNumber": 50, "Protocol": "6", "RuleAction": "deny", "Egress": False, "CidrBlock": "0.0.0.0/0",
             "PortRange": {"From": 3389, "To": 3389}},
            {"RuleNumber": 60, "Protocol": "6", "RuleAction": "deny", "Egress": False, "CidrBlock": "0.0.0.0/0",
             "PortRange": {"From": 23, "To": 23}},
            {"RuleNumber": 100, "Protocol": "6", "RuleAction": "allow", "Egress": False,
             "CidrBlock": "10.0.0.0/16", "PortRange": {"From": 1, "To": 65535}},
            {"RuleNumber": 110, "Protocol": "6", "RuleAction": "allow", "Egress": False, "CidrBlock": "0.0.0.0/0",
             "PortRange": {"From": 443, "To": 443}},
            {"RuleNumber": 120, "Protocol": "6", "RuleAction": "allow", "Egress": False, "CidrBlock": "0.0.0.0/0",
             "PortRange": {"From": 1024, "To": 65535}},
            {"RuleNumber": 100, "Protocol": "-1", "RuleAction": "allow", "Egress": True, "CidrBlock": "0.0.0.0/0"},
        ]
        data["NetworkAcls"].append({"NetworkAclId": f"acl-{a:017x}", "VpcId": VPC, "IsDefault": a == 0,
                                    "Entries": entries,
                                    "Associations": [{"SubnetId": subnet_ids[s], "NetworkAclId": f"acl-{a:017x}"}
                                                     for s in range(a, SUBNETS, 8)]})
    group_ports = [rng.choice(SERVICES, size=rng.integers(2, 5), replace=False) for _ in range(GROUPS)]
    members: list[list[int]] = [[] for _ in range(GROUPS)]
    iface_groups = []
    for i in range(interfaces):
        chosen = rng.choice(GROUPS, size=rng.integers(1, 4), replace=False)
        iface_groups.append(chosen)
        for g in chosen:
            members[g].append(i)
    for g in range(GROUPS):
        ingress = []
        for k, port in enumerate(group_ports[g].tolist()):
            if (g, k) in REVOKED:  # revoked half way through the logs: the snapshot is from after
                continue
            if k == 0 and g % 5 == 0:  # some groups admit a service from another group's members only
                ingress.append({"IpProtocol": "tcp", "FromPort": port, "ToPort": port,
                                "UserIdGroupPairs": [{"GroupId": f"sg-{(g + 1) % GROUPS:017x}"}]})
            else:
                ingress.append({"IpProtocol": "tcp", "FromPort": port, "ToPort": port,
                                "IpRanges": [{"CidrIp": "10.0.0.0/16"}]})
        data["SecurityGroups"].append({"GroupId": f"sg-{g:017x}", "GroupName": f"group-{g}", "VpcId": VPC,
                                       "OwnerId": ACCOUNT, "IpPermissions": ingress,
                                       "IpPermissionsEgress": [{"IpProtocol": "-1",
                                                                "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]})
    for i in range(interfaces):
        s = i % SUBNETS
        ip = _ip(s, 4 + i // SUBNETS)
        data["NetworkInterfaces"].append({
            "NetworkInterfaceId": f"eni-{i:017x}", "SubnetId": subnet_ids[s], "VpcId": VPC, "OwnerId": ACCOUNT,
            "InterfaceType": "interface", "PrivateIpAddress": ip, "Status": "in-use",
            "PrivateIpAddresses": [{"PrivateIpAddress": ip, "Primary": True}],
            "Groups": [{"GroupId": f"sg-{g:017x}", "GroupName": f"group-{g}"} for g in iface_groups[i].tolist()],
            "SourceDestCheck": True,
        })
    folder.mkdir(parents=True, exist_ok=True)
    for key, items in data.items():
        (folder / f"describe-{key}.json").write_text(json.dumps({key: items}))
    return {"group_ports": group_ports, "members": members, "iface_groups": iface_groups}


def build_records(path: Path, interfaces: int, records: int, model: dict[str, object],
                  rng: np.random.Generator) -> int:
    """Connections between interfaces (and from the internet), as the records each interface logs."""
    group_ports: list[np.ndarray] = model["group_ports"]  # type: ignore[assignment]
    members: list[list[int]] = model["members"]  # type: ignore[assignment]
    iface_groups: list[np.ndarray] = model["iface_groups"]  # type: ignore[assignment]
    ids = pa.array([f"eni-{i:017x}" for i in range(interfaces)])
    ips = pa.array([_ip(i % SUBNETS, 4 + i // SUBNETS) for i in range(interfaces)])
    # allowed[i, p]: may a client from the VPC reach service p on interface i (ignoring group references)
    allowed = np.zeros((interfaces, len(SERVICES)), dtype=bool)
    allowed_after = np.zeros((interfaces, len(SERVICES)), dtype=bool)
    # the groups whose members may use a service (a rule referencing a group), up to one per group of the interface
    by_ref = np.full((interfaces, len(SERVICES), 3), -1, dtype=np.int64)
    for i in range(interfaces):
        for slot, g in enumerate(iface_groups[i].tolist()):
            for k, port in enumerate(group_ports[g].tolist()):
                j = int(np.flatnonzero(port == SERVICES)[0])
                if k == 0 and g % 5 == 0:
                    by_ref[i, j, slot] = (g + 1) % GROUPS
                else:
                    allowed[i, j] = True
                    allowed_after[i, j] |= (g, k) not in REVOKED
    member_of = np.zeros((GROUPS, interfaces), dtype=bool)
    for g in range(GROUPS):
        member_of[g, members[g]] = True
    start0 = 1_717_200_000
    n = records // 3  # about three records per connection on average
    # a service graph: each interface calls a handful of servers (98 %), and now and then any other (2 %)
    client = rng.integers(0, interfaces, n)
    calls = (np.arange(interfaces)[:, None] + rng.integers(1, interfaces, (interfaces, DEPENDENCIES))) % interfaces
    server = np.where(rng.random(n) < 0.98, calls[client, rng.integers(0, DEPENDENCIES, n)],
                      (client + rng.integers(1, interfaces, n)) % interfaces)
    closed = rng.random(n) < 0.05
    service = rng.integers(0, len(SERVICES), n)
    port = np.where(closed, rng.choice(CLOSED, n), SERVICES[service])
    start = start0 + np.sort(rng.integers(0, 3600, n))
    refs = by_ref[server, service]  # [n, 3]
    by_group = ((refs >= 0) & member_of[np.maximum(refs, 0), client[:, None]]).any(axis=1)
    rule = np.where(start < start0 + CHANGE, allowed[server, service], allowed_after[server, service])
    ok = ~closed & (rule | by_group)
    eph = rng.integers(32768, 61000, n)
    # the internet knocks: a third of the closed-port attempts come from outside, seen on the server only
    outside = closed & (rng.random(n) < 0.33)
    internet = pa.array([f"203.0.113.{k}" for k in range(256)])
    peer_ip = internet.take(pa.array(rng.integers(0, 256, n)))
    c_ip = ips.take(pa.array(client))
    s_ip = ips.take(pa.array(server))
    c_ip = pc.if_else(pa.array(outside), peer_ip, c_ip)

    def rows(mask: np.ndarray, eni: np.ndarray, src: pa.Array, dst: pa.Array, sport: np.ndarray, dport: np.ndarray,
             action: np.ndarray, shift: int) -> pa.Table:
        k = np.flatnonzero(mask)
        take = pa.array(k)
        flip = rng.random(len(k)) < 0.0001  # a little noise
        act = np.where(action[k] ^ flip, "ACCEPT", "REJECT")
        st = start[k] + shift
        return pa.table({
            "version": pa.array(np.full(len(k), 2, dtype=np.int32)), "account-id": pa.array([ACCOUNT] * len(k)),
            "interface-id": ids.take(pa.array(eni[k])), "srcaddr": src.take(take), "dstaddr": dst.take(take),
            "srcport": sport[k], "dstport": dport[k], "protocol": np.full(len(k), 6, dtype=np.int32),
            "packets": rng.integers(1, 100, len(k)), "bytes": rng.integers(40, 90000, len(k)),
            "start": st, "end": st - st % 60 + 59, "action": pa.array(act), "log-status": pa.array(["OK"] * len(k)),
        })

    inside = ~outside
    accept = np.ones(n, dtype=bool)
    tables = [
        rows(inside, client, c_ip, s_ip, eph, port, accept, 0),  # client egress request
        rows(np.ones(n, dtype=bool), server, c_ip, s_ip, eph, port, ok, 1),  # server ingress request
        rows(ok, server, s_ip, c_ip, port, eph, accept, 1),  # server egress response
        rows(ok & inside, client, s_ip, c_ip, port, eph, accept, 2),  # client ingress response
    ]
    table = pa.concat_tables(tables)
    table = table.take(pa.array(np.argsort(table["start"].to_numpy(), kind="stable")))
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        out.write((HEADER + "\n").encode())
        pacsv.write_csv(table, out, pacsv.WriteOptions(include_header=False, delimiter=" ", quoting_style="none"))
    return table.num_rows


def generate(interfaces: int, records: int) -> None:
    rng = np.random.default_rng(2024)
    model = build_snapshot(DATA / "snapshot", interfaces, rng)
    written = build_records(DATA / "flowlogs.log", interfaces, records, model, rng)
    (DATA / "meta.json").write_text(json.dumps({"interfaces": interfaces, "records": written, "asked": records}))


def peak_rss_mb() -> float:
    """This process's peak resident set (VmHWM), in MB."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=5_000_000)
    parser.add_argument("--interfaces", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; the best and the median are shown")
    parser.add_argument("--times", type=int, default=1,
                        help="read the file this many times (--times 10: 50 M records, for peak memory)")
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--generate-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate_only:
        generate(args.interfaces, args.records)
        return
    meta_path = DATA / "meta.json"
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    if args.regenerate or meta.get("interfaces") != args.interfaces or meta.get("asked") != args.records:
        print(f"generating {args.records:,} records for {args.interfaces:,} interfaces under {DATA} …", flush=True)
        subprocess.run([sys.executable, __file__, "--generate-only", "--records", str(args.records),
                        "--interfaces", str(args.interfaces)], check=True)
        meta = json.loads(meta_path.read_text())
    path = DATA / "flowlogs.log"
    size = path.stat().st_size * args.times

    os.environ.setdefault("REACH_CACHE_DIR", str(DATA / "cache"))
    import duckdb

    from reach.api import Snapshot
    from reach.flowlogs import read_flow_logs
    from reach.reconcile import reconcile

    t = time.perf_counter()
    snap = Snapshot.load(DATA / "snapshot")
    load = time.perf_counter() - t
    before = peak_rss_mb()
    runs: list[tuple[float, float]] = []  # (wall, cpu) of reconcile
    scans: list[tuple[float, float]] = []  # of DuckDB's scan
    bare: list[tuple[float, float]] = []  # of reconcile without rule usage (what attributing ACCEPTs costs)
    peak = 0.0
    for _ in range(args.repeat):  # interleaved, so that both see the same machine
        t, c = time.perf_counter(), cpu_seconds()
        stream = read_flow_logs([path] * args.times, quiet=True)
        result = reconcile(snap.network, stream, read_stats=stream.stats)
        runs.append((time.perf_counter() - t, cpu_seconds() - c))
        peak = max(peak, peak_rss_mb())
        del stream
        t, c = time.perf_counter(), cpu_seconds()
        stream = read_flow_logs([path] * args.times, quiet=True)
        reconcile(snap.network, stream, read_stats=stream.stats, rule_usage=False)
        bare.append((time.perf_counter() - t, cpu_seconds() - c))
        del stream
        t, c = time.perf_counter(), cpu_seconds()
        scanned = duckdb.connect().execute(
            "SELECT count(*), max(\"interface-id\"), max(srcaddr), max(dstaddr), sum(srcport), sum(dstport), "
            "max(action), max(\"end\") FROM read_csv(?, delim=' ', header=true)", [[str(path)] * args.times]).fetchone()
        scans.append((time.perf_counter() - t, cpu_seconds() - c))
        assert scanned is not None and scanned[0] == result.summary.records

    s = result.summary
    best, median = min(runs), sorted(runs)[len(runs) // 2]
    duck_best, duck_median = min(scans), sorted(scans)[len(scans) // 2]
    n = s.records
    print(f"snapshot   {meta['interfaces']:,} interfaces, loaded in {load:.2f} s")
    print(f"records    {n:,} ({size / 1e6:,.0f} MB), {s.evaluated:,} evaluated, {s.agree:,} agree, "
          f"{s.disagree:,} disagree, {s.responses:,} responses, {len(result.blocking)} blocking rules, "
          f"{s.keys:,} kernel keys")
    print(f"reconcile  best {best[0]:.2f} s = {n / best[0] / 1e6:.2f} M records/s, median {median[0]:.2f} s "
          f"({median[1]:.1f} CPU-s)")
    print(f"duckdb     best {duck_best[0]:.2f} s = {n / duck_best[0] / 1e6:.2f} M records/s, median "
          f"{duck_median[0]:.2f} s ({duck_median[1]:.1f} CPU-s): its bare scan of the same file")
    print(f"ratio      {duck_best[0] / best[0]:.2f} x DuckDB's scan (best of each), "
          f"{duck_median[0] / median[0]:.2f} x (medians)")
    bare_best = min(bare)
    print(f"rule usage {len(result.rule_usage):,} allow lines; reconcile without it best {bare_best[0]:.2f} s: "
          f"rule usage adds {best[0] / bare_best[0] - 1:+.0%} (target <= +15%)")
    print(f"memory     peak RSS {peak:,.0f} MB (after loading the snapshot: {before:,.0f} MB)")
    print(f"cpus       {os.cpu_count()}, load average {os.getloadavg()[0]:.1f} (other work on the machine)")


if __name__ == "__main__":
    main()
