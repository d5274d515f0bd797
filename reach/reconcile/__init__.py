"""Reconcile flow logs with the model: every REJECT attributed to its rule, every disagreement dated.

    result = reconcile(network, read_flow_logs(paths), read_stats=stream.stats, cloudtrail=CloudTrail.load(p))
    result.model_dump()        # CONTRACT §3's JSON, plus added fields

`observe(network, explanation, batches)` sets one explained flow next to what the logs recorded.
"""

from reach.reconcile.absence import observe
from reach.reconcile.cloudtrail import CloudTrail
from reach.reconcile.pipeline import Reconciler, reconcile
from reach.reconcile.result import ReconcileResult

__all__ = ["CloudTrail", "ReconcileResult", "Reconciler", "observe", "reconcile"]
