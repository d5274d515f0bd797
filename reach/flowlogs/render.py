"""Text, JSON and CSV renderings of a summary and of query results.

Text output carries values from the files read (any field, a bad line, a file name): it is printed as plain
text, never as rich markup, and control characters are shown escaped (`\x1b`), so a value can neither break
the output (`[/x]`) nor drive the terminal (`\x1b[2J`). JSON and CSV carry values as they are.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from rich.console import Console
from rich.table import Table
from rich.text import Text

from reach.flowlogs.stats import printable
from reach.flowlogs.summary import LogsSummary


def _when(epoch: int | None) -> str:
    if epoch is None:
        return "-"
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _span(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{days}d"] if days else []
    parts += [f"{hours}h"] if hours or days else []
    return " ".join([*parts, f"{minutes}m", f"{secs}s"])


def render_summary(s: LogsSummary, console: Console) -> None:
    overview = Table(title="Flow logs", show_header=False, title_justify="left")
    overview.add_column(style="bold")
    overview.add_column(justify="right")
    rows = [
        ("records", f"{s.stats.records:,}"),
        ("  accept", f"{s.accept:,}"),
        ("  reject", f"{s.reject:,}"),
        ("  nodata", f"{s.stats.nodata:,}"),
        ("  skipdata (records lost: interval incomplete)", f"{s.stats.skipdata:,}"),
        ("unparsable lines", f"{s.stats.unparsable:,}"),
        ("interfaces", f"{s.interfaces:,}"),
        ("start", _when(s.start)),
        ("end", _when(s.end)),
        ("time span", _span(s.time_span)),
        ("files", f"{s.stats.files:,}"),
    ]
    if s.stats.filtered:
        rows.append(("left out by filters", f"{s.stats.filtered:,}"))
    for k, v in rows:
        overview.add_row(k, v)
    console.print(overview)

    if s.top_talkers:
        talkers = Table(title="Top talkers (by bytes)", title_justify="left")
        for name in ("srcaddr", "dstaddr", "records", "packets", "bytes"):
            talkers.add_column(name, justify="right" if name in ("records", "packets", "bytes") else "left")
        for t in s.top_talkers:
            talkers.add_row(
                t["srcaddr"], t["dstaddr"] or "-", f"{t['records']:,}", _num(t["packets"]), _num(t["bytes"])
            )
        console.print(talkers)

    if s.top_rejected_ports:
        ports = Table(title="Top rejected destination ports", title_justify="left")
        for name in ("dstport", "protocol", "records"):
            ports.add_column(name, justify="right")
        for p in s.top_rejected_ports:
            ports.add_row(_plain_num(p["dstport"]), _plain_num(p["protocol"]), f"{p['records']:,}")
        console.print(ports)

    if s.stats.bad_lines:
        # One "file:line: reason" per line, as compilers print them, so the place can be copied whole.
        st = s.stats
        console.print(Text.assemble(("Unparsable lines", "bold"), f" (first {len(st.bad_lines)} of {st.unparsable:,})"))
        for b in s.stats.bad_lines:
            console.print(Text(printable(f"{b.source}:{b.line}: {b.reason}")), soft_wrap=True)
            console.print(Text("    " + printable(b.text)), soft_wrap=True)


def _num(value: Any) -> str:
    return "-" if value is None else f"{value:,}"


def _plain_num(value: Any) -> str:  # a port or a protocol number: no thousands separator
    return "-" if value is None else str(value)


def _plain(table: pa.Table) -> pa.Table:
    """Columns JSON and CSV can carry: whole decimals (DuckDB's SUM) as integers, times as ISO text."""
    columns = []
    for field, column in zip(table.schema, table.columns, strict=True):
        t = field.type
        if pa.types.is_decimal(t) and t.scale == 0:
            column = column.cast(pa.int64())
        elif pa.types.is_timestamp(t) or pa.types.is_date(t) or pa.types.is_time(t):
            column = pc.cast(column, pa.string())
        columns.append(column)
    return pa.table(columns, names=table.column_names)


def rows_json(table: pa.Table) -> str:
    return json.dumps(_plain(table).to_pylist(), indent=2, default=str)


def rows_csv(table: pa.Table) -> str:
    out = io.BytesIO()
    pacsv.write_csv(_plain(table), out)
    return out.getvalue().decode()


def render_rows(table: pa.Table, console: Console) -> None:
    view = Table(show_lines=False)
    for name in table.column_names:
        view.add_column(Text(printable(name)), overflow="fold")
    for row in _plain(table).to_pylist():
        view.add_row(*(Text("-" if v is None else printable(v)) for v in row.values()))
    console.print(view)
    console.print(f"{table.num_rows:,} row{'s' if table.num_rows != 1 else ''}")
