"""S3 Parquet delivery -> typed tables with the same columns and the same checks as text.

AWS writes typed columns with underscored names, but files written by other tools differ: flowlogs-reader's
test file has `account_id` as int64 and ports as strings, with `-` and `None` for missing values. Every column
is therefore brought to the field table's type; a value that cannot be is a rejected row (row number as line).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from reach.errors import FlowLogError
from reach.flowlogs.fields import FLOW_LOG_SCHEMA, HEADER_MIN_KNOWN, KNOWN_FIELDS, column_name
from reach.flowlogs.parse import to_int
from reach.flowlogs.stats import FlowLogStats
from reach.flowlogs.validate import describe, invalid_rows, normalise_times, shown

BATCH_ROWS = 256 * 1024
_TYPES = {column_name(f.name): f.type for f in KNOWN_FIELDS.values()}
_VPC_COLUMNS = frozenset(_TYPES)
# A Parquet file is read as flow logs when at least this many of its columns are flow-log fields.
MIN_KNOWN_COLUMNS = HEADER_MIN_KNOWN
_MISSING = pa.array(["-", "None", ""], pa.string())
# Account ids are 12 digits; a writer that stored them as integers dropped the leading zeros.
_ACCOUNT_COLUMNS = ("account_id", "tgw_src_vpc_account_id", "tgw_dst_vpc_account_id")


def parquet_tables(name: str, file: pq.ParquetFile, stats: FlowLogStats) -> Iterator[pa.Table]:
    yield from column_tables(name, file.schema_arrow, file.iter_batches(batch_size=BATCH_ROWS), stats)


def column_tables(name: str, schema: pa.Schema, batches: Iterable[pa.RecordBatch],
                  stats: FlowLogStats) -> Iterator[pa.Table]:
    """Batches of typed columns (Parquet, a Spark DataFrame) -> tables with the field table's types; a row
    whose value cannot be converted is rejected with its row number."""
    names = [column_name(n.strip().lower()) for n in schema.names]
    known = [c for c in names if c in _VPC_COLUMNS]
    if len(known) < MIN_KNOWN_COLUMNS:  # the rule a header line follows, for the same reason
        found = ", ".join(names[:8]) + (", …" if len(names) > 8 else "")
        raise FlowLogError(
            f"{name}: a Parquet file without flow-log columns (it has {found or 'no columns'}; a flow-log file has "
            f"at least {MIN_KNOWN_COLUMNS} of {', '.join(FLOW_LOG_SCHEMA.names[:4])}, …)"
        )
    row0 = 0
    for batch in batches:
        n = batch.num_rows
        columns: dict[str, pa.Array] = {}
        bad_column = np.full(n, -1, dtype=np.int32)
        for j, (field, array) in enumerate(zip(batch.schema, batch.columns, strict=True)):
            col = column_name(field.name.strip().lower())
            target = _TYPES.get(col, pa.string())
            converted, bad = _convert(col, array, target)
            columns[col] = converted
            if bad is not None:
                bad_column[bad & (bad_column < 0)] = j
        table = normalise_times(pa.table(columns))
        rejected = bad_column >= 0
        invalid = invalid_rows(table)
        if invalid is not None:
            rejected |= invalid
        if rejected.any():
            for k, i in enumerate(np.flatnonzero(rejected).tolist()):
                if not stats.wants_samples:
                    stats.unparsable += int(rejected.sum()) - k
                    break
                values = batch.slice(i, 1).to_pylist()[0]
                text = " ".join("-" if v is None else str(v) for v in values.values())
                j = int(bad_column[i])
                if j >= 0:
                    field_name = batch.schema.field(j).name
                    reason = f"{field_name} {shown(batch.column(j)[i].as_py())} is not an integer"
                else:
                    reason = describe(table.slice(i, 1).to_pylist()[0])
                stats.reject(name, row0 + i + 1, text, reason)
            table = table.filter(pa.array(~rejected))
        row0 += n
        if table.num_rows:
            yield table


def _convert(column: str, array: pa.Array, target: pa.DataType) -> tuple[pa.Array, np.ndarray | None]:
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    if pa.types.is_large_string(array.type) or pa.types.is_binary(array.type):
        array = array.cast(pa.string())
    if pa.types.is_string(array.type):
        array = pc.if_else(pc.is_in(array, value_set=_MISSING), pa.scalar(None, pa.string()), array)
        if pa.types.is_string(target):
            return array, None
        return to_int(array, target)
    if pa.types.is_integer(array.type):
        if pa.types.is_string(target):
            text = array.cast(pa.string())
            if column in _ACCOUNT_COLUMNS:
                text = pc.utf8_lpad(text, 12, "0")
            return text, None
        try:
            return array.cast(target), None
        except pa.ArrowInvalid:  # out of range for the target: find which rows
            return to_int(array.cast(pa.string()), target)
    text = array.cast(pa.string())  # timestamps, floats: judged by their text like any other value
    return (text, None) if pa.types.is_string(target) else to_int(text, target)
