"""Address columns as integers, and the address classes that make rule evaluation per key, not per record.

A flow-log address column is dictionary-encoded first, so each distinct address is parsed once (IPv4 in
Arrow, IPv6 with `ipaddress`). The classes partition each family's address space at every rule and subnet
boundary of the network: two addresses in one class are treated alike by every rule table and every
"is it inside the subnet" test, so evaluating one representative per class is exact.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from reach.model.addr import IPV4, split
from reach.model.classes import AddressClasses

__all__ = ["AddressClasses", "AddressColumn"]


@dataclass(frozen=True)
class AddressColumn:
    """A column of addresses: `index` into the distinct values (-1 for null), and each value's family
    (4, 6, or 0 when it is not an address) and 128-bit value as (hi, lo)."""

    index: np.ndarray
    family: np.ndarray
    hi: np.ndarray
    lo: np.ndarray
    values: pa.Array
    simple: bool = False  # every value an IPv4 address, and no null

    @classmethod
    def parse(cls, column: pa.Array | pa.ChunkedArray) -> AddressColumn:
        if isinstance(column, pa.ChunkedArray):
            column = column.combine_chunks()
        encoded = pc.dictionary_encode(column)
        index = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int32, copy=False)
        values = encoded.dictionary
        n = len(values)
        family = np.zeros(n, dtype=np.int8)
        hi = np.zeros(n, dtype=np.uint64)
        lo = np.zeros(n, dtype=np.uint64)
        v6 = pc.match_substring(values, ":").to_numpy(zero_copy_only=False)
        v4 = np.flatnonzero(~v6)
        if len(v4):
            parsed = _ipv4(values.take(pa.array(v4)))
            if parsed is not None:
                ok = parsed >= 0
                family[v4[ok]] = IPV4
                lo[v4[ok]] = parsed[ok].astype(np.uint64)
            else:
                v6 = np.ones(n, dtype=bool)
        for i in np.flatnonzero(v6 | (family == 0)).tolist():
            try:
                address = ipaddress.ip_address(values[i].as_py())
            except ValueError:
                continue
            family[i] = address.version
            hi[i], lo[i] = split(int(address))
        simple = bool(n) and bool((family == IPV4).all()) and encoded.indices.null_count == 0
        return cls(index, family, hi, lo, values, simple)

    def take(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(family, hi, lo) of the given rows; family 0 where the row is null or not an address."""
        index = self.index if len(rows) == len(self.index) else self.index[rows]
        if not len(self.family):
            zeros = np.zeros(len(index), dtype=np.uint64)
            return np.zeros(len(index), dtype=np.int8), zeros, zeros.copy()
        if self.simple:  # every value an IPv4 address, no null: the common case, fewer gathers
            return np.full(len(index), IPV4, dtype=np.int8), np.zeros(len(index), dtype=np.uint64), self.lo[index]
        safe = np.maximum(index, 0)
        family = np.where(index < 0, 0, self.family[safe]).astype(np.int8)
        return family, self.hi[safe], self.lo[safe]


def _ipv4(values: pa.Array) -> np.ndarray | None:
    """Dotted quads to integers (-1 for a value that is not one); None when the column is not dotted quads."""
    parts = pc.split_pattern(values, ".")
    counts = pc.list_value_length(parts).to_numpy(zero_copy_only=False)
    if not (counts == 4).all():
        return None
    try:
        octets = pc.cast(pc.list_flatten(parts), pa.int64()).to_numpy(zero_copy_only=False).reshape(-1, 4)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    ok = ((octets >= 0) & (octets <= 255)).all(axis=1)
    value = (octets[:, 0] << 24) | (octets[:, 1] << 16) | (octets[:, 2] << 8) | octets[:, 3]
    return np.where(ok, value, -1)
