"""describe-subnets: the shapes, and the subnets compiled with the route table and network ACL they use.

A subnet with no explicit association uses its VPC's main route table and default network ACL. A subnet
that interfaces or NAT gateways name but the snapshot lacks is assumed, holding just their addresses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from reach.model.addr import Cidr
from reach.model.network import Interface, NetworkAcl, RouteTable, Vpc
from reach.model.network import Subnet as CompiledSubnet
from reach.snapshot.base import AwsModel, Compiled, Tag, name_tag, parse_cidr, parse_ip, where
from reach.snapshot.vpc import Ipv6CidrBlockAssociation

if TYPE_CHECKING:
    from reach.snapshot.loader import SnapshotResources


class AwsSubnet(AwsModel):
    subnet_id: str
    vpc_id: str
    cidr_block: str | None = None
    ipv6_cidr_block_association_set: list[Ipv6CidrBlockAssociation] = Field(default_factory=list)
    availability_zone: str | None = None
    availability_zone_id: str | None = None
    owner_id: str | None = None
    map_public_ip_on_launch: bool = False
    tags: list[Tag] = Field(default_factory=list)

    def ipv6_cidrs(self) -> list[str]:
        return [
            a.ipv6_cidr_block
            for a in self.ipv6_cidr_block_association_set
            if a.ipv6_cidr_block and a.ipv6_cidr_block_state.state == "associated"
        ]


# --- compile -----------------------------------------------------------------------------------------


def compile_subnets(
    snapshot: SnapshotResources,
    vpcs: dict[str, Vpc],
    route_tables: dict[str, RouteTable],
    nacls: dict[str, NetworkAcl],
    interfaces: dict[str, Interface],
) -> Compiled[dict[str, CompiledSubnet]]:
    explicit_rt = {
        a.subnet_id: rt.route_table_id for rt in snapshot.route_tables for a in rt.associations if a.subnet_id
    }
    explicit_acl = {a.subnet_id: acl.network_acl_id for acl in snapshot.network_acls for a in acl.associations}
    warnings: list[str] = []

    def bound(subnet_id: str, vpc_id: str) -> tuple[str | None, str | None]:
        vpc = vpcs.get(vpc_id)
        route_table = explicit_rt.get(subnet_id) or (vpc.main_route_table if vpc else None)
        nacl = explicit_acl.get(subnet_id) or (vpc.default_nacl if vpc else None)
        if route_table is None:
            warnings.append(
                f"subnet {subnet_id}: no route table in the snapshot; only the VPC's local route is assumed"
            )
        if nacl is None:
            warnings.append(f"subnet {subnet_id}: no network ACL in the snapshot; assumed to allow all traffic")
        return route_table, nacl

    subnets = {}
    for subnet in snapshot.subnets:
        at = where(snapshot.origins, subnet.subnet_id)
        route_table, nacl = bound(subnet.subnet_id, subnet.vpc_id)
        cidrs = ([parse_cidr(subnet.cidr_block, at)] if subnet.cidr_block else []) + [
            parse_cidr(c, at) for c in subnet.ipv6_cidrs()
        ]
        subnets[subnet.subnet_id] = CompiledSubnet(
            id=subnet.subnet_id,
            name=name_tag(subnet.tags),
            vpc_id=subnet.vpc_id,
            cidrs=tuple(cidrs),
            az=subnet.availability_zone,
            route_table=route_table,
            route_table_is_main=subnet.subnet_id not in explicit_rt,
            nacl=nacl,
        )
    for subnet_id, (vpc_id, hosts) in sorted(_named(snapshot, interfaces).items()):
        if subnet_id in subnets:
            continue
        warnings.append(
            f"subnet {subnet_id} is not in the snapshot: assumed in {vpc_id or 'an unknown VPC'}, its CIDR block "
            f"unknown, holding only the addresses of what the snapshot places in it ({len(hosts)})"
        )
        route_table, nacl = bound(subnet_id, vpc_id)
        subnets[subnet_id] = CompiledSubnet(
            subnet_id, None, vpc_id, tuple(sorted(hosts)), None, route_table, subnet_id not in explicit_rt, nacl
        )
    return Compiled(subnets, tuple(warnings))


def _named(snapshot: SnapshotResources, interfaces: dict[str, Interface]) -> dict[str, tuple[str, set[Cidr]]]:
    """Subnet id -> (its VPC, the addresses placed in it) as interfaces and NAT gateways name them."""
    found: dict[str, tuple[str, set[Cidr]]] = {}
    for interface in interfaces.values():
        vpc_id, hosts = found.setdefault(interface.subnet_id, (interface.vpc_id, set()))
        hosts.update(Cidr.host(*a) for a in interface.private_ips)
    for nat in snapshot.nat_gateways:
        vpc_id, hosts = found.setdefault(nat.subnet_id, (nat.vpc_id, set()))
        for address in nat.nat_gateway_addresses:
            if address.private_ip:
                hosts.add(Cidr.host(*parse_ip(address.private_ip, where(snapshot.origins, nat.nat_gateway_id))))
    return found
