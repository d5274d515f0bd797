"""Where the bytes come from: local files and folders, and the blocks of whole lines cut from any byte stream.

A source resolves to inputs; an input is either text (blocks of whole lines, decompressed) or Parquet. Text
blocks are cut at the last newline before `BLOCK_SIZE`, so a block never splits a line and memory stays at a
few blocks whatever the file size. Plain local files are read into a ring of reused buffers; compressed and
remote streams are decompressed in a background thread while the previous block is parsed.
"""

from __future__ import annotations

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
        return TextInput(name, file_blocks(path))
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


def file_blocks(path: Path, block_size: int | None = None) -> Iterator[pa.Buffer]:
    """Blocks of whole lines of a plain file, read into a ring of three reused buffers.

    Nothing is copied beyond the read itself (the partial last line moves to the next buffer), and resident
    memory stays at three blocks whatever the file size. A block stays valid until two more have been
    requested: the parser holds the block it checks and the one Arrow reads ahead, never more.
    """
    # A small file gets small buffers: a folder of 5-minute S3 objects must not cost 3 blocks apiece.
    block_size = min(block_size or BLOCK_SIZE, path.stat().st_size + 1)
    ring = [bytearray(block_size) for _ in range(3)]
    tail = b""
    slot = 0
    with path.open("rb", buffering=0) as f:
        while True:
            buf = ring[slot]
            if len(tail) >= len(buf) // 2:  # a line longer than half a block: make room for it
                buf = ring[slot] = bytearray(2 * len(tail) + block_size)
            view = memoryview(buf)
            view[: len(tail)] = tail
            end = len(tail)
            while end < len(buf) and (got := f.readinto(view[end:])):
                end += got
            if end == len(tail):  # end of file
                if end:
                    yield pa.py_buffer(view[:end])
                return
            cut = buf.rfind(b"\n", 0, end) + 1 if end == len(buf) else end
            if cut == 0:  # not one newline in a full buffer: read on into a bigger one
                tail = bytes(view[:end])
                continue
            yield pa.py_buffer(view[:cut])
            tail = bytes(view[cut:end])
            slot = (slot + 1) % len(ring)


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
    # Blocks may live in reused buffers: what is held while deciding is copied.
    held = [first.to_pybytes()]
    size = len(held[0])
    while size <= envelopes.MAX_DOCUMENT_BYTES:
        nxt = next(blocks, None)
        if nxt is None:
            break
        held.append(nxt.to_pybytes())
        size += len(held[-1])
    if size <= envelopes.MAX_DOCUMENT_BYTES:
        lines = envelopes.document_lines(b"".join(held))
        if lines is not None:
            yield pa.py_buffer(lines)
            return
    for block in held:
        yield pa.py_buffer(block)
    yield from blocks
