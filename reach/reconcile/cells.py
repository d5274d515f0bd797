"""Per-key partial aggregates that may outgrow memory: held as Arrow tables up to a budget, then written to
Parquet files in a spool folder, and folded at the end by DuckDB, which aggregates out of core.

Each named table is a bag of partial group-bys (counts add up, minima stay minima, maxima maxima), so any
number of chunks, worker processes or Spark partitions fold into the same answer whatever their order: the
fold is one `GROUP BY` over all the parts. Memory follows the budget, not the number of distinct keys.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

# Held in memory per store before it is written out; a worker process holds one store.
BUDGET_BYTES = 48 << 20
# DuckDB's own memory while folding; past it, DuckDB spills to the same folder.
DUCKDB_MEMORY = "384MB"


@dataclass(frozen=True)
class Table:
    """One named table: its key columns and, per value column, how parts fold (sum, min or max)."""

    keys: tuple[str, ...]
    values: Mapping[str, str]
    unsigned: tuple[str, ...] = ()  # uint64 columns (addresses); every other column is int64
    compact: bool = True  # whether folding in memory pays (keys repeat across chunks) before spilling

    def fold_sql(self, source: str, where: str = "") -> str:
        keys = ", ".join(f'"{k}"' for k in self.keys)
        values = ", ".join(f'{op}("{v}")::BIGINT AS "{v}"' for v, op in self.values.items())
        return f"SELECT {keys}, {values} FROM {source} {where} GROUP BY {keys}"

    def fold_arrow(self, table: pa.Table) -> pa.Table:
        grouped = table.group_by(list(self.keys), use_threads=False).aggregate(
            [(v, op) for v, op in self.values.items()])
        return grouped.rename_columns([n.rsplit("_", 1)[0] if n not in self.keys else n
                                       for n in grouped.column_names]).select([*self.keys, *self.values])


class _SentAsArrow:
    """Held tables travel between processes as Arrow IPC (pickle would copy them through Python objects)."""

    parts: dict[Any, list[pa.Table]]
    files: dict[Any, list[str]]
    _held: int

    def _take(self, other: _SentAsArrow) -> None:
        """Another holder's tables and files, added to these."""
        for key, parts in other.parts.items():
            self.parts.setdefault(key, []).extend(parts)
        for key, files in other.files.items():
            self.files.setdefault(key, []).extend(files)
        self._held += other._held

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["parts"] = {key: [_ipc(t) for t in tables] for key, tables in self.parts.items()}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        parts = state.pop("parts")
        self.__dict__.update(state)
        self.parts = {key: [pa.ipc.open_stream(b).read_all() for b in blobs] for key, blobs in parts.items()}


@dataclass
class CellStore(_SentAsArrow):
    """Named tables of partial aggregates: in memory up to `budget` bytes, then spilled to Parquet."""

    tables: Mapping[str, Table]
    spool: str | None = None  # folder for spilled parts (None: a temporary folder made when first needed)
    budget: int = BUDGET_BYTES
    parts: dict[str, list[pa.Table]] = field(default_factory=dict)
    files: dict[str, list[str]] = field(default_factory=dict)
    spilled_bytes: int = 0
    _held: int = 0
    _owned: bool = False  # the spool folder was made here, and goes with the files

    def _folder(self) -> str:
        if self.spool is None:
            self.spool, self._owned = tempfile.mkdtemp(prefix="reach-reconcile-"), True
        return self.spool

    @property
    def held_bytes(self) -> int:
        return self._held

    def add(self, name: str, table: pa.Table) -> None:
        if not table.num_rows:
            return
        self.parts.setdefault(name, []).append(table)
        self._held += table.nbytes
        if self._held > self.budget:
            self._compact()
        if self._held > self.budget:
            self.spill()

    def _compact(self) -> None:
        """Fold each table's parts in memory: repeated keys across chunks collapse."""
        held = 0
        for name, parts in self.parts.items():
            if len(parts) > 1 and self.tables[name].compact:
                parts[:] = [self.tables[name].fold_arrow(pa.concat_tables(parts))]
            held += sum(p.nbytes for p in parts)
        self._held = held

    def spill(self) -> None:
        """Write what is held to Parquet files in the spool folder, and forget it."""
        folder = self._folder()
        for name, parts in self.parts.items():
            if not parts:
                continue
            path = os.path.join(folder, f"{name}-{uuid.uuid4().hex}.parquet")
            table = pa.concat_tables(parts)
            pq.write_table(table, path, compression="lz4")
            self.spilled_bytes += os.path.getsize(path)
            self.files.setdefault(name, []).append(path)
        self.parts = {}
        self._held = 0

    def merge(self, other: CellStore) -> None:
        """Take another store's parts and files (another chunk range, worker or partition)."""
        self._take(other)
        self.spilled_bytes += other.spilled_bytes
        if self._held > self.budget:
            self._compact()
        if self._held > self.budget:
            self.spill()

    def fold(self, queries: Mapping[str, str], params: Sequence[tuple[str, pa.Table]] = ()) -> dict[str, pa.Table]:
        """Run SQL over the folded tables (each name is a view of its table folded by its keys); `params` are
        more Arrow tables to join with, by name."""
        import duckdb

        con = duckdb.connect(config={"memory_limit": DUCKDB_MEMORY, "threads": min(2, len(os.sched_getaffinity(0))),
                                     "preserve_insertion_order": False})
        try:
            con.execute(f"SET temp_directory = '{Path(self._folder()) / 'duckdb'}'")
            for name, spec in self.tables.items():
                sources = []
                parts = self.parts.get(name, [])
                if parts:
                    con.register(f"_{name}_held", pa.concat_tables(parts))
                    sources.append(f"SELECT * FROM _{name}_held")
                files = self.files.get(name, [])
                if files:
                    listed = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
                    sources.append(f"SELECT * FROM read_parquet([{listed}])")
                if not sources:
                    con.register(f"_{name}_held", _empty(spec))
                    sources.append(f"SELECT * FROM _{name}_held")
                con.execute(f"CREATE VIEW _{name}_all AS {' UNION ALL '.join(sources)}")
                con.execute(f"CREATE VIEW {name} AS {spec.fold_sql(f'_{name}_all')}")
            for name, table in params:
                con.register(name, table)
            return {name: con.sql(sql).to_arrow_table() for name, sql in queries.items()}
        finally:
            con.close()

    def remove_files(self) -> None:
        for files in self.files.values():
            for path in files:
                Path(path).unlink(missing_ok=True)
        self.files = {}
        if self.spool is not None:
            shutil.rmtree(Path(self.spool) / "duckdb", ignore_errors=True)
            if self._owned:
                shutil.rmtree(self.spool, ignore_errors=True)
                self.spool, self._owned = None, False


