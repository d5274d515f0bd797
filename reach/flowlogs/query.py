"""SQL over flow logs with DuckDB, as Athena would run it on the same records.

The stream is read to its end and registered as the table `vpc_flow_logs` (Athena's column names for VPC
flow logs), whose columns are the union over every file read (`spool.hold`); DuckDB scans it as Arrow, never
as Python rows. Two Athena habits are accepted: back-quoted identifiers (`end` is reserved in both; Athena
DDL writes `end`, DuckDB wants "end") and `from_unixtime`.

The query runs in a sandbox: one SELECT statement, on a DuckDB connection that can touch no file (no
`COPY … TO`, no `read_text('/etc/passwd')`, no ATTACH, no extension loading) and whose configuration is
locked so that the statement cannot undo it. DuckDB may still spill to its own folder inside the temporary
folder of the query.
"""

from __future__ import annotations

import ipaddress
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from reach.errors import ReachError
from reach.flowlogs.fields import FLOW_LOG_SCHEMA
from reach.flowlogs.reader import FlowLogStream
from reach.flowlogs.spool import hold

TABLE_NAME = "vpc_flow_logs"
_BACKQUOTED = re.compile(r"`([^`]*)`")
_MACROS = ("CREATE MACRO from_unixtime(x) AS to_timestamp(x)",)
# DuckDB's memory for one query; beyond it, DuckDB spills to the query's temporary folder.
QUERY_MEMORY = "1GB"


def athena_to_duckdb(sql: str) -> str:
    """`end` (Athena/Hive quoting) -> "end" (SQL quoting)."""
    return _BACKQUOTED.sub(lambda m: '"' + m.group(1).replace('"', '""') + '"', sql)


def _sandbox(folder: Path) -> dict[str, Any]:
    """DuckDB settings for a connection that reads only what is registered on it."""
    return {
        "enable_external_access": False,
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
        "python_enable_replacements": False,  # no scan of Python variables by name
        "temp_directory": str(folder / "duckdb"),
        "memory_limit": QUERY_MEMORY,
        "lock_configuration": True,  # last: nothing above can be SET back by the query
    }


def _one_select(duckdb: Any, sql: str) -> None:
    statements = duckdb.extract_statements(sql)
    if len(statements) != 1:
        raise ReachError(f"--sql must be one SELECT statement, not {len(statements)}")
    kind = statements[0].type
    if kind != duckdb.StatementType.SELECT:
        raise ReachError(f"--sql may only read {TABLE_NAME} with SELECT; a {kind.name} statement is not run")


def query(stream: FlowLogStream, sql: str) -> pa.Table:
    """Run one SELECT statement over the stream as the table `vpc_flow_logs`; the result as an Arrow table."""
    import duckdb  # here, not at the top: `reach` commands that run no SQL do not pay for loading it

    sql = athena_to_duckdb(sql)
    try:
        _one_select(duckdb, sql)  # before reading anything: a statement that cannot run costs nothing
    except duckdb.Error as exc:
        raise ReachError(f"SQL error: {_first_line(exc)}") from None
    with tempfile.TemporaryDirectory(prefix="reach-query-") as tmp:
        folder = Path(tmp)
        table = hold(stream, folder)
        con = duckdb.connect(config=_sandbox(folder))
        try:
            for macro in _MACROS:
                con.execute(macro)
            con.register(TABLE_NAME, table)
            return con.sql(sql).to_arrow_table()
        except duckdb.PermissionException as exc:
            raise ReachError(f"--sql may only read the table {TABLE_NAME}: {_first_line(exc)}") from None
        except duckdb.Error as exc:
            raise ReachError(f"SQL error: {_first_line(exc)}") from None
        finally:
            con.close()


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# ----- Logs Insights-style shorthands -----------------------------------------------------------

DEFAULT_FIELDS = (
    "interface_id",
    "srcaddr",
    "dstaddr",
    "srcport",
    "dstport",
    "protocol",
    "packets",
    "bytes",
    "start",
    "end",
    "action",
    "log_status",
)


@dataclass(frozen=True)
class Shorthand:
    """The filters of seed 002's Logs Insights queries; each becomes one SQL condition.

    `both_ways` matches src→dst and dst→src (the "conversation between two hosts" query). `top` groups by a
    column and counts (`stats count() by dstport | sort desc`).
    """

    action: str | None = None
    src: str | None = None
    dst: str | None = None
    port: int | None = None
    interface: str | None = None
    between: tuple[int, int] | None = None
    both_ways: bool = False
    top: str | None = None
    fields: Sequence[str] = field(default_factory=lambda: DEFAULT_FIELDS)
    limit: int | None = None


def _column(name: str) -> str:
    if name not in FLOW_LOG_SCHEMA.names:
        raise ReachError(f"unknown column {name!r}; columns are: {', '.join(FLOW_LOG_SCHEMA.names)}")
    return f'"{name}"'


def _address(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise ReachError(f"{value!r} is not an IP address") from None


def shorthand_sql(s: Shorthand) -> str:
    """SQL for the shorthand filters. Every value is validated first, so none can break out of its literal."""
    where = []
    if s.action is not None:
        action = s.action.upper()
        if action not in ("ACCEPT", "REJECT"):
            raise ReachError(f"--action must be ACCEPT or REJECT, not {s.action!r}")
        where.append(f"action = '{action}'")
    src = _address(s.src) if s.src else None
    dst = _address(s.dst) if s.dst else None
    if s.both_ways and src and dst:
        where.append(f"((srcaddr = '{src}' AND dstaddr = '{dst}') OR (srcaddr = '{dst}' AND dstaddr = '{src}'))")
    elif s.both_ways and (src or dst):
        one = src or dst
        where.append(f"(srcaddr = '{one}' OR dstaddr = '{one}')")
    else:
        if src:
            where.append(f"srcaddr = '{src}'")
        if dst:
            where.append(f"dstaddr = '{dst}'")
    if s.port is not None:
        if not 0 <= s.port <= 65535:
            raise ReachError(f"--port must be 0-65535, not {s.port}")
        where.append(f"dstport = {int(s.port)}")
    if s.interface is not None:
        if not re.fullmatch(r"[A-Za-z0-9-]+", s.interface):
            raise ReachError(f"{s.interface!r} is not an interface id")
        where.append(f"interface_id = '{s.interface}'")
    if s.between is not None:
        lo, hi = s.between
        where.append(f'"end" >= {int(lo)} AND "start" <= {int(hi)}')
    condition = f" WHERE {' AND '.join(where)}" if where else ""
    limit = f" LIMIT {int(s.limit)}" if s.limit else ""
    if s.top:
        col = _column(s.top)
        return (
            f"SELECT {col}, count(*) AS records, sum(packets) AS packets, sum(bytes) AS bytes "
            f"FROM {TABLE_NAME}{condition} GROUP BY {col} ORDER BY records DESC, {col}{limit}"
        )
    columns = ", ".join(_column(c) for c in s.fields)
    return f'SELECT {columns} FROM {TABLE_NAME}{condition} ORDER BY "start", interface_id{limit}'


def parse_time(value: str) -> int:
    """Epoch seconds from epoch seconds or an ISO 8601 time (UTC unless it says otherwise)."""
    if re.fullmatch(r"\d+", value):
        return int(value)
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ReachError(f"{value!r} is neither epoch seconds nor an ISO 8601 time") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp())
