"""Observed flows: flow-log records reduced to distinct connections, then re-explained before and after.

Records never become Python objects. The record batches (Athena column names, as `reach.flowlogs`
yields them) stream into DuckDB, which keeps only the records that touch the change's scope (an affected
interface logged them, or one end is an affected interface's address), folds responses onto their
requests, and groups them into connections `(src, dst, protocol, dst_port)` with their record count,
client port range and first/last seen. Only those connections are explained, twice.

A record is a response when its TCP flags carry SYN-ACK, a request when they carry SYN alone. Without
flags (default-format logs, or a window with no handshake), the server's end is the one whose port meets
more distinct peer ports in the logs (a service answers many client ports), and failing that the lower
port. ICMP records carry no type: they are explained as echo requests.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from reach.engine.explain import Analyzer
from reach.engine.explanation import Explanation
from reach.engine.packet import Packet
from reach.engine.resolve import Endpoint
from reach.model.addr import IPV4, parse_address
from reach.model.network import Network
from reach.whatif.results import ChangedFlow

_COLUMNS: dict[str, pa.DataType] = {
    "interface_id": pa.string(),
    "srcaddr": pa.string(),
    "dstaddr": pa.string(),
    "pkt_srcaddr": pa.string(),
    "pkt_dstaddr": pa.string(),
    "srcport": pa.int32(),
    "dstport": pa.int32(),
    "protocol": pa.int32(),
    "start": pa.int64(),
    "end": pa.int64(),
    "log_status": pa.string(),
    "tcp_flags": pa.int32(),
}
_SCHEMA = pa.schema(list(_COLUMNS.items()))
_ECHO_REQUEST = {1: 8, 58: 128}

_SCOPED_SQL = """
CREATE TEMP TABLE scoped AS
SELECT coalesce(pkt_srcaddr, srcaddr) AS s, coalesce(pkt_dstaddr, dstaddr) AS d,
       srcport, dstport, protocol, start, "end", tcp_flags
FROM batches
WHERE srcaddr IS NOT NULL AND dstaddr IS NOT NULL AND protocol IS NOT NULL
  AND coalesce(log_status, 'OK') = 'OK'
  AND ({everything}
       OR interface_id IN (SELECT id FROM scope_interfaces)
       OR coalesce(pkt_srcaddr, srcaddr) IN (SELECT address FROM scope_addresses)
       OR coalesce(pkt_dstaddr, dstaddr) IN (SELECT address FROM scope_addresses))
"""

# Which end of a record is the server: TCP flags when they say (SYN-ACK is sent by the server, SYN alone by
# the client); else the end whose port meets more distinct peer ports (a service answers many client
# ports, a client port talks to one service); else the lower port.
_CONNECTIONS_SQL = """
WITH ends AS (
    SELECT addr, port, protocol, count(DISTINCT peer_port) AS fanout
    FROM (SELECT s AS addr, srcport AS port, protocol, dstport AS peer_port FROM scoped WHERE protocol IN (6, 17)
          UNION ALL
          SELECT d, dstport, protocol, srcport FROM scoped WHERE protocol IN (6, 17))
    GROUP BY ALL
), records AS (
    SELECT r.*,
           CASE WHEN r.protocol NOT IN (6, 17) THEN false
                WHEN r.tcp_flags IS NOT NULL AND r.tcp_flags & 18 = 18 THEN true
                WHEN r.tcp_flags IS NOT NULL AND r.tcp_flags & 18 = 2 THEN false
                WHEN coalesce(src_end.fanout, 0) <> coalesce(dst_end.fanout, 0)
                     THEN coalesce(src_end.fanout, 0) > coalesce(dst_end.fanout, 0)
                ELSE coalesce(r.srcport < r.dstport, false) END AS reply
    FROM scoped r
    LEFT JOIN ends src_end ON src_end.addr = r.s AND src_end.port = r.srcport AND src_end.protocol = r.protocol
    LEFT JOIN ends dst_end ON dst_end.addr = r.d AND dst_end.port = r.dstport AND dst_end.protocol = r.protocol
)
SELECT CASE WHEN reply THEN d ELSE s END AS src,
       CASE WHEN reply THEN s ELSE d END AS dst,
       protocol,
       CASE WHEN protocol IN (6, 17) THEN CASE WHEN reply THEN srcport ELSE dstport END END AS dst_port,
       min(CASE WHEN reply THEN dstport ELSE srcport END) AS src_port_lo,
       max(CASE WHEN reply THEN dstport ELSE srcport END) AS src_port_hi,
       count(*) AS records,
       min(start) AS first_seen,
       max("end") AS last_seen
