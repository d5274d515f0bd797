"""Site-to-Site VPN and Direct Connect: the shapes, and their compilation into `reach.model.vpn`.

Recognised top-level keys: `VpnConnections`, `VpnGateways`, `CustomerGateways` (aws ec2 describe-*), and
`directConnectGateways`, `directConnectGatewayAssociations` (aws directconnect describe-*, whose keys are
camelCase). Route tables' `PropagatingVgws` come with describe-route-tables.

A VPN connection's `CustomerGatewayConfiguration` holds the tunnels' pre-shared keys: it is never read into
the model (and `reach collect` never writes it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

from reach.model import vpn as model
from reach.model.vpn import VpnNetwork
from reach.snapshot.base import AwsModel, Compiled, Tag, name_tag, parse_cidr, where

if TYPE_CHECKING:
    from reach.snapshot.loader import SnapshotResources


class VpnStaticRoute(AwsModel):
    destination_cidr_block: str
    source: str | None = None
    state: str = "available"


class VgwTelemetry(AwsModel):
    outside_ip_address: str | None = None
    status: str = "DOWN"
    status_message: str | None = None
    accepted_route_count: int | None = None


class VpnConnectionOptions(AwsModel):
    static_routes_only: bool = False


class AwsVpnConnection(AwsModel):
    vpn_connection_id: str
    state: str = "available"
    type: str | None = None
    customer_gateway_id: str | None = None
    vpn_gateway_id: str | None = None
    transit_gateway_id: str | None = None
    options: VpnConnectionOptions | None = None
    routes: list[VpnStaticRoute] = Field(default_factory=list)
    vgw_telemetry: list[VgwTelemetry] = Field(default_factory=list)
    tags: list[Tag] = Field(default_factory=list)


class VpcAttachment(AwsModel):
    vpc_id: str
    state: str = "attached"


class AwsVpnGateway(AwsModel):
    vpn_gateway_id: str
    state: str = "available"
    type: str | None = None
    amazon_side_asn: int | None = None
    vpc_attachments: list[VpcAttachment] = Field(default_factory=list)
    tags: list[Tag] = Field(default_factory=list)


class AwsCustomerGateway(AwsModel):
    customer_gateway_id: str
    state: str = "available"
    type: str | None = None
    ip_address: str | None = None
    bgp_asn: str | None = None
    device_name: str | None = None
    tags: list[Tag] = Field(default_factory=list)

    @field_validator("bgp_asn", mode="before")
    @classmethod
    def _asn_as_text(cls, value: object) -> object:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value  # AWS prints "65000"


class DirectConnectModel(BaseModel):
    """aws directconnect describe-*: camelCase keys."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True, extra="ignore")


class AwsDirectConnectGateway(DirectConnectModel):
    direct_connect_gateway_id: str
    direct_connect_gateway_name: str | None = None
    amazon_side_asn: int | None = None
    owner_account: str | None = None
    direct_connect_gateway_state: str | None = None


class AssociatedGateway(DirectConnectModel):
    id: str
    type: str | None = None
    owner_account: str | None = None
    region: str | None = None


class RouteFilterPrefix(DirectConnectModel):
    cidr: str


class DirectConnectGatewayAssociation(DirectConnectModel):
    direct_connect_gateway_id: str
    association_id: str | None = None
    association_state: str | None = None
    associated_gateway: AssociatedGateway | None = None
    virtual_gateway_id: str | None = None  # the older field, before transit gateways could associate
    allowed_prefixes_to_direct_connect_gateway: list[RouteFilterPrefix] = Field(default_factory=list)


# --- compile -----------------------------------------------------------------------------------------


