"""Column helpers for reconcile: packing keys, hashing tuples, and grouping partial results batch by batch.

Everything here works on whole NumPy/Arrow columns; nothing loops over records in Python.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_M1 = np.uint64(0x9E3779B97F4A7C15)
_M2 = np.uint64(0xBF58476D1CE4E5B9)
_M3 = np.uint64(0x94D049BB133111EB)


def mix64(*columns: np.ndarray) -> np.ndarray:
    """A 64-bit hash of each row of the columns (splitmix64 steps): for pairing and counting, never for
    deciding a verdict."""
    h = np.full(len(columns[0]), 0x243F6A8885A308D3, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for column in columns:
            h ^= column.astype(np.uint64, copy=False)
            h *= _M1
            h ^= h >> np.uint64(31)
            h *= _M2
            h ^= h >> np.uint64(29)
        h *= _M3
        h ^= h >> np.uint64(32)
    return h


def bit_width(count: int) -> int:
    """Bits needed for values 0..count-1."""
    return max(1, int(count - 1).bit_length())


class Packer:
    """Packs small non-negative integer columns into one int64 key, exactly (no hashing).

    Widths are fixed when the packer is made, so a key means the same thing in every batch. When the widths
    add up to more than 63 bits, rows are packed into two halves and each distinct pair is given a dense id
    that stays the same for the whole run.
    """

    def __init__(self, widths: Sequence[int]) -> None:
        self.widths = list(widths)
        self._split = self._split_at(self.widths)
        self._pairs: dict[tuple[int, int], int] = {}

    @staticmethod
    def _split_at(widths: list[int]) -> int | None:
        if sum(widths) <= 63:
            return None
        total = 0
        for i, width in enumerate(widths):
            if total + width > 63:
                return i
            total += width
        return len(widths)

    @staticmethod
    def _pack(columns: Sequence[np.ndarray], widths: Sequence[int]) -> np.ndarray:
        key = np.zeros(len(columns[0]), dtype=np.int64)
        for column, width in zip(columns, widths, strict=True):
            key <<= width
            key |= column.astype(np.int64, copy=False)
        return key

    def pack(self, columns: Sequence[np.ndarray]) -> np.ndarray:
        if self._split is None:
            return self._pack(columns, self.widths)
        a = self._pack(columns[: self._split], self.widths[: self._split])
        b = self._pack(columns[self._split :], self.widths[self._split :])
        pairs, inverse = np.unique(np.stack([a, b], axis=1), axis=0, return_inverse=True)
        ids = np.empty(len(pairs), dtype=np.int64)
        for i, (x, y) in enumerate(pairs.tolist()):
            ids[i] = self._pairs.setdefault((x, y), len(self._pairs))
        return ids[inverse.reshape(-1)]

    @staticmethod
    def _unpack(keys: np.ndarray, widths: Sequence[int]) -> list[np.ndarray]:
        out = []
        for width in reversed(widths):
            out.append(keys & ((1 << width) - 1))
            keys = keys >> width
        return out[::-1]

    def unpack(self, keys: np.ndarray) -> list[np.ndarray]:
        """The columns a key was packed from."""
        keys = np.asarray(keys, dtype=np.int64)
        if self._split is None:
            return self._unpack(keys, self.widths)
        pairs = np.zeros((len(self._pairs), 2), dtype=np.int64)
        for (x, y), i in self._pairs.items():
            pairs[i] = (x, y)
        a, b = pairs[keys, 0], pairs[keys, 1]
        return self._unpack(a, self.widths[: self._split]) + self._unpack(b, self.widths[self._split :])


def distinct(keys: np.ndarray) -> np.ndarray:
    """The sorted distinct values of an int64 column: Arrow's hash table first (linear), then a sort of what
    is left, usually far fewer (np.unique would sort every row)."""
    return np.sort(pa.array(keys).unique().to_numpy())


def dense(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(distinct keys, index of each row's key in them): a hash-based unique with inverse, O(n)."""
    encoded = pc.dictionary_encode(pa.array(keys))
    return (
        encoded.dictionary.to_numpy(zero_copy_only=False),
        encoded.indices.to_numpy(zero_copy_only=False).astype(np.intp, copy=False),
    )


def local_dense(columns: Sequence[np.ndarray], widths: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """Group rows by their values in the columns, within one chunk: (a row of each group, each row's group).

    The columns are packed into one integer when their widths allow; else the leading columns are grouped
    first and their group number packed with the next ones.
    """
    key: np.ndarray | None = None
    key_bits = 0
    part_columns: list[np.ndarray] = []
    part_widths: list[int] = []

    def packed() -> np.ndarray:
        part = Packer._pack(part_columns, part_widths)
        if key is not None:
            part |= key << sum(part_widths)
        return part

    for column, width in zip(columns, widths, strict=True):
        if key_bits + sum(part_widths) + width > 63:
            key = dense(packed())[1].astype(np.int64)
            key_bits = bit_width(int(key.max()) + 1) if len(key) else 1
            part_columns, part_widths = [], []
        part_columns.append(column)
        part_widths.append(width)
    row = dense(packed())[1]
    first = np.zeros(int(row.max()) + 1 if len(row) else 0, dtype=np.intp)
    first[row] = np.arange(len(row))
    return first, row


# Re-aggregating partial results: a count or sum adds up, a min stays a min, a max stays a max.
_MERGE = {"sum": "sum", "min": "min", "max": "max", "count": "sum"}


class Accumulator:
    """Partial group-bys of each batch, merged as they come: memory follows the number of groups, not rows.

    `aggregates` maps an output column to (input column, operation), operation one of sum/min/max/count.
    """

    def __init__(self, keys: Sequence[str], aggregates: Mapping[str, tuple[str, str]], *, compact_at: int = 1 << 20):
        self.keys = list(keys)
        self.aggregates = dict(aggregates)
        self._parts: list[pa.Table] = []
        self._rows = 0
        self._compact_at = compact_at

    def add(self, columns: Mapping[str, np.ndarray]) -> None:
        if not len(next(iter(columns.values()))):
            return
        table = pa.table(dict(columns))
        part = self._group(table, {out: (src, op) for out, (src, op) in self.aggregates.items()})
        self._parts.append(part)
        self._rows += part.num_rows
        if self._rows >= self._compact_at and len(self._parts) > 1:
            self._parts = [self.result()]
            self._rows = self._parts[0].num_rows
            self._compact_at = max(self._compact_at, 2 * self._rows)

    def _group(self, table: pa.Table, aggregates: Mapping[str, tuple[str, str]]) -> pa.Table:
        specs = [(src, op) for src, op in aggregates.values()]
        grouped = table.group_by(self.keys, use_threads=False).aggregate(specs)
        names = {f"{src}_{op}": out for out, (src, op) in aggregates.items()}
        return grouped.rename_columns([names.get(n, n) for n in grouped.column_names]).select(
            [*self.keys, *aggregates]
        )

    def result(self) -> pa.Table:
        """All groups so far, one row each."""
        if not self._parts:
            return pa.table({**{k: pa.array([], pa.int64()) for k in self.keys},
                             **{a: pa.array([], pa.int64()) for a in self.aggregates}})
        if len(self._parts) == 1:
            return self._parts[0]
        merged = pa.concat_tables(self._parts)
        return self._group(merged, {out: (out, _MERGE[op]) for out, (_, op) in self.aggregates.items()})
