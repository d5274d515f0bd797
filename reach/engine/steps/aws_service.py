"""What the instance's host answers itself: Amazon DNS, instance metadata, Time Sync, license activation,
ECS task metadata, DHCP and the VPC router (`reach.model.services`).

Such traffic never reaches the VPC router's route tables, and the interface decision leaves it unfiltered
(security groups and network ACLs never filter it); flow logs never record it, so the walk predicts no
record. A service answers only its own protocol and port (`PROTOCOL_RESTRICTION` otherwise).
"""

from __future__ import annotations

from reach.engine.leg import Arrival, End, Leg
from reach.engine.moves import AtService, FromService, Next
from reach.engine.steps.filters import decide, network_acl, security_groups
from reach.model.protocols import PORTED
from reach.model.vocabulary import Direction, Kind, Reason


def at_service(leg: Leg, move: AtService) -> Next:
    interface, packet, service = move.interface, move.packet, move.service
    leg.hop(
        Kind.NETWORK_INTERFACE,
        interface.id,
        f"{interface.label} sends {packet.src_text} -> {packet.dst_text}",
        direction=Direction.EGRESS,
    )
    subnet = leg.subnet(interface.subnet_id, interface.vpc_id, of=interface.id)
    filtered = decide(leg, interface, subnet, Direction.EGRESS, packet, None, crossing=True)
    security_groups(leg, filtered)
    network_acl(leg, filtered)
    port = packet.dst_ports[0]
    if packet.protocol not in PORTED or packet.ports_are_range or not service.answers(packet.protocol, port):
        leg.block(
            Kind.AWS_SERVICE,
            packet.dst_text,
            Reason.PROTOCOL_RESTRICTION,
            f"{packet.dst_text} is {service.name}, which answers only {service.listens}",
            direction=Direction.INGRESS,
        )
        return None
    leg.hop(
        Kind.AWS_SERVICE,
        packet.dst_text,
        f"{packet.dst_text} is {service.name}, answered by {interface.label}'s host: never routed, and flow "
        "logs never record it",
        direction=Direction.INGRESS,
    )
    return Arrival(End.HOST, interface.id, packet)


def from_service(leg: Leg, move: FromService) -> Next:
    packet = move.packet
    interface = leg.network.interfaces[move.interface_id]
    subnet = leg.subnet(interface.subnet_id, interface.vpc_id, of=interface.id)
    leg.hop(Kind.AWS_SERVICE, packet.src_text, f"{packet.src_text} answers", direction=Direction.EGRESS)
    filtered = decide(leg, interface, subnet, Direction.INGRESS, packet, None, crossing=True)
    network_acl(leg, filtered)
    security_groups(leg, filtered)
    leg.hop(Kind.NETWORK_INTERFACE, interface.id, f"delivered to {interface.label}", direction=Direction.INGRESS)
    return Arrival(End.INTERFACE, interface.id, packet)