def compile_vpn(snapshot: SnapshotResources) -> Compiled[VpnNetwork]:
    """VPN connections (static routes, or BGP with routes unknown; tunnel state from `VgwTelemetry`), virtual
    private gateways with their VPC attachments, customer gateways, Direct Connect gateways and their
    associations, and the route tables that take routes propagated from a virtual private gateway."""
    connections: list[AwsVpnConnection] = snapshot.of("VpnConnections")
    vgws: list[AwsVpnGateway] = snapshot.of("VpnGateways")
    cgws: list[AwsCustomerGateway] = snapshot.of("CustomerGateways")
    dx_rows: list[AwsDirectConnectGateway] = snapshot.of("directConnectGateways")
    dx_links: list[DirectConnectGatewayAssociation] = snapshot.of("directConnectGatewayAssociations")
    warnings: list[str] = []

    compiled_connections = {}
    for row in connections:
        at = where(snapshot.origins, row.vpn_connection_id)
        static_only = bool(row.options and row.options.static_routes_only)
        compiled_connections[row.vpn_connection_id] = model.VpnConnection(
            id=row.vpn_connection_id,
            name=name_tag(row.tags),
            state=row.state.lower(),
            customer_gateway_id=row.customer_gateway_id,
            vpn_gateway_id=row.vpn_gateway_id,
            transit_gateway_id=row.transit_gateway_id,
            static_routes_only=static_only,
            routes=tuple(
                model.VpnRoute(r.destination_cidr_block, parse_cidr(r.destination_cidr_block, at), r.state.lower())
                for r in row.routes
            ),
            tunnels=tuple(
                model.VpnTunnel(t.outside_ip_address, t.status.upper(), t.accepted_route_count, t.status_message)
                for t in row.vgw_telemetry
            ),
        )
        if not static_only and row.state.lower() == model.LIVE:
            warnings.append(
                f"VPN connection {row.vpn_connection_id} uses BGP: the routes it learns from "
                f"{row.customer_gateway_id or 'its customer gateway'} are not in the snapshot"
            )

    gateways = {
        vgw.vpn_gateway_id: model.VpnGateway(
            id=vgw.vpn_gateway_id,
            name=name_tag(vgw.tags),
            state=vgw.state.lower(),
            amazon_side_asn=vgw.amazon_side_asn,
            vpc_ids=tuple(a.vpc_id for a in vgw.vpc_attachments if a.state.lower() == "attached"),
            connections=tuple(
                sorted(c.vpn_connection_id for c in connections if c.vpn_gateway_id == vgw.vpn_gateway_id)
            ),
        )
        for vgw in vgws
    }
    customers = {
        cgw.customer_gateway_id: model.CustomerGateway(
            cgw.customer_gateway_id, name_tag(cgw.tags), cgw.state.lower(), cgw.ip_address, cgw.bgp_asn
        )
        for cgw in cgws
    }

    propagating = {}
    for table in snapshot.route_tables:
        if table.propagating_vgws:
            propagating[table.route_table_id] = tuple(p.gateway_id for p in table.propagating_vgws)
            missing = [p.gateway_id for p in table.propagating_vgws if p.gateway_id not in gateways]
            if missing and "VpnGateways" in snapshot.present:
                warnings.append(
                    f"{where(snapshot.origins, table.route_table_id)}: propagates routes from "
                    f"{', '.join(missing)}, which the snapshot does not contain"
                )

    links: dict[str, list[model.DirectConnectAssociation]] = {}
    for link in dx_links:
        gateway_id = (link.associated_gateway.id if link.associated_gateway else None) or link.virtual_gateway_id
        if gateway_id is None:
            continue
        at = where(snapshot.origins, link.direct_connect_gateway_id)
        links.setdefault(link.direct_connect_gateway_id, []).append(
            model.DirectConnectAssociation(
                gateway_id=gateway_id,
                gateway_kind=link.associated_gateway.type if link.associated_gateway else "virtualPrivateGateway",
                state=link.association_state,
                allowed_prefixes=tuple(parse_cidr(p.cidr, at) for p in link.allowed_prefixes_to_direct_connect_gateway),
            )
        )
    direct_connect = {
        dx.direct_connect_gateway_id: model.DirectConnectGateway(
            id=dx.direct_connect_gateway_id,
            name=dx.direct_connect_gateway_name,
            state=dx.direct_connect_gateway_state,
            amazon_side_asn=dx.amazon_side_asn,
            owner=dx.owner_account,
            associations=tuple(links.get(dx.direct_connect_gateway_id, ())),
        )
        for dx in dx_rows
    }
    for dx_id in sorted(set(links) - set(direct_connect)):
        warnings.append(
            f"Direct Connect gateway {dx_id} has associations in the snapshot but is not in it "
            "(describe-direct-connect-gateways): assumed, its state unknown"
        )
        direct_connect[dx_id] = model.DirectConnectGateway(dx_id, None, None, None, None, tuple(links[dx_id]))
    network = VpnNetwork(gateways, compiled_connections, customers, direct_connect, propagating)
    return Compiled(network, tuple(warnings))