FROM records
GROUP BY ALL
ORDER BY records DESC, src, dst, protocol, dst_port
"""


@dataclass
class Connections:
    """Distinct connections in the scope, as an Arrow table, and how many records were read in all."""

    table: pa.Table
    records_read: int


def _conform(batch: pa.RecordBatch) -> pa.RecordBatch:
    """The columns the grouping needs, typed; a field the log format lacks is a null column."""
    arrays = []
    for name, kind in _COLUMNS.items():
        index = batch.schema.get_field_index(name)
        if index < 0:
            arrays.append(pa.nulls(batch.num_rows, kind))
        else:
            column = batch.column(index)
            arrays.append(column if column.type == kind else column.cast(kind))
    return pa.RecordBatch.from_arrays(arrays, schema=_SCHEMA)


def group_connections(
    batches: Iterable[pa.RecordBatch], *, interfaces: Iterable[str] | None, addresses: Iterable[str] = ()
) -> Connections:
    """Distinct connections among the records; with `interfaces=None`, every record is in scope.

    Records outside the scope are dropped batch by batch in Arrow (hash lookups in C++) before DuckDB sees
    them: a change usually touches a few percent of the interfaces, so DuckDB groups a few percent of the
    records.
    """
    counted = [0]
    scope_ids = None if interfaces is None else pa.array(sorted(interfaces), pa.string())
    scope_addresses = pa.array(sorted(addresses), pa.string())

    def stream() -> Iterator[pa.RecordBatch]:
        for raw in batches:
            counted[0] += raw.num_rows
            batch = _conform(raw)
            if scope_ids is not None:
                keep = pc.is_in(batch.column("interface_id"), value_set=scope_ids)
                for name in ("srcaddr", "dstaddr", "pkt_srcaddr", "pkt_dstaddr"):
                    column = batch.column(name)
                    if column.null_count < len(column):  # pkt-* are absent from most formats
                        keep = pc.or_(keep, pc.is_in(column, value_set=scope_addresses))
                batch = batch.filter(pc.fill_null(keep, False))
            if batch.num_rows:
                yield batch

    connection = duckdb.connect()
    try:
        connection.execute("SET enable_progress_bar = false")  # stdout carries the report
        if scope_ids is None:  # every record: stream them through
            connection.register("batches", pa.RecordBatchReader.from_batches(_SCHEMA, stream()))
        else:  # the few in scope: gather them first, so DuckDB never waits on Python for the next batch
            connection.register("batches", pa.Table.from_batches(list(stream()), schema=_SCHEMA))
        connection.register("scope_interfaces", pa.table({"id": pa.array(sorted(interfaces or ()), pa.string())}))
        connection.register("scope_addresses", pa.table({"address": pa.array(sorted(addresses), pa.string())}))
        connection.execute(_SCOPED_SQL.format(everything="true" if interfaces is None else "false"))
        table = connection.sql(_CONNECTIONS_SQL).to_arrow_table()
    finally:
        connection.close()
    return Connections(table, counted[0])


def _endpoint(network: Network, address: tuple[int, int], text: str) -> Endpoint:
    holders = network.interfaces_at(*address)
    if len(holders) == 1:
        return Endpoint(text, holders[0], address)
    return Endpoint(text, None, address)


def _destination(network: Network, source: Endpoint, address: tuple[int, int]) -> int:
    """Flow logs write an interface's private address even for traffic that came from the internet to its
    public one: explain such a connection towards the public address, as it really travelled."""
    if source.interface is not None or address[0] != IPV4:
        return address[1]
    for interface in network.interfaces_at(*address):
        public = interface.public_for(*address)
        if public is not None:
            return public
    return address[1]


def explain_connection(
    analyzer: Analyzer, src: str, dst: str, protocol: int, dst_port: int | None, src_ports: tuple[int, int]
) -> Explanation:
    network = analyzer.network
    source_address, target = parse_address(src), parse_address(dst)
    source = _endpoint(network, source_address, src)
    ports = (dst_port or 0, dst_port or 0)
    if protocol in _ECHO_REQUEST:
        ports = (_ECHO_REQUEST[protocol],) * 2
    client = src_ports if protocol in (6, 17) else (0, 0)
    packet = Packet(
        source_address[0], source_address[1], _destination(network, source, target), protocol, client, ports
    )
    return analyzer.explain_packet(source, packet)


def changed_connections(before: Analyzer, after: Analyzer, connections: pa.Table) -> list[ChangedFlow]:
    """Re-explain every connection before and after; keep those whose verdict changes."""
    changed = []
    for row in connections.to_pylist():
        args = (
            row["src"],
            row["dst"],
            row["protocol"],
            row["dst_port"],
            (row["src_port_lo"] or 0, row["src_port_hi"] or 0),
        )
        try:
            parse_address(row["src"])
            parse_address(row["dst"])
        except ValueError:
            continue  # an address column holding something else ('-' already dropped by the reader)
        was, now = explain_connection(before, *args), explain_connection(after, *args)
        if was.verdict == now.verdict:
            continue
        seen = {"observed_records": row["records"], "first_seen": row["first_seen"], "last_seen": row["last_seen"]}
        changed.append(ChangedFlow.between("observed", was, now, **seen))
    return changed
