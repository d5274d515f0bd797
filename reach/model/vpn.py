"""Site-to-Site VPN and Direct Connect, compiled: where the modelled network ends.

What lies beyond a virtual private gateway, a transit gateway's VPN attachment or a Direct Connect gateway
is not in any describe-* call; what the snapshot does say is which routes lead there (a VPN connection's
static routes, or BGP with routes unknown), whether its tunnels are up (`VgwTelemetry`), which route tables
take routes propagated from a virtual private gateway, and which prefixes a Direct Connect gateway allows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reach.model.addr import Cidr

LIVE = "available"  # the state of a VPN connection, gateway or customer gateway that carries traffic


@dataclass(frozen=True)
class VpnRoute:
    """A static route of a VPN connection: traffic to `cidr` goes through its tunnels."""

    destination: str  # as written
    cidr: Cidr
    state: str  # pending | available | deleting | deleted
    source: str = "static"

    @property
    def live(self) -> bool:
        return self.state == LIVE


@dataclass(frozen=True)
class VpnTunnel:
    """One tunnel's telemetry, as `VgwTelemetry` reports it."""

    outside_ip: str | None
    status: str  # UP | DOWN
    accepted_routes: int | None  # BGP routes accepted from the customer gateway (or static routes installed)
    message: str | None

    @property
    def up(self) -> bool:
        return self.status.upper() == "UP"


@dataclass(frozen=True)
class VpnConnection:
    id: str
    name: str | None
    state: str  # pending | available | deleting | deleted
    customer_gateway_id: str | None
    vpn_gateway_id: str | None  # the VPC side: a virtual private gateway …
    transit_gateway_id: str | None  # … or a transit gateway
    static_routes_only: bool  # False: BGP, whose routes are learned at run time and not in the snapshot
    routes: tuple[VpnRoute, ...]  # the static routes
    tunnels: tuple[VpnTunnel, ...]  # empty when the snapshot has no telemetry

    @property
    def bgp(self) -> bool:
        return not self.static_routes_only

    @property
    def tunnels_known(self) -> bool:
        return bool(self.tunnels)

    @property
    def up(self) -> bool | None:
        """Whether it can carry traffic now: available with a tunnel UP; None when there is no telemetry."""
        if self.state != LIVE:
            return False
        return any(t.up for t in self.tunnels) if self.tunnels else None

    def route_for(self, family: int, address: int) -> VpnRoute | None:
        """The most specific live static route holding the address (None for BGP: its routes are unknown)."""
        held = [r for r in self.routes if r.live and r.cidr.contains(family, address)]
        return max(held, key=lambda r: r.cidr.prefixlen) if held else None

    @property
    def label(self) -> str:
        return f"{self.id} ({self.name})" if self.name else self.id


@dataclass(frozen=True)
class VpnGateway:
    """A virtual private gateway: a VPC's side of its VPN connections and Direct Connect."""

    id: str
    name: str | None
    state: str  # pending | available | deleting | deleted
    amazon_side_asn: int | None
    vpc_ids: tuple[str, ...]  # the VPCs it is attached to (attachment state `attached`)
    connections: tuple[str, ...]  # its VPN connections, every state

    @property
    def label(self) -> str:
        return f"{self.id} ({self.name})" if self.name else self.id


@dataclass(frozen=True)
class CustomerGateway:
    """The on-premises end of a VPN connection, as AWS knows it."""

    id: str
    name: str | None
    state: str
    ip_address: str | None
    bgp_asn: str | None


@dataclass(frozen=True)
class DirectConnectAssociation:
    """A Direct Connect gateway's association with a virtual private gateway or a transit gateway."""

    gateway_id: str  # vgw- or tgw-
    gateway_kind: str | None  # virtualPrivateGateway | transitGateway
    state: str | None  # associating | associated | disassociating | disassociated | updating
    allowed_prefixes: tuple[Cidr, ...]  # what the gateway advertises towards on-premises


@dataclass(frozen=True)
class DirectConnectGateway:
    id: str
    name: str | None
    state: str | None  # pending | available | deleting | deleted
    amazon_side_asn: int | None
    owner: str | None
    associations: tuple[DirectConnectAssociation, ...] = ()


@dataclass
class VpnNetwork:
    """Every VPN connection, virtual private gateway, customer gateway and Direct Connect gateway of the
    snapshot, and the route tables that take routes propagated from a virtual private gateway."""

    vpn_gateways: dict[str, VpnGateway] = field(default_factory=dict)
    connections: dict[str, VpnConnection] = field(default_factory=dict)
    customer_gateways: dict[str, CustomerGateway] = field(default_factory=dict)
    direct_connect_gateways: dict[str, DirectConnectGateway] = field(default_factory=dict)
    propagating: dict[str, tuple[str, ...]] = field(default_factory=dict)  # route table id -> vgw- ids

    def connections_of(self, gateway_id: str) -> list[VpnConnection]:
        """The VPN connections that end on a virtual private gateway or a transit gateway."""
        return [c for c in self.connections.values() if gateway_id in (c.vpn_gateway_id, c.transit_gateway_id)]

    def direct_connect_of(self, gateway_id: str) -> list[DirectConnectGateway]:
        """The Direct Connect gateways associated with a virtual private gateway or a transit gateway."""
        return [
            dx
            for dx in self.direct_connect_gateways.values()
            if any(a.gateway_id == gateway_id for a in dx.associations)
        ]

    def __bool__(self) -> bool:
        return bool(self.vpn_gateways or self.connections or self.customer_gateways or self.direct_connect_gateways)
