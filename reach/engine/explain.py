"""`explain`: one flow, both directions, every blocker, the records flow logs would show."""

from __future__ import annotations

from typing import TYPE_CHECKING

from reach.engine.explanation import Explanation, Flow
from reach.engine.graph import build_path_graph
from reach.engine.packet import EPHEMERAL, Packet
from reach.engine.resolve import Endpoint, addresses, resolve
from reach.engine.walk import Arrival, Walker
from reach.errors import ResolveError
from reach.model.addr import format_address
from reach.model.network import Network
from reach.model.rules import protocol_name, protocol_number

if TYPE_CHECKING:
    import networkx as nx


def parse_protocol(text: str | int) -> int:
    try:
        return protocol_number(text)
    except ValueError:
        raise ResolveError(f"protocol '{text}' is not tcp, udp, icmp, icmpv6, all or a number 0-255") from None


def parse_port(protocol: int, text: str | int) -> tuple[int, int]:
    """PORT as CONTRACT §2 has it: a port; for ICMP the type, or TYPE/CODE. Returns (port or type, code)."""
    raw = str(text).strip()
    try:
        if protocol in (1, 58):
            kind, _, code = raw.partition("/")
            value, icmp_code = int(kind), int(code) if code else 0
            if not (0 <= value <= 255 and 0 <= icmp_code <= 255):
                raise ValueError
            return value, icmp_code
        value = int(raw)
        if not 0 <= value <= 65535:
            raise ValueError
        return value, 0
    except ValueError:
        what = "an ICMP type or TYPE/CODE (8, 8/0)" if protocol in (1, 58) else "a port 0-65535"
        raise ResolveError(f"port '{text}' is not {what}") from None


class Analyzer:
    """A compiled network and its path graph, built once and reused by every query."""

    def __init__(self, network: Network) -> None:
        self.network = network
        self.graph: nx.MultiDiGraph = build_path_graph(network)

    def explain(
        self, src: str, dst: str, port: str | int, protocol: str | int = "tcp", src_port: int | None = None
    ) -> Explanation:
        number = parse_protocol(protocol)
        dst_port, code = parse_port(number, port) if number in (1, 6, 17, 58) else (0, 0)
        if src_port is not None and not 0 <= src_port <= 65535:
            raise ResolveError(f"--src-port {src_port} is not a port 0-65535")
        source, destination = resolve(self.network, src), resolve(self.network, dst)
        if source.external and destination.external:
            raise ResolveError(f"neither {src} nor {dst} is in the snapshot: at least one end must be")
        (family, src_address), (_, dst_address) = addresses(source, destination)
        client_ports = (src_port, src_port) if src_port is not None else EPHEMERAL
        packet = Packet(
            family,
            src_address,
            dst_address,
            number,
            client_ports if number in (6, 17) else (0, 0),
            (dst_port, dst_port),
            code,
        )
        return self.explain_packet(source, packet)

    def explain_packet(self, source: Endpoint, packet: Packet) -> Explanation:
        walker = Walker(self.network, self.graph)
        arrival = walker.send(source.interface, packet) if source.interface else walker.internet(packet)
        if arrival is not None:
            self._return_leg(walker, source, packet, arrival)
        fixes = walker.fixes()
        blockers = [b.model_copy(update={"fix": f}) for b, f in zip(walker.blockers, fixes, strict=True)]
        flow = Flow(
            src=format_address(packet.family, packet.src),
            dst=format_address(packet.family, packet.dst),
            protocol=protocol_name(packet.protocol),
            src_port=packet.src_ports[0]
            if packet.protocol in (6, 17) and packet.src_ports[0] == packet.src_ports[1]
            else None,
            dst_port=packet.dst_ports[0] if packet.protocol in (1, 6, 17, 58) else None,
            icmp_code=packet.code if packet.protocol in (1, 58) else None,
        )
        return Explanation(
            flow=flow,
            verdict="REJECT" if blockers else "ACCEPT",
            reason=blockers[0].reason if blockers else "ACCEPTED",
            blocked_by=blockers[0] if blockers else None,
            blockers=blockers,
            hops=walker.hops,
            flow_logs=walker.flow_log_records(),
            fix=blockers[0].fix if blockers else None,
            notes=walker.notes,
        )

    def _return_leg(self, walker: Walker, source: Endpoint, request: Packet, arrival: Arrival) -> None:
        kind, where, delivered = arrival
        response = delivered.response()
        if response is None:
            return
        walker.return_path = True
        if kind == "interface":
            back = walker.send(self.network.interfaces[where], response)
        elif kind == "internet":
            back = walker.internet(response)
        else:
            back = walker.reenter(where, response)
        if back is None:
            return
        # The client only accepts a response from the address it sent to (a NAT on the way back breaks that).
        if back[2].src != request.dst:
            table = walker._last_route[0].id if walker._last_route else None
            walker.block(
                "route-table",
                table,
                "ASYMMETRIC_ROUTE",
                f"the response reaches the client from {format_address(request.family, back[2].src)}, "
                f"not from {format_address(request.family, request.dst)} it connected to: it left by another route",
            )
