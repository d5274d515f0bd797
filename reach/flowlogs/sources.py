"""Where the bytes come from: local files and folders, and the blocks of whole lines cut from any byte stream.

A source resolves to inputs; an input is either text (blocks of whole lines, decompressed) or Parquet. Text
blocks are cut at the last newline before `BLOCK_SIZE`, so a block never splits a line and memory stays at a
few blocks whatever the file size. Plain local files are memory-mapped and sliced without copying; compressed
and remote streams are decompressed in a background thread while the previous block is parsed.
"""

from __future__ import annotations

import mmap
import os
import queue
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pyarrow as pa
import pyarrow.parquet as pq

from reach.errors import FlowLogError
from reach.flowlogs import envelopes
from reach.flowlogs.filters import Filters

BLOCK_SIZE = 32 << 20
READ_CHUNK = 1 << 20
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
    blocks: Iterator[pa.Buffer]


@dataclass
class ParquetInput:
    name: str
    file: pq.ParquetFile


Input = TextInput | ParquetInput


# ----- local files ------------------------------------------------------------------------------


def local_files(path: Path, filters: Filters) -> list[Path]:
    """The files a path names: itself, or the flow-log files under a folder (recursively, in sorted order)."""
    if not path.exists():
        raise FlowLogError(f"{path}: no such file or directory")
    if path.is_file():
        return [path]
    found = []
    candidates = 0
    for root, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not is_log_name(name):
                continue
            candidates += 1
            full = Path(root, name)
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
            return ParquetInput(name, open_parquet(name, str(path)))
        if magic.startswith(GZIP_MAGIC):
            f = path.open("rb")
            return TextInput(name, prefetch(line_blocks(gunzip(name, read_chunks(f.read, f.close)))))
        return TextInput(name, mmap_blocks(name, path))
    except PermissionError as exc:
        raise FlowLogError(f"{name}: permission denied") from exc
    except IsADirectoryError as exc:
        raise FlowLogError(f"{name}: is a directory") from exc
    except FileNotFoundError as exc:
        raise FlowLogError(f"{name}: no such file or directory") from exc


def open_parquet(name: str, where: str | pa.NativeFile) -> pq.ParquetFile:
    try:
        return pq.ParquetFile(where)
    except (pa.ArrowInvalid, OSError) as exc:
        raise FlowLogError(f"{name}: not a readable Parquet file ({exc})") from exc


def mmap_blocks(name: str, path: Path, block_size: int | None = None) -> Iterator[pa.Buffer]:
    """Zero-copy slices of a memory-mapped plain file, each ending at a newline (or the end of the file).

    Pages of blocks already parsed are handed back to the kernel (MADV_DONTNEED) so that the resident
    memory of a read stays at a few blocks, however large the file. When a block is requested, the one
    before it may still be in use (the parser reads one ahead); the one before that is done.
    """
    block_size = block_size or BLOCK_SIZE
    size = path.stat().st_size
    if size == 0:
        return
    with path.open("rb") as f:
        mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    whole = pa.py_buffer(mm)
    done: list[tuple[int, int]] = []
    pos = 0
    while pos < size:
        end = _line_end(whole, pos, min(pos + block_size, size))
        if len(done) >= 2:
            _release(mm, *done.pop(0))
        yield whole.slice(pos, end - pos)
        done.append((pos, end))
        pos = end


def _release(mm: mmap.mmap, start: int, end: int) -> None:
    if not hasattr(mmap, "MADV_DONTNEED"):
        return
    # File-backed, read-only: a dropped page that is touched again is simply read back from the page cache.
    lo = start - start % mmap.PAGESIZE
    hi = end - end % mmap.PAGESIZE
    if hi > lo:
        mm.madvise(mmap.MADV_DONTNEED, lo, hi - lo)


def _line_end(buf: pa.Buffer, pos: int, end: int) -> int:
    """The offset just past the last newline in buf[pos:end]; past the next one if none; the end of buf."""
    size = len(buf)
    if end >= size:
        return size
    window = 1 << 16
    lo = end
    while lo > pos:
        lo = max(pos, lo - window)
        nl = buf.slice(lo, end - lo).to_pybytes().rfind(b"\n")
        if nl >= 0:
            return lo + nl + 1
    # A line longer than a block (not a flow log, but it must still be read and reported): take it whole.
    hi = end
    while hi < size:
        chunk = buf.slice(hi, min(window, size - hi)).to_pybytes()
        nl = chunk.find(b"\n")
        if nl >= 0:
            return hi + nl + 1
        hi += len(chunk)
    return size


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
            while chunk:
                fed = True
                out = d.decompress(chunk)
                if out:
                    yield out
                if d.eof:
                    chunk = d.unused_data
                    d, fed = zlib.decompressobj(wbits=31), False
                else:
                    chunk = b""
    except zlib.error as exc:
        raise FlowLogError(f"{name}: not a readable gzip file ({exc})") from exc
    if fed and not d.eof:
        raise FlowLogError(f"{name}: gzip data is truncated")


def line_blocks(chunks: Iterable[bytes], block_size: int | None = None) -> Iterator[pa.Buffer]:
    """Regroup byte chunks into blocks of whole lines of about `block_size` bytes."""
    block_size = block_size or BLOCK_SIZE
    parts: list[bytes] = []
    held = 0
    for chunk in chunks:
        parts.append(chunk)
        held += len(chunk)
        if held < block_size:
            continue
        data = b"".join(parts)
        cut = data.rfind(b"\n") + 1
        if cut == 0:  # no newline yet: keep accumulating
            parts, held = [data], len(data)
            continue
        yield pa.py_buffer(data[:cut])
        rest = data[cut:]
        parts, held = ([rest], len(rest)) if rest else ([], 0)
    if held:
        yield pa.py_buffer(b"".join(parts))


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


def with_documents(name: str, blocks: Iterator[pa.Buffer]) -> Iterator[pa.Buffer]:
    """Unwrap a whole-document envelope (a CloudWatch subscription payload); pass other text through."""
    first = next(blocks, None)
    if first is None:
        return
    head = first.slice(0, min(len(first), 64)).to_pybytes().lstrip()
    if not head.startswith((b"{", b"[", b"H4sI")):
        yield first
        yield from blocks
        return
    held = [first]
    size = len(first)
    while size <= envelopes.MAX_DOCUMENT_BYTES:
        nxt = next(blocks, None)
        if nxt is None:
            break
        held.append(nxt)
        size += len(nxt)
    if size <= envelopes.MAX_DOCUMENT_BYTES:
        lines = envelopes.document_lines(b"".join(b.to_pybytes() for b in held))
        if lines is not None:
            yield pa.py_buffer(lines)
            return
    yield from held
    yield from blocks
