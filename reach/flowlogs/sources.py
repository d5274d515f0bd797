"""Where the bytes come from: local files and folders, and the blocks of whole lines cut from any byte stream.

A source resolves to inputs; an input is either text (blocks of whole lines, decompressed) or Parquet. Text
blocks are cut at the last line end before `BLOCK_SIZE`, so a block never splits a line and memory stays at a
few blocks whatever the file size. Plain local files are read into a ring of reused buffers; compressed and
remote streams are decompressed in a background thread while the previous block is parsed.

Lines end at LF, CRLF or a lone CR. No line longer than MAX_LINE_BYTES reaches the parser: such a line is
skipped as it is read, never held whole, and an `Overlong` marker (its size and first bytes) takes its place in
the stream, so the parser counts it as one unparsable line. Decompression is bounded the same way: a small
gzip member that inflates to gigabytes is produced `READ_CHUNK` bytes at a time.
"""

from __future__ import annotations

import io
import os
import queue
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, TypeAlias, TypeVar

import pyarrow as pa
import pyarrow.parquet as pq

from reach.errors import FlowLogError
from reach.flowlogs import envelopes
from reach.flowlogs.filters import Filters

BLOCK_SIZE = 32 << 20
READ_CHUNK = 1 << 20
# The longest line read. A record is at most a few hundred bytes, but a Firehose object can hold a whole
# CloudWatch subscription payload on one line (up to 1 MiB of messages plus their JSON): 4 MiB leaves room.
MAX_LINE_BYTES = 4 << 20
# How much of a skipped line is kept to show it (samples are cut to 200 characters: 800 bytes of UTF-8).
OVERLONG_HEAD = 800
GZIP_MAGIC = b"\x1f\x8b"
PARQUET_MAGIC = b"PAR1"
# In a folder, only files that look like flow logs or their envelopes are read: S3 delivery writes .log.gz
# and .log.parquet, Firehose writes objects without an extension. A README or LICENSE beside them is not
# read; a file named on the command line always is.
FOLDER_SUFFIXES = (".log", ".gz", ".parquet", ".json", ".jsonl", ".ndjson")
_NOT_LOGS = ("readme", "license", "licence", "notice", "copying", "source", "changelog")


def is_log_name(name: str) -> bool:
    """Whether a file name found in a folder (or an S3 key's last part) may be a flow-log object."""
    lower = name.lower()
    if lower.startswith((".", *_NOT_LOGS)):
        return False
    return lower.endswith(FOLDER_SUFFIXES) or "." not in lower


T = TypeVar("T")


@dataclass
class TextInput:
    name: str
    blocks: Iterator[Piece]


@dataclass
class ParquetInput:
    name: str
    file: pq.ParquetFile


Input = TextInput | ParquetInput


class Overlong(NamedTuple):
    """A line longer than MAX_LINE_BYTES, skipped as it was read: its size and its first bytes."""

    size: int  # bytes of the line and its line end
    head: bytes


Piece: TypeAlias = pa.Buffer | Overlong  # what a text input yields: blocks of whole lines, and markers of skipped lines


# ----- line ends --------------------------------------------------------------------------------

_LF, _CR = 10, 13


def _last_end(data: bytes | bytearray, start: int, end: int, eof: bool) -> int:
    """The offset just past the last line end in data[start:end], or `start` when there is none.

    A CR that ends the data is not taken as a line end before the end of the input: it may be half of a CRLF
    whose LF has not been read yet.
    """
    stop = end if eof or end == start or data[end - 1] != _CR else end - 1
    lf = data.rfind(b"\n", start, stop)
    cr = data.rfind(b"\r", max(start, lf + 1), stop)
    last = max(lf, cr)
    return last + 1 if last >= 0 else start


def _next_end(data: bytes | bytearray, start: int, end: int) -> int:
    """The offset just past the first line end at or after `start` (CRLF counts as one), or `end`."""
    lf = data.find(b"\n", start, end)
    cr = data.find(b"\r", start, lf if lf >= 0 else end)
    if cr >= 0:
        return cr + 2 if cr + 1 < end and data[cr + 1] == _LF else cr + 1
    return lf + 1 if lf >= 0 else end


def _first_overlong(data: bytes | bytearray, start: int, end: int) -> int:
    """Where the first line longer than MAX_LINE_BYTES starts in data[start:end] (whole lines), or -1.

    Jumps from line end to line end at most MAX_LINE_BYTES apart, searching backwards from each window's
    end, so a block of ordinary lines costs a handful of short searches, not one per line.
    """
    pos = start
    while end - pos > MAX_LINE_BYTES:
        window = pos + MAX_LINE_BYTES + 1
        lf = data.rfind(b"\n", pos, window)
        cr = data.rfind(b"\r", max(pos, lf + 1), window)
        last = max(lf, cr)
        if last < 0:
            return pos
        pos = last + 1
    return -1


