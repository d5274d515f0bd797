"""Internet, egress-only internet, NAT gateways, VPC peering connections and elastic addresses."""

from __future__ import annotations

from reach.snapshot.base import AwsModel, Tag


class GatewayAttachment(AwsModel):
    vpc_id: str
    state: str = "available"


class InternetGateway(AwsModel):
    internet_gateway_id: str
    attachments: list[GatewayAttachment] = []
    owner_id: str | None = None
    tags: list[Tag] = []


class EgressOnlyInternetGateway(AwsModel):
    egress_only_internet_gateway_id: str
    attachments: list[GatewayAttachment] = []
    tags: list[Tag] = []


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
    nat_gateway_addresses: list[NatGatewayAddress] = []
    tags: list[Tag] = []


class CidrBlockItem(AwsModel):
    cidr_block: str


class Ipv6CidrBlockItem(AwsModel):
    ipv6_cidr_block: str


class PeeringVpcInfo(AwsModel):
    vpc_id: str
    owner_id: str | None = None
    region: str | None = None
    cidr_block: str | None = None
    cidr_block_set: list[CidrBlockItem] = []
    ipv6_cidr_block_set: list[Ipv6CidrBlockItem] = []

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
    tags: list[Tag] = []


class Address(AwsModel):
    public_ip: str
    allocation_id: str | None = None
    association_id: str | None = None
    network_interface_id: str | None = None
    private_ip_address: str | None = None
    instance_id: str | None = None
