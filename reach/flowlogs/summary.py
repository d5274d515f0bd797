"""`reach logs summary`: one pass over the stream, aggregated batch by batch in Arrow.

Per batch: counts by action and log-status, the distinct interfaces, min start and max end, and partial
group-bys for the top talkers and the top rejected ports, re-aggregated whenever they grow, so memory follows
the number of distinct pairs and ports, not the number of records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from reach.flowlogs.reader import FlowLogStream
from reach.flowlogs.stats import FlowLogStats

_COMPACT_ROWS = 1 << 20
_NOT_TRAFFIC = pa.array(["NODATA", "SKIPDATA"], pa.string())


@dataclass
class LogsSummary:
    """What `reach logs summary` reports: the read's own counts (`stats`) and what the records add up to."""

    stats: FlowLogStats
    accept: int = 0  # ACCEPT records that carry traffic (log-status neither NODATA nor SKIPDATA)
    reject: int = 0
    # Traffic records that say neither ACCEPT nor REJECT: transit-gateway flow logs and custom formats have no
    # action field. So records = accept + reject + nodata + skipdata + no_action, always.
    no_action: int = 0
    interfaces: int = 0
    start: int | None = None
    end: int | None = None
    top_talkers: list[dict[str, Any]] = field(default_factory=list)
    top_rejected_ports: list[dict[str, Any]] = field(default_factory=list)

    @property
    def time_span(self) -> int | None:
        return None if self.start is None or self.end is None else self.end - self.start

    def to_json(self) -> dict[str, Any]:
        """CONTRACT §5's keys first, then the extras."""
        st = self.stats
        return {
            "records": st.records,
            "accept": self.accept,
            "reject": self.reject,
            "nodata": st.nodata,
            "skipdata": st.skipdata,
            "no_action": self.no_action,
            "unparsable": st.unparsable,
            "interfaces": self.interfaces,
            "start": self.start,
            "end": self.end,
            "time_span": self.time_span,
            "files": st.files,
            "bytes_read": st.bytes_read,
            "filtered": st.filtered,
            "top_talkers": self.top_talkers,
            "top_rejected_ports": self.top_rejected_ports,
            "bad_lines": [b._asdict() for b in st.bad_lines],
        }


class _GroupSum:
    """A group-by whose partial results are re-aggregated when they pile up."""

    def __init__(self, keys: list[str], sums: list[str]) -> None:
        self.keys, self.sums = keys, sums
        self.parts: list[pa.Table] = []
        self.rows = 0

    def add(self, table: pa.Table) -> None:
        if not table.num_rows:
            return
        part = table.group_by(self.keys).aggregate([(c, "sum") for c in self.sums])
        part = part.rename_columns([c.removesuffix("_sum") for c in part.column_names])
        self.parts.append(part)
        self.rows += part.num_rows
        if self.rows > _COMPACT_ROWS:
            self._compact()

    def _compact(self) -> None:
        if len(self.parts) > 1:
            merged = pa.concat_tables(self.parts).group_by(self.keys).aggregate([(c, "sum") for c in self.sums])
            self.parts = [merged.rename_columns([c.removesuffix("_sum") for c in merged.column_names])]
        self.rows = self.parts[0].num_rows if self.parts else 0

    def top(self, by: str, n: int) -> list[dict[str, Any]]:
        self._compact()
        if not self.parts:
            return []
        table = self.parts[0].sort_by([(by, "descending"), *((k, "ascending") for k in self.keys)])
        return [{k: table[k][i].as_py() for k in self.keys + self.sums} for i in range(min(n, table.num_rows))]


def summarize(stream: FlowLogStream, top: int = 10) -> LogsSummary:
    s = LogsSummary(stream.stats)
    interfaces: set[str] = set()
    talkers = _GroupSum(["srcaddr", "dstaddr"], ["records", "packets", "bytes"])
    rejected = _GroupSum(["dstport", "protocol"], ["records"])
    for batch in stream:
        status = batch.column("log_status")
        traffic = pc.invert(pc.fill_null(pc.is_in(status, value_set=_NOT_TRAFFIC), False))
        action = batch.column("action")
        accept = pc.and_(traffic, pc.fill_null(pc.equal(action, "ACCEPT"), False))
        reject = pc.and_(traffic, pc.fill_null(pc.equal(action, "REJECT"), False))
        s.accept += pc.sum(accept).as_py() or 0
        s.reject += pc.sum(reject).as_py() or 0
        s.no_action += pc.sum(pc.and_(traffic, pc.is_null(action))).as_py() or 0
        interfaces.update(pc.unique(pc.drop_null(batch.column("interface_id"))).to_pylist())
        lo = pc.min(batch.column("start")).as_py()
        hi = pc.max(batch.column("end")).as_py()
        if lo is not None:
            s.start = lo if s.start is None else min(s.start, lo)
        if hi is not None:
            s.end = hi if s.end is None else max(s.end, hi)
        ones = pa.array(np.ones(batch.num_rows, dtype=np.int64))
        flows = pa.table(
            {
                "srcaddr": batch.column("srcaddr"),
                "dstaddr": batch.column("dstaddr"),
                "records": ones,
                "packets": batch.column("packets"),
                "bytes": batch.column("bytes"),
            }
        ).filter(pc.and_(traffic, pc.is_valid(batch.column("srcaddr"))))
        talkers.add(flows)
        rejected.add(
            pa.table(
                {"dstport": batch.column("dstport"), "protocol": batch.column("protocol"), "records": ones}
            ).filter(reject)
        )
    s.interfaces = len(interfaces)
    s.top_talkers = talkers.top("bytes", top)
    s.top_rejected_ports = rejected.top("records", top)
    return s
