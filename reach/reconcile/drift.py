"""Where reality and the snapshot disagree, since when, and why.

A disagreement is an observed action that differs from the prediction: an observed ACCEPT that the
snapshot rejects, or the reverse. Either the configuration changed, or the snapshot is incomplete. For
each group (interface, direction, peer, port, observed vs predicted) this says which rule would have to
differ, and finds the change point: the time the observed action flipped for records decided by the same
rule on the same interface and service, taken from per-minute counts of every record (agreeing or not).
With CloudTrail, it names the change event on that component nearest before the change point.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from reach.model.addr import format_address
from reach.model.decision import RuleRegistry, change_reading
from reach.model.network import Network
from reach.model.rules import RuleRef, protocol_name
from reach.reconcile.arrays import Packer, bit_width, dense, local_dense
from reach.reconcile.cells import CellStore, Table
from reach.reconcile.cloudtrail import CloudTrail
from reach.reconcile.result import (
    ChangePoint,
    Disagreement,
    RuleToDiffer,
    Timeline,
    TimelineBucket,
    TrailEvent,
    utc_text,
)

MAX_GROUPS = 1000  # disagreement groups listed; the summary still counts every record
_LOW, _HIGH = np.iinfo(np.int64).min, np.iinfo(np.int64).max
_KEYS = ["interface", "egress", "response", "sf", "sh", "sl", "df", "dh", "dl", "service_port", "protocol",
         "accept", "ref", "sg_ref", "nacl_ref"]
_DENSE_CELLS = 1 << 22
TIMELINE_BUCKETS = 240  # at most this many buckets in a disagreement's timeline
_WIDTHS = (60, 120, 600, 1200, 3600, 7200, 21600, 43200, 86400)  # each a multiple of the one before
MAX_BUCKETS = 240  # a timeline's buckets at most (wider buckets past that)


def _wider(seconds: int) -> int:
    return next((w for w in _WIDTHS if w > seconds), 2 * seconds)


def _action(accept: bool) -> str:
    return "ACCEPT" if accept else "REJECT"


def _cells(group: np.ndarray, size: int, start: np.ndarray, end: np.ndarray) -> dict[str, np.ndarray]:
    """Per cell id in [0, size): records, first start, last start, last end (cells without records dropped)."""
    count = np.bincount(group, minlength=size)
    first = np.full(size, _HIGH, dtype=np.int64)
    last = np.full(size, _LOW, dtype=np.int64)
    final = np.full(size, _LOW, dtype=np.int64)
    np.minimum.at(first, group, start)
    np.maximum.at(last, group, start)
    np.maximum.at(final, group, end)
    used = np.flatnonzero(count)
    return {"cell": used, "records": count[used].astype(np.int64), "first": first[used], "last": last[used],
            "end": final[used]}


SLOT_WIDTHS = (1, 1, 8, 16)  # after the interface: egress, response, protocol, service port
SLOT_NAMES = ("interface", "egress", "response", "protocol", "service_port")
_VALUES = {"records": "sum", "first": "min", "last": "max", "end": "max"}
# The per-key tables, folded by their keys (cells.py). `slot` packs a key's interface, direction, response,
# protocol and service port; `ref` is the deciding rule's stable id (refs.py), -1 when nothing rejects.
TOTALS = Table(("slot", "ref", "accept"), _VALUES)
DETAIL = Table(("slot", "ref", "bucket", "accept"), _VALUES, compact=False)  # minutes rarely repeat across chunks
GROUPS = Table(tuple(_KEYS), {"records": "sum", "first_seen": "min", "last_seen": "max", "dst_lo": "min",
                              "dst_hi": "max", "src_lo": "min", "src_hi": "max"},
               unsigned=("sh", "sl", "dh", "dl"))
TABLES = {"totals": TOTALS, "detail": DETAIL, "groups": GROUPS}


def pack_slot(interface: np.ndarray, egress: np.ndarray, response: np.ndarray, protocol: np.ndarray,
              service_port: np.ndarray) -> np.ndarray:
    return Packer._pack([interface, egress, response, protocol, service_port], [32, *SLOT_WIDTHS])


def unpack_slot(slot: np.ndarray) -> dict[str, np.ndarray]:
    return dict(zip(SLOT_NAMES, Packer._unpack(np.asarray(slot, dtype=np.int64), [32, *SLOT_WIDTHS]), strict=True))


def slot_sql(column: str = "slot") -> dict[str, str]:
    """SQL expressions of a slot's fields."""
    out, shift = {}, 0
    for name, width in zip(reversed(SLOT_NAMES), (*reversed(SLOT_WIDTHS), 32), strict=True):
        out[name] = f"(({column} >> {shift}) & {(1 << width) - 1})"
        shift += width
    return out


