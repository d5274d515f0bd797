"""reconcile: flow-log batches in, a short and certain answer out.

Each batch goes through the same named passes, all on columns:

    place -> tell responses -> predict (kernel, per distinct key) -> attribute REJECTs -> collect drift

Memory follows the number of groups (rules, disagreement groups, change keys x minutes), not the number of
records: batches are dropped as soon as they are folded in.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from queue import Empty, Queue
from typing import cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from reach.flowlogs import FLOW_LOG_SCHEMA, FlowLogStats
from reach.model.network import Network
from reach.reconcile.addresses import AddressClasses
from reach.reconcile.attribute import BlockingGroups
from reach.reconcile.cloudtrail import CloudTrail
from reach.reconcile.drift import MAX_GROUPS, Drift, History
from reach.reconcile.place import InterfaceIndex, PlaceStats, place
from reach.reconcile.predict import Predictor, Rule
from reach.reconcile.responses import METHOD_NAMES, ResponseClassifier, flow_key
from reach.reconcile.result import BadLine, ReconcileResult, SkippedInterface, Summary


def _rule_bound(network: Network) -> int:
    """At most this many distinct rules can decide a record (lines, implicit denies, BPA)."""
    lines = sum(len(t) for g in network.security_groups.values() for t in (g.ingress, g.egress))
    lines += sum(len(t) for a in network.nacls.values() for t in (a.ingress, a.egress))
    return lines + 2 * (len(network.interfaces) + len(network.security_groups) + len(network.nacls)) + 1


class Reconciler:
    """Folds batches in, a chunk of about a million records at a time; `result()` gives the answer."""

    CHUNK = 1 << 20

    def __init__(self, network: Network) -> None:
        self.network = network
        self.interfaces = InterfaceIndex.of(network)
        self.classes = AddressClasses.of(network)
        self.predictor = Predictor(network, self.interfaces, self.classes)
        self.classifier = ResponseClassifier()
        self.placing = PlaceStats()
        self.blocking = BlockingGroups()
        self.history = History(len(self.interfaces.ids), _rule_bound(network))
        self.drift = Drift(self.history)
        self._bpa = self.predictor.registry.add(("bpa",), Rule(
            "vpc-block-public-access", None, None, None, "VPC Block Public Access rejected it (reject-reason BPA)",
            implicit=True))
        self.rows = 0
        self.evaluated = 0
        self.agree = 0
        self.responses = 0
        self._pending: list[pa.RecordBatch] = []
        self._pending_rows = 0

    def add(self, batch: pa.RecordBatch) -> None:
        self.rows += batch.num_rows
        self._pending.append(batch.select(FLOW_LOG_SCHEMA.names))
        self._pending_rows += batch.num_rows
        if self._pending_rows >= self.CHUNK:
            self.flush()

    def flush(self) -> None:
        """Process what is pending as one chunk."""
        if not self._pending:
            return
        chunk = pa.Table.from_batches(self._pending)
        self._pending, self._pending_rows = [], 0
        self._process(chunk)

    def _process(self, chunk: pa.Table) -> None:
        placed = place(chunk, self.interfaces, self.classes, self.placing)
        n = len(placed)
        if not n:
            return
        response, _ = self.classifier.classify(placed)
        prediction = self.predictor.predict(placed.interface, placed.egress, response, placed.protocol,
                                            placed.dstport, placed.peer_class)
        reject, ref = prediction.reject, prediction.ref
        bpa = placed.bpa & ~placed.accept
        if bpa.any():  # VPC Block Public Access is not in the snapshot; the record names it
            reject, ref = reject | bpa, np.where(bpa, self._bpa, ref).astype(np.int32)
        observed_reject = ~placed.accept
        agree = observed_reject == reject
        ported = (placed.protocol == 6) | (placed.protocol == 17)
        service = np.where(ported, np.where(response, placed.srcport, placed.dstport), 0).astype(np.int32)

        self.evaluated += n
        self.agree += int(agree.sum())
        self.responses += int(response.sum())
        key = self.history.key(placed.interface, placed.egress, response, placed.protocol, service, ref)
        self.history.add(key, placed.accept, placed.start, placed.end)

        explained = np.flatnonzero(observed_reject & reject)
        if len(explained):
            resp = response[explained]
            flows = np.where(resp, flow_key(placed, explained, reverse=True),
                             flow_key(placed, explained, reverse=False))
            self.blocking.add_flows(ref[explained], resp, flows)

        wrong = np.flatnonzero(~agree)
        if len(wrong):
            (sf, sh, sl), (df, dh, dl) = placed.src, placed.dst
            columns = {
                "interface": placed.interface, "egress": placed.egress, "response": response,
                "sf": sf, "sh": sh, "sl": sl, "df": df, "dh": dh, "dl": dl, "service_port": service,
                "protocol": placed.protocol, "accept": placed.accept, "ref": ref, "sg_ref": prediction.sg_ref,
                "nacl_ref": prediction.nacl_ref, "start": placed.start, "end": placed.end,
                "dstport": placed.dstport, "srcport": placed.srcport,
            }
            self.drift.add_disagreements({k: v[wrong] for k, v in columns.items()})

    def result(self, read_stats: FlowLogStats | None = None, cloudtrail: CloudTrail | None = None) -> ReconcileResult:
        self.flush()
        registry = self.predictor.registry
        ids = self.interfaces.ids
        history = self.history.table()
        blocking = self.blocking.result(self.history, history, registry, ids)
        disagreements, groups = self.drift.result(registry, ids, self.network, cloudtrail, history)
        p = self.placing
        records = read_stats.records if read_stats is not None else self.rows
        methods = self.classifier.methods
        seen = history.num_rows > 0
        summary = Summary(
            records=records, evaluated=self.evaluated, agree=self.agree, disagree=self.evaluated - self.agree,
            skipped=p.skipped, unparsable=read_stats.unparsable if read_stats is not None else 0,
            nodata=p.nodata, skipdata=p.skipdata, no_action=p.no_action,
            unknown_interface=sum(p.unknown_interface.values()), unplaceable=sum(p.unplaceable.values()),
            responses=self.responses,
            response_methods={name: int(methods[i]) for i, name in enumerate(METHOD_NAMES)},
            keys=self.predictor.evaluated_keys,
            first_seen=pc.min(history["first"]).as_py() if seen else None,
            last_seen=pc.max(history["end"]).as_py() if seen else None,
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
        )


def reconcile(network: Network, batches: Iterable[pa.RecordBatch], *, read_stats: FlowLogStats | None = None,
              cloudtrail: CloudTrail | None = None) -> ReconcileResult:
    """Check every flow-log record against the network: which rules reject what, where reality and the
    snapshot disagree, since when and (with CloudTrail) after which change.

    `read_stats` is the reader's count of records and unparsable lines (a FlowLogStream's `stats`, complete
    once the batches are consumed).
    """
    reconciler = Reconciler(network)
    for batch in prefetch(batches):
        reconciler.add(batch)
    return reconciler.result(read_stats, cloudtrail)


_DONE = object()


def prefetch(batches: Iterable[pa.RecordBatch], depth: int = 4) -> Iterator[pa.RecordBatch]:
    """Read the batches in a background thread while the caller works on the previous ones.

    Parsing (Arrow's CSV reader) and reconciling (NumPy) both release the GIL for most of their work, so on
    two cores they overlap. At most `depth` batches wait in between; an error in the reader is raised here.
    """
    queue: Queue[object] = Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for batch in batches:
                if stop.is_set():
                    return
                queue.put(batch)
        except BaseException as exc:  # handed to the consumer, which raises it: nothing is swallowed
            queue.put(exc)
            return
        queue.put(_DONE)

    worker = threading.Thread(target=produce, name="reach-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item = queue.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield cast(pa.RecordBatch, item)
    finally:
        stop.set()
        while worker.is_alive():  # unblock a producer waiting on a full queue
            try:
                queue.get_nowait()
            except Empty:
                worker.join(timeout=0.01)
