from __future__ import annotations

from reach.snapshot.base import AwsModel, Tag


class IpRange(AwsModel):
    cidr_ip: str
    description: str | None = None


class Ipv6Range(AwsModel):
    cidr_ipv6: str
    description: str | None = None


class PrefixListRef(AwsModel):
    prefix_list_id: str
    description: str | None = None


class UserIdGroupPair(AwsModel):
    group_id: str | None = None
    group_name: str | None = None
    user_id: str | None = None
    vpc_id: str | None = None
    vpc_peering_connection_id: str | None = None
    peering_status: str | None = None
    description: str | None = None


class IpPermission(AwsModel):
    ip_protocol: str
    from_port: int | None = None
    to_port: int | None = None
    ip_ranges: list[IpRange] = []
    ipv6_ranges: list[Ipv6Range] = []
    prefix_list_ids: list[PrefixListRef] = []
    user_id_group_pairs: list[UserIdGroupPair] = []


class SecurityGroup(AwsModel):
    group_id: str
    group_name: str | None = None
    description: str | None = None
    vpc_id: str | None = None
    owner_id: str | None = None
    ip_permissions: list[IpPermission] = []
    ip_permissions_egress: list[IpPermission] = []
    tags: list[Tag] = []


class ReferencedGroupInfo(AwsModel):
    group_id: str | None = None
    user_id: str | None = None
    vpc_id: str | None = None
    vpc_peering_connection_id: str | None = None
    peering_status: str | None = None


class SecurityGroupRule(AwsModel):
    """One line of describe-security-group-rules: gives each permission line its sgr- id."""

    security_group_rule_id: str
    group_id: str
    is_egress: bool
    ip_protocol: str
    from_port: int | None = None
    to_port: int | None = None
    cidr_ipv4: str | None = None
    cidr_ipv6: str | None = None
    prefix_list_id: str | None = None
    referenced_group_info: ReferencedGroupInfo | None = None
    description: str | None = None
