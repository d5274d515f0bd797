"""Explain benchmark through a transit gateway: 50 VPCs in hub-and-spoke, 200 interfaces each.

One transit gateway joins VPC 0 (the hub) and 49 spokes, each attached through one subnet per
Availability Zone; the hub's attachment is associated with `hub-rt`, the spokes' with `spokes-rt`, and
every attachment propagates into both (the snapshot holds search-transit-gateway-routes and the
association and propagation listings per table, CONTRACT §1). Every VPC routes 10.0.0.0/8 to the gateway.
Flows are drawn between interfaces of different VPCs, so each crosses the gateway both ways.

Prints cold load time, load time from reach's cache, and the median and p95 in-process latency of
`explain` (target: median <= 50 ms).

    python benchmarks/explain_tgw.py [--vpcs 50] [--interfaces 200] [--flows 500]
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
from typing import Any

from reach.api import Snapshot
from reach.snapshot.cache import load_network

TGW = "tgw-0bench00000000001"
ZONES = ("us-east-1a", "us-east-1b")
PORTS = [22, 80, 443, 5432, 6379, 8080]


def _vpc_id(i: int) -> str:
    return f"vpc-0{i:016x}"


def _attachment(i: int) -> str:
    return f"tgw-attach-0{i:016x}"


def _vpc(i: int, interfaces: int, rng: random.Random, data: dict[str, list[Any]]) -> None:
    vpc = _vpc_id(i)
    data["Vpcs"].append({"VpcId": vpc, "CidrBlock": f"10.{i}.0.0/16", "OwnerId": "123456789012"})
    app = [f"subnet-0{i:08x}{z:08x}" for z in range(2)]
    tgw = [f"subnet-0{i:08x}{z + 8:08x}" for z in range(2)]
    for z, zone in enumerate(ZONES):
        data["Subnets"].append(
            {"SubnetId": app[z], "VpcId": vpc, "CidrBlock": f"10.{i}.{z}.0/24", "AvailabilityZone": zone}
        )
        data["Subnets"].append(
            {"SubnetId": tgw[z], "VpcId": vpc, "CidrBlock": f"10.{i}.255.{16 * z}/28", "AvailabilityZone": zone}
        )
    data["RouteTables"].append(
        {
            "RouteTableId": f"rtb-0{i:016x}",
            "VpcId": vpc,
            "Associations": [{"Main": True}],
            "Routes": [
                {"DestinationCidrBlock": f"10.{i}.0.0/16", "GatewayId": "local", "State": "active"},
                {"DestinationCidrBlock": "10.0.0.0/8", "TransitGatewayId": TGW, "State": "active"},
            ],
        }
    )
    entries = [
        {
            "RuleNumber": n,
            "Protocol": "6",
            "RuleAction": "deny",
            "Egress": False,
            "CidrBlock": f"10.{rng.randrange(50)}.{rng.randrange(2)}.0/24",
            "PortRange": {"From": p, "To": p},
        }
        for n, p in zip(range(10, 60, 10), rng.sample(PORTS, 5), strict=True)
    ]
    entries += [
        {"RuleNumber": 100, "Protocol": "-1", "RuleAction": "allow", "Egress": e, "CidrBlock": "0.0.0.0/0"}
        for e in (False, True)
    ]
    data["NetworkAcls"].append(
        {
            "NetworkAclId": f"acl-0{i:016x}",
            "VpcId": vpc,
            "IsDefault": True,
            "Entries": entries,
            "Associations": [{"SubnetId": s} for s in app + tgw],
        }
    )
    groups = [f"sg-0{i:08x}{g:08x}" for g in range(8)]
    for g, group in enumerate(groups):
        rules = []
        for _ in range(rng.randint(2, 5)):
            port = rng.choice(PORTS)
            peer: dict[str, Any] = (
                {"UserIdGroupPairs": [{"GroupId": rng.choice(groups)}]}
                if rng.random() < 0.3
                else {"IpRanges": [{"CidrIp": rng.choice(["10.0.0.0/8", f"10.{rng.randrange(50)}.0.0/16"])}]}
            )
            rules.append({"IpProtocol": "tcp", "FromPort": port, "ToPort": port, **peer})
        data["SecurityGroups"].append(
            {
                "GroupId": group,
                "GroupName": f"v{i}-g{g}",
                "VpcId": vpc,
                "IpPermissions": rules,
                "IpPermissionsEgress": [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
            }
        )
    for n in range(interfaces):
        z = n % 2
        ip = f"10.{i}.{z}.{4 + n // 2}"
        data["NetworkInterfaces"].append(
            {
                "NetworkInterfaceId": f"eni-0{i:08x}{n:08x}",
                "SubnetId": app[z],
                "VpcId": vpc,
                "AvailabilityZone": ZONES[z],
                "InterfaceType": "interface",
                "PrivateIpAddress": ip,
                "PrivateIpAddresses": [{"PrivateIpAddress": ip, "Primary": True}],
                "Groups": [{"GroupId": g} for g in rng.sample(groups, rng.randint(1, 2))],
                "SourceDestCheck": True,
            }
        )
    data["TransitGatewayVpcAttachments"].append(
        {
            "TransitGatewayAttachmentId": _attachment(i),
            "TransitGatewayId": TGW,
            "VpcId": vpc,
            "State": "available",
            "SubnetIds": tgw,
            "Options": {"ApplianceModeSupport": "disable"},
        }
    )
    table = "tgw-rtb-0hub0000000000001" if i == 0 else "tgw-rtb-0spokes00000000001"
    data["TransitGatewayAttachments"].append(
        {
            "TransitGatewayAttachmentId": _attachment(i),
            "TransitGatewayId": TGW,
            "ResourceType": "vpc",
            "ResourceId": vpc,
            "State": "available",
            "Association": {"TransitGatewayRouteTableId": table, "State": "associated"},
        }
    )


def build(folder: Path, vpcs: int, interfaces: int, seed: int = 11) -> None:
    rng = random.Random(seed)
    keys = (
        "Vpcs",
        "Subnets",
        "RouteTables",
        "SecurityGroups",
        "NetworkAcls",
        "NetworkInterfaces",
        "TransitGatewayAttachments",
        "TransitGatewayVpcAttachments",
    )
    data: dict[str, list[Any]] = {k: [] for k in keys}
    for i in range(vpcs):
        _vpc(i, interfaces, rng, data)
    folder.mkdir(parents=True, exist_ok=True)
    for key, items in data.items():
        (folder / f"{key}.json").write_text(json.dumps({key: items}))
    tables = {"tgw-rtb-0hub0000000000001": [0], "tgw-rtb-0spokes00000000001": list(range(1, vpcs))}
    (folder / "TransitGateways.json").write_text(
        json.dumps({"TransitGateways": [{"TransitGatewayId": TGW, "State": "available", "OwnerId": "123456789012"}]})
    )
    (folder / "TransitGatewayRouteTables.json").write_text(
        json.dumps(
            {
                "TransitGatewayRouteTables": [
                    {"TransitGatewayRouteTableId": t, "TransitGatewayId": TGW, "State": "available"} for t in tables
                ]
            }
        )
    )
    links = [
        {
            "TransitGatewayAttachmentId": _attachment(i),
            "ResourceId": _vpc_id(i),
            "ResourceType": "vpc",
            "State": "enabled",
        }
        for i in range(vpcs)
    ]
    routes = [
        {
            "DestinationCidrBlock": f"10.{i}.0.0/16",
            "Type": "propagated",
            "State": "active",
            "TransitGatewayAttachments": [{"TransitGatewayAttachmentId": _attachment(i), "ResourceType": "vpc"}],
        }
        for i in range(vpcs)
    ]
    for n, (table, members) in enumerate(tables.items()):
        (folder / f"routes-{n}.json").write_text(json.dumps({"TransitGatewayRouteTableId": table, "Routes": routes}))
        (folder / f"propagations-{n}.json").write_text(
            json.dumps({"TransitGatewayRouteTableId": table, "TransitGatewayRouteTablePropagations": links})
        )
        (folder / f"associations-{n}.json").write_text(
            json.dumps(
                {
                    "TransitGatewayRouteTableId": table,
                    "Associations": [
                        {"TransitGatewayAttachmentId": _attachment(i), "ResourceType": "vpc", "State": "associated"}
                        for i in members
                    ],
                }
            )
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vpcs", type=int, default=50)
    parser.add_argument("--interfaces", type=int, default=200, help="interfaces per VPC")
    parser.add_argument("--flows", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "snapshot"
        os.environ["REACH_CACHE_DIR"] = str(Path(tmp) / "cache")
        build(folder, args.vpcs, args.interfaces)
        size = sum(f.stat().st_size for f in folder.iterdir())

        start = time.perf_counter()
        load_network(folder, cache=False)
        cold = time.perf_counter() - start
        load_network(folder, cache=True)  # fills the cache
        start = time.perf_counter()
        snapshot = Snapshot.load(folder)
        cached = time.perf_counter() - start

        rng = random.Random(1)
        by_vpc: dict[str, list[str]] = {}
        for interface in snapshot.network.interfaces.values():
            by_vpc.setdefault(interface.vpc_id, []).append(interface.id)
        vpcs = sorted(by_vpc)
        latencies = []
        verdicts: dict[str, int] = {}
        crossed = 0
        for _ in range(args.flows):
            a, b = rng.sample(vpcs, 2)
            src, dst = rng.choice(by_vpc[a]), rng.choice(by_vpc[b])
            begin = time.perf_counter()
            result = snapshot.explain(src, dst, rng.choice(PORTS))
            latencies.append(time.perf_counter() - begin)
            verdicts[result.reason] = verdicts.get(result.reason, 0) + 1
            crossed += any(h.kind == "transit-gateway-route-table" for h in result.hops)
        latencies.sort()

    print(
        f"snapshot: {args.vpcs} VPCs x {args.interfaces} interfaces behind one transit gateway, "
        f"{size / 1e6:.1f} MB JSON"
    )
    print(f"load, cold (parse+validate+compile): {cold:6.3f} s")
    print(f"load, from reach's cache:          {cached:6.3f} s")
    print(f"explain median:   {statistics.median(latencies) * 1e3:6.2f} ms  (target <= 50 ms)")
    print(
        f"explain p95:      {latencies[int(len(latencies) * 0.95)] * 1e3:6.2f} ms   over {args.flows} flows, "
        f"{crossed} through the gateway; {verdicts}"
    )


if __name__ == "__main__":
    main()
