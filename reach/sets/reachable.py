"""`reach reachable`: every peer that can open a connection to an interface (`--to`), or that it can open
(`--from`), with the exact ports and addresses, and the path that carries each.

The topology graph (reach.engine.graph) finds the candidates: every node with a path to the endpoint, or
from it. Each candidate is then decided on the header space: cells (protocol x port piece x code piece)
through the interface decision at both ends, the request at each and the response back through both
network ACLs on the client's ephemeral ports. Routes: inside a VPC the local route carries it (both
subnets' tables are read); any other path (peering, transit gateway, appliance) is confirmed by the walker
for one representative flow per pair of subnets, and a candidate the walker stops is listed as unreached
with what stops it. The internet is `reach exposure`'s answer for the endpoint; a peered VPC outside the
snapshot is decided at the endpoint's end (its own side is not in the snapshot, as a note says).
"""

from __future__ import annotations

import networkx as nx
import numpy as np

from reach.engine.explain import Analyzer, parse_port, parse_protocol
from reach.engine.graph import INTERNET
from reach.engine.packet import EPHEMERAL, Packet
from reach.engine.resolve import Endpoint, resolve
from reach.errors import ResolveError
from reach.model.addr import IPV4, format_address, split
from reach.model.decision import Crossings, InterfaceDecision, decision_of
from reach.model.network import Interface, Network
from reach.model.protocols import ECHO_REQUEST, protocol_name
from reach.model.vocabulary import Direction, Kind, Verdict
from reach.sets.exposure import exposure
from reach.sets.grid import columns_of, line_box, lines_of
from reach.sets.results import Answer, Opened, Query, ReachableResult, ReachableSummary, Unreached
from reach.sets.space import CellSet, Span, merge_spans

_SELF = frozenset({0})  # one peer address: the cells' sources stand for it


def reachable(
    analyzer: Analyzer,
    *,
    to: str | None = None,
    from_: str | None = None,
    port: int | str | None = None,
    protocol: str | int = "tcp",
) -> ReachableResult:
    if (to is None) == (from_ is None):
        raise ResolveError("give one of --to DST (who can open it) or --from SRC (what it can open)")
    network = analyzer.network
    text = to if to is not None else from_
    assert text is not None
    endpoint = resolve(network, text).interface
    if endpoint is None or endpoint.primary_ip is None:
        raise ResolveError(f"{text} is not an interface of the snapshot (reachable answers for an interface)")
    number = parse_protocol(protocol)
    wanted = parse_port(number, port)[0] if port is not None and number in (1, 6, 17, 58) else None
    family, address = endpoint.primary_ip
    inbound = to is not None
    graph = analyzer.graph
    near = nx.ancestors(graph, endpoint.id) if inbound else nx.descendants(graph, endpoint.id)
    peers = [network.interfaces[n] for n in sorted(near) if n in network.interfaces and n != endpoint.id]
    peers = [p for p in peers if any(f == family for f, _ in p.private_ips)]
    answers: list[Answer] = []
    unreached: list[Unreached] = []
    confirmed: dict[tuple[str, str], tuple[list[str], Unreached | None]] = {}
    # No peer (an interface alone in its snapshot): nothing to decide, and no columns to cut.
    ends = _Ends(network, endpoint, peers, family, number, wanted, inbound) if peers else None
    for k, peer in enumerate(peers):
        assert ends is not None
        cells = ends.cells(k)
        if not cells:
            continue
        client, server = (peer, endpoint) if inbound else (endpoint, peer)
        key = (client.subnet_id, server.subnet_id)
        if key not in confirmed:
            confirmed[key] = _path(analyzer, client, server, cells)
        path, stopped = confirmed[key]
        if stopped is not None:
            unreached.append(stopped.model_copy(update={"kind": Kind.NETWORK_INTERFACE, "id": peer.id}))
            continue
        peer_address = f"{format_address(family, next(v for f, v in peer.private_ips if f == family))}/" + (
            "32" if family == IPV4 else "128")
        access = [
            Opened(protocol=e.protocol_text, ports=[list(s) for s in e.ports], sources=[peer_address],
                   codes=[list(s) for s in e.codes] if e.codes else None,
                   client_ports=[list(s) for s in cells.answered[e.protocol]] if e.protocol in cells.answered else None)
            for e in cells.entries(ends.columns.examined)
        ]
        answers.append(Answer(kind=Kind.NETWORK_INTERFACE, id=peer.id, name=peer.name, access=access,
                              path=[client.id, *path, server.id]))
    notes: list[str] = []
    if inbound and INTERNET in near:
        answers += _from_internet(analyzer, endpoint, number, wanted)
    answers += _peered(network, endpoint, notes)
    query = Query(direction="to" if inbound else "from", endpoint=endpoint.id,
                  address=format_address(family, address), protocol=protocol_name(number), port=wanted)
    summary = ReachableSummary(candidates=len(peers), answers=len(answers), unreached=len(unreached))
    return ReachableResult(query=query, summary=summary, answers=answers, unreached=unreached, notes=notes)


