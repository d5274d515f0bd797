"""Compile a loaded snapshot into the `reach.model.Network` the engine evaluates.

An ordered series of passes, each taking what it needs and returning what it builds; nothing is
mutated behind another pass's back. A rule that cannot be expressed (a reference to a group or prefix
list the snapshot lacks) becomes a never-matching line plus a warning — never a missing line.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from reach.errors import SnapshotError
from reach.model.addr import IPV4, IPV6, Cidr, parse_address
from reach.model.network import (
    FlowLogConfig,
    Gateway,
    Instance,
    Interface,
    Network,
    NetworkAcl,
    Peering,
    PeeringSide,
    Route,
    RouteTable,
    SecurityGroup,
    Subnet,
    Vpc,
)
from reach.model.protocols import gateway_kind
from reach.model.rules import (
    ALL_CODES,
    ALL_PORTS,
    RuleLine,
    RuleRef,
    RuleTable,
    describe_match,
    ports_for,
    protocol_number,
)
from reach.snapshot.base import name_tag
from reach.snapshot.gateways import PeeringVpcInfo
from reach.snapshot.load_balancer import compile_load_balancers
from reach.snapshot.loader import Snapshot
from reach.snapshot.network_acl import NetworkAclEntry
from reach.snapshot.route_table import Route as AwsRoute
from reach.snapshot.security_group import IpPermission, SecurityGroupRule
from reach.snapshot.transit_gateway import compile_transit_gateways


def compile_snapshot(snapshot: Snapshot) -> Network:
    warnings: list[str] = []
    prefix_lists = compile_prefix_lists(snapshot)
    vpcs = compile_vpcs(snapshot)
    instances = compile_instances(snapshot)
    interfaces = compile_interfaces(snapshot, instances, warnings)
    route_tables = compile_route_tables(snapshot, prefix_lists, interfaces, instances, warnings)
    nacls = compile_network_acls(snapshot, warnings)
    subnets = compile_subnets(snapshot, vpcs, route_tables, nacls, warnings)
    security_groups = compile_security_groups(snapshot, interfaces, prefix_lists, warnings)
    warnings += absent_groups(interfaces, security_groups)
    gateways = compile_gateways(snapshot)
    peerings = compile_peerings(snapshot)
    interfaces = bind_interface_endpoints(snapshot, interfaces)
    transit = compile_transit_gateways(snapshot, vpcs, subnets, prefix_lists, warnings)
    balancing = compile_load_balancers(snapshot, interfaces, instances, subnets, warnings)
    return Network(
        vpcs=vpcs,
        subnets=subnets,
        interfaces=interfaces,
        route_tables=route_tables,
        nacls=nacls,
        security_groups=security_groups,
        gateways=gateways,
        peerings=peerings,
        instances=instances,
        flow_logs=compile_flow_logs(snapshot),
        warnings=warnings,
        ignored=dict(snapshot.ignored),
        transit=transit,
        balancing=balancing,
        unresolved=find_unresolved(snapshot, security_groups, prefix_lists),
        group_references=find_group_references(snapshot, security_groups),
    )


def _cidr(text: str, where: str) -> Cidr:
    try:
        return Cidr.parse(text)
    except ValueError:
        raise SnapshotError(f"{where}: '{text}' is not a CIDR block") from None


def _address(text: str, where: str) -> tuple[int, int]:
    try:
        return parse_address(text)
    except ValueError:
        raise SnapshotError(f"{where}: '{text}' is not an IP address") from None


def _file(snapshot: Snapshot, rid: str) -> str:
    origin = snapshot.origins.get(rid)
    return f"{origin.file}: {rid}" if origin else rid


# --- passes ---------------------------------------------------------------------------------------


def compile_prefix_lists(snapshot: Snapshot) -> dict[str, list[Cidr]]:
    """pl- id -> CIDRs, from AWS-managed lists (inline) and customer-managed entries."""
    found: dict[str, list[Cidr]] = {}
    for prefix_list in snapshot.prefix_lists:
        if "cidrs" not in prefix_list.model_fields_set:
            continue  # describe-managed-prefix-lists: the entries come from get-managed-prefix-list-entries
        where = _file(snapshot, prefix_list.prefix_list_id)
        found[prefix_list.prefix_list_id] = [_cidr(c, where) for c in prefix_list.cidrs]
    for pl_id, cidrs in snapshot.prefix_list_entries.items():
        found[pl_id] = [_cidr(c, f"entries of {pl_id}") for c in cidrs]
    return found


def compile_vpcs(snapshot: Snapshot) -> dict[str, Vpc]:
    main_tables = {rt.vpc_id: rt.route_table_id for rt in snapshot.route_tables if any(a.main for a in rt.associations)}
    default_nacls = {acl.vpc_id: acl.network_acl_id for acl in snapshot.network_acls if acl.is_default}
    vpcs = {}
    for vpc in snapshot.vpcs:
        where = _file(snapshot, vpc.vpc_id)
        origin = snapshot.origins.get(vpc.vpc_id)
        vpcs[vpc.vpc_id] = Vpc(
            id=vpc.vpc_id,
            name=name_tag(vpc.tags),
            cidrs=tuple(_cidr(c, where) for c in vpc.ipv4_cidrs() + vpc.ipv6_cidrs()),
            owner=vpc.owner_id or (origin.account if origin else None),
            region=origin.region if origin else None,
            main_route_table=main_tables.get(vpc.vpc_id),
            default_nacl=default_nacls.get(vpc.vpc_id),
        )
    return vpcs


def compile_instances(snapshot: Snapshot) -> dict[str, Instance]:
    instances = {}
    for reservation in snapshot.reservations:
        for instance in reservation.instances:
            instances[instance.instance_id] = Instance(
                id=instance.instance_id,
                name=name_tag(instance.tags),
                state=instance.state.name,
                interfaces=tuple(i.network_interface_id for i in instance.network_interfaces),
            )
    return instances


def compile_interfaces(snapshot: Snapshot, instances: dict[str, Instance], warnings: list[str]) -> dict[str, Interface]:
    eips = {a.network_interface_id: a for a in snapshot.addresses if a.network_interface_id}
    interfaces: dict[str, Interface] = {}
    for eni in snapshot.network_interfaces:
        where = _file(snapshot, eni.network_interface_id)
        private: list[tuple[int, int]] = []
        public: list[tuple[int, int]] = []
        listed = [eni.private_ip_address] if eni.private_ip_address else []
        listed += [p.private_ip_address for p in sorted(eni.private_ip_addresses, key=lambda p: not p.primary)]
        for text in listed:
            address = _address(text, where)
            if address not in private:
                private.append(address)
        for entry in eni.private_ip_addresses:
            if entry.association and entry.association.public_ip:
                public.append(
                    (_address(entry.association.public_ip, where)[1], _address(entry.private_ip_address, where)[1])
                )
        if eni.association and eni.association.public_ip and private:
            pair = (_address(eni.association.public_ip, where)[1], private[0][1])
            if pair not in public:
                public.append(pair)
        eip = eips.get(eni.network_interface_id)
        if eip and eip.private_ip_address:
            pair = (_address(eip.public_ip, where)[1], _address(eip.private_ip_address, where)[1])
            if pair not in public:
                public.append(pair)
        private += [_address(a.ipv6_address, where) for a in eni.ipv6_addresses]
        instance_id = eni.attachment.instance_id if eni.attachment else None
        instance = instances.get(instance_id) if instance_id else None
        interfaces[eni.network_interface_id] = Interface(
            id=eni.network_interface_id,
            name=name_tag(eni.tag_set) or (instance.name if instance else None),
            kind=eni.interface_type,
            description=eni.description,
            vpc_id=eni.vpc_id,
            subnet_id=eni.subnet_id,
            private_ips=tuple(private),
            public_ips=tuple(public),
            groups=tuple(g.group_id for g in eni.groups),
            source_dest_check=eni.source_dest_check,
            instance_id=instance_id,
            owner=eni.owner_id,
            requester_managed=eni.requester_managed,
        )
    # Instances whose interfaces are missing from NetworkInterfaces: build them from the instance record.
    for reservation in snapshot.reservations:
        for raw in reservation.instances:
            if raw.state.name != "running" or not raw.subnet_id or not raw.private_ip_address:
                continue
            if any(i in interfaces for i in instances[raw.instance_id].interfaces):
                continue
            where = _file(snapshot, raw.instance_id)
            private_ip = _address(raw.private_ip_address, where)
            instance_public = (
                ((_address(raw.public_ip_address, where)[1], private_ip[1]),) if raw.public_ip_address else ()
            )
            eni_id = (
                instances[raw.instance_id].interfaces[0] if instances[raw.instance_id].interfaces else raw.instance_id
            )
            warnings.append(
                f"instance {raw.instance_id}: interface {eni_id} not in the snapshot; built from the instance record"
            )
            interfaces[eni_id] = Interface(
                id=eni_id,
                name=instances[raw.instance_id].name,
                kind="interface",
                description=None,
                vpc_id=raw.vpc_id or "",
                subnet_id=raw.subnet_id,
                private_ips=(private_ip,),
                public_ips=instance_public,
                groups=tuple(sorted(_instance_groups(snapshot, raw.instance_id))),
                source_dest_check=raw.source_dest_check if raw.source_dest_check is not None else True,
                instance_id=raw.instance_id,
                owner=reservation.owner_id,
                requester_managed=False,
            )
    return interfaces


def _instance_groups(snapshot: Snapshot, instance_id: str) -> list[str]:
    raw = {r.instance_id: r for res in snapshot.reservations for r in res.instances}.get(instance_id)
    if raw is None:
        return []
    data = raw.model_dump(by_alias=True)
    return [g["GroupId"] for g in data.get("SecurityGroups", []) if isinstance(g, dict) and "GroupId" in g]


def _route_target(route: AwsRoute, interfaces: dict[str, Interface], instances: dict[str, Instance]) -> tuple[str, str]:
    if route.gateway_id:
        kind = gateway_kind(route.gateway_id)
        return str(kind), route.gateway_id
    if route.nat_gateway_id:
        return "nat-gateway", route.nat_gateway_id
    if route.network_interface_id:
        return "network-interface", route.network_interface_id
    if route.instance_id:
        instance = instances.get(route.instance_id)
        eni = next((i for i in instance.interfaces if i in interfaces), None) if instance else None
        return ("network-interface", eni) if eni else ("instance", route.instance_id)
    if route.vpc_peering_connection_id:
        return "vpc-peering-connection", route.vpc_peering_connection_id
    if route.transit_gateway_id:
        return "transit-gateway", route.transit_gateway_id
    if route.egress_only_internet_gateway_id:
        return "egress-only-internet-gateway", route.egress_only_internet_gateway_id
    if route.vpc_endpoint_id:
        return "vpc-endpoint", route.vpc_endpoint_id
    for kind, value in (
        ("local-gateway", route.local_gateway_id),
        ("carrier-gateway", route.carrier_gateway_id),
        ("core-network", route.core_network_arn),
    ):
        if value:
            return kind, value
    return "unknown", "?"


_ROUTE_PRIORITY = {"CreateRouteTable": 0, "CreateRoute": 1, "EnableVgwRoutePropagation": 3}


def compile_route_tables(
    snapshot: Snapshot,
    prefix_lists: dict[str, list[Cidr]],
    interfaces: dict[str, Interface],
    instances: dict[str, Instance],
    warnings: list[str],
) -> dict[str, RouteTable]:
    tables = {}
    for table in snapshot.route_tables:
        where = _file(snapshot, table.route_table_id)
        routes = []
        for raw in table.routes:
            destination = raw.destination()
            if destination is None:
                raise SnapshotError(
                    f"{where}: a route has no DestinationCidrBlock, DestinationIpv6CidrBlock or DestinationPrefixListId"
                )
            kind, target = _route_target(raw, interfaces, instances)
            ref = RuleRef(
                kind="route-table",
                id=table.route_table_id,
                rule=destination,
                detail=f"route table {table.route_table_id} routes {destination} to {target}"
                + (" (blackhole)" if raw.state == "blackhole" else ""),
            )
            if raw.destination_prefix_list_id:
                cidrs = prefix_lists.get(raw.destination_prefix_list_id)
                if cidrs is None:
                    warnings.append(
                        f"{where}: route to prefix list {destination}, which the snapshot does not contain: ignored"
                    )
                    continue
                priority = 2
            else:
                cidrs = [_cidr(destination, where)]
                priority = _ROUTE_PRIORITY.get(raw.origin or "CreateRoute", 1)
            routes += [Route(destination, cidr, kind, target, raw.state, priority, ref) for cidr in cidrs]
        tables[table.route_table_id] = RouteTable(table.route_table_id, name_tag(table.tags), table.vpc_id, routes)
    return tables


def _acl_line(acl_id: str, entry: NetworkAclEntry, where: str) -> RuleLine:
    try:
        protocol = protocol_number(entry.protocol)
    except ValueError:
        raise SnapshotError(
            f"{where}: entry #{entry.rule_number}: field 'Protocol': '{entry.protocol}' is not a protocol"
        ) from None
    if entry.cidr_block:
        peer = _cidr(entry.cidr_block, where)
    elif entry.ipv6_cidr_block:
        peer = _cidr(entry.ipv6_cidr_block, where)
    else:
        raise SnapshotError(f"{where}: entry #{entry.rule_number}: field 'CidrBlock': missing (nor Ipv6CidrBlock)")
    ports, codes = ALL_PORTS, ALL_CODES
    if protocol in (6, 17) and entry.ports() is not None:
        ports = entry.ports()  # type: ignore[assignment]
    elif protocol == 1 or (protocol == 58 and peer.family == IPV6):
        icmp = entry.icmp_type_code
        if icmp is not None:
            ports, codes = ports_for(protocol, icmp.type, icmp.code)
    allow = entry.rule_action.lower() == "allow"
    direction = "egress" if entry.egress else "ingress"
    number = "*" if entry.rule_number >= 32767 else f"#{entry.rule_number}"
    side = "outbound" if entry.egress else "inbound"
    to_from = "to" if entry.egress else "from"
    detail = (
        f"network ACL {acl_id} {side} rule {number} {'allows' if allow else 'denies'} "
        f"{describe_match(protocol, ports, codes)} {to_from} {peer}"
    )
    ref = RuleRef("network-acl", acl_id, direction, entry.rule_number, detail)
    return RuleLine(peer, protocol, ports[0], ports[1], codes[0], codes[1], allow, ref)


def _default_deny(acl_id: str, egress: bool, family: int) -> RuleLine:
    number = 32767 if family == IPV4 else 32768
    peer = Cidr.parse("0.0.0.0/0" if family == IPV4 else "::/0")
    side, to_from = ("outbound", "to") if egress else ("inbound", "from")
    detail = f"network ACL {acl_id} {side} rule * denies all traffic {to_from} {peer}"
    ref = RuleRef("network-acl", acl_id, "egress" if egress else "ingress", number, detail)
    return RuleLine(peer, -1, *ALL_PORTS, *ALL_CODES, False, ref)


def compile_network_acls(snapshot: Snapshot, warnings: list[str]) -> dict[str, NetworkAcl]:
    nacls = {}
    for acl in snapshot.network_acls:
        where = _file(snapshot, acl.network_acl_id)
        tables = {}
        for egress in (False, True):
            # AWS evaluates by rule number, never by file order.
            entries = sorted((e for e in acl.entries if e.egress == egress), key=lambda e: e.rule_number)
            lines = [_acl_line(acl.network_acl_id, e, where) for e in entries]
            for family, number in ((IPV4, 32767), (IPV6, 32768)):
                if not any(e.rule_number == number for e in entries):
                    lines.append(_default_deny(acl.network_acl_id, egress, family))
            tables[egress] = RuleTable.build(lines)
        nacls[acl.network_acl_id] = NetworkAcl(
            acl.network_acl_id, name_tag(acl.tags), acl.vpc_id, acl.is_default, tables[False], tables[True]
        )
    return nacls


def compile_subnets(
    snapshot: Snapshot,
    vpcs: dict[str, Vpc],
    route_tables: dict[str, RouteTable],
    nacls: dict[str, NetworkAcl],
    warnings: list[str],
) -> dict[str, Subnet]:
    explicit_rt = {
        a.subnet_id: rt.route_table_id for rt in snapshot.route_tables for a in rt.associations if a.subnet_id
    }
    explicit_acl = {a.subnet_id: acl.network_acl_id for acl in snapshot.network_acls for a in acl.associations}
    subnets = {}
    for subnet in snapshot.subnets:
        where = _file(snapshot, subnet.subnet_id)
        vpc = vpcs.get(subnet.vpc_id)
        route_table = explicit_rt.get(subnet.subnet_id) or (vpc.main_route_table if vpc else None)
        nacl = explicit_acl.get(subnet.subnet_id) or (vpc.default_nacl if vpc else None)
        if route_table is None:
            warnings.append(
                f"subnet {subnet.subnet_id}: no route table in the snapshot; only the VPC's local route is assumed"
            )
        if nacl is None:
            warnings.append(f"subnet {subnet.subnet_id}: no network ACL in the snapshot; assumed to allow all traffic")
        cidrs = ([_cidr(subnet.cidr_block, where)] if subnet.cidr_block else []) + [
            _cidr(c, where) for c in subnet.ipv6_cidrs()
        ]
        subnets[subnet.subnet_id] = Subnet(
            id=subnet.subnet_id,
            name=name_tag(subnet.tags),
            vpc_id=subnet.vpc_id,
            cidrs=tuple(cidrs),
            az=subnet.availability_zone,
            route_table=route_table,
            route_table_is_main=subnet.subnet_id not in explicit_rt,
            nacl=nacl,
        )
    return subnets


def _rule_ids(rules: Iterable[SecurityGroupRule]) -> dict[tuple[str, bool, int, int | None, int | None, str], str]:
    """(group, egress, protocol, from, to, peer) -> sgr- id, to name each compiled line by its AWS rule id."""
    ids = {}
    for rule in rules:
        peer = rule.cidr_ipv4 or rule.cidr_ipv6 or rule.prefix_list_id
        if peer is None and rule.referenced_group_info:
            peer = rule.referenced_group_info.group_id
        if peer is None:
            continue
        key = (rule.group_id, rule.is_egress, protocol_number(rule.ip_protocol), rule.from_port, rule.to_port, peer)
        ids[key] = rule.security_group_rule_id
    return ids


def compile_security_groups(
    snapshot: Snapshot,
    interfaces: dict[str, Interface],
    prefix_lists: dict[str, list[Cidr]],
    warnings: list[str],
) -> dict[str, SecurityGroup]:
    members: dict[str, list[Cidr]] = {}
    for interface in interfaces.values():
        for member_of in interface.groups:
            members.setdefault(member_of, []).extend(Cidr.host(f, v) for f, v in interface.private_ips)
    names = {g.group_id: g.group_name for g in snapshot.security_groups}
    rule_ids = _rule_ids(snapshot.security_group_rules)
    groups = {}
    for group in snapshot.security_groups:
        where = _file(snapshot, group.group_id)
        tables: dict[bool, tuple[RuleLine, ...]] = {}
        for egress, permissions in ((False, group.ip_permissions), (True, group.ip_permissions_egress)):
            lines: list[RuleLine] = []
            for permission in permissions:
                lines += _permission_lines(
                    group.group_id, egress, permission, members, names, prefix_lists, rule_ids, where, warnings
                )
            tables[egress] = tuple(lines)
        groups[group.group_id] = SecurityGroup(
            group.group_id, group.group_name, group.vpc_id, group.owner_id, tables[False], tables[True]
        )
    return groups


def _permission_lines(
    group_id: str,
    egress: bool,
    permission: IpPermission,
    members: dict[str, list[Cidr]],
    names: dict[str, str | None],
    prefix_lists: dict[str, list[Cidr]],
    rule_ids: dict[tuple[str, bool, int, int | None, int | None, str], str],
    where: str,
    warnings: list[str],
) -> list[RuleLine]:
    """One permission -> lines, one per peer (CIDR, prefix-list CIDR, referenced group member)."""
    try:
        protocol = protocol_number(permission.ip_protocol)
    except ValueError:
        raise SnapshotError(f"{where}: field 'IpProtocol': '{permission.ip_protocol}' is not a protocol") from None
    ports, codes = ports_for(protocol, permission.from_port, permission.to_port)
    direction = "egress" if egress else "ingress"
    verb, to_from = ("allows outbound", "to") if egress else ("allows inbound", "from")
    what = describe_match(protocol, ports, codes)

    def ref(peer_key: str, peer_text: str) -> RuleRef:
        key = (group_id, egress, protocol, permission.from_port, permission.to_port, peer_key)
        sgr = rule_ids.get(key)
        if sgr is None and protocol in (-1,):  # -1 rules come back with -1 ports or none at all
            sgr = rule_ids.get((group_id, egress, protocol, -1, -1, peer_key))
        label = f"rule {sgr}" if sgr else "rule"
        return RuleRef(
            "security-group",
            group_id,
            direction,
            sgr,
            f"security group {group_id} {label} {verb} {what} {to_from} {peer_text}",
        )

    def line(peer: Cidr | None, rule_ref: RuleRef, group: str | None = None, plist: str | None = None) -> RuleLine:
        return RuleLine(peer, protocol, ports[0], ports[1], codes[0], codes[1], True, rule_ref, group, plist)

    lines = []
    for ip_range in permission.ip_ranges:
        lines.append(line(_cidr(ip_range.cidr_ip, where), ref(ip_range.cidr_ip, ip_range.cidr_ip)))
    for ip_range6 in permission.ipv6_ranges:
        lines.append(line(_cidr(ip_range6.cidr_ipv6, where), ref(ip_range6.cidr_ipv6, ip_range6.cidr_ipv6)))
    for pl in permission.prefix_list_ids:
        rule_ref = ref(pl.prefix_list_id, f"prefix list {pl.prefix_list_id}")
        cidrs = prefix_lists.get(pl.prefix_list_id)
        if cidrs is None:
            warnings.append(
                f"{where}: rule references prefix list {pl.prefix_list_id}, which the snapshot does not contain: "
                "it matches nothing"
            )
            lines.append(line(None, rule_ref, plist=pl.prefix_list_id))
        lines += [line(c, rule_ref, plist=pl.prefix_list_id) for c in cidrs or []]
    for pair in permission.user_id_group_pairs:
        ref_group = pair.group_id or "?"
        label = f"members of {ref_group}" + (f" ({names[ref_group]})" if names.get(ref_group) else "")
        rule_ref = ref(ref_group, label)
        if ref_group not in names:
            warnings.append(
                f"{where}: rule references security group {ref_group}, which the snapshot does not contain: "
                "it matches nothing (as AWS treats unknown peered groups)"
            )
            lines.append(line(None, rule_ref, ref_group))
            continue
        found = members.get(ref_group, [])
        lines += [line(c, rule_ref, ref_group) for c in found] or [line(None, rule_ref, ref_group)]
    return lines


def absent_groups(interfaces: dict[str, Interface], security_groups: dict[str, SecurityGroup]) -> list[str]:
    """Interfaces naming groups the snapshot lacks: their rules are unknown, so say so once per group."""
    users: dict[str, list[str]] = {}
    for interface in interfaces.values():
        for group in interface.groups:
            if group not in security_groups:
                users.setdefault(group, []).append(interface.id)
    return [
        f"security group {group} (on {', '.join(enis[:3])}{' …' if len(enis) > 3 else ''}) is not in the snapshot: "
        "its rules are unknown and taken as allowing nothing"
        for group, enis in sorted(users.items())
    ]


def compile_gateways(snapshot: Snapshot) -> dict[str, Gateway]:
    gateways: dict[str, Gateway] = {}
    for igw in snapshot.internet_gateways:
        vpc_ids = tuple(a.vpc_id for a in igw.attachments if a.state in ("available", "attached"))
        gateways[igw.internet_gateway_id] = Gateway(
            igw.internet_gateway_id, "internet-gateway", name_tag(igw.tags), vpc_ids, "available"
        )
    for eigw in snapshot.egress_only_internet_gateways:
        vpc_ids = tuple(a.vpc_id for a in eigw.attachments if a.state in ("available", "attached"))
        gateways[eigw.egress_only_internet_gateway_id] = Gateway(
            eigw.egress_only_internet_gateway_id,
            "egress-only-internet-gateway",
            name_tag(eigw.tags),
            vpc_ids,
            "available",
        )
    for nat in snapshot.nat_gateways:
        where = _file(snapshot, nat.nat_gateway_id)
        primary = next((a for a in nat.nat_gateway_addresses if a.is_primary), None) or (
            nat.nat_gateway_addresses[0] if nat.nat_gateway_addresses else None
        )
        gateways[nat.nat_gateway_id] = Gateway(
            nat.nat_gateway_id,
            "nat-gateway",
            name_tag(nat.tags),
            (nat.vpc_id,),
            nat.state,
            subnet_id=nat.subnet_id,
            interface_id=primary.network_interface_id if primary else None,
            private_ip=_address(primary.private_ip, where)[1] if primary and primary.private_ip else None,
            public_ip=_address(primary.public_ip, where)[1] if primary and primary.public_ip else None,
        )
    for endpoint in snapshot.vpc_endpoints:
        if endpoint.vpc_endpoint_type.lower() == "gateway":
            gateways[endpoint.vpc_endpoint_id] = Gateway(
                endpoint.vpc_endpoint_id,
                "vpc-endpoint",
                name_tag(endpoint.tags),
                (endpoint.vpc_id,),
                (endpoint.state or "available").lower(),
                service=endpoint.service_name,
            )
    return gateways


def compile_peerings(snapshot: Snapshot) -> dict[str, Peering]:
    peerings = {}
    for pcx in snapshot.vpc_peering_connections:
        where = _file(snapshot, pcx.vpc_peering_connection_id)
        peerings[pcx.vpc_peering_connection_id] = Peering(
            pcx.vpc_peering_connection_id,
            name_tag(pcx.tags),
            pcx.status.code,
            _peering_side(pcx.requester_vpc_info, where),
            _peering_side(pcx.accepter_vpc_info, where),
        )
    return peerings


def _peering_side(info: PeeringVpcInfo, where: str) -> PeeringSide:
    return PeeringSide(info.vpc_id, info.owner_id, info.region, tuple(_cidr(c, where) for c in info.cidrs()))


def compile_flow_logs(snapshot: Snapshot) -> list[FlowLogConfig]:
    return [
        FlowLogConfig(
            id=f.flow_log_id,
            resource_id=f.resource_id,
            traffic_type=f.traffic_type,
            log_format=f.log_format,
            destination_type=f.log_destination_type,
            destination=f.log_destination or f.log_group_name,
            status=f.deliver_logs_status,
            error=f.deliver_logs_error_message,
            aggregation_interval=f.max_aggregation_interval,
        )
        for f in snapshot.flow_logs
    ]


def bind_interface_endpoints(snapshot: Snapshot, interfaces: dict[str, Interface]) -> dict[str, Interface]:
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
    return bound


def find_group_references(snapshot: Snapshot, security_groups: dict[str, SecurityGroup]) -> dict[RuleRef, str]:
    """Compiled lines that match by membership of another group -> that group: a transit gateway without
    security group referencing support discards that membership, so these lines cannot match what it forwards."""
    return {
        line.ref: line.peer_group
        for group in security_groups.values()
        for line in group.ingress_lines
        if line.peer_group is not None
    }


def find_unresolved(
    snapshot: Snapshot, security_groups: dict[str, SecurityGroup], prefix_lists: dict[str, list[Cidr]]
) -> dict[RuleRef, str]:
    """Compiled rule lines that stand for a group or prefix list the snapshot lacks -> that missing id, so
    an explanation can say which piece was missing and what was assumed (it matches nothing)."""
    found: dict[RuleRef, str] = {}
    for group in security_groups.values():
        for line in group.ingress_lines + group.egress_lines:
            if line.peer_group is not None and line.peer_group not in security_groups:
                found[line.ref] = line.peer_group
            elif line.peer_prefix_list is not None and line.peer_prefix_list not in prefix_lists:
                found[line.ref] = line.peer_prefix_list
    return found

