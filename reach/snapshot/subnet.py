from __future__ import annotations

from reach.snapshot.base import AwsModel, Tag
from reach.snapshot.vpc import Ipv6CidrBlockAssociation


class Subnet(AwsModel):
    subnet_id: str
    vpc_id: str
    cidr_block: str | None = None
    ipv6_cidr_block_association_set: list[Ipv6CidrBlockAssociation] = []
    availability_zone: str | None = None
    availability_zone_id: str | None = None
    owner_id: str | None = None
    map_public_ip_on_launch: bool = False
    tags: list[Tag] = []

    def ipv6_cidrs(self) -> list[str]:
        return [
            a.ipv6_cidr_block
            for a in self.ipv6_cidr_block_association_set
            if a.ipv6_cidr_block and a.ipv6_cidr_block_state.state == "associated"
        ]
