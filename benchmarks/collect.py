"""Collect benchmark: `reach collect` against a moto server started in this process.

Builds a network of a few hundred resources with boto3 (VPCs, subnets, security groups that reference each other,
route tables, network ACLs, interfaces, flow logs), then collects it with 1 to N concurrent calls per region and
prints requests per second. Moto answers in about a millisecond and shares this process's GIL with the collector,
so `--latency-ms` adds a sleep before each request is sent (as an AWS round trip would) to show what the bounded
concurrency buys against a real endpoint.

    python benchmarks/collect.py [--vpcs 5] [--subnets 4] [--interfaces 10] [--workers 1,4,8,16] [--latency-ms 0,50]
"""

from __future__ import annotations

import argparse
import logging
import socket
import tempfile
import time
from pathlib import Path
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from reach.snapshot.collector import collect

REGION = "us-east-1"
CREDENTIALS = {"aws_access_key_id": "bench", "aws_secret_access_key": "bench"}


def build(url: str, vpcs: int, subnets: int, interfaces: int) -> dict[str, int]:
    """A network of `vpcs` x `subnets` x `interfaces`; returns how many resources of each kind it made."""
    ec2 = boto3.Session(region_name=REGION, **CREDENTIALS).client("ec2", endpoint_url=url)
    made = {"vpcs": 0, "subnets": 0, "security groups": 0, "route tables": 0, "network ACLs": 0, "interfaces": 0}
    for v in range(vpcs):
        vpc = ec2.create_vpc(CidrBlock=f"10.{v}.0.0/16")["Vpc"]["VpcId"]
        web = ec2.create_security_group(GroupName=f"web-{v}", Description="web", VpcId=vpc)["GroupId"]
        app = ec2.create_security_group(GroupName=f"app-{v}", Description="app", VpcId=vpc)["GroupId"]
        ec2.authorize_security_group_ingress(GroupId=app, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "UserIdGroupPairs": [{"GroupId": web}]},
        ])
        ec2.authorize_security_group_ingress(GroupId=web, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
        ])
        table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
        acl = ec2.create_network_acl(VpcId=vpc)["NetworkAcl"]["NetworkAclId"]
        for rule, egress in ((100, False), (100, True)):
            ec2.create_network_acl_entry(NetworkAclId=acl, RuleNumber=rule, Egress=egress, RuleAction="allow",
                                         Protocol="-1", CidrBlock="0.0.0.0/0")
        made["vpcs"] += 1
        made["security groups"] += 2
        made["route tables"] += 1
        made["network ACLs"] += 1
        for s in range(subnets):
            subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.{v}.{s}.0/24")["Subnet"]["SubnetId"]
            ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)
            made["subnets"] += 1
            for i in range(interfaces):
                ec2.create_network_interface(SubnetId=subnet, PrivateIpAddress=f"10.{v}.{s}.{10 + i}",
                                             Groups=[web if i % 2 else app])
                made["interfaces"] += 1
        ec2.create_flow_logs(ResourceIds=[vpc], ResourceType="VPC", TrafficType="ALL",
                             LogDestinationType="cloud-watch-logs", LogGroupName=f"/vpc/{v}",
                             DeliverLogsPermissionArn="arn:aws:iam::123456789012:role/flow-logs")
    return made


def run(url: str, workers: int, latency: float, repeat: int) -> tuple[float, int, int]:
    """Best of `repeat` collections: (seconds, requests, files)."""
    best: tuple[float, int, int] | None = None
    for _ in range(repeat):
        session = boto3.Session(region_name=REGION, **CREDENTIALS)
        if latency:
            def wait(**_: Any) -> None:
                time.sleep(latency)  # a round trip to AWS, released to the other threads like real I/O

            session.events.register("before-send", wait)
        with tempfile.TemporaryDirectory() as folder:
            started = time.perf_counter()
            result = collect(Path(folder) / "snap", session=session, regions=[REGION], endpoint_url=url,
                             workers=workers)
            seconds = time.perf_counter() - started
            assert not result.errors, result.errors
            if best is None or seconds < best[0]:
                best = (seconds, result.requests, len(result.files))
    assert best is not None
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vpcs", type=int, default=5)
    parser.add_argument("--subnets", type=int, default=4, help="per VPC")
    parser.add_argument("--interfaces", type=int, default=10, help="per subnet")
    parser.add_argument("--workers", default="1,4,8,16", help="concurrent calls per collection, comma-separated")
    parser.add_argument("--latency-ms", default="0,50", help="added before each request, comma-separated")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    try:
        started = time.perf_counter()
        made = build(url, args.vpcs, args.subnets, args.interfaces)
        total = sum(made.values())
        print(f"network: {total} resources ({', '.join(f'{n} {k}' for k, n in made.items())}), "
              f"built in {time.perf_counter() - started:.1f} s")
        print(f"{'latency':>8} {'workers':>8} {'seconds':>8} {'requests':>9} {'files':>6} {'requests/s':>11}")
        for latency_ms in (int(x) for x in args.latency_ms.split(",")):
            for workers in (int(x) for x in args.workers.split(",")):
                seconds, requests, files = run(url, workers, latency_ms / 1000, args.repeat)
                print(f"{latency_ms:>6}ms {workers:>8} {seconds:>8.2f} {requests:>9} {files:>6} "
                      f"{requests / seconds:>11.1f}")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
