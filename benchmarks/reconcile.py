"""Reconcile benchmark: a 2,000-interface snapshot and >= 5 M default-format flow-log records.

The records agree with the snapshot's interfaces and addresses (each record's interface holds its source
or its destination): clients calling the few servers they depend on (and, 2 % of the time, any other
interface), requests and their responses on both interfaces, REJECTs where a security group or a network
ACL denies, hosts on the internet knocking on closed ports, three security-group rules revoked half way
through (the snapshot, taken after, disagrees with the first half of their records), and a little noise.
Generated once under benchmarks/.data/ (gitignored), in a child process so that generating does not count
towards peak memory.

Prints, in one run, each measure in a child process pinned with taskset (interleaved, so every measure sees the
same machine): reconcile with 1 worker on 1 core (with and without rule usage) and 2 workers on 2 cores
(records/s end to end: read, parse, place, predict, attribute, fold; the snapshot loaded before the clock
starts), DuckDB's bare scan of the same file on the same 2 cores, the ratios, and the peak resident memory of
all of reach's processes together.

    python benchmarks/reconcile.py [--records 5000000] [--interfaces 2000] [--repeat 3] [--times 1] [--spark]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
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


def tree_rss_mb(pid: int, cpu: dict[int, float] | None = None) -> float:
    """Resident memory of a process and all its descendants, now (MB); `cpu` gets each one's CPU seconds."""
    total = 0.0
    todo = [pid]
    tick = os.sysconf("SC_CLK_TCK")
    while todo:
        p = todo.pop()
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
            if cpu is not None:
                fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
                cpu[p] = (int(fields[11]) + int(fields[12])) / tick
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


class PeakTree:
    """Samples the resident memory of this process and its workers every 20 ms; `peak` is the most seen."""

    def __init__(self) -> None:
        self.peak = 0.0
        self.cpu: dict[int, float] = {}  # CPU seconds of each process seen (workers included, as last seen)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, tree_rss_mb(os.getpid(), self.cpu))

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return max(self.peak, tree_rss_mb(os.getpid(), self.cpu))


def child(args: argparse.Namespace) -> None:
    """One measured run, in this (pinned) process: reconcile with --jobs workers, or DuckDB's scan."""
    os.environ.setdefault("REACH_CACHE_DIR", str(DATA / "cache"))
    path = str(DATA / "flowlogs.log")
    if args.child == "duckdb":
        import duckdb

        t = time.perf_counter()
        con = duckdb.connect(config={"threads": len(os.sched_getaffinity(0))})
        count = con.execute(
            "SELECT count(*), max(\"interface-id\"), max(srcaddr), max(dstaddr), sum(srcport), sum(dstport), "
            "max(action), max(\"end\") FROM read_csv(?, delim=' ', header=true)", [[path] * args.times]).fetchone()
        print(json.dumps({"seconds": time.perf_counter() - t, "records": count[0] if count else 0, "peak": 0,
                          "cpu": time.process_time()}))
        return
    from reach.api import Snapshot
    from reach.reconcile.parallel import reconcile_sources

    network = Snapshot.load(DATA / "snapshot").network
    peak = PeakTree()
    before = sum(peak.cpu.values()) or tree_cpu()
    t = time.perf_counter()
    if args.child == "spark":
        from reach.spark import reconcile_spark

        # Spark reads each object whole (binaryFile): the file cut into 64 MB objects, as AWS delivers them
        result = reconcile_spark(network, [str(split_objects())] * args.times, master="local[2]")
    else:
        result = reconcile_sources(network, [path] * args.times, jobs=args.jobs, rule_usage=not args.no_rule_usage)
    seconds = time.perf_counter() - t
    s = result.summary
    top = peak.stop()
    print(json.dumps({"seconds": seconds, "cpu": sum(peak.cpu.values()) - before, "records": s.records, "peak": top,
                      "agree": s.agree,
                      "disagree": s.disagree, "keys": s.keys, "blocking": len(result.blocking),
                      }))


def split_objects(size: int = 64 << 20) -> Path:
    """The benchmark file cut on line ends into objects of about `size` bytes (its header on each)."""
    folder = DATA / "objects"
    if folder.exists():
        return folder
    folder.mkdir()
    with (DATA / "flowlogs.log").open("rb") as f:
        header = f.readline()
        k = 0
        while chunk := f.read(size):
            chunk += f.readline()
            (folder / f"part-{k:03d}.log").write_bytes(header + chunk)
            k += 1
    return folder


