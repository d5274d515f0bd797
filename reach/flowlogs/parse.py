"""Text flow-log lines -> typed Arrow tables, one format at a time.

Two paths with one meaning. The fast path hands a whole block of lines to Arrow's C++ CSV reader with the
current format's column names and types (`-` is null). It is taken only when the block is clean: every line
has the format's field count, every value converts, no line looks like a header or a JSON envelope, and
every record passes the shared checks of `validate.py`. Anything else sends the block to the exact path,
which classifies each line (blank, header, JSON envelope, record), splits records on runs of whitespace, and
rejects the odd ones with their line number. The exact path decides every case; the fast path only skips
work when there is nothing to decide.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from reach.flowlogs import envelopes
from reach.flowlogs.fields import DEFAULT_LOG_FORMAT, KNOWN_FIELDS, column_name, field_type, header_fields
from reach.flowlogs.stats import FlowLogStats
from reach.flowlogs.validate import describe, invalid_rows, normalise_times

_HEADER_LIKE = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*(\s+[a-z][a-z0-9]*(-[a-z0-9]+)*)+$"
_JSON_MESSAGE = r'^\{\s*"message"\s*:\s*"(?P<message>[^"\\]*)"\s*\}$'
# CloudWatch Logs export tasks write each event as "<ISO time> <message>".
_EXPORT_TIMESTAMP = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z\s+"
_INT = r"^-?[0-9]{1,18}$"
_KNOWN_NAMES = pa.array(sorted(KNOWN_FIELDS), pa.string())
_PEEK = 1 << 16

_PARSE_OPTIONS = pacsv.ParseOptions(
    delimiter=" ",
    quote_char=False,  # `{"message":"…"}` must reach us as it is
    escape_char=False,
    double_quote=False,
    ignore_empty_lines=False,  # a blank line then fails the field count, so every line is a row or an error
)


class _Format:
    """A format and the Arrow CSV options that read it (built once per format)."""

    def __init__(self, fields: tuple[str, ...]) -> None:
        self.fields = fields
        self.columns = [column_name(n) for n in fields]
        self.types = [field_type(n) for n in fields]
        # Arrow parses a block in chunks of this size, in parallel: small enough to keep both cores busy.
        self.read_options = pacsv.ReadOptions(column_names=self.columns, block_size=4 << 20, use_threads=True)
        self.convert_options = pacsv.ConvertOptions(
            column_types=dict(zip(self.columns, self.types, strict=True)),
            null_values=["-"],
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
        )


@lru_cache(maxsize=64)
def _format(fields: tuple[str, ...]) -> _Format:
    return _Format(fields)


def _read_csv(block: pa.Buffer, fmt: _Format) -> pa.Table | None:
    """Arrow's C++ CSV reader on a block of lines; None when any line does not fit the format."""
    if len(fmt.fields) < 2:
        return None  # with one column, a blank line would be a record: only the exact path can tell
    try:
        table = pacsv.read_csv(
            pa.BufferReader(block),
            read_options=fmt.read_options,
            parse_options=_PARSE_OPTIONS,
            convert_options=fmt.convert_options,
        )
    except pa.ArrowInvalid:
        return None  # a field count or a value that does not fit: the exact path says which line
    return table.combine_chunks()  # one record batch per block


def _leading_headers(block: pa.Buffer) -> tuple[list[tuple[str, ...]], pa.Buffer]:
    """The header lines a block starts with (S3 objects do), and the rest of the block."""
    headers = []
    while len(block):
        head = block.slice(0, min(len(block), _PEEK)).to_pybytes()
        end = head.find(b"\n")
        if end < 0 and len(block) > _PEEK:
            break
        line = head if end < 0 else head[:end]
        try:
            fmt = header_fields(line.decode("utf-8").split())
        except UnicodeDecodeError:
            break
        if fmt is None:
            break
        headers.append(fmt)
        block = block.slice(min(len(block), len(line) + 1))
    return headers, block


