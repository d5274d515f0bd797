"""`explain`: one flow, both directions, every blocker, the records flow logs would show."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from reach.engine.explanation import Explanation, Flow, Hop
from reach.engine.leg import Arrival, End, Leg
from reach.engine.moves import FromOutside, Internet, Reenter, Send
from reach.engine.packet import EPHEMERAL, Packet
from reach.engine.resolve import Endpoint, addresses, resolve
from reach.engine.topology import Topology
from reach.engine.walk import walk
from reach.errors import ResolveError
from reach.model.addr import format_address
from reach.model.network import Network
from reach.model.rules import protocol_name, protocol_number
from reach.model.vocabulary import Kind, Reason, Verdict

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


# An AWS resource id as warnings write them (sg-0abc…, subnet-0abc…, tgw-rtb-0abc…).
_AWS_ID = re.compile(r"\b[a-z]+(?:-[a-z]+)*-[0-9a-f]{8,17}\b")


class Analyzer:
    """A compiled network and its topology, built once and reused by every query."""

    def __init__(self, network: Network) -> None:
        self.network = network
        self.topology = Topology(network)

    @property
    def graph(self) -> nx.MultiDiGraph:
        return self.topology.graph

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
        leg = Leg(self.topology)
        arrival = walk(leg, Send(source.interface, packet) if source.interface else FromOutside(packet))
        if arrival is not None:
            self._return_leg(leg, packet, arrival)
        trace = leg.trace
        blockers = [b.model_copy(update={"fix": f}) for b, f in zip(trace.blockers, leg.fixes(), strict=True)]
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
            verdict=Verdict.REJECT if blockers else Verdict.ACCEPT,
            reason=blockers[0].reason if blockers else Reason.ACCEPTED,
            blocked_by=blockers[0] if blockers else None,
            blockers=blockers,
            hops=trace.hops,
            flow_logs=trace.flow_log_records(),
            fix=blockers[0].fix if blockers else None,
            notes=[*trace.notes, *self._assumed_on(trace.hops)],
        )

    def _assumed_on(self, hops: list[Hop]) -> list[str]:
        """What the snapshot's compile assumed about a component this path met (a VPC it lacks, a duplicate it
        chose between...): said with the answer, never silently. A warning is about the first id it names."""
        network = self.network
        ids = {hop.id for hop in hops if hop.id}
        for hop_id in list(ids):
            interface = network.interfaces.get(hop_id)
            if interface is not None:
                ids |= {interface.vpc_id, interface.subnet_id, *interface.groups}
            table = network.route_tables.get(hop_id)
            if table is not None:
                ids.add(table.vpc_id)
            gateway = network.gateways.get(hop_id)
            if gateway is not None:
                ids |= {*gateway.vpc_ids, gateway.subnet_id or ""}
        return [w for w in network.warnings if (found := _AWS_ID.search(w)) is not None and found.group() in ids]

    def _return_leg(self, leg: Leg, request: Packet, arrival: Arrival) -> None:
        response = arrival.packet.response()
        if response is None:
            return
        leg.response = True
        if arrival.end == End.INTERFACE:
            back = walk(leg, Send(self.network.interfaces[arrival.id], response))
        elif arrival.end == End.INTERNET:
            back = walk(leg, Internet(response))
        else:
            back = walk(leg, Reenter(arrival.id, response))
        if back is None:
            return
        # The client only accepts a response from the address it sent to (a NAT on the way back breaks that).
        if back.packet.src != request.dst:
            leg.block(
                Kind.ROUTE_TABLE,
                leg.last_route[0].id if leg.last_route else None,
                Reason.ASYMMETRIC_ROUTE,
                f"the response reaches the client from {format_address(request.family, back.packet.src)}, "
                f"not from {format_address(request.family, request.dst)} it connected to: it left by another route",
            )
