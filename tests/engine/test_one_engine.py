"""explain, reconcile and the header space give the same answer to the same question.

Hypothesis draws small random networks — two or three VPCs, peered or not, subnets with network ACLs of
allow and deny entries, interfaces with several security groups whose rules name CIDRs, other groups (of
this VPC, of the peer, or missing from the snapshot) and prefix lists (present or missing), IPv4 and IPv6 —
and random flows between their interfaces. For every flow:

- explain's walker says which records flow logs would show on each interface it crosses, ACCEPT or REJECT.
  Reconcile, handed exactly those records, must predict every one of them the same (no disagreement), and
  must name for a REJECT the very rule explain names as the first blocker.
- The header space, asked about the same interface, direction, peer and port as a forward record, must
  give the record's verdict.

All three ask reach.model.decision; this test holds the way each one builds its question (which interface,
which subnet boundary, response or not, which peer) to the same answer. `--hypothesis-profile=long` runs it
for thousands of networks.
"""

from __future__ import annotations

import ipaddress
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from reach.api import Snapshot
from reach.engine.explanation import Explanation
from reach.flowlogs import FLOW_LOG_SCHEMA
from reach.model.addr import parse_address
from reach.model.match import Probe
from reach.reconcile.pipeline import reconcile
from reach.whatif.headerspace import _verdicts, filter_stack
from tests.builder import ALL_OUT, SnapshotBuilder, acl_entry

PROTOCOLS = ["tcp", "udp", "icmp"]
PORTS = [22, 53, 80, 443, 3306, 5432, 8080]


@dataclass(frozen=True)
class Drawn:
    folder: Path
    interfaces: list[tuple[str, str, str | None]]  # (eni id, IPv4, IPv6 or None)


def _peer_pool(vpcs: list[tuple[str, str]], subnets: list[tuple[str, str, str, str]]) -> list[str]:
    pool = ["0.0.0.0/0", "::/0", "203.0.113.0/24"]
    pool += [cidr for _, cidr in vpcs]
    for _, _, v4, v6 in subnets:
        pool += [v4, v6]
    return pool


