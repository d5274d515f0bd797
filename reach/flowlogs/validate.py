"""Checks shared by every parser: millisecond times, impossible times, bad addresses.

Each check is vectorised over a typed table and returns a mask of the rows that fail it, so the fast text
path, the exact text path and the Parquet path reject exactly the same records.
"""

from __future__ import annotations

import ipaddress

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from reach.flowlogs.fields import ADDRESS_COLUMNS

# Epoch seconds above 2^31 - 1 are milliseconds: flowlogs-reader met them in the wild (its test uses
# 1512564058000), and seconds that large would be after 2038.
_MS_THRESHOLD = 2**31 - 1
# Flow logs appeared in 2015, but AWS's own examples are stamped December 2014; anything before 2010
# (Elastic's
# malformed 9-digit start = 1975) or after 2100 is not a time a flow log can carry.
MIN_EPOCH = 1262304000  # 2010-01-01T00:00:00Z
MAX_EPOCH = 4102444800  # 2100-01-01T00:00:00Z

_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = rf"^{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}$"


def normalise_times(table: pa.Table) -> pa.Table:
    """Millisecond `start`/`end` become seconds."""
    for name in ("start", "end"):
        if name not in table.column_names:
            continue
        col = table[name]
        top = pc.max(col).as_py()
        if top is None or top <= _MS_THRESHOLD:
            continue
        fixed = pc.if_else(pc.greater(col, _MS_THRESHOLD), pc.divide(col, 1000), col)
        table = table.set_column(table.schema.get_field_index(name), name, fixed)
    return table


def _bad_times(table: pa.Table) -> pa.ChunkedArray | None:
    names = [n for n in ("start", "end") if n in table.column_names]
    out_of_range = False
    for name in names:
        # One pass for both bounds; the per-row masks are built only when some value is out of range.
        low, high = pc.min_max(table[name]).values()
        if low.is_valid and (low.as_py() < MIN_EPOCH or high.as_py() > MAX_EPOCH):
            out_of_range = True
    masks = []
    if out_of_range:
        for name in names:
            col = table[name]
            masks.append(pc.or_kleene(pc.less(col, MIN_EPOCH), pc.greater(col, MAX_EPOCH)))
    if len(names) == 2:
        masks.append(pc.greater(table["start"], table["end"]))
    if not masks:
        return None
    mask = masks[0]
    for m in masks[1:]:
        mask = pc.or_kleene(mask, m)
    return pc.fill_null(mask, False)


def _is_address(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    # A scoped IPv6 address (fe80::1%eth0) parses, but a flow log never carries one.
    return "%" not in value


def bad_address_values(column: pa.ChunkedArray | pa.Array) -> pa.Array | None:
    """The distinct values of an address column that are not IP addresses, or None when all are.

    Addresses repeat heavily, so each distinct value is checked once: a strict IPv4 pattern in C++ for all of
    them, then `ipaddress` (the oracle) for the few that are not dotted quads (IPv6 or garbage).
    """
    uniques = pc.unique(column).drop_null()
    if len(uniques) == 0:
        return None
    others = uniques.filter(pc.invert(pc.match_substring_regex(uniques, _IPV4)))
    if len(others) == 0:
        return None
    bad = [v for v in others.to_pylist() if not _is_address(v)]
    return pa.array(bad, pa.string()) if bad else None


_TWINS = {"pkt_srcaddr": "srcaddr", "pkt_dstaddr": "dstaddr"}


def _bad_addresses(table: pa.Table) -> pa.ChunkedArray | None:
    mask = None
    for name in ADDRESS_COLUMNS:
        if name not in table.column_names:
            continue
        column = table[name]
        # pkt-srcaddr equals srcaddr except on NAT gateway, transit gateway and EKS pod interfaces: only
        # the values that differ need a look. (One pass per column: a hash table of the distinct values of
        # one column stays small enough to be fast; one of all columns together was four times slower.)
        twin = _TWINS.get(name)
        if twin in table.column_names:
            column = column.filter(pc.invert(pc.fill_null(pc.equal(column, table[twin]), False)))
        bad = bad_address_values(column)
        if bad is None:
            continue
        m = pc.is_in(table[name], value_set=bad)
        mask = m if mask is None else pc.or_kleene(mask, m)
    return mask


def invalid_rows(table: pa.Table) -> np.ndarray | None:
    """A mask of the rows of a typed table that no record may have; None when every row is good."""
    hit: np.ndarray | None = None
    for check in (_bad_times, _bad_addresses):
        mask = check(table)
        if mask is None or not pc.any(mask).as_py():
            continue
        m = np.asarray(pc.fill_null(mask, False).to_numpy(zero_copy_only=False), dtype=bool)
        hit = m if hit is None else hit | m
    return hit


def describe(row: dict[str, object]) -> str:
    """Why one typed row was rejected: the per-row twin of `invalid_rows`, used only for the rows shown."""
    start, end = row.get("start"), row.get("end")
    for name, value in (("start", start), ("end", end)):
        if isinstance(value, int) and not MIN_EPOCH <= value <= MAX_EPOCH:
            return f"impossible time: {name} {value} is not between 2010 and 2100"
    if isinstance(start, int) and isinstance(end, int) and start > end:
        return f"impossible time: start {start} is after end {end}"
    for name in ADDRESS_COLUMNS:
        value = row.get(name)
        if isinstance(value, str) and not _is_address(value):
            return f"{name} {value!r} is not an IP address"
    return "invalid record"
