"""The public iterator: `read_flow_logs(sources) -> FlowLogStream` of record batches of one schema."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from reach.errors import FlowLogError
from reach.flowlogs.cloudwatch import SCHEME as CLOUDWATCH_SCHEME
from reach.flowlogs.cloudwatch import cloudwatch_inputs
from reach.flowlogs.fields import FLOW_LOG_SCHEMA, parse_log_format
from reach.flowlogs.filters import Filters
from reach.flowlogs.parquet import parquet_tables
from reach.flowlogs.parse import TextParser
from reach.flowlogs.s3 import s3_inputs
from reach.flowlogs.sources import (
    FileBytes,
    FilePart,
    Input,
    Overlong,
    ParquetInput,
    Piece,
    TextInput,
    file_blocks,
    local_files,
    open_bytes,
    open_local,
    with_documents,
)
from reach.flowlogs.stats import BadLine, FlowLogStats, printable

if TYPE_CHECKING:
    from boto3 import Session

_SCHEMA_NAMES = frozenset(FLOW_LOG_SCHEMA.names)


class FlowLogStream:
    """Record batches read from flow-log sources, once, in source order.

    Every batch has the columns of FLOW_LOG_SCHEMA, in order and typed (a field absent from a file's format is
    a null column), followed by one column per field the schema lacks, for files whose format has such fields
    (newer fields as strings, transit-gateway fields typed). `extra_columns` lists those seen so far.
    `stats` counts what was read, as it is read; it is complete when iteration ends.

    A source (one of `sources`) that has lines but not one record is not flow logs: reading it raises
    FlowLogError naming it and its first bad lines, rather than reporting "0 records".
    """

    def __init__(
        self,
        sources: Sequence[str | os.PathLike[str] | FilePart | FileBytes],
        *,
        log_format: tuple[str, ...] | None,
        filters: Filters,
        quiet: bool,
        s3_client: Any,
        logs_client: Any,
        page_size: int | None,
        session: Session | None = None,
        profile: str | None = None,
        region: str | None = None,
    ) -> None:
        self.sources = [s if isinstance(s, FilePart | FileBytes) else os.fspath(s) for s in sources]
        # Whether a source with lines but not one record is an error here: a caller reading part of a source
        # (a worker's share) leaves that to whoever sees the whole source.
        self.check_sources = True
        self.parsers: list[TextParser] = []  # of the text inputs read so far: their line counts and headers
        self.log_format = log_format
        self.filters = filters
        self.stats = FlowLogStats()
        self.extra_columns: dict[str, pa.DataType] = {}
        self._quiet = quiet
        self._s3 = s3_client
        self._logs = logs_client
        self._session = session
        self._profile = profile
        self._region = region
        self._page_size = page_size
        self._profile, self._region = profile, region  # the AWS client's, as the AWS CLI means them
        self._started = False
        self._nulls: dict[tuple[pa.DataType, int], pa.Array] = {}
        self._schemas: dict[tuple[tuple[str, pa.DataType], ...], pa.Schema] = {}

    @property
    def schema(self) -> pa.Schema:
        """FLOW_LOG_SCHEMA and every extra column seen so far, in the order first seen: the union of the
        batches' schemas (complete when iteration ends)."""
        return pa.schema([*FLOW_LOG_SCHEMA, *(pa.field(name, typ) for name, typ in self.extra_columns.items())])

    # ----- iteration -----------------------------------------------------------------------------

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        if self._started:
            raise RuntimeError("a FlowLogStream is read once; call read_flow_logs again to re-read")
        self._started = True
        progress = _Progress.start() if not self._quiet and sys.stderr.isatty() else None
        try:
            for table in self._tables():
                for batch in table.to_batches():  # one per block of text: ~100k-300k records
                    batch = self._conform(batch)
                    keep = self.filters.mask(batch)
                    if keep is not None:
                        kept = batch.filter(keep)
                        self.stats.filtered += batch.num_rows - kept.num_rows
                        batch = kept
                    if not batch.num_rows:
                        continue
                    self._count(batch)
                    if progress:
                        progress.update(self.stats)
                    yield batch
        finally:
            if progress:
                progress.stop()

    def _inputs(self, source: str | FilePart | FileBytes) -> Iterator[Input]:
        if isinstance(source, FileBytes):
            yield open_bytes(source)
        elif isinstance(source, FilePart):
            yield TextInput(source.name, file_blocks(Path(source.path), start=source.start, end=source.end))
        elif source.startswith("s3://"):
            yield from s3_inputs(self._client("s3"), source, self.filters, self._page_size)
        elif source.startswith(CLOUDWATCH_SCHEME):
            yield from cloudwatch_inputs(self._client("logs"), source, self.filters, self._page_size)
        else:
            for path in local_files(Path(source), self.filters):
                yield open_local(path)

    def _client(self, service: str) -> Any:
        given = self._s3 if service == "s3" else self._logs
        if given is not None:
            return given
        import boto3
        from botocore.exceptions import BotoCoreError, NoRegionError, ProfileNotFound

        try:
            if self._session is None:
                self._session = boto3.Session(profile_name=self._profile, region_name=self._region)
            client = self._session.client(service)
        except ProfileNotFound as exc:
            raise FlowLogError(f"AWS profile {self._profile!r} not found ({exc})") from exc
        except NoRegionError as exc:
            raise FlowLogError(
                f"cannot make an AWS {service} client: no region (give one as the AWS CLI's --region does, "
                "or set AWS_REGION)"
            ) from exc
        except BotoCoreError as exc:
            raise FlowLogError(f"cannot make an AWS {service} client: {exc}") from exc
        if service == "s3":
            self._s3 = client
        else:
            self._logs = client
        return client

    def _tables(self) -> Iterator[pa.Table]:
        for source in self.sources:
            seen = self.stats.records + self.stats.filtered
            bad = self.stats.unparsable
            self.stats.source_bad_lines.clear()
            for item in self._inputs(source):
                self.stats.files += 1
                if isinstance(item, ParquetInput):
                    self.stats.bytes_read += item.file.metadata.serialized_size
                    yield from parquet_tables(item.name, item.file, self.stats)
                    continue
                if isinstance(source, FilePart):  # a share of a file: no document wraps it, its format is given
                    parser = TextParser(item.name, source.log_format or self.log_format, self.stats)
                    blocks = item.blocks
                else:
                    parser = TextParser(item.name, self.log_format, self.stats)
                    blocks = with_documents(item.name, item.blocks)
                self.parsers.append(parser)
                yield from parser.parse(self._counted(blocks))
            # Every batch of the source has been counted by now: this generator resumes only when asked for more.
            if self.check_sources and self.stats.records + self.stats.filtered == seen and self.stats.unparsable > bad:
                name = source if isinstance(source, str) else source.name
                raise FlowLogError(not_flow_logs(name, self.stats.unparsable - bad, self.stats.source_bad_lines))

    def _counted(self, pieces: Iterator[Piece]) -> Iterator[Piece]:
        for piece in pieces:
            self.stats.bytes_read += piece.size if isinstance(piece, Overlong) else len(piece)
            yield piece

    # ----- one schema ----------------------------------------------------------------------------

    def _null(self, typ: pa.DataType, n: int) -> pa.Array:
        key = (typ, n)
        if key not in self._nulls:
            if len(self._nulls) > 64:
                self._nulls.clear()
            self._nulls[key] = pa.nulls(n, typ)
        return self._nulls[key]

    def _conform(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        n = batch.num_rows
        index = {name: i for i, name in enumerate(batch.schema.names)}
        arrays = []
        for field in FLOW_LOG_SCHEMA:
            i = index.get(field.name)
            if i is None:
                arrays.append(self._null(field.type, n))
            else:
                column = batch.column(i)
                arrays.append(column if column.type == field.type else column.cast(field.type))
        extras = tuple((f.name, f.type) for f in batch.schema if f.name not in _SCHEMA_NAMES)
        for name, typ in extras:
            self.extra_columns.setdefault(name, typ)
            arrays.append(batch.column(index[name]))
        schema = self._schemas.get(extras)
        if schema is None:
            schema = pa.schema([*FLOW_LOG_SCHEMA, *(pa.field(name, typ) for name, typ in extras)])
            self._schemas[extras] = schema
        return pa.RecordBatch.from_arrays(arrays, schema=schema)

    def _count(self, batch: pa.RecordBatch) -> None:
        self.stats.records += batch.num_rows
        status = batch.column("log_status")
        self.stats.nodata += pc.sum(pc.equal(status, "NODATA")).as_py() or 0
        self.stats.skipdata += pc.sum(pc.equal(status, "SKIPDATA")).as_py() or 0


def not_flow_logs(source: str, unparsable: int, samples: Sequence[BadLine]) -> str:
    lines = f"{unparsable:,} line{'s' if unparsable != 1 else ''}"
    shown = "".join(f"\n  {printable(f'{b.source}:{b.line}: {b.reason}')}\n      {printable(b.text)}" for b in samples)
    return f"{source}: not flow logs: none of its {lines} is a flow-log record; first:{shown}"


class _Progress:
    """A rich progress line on stderr: records, bytes, records/s."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.fields[records]:,} records"),
            TextColumn("{task.fields[mb]:,.1f} MB"),
            TextColumn("{task.fields[rate]:,.0f} records/s"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self._task = self._progress.add_task("reading", records=0, mb=0.0, rate=0.0)

    @classmethod
    def start(cls) -> _Progress:
        p = cls()
        p._progress.start()
        return p

    def update(self, stats: FlowLogStats) -> None:
        task = self._progress.tasks[0]
        elapsed = task.elapsed or 0.0
        rate = stats.records / elapsed if elapsed > 0 else 0.0
        self._progress.update(self._task, records=stats.records, mb=stats.bytes_read / 1e6, rate=rate)

    def stop(self) -> None:
        self._progress.stop()


def read_flow_logs(
    sources: Sequence[str | os.PathLike[str] | FilePart | FileBytes],
    *,
    log_format: str | None = None,
    quiet: bool = False,
    s3_client: Any = None,
    logs_client: Any = None,
    filters: Filters | None = None,
    page_size: int | None = None,
    profile: str | None = None,
    region: str | None = None,
    session: Session | None = None,
) -> FlowLogStream:
    """Read VPC Flow Logs from files, folders, `s3://bucket/prefix` and `cloudwatch://<log-group>`.

    `log_format` (`${version} ${account-id} …`) is the format of lines before any header; without it, the
    default (version 2) format. `page_size` caps S3 listing and CloudWatch pages (for tests; AWS's default
    otherwise). A missing local path is reported at once; remote sources are reported when first read.

    S3 and CloudWatch Logs are read with `s3_client`/`logs_client` when given, else with clients of
    `session` (a `boto3.Session`), else of `boto3.Session(profile_name=profile, region_name=region)`: `profile`
    and `region` mean what the AWS CLI's `--profile` and `--region` mean (None: boto3's default chain). The
    region is the client's, not a filter on records: that is `filters.regions`.
    """
    if not sources:
        raise FlowLogError("no flow-log source given")
    for source in sources:
        if isinstance(source, FilePart | FileBytes):
            continue
        text = os.fspath(source)
        if not text.startswith(("s3://", CLOUDWATCH_SCHEME)) and not Path(text).exists():
            raise FlowLogError(f"{text}: no such file or directory")
    return FlowLogStream(
        sources,
        log_format=parse_log_format(log_format) if log_format else None,
        filters=filters or Filters(),
        quiet=quiet,
        s3_client=s3_client,
        logs_client=logs_client,
        page_size=page_size,
        session=session,
        profile=profile,
        region=region,
    )
