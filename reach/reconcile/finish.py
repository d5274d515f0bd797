"""From a folded Partial to the answer: the per-key tables are folded by DuckDB (out of core when they were
spilled), and only what is reported is brought into memory: the blocking rules, the listed disagreement
groups and the minutes of their keys."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from reach.flowlogs import FlowLogStats
from reach.model.decision import RuleRegistry, decision_of
from reach.model.network import Network
from reach.model.rules import protocol_name
from reach.reconcile.arrays import Packer, bit_width
from reach.reconcile.cells import CellStore
from reach.reconcile.cloudtrail import CloudTrail
from reach.reconcile.drift import (
    GROUPS,
    GROUPS_ORDER,
    GROUPS_PER_FOLD,
    MAX_GROUPS,
    Group,
    disagreements,
    groups_of,
    pack_slot,
    slot_sql,
    timelines,
    unpack_slot,
    widen,
)
from reach.reconcile.partial import Partial
from reach.reconcile.refs import to_registry
from reach.reconcile.responses import METHOD_NAMES
from reach.reconcile.result import Blocking, ReconcileResult, SkippedInterface, Summary, UnparsableSample

DETAIL_BUDGET = 1 << 20  # rows of the listed keys' minutes; wider buckets past it
_TOP = 5


def _top(fields: str, label: str, join: str) -> str:
    """The most records per blocking rule (ref, response) by `fields`, each with its label."""
    return f"""WITH p AS (SELECT ref, {fields}, sum(records)::BIGINT AS records {_EXPLAINED} GROUP BY ALL)
               SELECT ref, response, {label} AS label, records FROM p {join}
               QUALIFY row_number() OVER (PARTITION BY ref, response ORDER BY records DESC, label) <= {_TOP}"""


_EXPLAINED = "FROM totals WHERE accept = 0 AND ref >= 0"  # observed REJECTs the snapshot rejects too


def _blocking_sql() -> dict[str, str]:
    f = slot_sql()
    return {
        "blocking": f'SELECT ref, {f["response"]} AS response, sum(records)::BIGINT AS records, min(first) AS first, '
                    f'max("end") AS last {_EXPLAINED} GROUP BY ALL',
        "ports": _top(f"{f['response']} AS response, {f['protocol']} AS protocol, {f['service_port']} AS port",
                      "CASE WHEN protocol IN (6, 17) THEN name || ' ' || port ELSE name END",
                      "JOIN protocol_names USING (protocol)"),
        "interfaces": _top(f"{f['response']} AS response, {f['interface']} AS interface", "interface_id",
                           "JOIN interface_ids USING (interface)"),
        "span": 'SELECT min(first) AS first, max("end") AS last, count(*) AS n FROM _totals_all',
        "group_rows": "SELECT count(*) AS n FROM _groups_all",
    }


def _listed_groups(cells: CellStore, rows: int) -> tuple[pa.Table, int]:
    """The MAX_GROUPS disagreement groups with most records, and how many groups there are. Past
    GROUPS_PER_FOLD rows the groups are folded a hash bucket of their peers at a time (each bucket's best,
    then the best of those): the same groups, in a fraction of the memory."""
    buckets = max(1, -(-rows // GROUPS_PER_FOLD))
    tops, total = [], 0
    for b in range(buckets):
        where = f"WHERE hash(interface, sf, sh, sl, df, dh, dl) % {buckets} = {b}" if buckets > 1 else ""
        folded = GROUPS.fold_sql("_groups_all", where)
        out = cells.fold({"top": f"SELECT * FROM ({folded}) {GROUPS_ORDER}",
                          "n": f"SELECT count(*) AS n FROM ({folded})"})
        tops.append(out["top"])
        total += int(out["n"]["n"][0].as_py())
    if len(tops) == 1:
        return tops[0], total
    return cells.fold({"top": f"SELECT * FROM tops {GROUPS_ORDER}"}, [("tops", pa.concat_tables(tops))])["top"], total


def _labels(table: pa.Table, mapping: dict[int, int]) -> dict[tuple[int, int], list[str]]:
    out: dict[tuple[int, int], list[tuple[int, str]]] = {}
    refs = to_registry(table["ref"].to_numpy(), mapping).tolist()
    for ref, response, label, records in zip(refs, table["response"].to_pylist(), table["label"].to_pylist(),
                                             table["records"].to_pylist(), strict=True):
        out.setdefault((ref, response), []).append((records, label))
    return {k: [label for _, label in sorted(v, key=lambda x: (-x[0], x[1]))] for k, v in out.items()}


def finish(partial: Partial, network: Network, *, read_stats: FlowLogStats | None, cloudtrail: CloudTrail | None,
           rule_usage: bool) -> ReconcileResult:
    registry = decision_of(network).registry
    mapping = {stable: registry.add(ref, allow) for stable, (ref, allow) in sorted(partial.refs.items())}
    ids = sorted(network.interfaces)
    names = pa.table({"protocol": pa.array(range(256), pa.int64()),
                      "name": [protocol_name(p) for p in range(256)]})
    interface_ids = pa.table({"interface": pa.array(range(len(ids)), pa.int64()), "interface_id": ids})
    out = partial.cells.fold(_blocking_sql(), [("protocol_names", names), ("interface_ids", interface_ids)])

    # the listed disagreement groups, and the minutes of their keys
    rows, total_groups = _listed_groups(partial.cells, int(out["group_rows"]["n"][0].as_py()))
    groups = _groups(rows, mapping)
    packer = Packer([bit_width(len(ids)), 1, 1, 8, 16, bit_width(len(registry.rules) + 1)])
    keys: list[int] = []
    detail = pa.table({n: pa.array([], pa.int64()) for n in ("key", "bucket", "accept", "records", "first", "last",
                                                               "end")})
    seconds = 60
    if groups:
        slot = pack_slot(*(rows[n].to_numpy() for n in ("interface", "egress", "response", "protocol", "service_port")))
        wanted = pa.table({"slot": slot, "ref": rows["ref"]}).group_by(["slot", "ref"]).aggregate([])
        found = partial.cells.fold({"detail": """
            SELECT d.slot, d.ref, d.bucket, d.accept, sum(d.records)::BIGINT AS records, min(d.first) AS first,
                   max(d.last) AS last, max(d."end") AS "end"
            FROM _detail_all d SEMI JOIN wanted w ON d.slot = w.slot AND d.ref = w.ref GROUP BY ALL"""},
            [("wanted", wanted)])["detail"]
        fields = unpack_slot(found["slot"].to_numpy())
        key = packer.pack([fields["interface"], fields["egress"], fields["response"], fields["protocol"],
                           fields["service_port"], to_registry(found["ref"].to_numpy(), mapping) + 1])
        detail = pa.table({"key": key, **{n: found[n] for n in ("bucket", "accept", "records", "first", "last",
                                                                 "end")}})
        detail, seconds = widen(detail, DETAIL_BUDGET)

        def column(name: str) -> np.ndarray:
            return np.array([getattr(g, name) for g in groups], dtype=np.int64)

        keys = packer.pack([column("interface"), column("egress"), column("response"), column("protocol"),
                            column("service_port"), column("ref") + 1]).tolist()
    listed = disagreements(groups, keys, detail, seconds, registry, ids, network, cloudtrail)

    blocking = _blocking(partial, out, mapping, registry)
    span = out["span"]
    seen = span["n"][0].as_py() > 0
    p = partial.placing
    records = read_stats.records if read_stats is not None else partial.rows
    summary = Summary(
        records=records, evaluated=partial.evaluated, agree=partial.agree, disagree=partial.evaluated - partial.agree,
        skipped=p.skipped, unparsable=read_stats.unparsable if read_stats is not None else 0,
        nodata=p.nodata, skipdata=p.skipdata, no_action=p.no_action,
        unknown_interface=sum(p.unknown_interface.values()), unplaceable=sum(p.unplaceable.values()),
        responses=partial.responses,
        response_methods={name: int(partial.methods[i]) for i, name in enumerate(METHOD_NAMES)},
        keys=len(np.unique(np.concatenate(partial.key_hashes))) if partial.key_hashes else 0,
        first_seen=span["first"][0].as_py() if seen else None,
        last_seen=span["last"][0].as_py() if seen else None,
        spilled_bytes=partial.cells.spilled_bytes,
    )
    skipped = [SkippedInterface(interface_id=i, records=n, reason="not in the snapshot")
               for i, n in sorted(p.unknown_interface.items(), key=lambda x: (-x[1], x[0]))]
    skipped += [SkippedInterface(interface_id=i, records=n,
                                 reason="neither address is the interface's and the format has no flow-direction")
                for i, n in sorted(p.unplaceable.items(), key=lambda x: (-x[1], x[0]))]
    notes = []
    if total_groups > len(listed):
        notes.append(f"{total_groups - len(listed)} more disagreement groups are not listed "
                     f"(the {MAX_GROUPS} with most records are)")
    if any(r.protocol in ("icmp", "icmpv6") for r in listed) or any(
            b.ports and any(x.startswith("icmp") for x in b.ports) for b in blocking):
        notes.append("flow logs do not log ICMP types: ICMP records were taken as echo requests and replies")
    if partial.cells.spilled_bytes:
        notes.append(f"per-key counts outgrew memory: {partial.cells.spilled_bytes / 1e6:,.0f} MB went to disk and "
                     "were folded out of core; every count is still exact")
    if seconds > 60:
        notes.append(f"disagreement timelines and change points use {seconds}-second buckets (too many minutes "
                     "to keep one each); the times they report stay exact")
    bad = [UnparsableSample(source=b.source, line=b.line, text=b.text, reason=b.reason)
           for b in (read_stats.bad_lines if read_stats is not None else [])]
    partial.cells.remove_files()
    assert partial.usage is not None
    usage = partial.usage.result(network, ids) if rule_usage else []
    estimated = any(b.flows_estimated for b in blocking) or any(u.flows_estimated for u in usage)
    summary = summary.model_copy(update={"estimated": estimated})
    if estimated:
        notes.append("distinct flows past 4,096 per rule are estimates (a k-minimum-values sketch, within a few "
                     "percent): flows_estimated marks them; record counts are exact")
    return ReconcileResult(
        summary=summary, blocking=blocking, disagreements=listed, skipped_interfaces=skipped,
        bad_lines=bad, cloudtrail_events=len(cloudtrail.events) if cloudtrail is not None else None, notes=notes,
        rule_usage=usage,
    )


def _groups(rows: pa.Table, mapping: dict[int, int]) -> list[Group]:
    if not rows.num_rows:
        return []
    for name in ("ref", "sg_ref", "nacl_ref"):
        rows = rows.set_column(rows.schema.get_field_index(name), name,
                               pa.array(to_registry(rows[name].to_numpy(), mapping)))
    return groups_of(rows)


def _blocking(partial: Partial, out: dict[str, pa.Table], mapping: dict[int, int],
              registry: RuleRegistry) -> list[Blocking]:
    ports, interfaces = _labels(out["ports"], mapping), _labels(out["interfaces"], mapping)
    series = partial.rules.remap(lambda stable: to_registry(stable, mapping))
    found = timelines(series.table(), series.seconds)
    rule_timelines = {(key // 2, key % 2): timeline for key, timeline in found.items()}
    table = out["blocking"]
    refs = to_registry(table["ref"].to_numpy(), mapping).tolist()
    result = []
    for ref, stable, response, records, first, last in zip(
            refs, *(table[n].to_pylist() for n in table.column_names), strict=True):
        key = (ref, int(response))
        rule = registry.rules[ref]
        flows, estimated = partial.flows.count((stable, int(response)))
        result.append(Blocking(
            kind=rule.kind, id=rule.id, direction=rule.direction, rule=rule.rule, return_path=bool(response),
            records=records, flows=flows, flows_estimated=estimated, first_seen=first, last_seen=last,
            groups=list(rule.groups) if rule.groups is not None else None, detail=rule.detail,
            ports=ports.get(key, []), interfaces=interfaces.get(key, []), timeline=rule_timelines.get(key),
        ))
    result.sort(key=lambda b: (-b.records, b.first_seen, str(b.id), str(b.rule), b.return_path))
    return result