def whole_lines(data: bytes | bytearray, start: int = 0, end: int | None = None) -> Iterator[Piece]:
    """data[start:end], whole lines, as blocks; each line longer than MAX_LINE_BYTES becomes an Overlong.

    The blocks are views of `data`, not copies.
    """
    end = len(data) if end is None else end
    view = memoryview(data)
    while True:
        bad = _first_overlong(data, start, end)
        if bad < 0:
            if end > start:
                yield pa.py_buffer(view[start:end])
            return
        if bad > start:
            yield pa.py_buffer(view[start:bad])
        stop = _next_end(data, bad + MAX_LINE_BYTES, end)
        yield Overlong(stop - bad, bytes(view[bad : min(stop, bad + OVERLONG_HEAD)]))
        start = stop


def _open_length(data: bytes) -> int:
    """The length of a line not yet known to have ended: a CR it ends with is its line end, not its content."""
    return len(data) - 1 if data.endswith(b"\r") else len(data)


def _skip_line(chunks: Iterator[bytes], held: bytes) -> tuple[Overlong, bytes]:
    """Read on to the end of a line already known to be too long (`held` is its start); its marker, and the
    bytes after it."""
    head, size = held[:OVERLONG_HEAD], len(held)
    ended = held.endswith(b"\r")  # the line has ended; only the LF of a CRLF may follow
    for chunk in chunks:
        if ended:
            lf = 1 if chunk[:1] == b"\n" else 0
            return Overlong(size + lf, head), chunk[lf:]
        stop = _next_end(chunk, 0, len(chunk))
        if chunk[stop - 1 : stop] not in (b"\n", b"\r"):
            size += len(chunk)  # still inside the line
            continue
        if chunk[stop - 1] == _CR and stop == len(chunk):  # the LF of a CRLF may open the next chunk
            size, ended = size + stop, True
            continue
        return Overlong(size + stop, head), chunk[stop:]
    return Overlong(size, head), b""


# ----- local files ------------------------------------------------------------------------------


def local_files(path: Path, filters: Filters) -> list[Path]:
    """The files a path names: itself, or the flow-log files under a folder (recursively, in sorted order)."""
    if not path.exists():
        raise FlowLogError(f"{path}: no such file or directory")
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise FlowLogError(f"{path}: neither a file nor a folder (save what a pipe or device gives to a file)")
    found = []
    candidates = 0

    def unreadable(error: OSError) -> None:
        # A folder that cannot be listed may hold records: an error, never a smaller count.
        raise FlowLogError(f"{error.filename}: cannot be read ({error.strerror or error})")

    for root, dirs, files in os.walk(path, onerror=unreadable):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            full = Path(root, name)
            # A FIFO, socket or device is no delivered object, and reading one may never end (/dev/zero).
            if not is_log_name(name) or not full.is_file():
                continue
            candidates += 1
            if filters.wants_key(full.relative_to(path).as_posix()):
                found.append(full)
    if not candidates:
        raise FlowLogError(f"{path}: no flow-log files in this folder (.log, .gz, .parquet, .json, …)")
    return found


def open_local(path: Path) -> Input:
    name = str(path)
    try:
        with path.open("rb") as f:
            magic = f.read(4)
        if magic.startswith(PARQUET_MAGIC):
            return ParquetInput(name, open_parquet(name, _arrow_source(path)))
        if magic.startswith(GZIP_MAGIC):
            f = path.open("rb")
            return TextInput(name, prefetch(line_blocks(gunzip(name, read_chunks(f.read, f.close)))))
        return TextInput(name, file_blocks(path))
    except PermissionError as exc:
        raise FlowLogError(f"{name}: permission denied") from exc
    except IsADirectoryError as exc:
        raise FlowLogError(f"{name}: is a directory") from exc
    except FileNotFoundError as exc:
        raise FlowLogError(f"{name}: no such file or directory") from exc
    except OSError as exc:  # a name too long, a special file that refuses reads (/proc), an I/O error
        raise FlowLogError(f"{name}: cannot be read ({exc.strerror or exc})") from exc


def _arrow_source(path: Path) -> str | pa.NativeFile:
    """The path for Arrow to open, or the file opened here when its name is not UTF-8 (Arrow takes only UTF-8
    paths; a file name's undecodable bytes reach Python as surrogates)."""
    try:
        str(path).encode()
    except UnicodeEncodeError:
        return pa.PythonFile(path.open("rb"), mode="r")
    return str(path)


def open_parquet(name: str, where: str | pa.NativeFile) -> pq.ParquetFile:
    try:
        return pq.ParquetFile(where)
    except (pa.ArrowInvalid, OSError) as exc:
        raise FlowLogError(f"{name}: not a readable Parquet file ({exc})") from exc