@st.composite
def networks(draw: st.DrawFn) -> Drawn:
    builder = SnapshotBuilder()
    vpcs: list[tuple[str, str]] = []
    v6_of: dict[str, str] = {}
    for i in range(draw(st.integers(2, 3))):
        cidr, v6 = f"10.{i}.0.0/16", f"2600:1f18:{i:x}00::/56"
        vpc_id = builder.vpc(cidr, ipv6=v6)
        vpcs.append((vpc_id, cidr))
        v6_of[vpc_id] = v6
    subnets: list[tuple[str, str, str, str]] = []  # (subnet id, vpc id, v4, v6)
    for k, (vpc_id, _) in enumerate(vpcs):
        for j in range(draw(st.integers(1, 2))):
            v4, v6 = f"10.{k}.{j}.0/24", f"2600:1f18:{k:x}00:{j:x}::/64"
            subnets.append((builder.subnet(vpc_id, v4, ipv6=v6), vpc_id, v4, v6))
    pool = _peer_pool(vpcs, subnets)
    # peering: the first two VPCs, routed both ways (or one way only, or not at all)
    if draw(st.integers(0, 4)):
        (a, a_cidr), (b, b_cidr) = vpcs[0], vpcs[1]
        pcx = builder.peering(a, b)
        if draw(st.integers(0, 6)):
            builder.main_table(a)["Routes"].append({"DestinationCidrBlock": b_cidr, "VpcPeeringConnectionId": pcx,
                                                    "State": "active", "Origin": "CreateRoute"})
        if draw(st.integers(0, 6)):
            builder.main_table(b)["Routes"].append({"DestinationCidrBlock": a_cidr, "VpcPeeringConnectionId": pcx,
                                                    "State": "active", "Origin": "CreateRoute"})
    # prefix lists: one in the snapshot, one referenced but missing
    present = builder.prefix_list("office", [draw(st.sampled_from(pool[2:]))])
    missing_list = "pl-0000000000000dead"
    missing_group = "sg-0000000000000dead"
    # network ACLs: most subnets get their own, with deny and allow entries
    for subnet_id, vpc_id, _, _ in subnets:
        if not draw(st.integers(0, 3)):
            continue
        entries = []
        numbers = draw(st.lists(st.integers(1, 200), min_size=1, max_size=5, unique=True))
        for number in numbers:
            for egress in (False, True):
                if not draw(st.integers(0, 2)):
                    continue
                protocol = draw(st.sampled_from(["-1", "6", "17", "1", "58"]))
                ports = None
                if protocol in ("6", "17"):
                    lo = draw(st.sampled_from([0, 22, 80, 443, 1024, 3306, 32768]))
                    ports = (lo, draw(st.sampled_from([lo, lo + 100, 65535])))
                entries.append(acl_entry(number, draw(st.sampled_from(["allow", "deny"])), egress,
                                         draw(st.sampled_from(pool)), protocol, ports=ports))
        if draw(st.integers(0, 3)):  # an allow-all under the specific entries, most of the time
            entries += [acl_entry(300, "allow", e, c) for e in (False, True) for c in ("0.0.0.0/0", "::/0")]
        builder.nacl(vpc_id, [subnet_id], entries)
    # security groups: 2-3 per VPC, created first so rules can reference each other
    groups: dict[str, list[str]] = {}
    for vpc_id, _ in vpcs:
        groups[vpc_id] = [builder.security_group(vpc_id, f"g{n}", [], None) for n in range(draw(st.integers(2, 3)))]
    every_group = [g for gs in groups.values() for g in gs]
    for record in builder.data["SecurityGroups"]:
        for field in ("IpPermissions", "IpPermissionsEgress"):
            rules = []
            if field == "IpPermissionsEgress" and draw(st.integers(0, 3)):
                record[field] = [ALL_OUT]  # most groups let everything out, as AWS creates them
                continue
            for _ in range(draw(st.integers(1, 4))):
                protocol = draw(st.sampled_from(["tcp", "udp", "icmp", "icmpv6", "-1"]))
                rule: dict[str, Any] = {"IpProtocol": protocol}
                if protocol in ("tcp", "udp"):
                    port = draw(st.sampled_from(PORTS))
                    rule.update(FromPort=port, ToPort=draw(st.sampled_from([port, port + 1000, 65535])))
                elif protocol in ("icmp", "icmpv6"):
                    rule.update(FromPort=draw(st.sampled_from([-1, 8, 128])), ToPort=-1)
                peer = draw(st.sampled_from(["cidr", "cidr", "group", "group", "prefix", "missing"]))
                if peer == "cidr":
                    cidr = draw(st.sampled_from(pool))
                    rule["Ipv6Ranges" if ":" in cidr else "IpRanges"] = (
                        [{"CidrIpv6": cidr}] if ":" in cidr else [{"CidrIp": cidr}])
                elif peer == "group":
                    rule["UserIdGroupPairs"] = [{"GroupId": draw(st.sampled_from(every_group))}]
                elif peer == "prefix":
                    rule["PrefixListIds"] = [{"PrefixListId": draw(st.sampled_from([present, missing_list]))}]
                else:
                    rule["UserIdGroupPairs"] = [{"GroupId": missing_group}]
                rules.append(rule)
            record[field] = rules
    # interfaces: 1-2 per subnet, each with one to three groups of its VPC
    interfaces = []
    for subnet_id, vpc_id, v4, v6 in subnets:
        for m in range(draw(st.integers(1, 2))):
            ip = str(ipaddress.ip_network(v4)[10 + m])
            ip6 = str(ipaddress.ip_network(v6)[16 + m]) if draw(st.booleans()) else None
            chosen = draw(st.lists(st.sampled_from(groups[vpc_id]), min_size=1, max_size=3, unique=True))
            eni = builder.interface(subnet_id, ip, chosen, ipv6=[ip6] if ip6 else None)
            interfaces.append((eni, ip, ip6))
    folder = Path(tempfile.mkdtemp(prefix="reach-one-engine-"))
    return Drawn(builder.write(folder), interfaces)


