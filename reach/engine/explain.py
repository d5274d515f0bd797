"""`explain`: one flow, both directions, every blocker, the records flow logs would show."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from reach.engine.explanation import Explanation, Flow, Hop
from reach.engine.leg import Arrival, End, Leg
from reach.engine.moves import FromOutside, FromService, Internet, Reenter, Send
from reach.engine.packet import EPHEMERAL, Packet
from reach.engine.resolve import Endpoint, addresses, resolve
from reach.engine.topology import Topology
from reach.engine.walk import walk
from reach.errors import ResolveError
from reach.model.addr import IPV4, format_address
from reach.model.network import Network
from reach.model.rules import protocol_name, protocol_number
from reach.model.vocabulary import Direction, Kind, Reason, Verdict

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

# A describe-* kind no file of the snapshot holds, the kind of hop that depends on it, and what reach assumed.
# (A missing VPC or subnet is said per resource, by the snapshot's compile and `Leg.subnet`.)
_ABSENT: tuple[tuple[str, str, str], ...] = (
    ("RouteTables", Kind.ROUTE_TABLE, "the snapshot has no RouteTables (describe-route-tables): reach assumed every "
     "subnet has only its VPC's local route"),
    ("NetworkAcls", Kind.NETWORK_ACL, "the snapshot has no NetworkAcls (describe-network-acls): reach assumed every "
     "network ACL allows all traffic"),
    ("InternetGateways", Kind.INTERNET_GATEWAY, "the snapshot has no InternetGateways (describe-internet-gateways): "
     "reach knows an internet gateway only where a route names it, and assumed it attached to that route's VPC"),
    ("NatGateways", Kind.NAT_GATEWAY, "the snapshot has no NatGateways (describe-nat-gateways): a route's NAT gateway "
     "is unknown"),
    ("VpcPeeringConnections", Kind.VPC_PEERING_CONNECTION, "the snapshot has no VpcPeeringConnections "
     "(describe-vpc-peering-connections): a route's peering is where the path leaves what reach can see"),
    ("TransitGateways", Kind.TRANSIT_GATEWAY, "the snapshot has no TransitGateways (describe-transit-gateways): a "
     "transit gateway named by routes and attachments is assumed available"),
    ("VpnGateways", Kind.VPN_GATEWAY, "the snapshot has no VpnGateways (describe-vpn-gateways): a VPN gateway a route "
     "names is assumed available and attached"),
)
# Per-subnet compile warnings that a whole missing kind already says.
_SAID_BY_ABSENT = (("RouteTables", "no route table in the snapshot"), ("NetworkAcls", "no network ACL in the snapshot"))


def _holder(network: Network, topology: Topology, packet: Packet) -> str | None:
    """What in the snapshot holds the packet's destination address, in words; None if nothing does."""
    family, dst = packet.family, packet.dst
    held = network.interfaces_at(family, dst)
    if held:
        return f"the address of {held[0].label}"
    owner = network.public_owner(dst) if family == IPV4 else None
    if owner is not None:
        return f"the public address of {owner[0].label}"
    nat = topology.nat_gateway_with_public(dst) if family == IPV4 else None
    if nat is not None:
        return f"the public address of {nat.id}"
    return None


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
        left = arrival is not None and arrival.end == End.EXIT and leg.trace.left is not None
        if left:
            self._left(leg, packet)
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
        on_path, assumed_on_path = self._assumed_on(trace.hops)
        assumed = [*self._absent_on(trace.hops), *trace.assumed, *assumed_on_path]
        accepted = Reason.UNKNOWN_DESTINATION if left else Reason.ACCEPTED
        return Explanation(
            flow=flow,
            verdict=Verdict.REJECT if blockers else Verdict.ACCEPT,
            reason=blockers[0].reason if blockers else accepted,
            blocked_by=blockers[0] if blockers else None,
            blockers=blockers,
            hops=trace.hops,
            flow_logs=trace.flow_log_records(),
            fix=blockers[0].fix if blockers else None,
            notes=list(dict.fromkeys([*trace.notes, *on_path, *assumed])),
            assumed=list(dict.fromkeys(assumed)),
        )

    def _left(self, leg: Leg, packet: Packet) -> None:
        """The request left the modelled network. Beyond the exit nothing is known, which the answer says
        (`UNKNOWN_DESTINATION`); an address the snapshot itself holds is never reached by leaving it."""
        left = leg.trace.left
        assert left is not None
        holder = _holder(self.network, self.topology, packet)
        if holder is None:
            leg.note(
                f"the request leaves the snapshot {left.beyond}: whether {packet.dst_text} is there and answers is "
                "beyond what the snapshot shows (UNKNOWN_DESTINATION)"
            )
            return
        leg.block(
            left.kind,
            left.id,
            Reason.UNKNOWN_DESTINATION,
            f"{packet.dst_text} is {holder} in this snapshot, but the path leaves the snapshot {left.beyond}: reach "
            "never follows a packet that leaves the snapshot back into it, so it does not get there this way",
            direction=Direction.EGRESS,
        )

    def _absent_on(self, hops: list[Hop]) -> list[str]:
        """What reach assumed for each describe-* kind the snapshot lacks entirely, when the path met its kind."""
        kinds = {hop.kind for hop in hops}
        absent = self.network.absent
        return [text for key, kind, text in _ABSENT if key in absent and kind in kinds]

    def _assumed_on(self, hops: list[Hop]) -> tuple[list[str], list[str]]:
        """What the snapshot's compile said about a component this path met (a VPC it lacks, a duplicate it
        chose between...): said with the answer, never silently. A warning is about the first id it names.
        Returns (the other warnings, the assumptions); a per-subnet assumption that a whole missing kind
        already says (`_ABSENT`) is left out."""
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
        said = [w for w in network.warnings if (found := _AWS_ID.search(w)) is not None and found.group() in ids]
        covered = [phrase for key, phrase in _SAID_BY_ABSENT if key in network.absent]
        said = [w for w in said if not any(phrase in w for phrase in covered)]
        return [w for w in said if "assum" not in w], [w for w in said if "assum" in w]

    def _return_leg(self, leg: Leg, request: Packet, arrival: Arrival) -> None:
        response = arrival.packet.response()
        if response is None:
            return
        leg.response = True
        if arrival.end == End.INTERFACE:
            back = walk(leg, Send(self.network.interfaces[arrival.id], response))
        elif arrival.end == End.HOST:
            back = walk(leg, FromService(arrival.id, response))
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
