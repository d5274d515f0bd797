"""Transit gateways, compiled: attachments with their association and per-AZ subnets, and route tables
with static, propagated and blackhole routes, ready for longest-prefix lookup.

AWS's order for routes to the same destination (`tgw-route-tables.md`): static, then prefix-list
referenced, then propagated from a VPC, Direct Connect gateway, Connect, VPN. A static route hides an
identical propagated one until it is removed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reach.model.addr import Cidr
from reach.model.prefixes import PrefixMap

# Lower wins among routes to the same prefix.
ROUTE_PRIORITY = {
    "static": 0,
    "prefix-list": 1,
    "vpc": 2,
    "direct-connect-gateway": 3,
    "connect": 4,
    "vpn": 5,
    "peering": 6,
}

# Attachments whose far side is outside the snapshot: the path leaves the modelled network there.
EXIT_KINDS = frozenset({"vpn", "direct-connect-gateway", "connect", "tgw-peering-unknown"})


@dataclass(frozen=True)
class TgwAttachment:
    """One attachment as one transit gateway sees it (a peering attachment exists once per side)."""

    id: str
    tgw_id: str
    kind: str  # vpc | peering | vpn | direct-connect-gateway | connect | …
    resource_id: str | None  # vpc-, the peer tgw-, vpn-, a DX gateway id
    state: str
    name: str | None = None
    owner: str | None = None
    route_table: str | None = None  # the TGW route table it is associated with (routes traffic *from* it)
    subnets: tuple[tuple[str, str], ...] = ()  # VPC attachment: (AZ, subnet id), one per enabled AZ
    appliance_mode: bool = False
    sg_referencing: bool = False

    def subnet_in(self, az: str | None) -> str | None:
        for zone, subnet in self.subnets:
            if zone == az:
                return subnet
        return None

    @property
    def label(self) -> str:
        return f"{self.id} ({self.name})" if self.name else self.id


@dataclass(frozen=True)
class TgwRoute:
    destination: str  # as written: CIDR or pl- id
    cidr: Cidr
    attachments: tuple[str, ...]  # empty for a blackhole route
    kind: str  # static | propagated
    state: str  # active | blackhole
    priority: int
    origin: str  # what installed it, for the explanation ("static", "propagated by tgw-attach-… (vpc-…)")

    @property
    def blackhole(self) -> bool:
        return self.state == "blackhole" or not self.attachments


@dataclass
class TgwRouteTable:
    id: str
    tgw_id: str
    name: str | None
    routes: list[TgwRoute]
    known: bool = True  # False: the table is referenced but the snapshot holds neither it nor its routes
    learned: tuple[str, ...] = ()  # VPN / Direct Connect attachments propagating BGP routes the snapshot lacks
    _lpm: PrefixMap[TgwRoute] = field(default_factory=PrefixMap, repr=False)

    def __post_init__(self) -> None:
        for route in self.routes:
            if route.state in ("active", "blackhole"):
                self._lpm.add(route.cidr, route)

    def lookup(self, family: int, address: int) -> TgwRoute | None:
        candidates = self._lpm.longest(family, address)
        return min(candidates, key=lambda r: r.priority) if candidates else None

    def routes_to(self, attachment_id: str) -> list[TgwRoute]:
        return [r for r in self.routes if attachment_id in r.attachments]

    @property
    def label(self) -> str:
        return f"{self.id} ({self.name})" if self.name else self.id


@dataclass(frozen=True)
class TransitGateway:
    id: str
    name: str | None
    owner: str | None
    region: str | None
    state: str
    attachments: tuple[str, ...]  # attachment ids on this gateway
    route_tables: tuple[str, ...]
    sg_referencing: bool = False  # SecurityGroupReferencingSupport (needed on the gateway and the attachment)

    @property
    def label(self) -> str:
        return f"{self.id} ({self.name})" if self.name else self.id


@dataclass
class TransitNetwork:
    """Every transit gateway of the snapshot, its attachments and route tables, indexed."""

    gateways: dict[str, TransitGateway] = field(default_factory=dict)
    attachments: dict[tuple[str, str], TgwAttachment] = field(default_factory=dict)  # (tgw, attachment)
    route_tables: dict[str, TgwRouteTable] = field(default_factory=dict)
    _by_vpc: dict[tuple[str, str], TgwAttachment] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for attachment in self.attachments.values():
            if attachment.kind == "vpc" and attachment.resource_id:
                key = (attachment.tgw_id, attachment.resource_id)
                if key not in self._by_vpc or attachment.state == "available":
                    self._by_vpc[key] = attachment

    def attachment(self, tgw_id: str, attachment_id: str) -> TgwAttachment | None:
        return self.attachments.get((tgw_id, attachment_id))

    def vpc_attachment(self, tgw_id: str, vpc_id: str) -> TgwAttachment | None:
        return self._by_vpc.get((tgw_id, vpc_id))

    def attachments_of_vpc(self, vpc_id: str) -> list[TgwAttachment]:
        return [a for (_, vpc), a in self._by_vpc.items() if vpc == vpc_id]

    def __bool__(self) -> bool:
        return bool(self.gateways or self.attachments)