class History:
    """Every evaluated record, counted per key — (interface, direction, response, protocol, service port,
    deciding rule) — and observed action: records, first and last start, last end (`totals`); and the same
    per minute (`detail`), from which the change points of the keys that disagree are found once everything
    is in. Both go to a CellStore, which folds them out of core; the rule series stays in memory (bounded).

    Nothing here depends on the order records arrive in, so chunks, workers and partitions fold exactly.
    """

    def __init__(self, cells: CellStore) -> None:
        self.cells = cells
        self.rules = RuleSeries()

    def add(self, slot: np.ndarray, ref: np.ndarray, row: np.ndarray, accept: np.ndarray, start: np.ndarray,
            end: np.ndarray) -> None:
        """One chunk: `slot` and `ref` (stable id) of each of the chunk's groups, `row` each record's group."""
        if not len(row):
            return
        response = unpack_slot(slot)["response"]
        rule = np.where(ref >= 0, ref * 2 + response, -1)
        self.rules.add(rule[row], accept, start)
        refs, ref_number = dense(ref)  # stable ids are wide: numbered first, to pack with the slot
        first, local = local_dense([slot, ref_number], [58, bit_width(len(refs))])  # prediction keys -> history keys
        slot, ref = slot[first], ref[first]
        group = local[row]
        accept = accept.astype(np.int64)
        cell = _cells(group * 2 + accept, 2 * len(slot), start, end)
        at = cell.pop("cell")
        self.cells.add("totals", pa.table({"slot": slot[at // 2], "ref": ref[at // 2], "accept": at % 2, **cell}))
        bucket = start // 60
        low = int(bucket.min())
        span = int(bucket.max()) - low + 1
        codes, code = dense((group.astype(np.int64) * span + (bucket - low)) * 2 + accept)
        cell = _cells(code, len(codes), start, end)
        used = codes[cell.pop("cell")]
        g = used // 2 // span
        self.cells.add("detail", pa.table({"slot": slot[g], "ref": ref[g], "bucket": low + used // 2 % span,
                                           "accept": used % 2, **cell}))

    def merge(self, other: History) -> None:
        self.rules.merge(other.rules)


def widen(detail: pa.Table, budget: int, seconds: int = 60) -> tuple[pa.Table, int]:
    """A (key, bucket, accept, …) table in buckets of `seconds`, widened until it has at most `budget` rows
    (or one bucket): the narrowest width that fits, whatever order the records came in."""
    while detail.num_rows > budget:
        bucket = detail["bucket"].to_numpy()
        if bucket.min() == bucket.max():
            break
        wider = _wider(seconds)
        detail = DETAIL_KEYED.fold_arrow(detail.set_column(detail.schema.get_field_index("bucket"), "bucket",
                                                           pa.array(bucket * seconds // wider)))
        seconds = wider
    return detail, seconds


DETAIL_KEYED = Table(("key", "bucket", "accept"), _VALUES)


class RuleSeries:
    """Records per (rule, response, observed action, time bucket), for every record the snapshot rejects: the
    REJECTs each blocking rule explains, and the ACCEPTs it should have rejected. Buckets are a minute, widened
    when the table outgrows its budget to the narrowest width that fits; a partial never widens past what the
    whole needs, so partials merge into what one pass would have made."""

    _COLUMNS = ("key", "bucket", "accept", "records")

    def __init__(self, budget: int = 1 << 20) -> None:
        self.seconds = 60
        self._budget = budget
        self._parts: list[pa.Table] = []
        self._rows = 0

    def add(self, rule: np.ndarray, accept: np.ndarray, start: np.ndarray) -> None:
        """One chunk's records: `rule` is the rejecting rule * 2 + response of each, -1 where none rejects it."""
        rejected = np.flatnonzero(rule >= 0)
        if not len(rejected):
            return
        part = self._sum(rule[rejected].astype(np.int64), start[rejected] // self.seconds,
                         accept[rejected].astype(np.int64), np.ones(len(rejected), dtype=np.int64))
        self._take(part)

    def _take(self, part: pa.Table) -> None:
        self._parts.append(part)
        self._rows += part.num_rows
        if self._rows > self._budget:
            table = self.table()
            columns = [table[name].to_numpy() for name in self._COLUMNS]
            # widen the buckets until the table fits, or until one bucket holds everything
            while len(columns[0]) > self._budget and columns[1].min() != columns[1].max():
                wider = _wider(self.seconds)
                columns[1] = columns[1] * self.seconds // wider
                self.seconds = wider
                table = self._sum(*columns)
                columns = [table[name].to_numpy() for name in self._COLUMNS]
            self._parts, self._rows = [table], table.num_rows

    def merge(self, other: RuleSeries) -> None:
        """Fold another series in, at the wider of the two bucket widths (each a multiple of the narrower)."""
        mine, theirs = self.table(), other.table()
        width = max(self.seconds, other.seconds)
        parts = []
        for table, seconds in ((mine, self.seconds), (theirs, other.seconds)):
            if table.num_rows:
                columns = [table[name].to_numpy() for name in self._COLUMNS]
                columns[1] = columns[1] * seconds // width
                parts.append(self._sum(*columns))
        self.seconds = width
        self._parts, self._rows = [], 0
        for part in parts:
            self._take(part)

    def remap(self, mapping: Callable[[np.ndarray], np.ndarray]) -> RuleSeries:
        """The same series with its rules renamed (stable ids -> a registry's, say)."""
        out = RuleSeries(self._budget)
        out.seconds = self.seconds
        table = self.table()
        if table.num_rows:
            key = table["key"].to_numpy()
            out._parts = [table.set_column(0, "key", pa.array(mapping(key // 2) * 2 + key % 2))]
            out._rows = table.num_rows
        return out

    @classmethod
    def _sum(cls, key: np.ndarray, bucket: np.ndarray, accept: np.ndarray, records: np.ndarray) -> pa.Table:
        """Records summed per (key, bucket, accept)."""
        keys, number = dense(key)
        low = int(bucket.min())
        span = int(bucket.max()) - low + 1
        code = (number.astype(np.int64) * span + (bucket - low)) * 2 + accept
        size = len(keys) * span * 2
        if size <= _DENSE_CELLS:
            summed = np.bincount(code, weights=records, minlength=size)
            codes = np.flatnonzero(summed)
            summed = summed[codes]
        else:
            codes, cell = dense(code)
            summed = np.bincount(cell, weights=records, minlength=len(codes))
        columns = (keys[codes // 2 // span], low + codes // 2 % span, codes % 2, summed.astype(np.int64))
        return pa.table(dict(zip(cls._COLUMNS, columns, strict=True)))

    def table(self) -> pa.Table:
        """One row per (rule * 2 + response, bucket, observed action)."""
        if not self._parts:
            return pa.table({name: pa.array([], pa.int64()) for name in self._COLUMNS})
        if len(self._parts) > 1:
            merged = pa.concat_tables(self._parts)
            self._parts = [self._sum(*(merged[name].to_numpy() for name in self._COLUMNS))]
        return self._parts[0]


def timelines(table: pa.Table, seconds: int, keys: np.ndarray | None = None) -> dict[int, Timeline]:
    """Per key of a (key, bucket, accept, records) table (of `keys` only, when given): its records over time,
    in buckets of `seconds` widened until there are at most MAX_BUCKETS."""
    key = table["key"].to_numpy()
    wanted = np.isin(key, keys) if keys is not None else np.ones(len(key), dtype=bool)
    order = np.lexsort((table["bucket"].to_numpy()[wanted], key[wanted]))
    key = key[wanted][order]
    bucket, accept, records = (table[name].to_numpy()[wanted][order] for name in ("bucket", "accept", "records"))
    out: dict[int, Timeline] = {}
    for part in np.split(np.arange(len(key)), np.flatnonzero(np.diff(key)) + 1):
        if not len(part):
            continue
        first, last = int(bucket[part[0]]) * seconds, int(bucket[part[-1]]) * seconds
        width = seconds
        while last // width - first // width >= MAX_BUCKETS:
            width = _wider(width)
        cells, inverse = np.unique(bucket[part] * seconds // width, return_inverse=True)
        accepted = np.bincount(inverse, weights=records[part] * accept[part], minlength=len(cells))
        total = np.bincount(inverse, weights=records[part], minlength=len(cells))
        # built without validation: thousands of timelines of plain ints, checked by construction
        out[int(key[part[0]])] = Timeline.model_construct(seconds=width, buckets=[
            TimelineBucket.model_construct(start=int(c) * width, accept=int(a), reject=int(t - a))
            for c, a, t in zip(cells.tolist(), accepted.tolist(), total.tolist(), strict=True)])
    return out


@dataclass(frozen=True)
class Group:
    """One disagreement group, as columns of the accumulated table give it."""

    interface: int
    egress: bool
    response: bool
    src: str
    dst: str
    service_port: int
    protocol: int
    accept: bool
    ref: int
    sg_ref: int
    nacl_ref: int
    records: int
    first_seen: int
    last_seen: int
    dst_ports: tuple[int, int]
    src_ports: tuple[int, int]


def disagreement_rows(columns: dict[str, np.ndarray]) -> pa.Table:
    """One chunk's disagreeing records, grouped (interface, direction, peer, port, observed vs predicted…)."""
    table = pa.table({**{k: columns[k] for k in _KEYS}, "start": columns["start"], "end": columns["end"],
                      "dstport": columns["dstport"], "dstport_": columns["dstport"],
                      "srcport": columns["srcport"], "srcport_": columns["srcport"]})
    grouped = table.group_by(_KEYS, use_threads=False).aggregate([
        ("start", "count"), ("start", "min"), ("end", "max"), ("dstport", "min"), ("dstport_", "max"),
        ("srcport", "min"), ("srcport_", "max")])
    names = dict(zip(("start_count", "start_min", "end_max", "dstport_min", "dstport__max", "srcport_min",
                      "srcport__max"), GROUPS.values, strict=True))
    grouped = grouped.rename_columns([names.get(n, n) for n in grouped.column_names])
    return pa.table({name: grouped[name].cast(pa.uint64() if name in GROUPS.unsigned else pa.int64())
                     for name in (*GROUPS.keys, *GROUPS.values)})


# The listed groups: most records first, then a total order on every key (ties never depend on input order).
GROUPS_ORDER = f"ORDER BY records DESC, first_seen, {', '.join(_KEYS)} LIMIT {MAX_GROUPS}"
GROUPS_PER_FOLD = 1 << 20  # disagreeing rows folded at once; past it, by hash bucket of the peer


def groups_of(table: pa.Table) -> list[Group]:
    """Disagreement groups from their folded rows (rule ids already the registry's)."""
    out = [Group(
        interface=r["interface"], egress=bool(r["egress"]), response=bool(r["response"]),
        src=format_address(r["sf"], r["sh"] << 64 | r["sl"]), dst=format_address(r["df"], r["dh"] << 64 | r["dl"]),
        service_port=r["service_port"], protocol=r["protocol"], accept=bool(r["accept"]), ref=r["ref"],
        sg_ref=r["sg_ref"], nacl_ref=r["nacl_ref"], records=r["records"], first_seen=r["first_seen"],
        last_seen=r["last_seen"], dst_ports=(r["dst_lo"], r["dst_hi"]), src_ports=(r["src_lo"], r["src_hi"]),
    ) for r in table.to_pylist()]
    out.sort(key=lambda g: (-g.records, g.first_seen, g.interface, g.src, g.dst))
    return out


def change_points(keys: set[int], history: pa.Table) -> dict[int, ChangePoint | None]:
    """The flip of the observed action for each history key."""
    found: dict[int, ChangePoint | None] = dict.fromkeys(keys, None)
    key = history["key"].to_numpy()
    wanted = np.isin(key, np.fromiter(keys, dtype=np.int64, count=len(keys)))
    cols = {name: history[name].to_numpy()[wanted] for name in history.column_names}
    if not len(cols["key"]):
        return found
    order = np.lexsort((cols["bucket"], cols["key"]))
    cols = {name: values[order] for name, values in cols.items()}
    accept = cols["accept"].astype(bool)
    # one row per (key, bucket): both actions side by side
    cell, inverse = np.unique(np.stack([cols["key"], cols["bucket"]], axis=1), axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    m = len(cell)

    def spread(values: np.ndarray, mask: np.ndarray, empty: int) -> np.ndarray:
        out = np.full(m, empty, dtype=np.int64)
        out[inverse[mask]] = values[mask]
        return out

    per_minute = {
        "records": np.bincount(inverse, weights=cols["records"], minlength=m).astype(np.int64),
        "accepted": spread(cols["records"], accept, 0),
        "accept_first": spread(cols["first"], accept, _HIGH), "accept_last": spread(cols["last"], accept, _LOW),
        "reject_first": spread(cols["first"], ~accept, _HIGH), "reject_last": spread(cols["last"], ~accept, _LOW),
    }
    bounds = np.flatnonzero(np.diff(cell[:, 0])) + 1
    for part in np.split(np.arange(m), bounds):
        minutes = {name: values[part] for name, values in per_minute.items()}
        found[int(cell[part[0], 0])] = _flip(minutes)
    return found


def disagreements(groups: list[Group], keys: list[int], detail: pa.Table, seconds: int, registry: RuleRegistry,
                  interface_ids: list[str], network: Network, cloudtrail: CloudTrail | None) -> list[Disagreement]:
    """The listed groups in words, each with its change point and timeline from `detail` (`keys`: each
    group's history key, packed as `detail` packs them)."""
    points = change_points(set(keys), detail)
    series = timelines(detail, seconds, np.array(keys, dtype=np.int64))
    return [_disagreement(g, registry, interface_ids[g.interface], network, points[k], cloudtrail, series.get(k))
            for g, k in zip(groups, keys, strict=True)]


def _flip(h: dict[str, np.ndarray]) -> ChangePoint | None:
    """The best split of a key's minutes into an old action then a new one (either way round).

    A split counts when the old action is the majority before it and the new one after it (connections
    tracked from before a change may still be accepted after it); the best one explains most records.
    """
    accepted = h["accepted"].astype(np.int64)
    rejected = h["records"].astype(np.int64) - accepted
    if len(accepted) < 2:
        return _same_minute(h) if accepted.sum() and rejected.sum() else None
    best: tuple[int, int, bool] | None = None  # (score, split, old action is ACCEPT)
    for old_accept in (True, False):
        old, new = (accepted, rejected) if old_accept else (rejected, accepted)
        old_before, new_before = np.cumsum(old)[:-1], np.cumsum(new)[:-1]
        old_after, new_after = old.sum() - old_before, new.sum() - new_before
        valid = (old_before > new_before) & (new_after > old_after)
        if valid.any():
            score = np.where(valid, old_before + new_after, -1)
            split = int(np.argmax(score))
            if best is None or score[split] > best[0]:
                best = (int(score[split]), split, old_accept)
    if best is None:
        return None
    _, split, old_accept = best
    before, after = slice(0, split + 1), slice(split + 1, len(accepted))
    new_first = h["reject_first" if old_accept else "accept_first"]
    old_last = h["accept_last" if old_accept else "reject_last"]
    old, new = (accepted, rejected) if old_accept else (rejected, accepted)
    first, last = new_first[after], old_last[before]
    at, previous = int(first[first != _HIGH].min()), int(last[last != _LOW].max())
    for b in (split, split + 1):  # a bucket at the split holding both, in order: the flip is inside it
        if old[b] and new[b] and old_last[b] <= new_first[b]:
            at, previous = int(new_first[b]), int(old_last[b])
            break
    return ChangePoint(
        at=at, previous=previous, before=_action(old_accept), after=_action(not old_accept),
        records_before=int(old[before].sum()), records_after=int(new[after].sum()),
    )


def _same_minute(h: dict[str, np.ndarray]) -> ChangePoint | None:
    """Both actions within one minute: the flip is between the last of one and the first of the other."""
    a_first, a_last = int(h["accept_first"][0]), int(h["accept_last"][0])
    r_first, r_last = int(h["reject_first"][0]), int(h["reject_last"][0])
    if a_last <= r_first:
        return ChangePoint(at=r_first, previous=a_last, before="ACCEPT", after="REJECT",
                           records_before=int(h["accepted"][0]), records_after=int(h["records"][0] - h["accepted"][0]))
    if r_last <= a_first:
        return ChangePoint(at=a_first, previous=r_last, before="REJECT", after="ACCEPT",
                           records_before=int(h["records"][0] - h["accepted"][0]), records_after=int(h["accepted"][0]))
    return None


# ----- words ----------------------------------------------------------------------------------------


def _service(protocol: int, port: int) -> str:
    if protocol in (6, 17):
        return f"{protocol_name(protocol)} {port}"
    if protocol in (1, 58):
        return f"{protocol_name(protocol)} (echo assumed: flow logs do not log the ICMP type)"
    return protocol_name(protocol)


def _rules_to_differ(g: Group, registry: RuleRegistry, peer: str) -> list[RuleToDiffer]:
    side = "outbound" if g.egress else "inbound"
    to_from = "to" if g.egress else "from"
    if g.response:
        traffic = f"{side} responses of {_service(g.protocol, g.service_port)} connections {to_from}"
    else:
        traffic = f"{side} {_service(g.protocol, g.service_port)} {to_from}"
    changes = []
    for ref in (g.sg_ref, g.nacl_ref):
        if ref < 0:
            continue
        rule = registry.rules[ref]
        if g.accept == registry.allow[ref]:  # this component agrees with what was observed
            continue
        what = f"{traffic} {peer}"
        needed = _to_allow(rule, what) if g.accept else _to_deny(rule, what)
        changes.append(RuleToDiffer(kind=rule.kind, id=rule.id, direction=rule.direction, rule=rule.rule,
                                  detail=rule.detail, needed=needed, must="allow" if g.accept else "deny",
                                  traffic=traffic, peer=peer))
    return changes


def _to_allow(rule: RuleRef, what: str) -> str:
    if rule.kind == "security-group":
        groups = ", ".join(rule.groups or ()) or str(rule.id)
        return f"{groups} would need a rule allowing {what}"
    if rule.rule is None:
        return f"{rule.id} would need a rule allowing {what}"
    return f"{rule.id} rule #{rule.rule} would have to allow {what}, or an allow rule numbered below {rule.rule} exist"


def _to_deny(rule: RuleRef, what: str) -> str:
    if rule.kind == "security-group":
        return f"{rule.rule} of {rule.id} would have to be gone (it allows {what})"
    return f"{rule.id} rule #{rule.rule} would have to deny {what}, or a deny rule numbered below {rule.rule} exist"


def _components(g: Group, registry: RuleRegistry, network: Network, interface_id: str) -> tuple[list[str], list[str]]:
    """(the components that decided these records, every filter of the interface) for CloudTrail."""
    interface = network.interfaces[interface_id]
    subnet = network.subnets.get(interface.subnet_id)
    every = [*interface.groups, interface_id]
    if subnet is not None:
        every += [c for c in (subnet.nacl, subnet.route_table) if c]
    deciding: list[str] = []
    for ref in (g.ref, g.sg_ref, g.nacl_ref):
        if ref >= 0:
            rule = registry.rules[ref]
            if rule.kind == "security-group":
                deciding += [*(rule.groups or (str(rule.id),)), interface_id]
            else:
                deciding.append(str(rule.id))
    return list(dict.fromkeys(deciding)), every


def _suspect(g: Group, point: ChangePoint | None, deciding: list[str], every: list[str],
             cloudtrail: CloudTrail) -> TrailEvent | None:
    for components in (deciding, every):
        if point is not None:
            found = cloudtrail.nearest_before(components, point.at)
        else:  # the records disagree throughout: the change came after them, or before them
            found = cloudtrail.first_after(components, g.last_seen) or cloudtrail.nearest_before(
                components, g.first_seen)
        if found is not None:
            return found
    return None


def _disagreement(g: Group, registry: RuleRegistry, interface_id: str, network: Network,
                  point: ChangePoint | None, cloudtrail: CloudTrail | None,
                  timeline: Timeline | None = None) -> Disagreement:
    predicted_reject = g.ref >= 0
    peer = g.dst if g.egress else g.src
    blocker = registry.rules[g.ref] if predicted_reject else None
    changes = _rules_to_differ(g, registry, peer)
    n = f"{g.records} record{'s' if g.records != 1 else ''}"
    if blocker is not None:
        words = f"{n} were ACCEPTed, but the snapshot rejects them: {blocker.detail}."
        words += "" if g.response else change_reading(blocker.kind)
    else:
        words = f"{n} were REJECTed, but the snapshot lets them through."
    if g.response:
        words += " They are responses of tracked connections, which only a network ACL can reject."
    if changes:
        words += " For the records to be right, " + "; or ".join(c.needed for c in changes) + "."
    elif not predicted_reject:
        words += (" Nothing in the snapshot filters them here (a REJECT can also be a packet that arrived after "
                  "its connection closed).")
    if point is not None:
        words += (f" The observed action flipped from {point.before} to {point.after} at {utc_text(point.at)}"
                  + (f" (last {point.before} {utc_text(point.previous)})." if point.previous is not None else "."))
        if point.after == ("REJECT" if predicted_reject else "ACCEPT"):
            words += " The snapshot was taken after that change."
        else:
            words += " The snapshot predates that change."
    event = None
    if cloudtrail is not None:
        deciding, every = _components(g, registry, network, interface_id)
        event = _suspect(g, point, deciding, every, cloudtrail)
        if event is not None:
            words += (f" Suspected change: {event.event} on {', '.join(event.components)} at {utc_text(event.time)}"
                      f" by {event.principal or 'an unknown principal'} from {event.source_ip or 'an unknown address'}"
                      + (f" ({event.summary})" if event.summary else "") + ".")
    protocol = protocol_name(g.protocol)
    return Disagreement(
        interface_id=interface_id, direction="egress" if g.egress else "ingress",
        observed=_action(g.accept), predicted=_action(not predicted_reject), src=g.src, dst=g.dst,
        dst_port=g.dst_ports[0] if g.dst_ports[0] == g.dst_ports[1] else None, protocol=protocol,
        records=g.records, first_seen=g.first_seen, last_seen=g.last_seen, explanation=words,
        response=g.response, src_port=g.src_ports[0] if g.src_ports[0] == g.src_ports[1] else None,
        service_port=g.service_port if g.protocol in (6, 17) else None,
        blocked_by=None if blocker is None else {
            "kind": blocker.kind, "id": blocker.id, "direction": blocker.direction, "rule": blocker.rule,
            "return_path": g.response, "groups": list(blocker.groups) if blocker.groups is not None else None,
            "detail": blocker.detail},
        rules_to_differ=changes, change_point=point, suspected_event=event, timeline=timeline,
    )
