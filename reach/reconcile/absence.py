"""For one explained flow: what flow logs recorded on each interface, next to what the model predicts, and,
where they recorded nothing, why nothing may be expected.

A missing record is not evidence that nothing happened (aws-semantics C.9): routing drops are never logged,
some traffic is never logged at all (C.7), an interface may have no flow log, a flow log may capture only
ACCEPT or only REJECT, and SKIPDATA means records were lost.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from reach.engine.explanation import Explanation, FlowLogRecord
from reach.flowlogs import FlowLogStats
from reach.model.addr import IPV4, Cidr, parse_address
from reach.model.network import Network
from reach.reconcile.result import Observed, ObservedRecord, utc_text

_NEVER_LOGGED = [
    (Cidr.parse("169.254.169.254/32"), "instance metadata (169.254.169.254) is never logged"),
    (Cidr.parse("169.254.169.123/32"), "the Amazon Time Sync Service (169.254.169.123) is never logged"),
    (Cidr.parse("169.254.0.0/16"), "link-local traffic (169.254.0.0/16) is never logged"),
    (Cidr.parse("fd00:ec2::/32"), "traffic to AWS's reserved fd00:ec2::/32 services is never logged"),
]
_ROUTING = ("route-table", "internet-gateway", "egress-only-internet-gateway", "nat-gateway",
            "vpc-peering-connection", "transit-gateway", "transit-gateway-route-table", "vpc-endpoint",
            "vpn-gateway", "vpn-connection", "direct-connect-gateway", "aws-service")


@dataclass
class _Tally:
    accept: int = 0
    reject: int = 0
    first: int | None = None
    last: int | None = None

    def add(self, action: pa.Array, start: pa.Array, end: pa.Array) -> None:
        if not len(action):
            return
        self.accept += int(pc.sum(pc.equal(action, "ACCEPT")).as_py() or 0)
        self.reject += int(pc.sum(pc.equal(action, "REJECT")).as_py() or 0)
        low, high = pc.min(start).as_py(), pc.max(end).as_py()
        if low is not None:
            self.first = low if self.first is None else min(self.first, low)
        if high is not None:
            self.last = high if self.last is None else max(self.last, high)


@dataclass
class _Seen:
    tallies: list[_Tally]
    any_record: dict[str, int] = field(default_factory=dict)  # records per interface, whatever the flow
    skipdata: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    rows: int = 0


def _matches(batch: pa.RecordBatch, record: FlowLogRecord) -> pa.Array:
    mask = pc.and_(pc.equal(batch.column("interface_id"), record.interface_id),
                   pc.equal(batch.column("srcaddr"), record.srcaddr or ""))
    mask = pc.and_(mask, pc.equal(batch.column("dstaddr"), record.dstaddr or ""))
    if record.protocol is not None:
        mask = pc.and_(mask, pc.equal(batch.column("protocol"), record.protocol))
    for name, value in (("srcport", record.srcport), ("dstport", record.dstport)):
        if value is not None:
            mask = pc.and_(mask, pc.equal(batch.column(name), value))
    return pc.fill_null(mask, False)


def _collect(records: list[FlowLogRecord], batches: Iterable[pa.RecordBatch]) -> _Seen:
    seen = _Seen([_Tally() for _ in records])
    wanted = pa.array(sorted({r.interface_id for r in records}), pa.string())
    for batch in batches:
        seen.rows += batch.num_rows
        mine = pc.fill_null(pc.is_in(batch.column("interface_id"), value_set=wanted), False)
        if not pc.any(mine).as_py():
            continue
        batch = batch.filter(mine)
        counts = pc.value_counts(batch.column("interface_id"))
        for value, n in zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist(), strict=True):
            seen.any_record[value] = seen.any_record.get(value, 0) + n
        skipped = batch.filter(pc.fill_null(pc.equal(batch.column("log_status"), "SKIPDATA"), False))
        for row in skipped.select(["interface_id", "start", "end"]).to_pylist():
            seen.skipdata.setdefault(row["interface_id"], []).append((row["start"], row["end"]))
        for tally, record in zip(seen.tallies, records, strict=True):
            chosen = batch.filter(_matches(batch, record))
            tally.add(chosen.column("action"), chosen.column("start"), chosen.column("end"))
    return seen


def _never_logged(network: Network, record: FlowLogRecord) -> list[str]:
    reasons = []
    for text in (record.srcaddr, record.dstaddr):
        if not text:
            continue
        family, value = parse_address(text)
        reasons += [why for cidr, why in _NEVER_LOGGED if cidr.contains(family, value)]
        for vpc in network.vpcs.values():
            for cidr in vpc.cidrs:
                if family == IPV4 and cidr.family == IPV4 and value == cidr.start + 2:
                    reasons.append(f"traffic to the Amazon DNS server ({text}) is never logged")
        for subnet in network.subnets.values():
            for cidr in subnet.cidrs:
                if cidr.family == family and value == cidr.start + 1:
                    reasons.append(f"traffic to the VPC router's reserved address ({text}) is never logged")
    if record.protocol == 17 and {record.srcport, record.dstport} & {67, 68}:
        reasons.append("DHCP traffic is never logged")
    return list(dict.fromkeys(reasons))


def _coverage(network: Network, record: FlowLogRecord) -> list[str]:
    interface = network.interfaces.get(record.interface_id)
    if interface is None:
        return []
    if not network.flow_logs:
        return [f"the snapshot has no FlowLogs (describe-flow-logs), so whether {record.interface_id} is logged "
                "at all is unknown"]
    resources = {interface.id, interface.subnet_id, interface.vpc_id}
    covering = [f for f in network.flow_logs if f.resource_id in resources]
    if not covering:
        return [f"no flow log covers {record.interface_id}, its subnet {interface.subnet_id} or its VPC "
                f"{interface.vpc_id}"]
    reasons = []
    types = {(f.traffic_type or "ALL").upper() for f in covering}
    if "ALL" not in types and record.action not in types:
        ids = ", ".join(f.id for f in covering)
        reasons.append(f"the flow logs covering {record.interface_id} ({ids}) capture only "
                       f"{' and '.join(sorted(types))}, and this record would be {record.action}")
    broken = [f for f in covering if (f.status or "").upper() == "FAILED" or f.error]
    reasons += [f"flow log {f.id} fails to deliver" + (f" ({f.error})" if f.error else "") for f in broken]
    return reasons


def _why_none(network: Network, record: FlowLogRecord, seen: _Seen) -> list[str]:
    reasons = _never_logged(network, record) + _coverage(network, record)
    windows = seen.skipdata.get(record.interface_id, [])
    if windows:
        spans = ", ".join(f"{utc_text(a)} to {utc_text(b)}" for a, b in windows[:3])
        reasons.append(f"SKIPDATA on {record.interface_id} ({spans}{', …' if len(windows) > 3 else ''}): "
                       "records were lost in those windows")
    if not seen.any_record.get(record.interface_id):
        reasons.append(f"the logs read hold no record at all for {record.interface_id} (another file, another "
                       "time range, or delivery still pending)")
    return reasons or ["nothing in the snapshot explains the absence: the flow may simply not have happened "
                       "in the time the logs cover"]


def _unreached(explanation: Explanation) -> list[str]:
    notes = []
    for blocker in explanation.blockers:
        routing = blocker.kind in _ROUTING or (
            blocker.kind == "network-interface" and blocker.reason != "ENI_SOURCE_DEST_CHECK_RESTRICTION")
        if routing:
            where = "the response" if blocker.return_path else "the request"
            at = f"{blocker.kind} {blocker.id}" if blocker.id else blocker.kind
            notes.append(f"{where} is dropped at {at} ({blocker.reason}): {blocker.detail}. Routing drops are "
                         "never logged, so no interface further on records anything")
    return notes


def observe(network: Network, explanation: Explanation, batches: Iterable[pa.RecordBatch], *,
            read_stats: FlowLogStats | None = None) -> Observed:
    """The explained flow's predicted records, each with what the logs recorded for it."""
    predicted = list(explanation.flow_logs)
    seen = _collect(predicted, batches)
    out = []
    for record, tally in zip(predicted, seen.tallies, strict=True):
        total = tally.accept + tally.reject
        matching = tally.accept if record.action == "ACCEPT" else tally.reject
        out.append(ObservedRecord(
            interface_id=record.interface_id, direction=record.direction, predicted=record.action,
            return_path=record.return_path, srcaddr=record.srcaddr, dstaddr=record.dstaddr, srcport=record.srcport,
            dstport=record.dstport, protocol=record.protocol, records=total, accept=tally.accept, reject=tally.reject,
            first_seen=tally.first, last_seen=tally.last, agrees=None if not total else matching == total,
            why_none=_why_none(network, record, seen) if not total else [],
        ))
    return Observed(records=out, unreached=_unreached(explanation),
                    read=read_stats.records if read_stats is not None else seen.rows,
                    unparsable=read_stats.unparsable if read_stats is not None else 0)