def _ipc(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def _empty(spec: Table) -> pa.Table:
    return pa.table({name: pa.array([], pa.uint64() if name in spec.unsigned else pa.int64())
                      for name in (*spec.keys, *spec.values)})


@dataclass
class PairSpool(_SentAsArrow):
    """Records held back until every record is in (pairing candidates), by partition: in memory up to a
    budget, then appended to Arrow IPC files in a spool folder. A partition is resolved on its own."""

    partitions: int
    spool: str | None = None
    budget: int = BUDGET_BYTES
    parts: dict[int, list[pa.Table]] = field(default_factory=dict)
    files: dict[int, list[str]] = field(default_factory=dict)
    rows: int = 0
    _held: int = 0
    _owned: bool = False

    def add(self, table: pa.Table, partition: np.ndarray) -> None:
        if not table.num_rows:
            return
        order = np.argsort(partition, kind="stable")
        table, partition = table.take(pa.array(order)), partition[order]
        bounds = np.flatnonzero(np.diff(partition)) + 1
        for begin, end in zip(np.r_[0, bounds].tolist(), np.r_[bounds, len(partition)].tolist(), strict=True):
            part = table.slice(begin, end - begin)
            self.parts.setdefault(int(partition[begin]), []).append(part)
            self._held += part.nbytes
        self.rows += table.num_rows
        if self._held > self.budget:
            self.spill()

    def spill(self) -> None:
        if self.spool is None:  # made here, it goes once read back (take)
            self.spool, self._owned = tempfile.mkdtemp(prefix="reach-pairs-"), True
        for partition, parts in self.parts.items():
            path = os.path.join(self.spool, f"pairs-{partition}-{uuid.uuid4().hex}.arrow")
            with pa.OSFile(path, "wb") as sink, pa.ipc.new_file(sink, parts[0].schema) as writer:
                for part in parts:
                    writer.write_table(part)
            self.files.setdefault(partition, []).append(path)
        self.parts, self._held = {}, 0

    def merge(self, other: PairSpool) -> None:
        self._take(other)
        self.rows += other.rows

    def pieces(self, partition: int) -> PairSpool:
        """What is held for one partition, as a spool of its own (to send to the process resolving it)."""
        return PairSpool(self.partitions, self.spool, self.budget, {partition: self.parts.get(partition, [])},
                         {partition: self.files.get(partition, [])})

    def take(self, partition: int) -> pa.Table | None:
        """Every record held for a partition (read back, files removed), or None."""
        tables = list(self.parts.pop(partition, []))
        for path in self.files.pop(partition, []):
            with pa.OSFile(path, "rb") as source:  # read into memory: the file goes next
                tables.append(pa.ipc.open_file(source).read_all())
            Path(path).unlink(missing_ok=True)
        if self._owned and self.spool is not None and not any(self.files.values()):
            shutil.rmtree(self.spool, ignore_errors=True)
            self.spool, self._owned = None, False
        return pa.concat_tables(tables) if tables else None
