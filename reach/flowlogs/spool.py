"""A stream held for SQL: every batch kept, under one schema that is the union of all of theirs.

DuckDB needs a table's schema before it reads a row, but a stream's columns are known only when it ends: a
later file may carry a field (`encryption-status`) that the first lacked. So the stream is read to its end
first, then offered under the union of the columns seen; a column is null in the batches that lack it.

Batches are held in memory up to `MEMORY_BUDGET` bytes. Past that, all of them go to Arrow IPC files in the
folder given (a new file whenever the schema changes) and come back as one dataset, read from disk as DuckDB
scans it. Either way the table can be scanned more than once: a self-join or a CTE used twice sees every row.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds

from reach.flowlogs.reader import FlowLogStream

MEMORY_BUDGET = 128 << 20


def _conform(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    if batch.schema.equals(schema):
        return batch
    names = set(batch.schema.names)
    arrays = [batch.column(f.name) if f.name in names else pa.nulls(batch.num_rows, f.type) for f in schema]
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def hold(stream: FlowLogStream, folder: Path, budget: int = MEMORY_BUDGET) -> pa.Table | ds.Dataset:
    """Read the whole stream; a table (in memory) or a dataset (spilled to `folder`) of the union schema."""
    held: list[pa.RecordBatch] = []
    size = 0
    files: list[str] = []
    writer: pa.ipc.RecordBatchFileWriter | None = None
    try:
        for batch in stream:
            if not files and size + batch.nbytes <= budget:
                held.append(batch)
                size += batch.nbytes
                continue
            for b in [*held, batch]:
                if writer is None or not writer.schema.equals(b.schema):
                    if writer is not None:
                        writer.close()
                    files.append(str(folder / f"part-{len(files):05d}.arrow"))
                    writer = pa.ipc.new_file(files[-1], b.schema)
                writer.write_batch(b)
            held, size = [], 0
    finally:
        if writer is not None:
            writer.close()
    schema = stream.schema
    if files:
        return ds.dataset(files, schema=schema, format="ipc")
    return pa.Table.from_batches([_conform(b, schema) for b in held], schema=schema)