def file_blocks(path: Path, block_size: int | None = None, start: int = 0, end: int | None = None) -> Iterator[Piece]:
    """Blocks of whole lines of a plain file (of its bytes [start, end) when given: a range cut on line ends,
    see `line_ranges`), read into a ring of three reused buffers.

    Nothing is copied beyond the read itself (the partial last line moves to the next buffer), and resident
    memory stays at three blocks whatever the file size. A block stays valid until two more have been
    requested: the parser holds the block it checks and the one Arrow reads ahead, never more.
    """
    # A small file gets small buffers: a folder of 5-minute S3 objects must not cost 3 blocks apiece.
    size = path.stat().st_size if end is None else min(end, path.stat().st_size)
    block_size = min(block_size or BLOCK_SIZE, size - start + 1)
    ring = [bytearray(block_size) for _ in range(3)]
    tail = b""
    slot = 0
    with path.open("rb", buffering=0) as raw:
        raw.seek(start)
        f = _Bounded(raw, size - start)
        while True:
            buf = ring[slot]
            if len(tail) >= len(buf) // 2:  # a line longer than half a block: make room for it
                buf = ring[slot] = bytearray(2 * len(tail) + block_size)
            view = memoryview(buf)
            view[: len(tail)] = tail
            end = len(tail)
            while end < len(buf) and (got := f.readinto(view[end:])):
                end += got
            eof = end < len(buf)
            cut = end if eof else _last_end(buf, 0, end, eof=False)
            if cut:
                yield from whole_lines(buf, 0, cut)
                slot = (slot + 1) % len(ring)
            if eof:
                return
            tail = bytes(view[cut:end])
            if _open_length(tail) > MAX_LINE_BYTES:  # the line goes on past what may be held: skip the rest
                marker, tail = _skip_line(read_chunks(f.read), tail)
                yield marker


class _Bounded:
    """At most `left` bytes of a raw file, from where it stands."""

    def __init__(self, raw: io.FileIO, left: int) -> None:
        self.raw, self.left = raw, left

    def readinto(self, view: memoryview) -> int:
        if self.left <= 0:
            return 0
        got = self.raw.readinto(view[: self.left])
        self.left -= got
        return got

    def read(self, n: int) -> bytes:
        data = self.raw.read(max(0, min(n, self.left)))
        self.left -= len(data)
        return data


@dataclass(frozen=True)
class FilePart:
    """Bytes [start, end) of a plain local file, cut on line ends: one worker's share of a large file.
    `log_format` is the format in effect where the part starts (a header before it sets it)."""

    path: str
    start: int
    end: int
    log_format: tuple[str, ...] | None = None

    @property
    def name(self) -> str:
        return self.path


@dataclass(frozen=True)
class FileBytes:
    """A whole flow-log object already in memory (a Spark executor's binaryFile row): plain, gzip or
    Parquet."""

    name: str
    data: bytes


def open_bytes(item: FileBytes) -> Input:
    data = item.data
    if data.startswith(PARQUET_MAGIC):
        return ParquetInput(item.name, open_parquet(item.name, pa.BufferReader(data)))
    if data.startswith(GZIP_MAGIC):
        return TextInput(item.name, line_blocks(gunzip(item.name, read_chunks(io.BytesIO(data).read))))
    return TextInput(item.name, whole_lines(data))


