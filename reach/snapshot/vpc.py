"""describe-vpcs: the shapes, and the VPCs compiled with their main route table and default network ACL."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from reach.model.addr import Cidr
from reach.model.network import Interface
from reach.model.network import Vpc as CompiledVpc
from reach.snapshot.base import AwsModel, Compiled, Tag, name_tag, parse_cidr, where

if TYPE_CHECKING:
    from reach.snapshot.loader import SnapshotResources


class CidrState(AwsModel):
    state: str = "associated"


class CidrBlockAssociation(AwsModel):
    cidr_block: str
    cidr_block_state: CidrState = CidrState()


class Ipv6CidrBlockAssociation(AwsModel):
    ipv6_cidr_block: str | None = None
    ipv6_cidr_block_state: CidrState = CidrState()


class AwsVpc(AwsModel):
    vpc_id: str
    owner_id: str | None = None
    cidr_block: str | None = None
    cidr_block_association_set: list[CidrBlockAssociation] = Field(default_factory=list)
    ipv6_cidr_block_association_set: list[Ipv6CidrBlockAssociation] = Field(default_factory=list)
    is_default: bool = False
    tags: list[Tag] = Field(default_factory=list)

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


# --- compile -----------------------------------------------------------------------------------------


def compile_vpcs(snapshot: SnapshotResources, interfaces: dict[str, Interface]) -> Compiled[dict[str, CompiledVpc]]:
    """Every VPC, with its main route table and default network ACL. A VPC that subnets, interfaces, route
    tables or network ACLs name but the snapshot lacks is assumed, with the CIDR blocks its local routes
    show (else its subnets', else its interfaces' addresses), and a warning that says so."""
    main_tables = {rt.vpc_id: rt.route_table_id for rt in snapshot.route_tables if any(a.main for a in rt.associations)}
    default_nacls = {acl.vpc_id: acl.network_acl_id for acl in snapshot.network_acls if acl.is_default}
    vpcs = {}
    for vpc in snapshot.vpcs:
        at = where(snapshot.origins, vpc.vpc_id)
        origin = snapshot.origins.get(vpc.vpc_id)
        vpcs[vpc.vpc_id] = CompiledVpc(
            id=vpc.vpc_id,
            name=name_tag(vpc.tags),
            cidrs=tuple(parse_cidr(c, at) for c in vpc.ipv4_cidrs() + vpc.ipv6_cidrs()),
            owner=vpc.owner_id or (origin.account if origin else None),
            region=origin.region if origin else None,
            main_route_table=main_tables.get(vpc.vpc_id),
            default_nacl=default_nacls.get(vpc.vpc_id),
        )
    warnings = []
    for vpc_id, named_by in sorted(_referenced(snapshot, interfaces).items()):
        if vpc_id in vpcs:
            continue
        cidrs, source = _assumed_cidrs(snapshot, interfaces, vpc_id)
        warnings.append(
            f"VPC {vpc_id} is not in the snapshot (named by {', '.join(named_by[:3])}"
            f"{' …' if len(named_by) > 3 else ''}): assumed, its CIDR blocks taken from {source} "
            f"({', '.join(map(str, cidrs)) or 'none'})"
        )
        vpcs[vpc_id] = CompiledVpc(vpc_id, None, cidrs, None, None, main_tables.get(vpc_id), default_nacls.get(vpc_id))
    return Compiled(vpcs, tuple(warnings))


def _referenced(snapshot: SnapshotResources, interfaces: dict[str, Interface]) -> dict[str, list[str]]:
    """VPC id -> the resources that name it."""
    found: dict[str, list[str]] = {}
    for rid, vpc_id in (
        [(s.subnet_id, s.vpc_id) for s in snapshot.subnets]
        + [(i.id, i.vpc_id) for i in interfaces.values()]
        + [(t.route_table_id, t.vpc_id) for t in snapshot.route_tables]
        + [(a.network_acl_id, a.vpc_id) for a in snapshot.network_acls]
    ):
        if vpc_id:
            found.setdefault(vpc_id, []).append(rid)
    return found


def _assumed_cidrs(
    snapshot: SnapshotResources, interfaces: dict[str, Interface], vpc_id: str
) -> tuple[tuple[Cidr, ...], str]:
    """The CIDR blocks of a VPC the snapshot lacks, from the best evidence it holds, and what that was."""
    local = {
        route.destination(): table.route_table_id
        for table in snapshot.route_tables
        if table.vpc_id == vpc_id
        for route in table.routes
        if route.gateway_id == "local" and route.destination()
    }
    if local:
        return tuple(parse_cidr(c, where(snapshot.origins, t)) for c, t in local.items() if c), "its local routes"
    subnets = [
        (c, s.subnet_id)
        for s in snapshot.subnets
        if s.vpc_id == vpc_id
        for c in ([s.cidr_block] if s.cidr_block else []) + s.ipv6_cidrs()
    ]
    if subnets:
        return tuple(parse_cidr(c, where(snapshot.origins, s)) for c, s in subnets), "its subnets"
    hosts = sorted({Cidr.host(*a) for i in interfaces.values() if i.vpc_id == vpc_id for a in i.private_ips})
    return tuple(hosts), "its interfaces' addresses (a lower bound)"
