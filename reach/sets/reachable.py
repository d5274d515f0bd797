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

from reach.engine.explain import Analyzer, parse_port, parse_protocol
from reach.engine.graph import INTERNET
from reach.engine.packet import EPHEMERAL, Packet
from reach.engine.resolve import Endpoint, resolve
from reach.errors import ResolveError
from reach.model.addr import IPV4, format_address
from reach.model.decision import decision_of
from reach.model.network import Interface, Network
from reach.model.protocols import ECHO_REQUEST, protocol_name
from reach.model.vocabulary import Direction, Kind, Verdict
from reach.sets.exposure import exposure
from reach.sets.grid import Batch, Columns, Grid, cut_columns, lines_of, nacl_at, tables_at
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
    batch = Batch(decision_of(network))
    pairs = []
    for peer in peers:
        client, server = (peer, endpoint) if inbound else (endpoint, peer)
        pairs.append((peer, *_pair(network, client, server, family, number, wanted, batch)))
    batch.run()
    answers: list[Answer] = []
    unreached: list[Unreached] = []
    confirmed: dict[tuple[str, str], tuple[list[str], Unreached | None]] = {}
    for peer, client_grid, server_grid in pairs:
        cells = _cells(client_grid, server_grid, wanted)
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
            for e in cells.entries(client_grid.columns.examined)
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


def _pair(
    network: Network, client: Interface, server: Interface, family: int, protocol: int, port: int | None, batch: Batch
) -> tuple[Grid, Grid]:
    """The client's end (its request out, the response in) and the server's (request in, response out)."""
    client_address = next(v for f, v in client.private_ips if f == family)
    server_address = next(v for f, v in server.private_ips if f == family)
    same_subnet = client.subnet_id == server.subnet_id
    out_nacl, out_sg = tables_at(network, client, Direction.EGRESS)
    in_nacl, in_sg = tables_at(network, server, Direction.INGRESS)
    request = lines_of([out_sg, in_sg] + ([] if same_subnet else [out_nacl, in_nacl]), family)
    response = [] if same_subnet else lines_of(
        [nacl_at(network, server, Direction.EGRESS), nacl_at(network, client, Direction.INGRESS)], family)
    columns = cut_columns(request, response, protocols=None if protocol == -1 else [protocol],
                          ports=[(port, port)] if port is not None else ())
    crossing = not same_subnet
    client_grid = batch.add(Grid(client, client.subnet_id, Direction.EGRESS, family, [(server_address, crossing)],
                                 columns))
    server_grid = batch.add(Grid(server, server.subnet_id, Direction.INGRESS, family, [(client_address, crossing)],
                                 columns))
    return client_grid, server_grid


def _cells(client: Grid, server: Grid, port: int | None) -> CellSet:
    """What both ends let through, the response included (`answered`: per protocol, the client ports whose
    response gets back)."""
    cells = CellSet()
    cells.answered = {}
    columns: Columns = client.columns
    both = client.allow[0] & server.allow[0]
    for c, column in enumerate(columns.columns):
        if not both[c] or (port is not None and column.ports[0] != port and column.protocol in (6, 17, 1, 58)):
            continue
        if column.needs_response:
            a = set(client.client_ports(0, column.protocol))
            spans = merge_spans(s for s in server.client_ports(0, column.protocol) if s in a)
            if not spans:
                continue
            if column.protocol in (6, 17) and spans != [EPHEMERAL]:
                cells.answered[column.key] = spans
        cells.add((column.key, *column.ports, *column.codes), _SELF)
    return cells


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
