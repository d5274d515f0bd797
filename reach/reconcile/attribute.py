"""Observed REJECTs that the model explains, grouped by the rule responsible: records, distinct flows,
first and last seen, the services and interfaces involved.

A flow is a 5-tuple (client address and port, server address and port, protocol), as AWS counts flows;
a request and its response are one flow. Distinct flows are counted with a k-minimum-values sketch of
their hashes: exact up to 4096 flows per rule, an estimate within a few percent beyond, in bounded memory.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa

from reach.model.decision import RuleRegistry
from reach.model.rules import protocol_name
from reach.reconcile.arrays import distinct
from reach.reconcile.drift import History
from reach.reconcile.result import Blocking

_TOP = 5
SKETCH = 4096


class DistinctCounter:
    """Distinct hashes per group, as k-minimum-values sketches: per group, the SKETCH smallest hashes.

    All sketches live in one sorted int64 column, group in the high bits and the hash's top 40 bits below,
    so merging a chunk in is one sort, whatever the number of groups.
    """

    _HASH_BITS = 40
    _SLICE = 1 << 17

    def __init__(self) -> None:
        self._entries = np.zeros(0, dtype=np.int64)
        # per group, the largest hash its full sketch keeps: a larger one can never enter it
        self._limit = np.zeros(0, dtype=np.int64)

    def add(self, ref: np.ndarray, response: np.ndarray, hashes: np.ndarray) -> None:
        group = ref.astype(np.int64) * 2 + response
        top = (hashes >> np.uint64(64 - self._HASH_BITS)).astype(np.int64)
        # In slices, so that the groups a slice fills filter the next slices: past SKETCH distinct hashes a
        # group only takes hashes below its current largest, and most rows of a big group are dropped unsorted.
        for begin in range(0, len(group), self._SLICE):
            g, t = group[begin:begin + self._SLICE], top[begin:begin + self._SLICE]
            if len(self._limit):
                limit = self._limit[np.minimum(g, len(self._limit) - 1)]
                keep = (g >= len(self._limit)) | (t <= limit)
                g, t = g[keep], t[keep]
            if len(g):
                self._keep(np.concatenate([self._entries, distinct(g << self._HASH_BITS | t)]))

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
        self._keep(np.concatenate([self._entries, other._entries]))

    def count(self, key: tuple[int, int]) -> tuple[int, bool]:
        """(distinct hashes in the group, whether that is an estimate)."""
        group = key[0] * 2 + key[1]
        lo, hi = np.searchsorted(self._entries, [group << self._HASH_BITS, (group + 1) << self._HASH_BITS])
        size = int(hi - lo)
        if size < SKETCH:
            return size, False
        kth = int(self._entries[hi - 1] & ((1 << self._HASH_BITS) - 1)) + 1
        return int((SKETCH - 1) * 2.0**self._HASH_BITS / kth), True


class BlockingGroups:
    """The blocking groups, from the history table (drift.History) and a distinct-flow sketch per rule."""

    def __init__(self) -> None:
        self._flows = DistinctCounter()

    def add_flows(self, ref: np.ndarray, response: np.ndarray, flows: np.ndarray) -> None:
        """One chunk's explained REJECT records: their rule, whether a response, and their flow hash."""
        self._flows.add(ref, response, flows)

    def result(self, history: History, table: pa.Table, registry: RuleRegistry,
               interface_ids: list[str]) -> list[Blocking]:
        fields = history.columns(table["key"].to_numpy())
        explained = (table["accept"].to_numpy() == 0) & (fields["ref"] >= 0)
        rows = pa.table({
            "ref": fields["ref"][explained], "response": fields["response"][explained].astype(bool),
            "protocol": fields["protocol"][explained], "port": fields["service_port"][explained],
            "interface": fields["interface"][explained], "records": table["records"].to_numpy()[explained],
            "first": table["first"].to_numpy()[explained], "end": table["end"].to_numpy()[explained],
        })
        groups = rows.group_by(["ref", "response"], use_threads=False).aggregate(
            [("records", "sum"), ("first", "min"), ("end", "max")]).to_pylist()
        ports = _top(rows.group_by(["ref", "response", "protocol", "port"], use_threads=False).aggregate(
            [("records", "sum")]).to_pylist(), lambda r: _service(r["protocol"], r["port"]))
        interfaces = _top(rows.group_by(["ref", "response", "interface"], use_threads=False).aggregate(
            [("records", "sum")]).to_pylist(), lambda r: interface_ids[r["interface"]])
        timelines = history.rule_timelines()
        out = []
        for g in groups:
            key = (g["ref"], int(g["response"]))
            rule = registry.rules[g["ref"]]
            flows, estimated = self._flows.count(key)
            out.append(Blocking(
                kind=rule.kind, id=rule.id, direction=rule.direction, rule=rule.rule, return_path=bool(g["response"]),
                records=g["records_sum"], flows=flows, flows_estimated=estimated, first_seen=g["first_min"],
                last_seen=g["end_max"], groups=list(rule.groups) if rule.groups is not None else None,
                detail=rule.detail, ports=ports.get(key, []), interfaces=interfaces.get(key, []),
                timeline=timelines.get(key),
            ))
        out.sort(key=lambda b: (-b.records, b.first_seen, str(b.id), str(b.rule)))
        return out


def _service(protocol: int, port: int) -> str:
    name = protocol_name(protocol)
    return f"{name} {port}" if protocol in (6, 17) else name


def _top(rows: list[dict[str, int]], label: Callable[[dict[str, int]], str]) -> dict[tuple[int, int], list[str]]:
    """The most frequent labels per (ref, response) group."""
    by_group: dict[tuple[int, int], list[tuple[int, str]]] = {}
    for row in rows:
        by_group.setdefault((row["ref"], int(row["response"])), []).append((row["records_sum"], label(row)))
    return {k: [name for _, name in sorted(v, key=lambda x: (-x[0], x[1]))[:_TOP]] for k, v in by_group.items()}

