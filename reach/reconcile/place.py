"""Place each record: which interface of the snapshot logged it, in which direction, and who the peer is.

- `interface-id` names the interface; a record on an interface the snapshot lacks is skipped, counted per
  interface.
- The direction is `flow-direction` when the format has it, else the side whose address the interface
  holds (the interface's own address is always logged as its primary private address: aws-semantics C.5).
- The packet's own addresses are `pkt-srcaddr`/`pkt-dstaddr` when logged (they differ from srcaddr/dstaddr
  on NAT gateway, transit gateway and EKS pod traffic, C.5), else srcaddr/dstaddr; the peer that the
  security group and the network ACL see is the packet's source on ingress, its destination on egress.

NODATA and SKIPDATA records, and records with no action, are counted and skipped; SKIPDATA windows are
kept (a few thousand at most) because they explain missing records.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from reach.model.addr import IPV4, IPV6, split
from reach.model.network import Network
from reach.reconcile.addresses import AddressClasses, AddressColumn

MAX_SKIP_WINDOWS = 10_000


@dataclass(frozen=True)
class InterfaceIndex:
    """The snapshot's interfaces as arrays: position = interface number in every reconcile column."""

    ids: list[str]
    id_array: pa.Array
    v4: np.ndarray  # sorted private IPv4 addresses held by some interface
    v4_owner: np.ndarray  # int32: the interface holding it, -2 when several do (overlapping VPCs)
    pairs_v4: np.ndarray  # sorted int64 (interface << 32 | address) for the addresses several interfaces hold
    v6_owner: dict[tuple[int, int], int]
    pairs_v6: frozenset[tuple[int, int, int]]

    @classmethod
    def of(cls, network: Network) -> InterfaceIndex:
        ids = sorted(network.interfaces)
        position = {interface_id: i for i, interface_id in enumerate(ids)}
        owners4: dict[int, int] = {}
        owners6: dict[tuple[int, int], int] = {}
        pairs4: list[int] = []
        pairs6: set[tuple[int, int, int]] = set()
        for interface_id in ids:
            i = position[interface_id]
            for family, value in network.interfaces[interface_id].private_ips:
                if family == IPV4:
                    owners4[value] = i if owners4.get(value, i) == i else -2
                    pairs4.append(i << 32 | value)
                elif family == IPV6:
                    key = split(value)
                    owners6[key] = i if owners6.get(key, i) == i else -2
                    pairs6.add((i, *key))
        v4 = np.array(sorted(owners4), dtype=np.uint64)
        return cls(
            ids=ids,
            id_array=pa.array(ids, pa.string()),
            v4=v4,
            v4_owner=np.array([owners4[int(a)] for a in v4], dtype=np.int32),
            pairs_v4=np.array(sorted(pairs4), dtype=np.int64),
            v6_owner=owners6,
            pairs_v6=frozenset(pairs6),
        )

    def owners(self, column: AddressColumn) -> np.ndarray:
        """For each distinct address of a column: the interface holding it, -1 for none, -2 for several."""
        out = np.full(len(column.family), -1, dtype=np.int32)
        is4 = np.flatnonzero(column.family == IPV4)
        if len(is4) and len(self.v4):
            values = column.lo[is4]
            pos = np.minimum(np.searchsorted(self.v4, values), len(self.v4) - 1)
            found = self.v4[pos] == values
            out[is4[found]] = self.v4_owner[pos[found]]
        for i in np.flatnonzero(column.family == IPV6).tolist():
            out[i] = self.v6_owner.get((int(column.hi[i]), int(column.lo[i])), -1)
        return out

    def holds(self, interface: np.ndarray, column: AddressColumn, owners: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Does each row's interface hold that row's address in `column`."""
        index = _select(column.index, rows)
        if column.simple:
            owner = owners[index]
        else:
            owner = np.where(index < 0, -1, owners[np.maximum(index, 0)]) if len(owners) else np.full(len(rows), -1)
        held = owner == interface
        shared = np.flatnonzero(owner == -2)
        if len(shared):
            family, hi, lo = column.take(rows[shared])
            four = family == IPV4
            keys = interface[shared].astype(np.int64) << 32 | lo.astype(np.int64)
            held[shared[four]] = np.isin(keys[four], self.pairs_v4)
            for k in np.flatnonzero(~four).tolist():
                held[shared[k]] = (int(interface[shared[k]]), int(hi[k]), int(lo[k])) in self.pairs_v6
        return held


@dataclass
class PlaceStats:
    """What could not be placed, and why. Nothing is dropped without being counted here."""

    nodata: int = 0
    skipdata: int = 0
    no_action: int = 0
    unknown_interface: Counter[str] = field(default_factory=Counter)
    unplaceable: Counter[str] = field(default_factory=Counter)  # neither address is the interface's
    skip_windows: list[tuple[str, int, int]] = field(default_factory=list)  # SKIPDATA (interface, start, end)

    @property
    def skipped(self) -> int:
        return (self.nodata + self.skipdata + self.no_action + sum(self.unknown_interface.values())
                + sum(self.unplaceable.values()))

    def merge(self, other: PlaceStats) -> None:
        """Add another part's counts; SKIPDATA windows kept are the earliest, whatever the order of parts."""
        self.nodata += other.nodata
        self.skipdata += other.skipdata
        self.no_action += other.no_action
        self.unknown_interface.update(other.unknown_interface)
        self.unplaceable.update(other.unplaceable)
        self.skip_windows = sorted([*self.skip_windows, *other.skip_windows],
                                   key=lambda w: (w[1], w[2], w[0]))[:MAX_SKIP_WINDOWS]


@dataclass(frozen=True)
class Placed:
    """The evaluable records of one chunk, as columns (one row per record)."""

    interface: np.ndarray  # int32 position in InterfaceIndex.ids
    egress: np.ndarray  # bool
    src: tuple[np.ndarray, np.ndarray, np.ndarray]  # the packet's source (family, hi, lo)
    dst: tuple[np.ndarray, np.ndarray, np.ndarray]
    peer_class: np.ndarray  # int64: the class (addresses.py) of the peer the rules match
    srcport: np.ndarray  # int32
    dstport: np.ndarray
    protocol: np.ndarray  # int16
    start: np.ndarray  # int64 epoch seconds
    end: np.ndarray
    accept: np.ndarray  # bool: the observed action
    flags: np.ndarray  # int32 tcp-flags, -1 when not logged
    bpa: np.ndarray  # bool: rejected by VPC Block Public Access (reject-reason BPA)

    def __len__(self) -> int:
        return len(self.interface)

    def take(self, rows: np.ndarray) -> Placed:
        fields: dict[str, Any] = {name: tuple(v[rows] for v in value) if isinstance(value, tuple) else value[rows]
                                  for name, value in self.__dict__.items()}
        return Placed(**fields)

    def to_table(self) -> pa.Table:
        """As an Arrow table (to hold or send records whose answer waits)."""
        columns: dict[str, np.ndarray] = {}
        for name, value in self.__dict__.items():
            if isinstance(value, tuple):
                columns.update({f"{name}_{k}": v for k, v in zip("fhl", value, strict=True)})
            else:
                columns[name] = value
        return pa.table(columns)

    @classmethod
    def from_table(cls, table: pa.Table) -> Placed:
        def column(name: str) -> np.ndarray:
            return table[name].to_numpy(zero_copy_only=False)

        fields: dict[str, Any] = {
            name: tuple(column(f"{name}_{k}") for k in "fhl") if name in ("src", "dst") else column(name)
            for name in cls.__dataclass_fields__}
        return cls(**fields)


Column: TypeAlias = pa.ChunkedArray | pa.Array


def _select(values: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """values[rows], without the copy when `rows` is every row (the common case)."""
    return values if len(rows) == len(values) else values[rows]


def _equals(column: Column, value: str) -> np.ndarray:
    equal = pc.equal(column, value)
    if column.null_count:
        equal = pc.fill_null(equal, False)
    return np.asarray(equal.to_numpy(zero_copy_only=False), dtype=bool)


def _ints(column: Column, rows: np.ndarray, dtype: type, missing: int = 0) -> np.ndarray:
    if column.null_count == len(column):
        return np.full(len(rows), missing, dtype=dtype)
    if column.null_count:
        column = pc.fill_null(column, missing)
    values = np.asarray(column.to_numpy(zero_copy_only=False))
    return _select(values, rows).astype(dtype, copy=False)


def _count(counter: Counter[str], column: Column, mask: np.ndarray) -> None:
    if mask.any():
        ids = pc.fill_null(column.filter(pa.array(mask)), "-")
        counts = pc.value_counts(ids)
        for value, n in zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist(), strict=True):
            counter[value] += n


@dataclass(frozen=True)
class _Side:
    """One address column of a chunk with what reconcile needs per distinct value."""

    column: AddressColumn
    owner: np.ndarray  # the interface holding each distinct value (-1 none, -2 several)
    cls: np.ndarray  # the class of each distinct value (-1: not an address)

    @classmethod
    def of(cls, values: Column, index: InterfaceIndex, classes: AddressClasses) -> _Side:
        column = AddressColumn.parse(values)
        return cls(column, index.owners(column), classes.classify(column.family, column.hi, column.lo))

    def take(self, rows: np.ndarray) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], np.ndarray]:
        address = self.column.take(rows)
        index = _select(self.column.index, rows)
        if self.column.simple:
            return address, self.cls[index]
        cls = np.where(index < 0, -1, self.cls[np.maximum(index, 0)]) if len(self.cls) else np.full(len(rows), -1)
        return address, cls


