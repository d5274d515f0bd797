"""Transit gateways: the gateways, their attachments, route tables, routes, associations and propagations.

Shapes, each recognised by its top-level key (CONTRACT §1):

- `TransitGateways`, `TransitGatewayAttachments`, `TransitGatewayVpcAttachments`,
  `TransitGatewayPeeringAttachments`, `TransitGatewayRouteTables`: the describe-* calls as AWS prints them.
- `{"TransitGatewayRouteTableId", "Routes"}` (search-transit-gateway-routes), and the same with
  `"Associations"` (get-transit-gateway-route-table-associations) or `"Propagations"` /
  `"TransitGatewayRouteTablePropagations"` (get-transit-gateway-route-table-propagations): the loader files
  them as `TransitGatewayRouteTableRoutes`, `…Associations`, `…Propagations`.
- Batfish's layout: `TransitGatewayStaticRoutes` (a list of the routes shape) and
  `TransitGatewayPropagations` (a list of `{TransitGatewayRouteTableId, TransitGatewayRouteTablePropagations}`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING

from pydantic import AliasChoices, Field

from reach.errors import SnapshotError
from reach.model import transit as model
from reach.model.addr import Cidr
from reach.model.network import Subnet, Vpc
from reach.model.transit import ROUTE_PRIORITY, TgwAttachment, TgwRoute, TgwRouteTable, TransitNetwork
from reach.snapshot.base import AwsModel, Compiled, Origin, Tag, name_tag, parse_cidr

if TYPE_CHECKING:
    from reach.snapshot.loader import SnapshotResources


class TransitGatewayOptions(AwsModel):
    amazon_side_asn: int | None = None
    association_default_route_table_id: str | None = None
    propagation_default_route_table_id: str | None = None
    default_route_table_association: str | None = None
    default_route_table_propagation: str | None = None
    security_group_referencing_support: str | None = None


class AwsTransitGateway(AwsModel):
    transit_gateway_id: str
    state: str | None = None
    owner_id: str | None = None
    options: TransitGatewayOptions | None = None
    tags: list[Tag] = Field(default_factory=list)


class AttachmentAssociation(AwsModel):
    transit_gateway_route_table_id: str
    state: str | None = None


class TransitGatewayAttachment(AwsModel):
    """describe-transit-gateway-attachments: one row per (attachment, transit gateway): a peering
    attachment is listed by each of the two gateways it joins, with that gateway's association."""

    transit_gateway_attachment_id: str
    transit_gateway_id: str | None = None
    transit_gateway_owner_id: str | None = None
    resource_type: str | None = None
    resource_id: str | None = None
    resource_owner_id: str | None = None
    state: str | None = None
    association: AttachmentAssociation | None = None
    tags: list[Tag] = Field(default_factory=list)


class VpcAttachmentOptions(AwsModel):
    dns_support: str | None = None
    ipv6_support: str | None = None
    appliance_mode_support: str | None = None
    security_group_referencing_support: str | None = None


class TransitGatewayVpcAttachment(AwsModel):
    transit_gateway_attachment_id: str
    transit_gateway_id: str | None = None
    vpc_id: str | None = None
    vpc_owner_id: str | None = None
    subnet_ids: list[str] = Field(default_factory=list)
    state: str | None = None
    options: VpcAttachmentOptions | None = None
    tags: list[Tag] = Field(default_factory=list)


class PeeringTgwInfo(AwsModel):
    transit_gateway_id: str
    owner_id: str | None = None
    region: str | None = None


class TransitGatewayPeeringAttachment(AwsModel):
    transit_gateway_attachment_id: str
    requester_tgw_info: PeeringTgwInfo
    accepter_tgw_info: PeeringTgwInfo
    state: str | None = None
    tags: list[Tag] = Field(default_factory=list)


class TransitGatewayRouteTable(AwsModel):
    transit_gateway_route_table_id: str
    transit_gateway_id: str | None = None
    state: str | None = None
    default_association_route_table: bool = False
    default_propagation_route_table: bool = False
    tags: list[Tag] = Field(default_factory=list)


class RouteAttachment(AwsModel):
    transit_gateway_attachment_id: str | None = None
    resource_id: str | None = None
    resource_type: str | None = None


class TransitGatewayRoute(AwsModel):
    destination_cidr_block: str | None = None
    prefix_list_id: str | None = None
    transit_gateway_attachments: list[RouteAttachment] = Field(default_factory=list)
    type: str = "static"  # static | propagated
    state: str = "active"  # active | blackhole | deleting | deleted | pending


class TransitGatewayRouteTableRoutes(AwsModel):
    """search-transit-gateway-routes for one table (CONTRACT §1), or one item of Batfish's
    TransitGatewayStaticRoutes."""

    transit_gateway_route_table_id: str
    routes: list[TransitGatewayRoute] = Field(default_factory=list)


