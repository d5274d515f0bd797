"""reconcile on a Spark cluster: the compiled network broadcast once, each partition reconciled by
`mapInArrow` into a Partial, the partials folded on the driver exactly as the local engine folds its
workers' (reach.reconcile.parallel), so the answers are the same.

What Spark reads:
- flow-log objects as AWS delivers them (S3 prefixes in AWS's layout, folders; plain, gzip or Parquet),
  read whole by Spark's `binaryFile` source and parsed by reach's own reader inside `mapInArrow`;
- a folder of Parquet files (Hive-partitioned or not), through Spark's Parquet reader;
- any DataFrame with flow-log columns (a Glue table, say): `reconcile_dataframe`.

Pairing candidates (records whose response only their reverse can tell) leave phase 1 as Arrow IPC rows
keyed by partition of connections; Spark shuffles them by that key and phase 2 resolves each partition.
"""

from __future__ import annotations

import os
import pickle
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from reach.errors import ReachError
from reach.flowlogs import FLOW_LOG_SCHEMA, FlowLogStats, read_flow_logs
from reach.flowlogs.parquet import column_tables
from reach.flowlogs.sources import FileBytes, is_log_name
from reach.flowlogs.stats import MAX_BAD_LINES, SOURCE_BAD_LINES
from reach.model.network import Network
from reach.reconcile.cells import _ipc
from reach.reconcile.cloudtrail import CloudTrail
from reach.reconcile.finish import finish
from reach.reconcile.partial import Partial
from reach.reconcile.pipeline import Reconciler
from reach.reconcile.result import ReconcileResult

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

PARTIAL, HELD = 0, 1
_SCHEMA = "kind int, part int, blob binary"


@dataclass
class _Read:
    """One object's read counts, to fold in input order on the driver."""

    source: int
    name: str
    stats: FlowLogStats


@dataclass
class _Out:
    partial: Partial
    reads: list[_Read] = field(default_factory=list)


def _session(master: str | None) -> SparkSession:
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise ReachError("--engine spark needs PySpark: pip install 'reach[spark]' (and Java 17)") from exc
    launched_here = "PYSPARK_GATEWAY_PORT" not in os.environ  # not under spark-submit
    if launched_here and (master is None or master.startswith("local")):
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # local workers: this interpreter, with reach
    builder = SparkSession.builder.appName("reach reconcile")
    if master:
        builder = builder.master(master)
    builder = builder.config("spark.sql.execution.arrow.maxRecordsPerBatch", 1 << 17)
    # objects are read whole: a partition of at most a few of them, and room for them in local mode
    builder = builder.config("spark.sql.files.maxPartitionBytes", "32m")
    if launched_here:
        builder = builder.config("spark.driver.memory", "2g")
    return builder.getOrCreate()


def _rows(out: _Out) -> Iterator[pa.RecordBatch]:
    """A partition's answer as rows: its partial, then its held candidates, one row per partition of them."""
    held = out.partial.candidates
    parts = []
    for partition in range(held.partitions):
        table = held.take(partition)
        if table is not None:
            parts.append((partition, _ipc(table)))
    held.rows = 0
    kinds = [PARTIAL] + [HELD] * len(parts)
    numbers = [-1] + [p for p, _ in parts]
    blobs = [pickle.dumps(out, protocol=pickle.HIGHEST_PROTOCOL)] + [b for _, b in parts]
    yield pa.RecordBatch.from_arrays([pa.array(kinds, pa.int32()), pa.array(numbers, pa.int32()),
                                      pa.array(blobs, pa.binary())], names=["kind", "part", "blob"])


def _reconciler(network: Network, rule_usage: bool) -> Reconciler:
    reconciler = Reconciler(network, rule_usage=rule_usage)
    # an executor's partials travel to the driver whole: nothing is written where the driver cannot read it
    reconciler.state.cells.budget = reconciler.state.candidates.budget = 1 << 62
    return reconciler


Task = Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]


