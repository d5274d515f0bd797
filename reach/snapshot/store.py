"""The compile cache's file: a compiled `Network` laid out so that opening it reads almost nothing.

Opening maps the file, checks its CRC-32 and reads a small table of contents. The resource tables are
`LazyTable`s: every id is a key from the start, and a resource is built (unpickled) on first use together
with the others of its chunk, the resources a query touches together (an interface with its subnet's,
a subnet with its VPC's; a security group alone). The address index is NumPy columns over the mapped
bytes. An explain touching two subnets builds two subnets' worth of interfaces.

Layout, little-endian:

    b"REACHNET", u32 format, u32 CRC-32 of everything after these 16 bytes, u64 length of the contents
    u64 length of the contents' table, the table (a pickle), then each section at a 64-byte boundary

A file that is short, fails its CRC, or was written for another key or format is refused (`None`): the
caller compiles the snapshot again and writes a new one. It is never trusted piecemeal.
"""

from __future__ import annotations

import mmap
import os
import pickle
import struct
import zlib
from collections.abc import Callable, ItemsView, Iterator, ValuesView
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import numpy as np

from reach.model.network import AddressIndex, GroupReferences, Network
from reach.snapshot.pause import collection_paused

V = TypeVar("V")

_MAGIC = b"REACHNET"
_FORMAT = 1
_HEAD = struct.Struct("<8sII")  # magic, format, CRC-32 of the rest
_LENGTH = struct.Struct("<Q")
_ALIGN = 64


class _Chunking(NamedTuple):
    """How a table's resources are cut into chunks: by what a query touches together, so many at most."""

    group_of: Callable[[Any], str | None]
    size: int = 64


TABLES: dict[str, _Chunking] = {
    "vpcs": _Chunking(lambda vpc: None),  # few, and the walker reads them all
    "subnets": _Chunking(lambda subnet: subnet.vpc_id),
    "interfaces": _Chunking(lambda interface: interface.subnet_id),
    "route_tables": _Chunking(lambda table: table.vpc_id),
    "nacls": _Chunking(lambda acl: acl.vpc_id),
    # an interface names a handful of the VPC's thousands of groups, each dozens of lines
    "security_groups": _Chunking(lambda group: group.vpc_id, 8),
    "gateways": _Chunking(lambda gateway: None),  # few, and the walker scans them
    "peerings": _Chunking(lambda peering: None),
    "instances": _Chunking(lambda instance: None, 8),
}
_ADDRESS_COLUMNS = ("private", "private_row", "public", "public_row", "public_private", "vpc_start", "cidr",
                    "cidr_subnet")
_ADDRESS_NAMES = ("interface_ids", "subnet_ids", "vpc_ids")
# Fields of Network rebuilt on opening rather than stored: built on first use, or a view over the groups.
_NOT_STORED = frozenset({"_sg_tables", "_addresses", "group_references"})


@dataclass(frozen=True)
class _Chunk:
    """What a lazy table holds for a resource not built yet: the chunk that builds it."""

    number: int


