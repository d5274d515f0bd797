"""Distinct flows per rule: of the observed REJECTs each blocking rule explains, and of the ACCEPTs each
allow line let through (rule usage). The blocking groups themselves are folded in finish.py.

A flow is a 5-tuple (client address and port, server address and port, protocol), as AWS counts flows;
a request and its response are one flow. Distinct flows are counted with a k-minimum-values sketch of
their hashes: exact up to 4096 flows per rule, an estimate within a few percent beyond, in bounded memory.
"""

from __future__ import annotations

import numpy as np

from reach.reconcile.arrays import dense, distinct

SKETCH = 4096


class DistinctCounter:
    """Distinct hashes per group, as k-minimum-values sketches: per group, the SKETCH smallest hashes.

    Groups are named by any int64 (stable rule ids, say) and numbered densely inside the counter. All sketches
    live in one sorted int64 column, that number in the high bits and the hash's top 40 bits below, so
    merging a chunk in is one sort, whatever the number of groups. Merging two counters is exact: the union's
    sketch is the smallest hashes of both.
    """

    _HASH_BITS = 40
    _SLICE = 1 << 17

    def __init__(self) -> None:
        self._entries = np.zeros(0, dtype=np.int64)
        self._names = np.zeros(0, dtype=np.int64)  # group name of each dense number
        self._number: dict[int, int] = {}
        # per group, the largest hash its full sketch keeps: a larger one can never enter it
        self._limit = np.zeros(0, dtype=np.int64)

    def _numbers(self, names: np.ndarray) -> np.ndarray:
        distinct_names, inverse = dense(names)
        numbers = np.array([self._number.setdefault(int(g), len(self._number)) for g in distinct_names.tolist()],
                           dtype=np.int64)
        if len(self._number) > len(self._names):
            self._names = np.array(list(self._number), dtype=np.int64)
        return numbers[inverse]

    def add(self, ref: np.ndarray, response: np.ndarray, hashes: np.ndarray) -> None:
        if not len(ref):
            return
        group = self._numbers(ref.astype(np.int64) * 2 + response)
        top = (hashes >> np.uint64(64 - self._HASH_BITS)).astype(np.int64)
        # In slices, so that the groups a slice fills filter the next slices: past SKETCH distinct hashes a
        # group only takes hashes below its current largest, and most rows of a big group are dropped unsorted.
        # What passes the filter waits until it is about as large as the sketches, then merges in one sort:
        # merging each slice would sort every kept entry once a slice.
        pending: list[np.ndarray] = []
        waiting = 0
        for begin in range(0, len(group), self._SLICE):
            g, t = group[begin:begin + self._SLICE], top[begin:begin + self._SLICE]
            if len(self._limit):
                limit = self._limit[np.minimum(g, len(self._limit) - 1)]
                keep = (g >= len(self._limit)) | (t <= limit)
                g, t = g[keep], t[keep]
            if len(g):
                pending.append(distinct(g << self._HASH_BITS | t))
                waiting += len(pending[-1])
            if pending and (waiting >= len(self._entries) or begin + self._SLICE >= len(group)):
                self._keep(np.concatenate([self._entries, *pending]))
                pending, waiting = [], 0

    def _keep(self, entries: np.ndarray) -> None:
        """The SKETCH smallest distinct entries of each group."""
        entries = np.sort(entries, kind="stable")  # sorted runs: a merge
        entries = entries[np.r_[True, entries[1:] != entries[:-1]]]
        groups = entries >> self._HASH_BITS
        starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
        sizes = np.diff(np.r_[starts, len(entries)])
        rank = np.arange(len(entries)) - np.repeat(starts, sizes)
        self._entries = entries[rank < SKETCH]
        full = starts[sizes >= SKETCH]
        if len(full):
            last = full + SKETCH - 1  # the largest kept entry of each full group
            groups_full = groups[full]
            if int(groups_full.max()) >= len(self._limit):
                grown = np.full(int(groups_full.max()) + 1, 1 << self._HASH_BITS, dtype=np.int64)
                grown[: len(self._limit)] = self._limit
                self._limit = grown
            self._limit[groups_full] = entries[last] & ((1 << self._HASH_BITS) - 1)

    def merge(self, other: DistinctCounter) -> None:
        """Fold another counter in: the union's sketch is the smallest hashes of both, per group."""
        if not len(other._entries):
            return
        mine = self._numbers(other._names) if len(other._names) else np.zeros(0, dtype=np.int64)
        low = other._entries & ((1 << self._HASH_BITS) - 1)
        renamed = mine[other._entries >> self._HASH_BITS] << self._HASH_BITS | low
        self._keep(np.concatenate([self._entries, renamed]))

    def count(self, key: tuple[int, int]) -> tuple[int, bool]:
        """(distinct hashes in the group, whether that is an estimate)."""
        number = self._number.get(key[0] * 2 + key[1])
        if number is None:
            return 0, False
        lo, hi = np.searchsorted(self._entries, [number << self._HASH_BITS, (number + 1) << self._HASH_BITS])
        size = int(hi - lo)
        if size < SKETCH:
            return size, False
        kth = int(self._entries[hi - 1] & ((1 << self._HASH_BITS) - 1)) + 1
        return int((SKETCH - 1) * 2.0**self._HASH_BITS / kth), True