class RouteTableLink(AwsModel):
    """One association or propagation of a TGW route table."""

    transit_gateway_attachment_id: str
    resource_id: str | None = None
    resource_type: str | None = None
    state: str | None = None


class TransitGatewayRouteTableAssociations(AwsModel):
    transit_gateway_route_table_id: str
    associations: list[RouteTableLink] = Field(default_factory=list)


class TransitGatewayRouteTablePropagations(AwsModel):
    """CONTRACT §1's `{"TransitGatewayRouteTableId", "Propagations"}`, or Batfish's item with the list under
    `TransitGatewayRouteTablePropagations` (the key get-transit-gateway-route-table-propagations prints)."""

    transit_gateway_route_table_id: str
    propagations: list[RouteTableLink] = Field(
        default_factory=list, validation_alias=AliasChoices("Propagations", "TransitGatewayRouteTablePropagations")
    )


# --- compile -----------------------------------------------------------------------------------------


def compile_transit_gateways(
    snapshot: SnapshotResources,
    vpcs: dict[str, Vpc],
    subnets: dict[str, Subnet],
    prefix_lists: dict[str, list[Cidr]],
) -> Compiled[TransitNetwork]:
    """Transit gateways, their attachments (as each gateway sees them) and route tables with every route:
    the listed ones (search-transit-gateway-routes, Batfish's static routes) plus the ones propagations
    install from the VPCs the snapshot holds."""
    rows: list[TransitGatewayAttachment] = snapshot.of("TransitGatewayAttachments")
    vpc_rows: list[TransitGatewayVpcAttachment] = snapshot.of("TransitGatewayVpcAttachments")
    peering_rows: list[TransitGatewayPeeringAttachment] = snapshot.of("TransitGatewayPeeringAttachments")
    table_rows: list[TransitGatewayRouteTable] = snapshot.of("TransitGatewayRouteTables")
    searched: list[TransitGatewayRouteTableRoutes] = snapshot.of("TransitGatewayRouteTableRoutes")
    static_only: list[TransitGatewayRouteTableRoutes] = snapshot.of("TransitGatewayStaticRoutes")
    associations: list[TransitGatewayRouteTableAssociations] = snapshot.of("TransitGatewayRouteTableAssociations")
    propagations: list[TransitGatewayRouteTablePropagations] = snapshot.of(
        "TransitGatewayRouteTablePropagations"
    ) + snapshot.of("TransitGatewayPropagations")
    if not (snapshot.transit_gateways or rows or vpc_rows or peering_rows or table_rows):
        return Compiled(TransitNetwork())
    warnings: list[str] = []

    table_tgw = {t.transit_gateway_route_table_id: t.transit_gateway_id for t in table_rows}
    associated: dict[str, str] = {}  # attachment -> table, from get-transit-gateway-route-table-associations
    for listing in associations:
        for link in listing.associations:
            if (link.state or "associated") == "associated":
                associated[link.transit_gateway_attachment_id] = listing.transit_gateway_route_table_id

    attachments: dict[tuple[str, str], TgwAttachment] = {}
    for row in rows:
        tgw_id = row.transit_gateway_id or table_tgw.get(
            row.association.transit_gateway_route_table_id if row.association else ""
        )
        if tgw_id is None:
            warnings.append(
                f"transit gateway attachment {row.transit_gateway_attachment_id} names no transit gateway: ignored"
            )
            continue
        table = (
            row.association.transit_gateway_route_table_id
            if row.association and row.association.state in (None, "associated")
            else associated.get(row.transit_gateway_attachment_id)
        )
        attachments[(tgw_id, row.transit_gateway_attachment_id)] = TgwAttachment(
            id=row.transit_gateway_attachment_id,
            tgw_id=tgw_id,
            kind=(row.resource_type or "unknown").lower(),
            resource_id=row.resource_id,
            state=(row.state or "available").lower(),
            name=name_tag(row.tags),
            owner=row.resource_owner_id,
            route_table=table,
        )
    for vpc_row in vpc_rows:
        tgw_id = vpc_row.transit_gateway_id
        if tgw_id is None:
            continue
        key = (tgw_id, vpc_row.transit_gateway_attachment_id)
        base = attachments.get(key) or TgwAttachment(
            id=vpc_row.transit_gateway_attachment_id,
            tgw_id=tgw_id,
            kind="vpc",
            resource_id=vpc_row.vpc_id,
            state=(vpc_row.state or "available").lower(),
            name=name_tag(vpc_row.tags),
            owner=vpc_row.vpc_owner_id,
            route_table=associated.get(vpc_row.transit_gateway_attachment_id),
        )
        zones = []
        for subnet_id in vpc_row.subnet_ids:
            subnet = subnets.get(subnet_id)
            if subnet is None or subnet.az is None:
                warnings.append(
                    f"transit gateway attachment {base.id}: subnet {subnet_id} is not in the snapshot, so its "
                    "Availability Zone is unknown: traffic is assumed not to enter there"
                )
                continue
            zones.append((subnet.az, subnet_id))
        options = vpc_row.options
        attachments[key] = replace(
            base,
            kind="vpc",
            resource_id=vpc_row.vpc_id or base.resource_id,
            subnets=tuple(sorted(zones)),
            appliance_mode=bool(options and (options.appliance_mode_support or "").lower() == "enable"),
            sg_referencing=bool(options and (options.security_group_referencing_support or "").lower() == "enable"),
        )
    for peering in peering_rows:
        sides = (peering.requester_tgw_info, peering.accepter_tgw_info)
        for this, other in (sides, sides[::-1]):
            key = (this.transit_gateway_id, peering.transit_gateway_attachment_id)
            if key not in attachments:
                attachments[key] = TgwAttachment(
                    id=peering.transit_gateway_attachment_id,
                    tgw_id=this.transit_gateway_id,
                    kind="peering",
                    resource_id=other.transit_gateway_id,
                    state=(peering.state or "available").lower(),
                    name=name_tag(peering.tags),
                    owner=other.owner_id,
                    route_table=associated.get(peering.transit_gateway_attachment_id),
                )

    default_tables: dict[str, str] = {}
    for table_row in table_rows:
        if table_row.default_association_route_table and table_row.transit_gateway_id:
            default_tables[table_row.transit_gateway_id] = table_row.transit_gateway_route_table_id
    for key, attachment in list(attachments.items()):
        if attachment.route_table is None and attachment.state == "available":
            default = default_tables.get(attachment.tgw_id)
            if default and not rows:
                # Only the VPC owner's view was collected: the gateway's default association is the best guess.
                attachments[key] = replace(attachment, route_table=default)
                warnings.append(
                    f"transit gateway attachment {attachment.id}: its route table association is not in the snapshot; "
                    f"assumed to be {attachment.tgw_id}'s default association route table {default}"
                )

    tables = _compile_tables(table_rows, searched, static_only, propagations, attachments, vpcs, prefix_lists, warnings,
                             snapshot.origins)
    gateways: dict[str, model.TransitGateway] = {}
    for tgw in snapshot.transit_gateways:
        origin = snapshot.origins.get(tgw.transit_gateway_id)
        gateways[tgw.transit_gateway_id] = model.TransitGateway(
            id=tgw.transit_gateway_id,
            name=name_tag(tgw.tags),
            owner=tgw.owner_id,
            region=origin.region if origin else None,
            state=(tgw.state or "available").lower(),
            attachments=(),
            route_tables=(),
            sg_referencing=bool(
                tgw.options and (tgw.options.security_group_referencing_support or "").lower() == "enable"
            ),
        )
    for tgw_id in sorted({a.tgw_id for a in attachments.values()} | {t.tgw_id for t in tables.values()}):
        if tgw_id not in gateways:
            warnings.append(f"transit gateway {tgw_id} is referenced but not in the snapshot: assumed available")
            gateways[tgw_id] = model.TransitGateway(tgw_id, None, None, None, "available", (), ())
    for tgw_id, gateway in gateways.items():
        gateways[tgw_id] = replace(
            gateway,
            attachments=tuple(sorted(a.id for a in attachments.values() if a.tgw_id == tgw_id)),
            route_tables=tuple(sorted(t.id for t in tables.values() if t.tgw_id == tgw_id)),
        )
    return Compiled(TransitNetwork(gateways=gateways, attachments=attachments, route_tables=tables), tuple(warnings))