def _packet(logged: _Side, pkt: Column, rows: np.ndarray, index: InterfaceIndex,
            classes: AddressClasses) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], np.ndarray]:
    """The packet's address and its class: `pkt-*` where logged, else the logged address (C.5)."""
    address, cls = logged.take(rows)
    if pkt.null_count == len(pkt):
        return address, cls
    p_address, p_cls = _Side.of(pkt, index, classes).take(rows)
    use = p_address[0] != 0
    merged = (np.where(use, p_address[0], address[0]), np.where(use, p_address[1], address[1]),
              np.where(use, p_address[2], address[2]))
    return merged, np.where(use, p_cls, cls)


def place(table: pa.Table | pa.RecordBatch, index: InterfaceIndex, classes: AddressClasses,
          stats: PlaceStats) -> Placed:
    """The chunk's records that can be evaluated, placed on their interface; the rest counted in `stats`."""
    col = table.column
    status = col("log_status")
    ok = pc.equal(status, "OK")
    ok = pc.fill_null(ok, True) if status.null_count else ok  # no log-status in the format: a record
    other = ~np.asarray(ok.to_numpy(zero_copy_only=False), dtype=bool)
    nodata = skipdata = np.zeros(table.num_rows, dtype=bool)
    if other.any():
        nodata, skipdata = _equals(status, "NODATA"), _equals(status, "SKIPDATA")
        stats.nodata += int(nodata.sum())
        stats.skipdata += int(skipdata.sum())
        if skipdata.any() and len(stats.skip_windows) < MAX_SKIP_WINDOWS:
            room = MAX_SKIP_WINDOWS - len(stats.skip_windows)
            windows = table.filter(pa.array(skipdata)).select(["interface_id", "start", "end"]).slice(0, room)
            stats.skip_windows.extend((w["interface_id"], w["start"], w["end"]) for w in windows.to_pylist())

    action = col("action")
    accept, reject = _equals(action, "ACCEPT"), _equals(action, "REJECT")
    logged = ~nodata & ~skipdata
    candidate = (accept | reject) & logged
    stats.no_action += int((logged & ~(accept | reject)).sum())

    ids = col("interface_id")
    found = pc.index_in(ids, value_set=index.id_array)
    position = (pc.fill_null(found, -1) if found.null_count else found).to_numpy(zero_copy_only=False)
    _count(stats.unknown_interface, ids, candidate & (position < 0))
    rows = np.flatnonzero(candidate & (position >= 0))
    interface = _select(position, rows).astype(np.int32)

    src, dst = _Side.of(col("srcaddr"), index, classes), _Side.of(col("dstaddr"), index, classes)
    held_dst = index.holds(interface, dst.column, dst.owner, rows)
    held_src = np.zeros(len(rows), dtype=bool)
    maybe = np.flatnonzero(~held_dst)
    held_src[maybe] = index.holds(interface[maybe], src.column, src.owner, rows[maybe])
    direction = col("flow_direction")
    if direction.null_count == len(direction):
        said = said_egress = np.zeros(len(rows), dtype=bool)
    else:
        said_egress, said_ingress = _equals(direction, "egress")[rows], _equals(direction, "ingress")[rows]
        said = said_egress | said_ingress
    egress = np.where(said, said_egress, held_src)

    src_side, src_cls = _packet(src, col("pkt_srcaddr"), rows, index, classes)
    dst_side, dst_cls = _packet(dst, col("pkt_dstaddr"), rows, index, classes)
    peer_class = np.where(egress, dst_cls, src_cls)
    protocol = _ints(col("protocol"), rows, np.int16, missing=-1)
    placeable = (said | held_dst | held_src) & (src_side[0] != 0) & (dst_side[0] != 0) & (peer_class >= 0)
    placeable &= (protocol >= 0) & (protocol <= 255)
    if not placeable.all():
        lost = np.zeros(len(accept), dtype=bool)
        lost[rows[~placeable]] = True
        _count(stats.unplaceable, ids, lost)
        keep = np.flatnonzero(placeable)
        rows, interface, egress, protocol, peer_class = (
            rows[keep], interface[keep], egress[keep], protocol[keep], peer_class[keep])
        src_side = (src_side[0][keep], src_side[1][keep], src_side[2][keep])
        dst_side = (dst_side[0][keep], dst_side[1][keep], dst_side[2][keep])

    reason = col("reject_reason")
    return Placed(
        interface=interface,
        egress=egress,
        src=src_side,
        dst=dst_side,
        peer_class=peer_class,
        srcport=_ints(col("srcport"), rows, np.int32),
        dstport=_ints(col("dstport"), rows, np.int32),
        protocol=protocol,
        start=_ints(col("start"), rows, np.int64),
        end=_ints(col("end"), rows, np.int64),
        accept=_select(accept, rows),
        flags=_ints(col("tcp_flags"), rows, np.int32, missing=-1),
        bpa=np.zeros(len(rows), dtype=bool) if reason.null_count == len(reason) else _equals(reason, "BPA")[rows],
    )
