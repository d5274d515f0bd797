"""Moves: where a packet goes next, as data. A step returns one; the walker hands it to the next step.

A route's target is a `Follow`, dispatched by the route's target kind; every other move by its type. Moves
are not frozen: one is built for every hop, and a frozen dataclass costs six times as much to build.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass

from reach.engine.leg import Arrival, Record
from reach.engine.packet import Packet
from reach.engine.steps.filters import Filtered
from reach.model.load_balancer import LoadBalancer
from reach.model.network import Gateway, Interface, Route, RouteTable, Subnet
from reach.model.services import Service


@dataclass(slots=True)
class Send:
    """The packet leaves an interface (its own, or forwarded by an appliance)."""

    interface: Interface
    packet: Packet


@dataclass(slots=True)
class RouteOut:
    """The VPC router takes the packet out of `subnet`. `filtered`: what the decision said at the interface
    it left by (its network ACL part is said when the packet leaves the subnet)."""

    subnet: Subnet
    packet: Packet
    record: Record | None = None
    filtered: Filtered | None = None


@dataclass(slots=True)
class Follow:
    """A route of `table` (used by `subnet`) sends the packet to its target."""

    route: Route
    table: RouteTable
    subnet: Subnet
    packet: Packet


@dataclass(slots=True)
class Local:
    """The VPC's local route delivers the packet to the subnet that holds its destination."""

    vpc_id: str
    packet: Packet
    table: RouteTable | None = None
    route: Route | None = None


@dataclass(slots=True)
class Enter:
    """The packet enters `subnet` (crossing its network ACL when it comes from outside) for whoever holds
    `at`: its destination, or the NAT gateway a route sends it to."""

    subnet: Subnet
    packet: Packet
    crossing: bool
    at: int | None = None


@dataclass(slots=True)
class AtNat:
    """The packet has reached NAT gateway `gateway` (filters crossed)."""

    gateway: Gateway
    packet: Packet


@dataclass(slots=True)
class AtBalancer:
    """The packet has reached `node`, an interface of `balancer` (filters crossed)."""

    balancer: LoadBalancer
    node: Interface
    packet: Packet


@dataclass(slots=True)
class Unmasquerade:
    """A NAT instance's response is back at the appliance that translated the request."""

    appliance: Interface
    packet: Packet


@dataclass(slots=True)
class Internet:
    """The packet is on the internet: it reaches a host out there, or comes back into a VPC."""

    packet: Packet


@dataclass(slots=True)
class FromOutside:
    """A flow that starts outside every VPC: behind a VPN or Direct Connect, else on the internet."""

    packet: Packet


@dataclass(slots=True)
class NatFromInternet:
    """A packet from the internet addressed to NAT gateway `gateway`'s public address."""

    gateway: Gateway
    packet: Packet


@dataclass(slots=True)
class AtService:
    """The packet is addressed to a service the sending interface's host answers (Amazon DNS, metadata...)."""

    interface: Interface
    packet: Packet
    service: Service


@dataclass(slots=True)
class FromService:
    """The service's answer, back to the interface that asked (`interface_id`)."""

    interface_id: str
    packet: Packet


@dataclass(slots=True)
class Reenter:
    """A response coming back in through the gateway its request left by (VPN, endpoint, peering)."""

    gateway_id: str
    packet: Packet


Move = (
    Send
    | RouteOut
    | Follow
    | Local
    | Enter
    | AtNat
    | AtBalancer
    | Unmasquerade
    | Internet
    | FromOutside
    | NatFromInternet
    | AtService
    | FromService
    | Reenter
)
Next = Move | Arrival | None
# A step that must see where a sub-walk ends (a load balancer's leg to each target) yields the sub-walk's
# first move, is sent its arrival, and returns the next move when done.
Walks = Generator[Move, Arrival | None, Next]