@st.composite
def flows(draw: st.DrawFn, drawn: Drawn) -> list[tuple[str, str, str, str, int]]:
    """(src address, dst address, protocol, port or ICMP type, client port), between two interfaces."""
    out = []
    for _ in range(draw(st.integers(1, 4))):
        (_, src4, src6), (_, dst4, dst6) = draw(st.permutations(drawn.interfaces))[:2]
        if draw(st.booleans()):  # half the flows stay in the source's VPC
            near = [i for i in drawn.interfaces if i[1].split(".")[1] == src4.split(".")[1] and i[1] != src4]
            if near:
                _, dst4, dst6 = draw(st.sampled_from(near))
        six = src6 is not None and dst6 is not None and draw(st.booleans())
        protocol = draw(st.sampled_from(PROTOCOLS))
        if protocol == "icmp":  # flow logs do not log the ICMP type: reconcile assumes echo, so ask for echo
            protocol, port = ("icmpv6", 128) if six else ("icmp", 8)
        else:
            port = draw(st.sampled_from(PORTS))
        src, dst = (src6, dst6) if six else (src4, dst4)
        out.append((str(src), str(dst), protocol, port, draw(st.integers(32768, 60999))))
    return out


_FLAGS = {False: 2, True: 18}  # SYN for a request, SYN-ACK for its response: how reconcile tells them apart


def _records(explanation: Explanation) -> list[dict[str, Any]]:
    rows = []
    for k, r in enumerate(explanation.flow_logs):
        rows.append({
            "version": 5, "account_id": "123456789012", "interface_id": r.interface_id, "srcaddr": r.srcaddr,
            "dstaddr": r.dstaddr, "srcport": r.srcport, "dstport": r.dstport, "protocol": r.protocol,
            "packets": 1, "bytes": 60, "start": 1_700_000_000 + k, "end": 1_700_000_059 + k, "action": r.action,
            "log_status": "OK", "flow_direction": r.direction,
            "tcp_flags": _FLAGS[r.return_path] if r.protocol == 6 else None,
        })
    return rows


def _identity(x: Any) -> tuple[Any, ...]:
    return (x.kind, x.id, x.direction, x.rule, x.return_path)


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data())
def test_explain_reconcile_and_the_header_space_agree(data: st.DataObject) -> None:
    drawn = data.draw(networks())
    snapshot = Snapshot.load(drawn.folder, cache=False)
    network = snapshot.network
    for src, dst, protocol, port, client_port in data.draw(flows(drawn)):
        explanation = snapshot.explain(src, dst, port, protocol=protocol, src_port=client_port)
        rows = _records(explanation)
        event(f"{explanation.verdict} {explanation.reason}")
        event(f"records: {sorted({(r['action'], r['flow_direction'], r['tcp_flags'] == 18) for r in rows})}")
        if not rows:
            continue
        result = reconcile(network, [pa.RecordBatch.from_pylist(rows, schema=FLOW_LOG_SCHEMA)])
        blockers = [_identity(b) for b in explanation.blockers]
        story = f"{src} -> {dst} {protocol} {port}: {explanation.verdict} {blockers}"
        assert result.summary.evaluated == len(rows), story
        assert result.summary.disagree == 0, (story, [d.model_dump() for d in result.disagreements])
        if any(r["action"] == "REJECT" for r in rows):
            first = explanation.blockers[0]
            assert [_identity(b) for b in result.blocking] == [_identity(first)], story
        for record in explanation.flow_logs:
            if record.return_path or record.protocol is None:
                continue
            interface = network.interfaces[record.interface_id]
            peer = record.srcaddr if record.direction == "ingress" else record.dstaddr
            family, value = parse_address(peer or "")
            stack = filter_stack(network, interface, record.direction)
            probe = Probe.one(family, value, record.protocol, record.dstport or (128 if family == 6 else 8)
                              if record.protocol in (1, 58) else record.dstport or 0)
            allowed, _ = _verdicts(stack, probe)
            assert bool(allowed[0]) == (record.action == "ACCEPT"), (story, record)
