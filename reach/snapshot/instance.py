from __future__ import annotations

from reach.snapshot.base import AwsModel, Tag


class InstanceState(AwsModel):
    name: str = "running"


class InstanceInterface(AwsModel):
    network_interface_id: str


class Instance(AwsModel):
    instance_id: str
    state: InstanceState = InstanceState()
    subnet_id: str | None = None
    vpc_id: str | None = None
    private_ip_address: str | None = None
    public_ip_address: str | None = None
    network_interfaces: list[InstanceInterface] = []
    source_dest_check: bool | None = None
    tags: list[Tag] = []


class Reservation(AwsModel):
    instances: list[Instance] = []
    owner_id: str | None = None
