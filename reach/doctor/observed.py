"""Records per interface in flow-log data (`reach doctor --flow-logs PATH`), counted in Arrow, not per row."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pyarrow as pa

from reach.doctor.report import ObservedCounts
from reach.flowlogs import read_flow_logs

_COUNTS = ("records", "accept", "reject", "nodata", "skipdata")


@dataclass
class ObservedData:
    sources: list[str]
    per_interface: dict[str, ObservedCounts] = field(default_factory=dict)
    records: int = 0
    unparsable: int = 0
    files: int = 0


def observe(sources: Sequence[str], *, log_format: str | None = None, profile: str | None = None,
            region: str | None = None) -> ObservedData:
    """Count records by interface, action and log status. `log_format` is the format of lines that no
    header line precedes (CloudWatch Logs exports have none); `profile` and `region` the AWS client's."""
    stream = read_flow_logs(list(sources), log_format=log_format, quiet=True, profile=profile, region=region)
    counts: dict[tuple[str, str | None, str | None], int] = {}
    for batch in stream:
        table = pa.table({name: batch.column(name) for name in ("interface_id", "action", "log_status")})
        grouped = table.group_by(["interface_id", "action", "log_status"], use_threads=False).aggregate(
            [([], "count_all")]
        )
        for interface, action, status, count in zip(
            grouped.column("interface_id").to_pylist(),
            grouped.column("action").to_pylist(),
            grouped.column("log_status").to_pylist(),
            grouped.column("count_all").to_pylist(),
            strict=True,
        ):
            if interface is not None:
                key = (interface, action, status)
                counts[key] = counts.get(key, 0) + count
    totals: dict[str, dict[str, int]] = {}
    for (interface, action, status), count in counts.items():
        entry = totals.setdefault(interface, dict.fromkeys(_COUNTS, 0))
        entry["records"] += count
        if action in ("ACCEPT", "REJECT"):
            entry[action.lower()] += count
        if status in ("NODATA", "SKIPDATA"):
            entry[status.lower()] += count
    stats = stream.stats
    return ObservedData(
        sources=[str(s) for s in sources],
        per_interface={interface: ObservedCounts(**entry) for interface, entry in totals.items()},
        records=stats.records,
        unparsable=stats.unparsable,
        files=stats.files,
    )