class _Ends:
    """Both ends of every (peer, endpoint) connection, through the interface decision in one call: the request
    leaving the client and entering the server, the response leaving the server and entering the client, on
    columns cut at every boundary of the endpoint's and all the peers' rules."""

    def __init__(
        self, network: Network, endpoint: Interface, peers: list[Interface], family: int, protocol: int,
        port: int | None, inbound: bool,
    ) -> None:
        decision = decision_of(network)
        here_in, here_out = (Direction.INGRESS, Direction.EGRESS) if inbound else (Direction.EGRESS, Direction.INGRESS)
        there_in, there_out = here_out, here_in  # the peers' side: the other way round
        request = _boxes(network, [endpoint], family, here_in, groups=True)
        request |= _boxes(network, peers, family, there_in, groups=True)
        response = _boxes(network, [endpoint], family, here_out) | _boxes(network, peers, family, there_out)
        self.columns = columns_of(request, response, None if protocol == -1 else [protocol],
                                  [(port, port)] if port is not None else [])
        columns = self.columns.columns
        self.port = port
        n, c = len(peers), len(columns)
        mine = next(v for f, v in endpoint.private_ips if f == family)
        theirs = np.array([next(v for f, v in p.private_ips if f == family) for p in peers], dtype=object)
        crossing = np.array([p.subnet_id != endpoint.subnet_id for p in peers], dtype=bool)
        here = decision.position[endpoint.id]
        here_subnet = decision.subnet_position.get(endpoint.subnet_id, -1)
        there = np.array([decision.position[p.id] for p in peers], dtype=np.int32)
        there_subnet = np.array([decision.subnet_position.get(p.subnet_id, -1) for p in peers], dtype=np.int32)
        protocols = np.array([x.protocol for x in columns], dtype=np.int16)
        ports = np.array([x.ports[0] for x in columns], dtype=np.int32)
        codes = np.array([x.codes[0] for x in columns], dtype=np.int16)
        spans = self.columns.clients
        self._spans: dict[int, list[Span]] = spans
        # The endpoint's end first: a peer it lets nothing in from (or out to) needs no look at its own rules.
        here_rows = [_rows(np.full(n, here), np.full(n, here_subnet), here_in, False, family, theirs, crossing,
                           protocols, ports, codes)]
        here_rows += [_rows(np.full(n, here), np.full(n, here_subnet), here_out, True, family, theirs, crossing,
                            *_answer_columns(p, spans[p])) for p in spans]
        here_allow = _decide(decision, here_rows)
        request_ok = here_allow[0].reshape(n, c) if c else np.zeros((n, 0), dtype=bool)
        answered = {p: here_allow[1 + i].reshape(n, -1) for i, p in enumerate(spans)}
        live = np.flatnonzero(request_ok.any(axis=1)) if c else np.zeros(0, dtype=np.int64)
        if len(live):
            there_rows = [_rows(there[live], there_subnet[live], there_in, False, family,
                                np.full(len(live), mine, dtype=object), crossing[live], protocols, ports, codes)]
            there_rows += [_rows(there[live], there_subnet[live], there_out, True, family,
                                 np.full(len(live), mine, dtype=object), crossing[live],
                                 *_answer_columns(p, spans[p])) for p in spans]
            there_allow = _decide(decision, there_rows)
            request_ok[live] &= there_allow[0].reshape(len(live), c)
            for i, p in enumerate(spans):
                answered[p][live] &= there_allow[1 + i].reshape(len(live), -1)
        self.request_ok = request_ok
        self.answered = answered

    def cells(self, k: int) -> CellSet:
        """What peer `k` and the endpoint both let through, the response included."""
        cells = CellSet()
        for c in np.flatnonzero(self.request_ok[k]).tolist():
            column = self.columns.columns[c]
            if self.port is not None and column.protocol in (1, 6, 17, 58) and column.ports[0] != self.port:
                continue
            if column.needs_response:
                spans = merge_spans(s for s, ok in zip(self._spans[column.protocol],
                                                       self.answered[column.protocol][k].tolist(), strict=True) if ok)
                if not spans:
                    continue
                if column.protocol in (6, 17) and spans != [EPHEMERAL]:
                    cells.answered[column.key] = spans
            cells.add((column.key, *column.ports, *column.codes), _SELF)
        return cells


