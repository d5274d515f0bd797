"""The compiled network: AWS resources reduced to what decides a packet's fate.

Built once per snapshot by `reach.snapshot.compile`; explain, reconcile and what-if read only this.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from reach.model.addr import IPV4, Cidr
from reach.model.load_balancer import LoadBalancing
from reach.model.prefixes import PrefixMap
from reach.model.rules import RuleLine, RuleRef, RuleTable
from reach.model.transit import TransitNetwork
from reach.model.vpn import VpnNetwork


@dataclass(frozen=True)
class Vpc:
    id: str
    name: str | None
    cidrs: tuple[Cidr, ...]
    owner: str | None
    region: str | None
    main_route_table: str | None
    default_nacl: str | None


@dataclass(frozen=True)
class Subnet:
    id: str
    name: str | None
    vpc_id: str
    cidrs: tuple[Cidr, ...]
    az: str | None
    route_table: str | None  # explicit association, else the VPC's main table
    route_table_is_main: bool
    nacl: str | None


@dataclass(frozen=True)
class Interface:
    id: str
    name: str | None
    kind: str  # InterfaceType: interface, lambda, nat_gateway, vpc_endpoint, …
    description: str | None
    vpc_id: str
    subnet_id: str
    private_ips: tuple[tuple[int, int], ...]  # (family, value); primary IPv4 first
    public_ips: tuple[tuple[int, int], ...]  # (public IPv4, the private IPv4 it maps to)
    groups: tuple[str, ...]
    source_dest_check: bool
    instance_id: str | None
    owner: str | None
    requester_managed: bool

    @property
    def primary_ip(self) -> tuple[int, int] | None:
        return self.private_ips[0] if self.private_ips else None

    def holds(self, family: int, value: int) -> bool:
        return (family, value) in self.private_ips

    def public_for(self, family: int, private: int) -> int | None:
        if family != IPV4:
            return None
        for public, mapped in self.public_ips:
            if mapped == private:
                return public
        return None

    @property
    def label(self) -> str:
        return f"{self.id} ({self.name})" if self.name else self.id


@dataclass(frozen=True)
class Route:
    destination: str  # as written: CIDR or pl- id
    cidr: Cidr
    target_kind: str  # local, internet-gateway, egress-only-internet-gateway, nat-gateway, …
    target_id: str
    state: str  # active | blackhole
    priority: int  # equal prefixes: lower wins (static before prefix list before propagated)
    ref: RuleRef


@dataclass
class RouteTable:
    id: str
    name: str | None
    vpc_id: str
    routes: list[Route]
    gateways: tuple[str, ...] = ()  # edge associations: the internet or VPN gateways whose inbound traffic it routes
    _lpm: PrefixMap[Route] = field(default_factory=PrefixMap, repr=False)

    def __post_init__(self) -> None:
        for route in self.routes:
            self._lpm.add(route.cidr, route)

    def lookup(self, family: int, address: int) -> Route | None:
        """The route AWS uses: longest prefix, then the documented tie-breaks."""
        candidates = self._lpm.longest(family, address)
        return min(candidates, key=lambda r: r.priority) if candidates else None


@dataclass(frozen=True)
class NetworkAcl:
    id: str
    name: str | None
    vpc_id: str
    is_default: bool
    ingress: RuleTable
    egress: RuleTable


@dataclass(frozen=True)
class SecurityGroup:
    id: str
    name: str | None
    vpc_id: str | None
    owner: str | None
    ingress_lines: tuple[RuleLine, ...]
    egress_lines: tuple[RuleLine, ...]

    # Tables are built on first use: a query touches a handful of the snapshot's thousands of groups.
    @functools.cached_property
    def ingress(self) -> RuleTable:
        return RuleTable.build(self.ingress_lines)

    @functools.cached_property
    def egress(self) -> RuleTable:
        return RuleTable.build(self.egress_lines)


@dataclass(frozen=True)
class Gateway:
    """Internet, egress-only internet, NAT gateways, gateway endpoints and VPN gateways."""

    id: str
    kind: str  # internet-gateway | egress-only-internet-gateway | nat-gateway | vpc-endpoint | vpn-gateway
    name: str | None
    vpc_ids: tuple[str, ...]
    state: str
    subnet_id: str | None = None  # NAT gateway
    interface_id: str | None = None  # NAT gateway's own interface
    private_ip: int | None = None
    public_ip: int | None = None
    service: str | None = None  # gateway endpoint's service name


@dataclass(frozen=True)
class PeeringSide:
    vpc_id: str
    owner: str | None
    region: str | None
    cidrs: tuple[Cidr, ...]


@dataclass(frozen=True)
class Peering:
    id: str
    name: str | None
    status: str
    requester: PeeringSide
    accepter: PeeringSide

    def other_side(self, vpc_id: str) -> PeeringSide | None:
        if self.requester.vpc_id == vpc_id:
            return self.accepter
        if self.accepter.vpc_id == vpc_id:
            return self.requester
        return None


@dataclass(frozen=True)
class Instance:
    id: str
    name: str | None
    state: str
    interfaces: tuple[str, ...]


@dataclass(frozen=True)
class FlowLogConfig:
    id: str
    resource_id: str  # vpc-, subnet- or eni- id
    traffic_type: str | None  # ACCEPT | REJECT | ALL
    log_format: str | None
    destination_type: str | None
    destination: str | None
    status: str | None
    error: str | None
    aggregation_interval: int | None


@dataclass
class Network:
    """Everything explain and reconcile need, indexed."""

    vpcs: dict[str, Vpc]
    subnets: dict[str, Subnet]
    interfaces: dict[str, Interface]
    route_tables: dict[str, RouteTable]
    nacls: dict[str, NetworkAcl]
    security_groups: dict[str, SecurityGroup]
    gateways: dict[str, Gateway]
    peerings: dict[str, Peering]
    instances: dict[str, Instance]
    flow_logs: list[FlowLogConfig]
    warnings: list[str]
    ignored: dict[str, str]
    transit: TransitNetwork = field(default_factory=TransitNetwork)  # transit gateways
    balancing: LoadBalancing = field(default_factory=LoadBalancing)  # ELBv2 load balancers
    # compiled lines standing for a reference the snapshot cannot resolve -> the missing piece (sg-, pl-)
    unresolved: dict[RuleRef, str] = field(default_factory=dict)
    # compiled lines that match by membership of a security group -> that group (referenced, and present)
    group_references: dict[RuleRef, str] = field(default_factory=dict)
    # interface-set security group tables, compiled on first use and shared by every interface with that set
    _sg_tables: dict[tuple[tuple[str, ...], str], RuleTable] = field(default_factory=dict, repr=False)
    _private: dict[tuple[int, int], list[str]] = field(default_factory=dict, repr=False)
    _public: dict[int, tuple[str, int]] = field(default_factory=dict, repr=False)
    _subnets_by_vpc: dict[str, PrefixMap[str]] = field(default_factory=dict, repr=False)
    _vpc_ranges: PrefixMap[str] = field(default_factory=PrefixMap, repr=False)
    # describe-* kinds (CONTRACT §1 top-level keys) that no file of the snapshot holds, not even empty: what
    # the engine knows of them is assumed, never a fact ("no internet gateway" may be "no InternetGateways file")
    absent: frozenset[str] = frozenset()
    # VPN connections, virtual private, customer and Direct Connect gateways: where the network ends
    vpn: VpnNetwork = field(default_factory=VpnNetwork)

    def __post_init__(self) -> None:
        for interface in self.interfaces.values():
            for address in interface.private_ips:
                self._private.setdefault(address, []).append(interface.id)
            for public, private in interface.public_ips:
                self._public[public] = (interface.id, private)
        for subnet in self.subnets.values():
            prefix_map = self._subnets_by_vpc.setdefault(subnet.vpc_id, PrefixMap())
            for cidr in subnet.cidrs:
                prefix_map.add(cidr, subnet.id)
        for vpc in self.vpcs.values():
            for cidr in vpc.cidrs:
                self._vpc_ranges.add(cidr, vpc.id)

    # --- address index -------------------------------------------------------------------------

    def interfaces_at(self, family: int, value: int) -> list[Interface]:
        """Interfaces holding a private address (several when VPC ranges overlap)."""
        return [self.interfaces[i] for i in self._private.get((family, value), [])]

    def interface_in_vpc(self, vpc_id: str, family: int, value: int) -> Interface | None:
        for interface in self.interfaces_at(family, value):
            if interface.vpc_id == vpc_id:
                return interface
        return None

    def public_owner(self, value: int) -> tuple[Interface, int] | None:
        """The interface a public IPv4 address maps to, and the private address behind it."""
        found = self._public.get(value)
        return (self.interfaces[found[0]], found[1]) if found else None

    def subnet_of(self, vpc_id: str, family: int, value: int) -> Subnet | None:
        prefix_map = self._subnets_by_vpc.get(vpc_id)
        ids = prefix_map.longest(family, value) if prefix_map else []
        return self.subnets[ids[0]] if ids else None

    def vpcs_holding(self, family: int, value: int) -> list[Vpc]:
        return [self.vpcs[v] for _, ids in self._vpc_ranges.matches(family, value) for v in ids]

    def vpc_holds(self, vpc_id: str, family: int, value: int) -> bool:
        return any(c.contains(family, value) for c in self.vpcs[vpc_id].cidrs)

    def route_table_of(self, subnet: Subnet) -> RouteTable | None:
        return self.route_tables.get(subnet.route_table) if subnet.route_table else None

    def nacl_of(self, subnet: Subnet) -> NetworkAcl | None:
        return self.nacls.get(subnet.nacl) if subnet.nacl else None

    def gateway_for_interface(self, interface_id: str) -> Gateway | None:
        for gateway in self.gateways.values():
            if gateway.interface_id == interface_id:
                return gateway
        return None

    def __getstate__(self) -> dict[str, object]:
        # what is built on first use (the interface decision, its memos) is not part of the compiled network
        return {k: v for k, v in self.__dict__.items() if k != "_decision"}

    # --- security groups -----------------------------------------------------------------------

    def group_label(self, group_id: str) -> str:
        """'sg-0abc (web-sg)', or the bare id for a group without a name or not in the snapshot."""
        group = self.security_groups.get(group_id)
        return f"{group_id} ({group.name})" if group and group.name else group_id

    def sg_table(self, groups: tuple[str, ...], direction: str) -> RuleTable:
        """The union of the groups' rules in one direction (an interface's effective rules)."""
        key = (groups, direction)
        table = self._sg_tables.get(key)
        if table is None:
            lines = [
                line
                for g in groups
                if g in self.security_groups
                for line in getattr(self.security_groups[g], f"{direction}_lines")
            ]
            table = RuleTable.build(lines)
            self._sg_tables[key] = table
        return table
