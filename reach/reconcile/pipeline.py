"""reconcile: flow-log batches in, a short and certain answer out.

Batches are gathered into chunks of a quarter million records, and each chunk goes through the same named
passes, all on columns:

    place -> tell responses -> predict (kernel, per distinct key) -> count and attribute REJECTs -> drift

into a `Partial` (partial.py), which folds exactly with the partials of other chunks, files, worker
processes or Spark partitions. Records whose response only their reverse can tell (pairing candidates)
wait until every record is in; `resolve` then decides them, a partition of connections at a time.

A worker thread runs the passes on one chunk while the calling thread reads and gathers the next: Arrow's
parser and NumPy release the GIL for their work, so reading and reconciling overlap on two cores.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
import pyarrow as pa

from reach.flowlogs import FLOW_LOG_SCHEMA, FlowLogStats
from reach.model.network import Network
from reach.model.rules import RuleRef
from reach.model.vocabulary import Kind
from reach.reconcile.addresses import AddressClasses
from reach.reconcile.cloudtrail import CloudTrail
from reach.reconcile.drift import History, disagreement_rows, pack_slot
from reach.reconcile.finish import finish
from reach.reconcile.partial import Partial
from reach.reconcile.place import InterfaceIndex, Placed, place
from reach.reconcile.predict import Prediction, Predictor, probe_port
from reach.reconcile.refs import StableIds
from reach.reconcile.responses import ResponseClassifier, flow_key, pair_partition
from reach.reconcile.result import ReconcileResult

BPA = RuleRef(Kind.VPC_BLOCK_PUBLIC_ACCESS, None, None, None, "VPC Block Public Access rejected it (reject-reason BPA)",
              implicit=True)


def _kit(network: Network) -> tuple[InterfaceIndex, AddressClasses, Predictor, StableIds]:
    """The network's indexes and its predictor, kept with it: every reconciler of a process (a worker reads
    many files and ranges) shares the keys the kernel has already decided."""
    found = network.__dict__.get("_reconcile_kit")
    if found is None:
        interfaces = InterfaceIndex.of(network)
        classes = AddressClasses.of(network)
        predictor = Predictor(network, interfaces, classes)
        found = network.__dict__["_reconcile_kit"] = (interfaces, classes, predictor, StableIds(predictor.registry))
    return found


class Reconciler:
    """Folds batches into a Partial, a chunk of a quarter million records at a time; `result()` gives the
    answer, `partial()` the part to merge with others."""

    CHUNK = 1 << 18  # records: a quarter million at a time keeps a worker near 0.5 GB

    def __init__(self, network: Network, *, rule_usage: bool = True, spool: str | None = None) -> None:
        self.network = network
        self.rule_usage = rule_usage
        self.interfaces, self.classes, self.predictor, self.stable = _kit(network)
        self.classifier = ResponseClassifier()
        self._bpa = self.predictor.registry.add(BPA)
        self.state = Partial(len(self.interfaces.ids))
        self.state.cells.spool = self.state.candidates.spool = spool
        self.history = History(self.state.cells)
        self.history.rules = self.state.rules
        self._pending: list[pa.RecordBatch] = []
        self._pending_rows = 0
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reach-analyse")
        self._inflight: Future[None] | None = None

    def add(self, batch: pa.RecordBatch) -> None:
        self.state.rows += batch.num_rows
        self._pending.append(batch.select(FLOW_LOG_SCHEMA.names))
        self._pending_rows += batch.num_rows
        if self._pending_rows >= self.CHUNK:
            self.flush()

    def flush(self) -> None:
        """Hand what is pending to the worker thread as one chunk (after the one before is done)."""
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
        placed = place(chunk, self.interfaces, self.classes, self.state.placing)
        if not len(placed):
            return
        response, method, candidate = self.classifier.tell(placed)
        if candidate.any():  # their answer waits for their reverse, wherever it is in the input
            held = np.flatnonzero(candidate)
            self.state.candidates.add(placed.take(held).to_table(),
                                      pair_partition(placed, held, self.state.candidates.partitions))
            kept = np.flatnonzero(~candidate)
            placed, response, method = placed.take(kept), response[kept], method[kept]
        self._decide(placed, response, method)

    def resolve(self, held: pa.Table) -> None:
        """Decide held pairing candidates: every record of their connections, both ways, is in `held`."""
        placed = Placed.from_table(held)
        response, method = self.classifier.resolve(placed)
        for begin in range(0, len(placed), self.CHUNK):
            rows = np.arange(begin, min(begin + self.CHUNK, len(placed)))
            self._decide(placed.take(rows), response[rows], method[rows])

    def resolve_held(self) -> None:
        """Resolve what this reconciler holds back itself, partition by partition."""
        self.flush()
        self._wait()
        spool = self.state.candidates
        for partition in range(spool.partitions):
            held = spool.take(partition)
            if held is not None:
                self.resolve(held)
        spool.rows = 0

    # ----- one chunk of records whose response is known ------------------------------------------

    def _decide(self, placed: Placed, response: np.ndarray, method: np.ndarray) -> None:
        if not len(placed):
            return
        self.classifier.count(response, method)
        ported = (placed.protocol == 6) | (placed.protocol == 17)
        service = np.where(ported, np.where(response, placed.srcport, placed.dstport), 0).astype(np.int32)
        prediction = self.predictor.predict(placed.interface, placed.egress, response, placed.protocol,
                                            placed.dstport, placed.peer_class, service)
        self._fold(placed, response, service, prediction)

    def _fold(self, placed: Placed, response: np.ndarray, service: np.ndarray, p: Prediction) -> None:
        state = self.state
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
        stable = self.stable.of
        state.evaluated += len(placed)
        state.agree += int(agree.sum())
        state.responses += int(response.sum())
        columns = {k: np.concatenate([v, v[p.row[bpa]]]) if len(bpa) else v for k, v in p.columns.items()}
        slot = pack_slot(columns["interface"], columns["egress"], columns["response"], columns["protocol"],
                         columns["service_port"])
        self.history.add(slot, stable(refs), row, placed.accept, placed.start, placed.end)

        if self.rule_usage:
            self._use(placed, response, p)

        explained = np.flatnonzero(observed_reject & reject)
        if len(explained):
            resp = response[explained]
            flows = flow_key(placed, explained, reverse=resp)  # a response counts as its request's flow
            state.flows.add(stable(ref[explained]), resp, flows)

        wrong = np.flatnonzero(~agree)
        if len(wrong):
            (sf, sh, sl), (df, dh, dl) = placed.src, placed.dst
            at = p.row[wrong]
            state.cells.add("groups", disagreement_rows({
                "interface": placed.interface[wrong], "egress": placed.egress[wrong], "response": response[wrong],
                "sf": sf[wrong], "sh": sh[wrong], "sl": sl[wrong], "df": df[wrong], "dh": dh[wrong],
                "dl": dl[wrong], "service_port": service[wrong], "protocol": placed.protocol[wrong],
                "accept": placed.accept[wrong], "ref": stable(ref[wrong]), "sg_ref": stable(p.sg_ref[at]),
                "nacl_ref": stable(p.nacl_ref[at]), "start": placed.start[wrong], "end": placed.end[wrong],
                "dstport": placed.dstport[wrong], "srcport": placed.srcport[wrong],
            }))

    def _use(self, placed: Placed, response: np.ndarray, p: Prediction) -> None:
        """Attribute each observed ACCEPT to the lines that allowed it: its security group line (requests
        only: responses pass on tracking) and its network ACL entry (where it crossed the ACL)."""
        accepted = np.flatnonzero(placed.accept)
        allows = np.array(self.predictor.registry.allow, dtype=bool)
        lines = []
        for refs in (p.sg_ref, p.nacl_ref):
            line = refs[p.row[accepted]]
            lines.append(self.stable.of(np.where((line >= 0) & allows[np.maximum(line, 0)], line, -1)))
        egress = placed.egress[accepted]
        (sf, sh, sl), (df, dh, dl) = placed.src, placed.dst
        family = np.where(egress, df[accepted], sf[accepted])
        hi, lo = np.where(egress, dh[accepted], sh[accepted]), np.where(egress, dl[accepted], sl[accepted])
        protocol = placed.protocol[accepted]
        port = probe_port(protocol, placed.dstport[accepted], response[accepted])
        flows = flow_key(placed, accepted, reverse=response[accepted])
        assert self.state.usage is not None
        self.state.usage.add(placed.interface, tuple(lines), family, hi, lo, protocol, port, placed.start[accepted],
                             placed.end[accepted], flows)

    # ----- the answer ----------------------------------------------------------------------------

    def close(self) -> None:
        """Stop the worker thread (after a read error, say); `result()` does it too."""
        self._worker.shutdown(wait=False, cancel_futures=True)

    def partial(self) -> Partial:
        """What this reconciler has folded (its held candidates included), to merge with other parts."""
        self.flush()
        self._wait()
        self._worker.shutdown()
        state = self.state
        state.refs.update(self.stable.rules)
        state.methods = state.methods + self.classifier.methods
        self.classifier.methods[:] = 0
        state.key_hashes.extend(self.predictor.key_hashes)
        self.predictor.key_hashes = []
        return state

    def result(self, read_stats: FlowLogStats | None = None, cloudtrail: CloudTrail | None = None) -> ReconcileResult:
        self.resolve_held()
        return finish(self.partial(), self.network, read_stats=read_stats, cloudtrail=cloudtrail,
                      rule_usage=self.rule_usage)


def reconcile(network: Network, batches: Iterable[pa.RecordBatch], *, read_stats: FlowLogStats | None = None,
              cloudtrail: CloudTrail | None = None, rule_usage: bool = True) -> ReconcileResult:
    """Check every flow-log record against the network: which rules reject what, where reality and the
    snapshot disagree, since when and (with CloudTrail) after which change.

    `read_stats` is the reader's count of records and unparsable lines (a FlowLogStream's `stats`, complete
    once the batches are consumed). This runs in the calling process; `reach.reconcile.parallel` spreads
    files over worker processes, and `reach.spark` over a Spark cluster, with the same answer.
    """
    reconciler = Reconciler(network, rule_usage=rule_usage)
    try:
        for batch in batches:
            reconciler.add(batch)
        return reconciler.result(read_stats, cloudtrail)
    finally:
        reconciler.close()
