"""What reconciling part of the records found, in a form that folds exactly with any other part.

A chunk, a file, a byte range of a file, a worker process or a Spark partition each make a `Partial`;
`merge` folds two into one, and the order of merging never changes the answer: counts add up, sketches
keep the smallest hashes of both, per-key tables fold by their keys (cells.py), rules are named by stable
ids (refs.py). Records whose response cannot be told alone (pairing candidates) wait in `candidates`, by
partition, until every record is in.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from reach.model.rules import RuleRef
from reach.reconcile.attribute import DistinctCounter
from reach.reconcile.cells import CellStore, PairSpool
from reach.reconcile.drift import TABLES, RuleSeries
from reach.reconcile.place import PlaceStats
from reach.reconcile.usage import RuleUse

PAIR_PARTITIONS = 64  # pairing candidates are resolved in this many independent partitions


@dataclass
class Partial:
    interfaces: int
    rows: int = 0
    evaluated: int = 0
    agree: int = 0
    responses: int = 0
    methods: np.ndarray = field(default_factory=lambda: np.zeros(3, dtype=np.int64))
    placing: PlaceStats = field(default_factory=PlaceStats)
    key_hashes: list[np.ndarray] = field(default_factory=list)  # of the kernel keys decided (counted at the end)
    flows: DistinctCounter = field(default_factory=DistinctCounter)  # distinct flows per blocking rule
    rules: RuleSeries = field(default_factory=RuleSeries)
    refs: dict[int, tuple[RuleRef, bool]] = field(default_factory=dict)  # stable id -> rule
    cells: CellStore = field(default_factory=lambda: CellStore(TABLES))
    candidates: PairSpool = field(default_factory=lambda: PairSpool(PAIR_PARTITIONS))
    usage: RuleUse | None = None

    def __post_init__(self) -> None:
        if self.usage is None:
            self.usage = RuleUse(self.interfaces)

    def merge(self, other: Partial) -> None:
        self.rows += other.rows
        self.evaluated += other.evaluated
        self.agree += other.agree
        self.responses += other.responses
        self.methods = self.methods + other.methods
        self.placing.merge(other.placing)
        self.key_hashes.extend(other.key_hashes)
        self.flows.merge(other.flows)
        self.rules.merge(other.rules)
        self.refs.update(other.refs)
        self.cells.merge(other.cells)
        self.candidates.merge(other.candidates)
        assert self.usage is not None and other.usage is not None
        self.usage.merge(other.usage)
