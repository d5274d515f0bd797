"""Which observed connections a change can touch, decided from the changed rules before anything is explained.

A connection's verdict can flip only where it meets a rule line that differs between before and after, at
the filters of an interface at one of its ends: on the way in, its subnet's ACL and its security groups (peer:
the client, port: the service); on the way back, its subnet's ACL only (security groups let a tracked
response through), for the client's ports. The same on the client's side, the other way round. A connection
whose ends are interfaces whose routing or forwarding changed (`Scope.coarse`), or that was logged only by a
hop in the change's scope (a NAT gateway, an appliance), is always kept.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pyarrow as pa

from reach.model.addr import parse_address, split
from reach.model.match import Probe, match_matrix
from reach.model.network import Network
from reach.model.rules import RuleTable
from reach.whatif.diff import Scope
from reach.whatif.headerspace import filter_stack

_ECHO = {1: ((8, 8), (0, 0)), 58: ((128, 128), (129, 129))}


def may_flip(before: Network, after: Network, scope: Scope, connections: pa.Table) -> np.ndarray:
    """A boolean mask over `connections` (as `group_connections` returns them): True where a changed rule
    line can decide the connection, or where that cannot be ruled out."""

    @cache
    def changed(interface_id: str, direction: str, acl_only: bool) -> RuleTable | None:
        old, new = before.interfaces.get(interface_id), after.interfaces.get(interface_id)
        if old is None or new is None:
            return None
        was, now = filter_stack(before, old, direction), filter_stack(after, new, direction)
        if acl_only:
            lines = set(was.nacl.lines if was.nacl else ()) ^ set(now.nacl.lines if now.nacl else ())
        else:
            lines = was.lines() ^ now.lines()
        return RuleTable.build(sorted(lines, key=repr)) if lines else None

    coarse = scope.coarse
    keep = np.zeros(connections.num_rows, dtype=bool)
    rows = connections.select(["src", "dst", "protocol", "dst_port", "src_port_lo", "src_port_hi"]).to_pylist()
    # (interface, side) -> the rows where it is that end, checked together below
    ends: dict[tuple[str, str], list[tuple[int, tuple[int, int], int, tuple[int, int], tuple[int, int]]]] = {}
    for k, row in enumerate(rows):
        try:
            src, dst = parse_address(row["src"]), parse_address(row["dst"])
        except ValueError:
            keep[k] = True
            continue
        mine = [(i, "server", src) for i in _holders(before, after, dst) if i in scope.interfaces]
        mine += [(i, "client", dst) for i in _holders(before, after, src) if i in scope.interfaces]
        if not mine or any(i in coarse for i, _, _ in mine):
            keep[k] = True  # logged by a hop in scope, or its routing changed
            continue
        protocol = row["protocol"]
        if protocol in (6, 17):
            asked, answered = (row["dst_port"],) * 2, (row["src_port_lo"], row["src_port_hi"])
        else:  # what explain assumes: an echo request and its reply (other protocols have no ports)
            asked, answered = _ECHO.get(protocol, ((0, 0), (0, 0)))
        for interface, side, peer in mine:
            ends.setdefault((interface, side), []).append((k, peer, protocol, asked, answered))
    for (interface, side), found in ends.items():
        request, response = ("ingress", "egress") if side == "server" else ("egress", "ingress")
        index = np.array([k for k, *_ in found])
        peers, protocols = [peer for _, peer, *_ in found], np.array([p for _, _, p, _, _ in found])
        request_ports = np.array([a for *_, a, _ in found]).reshape(-1, 2)
        response_ports = np.array([a for *_, a in found]).reshape(-1, 2)
        hit = _meets(changed(interface, request, False), peers, protocols, request_ports)
        hit |= _meets(changed(interface, response, True), peers, protocols, response_ports)
        keep[index[hit]] = True
    return keep


def _holders(before: Network, after: Network, address: tuple[int, int]) -> set[str]:
    return {i.id for network in (before, after) for i in network.interfaces_at(*address)}


def _meets(
    table: RuleTable | None, peers: list[tuple[int, int]], protocols: np.ndarray, ports: np.ndarray
) -> np.ndarray:
    """Per row: does any line of `table` match its peer and protocol, and (TCP, UDP) a port range overlapping
    its [lo, hi], or (ICMP) the type `lo`?"""
    if table is None:
        return np.zeros(len(peers), dtype=bool)
    halves = [split(value) for _, value in peers]
    probe = Probe(
        family=np.array([family for family, _ in peers], dtype=np.int8),
        peer_hi=np.array([hi for hi, _ in halves], dtype=np.uint64),
        peer_lo=np.array([lo for _, lo in halves], dtype=np.uint64),
        protocol=protocols.astype(np.int16),
        port=ports[:, 0].astype(np.int32),
        code=np.zeros(len(peers), dtype=np.int16),
    )
    ranged = np.isin(protocols, (6, 17))[:, None]
    overlap = (table.port_lo <= ports[:, 1:2]) & (ports[:, 0:1] <= table.port_hi)
    matched = np.where(ranged, match_matrix(table, probe, ports=False) & overlap, match_matrix(table, probe))
    return np.asarray(matched.any(axis=1))