def _compile_tables(
    table_rows: list[TransitGatewayRouteTable],
    searched: list[TransitGatewayRouteTableRoutes],
    static_only: list[TransitGatewayRouteTableRoutes],
    propagations: list[TransitGatewayRouteTablePropagations],
    attachments: dict[tuple[str, str], TgwAttachment],
    vpcs: dict[str, Vpc],
    prefix_lists: dict[str, list[Cidr]],
    warnings: list[str],
    origins: Mapping[str, Origin],
) -> dict[str, TgwRouteTable]:
    by_id = {a.id: a for a in attachments.values()}
    tgw_of = {t.transit_gateway_route_table_id: t.transit_gateway_id or "" for t in table_rows}
    names = {t.transit_gateway_route_table_id: name_tag(t.tags) for t in table_rows}
    for attachment in attachments.values():
        if attachment.route_table:
            tgw_of.setdefault(attachment.route_table, attachment.tgw_id)
    routes: dict[str, dict[tuple[object, ...], TgwRoute]] = {}
    listed: set[str] = set()
    searched_ids = {r.transit_gateway_route_table_id for r in searched}  # every route, propagated ones too
    learned: dict[str, list[str]] = {}

    def add(table_id: str, route: TgwRoute) -> None:
        key = (route.cidr, route.attachments, route.kind, route.state)
        routes.setdefault(table_id, {}).setdefault(key, route)

    for route_set in searched + static_only:
        table_id = route_set.transit_gateway_route_table_id
        found = origins.get(f"TransitGatewayRouteTableRoutes:{table_id}") or origins.get(table_id)
        table_where = f"{found.file}: " if found else ""
        listed.add(table_id)
        for raw in route_set.routes:
            if raw.state not in ("active", "blackhole"):
                continue
            targets = tuple(
                a.transit_gateway_attachment_id
                for a in raw.transit_gateway_attachments
                if a.transit_gateway_attachment_id
            )
            state = "blackhole" if raw.state == "blackhole" or not targets else "active"
            if raw.prefix_list_id and not raw.destination_cidr_block:
                cidrs = prefix_lists.get(raw.prefix_list_id)
                if cidrs is None:
                    warnings.append(
                        f"transit gateway route table {table_id}: route to prefix list {raw.prefix_list_id}, "
                        "which the snapshot does not contain: ignored"
                    )
                    continue
                destination, priority = raw.prefix_list_id, ROUTE_PRIORITY["prefix-list"]
            elif raw.destination_cidr_block:
                cidrs = [parse_cidr(raw.destination_cidr_block, f"{table_where}transit gateway route table {table_id}")]
                destination = raw.destination_cidr_block
                priority = ROUTE_PRIORITY["static"]
            else:
                raise SnapshotError(
                    f"{table_where}transit gateway route table {table_id}: a route has no DestinationCidrBlock or "
                    "PrefixListId"
                )
            kind = (raw.type or "static").lower()
            origin = "static"
            if kind == "propagated":
                resource = next((a.resource_type for a in raw.transit_gateway_attachments if a.resource_type), None)
                priority = ROUTE_PRIORITY.get((resource or "vpc").lower(), ROUTE_PRIORITY["vpn"])
                origin = "propagated by " + ", ".join(targets)
            for cidr in cidrs:
                add(
                    table_id,
                    TgwRoute(destination, cidr, targets if state == "active" else (), kind, state, priority, origin),
                )

    for propagation_set in propagations:
        table_id = propagation_set.transit_gateway_route_table_id
        for link in propagation_set.propagations:
            if (link.state or "enabled") != "enabled":
                continue
            propagator = by_id.get(link.transit_gateway_attachment_id)
            kind = (link.resource_type or (propagator.kind if propagator else "vpc")).lower()
            already = any(
                link.transit_gateway_attachment_id in r.attachments and r.kind == "propagated"
                for r in routes.get(table_id, {}).values()
            )
            if already:
                continue  # search-transit-gateway-routes listed what it installs
            vpc_id = link.resource_id or (propagator.resource_id if propagator else None)
            if kind != "vpc":
                if table_id not in searched_ids:
                    learned.setdefault(table_id, []).append(link.transit_gateway_attachment_id)
                    warnings.append(
                        f"transit gateway route table {table_id}: routes propagated by "
                        f"{link.transit_gateway_attachment_id} ({kind}) are learned over BGP and not in the snapshot "
                        "(add search-transit-gateway-routes output)"
                    )
                continue
            vpc = vpcs.get(vpc_id or "")
            if vpc is None:
                warnings.append(
                    f"transit gateway route table {table_id}: {link.transit_gateway_attachment_id} propagates the "
                    f"CIDRs of {vpc_id}, which is not in the snapshot: those routes are unknown"
                )
                continue
            origin = f"propagated by {link.transit_gateway_attachment_id} ({vpc.id})"
            for cidr in vpc.cidrs:
                add(
                    table_id,
                    TgwRoute(
                        str(cidr),
                        cidr,
                        (link.transit_gateway_attachment_id,),
                        "propagated",
                        "active",
                        ROUTE_PRIORITY["vpc"],
                        origin,
                    ),
                )

    tables = {}
    for table_id in sorted(set(tgw_of) | set(routes)):
        known = (
            table_id in names
            or table_id in listed
            or any(p.transit_gateway_route_table_id == table_id for p in propagations)
        )
        tables[table_id] = TgwRouteTable(
            id=table_id,
            tgw_id=tgw_of.get(table_id, ""),
            name=names.get(table_id),
            routes=list(routes.get(table_id, {}).values()),
            known=known,
            learned=tuple(learned.get(table_id, ())),
        )
    return tables
