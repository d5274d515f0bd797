"""Text flow-log lines -> typed Arrow tables, one format at a time.

Two paths with one meaning. The fast path hands a whole block of lines to Arrow's C++ CSV reader with the
current format's column names and types (`-` is null). It is taken only when the block is clean: no tab, every
line has the format's field count separated by single spaces, every value converts, no line looks like a
header, a JSON envelope or a CloudWatch export line, no line starts with a byte-order mark, and every record
passes the shared checks of `validate.py`. Anything else sends the block to the exact path, which classifies
each line (blank, header, JSON envelope, record), splits records on runs of spaces and tabs, and rejects the
odd ones with their line number. The exact path decides every case; the fast path only skips work when there
is nothing to decide.

The syntax both paths read: lines end at LF, CRLF or CR; a byte-order mark at the start of a line is ignored;
fields are separated by runs of spaces or tabs (`fields.FIELD_SEPARATOR`); a line of nothing else is blank.
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from functools import lru_cache
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from reach.flowlogs import envelopes
from reach.flowlogs.fields import (
    ADDRESS_COLUMNS,
    BOM,
    DEFAULT_LOG_FORMAT,
    FIELD_SEPARATOR,
    KNOWN_FIELDS,
    column_name,
    field_type,
    header_fields,
    split_fields,
)
from reach.flowlogs.sources import MAX_LINE_BYTES, Overlong, Piece
from reach.flowlogs.stats import FlowLogStats
from reach.flowlogs.validate import CHOICES, describe, invalid_rows, normalise_times, shown

_NAME = r"[a-z][a-z0-9]*(-[a-z0-9]+)*"
_HEADER_LIKE = rf"^{_NAME}([ \t]+{_NAME})+$"
_JSON_MESSAGE = r'^\{\s*"message"\s*:\s*"(?P<message>[^"\\]*)"\s*\}$'
# CloudWatch Logs export tasks write each event as "<ISO time> <message>".
_EXPORT_TIME = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"
_EXPORT_TIMESTAMP = rf"^{_EXPORT_TIME}[ \t]+"
_LINE_END = r"\r\n|\r|\n"
_LINE_END_BYTES = re.compile(rb"\r\n|\r|\n")
# Integers as Arrow's cast reads them: optional minus, decimal digits (leading zeros allowed). Up to 18
# significant digits always fit an int64; 19 are checked one by one.
_INT = r"^-?0*[0-9]{1,18}$"
_INT19 = r"^-?0*[1-9][0-9]{18}$"
_KNOWN_NAMES = pa.array(sorted(KNOWN_FIELDS), pa.string())
_CHECKED_TEXT = frozenset((*ADDRESS_COLUMNS, *CHOICES))
_PEEK = 1 << 16
_TAB = 9

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
    if _has_tab(block):
        return None  # a tab separates fields, but Arrow would keep it inside one
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


def _has_tab(block: pa.Buffer, step: int = 1 << 18) -> bool:
    """Whether a block holds a tab; scanned in slices that stay in cache (twice as fast as one pass)."""
    data = np.frombuffer(block, dtype=np.uint8)
    return any((data[i : i + step] == _TAB).any() for i in range(0, len(data), step))


def _leading_headers(block: pa.Buffer) -> tuple[list[tuple[str, ...]], pa.Buffer]:
    """The header lines a block starts with (S3 objects do), and the rest of the block."""
    headers = []
    while len(block):
        head = block.slice(0, min(len(block), _PEEK)).to_pybytes()
        found = _LINE_END_BYTES.search(head)
        if found is None or found.end() == len(head):
            if len(block) > len(head):
                break  # the first line goes on past the peek (or a CR there may be half of a CRLF)
            end = len(head)
            line = head if found is None else head[: found.start()]
        else:
            end, line = found.end(), head[: found.start()]
        try:
            fmt = header_fields(split_fields(line.decode("utf-8")))
        except UnicodeDecodeError:
            break
        if fmt is None:
            break
        headers.append(fmt)
        block = block.slice(end)
    return headers, block


class TextParser:
    """Parses the lines of one source, block by block, carrying the format (set by headers) across blocks."""

    def __init__(self, source: str, log_format: Sequence[str] | None, stats: FlowLogStats) -> None:
        self.source = source
        self.stats = stats
        self.lines = 0  # lines consumed so far: the next line is number lines + 1
        self.headers: list[tuple[str, ...]] = []  # the formats header lines set, in order
        self.fmt = _format(tuple(log_format) if log_format else DEFAULT_LOG_FORMAT)

    def _set_format(self, fields: tuple[str, ...]) -> None:
        self.fmt = _format(fields)
        self.headers.append(fields)

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
        """Tables of the records in `block`, which holds whole lines (the last may lack its line end)."""
        return self.parse([block])

    def parse(self, pieces: Iterable[Piece]) -> Iterator[pa.Table]:
        """Tables of the records of every block, in order; an `Overlong` piece is one unparsable line.

        Arrow reads the next block in a worker thread while this thread checks the current one. The worker
        guesses the next block's format (the current one, or the header it starts with); when the current
        block changes the format midway, the guess is wrong and the next block is read again.
        """
        with ThreadPoolExecutor(1, thread_name_prefix="reach-csv") as pool:
            pending: deque[_Pending | Overlong] = deque()
            guess = self.fmt
            for piece in pieces:
                if isinstance(piece, Overlong):
                    pending.append(piece)
                else:
                    headers, body = _leading_headers(piece)
                    fmt = _format(headers[-1]) if headers else guess
                    pending.append(_Pending(headers, body, fmt, pool.submit(_read_csv, body, fmt)))
                    guess = fmt
                if len(pending) > 1:
                    yield from self._finish(pending.popleft())
            while pending:
                yield from self._finish(pending.popleft())

    def _finish(self, item: _Pending | Overlong) -> Iterator[pa.Table]:
        if isinstance(item, Overlong):
            self.lines += 1
            text = item.head.rstrip(b"\r\n").decode("utf-8", "replace")
            reason = f"line longer than {MAX_LINE_BYTES:,} bytes ({item.size:,} bytes)"
            self.stats.reject(self.source, self.lines, text, reason)
            return
        headers, body, fmt, read = item
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
        if table.num_rows and not self._plain(table):
            return None
        table = normalise_times(table)
        if invalid_rows(table) is not None:
            return None
        return table

    def _plain(self, table: pa.Table) -> bool:
        """Whether Arrow's split of the block is the exact path's: no line it would read otherwise."""
        strings = [i for i, t in enumerate(self.types) if pa.types.is_string(t)]
        for i in strings:
            # An empty field: two spaces in a row, a space at either end, or a blank line. (Addresses and
            # fields of documented values need no look: validation refuses an empty one.)
            if self.columns[i] in _CHECKED_TEXT:
                continue
            if pc.min(pc.binary_length(table.column(i))).as_py() == 0:
                return False
        if strings and strings[0] == 0:
            first = table.column(0)
            odd = pc.or_kleene(pc.starts_with(first, "{"), pc.starts_with(first, BOM))  # JSON, byte-order mark
            if pc.any(odd).as_py():
                return False
            stamped = pc.ends_with(first, "Z")  # cheap filter before the CloudWatch export time pattern
            if pc.any(stamped).as_py() and pc.any(pc.match_substring_regex(first, f"^{_EXPORT_TIME}$")).as_py():
                return False
        if len(strings) == len(self.types):
            # No integer column to fail on a header line: count known field names per line, as a header has.
            names = sum(
                pc.fill_null(pc.is_in(table.column(i), value_set=_KNOWN_NAMES), False).cast(pa.int32()).to_numpy(
                    zero_copy_only=False
                )
                for i in strings
            )
            if (np.asarray(names) >= 3).any():
                return False
        return True

    # ----- the exact path ------------------------------------------------------------------------

    def _exact(self, block: pa.Buffer) -> Iterator[pa.Table]:
        lines, garbled = _split_lines(block.to_pybytes())
        first_line = self.lines + 1
        self.lines += len(lines)
        numbers = np.arange(first_line, first_line + len(lines), dtype=np.int64)
        stripped = pc.utf8_trim(pc.utf8_ltrim(lines, BOM), " \t")

        keep = pc.greater(pc.binary_length(stripped), 0).to_numpy(zero_copy_only=False)
        if garbled is not None:
            bad = garbled & keep
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
                fmt = header_fields(split_fields(line))
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
            texts = pa.array(found, pa.large_string())
            yield from self._records(texts, np.full(len(found), number, dtype=np.int64))

    def _records(self, texts: pa.Array, numbers: np.ndarray) -> Iterator[pa.Table]:
        n_fields = len(self.format)
        texts = pc.utf8_trim(pc.utf8_ltrim(texts, BOM), " \t")  # a JSON envelope's message is not trimmed yet
        tokens = pc.split_pattern_regex(texts, FIELD_SEPARATOR)
        empty = pc.equal(pc.binary_length(texts), 0).to_numpy(zero_copy_only=False)
        counts = np.where(empty, 0, pc.list_value_length(tokens).to_numpy(zero_copy_only=False))
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
                    return f"{self.format[j]} {shown(pc.list_element(grid, j)[i].as_py())} is not an integer"
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


class _Pending(NamedTuple):
    """A block on its way through `parse`: its leading headers, the rest, and Arrow's read of it."""

    headers: list[tuple[str, ...]]
    body: pa.Buffer
    fmt: _Format
    read: Future[pa.Table | None]


