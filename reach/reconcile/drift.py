"""Where reality and the snapshot disagree, since when, and why.

A disagreement is an observed action that differs from the prediction: an observed ACCEPT that the
snapshot rejects, or the reverse. Either the configuration changed, or the snapshot is incomplete. For
each group (interface, direction, peer, port, observed vs predicted) this says which rule would have to
differ, and finds the change point: the time the observed action flipped for records decided by the same
rule on the same interface and service, taken from per-minute counts of every record (agreeing or not).
With CloudTrail, it names the change event on that component nearest before the change point.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from reach.model.addr import format_address
from reach.model.decision import RuleRegistry, change_reading
from reach.model.network import Network
from reach.model.rules import RuleRef, protocol_name
from reach.reconcile.arrays import Accumulator, Packer, bit_width, dense
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


class History:
    """Every evaluated record, counted per key — (interface, direction, response, protocol, service port,
    deciding rule) — and observed action, with the first and last start and the last end.

    The blocking groups and the summary's time span come from these totals. Keys where some record disagrees
    with the snapshot are also counted per time bucket (the change points come from those); their records
    from before they first disagreed become one bucket of their own. Buckets are a minute, widened (2, 10,
    20 minutes…) when the table outgrows its budget, so memory stays bounded whatever the input; reported
    times stay exact, since cells keep their records' own times.
    """

    NAMES = ("interface", "egress", "response", "protocol", "service_port", "ref")
    _DETAIL = ("key", "bucket", "accept", "records", "first", "last", "end")

    def __init__(self, interfaces: int, rules: int, budget: int = 1 << 20) -> None:
        self.packer = Packer([bit_width(interfaces), 1, 1, 8, 16, bit_width(rules + 1)])
        self.seconds = 60  # width of a time bucket
        self._budget = budget
        self._totals = pa.table({name: pa.array([], pa.int64()) for name in self._DETAIL if name != "bucket"})
        self._flagged = np.zeros(0, dtype=np.int64)  # keys with a disagreement, sorted
        self._parts: list[dict[str, np.ndarray]] = []
        self._rows = 0
        self.rules = RuleSeries()

    def key(self, interface: np.ndarray, egress: np.ndarray, response: np.ndarray, protocol: np.ndarray,
            service_port: np.ndarray, ref: np.ndarray) -> np.ndarray:
        return self.packer.pack([interface, egress, response, protocol, service_port, ref + 1])

    def add(self, keys: np.ndarray, row: np.ndarray, accept: np.ndarray, start: np.ndarray, end: np.ndarray,
            wrong: np.ndarray) -> None:
        """One chunk: `keys` holds the history key of each of the chunk's groups, `row` each record's group,
        `wrong` the records that disagree."""
        if not len(row):
            return
        fields = self.columns(keys)  # per group, then one gather: the rule series' key of each record
        rule = np.where(fields["ref"] >= 0, fields["ref"] * 2 + fields["response"], -1)
        self.rules.add(rule[row], accept, start)
        distinct, local = dense(keys)
        group = local[row]
        cell = _cells(group * 2 + accept, 2 * len(distinct), start, end)
        part = pa.table({"key": distinct[cell["cell"] // 2], "accept": cell["cell"] % 2, "records": cell["records"],
                         "first": cell["first"], "last": cell["last"], "end": cell["end"]})
        before = self._totals
        self._totals = self._merge(pa.concat_tables([before, part]), ["key", "accept"])
        if len(wrong):
            new = np.setdiff1d(distinct[np.unique(group[wrong])], self._flagged)
            if len(new):
                self._flagged = np.union1d(self._flagged, new)
                self._prehistory(before, new)
        flagged = np.isin(distinct, self._flagged)
        watched = np.flatnonzero(flagged[group])
        if len(watched):
            self._detail(distinct, group[watched], accept[watched], start[watched], end[watched])

    def _prehistory(self, totals: pa.Table, keys: np.ndarray) -> None:
        """Records of newly disagreeing keys seen before this chunk: one bucket, at their last start."""
        earlier = totals.filter(pa.array(np.isin(totals["key"].to_numpy(), keys)))
        if earlier.num_rows:
            columns = {name: earlier[name].to_numpy() for name in earlier.column_names}
            columns["bucket"] = columns["last"] // self.seconds
            self._append(columns)

    def _detail(self, distinct: np.ndarray, group: np.ndarray, accept: np.ndarray, start: np.ndarray,
                end: np.ndarray) -> None:
        bucket = start // self.seconds
        low = int(bucket.min())
        span = int(bucket.max()) - low + 1
        code = (group.astype(np.int64) * span + (bucket - low)) * 2 + accept
        codes, code = dense(code)
        cell = _cells(code, len(codes), start, end)
        used = codes[cell.pop("cell")]
        self._append({"key": distinct[used // 2 // span], "bucket": low + used // 2 % span, "accept": used % 2,
                      **cell})

    def _append(self, columns: dict[str, np.ndarray]) -> None:
        self._parts.append({name: np.asarray(columns[name], dtype=np.int64) for name in self._DETAIL})
        self._rows += len(columns["key"])
        if self._rows > self._budget:
            merged = self.detail()
            while merged.num_rows > self._budget // 2:  # widen the buckets until the table fits
                wider = _wider(self.seconds)
                bucket = merged["bucket"].to_numpy() * self.seconds // wider
                self.seconds = wider
                merged = self._merge(merged.set_column(merged.schema.get_field_index("bucket"), "bucket",
                                                       pa.array(bucket)), ["key", "bucket", "accept"])
            self._parts = [{name: merged[name].to_numpy() for name in self._DETAIL}]
            self._rows = merged.num_rows

    @staticmethod
    def _merge(table: pa.Table, keys: list[str]) -> pa.Table:
        grouped = table.group_by(keys, use_threads=False).aggregate(
            [("records", "sum"), ("first", "min"), ("last", "max"), ("end", "max")])
        names = [n.split("_")[0] for n in grouped.column_names]
        return grouped.rename_columns(names).select([*keys, "records", "first", "last", "end"])

    def totals(self) -> pa.Table:
        """One row per (key, observed action)."""
        return self._totals

    def detail(self) -> pa.Table:
        """One row per (disagreeing key, bucket, observed action)."""
        if not self._parts:
            return pa.table({name: pa.array([], pa.int64()) for name in self._DETAIL})
        merged = pa.table({name: np.concatenate([p[name] for p in self._parts]) for name in self._DETAIL})
        return merged if len(self._parts) == 1 else self._merge(merged, ["key", "bucket", "accept"])

    def columns(self, keys: np.ndarray) -> dict[str, np.ndarray]:
        """The fields of packed keys, by name."""
        fields = self.packer.unpack(keys)
        out = dict(zip(self.NAMES, fields, strict=True))
        out["ref"] = out["ref"] - 1
        return out

    def rule_timelines(self) -> dict[tuple[int, int], Timeline]:
        """(rule, response) -> the timeline of the records the snapshot says that rule rejects."""
        found = timelines(self.rules.table(), self.rules.seconds)
        return {(key // 2, key % 2): timeline for key, timeline in found.items()}


class RuleSeries:
    """Records per (rule, response, observed action, time bucket), for every record the snapshot rejects: the
    REJECTs each blocking rule explains, and the ACCEPTs it should have rejected. Buckets are a minute, widened
    when the table outgrows its budget, like the history's."""

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
        self._parts.append(part)
        self._rows += part.num_rows
        if self._rows > self._budget:
            table = self.table()
            columns = [table[name].to_numpy() for name in self._COLUMNS]
            # widen the buckets until the table fits, or until one bucket holds everything
            while len(columns[0]) > self._budget // 2 and columns[1].min() != columns[1].max():
                wider = _wider(self.seconds)
                columns[1] = columns[1] * self.seconds // wider
                self.seconds = wider
                table = self._sum(*columns)
                columns = [table[name].to_numpy() for name in self._COLUMNS]
            self._parts, self._rows = [table], table.num_rows

    @classmethod
    def _sum(cls, key: np.ndarray, bucket: np.ndarray, accept: np.ndarray, records: np.ndarray) -> pa.Table:
        """Records summed per (key, bucket, accept), over packed codes: counted in place when they are few, else
        hashed first."""
        first, low = int(key.min()), int(bucket.min())
        span = int(bucket.max()) - low + 1
        code = ((key - first) * span + (bucket - low)) * 2 + accept
        size = (int(key.max()) - first + 1) * span * 2
        if size <= _DENSE_CELLS:
            summed = np.bincount(code, weights=records, minlength=size)
            codes = np.flatnonzero(summed)
            summed = summed[codes]
        else:
            codes, cell = dense(code)
            summed = np.bincount(cell, weights=records, minlength=len(codes))
        columns = (first + codes // 2 // span, low + codes // 2 % span, codes % 2, summed.astype(np.int64))
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
        out[int(key[part[0]])] = Timeline(seconds=width, buckets=[
            TimelineBucket(start=int(c) * width, accept=int(a), reject=int(t - a))
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


class Drift:
    def __init__(self, history: History) -> None:
        self.history = history
        self._groups = Accumulator(_KEYS, {
            "records": ("start", "count"), "first_seen": ("start", "min"), "last_seen": ("end", "max"),
            "dst_lo": ("dstport", "min"), "dst_hi": ("dstport_", "max"),
            "src_lo": ("srcport", "min"), "src_hi": ("srcport_", "max"),
        })

    def add_disagreements(self, columns: dict[str, np.ndarray]) -> None:
        columns = dict(columns)
        columns["dstport_"], columns["srcport_"] = columns["dstport"], columns["srcport"]
        self._groups.add(columns)

    # ----- the answer ----------------------------------------------------------------------------

    def groups(self) -> tuple[list[Group], int]:
        """The disagreement groups, most records first (at most MAX_GROUPS), and how many there are."""
        table = self._groups.result()
        rows = table.to_pylist() if table.num_rows <= MAX_GROUPS else table.take(
            np.argsort(-table["records"].to_numpy(), kind="stable")[:MAX_GROUPS]).to_pylist()
        out = [Group(
            interface=r["interface"], egress=r["egress"], response=r["response"],
            src=format_address(r["sf"], r["sh"] << 64 | r["sl"]), dst=format_address(r["df"], r["dh"] << 64 | r["dl"]),
            service_port=r["service_port"], protocol=r["protocol"], accept=r["accept"], ref=r["ref"],
            sg_ref=r["sg_ref"], nacl_ref=r["nacl_ref"], records=r["records"], first_seen=r["first_seen"],
            last_seen=r["last_seen"], dst_ports=(r["dst_lo"], r["dst_hi"]), src_ports=(r["src_lo"], r["src_hi"]),
        ) for r in rows]
        out.sort(key=lambda g: (-g.records, g.first_seen, g.interface, g.src, g.dst))
        return out, table.num_rows

    def change_points(self, keys: set[int], history: pa.Table) -> dict[int, ChangePoint | None]:
        """The flip of the observed action for each history key."""
        found: dict[int, ChangePoint | None] = dict.fromkeys(keys, None)
        key = history["key"].to_numpy()
        wanted = np.isin(key, np.fromiter(keys, dtype=np.int64, count=len(keys)))
        cols = {name: history[name].to_numpy()[wanted] for name in history.column_names}
        if not len(cols["key"]):
            return found
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

    def result(self, registry: RuleRegistry, interface_ids: list[str], network: Network,
               cloudtrail: CloudTrail | None, history: pa.Table) -> tuple[list[Disagreement], int]:
        groups, total = self.groups()
        if not groups:
            return [], total

        def column(name: str) -> np.ndarray:
            return np.array([getattr(g, name) for g in groups], dtype=np.int64)

        keys = self.history.key(column("interface"), column("egress"), column("response"), column("protocol"),
                                column("service_port"), column("ref")).tolist()
        points = self.change_points(set(keys), history)
        series = timelines(history, self.history.seconds, np.array(keys, dtype=np.int64))
        out = [_disagreement(g, registry, interface_ids[g.interface], network, points[k], cloudtrail, series.get(k))
               for g, k in zip(groups, keys, strict=True)]
        return out, total


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
