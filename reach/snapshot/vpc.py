from __future__ import annotations

from pydantic import Field

from reach.snapshot.base import AwsModel, Tag


class CidrState(AwsModel):
    state: str = "associated"


class CidrBlockAssociation(AwsModel):
    cidr_block: str
    cidr_block_state: CidrState = CidrState()


class Ipv6CidrBlockAssociation(AwsModel):
    ipv6_cidr_block: str | None = None
    ipv6_cidr_block_state: CidrState = CidrState()


class Vpc(AwsModel):
    vpc_id: str
    owner_id: str | None = None
    cidr_block: str | None = None
    cidr_block_association_set: list[CidrBlockAssociation] = []
    ipv6_cidr_block_association_set: list[Ipv6CidrBlockAssociation] = []
    is_default: bool = False
    tags: list[Tag] = Field(default=[])

    def ipv4_cidrs(self) -> list[str]:
        live = [a.cidr_block for a in self.cidr_block_association_set if a.cidr_block_state.state == "associated"]
        if self.cidr_block and self.cidr_block not in live:
            live.insert(0, self.cidr_block)
        return live

    def ipv6_cidrs(self) -> list[str]:
        return [
            a.ipv6_cidr_block
            for a in self.ipv6_cidr_block_association_set
            if a.ipv6_cidr_block and a.ipv6_cidr_block_state.state == "associated"
        ]
