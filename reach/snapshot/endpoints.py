"""describe-vpc-endpoints: the shapes, and interface endpoints' groups bound to their interfaces (gateway
endpoints are compiled with the other gateways, `reach.snapshot.gateways`)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from pydantic import Field

from reach.model.network import Interface
from reach.snapshot.base import AwsModel, Compiled, Tag
from reach.snapshot.network_interface import GroupIdentifier

if TYPE_CHECKING:
    from reach.snapshot.loader import SnapshotResources


class VpcEndpoint(AwsModel):
    vpc_endpoint_id: str
    vpc_endpoint_type: str = "Gateway"
    vpc_id: str
    service_name: str | None = None
    state: str | None = None
    route_table_ids: list[str] = Field(default_factory=list)
    subnet_ids: list[str] = Field(default_factory=list)
    groups: list[GroupIdentifier] = Field(default_factory=list)
    network_interface_ids: list[str] = Field(default_factory=list)
    tags: list[Tag] = Field(default_factory=list)


# --- compile -----------------------------------------------------------------------------------------


def bind_interface_endpoints(
    snapshot: SnapshotResources, interfaces: dict[str, Interface]
) -> Compiled[dict[str, Interface]]:
    """Interface endpoints are requester-managed interfaces filtered by the endpoint's security groups; where
    describe-network-interfaces shows none, take them from describe-vpc-endpoints."""
    bound = dict(interfaces)
    for endpoint in snapshot.vpc_endpoints:
        if endpoint.vpc_endpoint_type.lower() != "interface" or not endpoint.groups:
            continue
        for eni in endpoint.network_interface_ids:
            interface = bound.get(eni)
            if interface is not None and not interface.groups:
                bound[eni] = replace(interface, groups=tuple(g.group_id for g in endpoint.groups))
    return Compiled(bound)
