from __future__ import annotations

from reach.snapshot.base import AwsModel, Tag


class IcmpTypeCode(AwsModel):
    type: int | None = None
    code: int | None = None


class NetworkAclEntry(AwsModel):
    rule_number: int
    protocol: str
    rule_action: str
    egress: bool
    cidr_block: str | None = None
    ipv6_cidr_block: str | None = None
    port_range: dict[str, int] | None = None
    icmp_type_code: IcmpTypeCode | None = None

    def ports(self) -> tuple[int, int] | None:
        if self.port_range is None:
            return None
        return self.port_range.get("From", 0), self.port_range.get("To", 65535)


class NetworkAclAssociation(AwsModel):
    subnet_id: str
    network_acl_association_id: str | None = None
    network_acl_id: str | None = None


class NetworkAcl(AwsModel):
    network_acl_id: str
    vpc_id: str
    is_default: bool = False
    associations: list[NetworkAclAssociation] = []
    entries: list[NetworkAclEntry] = []
    owner_id: str | None = None
    tags: list[Tag] = []