def _split_lines(raw: bytes) -> tuple[pa.Array, np.ndarray | None]:
    """The lines of a block (line ends removed), and which of them are not valid UTF-8 (None: all are).

    A line that is not valid UTF-8 is decoded with replacement characters, to be shown.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        # Rare: only here is each line decoded on its own, so that one bad byte marks one line, not the block.
        parts = _LINE_END_BYTES.split(raw)
        if parts and not parts[-1]:
            parts.pop()
        garbled = np.zeros(len(parts), dtype=bool)
        decoded = []
        for k, part in enumerate(parts):
            try:
                decoded.append(part.decode("utf-8"))
            except UnicodeDecodeError:
                decoded.append(part.decode("utf-8", "replace"))
                garbled[k] = True
        return pa.array(decoded, pa.large_string()), garbled
    lines = pc.split_pattern_regex(pa.array([text], pa.large_string()), _LINE_END).flatten()
    if text.endswith(("\n", "\r")):
        lines = lines.slice(0, len(lines) - 1)
    return lines, None


def to_int(raw: pa.Array, typ: pa.DataType) -> tuple[pa.Array, np.ndarray | None]:
    """Cast text to an integer type; on failure, null out and report the values that are not integers.

    A value is an integer exactly when Arrow's cast reads it, so the fast path (which casts whole columns)
    and this one agree on every value.
    """
    try:
        return raw.cast(typ), None
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    ok = pc.fill_null(pc.match_substring_regex(raw, _INT), True)
    long = pc.fill_null(pc.match_substring_regex(raw, _INT19), False)
    if pc.any(long).as_py():  # 19 significant digits: some fit an int64, some do not
        fits = [-(2**63) <= int(v) < 2**63 for v in raw.filter(long).to_pylist()]
        where = np.flatnonzero(np.asarray(long.to_numpy(zero_copy_only=False), dtype=bool))
        okay = np.asarray(ok.to_numpy(zero_copy_only=False), dtype=bool).copy()
        okay[where[np.asarray(fits, dtype=bool)]] = True
        ok = pa.array(okay)
    wide = pc.if_else(ok, raw, pa.scalar(None, raw.type)).cast(pa.int64())
    if typ == pa.int32():
        fits32 = pc.fill_null(
            pc.and_(pc.greater_equal(wide, -(2**31)), pc.less_equal(wide, 2**31 - 1)),
            True,
        )
        ok = pc.and_(ok, fits32)
        wide = pc.if_else(fits32, wide, pa.scalar(None, pa.int64()))
    return wide.cast(typ), ~np.asarray(ok.to_numpy(zero_copy_only=False), dtype=bool)
