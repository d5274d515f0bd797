"""Cells through the interface decision, for many interfaces in one batch.

A `Grid` is one end of a connection (an interface, or only a subnet's boundary) and the peers it talks to,
cut into pieces: every piece of the peer space x every column (protocol x port or type piece x code piece)
is one request row; every piece x protocol x piece of the client's ephemeral ports is one response row (the
network ACL is stateless: the response must get out, or in, on the client's port). The pieces and columns
are cut at every boundary of the tables that decide there (reach.model.space), so one row decides a whole
cell. A `Batch` asks `reach.model.decision` once for the rows of all its grids.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from reach.engine.packet import EPHEMERAL
from reach.model.addr import split
from reach.model.decision import Crossings, Decided, InterfaceDecision, is_filtered
from reach.model.network import Interface, Network
from reach.model.protocols import ECHO_REPLY, ECHO_REQUEST, ICMP_FAMILY, PORTED
from reach.model.rules import RuleLine, RuleTable
from reach.model.space import NAMED, cut_range, domain, unnamed_protocol
from reach.model.vocabulary import Direction
from reach.sets.space import OTHER, Span


@dataclass(frozen=True)
class GridColumn:
    """A box of protocol x port (ICMP: type) piece x code piece; `key` is OTHER for the protocol that stands
    for every protocol no line names."""

    key: int
    protocol: int
    ports: Span
    codes: Span

    @property
    def needs_response(self) -> bool:
        """A connection is tracked both ways except for one-way ICMP (anything but an echo request)."""
        return self.protocol not in ICMP_FAMILY or (self.protocol, self.ports[0]) in ECHO_REPLY


@dataclass(frozen=True)
class Columns:
    columns: list[GridColumn]
    examined: list[int]  # protocol keys whose whole domain the columns stand for (OTHER included)
    clients: dict[int, list[Span]]  # per probed protocol: the pieces of the response's destination port


def lines_of(tables: Iterable[RuleTable | None], family: int) -> list[RuleLine]:
    return [line for t in tables if t is not None for line in t.lines if line.peer and line.peer.family == family]


def cut_columns(
    request: Sequence[RuleLine],
    response: Sequence[RuleLine],
    *,
    protocols: Iterable[int] | None = None,
    ports: Iterable[Span] = (),
    allows: Sequence[RuleLine] | None = None,
) -> Columns:
    """The columns for lines that decide the request, and the client-port pieces for lines that decide the
    response. `protocols`: only these (else every named one and one for the rest); `ports`: extra cuts;
    `allows`: when given, a protocol none of these lines allows cannot open anything and gets no column.

    Only the lines' protocol, port and code ranges matter here, and many interfaces share them: memoised."""
    return _cut_columns(
        frozenset(line_box(x) for x in request),
        frozenset(line_box(x) for x in response),
        None if protocols is None else tuple(sorted(set(protocols))),
        tuple(sorted(set(ports))),
        None if allows is None else frozenset(x.protocol for x in allows if x.allow),
    )


def line_box(line: RuleLine) -> tuple[int, int, int, int, int]:
    return line.protocol, line.port_lo, line.port_hi, line.code_lo, line.code_hi


def columns_of(
    request: frozenset[tuple[int, int, int, int, int]],
    response: frozenset[tuple[int, int, int, int, int]],
    protocols: Iterable[int] | None,
    ports: Iterable[Span],
) -> Columns:
    """`cut_columns` for boxes already gathered (protocol, port lo, port hi, code lo, code hi)."""
    chosen = None if protocols is None else tuple(sorted(set(protocols)))
    return _cut_columns(request, response, chosen, tuple(sorted(set(ports))), None)


@functools.lru_cache(maxsize=4096)
def _cut_columns(
    request: frozenset[tuple[int, int, int, int, int]],
    response: frozenset[tuple[int, int, int, int, int]],
    protocols: tuple[int, ...] | None,
    ports: tuple[Span, ...],
    allows: frozenset[int] | None,
) -> Columns:
    named = {box[0] for box in (*request, *response) if box[0] != -1}
    other = unnamed_protocol(named)
    probed = sorted(set(protocols) if protocols is not None else named | set(NAMED) | {other})
    examined = [OTHER if p == other and protocols is None else p for p in probed]
    extra = list(ports)
    columns: list[GridColumn] = []
    clients: dict[int, list[Span]] = {}
    for protocol in probed:
        if allows is not None and not allows & {-1, protocol}:
            continue
        key = OTHER if protocol == other and protocols is None else protocol
        port_domain, code_domain = domain(protocol)
        mine = [x for x in request if x[0] in (-1, protocol)]
        port_bounds = [(x[1], x[2]) for x in mine] + extra
        if protocol in ECHO_REQUEST:
            port_bounds.append((ECHO_REQUEST[protocol], ECHO_REQUEST[protocol]))
        port_pieces = cut_range(*port_domain, port_bounds) if port_domain != (0, 0) else [(0, 0)]
        code_pieces = cut_range(*code_domain, [(x[3], x[4]) for x in mine]) if code_domain != (0, 0) else [(0, 0)]
        columns += [GridColumn(key, protocol, p, c) for p in port_pieces for c in code_pieces]
        if protocol in PORTED:
            back = [(x[1], x[2]) for x in response if x[0] in (-1, protocol)]
            clients[protocol] = cut_range(*EPHEMERAL, back)
        elif protocol in ECHO_REQUEST:
            reply = ECHO_REPLY[(protocol, ECHO_REQUEST[protocol])]
            clients[protocol] = [(reply, reply)]
        else:
            clients[protocol] = [(0, 0)]
    return Columns(columns, examined, clients)