class LazyTable(dict[str, V]):
    """A resource table whose values are built on first use, a chunk at a time.

    Every id is a key from the start, so membership, length and order cost nothing and stay the dict's own.
    Reading a value (`[]`, `get`, `values`, `items`, comparing, copying, pickling) builds what it reads;
    `values()` and `items()` build the whole table first. Pickled, it is a plain dict of built resources.
    Constructed like a dict, it is one (`LazyTable.of` makes a lazy one).
    """

    __slots__ = ("_load",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._load: Callable[[int], list[tuple[str, V]]] | None = None

    @classmethod
    def of(cls, ids: list[str], chunks: list[int], load: Callable[[int], list[tuple[str, V]]]) -> LazyTable[V]:
        pending = [_Chunk(number) for number in range(max(chunks, default=-1) + 1)]
        table: LazyTable[V] = cls(zip(ids, [pending[number] for number in chunks], strict=True))
        table._load = load
        return table

    def _build(self, chunk: _Chunk) -> None:
        assert self._load is not None
        for key, value in self._load(chunk.number):
            dict.__setitem__(self, key, value)

    def _build_all(self) -> None:
        if self._load is None:
            return
        with collection_paused():
            for chunk in {value for value in dict.values(self) if isinstance(value, _Chunk)}:
                self._build(chunk)
        self._load = None  # everything is built: the dict is an ordinary one from now on

    def __getitem__(self, key: str) -> V:
        value = dict.__getitem__(self, key)
        if isinstance(value, _Chunk):
            self._build(value)
            value = dict.__getitem__(self, key)
        return value

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def values(self) -> ValuesView[V]:  # type: ignore[override]
        self._build_all()
        return dict.values(self)

    def items(self) -> ItemsView[str, V]:  # type: ignore[override]
        self._build_all()
        return dict.items(self)

    def __iter__(self) -> Iterator[str]:
        # Defined so that dict(table) and {**table} read values through __getitem__, not the raw storage.
        return dict.__iter__(self)

    def copy(self) -> dict[str, V]:
        return dict(self.items())

    def pop(self, *args: Any) -> Any:
        self._build_all()
        return dict.pop(self, *args)

    def popitem(self) -> tuple[str, V]:
        self._build_all()
        return dict.popitem(self)

    def setdefault(self, key: str, default: Any = None) -> Any:
        self._build_all()
        return dict.setdefault(self, key, default)

    def __eq__(self, other: object) -> bool:
        self._build_all()
        if isinstance(other, LazyTable):
            other._build_all()
        return dict.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = None

    def __or__(self, other: Any) -> dict[str, V]:  # type: ignore[override]
        return self.copy() | other

    def __ror__(self, other: Any) -> dict[str, V]:  # type: ignore[override]
        return dict(other) | self.copy()

    def __ior__(self, other: Any) -> LazyTable[V]:  # type: ignore[override]
        self._build_all()
        dict.update(self, other)
        return self

    def __repr__(self) -> str:
        self._build_all()
        return dict.__repr__(self)

    def __reduce__(self) -> tuple[Any, ...]:
        return (dict, (dict(self.items()),))


@collection_paused()
def write(network: Network, path: Path, key: str) -> None:
    """Write `network` to `path` (through a temporary file beside it, renamed: readers see all or nothing)."""
    sections: list[bytes] = []
    offset = 0

    def add(data: bytes) -> tuple[int, int]:
        nonlocal offset
        padding = -offset % _ALIGN
        sections.append(b"\0" * padding + data)
        offset += padding + len(data)
        return offset - len(data), len(data)

    tables = {}
    for name, chunking in TABLES.items():
        table: dict[str, Any] = getattr(network, name)
        chunks = _chunks(table, chunking)
        number = {rid: n for n, chunk in enumerate(chunks) for rid in chunk}
        spans = [add(pickle.dumps([(rid, table[rid]) for rid in chunk], protocol=5)) for chunk in chunks]
        tables[name] = (list(table), [number[rid] for rid in table], spans)
    index = network.addresses
    columns = {}
    for name in _ADDRESS_COLUMNS:
        array = np.ascontiguousarray(getattr(index, name))
        columns[name] = (add(array.tobytes())[0], len(array), array.dtype)
    rest = {f.name: getattr(network, f.name) for f in fields(network) if f.name not in _NOT_STORED | set(TABLES)}
    references = network.group_references
    contents = {
        "key": key,
        "tables": tables,
        "addresses": (columns, {name: list(getattr(index, name)) for name in _ADDRESS_NAMES}),
        "rest": rest,
        "group_references": None if isinstance(references, GroupReferences) else dict(references),
    }
    table_of_contents = pickle.dumps(contents, protocol=5)
    start = _LENGTH.size + len(table_of_contents)
    lead = -start % _ALIGN
    body = b"".join([_LENGTH.pack(len(table_of_contents)), table_of_contents, b"\0" * lead, *sections])
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    with temporary.open("wb") as handle:
        handle.write(_HEAD.pack(_MAGIC, _FORMAT, zlib.crc32(_LENGTH.pack(len(body)) + body)))
        handle.write(_LENGTH.pack(len(body)))
        handle.write(body)
    temporary.replace(path)


def open_network(path: Path, key: str) -> Network | None:
    """The network stored at `path` for `key`; None when the file is missing, damaged or not for `key`."""
    try:
        with path.open("rb") as handle:
            mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError):  # missing, unreadable, or empty (an empty file cannot be mapped)
        return None
    view = memoryview(mapped)
    head = _HEAD.size
    if len(view) < head + _LENGTH.size:
        return None
    magic, version, crc = _HEAD.unpack_from(view)
    (length,) = _LENGTH.unpack_from(view, head)
    if magic != _MAGIC or version != _FORMAT or head + _LENGTH.size + length != len(view):
        return None
    if zlib.crc32(view[head:]) != crc:
        return None
    body = head + _LENGTH.size
    (size,) = _LENGTH.unpack_from(view, body)
    contents = pickle.loads(view[body + _LENGTH.size : body + _LENGTH.size + size])
    if contents.get("key") != key:
        return None
    sections = body + _LENGTH.size + size + (-(_LENGTH.size + size) % _ALIGN)
    return _network(view, sections, contents)


def _network(view: memoryview, base: int, contents: dict[str, Any]) -> Network:
    def loader(spans: list[tuple[int, int]]) -> Callable[[int], list[tuple[str, Any]]]:
        def load(number: int) -> list[tuple[str, Any]]:
            start, length = spans[number]
            chunk: list[tuple[str, Any]] = pickle.loads(view[base + start : base + start + length])
            return chunk

        return load

    tables: dict[str, Any] = {
        name: LazyTable.of(ids, chunks, loader(spans)) for name, (ids, chunks, spans) in contents["tables"].items()
    }
    columns, names = contents["addresses"]
    arrays: dict[str, Any] = {
        name: np.frombuffer(view, dtype=dtype, count=count, offset=base + start)
        for name, (start, count, dtype) in columns.items()
    }
    references = contents["group_references"]
    return Network(
        **tables,
        **contents["rest"],
        group_references=GroupReferences(tables["security_groups"]) if references is None else references,
        _addresses=AddressIndex(**arrays, **names),
    )


def _chunks(table: dict[str, Any], chunking: _Chunking) -> list[list[str]]:
    """The table's ids cut into chunks: by group, in the table's order, at most `chunking.size` each."""
    groups: dict[str | None, list[str]] = {}
    for rid, resource in table.items():
        groups.setdefault(chunking.group_of(resource), []).append(rid)
    size = chunking.size
    return [ids[i : i + size] for ids in groups.values() for i in range(0, len(ids), size)]