def _files_task(payload: Any, source: int, log_format: str | None, rule_usage: bool, named: bool,
                local: tuple[str, str] | None) -> Task:
    """mapInArrow over (path, content) rows: each object read by reach's own reader. `local` is (the source
    as given, its absolute path): objects are named as the local engine names them."""

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        network = pickle.loads(payload.value)
        reconciler = _reconciler(network, rule_usage)
        reads = []
        for batch in batches:
            for path, content in zip(batch.column("path").to_pylist(), batch.column("content").to_pylist(),
                                     strict=True):
                if not named and not is_log_name(path.rsplit("/", 1)[-1]):
                    continue
                name = path
                if local is not None:
                    given, absolute = local
                    within = os.path.relpath(path.removeprefix("file:").replace("///", "/"), absolute)
                    name = given if within == "." else os.path.join(given, within)
                stream = read_flow_logs([FileBytes(name, content)], log_format=log_format, quiet=True)
                stream.check_sources = False
                for records in stream:
                    reconciler.add(records)
                reads.append(_Read(source, name, stream.stats))
        out = _Out(reconciler.partial(), reads)
        reconciler.close()
        yield from _rows(out)

    return run


def _columns_task(payload: Any, source: int, name: str, rule_usage: bool) -> Task:
    """mapInArrow over flow-log columns (Parquet, a table): typed and checked as reach reads Parquet."""

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        network = pickle.loads(payload.value)
        reconciler = _reconciler(network, rule_usage)
        stats = FlowLogStats()
        for batch in batches:
            for table in column_tables(name, batch.schema, [batch], stats):
                for records in _conformed(table).to_batches():
                    stats.records += records.num_rows
                    reconciler.add(records)
        out = _Out(reconciler.partial(), [_Read(source, name, stats)])
        reconciler.close()
        yield from _rows(out)

    return run


def _conformed(table: pa.Table) -> pa.Table:
    n = table.num_rows
    return pa.table({f.name: table[f.name].cast(f.type) if f.name in table.column_names else pa.nulls(n, f.type)
                     for f in FLOW_LOG_SCHEMA})


def _resolve_task(payload: Any, rule_usage: bool) -> Task:
    """mapInArrow over held candidates, shuffled by partition of connections: each partition told whole."""

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        network = pickle.loads(payload.value)
        reconciler = _reconciler(network, rule_usage)
        held: dict[int, list[pa.Table]] = {}
        for batch in batches:
            for part, blob in zip(batch.column("part").to_pylist(), batch.column("blob").to_pylist(), strict=True):
                held.setdefault(part, []).append(pa.ipc.open_stream(blob).read_all())
        for part in sorted(held):
            reconciler.resolve(pa.concat_tables(held[part]))
        out = _Out(reconciler.partial())
        reconciler.close()
        yield from _rows(out)

    return run


def _is_parquet_folder(source: str) -> bool:
    path = Path(source)
    if not path.is_dir():
        return False
    names = [f for _, _, files in os.walk(path) for f in files if not f.startswith((".", "_"))]
    return bool(names) and all(f.endswith(".parquet") for f in names)


def _frame(spark: SparkSession, payload: Any, s: int, source: str, log_format: str | None,
           rule_usage: bool) -> DataFrame:
    if source.startswith("cloudwatch://"):
        raise ReachError(f"{source}: the Spark engine reads files and object stores; read CloudWatch Logs with "
                         "--engine local")
    local = not source.startswith(("s3://", "s3a://", "s3n://", "hdfs://", "gs://", "abfss://", "file:"))
    if local and not Path(source).exists():
        raise ReachError(f"{source}: no such file or directory")
    where = str(Path(source).resolve()) if local else source
    if local and _is_parquet_folder(source):
        return spark.read.parquet(where).mapInArrow(_columns_task(payload, s, source, rule_usage), _SCHEMA)
    reader = spark.read.format("binaryFile").option("recursiveFileLookup", "true")
    named = local and Path(source).is_file()
    return reader.load(where).select("path", "content").mapInArrow(
        _files_task(payload, s, log_format, rule_usage, named, (source, where) if local else None), _SCHEMA)


