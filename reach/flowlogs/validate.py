"""Checks shared by every parser: the seconds/milliseconds rule, impossible times, bad addresses, values
outside the ranges AWS documents.

Each check is vectorised over a typed table and returns a mask of the rows that fail it, so the fast text
path, the exact text path and the Parquet path reject exactly the same records. `describe` gives the reason
for one row, in the same order of checks.

The rules (aws-semantics.md C.4):

- `start`/`end` are epoch seconds. A value above MAX_EPOCH (2100-01-01 in seconds) is read as milliseconds
  and divided by 1000, rounded down (flowlogs-reader met such values; its test uses 1512564058000). Then every
  time must lie in [MIN_EPOCH, MAX_EPOCH] and `start` <= `end`. So 2147483648 is a time in 2038, in seconds.
- ports 0-65535, protocol 0-255 (IANA numbers), tcp-flags 0-255 (a bitmask of TCP header flags), packets,
  bytes and the transit-gateway `packets-lost-*` counts >= 0.
- `action` is ACCEPT or REJECT, `log-status` OK, NODATA or SKIPDATA, `flow-direction` ingress or egress.
- addresses are IPv4 or IPv6 addresses.

`-` (null) passes every check: AWS writes it where a field does not apply.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from reach.flowlogs.fields import ADDRESS_COLUMNS

# Flow logs appeared in 2015, but AWS's own examples are stamped December 2014; anything before 2010
# (Elastic's malformed 9-digit start = 1975) or after 2100 is not a time a flow log can carry.
MIN_EPOCH = 1262304000  # 2010-01-01T00:00:00Z
MAX_EPOCH = 4102444800  # 2100-01-01T00:00:00Z

# column -> (lowest, highest) allowed; None: unbounded on that side.
RANGES: dict[str, tuple[int, int | None]] = {
    "srcport": (0, 65535),
    "dstport": (0, 65535),
    "protocol": (0, 255),
    "tcp_flags": (0, 255),
    "packets": (0, None),
    "bytes": (0, None),
    "packets_lost_no_route": (0, None),
    "packets_lost_blackhole": (0, None),
    "packets_lost_mtu_exceeded": (0, None),
    "packets_lost_ttl_expired": (0, None),
}
# column -> the values AWS documents.
CHOICES: dict[str, tuple[str, ...]] = {
    "action": ("ACCEPT", "REJECT"),
    "log_status": ("OK", "NODATA", "SKIPDATA"),
    "flow_direction": ("ingress", "egress"),
}
_CHOICE_ARRAYS = {name: pa.array(values, pa.string()) for name, values in CHOICES.items()}

_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = rf"^{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}$"
_SHOWN = 60  # characters of a bad value quoted in a reason


def shown(value: object) -> str:
    """A value quoted in a reason: its repr, cut short (a bad value may be a megabyte long)."""
    text = repr(value)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 4] + "…" + text[-3:]


def normalise_times(table: pa.Table) -> pa.Table:
    """Millisecond `start`/`end` (above MAX_EPOCH) become seconds."""
    for name in ("start", "end"):
        if name not in table.column_names:
            continue
        col = table[name]
        top = pc.max(col).as_py()
        if top is None or top <= MAX_EPOCH:
            continue
        fixed = pc.if_else(pc.greater(col, MAX_EPOCH), pc.divide(col, 1000), col)
        table = table.set_column(table.schema.get_field_index(name), name, fixed)
    return table


def _any_of(masks: list[pa.ChunkedArray | pa.Array]) -> pa.ChunkedArray | pa.Array | None:
    if not masks:
        return None
    mask = masks[0]
    for m in masks[1:]:
        mask = pc.or_kleene(mask, m)
    return pc.fill_null(mask, False)


def _outside(col: pa.ChunkedArray | pa.Array, low: int | None, high: int | None) -> pa.ChunkedArray | None:
    """Rows of `col` outside [low, high]; None without building a mask when every value is inside."""
    lo, hi = pc.min_max(col).values()
    if not lo.is_valid:
        return None
    if (low is None or lo.as_py() >= low) and (high is None or hi.as_py() <= high):
        return None
    masks = []
    if low is not None:
        masks.append(pc.less(col, low))
    if high is not None:
        masks.append(pc.greater(col, high))
    return _any_of(masks)


def _bad_times(table: pa.Table) -> pa.ChunkedArray | None:
    names = [n for n in ("start", "end") if n in table.column_names]
    masks = [m for n in names if (m := _outside(table[n], MIN_EPOCH, MAX_EPOCH)) is not None]
    if len(names) == 2:
        masks.append(pc.greater(table["start"], table["end"]))
    return _any_of(masks)


def _bad_ranges(table: pa.Table) -> pa.ChunkedArray | None:
    masks = []
    for name, (low, high) in RANGES.items():
        if name in table.column_names:
            m = _outside(table[name], low, high)
            if m is not None:
                masks.append(m)
    return _any_of(masks)


def _bad_choices(table: pa.Table) -> pa.ChunkedArray | None:
    masks = []
    for name, allowed in _CHOICE_ARRAYS.items():
        if name not in table.column_names:
            continue
        col = table[name]
        seen = pc.unique(col).drop_null()  # a handful of distinct values per batch
        if pc.all(pc.is_in(seen, value_set=allowed)).as_py() is not False:
            continue
        # is_in says False, not null, for a null value: a `-` must pass, so nulls are let through first.
        masks.append(pc.invert(pc.or_(pc.is_null(col), pc.is_in(col, value_set=allowed))))
    return _any_of(masks)


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


_CHECKS: tuple[Callable[[pa.Table], pa.ChunkedArray | pa.Array | None], ...] = (
    _bad_times,
    _bad_ranges,
    _bad_choices,
    _bad_addresses,
)


def invalid_rows(table: pa.Table) -> np.ndarray | None:
    """A mask of the rows of a typed table that no record may have; None when every row is good."""
    hit: np.ndarray | None = None
    for check in _CHECKS:
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
    for name, (low, high) in RANGES.items():
        value = row.get(name)
        if isinstance(value, int) and (value < low or (high is not None and value > high)):
            allowed = f"{low}-{high}" if high is not None else f">= {low}"
            return f"{name.replace('_', '-')} {value} is out of range ({allowed})"
    for name, choices in CHOICES.items():
        value = row.get(name)
        if isinstance(value, str) and value not in choices:
            return f"{name.replace('_', '-')} {shown(value)} is not one of {', '.join(choices)}"
    for name in ADDRESS_COLUMNS:
        value = row.get(name)
        if isinstance(value, str) and not _is_address(value):
            return f"{name} {shown(value)} is not an IP address"
    return "invalid record"