@dataclass
class Grid:
    """One end of a connection and its peers: `direction` is the request's at this end (ingress at the
    server, egress at the client); `peers` one probe address and whether it crosses the subnet's ACL per piece."""

    interface: Interface | None
    subnet_id: str | None
    direction: Direction
    family: int
    peers: list[tuple[int, bool]]
    columns: Columns
    groups_kept: bool = True
    request: slice = field(default_factory=lambda: slice(0, 0))
    response: dict[int, slice] = field(default_factory=dict)
    allow: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=bool))
    sg_allow: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=bool))
    answered: dict[int, np.ndarray] = field(default_factory=dict)  # protocol -> [pieces, client pieces] allowed
    nacl_rule: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.int32))  # registry ids, -1
    answer_rule: dict[int, np.ndarray] = field(default_factory=dict)  # protocol -> the ACL rule on the response

    def client_ports(self, piece: int, protocol: int) -> list[Span]:
        """The client-port pieces whose response this end lets through, for one peer piece."""
        spans = self.columns.clients[protocol]
        allowed = self.answered[protocol][piece]
        return [span for span, ok in zip(spans, allowed.tolist(), strict=True) if ok]


class Batch:
    """Rows of many grids, decided at once."""

    def __init__(self, decision: InterfaceDecision) -> None:
        self.decision = decision
        self.grids: list[Grid] = []
        self._parts: list[tuple[np.ndarray, ...]] = []
        self._rows = 0

    def add(self, grid: Grid) -> Grid:
        self.grids.append(grid)
        if not grid.peers or not grid.columns.columns:
            return grid
        columns = grid.columns.columns
        grid.request = self._append(grid, [c.protocol for c in columns], [c.ports[0] for c in columns],
                                    [c.codes[0] for c in columns], response=False)
        for protocol, spans in grid.columns.clients.items():
            grid.response[protocol] = self._append(grid, [protocol] * len(spans), [s[0] for s in spans],
                                                   [0] * len(spans), response=True)
        return grid

    def _append(self, grid: Grid, protocols: list[int], ports: list[int], codes: list[int], *, response: bool) -> slice:
        decision = self.decision
        n_peers, n_cols = len(grid.peers), len(protocols)
        n = n_peers * n_cols
        interface = decision.position.get(grid.interface.id, -1) if grid.interface is not None else -1
        subnet = decision.subnet_position.get(grid.subnet_id or "", -1)
        egress = (grid.direction == Direction.EGRESS) != response
        halves = np.array([split(address) for address, _ in grid.peers], dtype=np.uint64).reshape(-1, 2)
        crosses = np.array([c for _, c in grid.peers], dtype=bool)
        part = (
            np.full(n, interface, dtype=np.int32),
            np.full(n, subnet, dtype=np.int32),
            np.full(n, egress, dtype=bool),
            np.full(n, response, dtype=bool),
            np.full(n, grid.family, dtype=np.int8),
            np.repeat(halves[:, 0], n_cols),
            np.repeat(halves[:, 1], n_cols),
            np.tile(np.array(protocols, dtype=np.int16), n_peers),
            np.tile(np.array(ports, dtype=np.int32), n_peers),
            np.tile(np.array(codes, dtype=np.int16), n_peers),
            np.repeat(crosses, n_cols),
            np.full(n, grid.groups_kept, dtype=bool),
        )
        self._parts.append(part)
        start = self._rows
        self._rows += n
        return slice(start, start + n)

    def run(self) -> None:
        if not self._parts:
            for grid in self.grids:
                _empty(grid)
            return
        rows = Crossings(*(np.concatenate(column) for column in zip(*self._parts, strict=True)))
        decided: Decided = self.decision.decide(rows)
        allow, sg_allow, nacl = decided.allow, decided.sg_allow, decided.nacl
        for grid in self.grids:
            if not grid.peers or not grid.columns.columns:
                _empty(grid)
                continue
            shape = (len(grid.peers), len(grid.columns.columns))
            grid.allow = allow[grid.request].reshape(shape)
            grid.sg_allow = sg_allow[grid.request].reshape(shape)
            grid.nacl_rule = nacl[grid.request].reshape(shape)
            grid.answered = {
                protocol: allow[where].reshape(len(grid.peers), -1) for protocol, where in grid.response.items()
            }
            grid.answer_rule = {
                protocol: nacl[where].reshape(len(grid.peers), -1) for protocol, where in grid.response.items()
            }
        self._parts = []


def _empty(grid: Grid) -> None:
    shape = (len(grid.peers), len(grid.columns.columns))
    grid.allow = np.zeros(shape, dtype=bool)
    grid.sg_allow = np.zeros(shape, dtype=bool)
    grid.nacl_rule = np.full(shape, -1, dtype=np.int32)
    grid.answered = {p: np.zeros((len(grid.peers), len(s)), dtype=bool) for p, s in grid.columns.clients.items()}
    grid.answer_rule = {p: np.full((len(grid.peers), len(s)), -1, np.int32) for p, s in grid.columns.clients.items()}


def nacl_at(network: Network, interface: Interface, direction: Direction) -> RuleTable | None:
    """The interface's subnet's network ACL table in one direction (None: no ACL in the snapshot)."""
    subnet = network.subnets.get(interface.subnet_id)
    acl = network.nacl_of(subnet) if subnet else None
    return getattr(acl, direction) if acl else None


def tables_at(
    network: Network, interface: Interface, direction: Direction
) -> tuple[RuleTable | None, RuleTable | None]:
    """(the subnet's network ACL table, the interface's security groups' table) in one direction; None where
    there is none (no ACL in the snapshot; an interface AWS manages without groups)."""
    sg = network.sg_table(interface.groups, direction) if is_filtered(interface) else None
    return nacl_at(network, interface, direction), sg