def tree_cpu() -> float:
    seen: dict[int, float] = {}
    tree_rss_mb(os.getpid(), seen)
    return sum(seen.values())


def run(cores: str, *extra: str) -> dict[str, float]:
    out = subprocess.run(["taskset", "-c", cores, sys.executable, __file__, *extra], check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=5_000_000)
    parser.add_argument("--interfaces", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; the best and the median are shown")
    parser.add_argument("--times", type=int, default=1,
                        help="read the file this many times (--times 10: 50 M records, for peak memory)")
    parser.add_argument("--spark", action="store_true", help="also time --engine spark on local[2]")
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--generate-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child", choices=["reach", "duckdb", "spark"], help=argparse.SUPPRESS)
    parser.add_argument("--jobs", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--no-rule-usage", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate_only:
        generate(args.interfaces, args.records)
        return
    if args.child:
        child(args)
        return
    meta_path = DATA / "meta.json"
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    if args.regenerate or meta.get("interfaces") != args.interfaces or meta.get("asked") != args.records:
        print(f"generating {args.records:,} records for {args.interfaces:,} interfaces under {DATA} …", flush=True)
        subprocess.run([sys.executable, __file__, "--generate-only", "--records", str(args.records),
                        "--interfaces", str(args.interfaces)], check=True)
        meta = json.loads(meta_path.read_text())
    size = (DATA / "flowlogs.log").stat().st_size * args.times
    times = ["--times", str(args.times)]
    runs: dict[str, list[dict[str, float]]] = {"one": [], "bare": [], "two": [], "duckdb": [], "spark": []}
    for _ in range(args.repeat):  # interleaved, so that every measure sees the same machine
        runs["one"].append(run("0", "--child", "reach", "--jobs", "1", *times))
        runs["bare"].append(run("0", "--child", "reach", "--jobs", "1", "--no-rule-usage", *times))
        runs["two"].append(run("0,1", "--child", "reach", "--jobs", "2", *times))
        runs["duckdb"].append(run("0,1", "--child", "duckdb", *times))
        if args.spark:
            runs["spark"].append(run("0,1", "--child", "spark", *times))
    n = runs["two"][0]["records"]
    assert all(r["records"] == n for k in ("one", "bare", "two", "duckdb", "spark") for r in runs[k])
    assert runs["one"][0]["agree"] == runs["two"][0]["agree"] and runs["one"][0]["keys"] == runs["two"][0]["keys"]

    def best(kind: str) -> float:
        return min(r["seconds"] for r in runs[kind])

    def median(kind: str) -> float:
        return sorted(r["seconds"] for r in runs[kind])[len(runs[kind]) // 2]

    r = runs["two"][0]
    print(f"records    {n:,} ({size / 1e6:,.0f} MB), {r['agree']:,} agree, {r['disagree']:,} disagree, "
          f"{r['blocking']:,} blocking rules, {r['keys']:,} kernel keys; {meta['interfaces']:,} interfaces")
    for kind, label in (("one", "1 worker, 1 core"), ("bare", "  without rule use"), ("two", "2 workers, 2 cores"),
                        ("duckdb", "DuckDB, 2 cores"),
                        ("spark", "Spark local[2]")):
        if runs[kind]:
            peak = max(x["peak"] for x in runs[kind])
            memory = f", peak RSS {peak:,.0f} MB (all processes)" if peak else ""
            cpu = min(x["cpu"] for x in runs[kind])
            print(f"{label:<19} best {best(kind):6.2f} s = {n / best(kind) / 1e6:.2f} M records/s, "
                  f"median {median(kind):6.2f} s, {cpu:.1f} CPU-s{memory}")
    print(f"rule usage adds {best('one') / best('bare') - 1:+.0%} to 1 worker (target <= +15%); medians "
          f"{median('one') / median('bare') - 1:+.0%}")
    print(f"scaling    2 workers = {best('one') / best('two'):.2f} x the throughput of 1 (target >= 1.8); "
          f"medians {median('one') / median('two'):.2f} x; in CPU, 2 workers take "
          f"{min(x['cpu'] for x in runs['two']) / min(x['cpu'] for x in runs['one']):.2f} x what 1 does")
    print(f"ratio      reach on 2 cores = {best('duckdb') / best('two'):.2f} x DuckDB's scan (target >= 0.5); "
          f"medians {median('duckdb') / median('two'):.2f} x")
    print(f"cpus       {len(os.sched_getaffinity(0))}, load average {os.getloadavg()[0]:.1f} (other work on the "
          "machine)")


if __name__ == "__main__":
    main()