def _answer_columns(protocol: int, spans: list[Span]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(protocol, port, code) columns of the response rows: one per piece of the client's ports."""
    return (np.full(len(spans), protocol, dtype=np.int16), np.array([a for a, _ in spans], dtype=np.int32),
            np.zeros(len(spans), dtype=np.int16))


def _decide(decision: InterfaceDecision, parts: list[Crossings]) -> list[np.ndarray]:
    """The decision for several blocks of rows at once, split back per block."""
    rows = Crossings(*(np.concatenate([getattr(p, f) for p in parts]) for f in Crossings.__dataclass_fields__))
    allow = decision.decide(rows).allow if len(rows) else np.zeros(0, dtype=bool)
    return np.split(allow, np.cumsum([len(p) for p in parts])[:-1])


def _boxes(
    network: Network, interfaces: list[Interface], family: int, direction: Direction, *, groups: bool = False
) -> frozenset[tuple[int, int, int, int, int]]:
    """The (protocol, ports, codes) boxes of the lines that decide at these interfaces in one direction: their
    subnets' network ACLs, and with `groups` their security groups."""
    found: set[tuple[int, int, int, int, int]] = set()
    for acl_id in {network.subnets[i.subnet_id].nacl for i in interfaces if i.subnet_id in network.subnets}:
        acl = network.nacls.get(acl_id or "")
        if acl is not None:
            found |= {line_box(x) for x in lines_of([getattr(acl, direction)], family)}
    if groups:
        field = f"{direction}_lines"
        for group_id in {g for i in interfaces for g in i.groups}:
            group = network.security_groups.get(group_id)
            if group is not None:
                found |= {line_box(x) for x in getattr(group, field) if x.peer and x.peer.family == family}
    return frozenset(found)


def _rows(
    interface: np.ndarray, subnet: np.ndarray, direction: Direction, response: bool, family: int,
    peer: np.ndarray, crossing: np.ndarray, protocols: np.ndarray, ports: np.ndarray, codes: np.ndarray,
) -> Crossings:
    """One row per (interface row) x (column): `interface`, `subnet`, `peer`, `crossing` per interface row."""
    n, c = len(interface), len(protocols)
    halves = [split(int(v)) for v in peer.tolist()]
    hi = np.array([h for h, _ in halves], dtype=np.uint64)
    lo = np.array([low for _, low in halves], dtype=np.uint64)
    return Crossings(
        interface=np.repeat(interface.astype(np.int32), c),
        subnet=np.repeat(subnet.astype(np.int32), c),
        egress=np.full(n * c, direction == Direction.EGRESS, dtype=bool),
        response=np.full(n * c, response, dtype=bool),
        family=np.full(n * c, family, dtype=np.int8),
        peer_hi=np.repeat(hi, c),
        peer_lo=np.repeat(lo, c),
        protocol=np.tile(protocols, n),
        port=np.tile(ports, n),
        code=np.tile(codes, n),
        crosses_nacl=np.repeat(crossing, c),
        groups_kept=np.ones(n * c, dtype=bool),
    )


def _path(
    analyzer: Analyzer, client: Interface, server: Interface, cells: CellSet
) -> tuple[list[str], Unreached | None]:
    """The components between the two interfaces: the local route when both subnets' tables route to each other
    locally, else what the walker follows for one representative flow (and what stops it, if anything)."""
    network = analyzer.network
    family, src = client.primary_ip or (4, 0)
    dst = next(v for f, v in server.private_ips if f == family)
    there = _local(network, client, dst, family)
    back = _local(network, server, src, family)
    if client.subnet_id == server.subnet_id:
        return [client.subnet_id], None
    if there and back:
        return [client.subnet_id, there, server.subnet_id], None
    protocol, lo, _, code, _ = min(cells.boxes)
    probe = protocol if protocol >= 0 else 6
    port = ECHO_REQUEST.get(probe, lo) if probe in ECHO_REQUEST and protocol != probe else lo
    packet = Packet(family, src, dst, probe, EPHEMERAL if probe in (6, 17) else (0, 0), (port, port), code)
    explained = analyzer.explain_packet(Endpoint(client.id, client, None), packet)
    if explained.verdict == Verdict.ACCEPT:
        path = [h.id for h in explained.hops if h.id and not h.return_path and h.id not in (client.id, server.id)]
        return list(dict.fromkeys(path)), None
    blocked = explained.blocked_by
    assert blocked is not None
    return [], Unreached(kind="", id=None, reason=blocked.reason, detail=blocked.detail)


def _local(network: Network, interface: Interface, peer: int, family: int) -> str | None:
    """The route table id when the interface's subnet routes `peer` by its local route."""
    subnet = network.subnets.get(interface.subnet_id)
    table = network.route_table_of(subnet) if subnet else None
    route = table.lookup(family, peer) if table else None
    return table.id if table and route and route.target_kind == "local" and route.state == "active" else None


def _from_internet(analyzer: Analyzer, endpoint: Interface, protocol: int, port: int | None) -> list[Answer]:
    """The internet's part: `reach exposure` for the endpoint, cut to the protocol and port asked."""
    found = exposure(analyzer, only={endpoint.id})
    row = next((i for i in found.interfaces if i.interface_id == endpoint.id), None)
    answers = []
    for entry in row.exposed if row else []:
        if protocol != -1 and entry.protocol not in (protocol_name(protocol), "all"):
            continue
        ports = [list(s) for s in _within(entry.ports, port)]
        if not ports:
            continue
        access = Opened(protocol=entry.protocol, ports=ports, sources=entry.sources, codes=entry.codes,
                        except_protocols=entry.except_protocols, client_ports=entry.client_ports)
        subnet = endpoint.subnet_id
        answers.append(Answer(kind=Kind.INTERNET, id=entry.via, name=entry.listener, access=[access],
                              path=[Kind.INTERNET, entry.via, subnet, endpoint.id]))
    return answers


def _within(spans: list[list[int]], port: int | None) -> list[Span]:
    if port is None:
        return merge_spans((a, b) for a, b in spans)
    return [(port, port)] if any(a <= port <= b for a, b in spans) else []


def _peered(network: Network, endpoint: Interface, notes: list[str]) -> list[Answer]:
    """Peered VPCs outside the snapshot: said, not enumerated (their side's routes and filters are unknown)."""
    for peering in network.peerings.values():
        other = peering.other_side(endpoint.vpc_id)
        if other is not None and other.vpc_id not in network.vpcs and peering.status == "active":
            notes.append(f"{peering.id} peers {endpoint.vpc_id} with {other.vpc_id} "
                         f"({', '.join(str(c) for c in other.cidrs)}), which is not in the snapshot: its side is not "
                         "enumerated; ask reach explain for a flow from it")
    return []
