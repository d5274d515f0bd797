"""reconcile: flow-log batches in, a short and certain answer out.

Batches are gathered into chunks of about a million records, and each chunk goes through the same named
passes, all on columns:

    place -> tell responses -> predict (kernel, per distinct key) -> count and attribute REJECTs -> drift

A worker thread runs them on one chunk while the calling thread reads and gathers the next: Arrow's parser
and NumPy release the GIL for their work, so reading and reconciling overlap on two cores. Memory follows
the number of groups (rules, disagreement groups, keys x time buckets) and the two chunks in flight, not
the number of records.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from reach.flowlogs import FLOW_LOG_SCHEMA, FlowLogStats
from reach.model.network import Network
from reach.model.rules import RuleRef
from reach.model.vocabulary import Kind
from reach.reconcile.addresses import AddressClasses
from reach.reconcile.attribute import BlockingGroups
from reach.reconcile.cloudtrail import CloudTrail
from reach.reconcile.drift import MAX_GROUPS, Drift, History
from reach.reconcile.place import InterfaceIndex, Placed, PlaceStats, place
from reach.reconcile.predict import Prediction, Predictor, probe_port
from reach.reconcile.responses import METHOD_NAMES, ResponseClassifier, flow_key
from reach.reconcile.result import BadLine, ReconcileResult, SkippedInterface, Summary
from reach.reconcile.usage import RuleUse


def _rule_bound(network: Network) -> int:
    """At most this many distinct rules can decide a record (lines, implicit denies, BPA)."""
    lines = sum(len(t) for g in network.security_groups.values() for t in (g.ingress, g.egress))
    lines += sum(len(t) for a in network.nacls.values() for t in (a.ingress, a.egress))
    return lines + 2 * (len(network.interfaces) + len(network.security_groups) + len(network.nacls)) + 1


@dataclass(frozen=True)
class _Analysed:
    placed: Placed
    response: np.ndarray
    service: np.ndarray
    prediction: Prediction


class Reconciler:
    """Folds batches in, a chunk of about a million records at a time; `result()` gives the answer."""

    CHUNK = 1 << 20

    def __init__(self, network: Network, *, rule_usage: bool = True) -> None:
        self.network = network
        self.rule_usage = rule_usage
        self.interfaces = InterfaceIndex.of(network)
        self.classes = AddressClasses.of(network)
        self.predictor = Predictor(network, self.interfaces, self.classes)
        self.classifier = ResponseClassifier()
        self.placing = PlaceStats()
        self.blocking = BlockingGroups()
        self.history = History(len(self.interfaces.ids), _rule_bound(network))
        self.drift = Drift(self.history)
        self.usage = RuleUse(len(self.interfaces.ids))
        self._bpa = self.predictor.registry.add(RuleRef(
            Kind.VPC_BLOCK_PUBLIC_ACCESS, None, None, None, "VPC Block Public Access rejected it (reject-reason BPA)",
            implicit=True))
        self.rows = 0
        self.evaluated = 0
        self.agree = 0
        self.responses = 0
        self._pending: list[pa.RecordBatch] = []
        self._pending_rows = 0
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reach-analyse")
        self._inflight: Future[None] | None = None

    def add(self, batch: pa.RecordBatch) -> None:
        self.rows += batch.num_rows
        self._pending.append(batch.select(FLOW_LOG_SCHEMA.names))
        self._pending_rows += batch.num_rows
        if self._pending_rows >= self.CHUNK:
            self.flush()

    def flush(self) -> None:
        """Hand what is pending to the worker thread as one chunk (after the one before is done).

        The worker analyses (place, tell responses, predict) and folds (count, attribute, collect drift) one
        chunk while this thread reads and gathers the next: Arrow's parser and NumPy release the GIL for
        their work, so reading and reconciling overlap on two cores.
        """
        self._wait()
        if self._pending:
            chunk = pa.Table.from_batches(self._pending)
            self._pending, self._pending_rows = [], 0
            self._inflight = self._worker.submit(self._process, chunk)

    def _wait(self) -> None:
        if self._inflight is not None:
            self._inflight.result()  # raises what the worker raised
            self._inflight = None

    def _process(self, chunk: pa.Table) -> None:
        analysed = self._analyse(chunk)
        if analysed is not None:
            self._fold(analysed)

    def _analyse(self, chunk: pa.Table) -> _Analysed | None:
        placed = place(chunk, self.interfaces, self.classes, self.placing)
        if not len(placed):
            return None
        response, _ = self.classifier.classify(placed)
        ported = (placed.protocol == 6) | (placed.protocol == 17)
        service = np.where(ported, np.where(response, placed.srcport, placed.dstport), 0).astype(np.int32)
        prediction = self.predictor.predict(placed.interface, placed.egress, response, placed.protocol,
                                            placed.dstport, placed.peer_class, service)
        return _Analysed(placed, response, service, prediction)

    def _fold(self, analysed: _Analysed) -> None:
        placed, response, service, p = analysed.placed, analysed.response, analysed.service, analysed.prediction
        n = len(placed)
        row, refs = p.row, p.ref
        reject, ref = p.reject[row], refs[row]
        bpa = np.flatnonzero(placed.bpa & ~placed.accept)
        if len(bpa):  # VPC Block Public Access is not in the snapshot; the record names it
            row = row.copy()
            row[bpa] = len(refs) + np.arange(len(bpa))
            refs = np.concatenate([refs, np.full(len(bpa), self._bpa, dtype=np.int32)])
            reject[bpa], ref[bpa] = True, self._bpa
        observed_reject = ~placed.accept
        agree = observed_reject == reject

        self.evaluated += n
        self.agree += int(agree.sum())
        self.responses += int(response.sum())
        columns = {k: np.concatenate([v, v[p.row[bpa]]]) if len(bpa) else v for k, v in p.columns.items()}
        keys = self.history.key(columns["interface"], columns["egress"], columns["response"], columns["protocol"],
                                columns["service_port"], refs)
        self.history.add(keys, row, placed.accept, placed.start, placed.end, np.flatnonzero(~agree))

        if self.rule_usage:
            self._use(placed, response, p)

        explained = np.flatnonzero(observed_reject & reject)
        if len(explained):
            resp = response[explained]
            flows = flow_key(placed, explained, reverse=resp)  # a response counts as its request's flow
            self.blocking.add_flows(ref[explained], resp, flows)

        wrong = np.flatnonzero(~agree)
        if len(wrong):
            (sf, sh, sl), (df, dh, dl) = placed.src, placed.dst
            at = p.row[wrong]
            self.drift.add_disagreements({
                "interface": placed.interface[wrong], "egress": placed.egress[wrong], "response": response[wrong],
                "sf": sf[wrong], "sh": sh[wrong], "sl": sl[wrong], "df": df[wrong], "dh": dh[wrong],
                "dl": dl[wrong], "service_port": service[wrong], "protocol": placed.protocol[wrong],
                "accept": placed.accept[wrong], "ref": ref[wrong], "sg_ref": p.sg_ref[at], "nacl_ref": p.nacl_ref[at],
                "start": placed.start[wrong], "end": placed.end[wrong], "dstport": placed.dstport[wrong],
                "srcport": placed.srcport[wrong],
            })

    def _use(self, placed: Placed, response: np.ndarray, p: Prediction) -> None:
        """Attribute each observed ACCEPT to the lines that allowed it: its security group line (requests
        only: responses pass on tracking) and its network ACL entry (where it crossed the ACL)."""
        accepted = np.flatnonzero(placed.accept)
        allows = np.array(self.predictor.registry.allow, dtype=bool)
        lines = []
        for refs in (p.sg_ref, p.nacl_ref):
            line = refs[p.row[accepted]]
            lines.append(np.where((line >= 0) & allows[np.maximum(line, 0)], line, -1))
        egress = placed.egress[accepted]
        (sf, sh, sl), (df, dh, dl) = placed.src, placed.dst
        family = np.where(egress, df[accepted], sf[accepted])
        hi, lo = np.where(egress, dh[accepted], sh[accepted]), np.where(egress, dl[accepted], sl[accepted])
        protocol = placed.protocol[accepted]
        port = probe_port(protocol, placed.dstport[accepted], response[accepted])
        flows = flow_key(placed, accepted, reverse=response[accepted])
        self.usage.add(placed.interface, tuple(lines), family, hi, lo, protocol, port, placed.start[accepted],
                       placed.end[accepted], flows)

    def close(self) -> None:
        """Stop the worker thread (after a read error, say); `result()` does it too."""
        self._worker.shutdown(wait=False, cancel_futures=True)

    def result(self, read_stats: FlowLogStats | None = None, cloudtrail: CloudTrail | None = None) -> ReconcileResult:
        self.flush()
        self._wait()
        self._worker.shutdown()
        registry = self.predictor.registry
        ids = self.interfaces.ids
        totals = self.history.totals()
        blocking = self.blocking.result(self.history, totals, registry, ids)
        disagreements, groups = self.drift.result(registry, ids, self.network, cloudtrail, self.history.detail())
        p = self.placing
        records = read_stats.records if read_stats is not None else self.rows
        methods = self.classifier.methods
        seen = totals.num_rows > 0
        summary = Summary(
            records=records, evaluated=self.evaluated, agree=self.agree, disagree=self.evaluated - self.agree,
            skipped=p.skipped, unparsable=read_stats.unparsable if read_stats is not None else 0,
            nodata=p.nodata, skipdata=p.skipdata, no_action=p.no_action,
            unknown_interface=sum(p.unknown_interface.values()), unplaceable=sum(p.unplaceable.values()),
            responses=self.responses,
            response_methods={name: int(methods[i]) for i, name in enumerate(METHOD_NAMES)},
            keys=self.predictor.evaluated_keys,
            first_seen=pc.min(totals["first"]).as_py() if seen else None,
            last_seen=pc.max(totals["end"]).as_py() if seen else None,
        )
        skipped = [SkippedInterface(interface_id=i, records=n, reason="not in the snapshot")
                   for i, n in p.unknown_interface.most_common()]
        skipped += [SkippedInterface(interface_id=i, records=n,
                                     reason="neither address is the interface's and the format has no flow-direction")
                    for i, n in p.unplaceable.most_common()]
        notes = []
        if groups > len(disagreements):
            notes.append(f"{groups - len(disagreements)} more disagreement groups are not listed "
                         f"(the {MAX_GROUPS} with most records are)")
        if any(r.protocol in ("icmp", "icmpv6") for r in disagreements) or any(
                b.ports and any(x.startswith("icmp") for x in b.ports) for b in blocking):
            notes.append("flow logs do not log ICMP types: ICMP records were taken as echo requests and replies")
        bad = [BadLine(source=b.source, line=b.line, text=b.text, reason=b.reason)
               for b in (read_stats.bad_lines if read_stats is not None else [])]
        return ReconcileResult(
            summary=summary, blocking=blocking, disagreements=disagreements, skipped_interfaces=skipped,
            bad_lines=bad, cloudtrail_events=len(cloudtrail.events) if cloudtrail is not None else None, notes=notes,
            rule_usage=self.usage.result(self.network, registry, ids) if self.rule_usage else [],
        )


def reconcile(network: Network, batches: Iterable[pa.RecordBatch], *, read_stats: FlowLogStats | None = None,
              cloudtrail: CloudTrail | None = None, rule_usage: bool = True) -> ReconcileResult:
    """Check every flow-log record against the network: which rules reject what, where reality and the
    snapshot disagree, since when and (with CloudTrail) after which change.

    `read_stats` is the reader's count of records and unparsable lines (a FlowLogStream's `stats`, complete
    once the batches are consumed).
    """
    reconciler = Reconciler(network, rule_usage=rule_usage)
    try:
        for batch in batches:
            reconciler.add(batch)
        return reconciler.result(read_stats, cloudtrail)
    finally:
        reconciler.close()