def line_ranges(path: Path, parts: int) -> list[tuple[int, int]]:
    """Cut a plain file into about `parts` byte ranges of whole lines (LF, CRLF or a lone CR end a line)."""
    size = path.stat().st_size
    cuts = [0]
    with path.open("rb") as f:
        for k in range(1, parts):
            at = max(size * k // parts, cuts[-1])
            f.seek(at)
            window = f.read(MAX_LINE_BYTES + 2)
            # the first line end at or after `at`; a CR ending the window may be half of a CRLF: read on
            stop = _next_end(window, 0, len(window))
            if stop == len(window) and len(window) > MAX_LINE_BYTES:
                continue  # no line end near: leave this stretch to the part before (it skips the long line)
            cut = min(at + stop, size)
            if cut > cuts[-1] and cut < size:
                cuts.append(cut)
    return list(zip(cuts, [*cuts[1:], size], strict=True))


def first_line(path: Path) -> bytes:
    """The file's first line (at most 64 KiB of it), without its line end."""
    with path.open("rb") as f:
        head = f.read(1 << 16)
    end = _next_end(head, 0, len(head))
    return head[:end].rstrip(b"\r\n")


# ----- streams ----------------------------------------------------------------------------------


def read_chunks(read: Callable[[int], bytes], close: Callable[[], None] | None = None) -> Iterator[bytes]:
    try:
        while chunk := read(READ_CHUNK):
            yield chunk
    finally:
        if close is not None:
            close()


def gunzip(name: str, chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Decompress gzip, including several members one after another (concatenated .gz files)."""
    d = zlib.decompressobj(wbits=31)
    fed = False  # whether the current member has started: one that has not ended is a truncated file
    try:
        for chunk in chunks:
            data = chunk
            while data or fed:
                fed = fed or bool(data)
                # At most READ_CHUNK bytes out per call: a tiny member may inflate to gigabytes.
                out = d.decompress(data, READ_CHUNK)
                if out:
                    yield out
                if d.eof:
                    data = d.unused_data
                    d, fed = zlib.decompressobj(wbits=31), False
                    continue
                data = d.unconsumed_tail
                if not data and len(out) < READ_CHUNK:
                    break  # this chunk is used up and nothing is pending: read on
    except zlib.error as exc:
        raise FlowLogError(f"{name}: not a readable gzip file ({exc})") from exc
    if fed and not d.eof:
        raise FlowLogError(f"{name}: gzip data is truncated")


def line_blocks(chunks: Iterable[bytes], block_size: int | None = None) -> Iterator[Piece]:
    """Regroup byte chunks into blocks of whole lines of about `block_size` bytes.

    The line being read is measured as chunks arrive, so a line that grows past MAX_LINE_BYTES is skipped
    then, not once a whole block has piled up.
    """
    block_size = block_size or BLOCK_SIZE
    chunks = iter(chunks)
    parts: list[bytes] = []
    held = 0
    open_line = 0  # bytes at the end of `parts` after the last line end (a CR ending them included)
    for chunk in chunks:
        if not chunk:
            continue
        ended = _last_end(chunk, 0, len(chunk), eof=False)
        if ended == 0 and not (parts and parts[-1].endswith(b"\r") and chunk[:1] != b"\n"):
            open_line += len(chunk)
        else:  # a line ends in this chunk, or a CR held back at the end of the last one ended it
            open_line = len(chunk) - ended
        parts.append(chunk)
        held += len(chunk)
        too_long = open_line - chunk.endswith(b"\r") > MAX_LINE_BYTES
        if held < block_size and not too_long:
            continue
        data = b"".join(parts)
        cut = len(data) - open_line
        yield from whole_lines(data, 0, cut)
        rest = data[cut:]
        if too_long:
            marker, rest = _skip_line(chunks, rest)
            yield marker
            ended = _last_end(rest, 0, len(rest), eof=False)
            open_line = len(rest) - ended
        parts, held = ([rest], len(rest)) if rest else ([], 0)
    if held:
        yield from whole_lines(b"".join(parts))


def prefetch(items: Iterator[T], depth: int = 2) -> Iterator[T]:
    """Produce `items` in a background thread, `depth` ahead, so reading and decompressing overlap parsing.

    zlib and socket reads release the GIL, so this is real overlap. An exception in the producer is re-raised
    in the consumer; a consumer that stops early stops the producer.
    """
    q: queue.Queue[tuple[str, object]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        q.put(("item", item), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(("done", None))
        except BaseException as exc:  # handed to the consumer, which re-raises it as it is
            q.put(("error", exc))

    worker = threading.Thread(target=produce, name="reach-flowlogs-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            kind, value = q.get()
            if kind == "done":
                return
            if kind == "error":
                assert isinstance(value, BaseException)
                raise value
            yield value  # type: ignore[misc]
    finally:
        stop.set()


def with_documents(name: str, pieces: Iterator[Piece]) -> Iterator[Piece]:
    """Unwrap a whole-document envelope (a CloudWatch subscription payload); pass other text through."""
    first = next(pieces, None)
    if first is None:
        return
    if isinstance(first, Overlong) or not first.slice(0, min(len(first), 64)).to_pybytes().lstrip().startswith(
        (b"{", b"[", b"H4sI")
    ):
        yield first
        yield from pieces
        return
    # Blocks may live in reused buffers: what is held while deciding is copied.
    held: list[Piece] = [pa.py_buffer(first.to_pybytes())]
    size = len(held[0])
    while size <= envelopes.MAX_DOCUMENT_BYTES:
        nxt = next(pieces, None)
        if nxt is None:
            break
        if isinstance(nxt, Overlong):  # a document has no line that long: this is text
            held.append(nxt)
            size = envelopes.MAX_DOCUMENT_BYTES + 1
            break
        held.append(pa.py_buffer(nxt.to_pybytes()))
        size += len(nxt)
    if size <= envelopes.MAX_DOCUMENT_BYTES:
        lines = envelopes.document_lines(b"".join(p.to_pybytes() for p in held if isinstance(p, pa.Buffer)))
        if lines is not None:
            yield from whole_lines(lines)
            return
    yield from held
    yield from pieces
