from __future__ import annotations

from reach.snapshot.base import AwsModel, Tag


class IpAssociation(AwsModel):
    public_ip: str | None = None
    ip_owner_id: str | None = None
    allocation_id: str | None = None


class PrivateIp(AwsModel):
    private_ip_address: str
    primary: bool = False
    association: IpAssociation | None = None


class Ipv6Address(AwsModel):
    ipv6_address: str


class GroupIdentifier(AwsModel):
    group_id: str
    group_name: str | None = None


class InterfaceAttachment(AwsModel):
    instance_id: str | None = None
    instance_owner_id: str | None = None
    status: str | None = None
    attachment_id: str | None = None
    device_index: int | None = None


class NetworkInterface(AwsModel):
    network_interface_id: str
    subnet_id: str
    vpc_id: str
    availability_zone: str | None = None
    private_ip_address: str | None = None
    private_ip_addresses: list[PrivateIp] = []
    ipv6_addresses: list[Ipv6Address] = []
    association: IpAssociation | None = None
    groups: list[GroupIdentifier] = []
    source_dest_check: bool = True
    interface_type: str = "interface"
    status: str | None = None
    attachment: InterfaceAttachment | None = None
    requester_managed: bool = False
    description: str | None = None
    owner_id: str | None = None
    tag_set: list[Tag] = []
