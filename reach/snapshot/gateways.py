"""Internet, egress-only internet, NAT gateways, VPC peering connections and elastic addresses."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from reach.model.network import Gateway, Peering, PeeringSide
from reach.model.vocabulary import Kind
from reach.snapshot.base import AwsModel, Compiled, Tag, name_tag, parse_cidr, parse_ip, where

if TYPE_CHECKING:
    from reach.snapshot.loader import SnapshotResources


class GatewayAttachment(AwsModel):
    vpc_id: str
    state: str = "available"


class InternetGateway(AwsModel):
    internet_gateway_id: str
    attachments: list[GatewayAttachment] = Field(default_factory=list)
    owner_id: str | None = None
    tags: list[Tag] = Field(default_factory=list)


class EgressOnlyInternetGateway(AwsModel):
    egress_only_internet_gateway_id: str
    attachments: list[GatewayAttachment] = Field(default_factory=list)
    tags: list[Tag] = Field(default_factory=list)


class NatGatewayAddress(AwsModel):
    private_ip: str | None = None
    public_ip: str | None = None
    network_interface_id: str | None = None
    allocation_id: str | None = None
    is_primary: bool | None = None


class NatGateway(AwsModel):
    nat_gateway_id: str
    subnet_id: str
    vpc_id: str
    state: str = "available"
    connectivity_type: str = "public"
    nat_gateway_addresses: list[NatGatewayAddress] = Field(default_factory=list)
    tags: list[Tag] = Field(default_factory=list)


class CidrBlockItem(AwsModel):
    cidr_block: str


class Ipv6CidrBlockItem(AwsModel):
    ipv6_cidr_block: str


class PeeringVpcInfo(AwsModel):
    vpc_id: str
    owner_id: str | None = None
    region: str | None = None
    cidr_block: str | None = None
    cidr_block_set: list[CidrBlockItem] = Field(default_factory=list)
    ipv6_cidr_block_set: list[Ipv6CidrBlockItem] = Field(default_factory=list)

    def cidrs(self) -> list[str]:
        found = [c.cidr_block for c in self.cidr_block_set] + [c.ipv6_cidr_block for c in self.ipv6_cidr_block_set]
        if self.cidr_block and self.cidr_block not in found:
            found.insert(0, self.cidr_block)
        return found


class PeeringStatus(AwsModel):
    code: str


class VpcPeeringConnection(AwsModel):
    vpc_peering_connection_id: str
    status: PeeringStatus
    accepter_vpc_info: PeeringVpcInfo
    requester_vpc_info: PeeringVpcInfo
    tags: list[Tag] = Field(default_factory=list)


class Address(AwsModel):
    public_ip: str
    allocation_id: str | None = None
    association_id: str | None = None
    network_interface_id: str | None = None
    private_ip_address: str | None = None
    instance_id: str | None = None


# --- compile -----------------------------------------------------------------------------------------

_ATTACHED = ("available", "attached")


def compile_gateways(snapshot: SnapshotResources) -> Compiled[dict[str, Gateway]]:
    """Internet, egress-only internet and NAT gateways, and gateway endpoints: what a route can target."""
    gateways: dict[str, Gateway] = {}
    for igw in snapshot.internet_gateways:
        vpc_ids = tuple(a.vpc_id for a in igw.attachments if a.state in _ATTACHED)
        gateways[igw.internet_gateway_id] = Gateway(
            igw.internet_gateway_id, Kind.INTERNET_GATEWAY, name_tag(igw.tags), vpc_ids, "available"
        )
    for eigw in snapshot.egress_only_internet_gateways:
        vpc_ids = tuple(a.vpc_id for a in eigw.attachments if a.state in _ATTACHED)
        gateways[eigw.egress_only_internet_gateway_id] = Gateway(
            eigw.egress_only_internet_gateway_id,
            Kind.EGRESS_ONLY_INTERNET_GATEWAY,
            name_tag(eigw.tags),
            vpc_ids,
            "available",
        )
    for nat in snapshot.nat_gateways:
        at = where(snapshot.origins, nat.nat_gateway_id)
        primary = next((a for a in nat.nat_gateway_addresses if a.is_primary), None) or (
            nat.nat_gateway_addresses[0] if nat.nat_gateway_addresses else None
        )
        gateways[nat.nat_gateway_id] = Gateway(
            nat.nat_gateway_id,
            Kind.NAT_GATEWAY,
            name_tag(nat.tags),
            (nat.vpc_id,),
            nat.state,
            subnet_id=nat.subnet_id,
            interface_id=primary.network_interface_id if primary else None,
            private_ip=parse_ip(primary.private_ip, at)[1] if primary and primary.private_ip else None,
            public_ip=parse_ip(primary.public_ip, at)[1] if primary and primary.public_ip else None,
        )
    for endpoint in snapshot.vpc_endpoints:
        if endpoint.vpc_endpoint_type.lower() == "gateway":
            gateways[endpoint.vpc_endpoint_id] = Gateway(
                endpoint.vpc_endpoint_id,
                Kind.VPC_ENDPOINT,
                name_tag(endpoint.tags),
                (endpoint.vpc_id,),
                (endpoint.state or "available").lower(),
                service=endpoint.service_name,
            )
    return Compiled(gateways)


def compile_peerings(snapshot: SnapshotResources) -> Compiled[dict[str, Peering]]:
    peerings = {}
    for pcx in snapshot.vpc_peering_connections:
        at = where(snapshot.origins, pcx.vpc_peering_connection_id)
        peerings[pcx.vpc_peering_connection_id] = Peering(
            pcx.vpc_peering_connection_id,
            name_tag(pcx.tags),
            pcx.status.code,
            _peering_side(pcx.requester_vpc_info, at),
            _peering_side(pcx.accepter_vpc_info, at),
        )
    return Compiled(peerings)


def _peering_side(info: PeeringVpcInfo, at: str) -> PeeringSide:
    return PeeringSide(info.vpc_id, info.owner_id, info.region, tuple(parse_cidr(c, at) for c in info.cidrs()))