class TextParser:
    """Parses the lines of one source, block by block, carrying the format (set by headers) across blocks."""

    def __init__(self, source: str, log_format: Sequence[str] | None, stats: FlowLogStats) -> None:
        self.source = source
        self.stats = stats
        self.lines = 0  # lines consumed so far: the next line is number lines + 1
        self._set_format(tuple(log_format) if log_format else DEFAULT_LOG_FORMAT)

    def _set_format(self, fields: tuple[str, ...]) -> None:
        self.fmt = _format(fields)

    @property
    def format(self) -> tuple[str, ...]:
        return self.fmt.fields

    @property
    def columns(self) -> list[str]:
        return self.fmt.columns

    @property
    def types(self) -> list[pa.DataType]:
        return self.fmt.types

    def feed(self, block: pa.Buffer) -> Iterator[pa.Table]:
        """Tables of the records in `block`, which holds whole lines (the last may lack its newline)."""
        return self.parse([block])

    def parse(self, blocks: Iterable[pa.Buffer]) -> Iterator[pa.Table]:
        """Tables of the records of every block, in order.

        Arrow reads the next block in a worker thread while this thread checks the current one. The worker
        guesses the next block's format (the current one, or the header it starts with); when the current
        block changes the format midway, the guess is wrong and the next block is read again.
        """
        with ThreadPoolExecutor(1, thread_name_prefix="reach-csv") as pool:
            pending: deque[tuple[list[tuple[str, ...]], pa.Buffer, _Format, Future[pa.Table | None]]] = deque()
            guess = self.fmt
            for block in blocks:
                headers, body = _leading_headers(block)
                fmt = _format(headers[-1]) if headers else guess
                pending.append((headers, body, fmt, pool.submit(_read_csv, body, fmt)))
                guess = fmt
                if len(pending) > 1:
                    yield from self._finish(*pending.popleft())
            while pending:
                yield from self._finish(*pending.popleft())

    def _finish(
        self, headers: list[tuple[str, ...]], body: pa.Buffer, fmt: _Format, read: Future[pa.Table | None]
    ) -> Iterator[pa.Table]:
        for fields in headers:
            self._set_format(fields)
            self.stats.headers += 1
            self.lines += 1
        table = read.result()
        if len(body) == 0:
            return
        if fmt.fields != self.fmt.fields:  # the guess was wrong: the block before changed the format
            table = _read_csv(body, self.fmt)
        table = self._checked(table) if table is not None else None
        if table is None:
            yield from self._exact(body)
            return
        self.lines += table.num_rows
        if table.num_rows:
            yield table

    def _fast(self, block: pa.Buffer) -> pa.Table | None:
        """The fast path alone on one block (no headers): the table, or None when the block is not clean."""
        table = _read_csv(block, self.fmt)
        return self._checked(table) if table is not None else None

    def _checked(self, table: pa.Table) -> pa.Table | None:
        if table.num_rows and pa.types.is_string(self.types[0]):
            first = table.column(0)
            odd = pc.or_kleene(pc.starts_with(first, "{"), pc.is_in(first, value_set=_KNOWN_NAMES))
            if pc.any(odd).as_py():
                return None  # a JSON envelope, or a header of the same width
        table = normalise_times(table)
        if invalid_rows(table) is not None:
            return None
        return table

    # ----- the exact path ------------------------------------------------------------------------

    def _exact(self, block: pa.Buffer) -> Iterator[pa.Table]:
        raw = block.to_pybytes()
        try:
            text, garbled = raw.decode("utf-8"), False
        except UnicodeDecodeError:
            text, garbled = raw.decode("utf-8", "replace"), True
        lines = pc.split_pattern(pa.array([text], pa.large_string()), "\n").flatten()
        if text.endswith("\n"):
            lines = lines.slice(0, len(lines) - 1)
        first_line = self.lines + 1
        self.lines += len(lines)
        numbers = np.arange(first_line, first_line + len(lines), dtype=np.int64)
        lines = pc.utf8_rtrim(lines, "\r")
        stripped = pc.utf8_trim_whitespace(lines)

        keep = pc.greater(pc.binary_length(stripped), 0).to_numpy(zero_copy_only=False)
        if garbled:
            bad = pc.greater_equal(pc.find_substring(stripped, "\ufffd"), 0).to_numpy(zero_copy_only=False) & keep
            self._reject(np.flatnonzero(bad), numbers, stripped, lambda i: "not valid UTF-8")
            keep &= ~bad

        body = pc.replace_substring_regex(stripped, _EXPORT_TIMESTAMP, "")
        unwrapped = pc.extract_regex(body, _JSON_MESSAGE)
        is_simple_json = pc.is_valid(unwrapped).to_numpy(zero_copy_only=False)
        if is_simple_json.any():
            body = pc.if_else(is_simple_json, pc.struct_field(unwrapped, "message"), body)
        is_json = pc.starts_with(body, "{").to_numpy(zero_copy_only=False) & keep
        header_like = pc.fill_null(pc.match_substring_regex(body, _HEADER_LIKE), False)
        special = np.flatnonzero((header_like.to_numpy(zero_copy_only=False) & keep) | is_json)

        start = 0
        for i in [*special.tolist(), len(lines)]:
            run = np.flatnonzero(keep[start:i]) + start
            if len(run):
                yield from self._records(body.take(pa.array(run)), numbers[run])
            if i == len(lines):
                break
            line = body[i].as_py()
            if is_json[i]:
                yield from self._json_line(line, int(numbers[i]))
            else:
                fmt = header_fields(line.split())
                if fmt is not None:
                    self._set_format(fmt)
                    self.stats.headers += 1
                else:  # shaped like a header but not one (fewer than three known names): a record or junk
                    yield from self._records(pa.array([line], pa.large_string()), numbers[i : i + 1])
            start = i + 1

    def _json_line(self, line: str, number: int) -> Iterator[pa.Table]:
        try:
            found = envelopes.messages(json.loads(line))
        except ValueError:
            found = None
        if found is None:
            self.stats.reject(self.source, number, line, "JSON that is not a flow-log envelope")
            return
        if found:
            texts = pa.array([m.strip() for m in found], pa.large_string())
            yield from self._records(texts, np.full(len(found), number, dtype=np.int64))

    def _records(self, texts: pa.Array, numbers: np.ndarray) -> Iterator[pa.Table]:
        n_fields = len(self.format)
        tokens = pc.utf8_split_whitespace(texts)
        counts = pc.list_value_length(tokens).to_numpy(zero_copy_only=False)
        wrong = counts != n_fields
        if wrong.any():
            self._reject(
                np.flatnonzero(wrong),
                numbers,
                texts,
                lambda i: f"{counts[i]} fields where the format has {n_fields}",
            )
            good = np.flatnonzero(~wrong)
            if not len(good):
                return
            tokens, texts, numbers = tokens.take(pa.array(good)), texts.take(pa.array(good)), numbers[good]
        values = tokens.flatten()
        grid = pa.FixedSizeListArray.from_arrays(values, n_fields)
        columns: dict[str, pa.Array] = {}
        bad_column = np.full(len(texts), -1, dtype=np.int32)
        for j, (name, typ) in enumerate(zip(self.columns, self.types, strict=True)):
            raw = pc.list_element(grid, j)
            raw = pc.if_else(pc.equal(raw, "-"), pa.scalar(None, raw.type), raw)
            if pa.types.is_string(typ):
                columns[name] = raw.cast(typ)
                continue
            converted, bad = to_int(raw, typ)
            columns[name] = converted
            if bad is not None:
                bad_column[bad & (bad_column < 0)] = j
        table = normalise_times(pa.table(columns))
        invalid = invalid_rows(table)
        rejected = bad_column >= 0
        if invalid is not None:
            rejected |= invalid
        if rejected.any():

            def reason(i: int) -> str:
                j = int(bad_column[i])
                if j >= 0:
                    return f"{self.format[j]} {pc.list_element(grid, j)[i].as_py()!r} is not an integer"
                return describe(table.slice(i, 1).to_pylist()[0])

            self._reject(np.flatnonzero(rejected), numbers, texts, reason)
            table = table.filter(pa.array(~rejected))
        if table.num_rows:
            yield table

    def _reject(self, rows: np.ndarray, numbers: np.ndarray, texts: pa.Array, reason: Callable[[int], str]) -> None:
        """Count rejected rows; describe only the few that are kept as samples."""
        for k, i in enumerate(rows.tolist()):
            if not self.stats.wants_samples:
                self.stats.unparsable += len(rows) - k
                return
            self.stats.reject(self.source, int(numbers[i]), texts[i].as_py(), reason(i))


def to_int(raw: pa.Array, typ: pa.DataType) -> tuple[pa.Array, np.ndarray | None]:
    """Cast text to an integer type; on failure, null out and report the values that are not integers."""
    try:
        return raw.cast(typ), None
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    ok = pc.fill_null(pc.match_substring_regex(raw, _INT), True)
    wide = pc.if_else(ok, raw, pa.scalar(None, raw.type)).cast(pa.int64())
    if typ == pa.int32():
        fits = pc.fill_null(
            pc.and_(pc.greater_equal(wide, -(2**31)), pc.less_equal(wide, 2**31 - 1)),
            True,
        )
        ok = pc.and_(ok, fits)
        wide = pc.if_else(fits, wide, pa.scalar(None, pa.int64()))
    return wide.cast(typ), ~np.asarray(ok.to_numpy(zero_copy_only=False), dtype=bool)