def reconcile_spark(network: Network, sources: Sequence[str], *, log_format: str | None = None,
                    cloudtrail: CloudTrail | None = None, master: str | None = None, rule_usage: bool = True,
                    spark: SparkSession | None = None) -> ReconcileResult:
    """reconcile(…) over flow-log sources on Spark (`master`, or spark-submit's, or local[*]); the answer is
    the local engine's."""
    spark = spark or _session(master)
    payload = spark.sparkContext.broadcast(pickle.dumps(network, protocol=pickle.HIGHEST_PROTOCOL))
    frames = [_frame(spark, payload, s, source, log_format, rule_usage) for s, source in enumerate(sources)]
    first = frames[0]
    for frame in frames[1:]:
        first = first.unionByName(frame)
    return _fold(spark, first, payload, network, list(sources), cloudtrail, rule_usage)


def reconcile_dataframe(network: Network, frame: DataFrame, *, name: str = "dataframe",
                        cloudtrail: CloudTrail | None = None, rule_usage: bool = True) -> ReconcileResult:
    """reconcile(…) over a DataFrame of flow-log records (columns named as Athena names them)."""
    spark = frame.sparkSession
    payload = spark.sparkContext.broadcast(pickle.dumps(network, protocol=pickle.HIGHEST_PROTOCOL))
    phase_one = frame.mapInArrow(_columns_task(payload, 0, name, rule_usage), _SCHEMA)
    return _fold(spark, phase_one, payload, network, [name], cloudtrail, rule_usage)


def _fold(spark: SparkSession, phase_one: DataFrame, payload: Any, network: Network, sources: list[str],
          cloudtrail: CloudTrail | None, rule_usage: bool) -> ReconcileResult:
    from pyspark import StorageLevel
    from pyspark.sql.functions import col

    phase_one = phase_one.persist(StorageLevel.MEMORY_AND_DISK)
    try:
        phase_one.count()  # every partition at once; the driver then takes their partials one at a time
        outs = [pickle.loads(row.blob) for row in phase_one.filter(col("kind") == PARTIAL).toLocalIterator()]
        held = phase_one.filter(col("kind") == HELD)
        partitions = max(1, spark.sparkContext.defaultParallelism)
        phase_two = held.repartition(partitions, "part").mapInArrow(_resolve_task(payload, rule_usage), _SCHEMA)
        resolved = [pickle.loads(row.blob) for row in phase_two.filter(col("kind") == PARTIAL).collect()]
    finally:
        phase_one.unpersist()
    merged = Partial(len(network.interfaces))
    for out in [*outs, *resolved]:
        merged.merge(out.partial)
    stats = _read_stats([r for out in outs for r in out.reads], sources)
    return finish(merged, network, read_stats=stats, cloudtrail=cloudtrail, rule_usage=rule_usage)


def _walk_order(read: _Read) -> tuple[int, tuple[str, ...]]:
    """The order the local reader walks a folder in: a folder's files, then its subfolders, each sorted."""
    *folders, name = Path(read.name).parts
    return read.source, (*folders, "\0" + name)


def _read_stats(reads: list[_Read], sources: list[str]) -> FlowLogStats:
    """The objects' read counts, summed; bad-line samples the first in input order (source, then path)."""
    from reach.errors import FlowLogError
    from reach.flowlogs.reader import not_flow_logs

    stats = FlowLogStats()
    per_source: dict[int, tuple[int, int, list[Any]]] = {}
    for r in sorted(reads, key=_walk_order):
        st = r.stats
        for name in ("records", "filtered", "unparsable", "nodata", "skipdata", "headers", "bytes_read", "files"):
            setattr(stats, name, getattr(stats, name) + getattr(st, name))
        stats.bad_lines.extend(st.bad_lines[: MAX_BAD_LINES - len(stats.bad_lines)])
        records, bad, samples = per_source.get(r.source, (0, 0, []))
        per_source[r.source] = (records + st.records, bad + st.unparsable, (samples + st.bad_lines)[:SOURCE_BAD_LINES])
    for s, (records, bad, samples) in sorted(per_source.items()):
        if not records and bad:
            raise FlowLogError(not_flow_logs(sources[s], bad, samples))
    return stats
