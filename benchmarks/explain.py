"""Explain benchmark: a synthetic snapshot of 10,000 interfaces, 5,000 security groups and 200 subnets.

Prints cold load time (parse + validate + compile), load time from reach's on-disk cache (the network alone,
then `Snapshot.load` with the engine's set-up), and the median in-process latency of `explain` over many
random flows. Baseline in the same run: json.load of the same files alone, to show what the loader adds over
reading the bytes. `benchmarks/coldstart.py` times the same snapshot as whole `reach explain` processes.

    python benchmarks/explain.py [--interfaces 10000] [--groups 5000] [--subnets 200] [--flows 500]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

from reach.api import Snapshot
from reach.snapshot.cache import load_network


def build(folder: Path, interfaces: int, groups: int, subnets: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    vpc = "vpc-0bench000000000001"
    data: dict[str, list[dict[str, object]]] = {
        k: []
        for k in (
            "Vpcs",
            "Subnets",
            "RouteTables",
            "SecurityGroups",
            "NetworkAcls",
            "NetworkInterfaces",
            "InternetGateways",
        )
    }
    data["Vpcs"].append(
        {
            "VpcId": vpc,
            "CidrBlock": "10.0.0.0/8",
            "CidrBlockAssociationSet": [{"CidrBlock": "10.0.0.0/8", "CidrBlockState": {"State": "associated"}}],
        }
    )
    data["InternetGateways"].append(
        {"InternetGatewayId": "igw-0bench", "Attachments": [{"VpcId": vpc, "State": "available"}]}
    )
    data["RouteTables"].append(
        {
            "RouteTableId": "rtb-0main",
            "VpcId": vpc,
            "Associations": [{"Main": True}],
            "Routes": [
                {"DestinationCidrBlock": "10.0.0.0/8", "GatewayId": "local", "State": "active"},
                {"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": "igw-0bench", "State": "active"},
            ],
        }
    )
    subnet_ids = [f"subnet-{i:017x}" for i in range(subnets)]
    for i, subnet in enumerate(subnet_ids):
        data["Subnets"].append({"SubnetId": subnet, "VpcId": vpc, "CidrBlock": f"10.{i // 250}.{i % 250}.0/24"})
    entries = []
    for n in range(10, 200, 10):
        entries.append(
            {
                "RuleNumber": n,
                "Protocol": "6",
                "RuleAction": rng.choice(["allow", "deny"]),
                "Egress": False,
                "CidrBlock": f"10.{rng.randrange(1)}.{rng.randrange(250)}.0/24",
                "PortRange": {"From": n, "To": n + 1000},
            }
        )
    entries += [
        {"RuleNumber": 1000, "Protocol": "-1", "RuleAction": "allow", "Egress": e, "CidrBlock": "0.0.0.0/0"}
        for e in (False, True)
    ]
    data["NetworkAcls"].append(
        {
            "NetworkAclId": "acl-0bench",
            "VpcId": vpc,
            "IsDefault": True,
            "Entries": entries,
            "Associations": [{"SubnetId": s} for s in subnet_ids],
        }
    )
    group_ids = [f"sg-{i:017x}" for i in range(groups)]
    for i, group in enumerate(group_ids):
        ingress = []
        for _ in range(rng.randint(2, 6)):
            port = rng.choice([22, 80, 443, 3306, 5432, 6379, 8080])
            if rng.random() < 0.3:
                ingress.append(
                    {
                        "IpProtocol": "tcp",
                        "FromPort": port,
                        "ToPort": port,
                        "UserIdGroupPairs": [{"GroupId": rng.choice(group_ids)}],
                    }
                )
            else:
                ingress.append(
                    {
                        "IpProtocol": "tcp",
                        "FromPort": port,
                        "ToPort": port,
                        "IpRanges": [{"CidrIp": f"10.{rng.randrange(1)}.{rng.randrange(250)}.0/24"}],
                    }
                )
        data["SecurityGroups"].append(
            {
                "GroupId": group,
                "GroupName": f"g{i}",
                "VpcId": vpc,
                "IpPermissions": ingress,
                "IpPermissionsEgress": [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
            }
        )
    for i in range(interfaces):
        s = i % subnets
        ip = f"10.{s // 250}.{s % 250}.{4 + i // subnets}"
        data["NetworkInterfaces"].append(
            {
                "NetworkInterfaceId": f"eni-{i:017x}",
                "SubnetId": subnet_ids[s],
                "VpcId": vpc,
                "InterfaceType": "interface",
                "PrivateIpAddress": ip,
                "PrivateIpAddresses": [{"PrivateIpAddress": ip, "Primary": True}],
                "Groups": [{"GroupId": g} for g in rng.sample(group_ids, rng.randint(1, 3))],
                "SourceDestCheck": True,
                "TagSet": [{"Key": "Name", "Value": f"host-{i}"}],
            }
        )
    folder.mkdir(parents=True, exist_ok=True)
    for key, items in data.items():
        (folder / f"{key}.json").write_text(json.dumps({key: items}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--interfaces", type=int, default=10_000)
    parser.add_argument("--groups", type=int, default=5_000)
    parser.add_argument("--subnets", type=int, default=200)
    parser.add_argument("--flows", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "snapshot"
        os.environ["REACH_CACHE_DIR"] = str(Path(tmp) / "cache")
        build(folder, args.interfaces, args.groups, args.subnets)
        size = sum(f.stat().st_size for f in folder.iterdir())

        start = time.perf_counter()
        for file in folder.iterdir():
            json.loads(file.read_bytes())
        json_seconds = time.perf_counter() - start

        start = time.perf_counter()
        load_network(folder, cache=False)
        cold = time.perf_counter() - start

        load_network(folder, cache=True)  # fills the cache
        start = time.perf_counter()
        load_network(folder, cache=True)
        opened = time.perf_counter() - start
        start = time.perf_counter()
        snapshot = Snapshot.load(folder)
        cached = time.perf_counter() - start

        rng = random.Random(1)
        names = list(snapshot.network.interfaces)
        latencies = []
        verdicts = {"ACCEPT": 0, "REJECT": 0}
        for _ in range(args.flows):
            src, dst = rng.sample(names, 2)
            port = rng.choice([22, 80, 443, 3306, 5432, 6379, 8080])
            begin = time.perf_counter()
            result = snapshot.explain(src, dst, port)
            latencies.append(time.perf_counter() - begin)
            verdicts[result.verdict] += 1
        latencies.sort()

    print(
        f"snapshot: {args.interfaces} interfaces, {args.groups} security groups, {args.subnets} subnets, "
        f"{size / 1e6:.1f} MB JSON"
    )
    print(f"baseline json.load of the files:   {json_seconds:6.3f} s")
    print(f"load, cold (parse+validate+compile): {cold:6.3f} s   ({cold / json_seconds:.1f}x json.load; target <= 2 s)")
    print(f"network, from reach's cache:       {opened:6.3f} s   ({opened / json_seconds:.2f}x json.load, key too)")
    print(f"Snapshot.load, from reach's cache: {cached:6.3f} s   ({cached / json_seconds:.2f}x json.load; the engine's "
          "path graph included)")
    print(f"explain median:   {statistics.median(latencies) * 1e3:6.2f} ms  (target <= 50 ms)")
    print(
        f"explain p95:      {latencies[int(len(latencies) * 0.95)] * 1e3:6.2f} ms   over {args.flows} flows {verdicts}"
    )


if __name__ == "__main__":
    main()
