"""The compiled network: AWS resources reduced to what decides a packet's fate.

Built once per snapshot by `reach.snapshot.compile`; explain, reconcile and what-if read only this.

Its resources are dicts by id, read and never written once compiled. A network taken from the compile cache
(`reach.snapshot.store`) holds dicts that build their resources on first use, a few at a time, and an
`AddressIndex` of NumPy columns read from the cache file: a query pays for what it touches.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from reach.model.addr import IPV4, Cidr, split
from reach.model.load_balancer import LoadBalancing
from reach.model.match import within
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


# A private address as one sortable key: NumPy orders a structured array field by field, as numbers.
ADDRESS = np.dtype([("family", "u1"), ("hi", "<u8"), ("lo", "<u8")])
# A subnet CIDR: its family, prefix length and closed range as 128-bit (hi, lo) halves.
SUBNET_CIDR = np.dtype(
    [("family", "u1"), ("prefixlen", "u1"), ("start_hi", "<u8"), ("start_lo", "<u8"), ("end_hi", "<u8"),
     ("end_lo", "<u8")]
)


@dataclass(frozen=True)
class AddressIndex:
    """Where an address leads, as sorted NumPy columns: the interfaces holding a private address, the
    interface a public IPv4 address maps to, the subnet of a VPC holding an address.

    Built once per network; the compile cache stores the columns as they are, so a network read from it
    answers these lookups without a pass over its interfaces and subnets.
    """

    interface_ids: Sequence[str]  # what `private_row` and `public_row` point into
    private: np.ndarray  # ADDRESS, sorted; equal addresses in the network's order
    private_row: np.ndarray  # int32
    public: np.ndarray  # uint64 public IPv4, sorted, distinct
    public_row: np.ndarray  # int32: the interface it maps to (the last one listed, as a dict would keep)
    public_private: np.ndarray  # uint64: the private IPv4 behind it
    subnet_ids: Sequence[str]  # what `cidr_subnet` points into
    vpc_ids: Sequence[str]  # the VPCs subnets are in, in order; VPC i owns cidr rows vpc_start[i]:vpc_start[i+1]
    vpc_start: np.ndarray  # int64
    cidr: np.ndarray  # SUBNET_CIDR, grouped by VPC, in the network's order within one
    cidr_subnet: np.ndarray  # int32

    @classmethod
    def of(cls, interfaces: Mapping[str, Interface], subnets: Mapping[str, Subnet]) -> AddressIndex:
        interface_ids = list(interfaces)
        private: list[tuple[int, int, int]] = []
        private_row: list[int] = []
        public: list[tuple[int, int, int]] = []  # (public, row, private)
        for row, interface in enumerate(interfaces.values()):
            for family, value in interface.private_ips:
                private.append((family, *split(value)))
                private_row.append(row)
            public += [(address, row, behind) for address, behind in interface.public_ips]
        keys = np.array(private, dtype=ADDRESS)
        order = np.argsort(keys, kind="stable")
        last = public[::-1]  # a later interface holding the same public address wins
        distinct = np.unique(np.array([p[0] for p in last], dtype=np.uint64), return_index=True)[1]
        chosen = [last[i] for i in distinct.tolist()]
        subnet_ids = list(subnets)
        vpc_ids = list(dict.fromkeys(subnet.vpc_id for subnet in subnets.values()))
        vpc_position = {vpc_id: i for i, vpc_id in enumerate(vpc_ids)}
        cidrs: list[tuple[int, tuple[int, ...], int]] = []  # (vpc, SUBNET_CIDR row, subnet row)
        for row, subnet in enumerate(subnets.values()):
            cidrs += [
                (vpc_position[subnet.vpc_id], (c.family, c.prefixlen, *split(c.start), *split(c.end)), row)
                for c in subnet.cidrs
            ]
        cidrs.sort(key=lambda c: c[0])  # stable: the network's order within a VPC
        counts = np.bincount(np.array([c[0] for c in cidrs], dtype=np.int64), minlength=len(vpc_ids))
        return cls(
            interface_ids=interface_ids,
            private=keys[order],
            private_row=np.array(private_row, dtype=np.int32)[order],
            public=np.array([p[0] for p in chosen], dtype=np.uint64),
            public_row=np.array([p[1] for p in chosen], dtype=np.int32),
            public_private=np.array([p[2] for p in chosen], dtype=np.uint64),
            subnet_ids=subnet_ids,
            vpc_ids=vpc_ids,
            vpc_start=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
            cidr=np.array([c[1] for c in cidrs], dtype=SUBNET_CIDR),
            cidr_subnet=np.array([c[2] for c in cidrs], dtype=np.int32),
        )

    def holders(self, family: int, value: int) -> list[str]:
        """Ids of the interfaces holding a private address, in the network's order."""
        found = self._holders.get((family, value))
        if found is None:  # remembered: a walk asks for the same few addresses again and again
            probe = np.array([(family, *split(value))], dtype=ADDRESS)
            begin = int(np.searchsorted(self.private, probe, side="left")[0])
            end = int(np.searchsorted(self.private, probe, side="right")[0])
            found = [self.interface_ids[r] for r in self.private_row[begin:end].tolist()]
            self._holders[(family, value)] = found
        return list(found)

    @functools.cached_property
    def _holders(self) -> dict[tuple[int, int], list[str]]:
        return {}

    def public_owner(self, value: int) -> tuple[str, int] | None:
        """(interface id, private IPv4) a public IPv4 address maps to."""
        if not 0 <= value <= 0xFFFFFFFF:
            return None
        at = int(np.searchsorted(self.public, np.uint64(value)))
        if at == len(self.public) or int(self.public[at]) != value:
            return None
        return self.interface_ids[int(self.public_row[at])], int(self.public_private[at])

    def subnet_of(self, vpc_id: str, family: int, value: int) -> str | None:
        """The id of the VPC's subnet holding the address: the longest prefix, the first listed on a tie."""
        vpc = self._vpc_position.get(vpc_id)
        if vpc is None:
            return None
        rows = slice(int(self.vpc_start[vpc]), int(self.vpc_start[vpc + 1]))
        cidr = self.cidr[rows]
        hi, lo = split(value)
        inside = np.flatnonzero(
            (cidr["family"] == family)
            & within(np.array(hi, np.uint64), np.array(lo, np.uint64), cidr["start_hi"], cidr["start_lo"],
                     cidr["end_hi"], cidr["end_lo"])
        )
        if not len(inside):
            return None
        best = inside[int(np.argmax(cidr["prefixlen"][inside]))]  # argmax: the first of the longest
        return self.subnet_ids[int(self.cidr_subnet[rows][best])]

    @functools.cached_property
    def _vpc_position(self) -> dict[str, int]:
        return {vpc_id: i for i, vpc_id in enumerate(self.vpc_ids)}


class GroupReferences(Mapping[RuleRef, str]):
    """Compiled inbound lines that match by membership of another security group -> that group, read from
    the groups themselves one group at a time: a line's `RuleRef` names its own group (`id`), so a lookup
    builds only that group. A transit gateway without security group referencing support discards that
    membership, so these lines cannot match what it forwards."""

    def __init__(self, security_groups: Mapping[str, SecurityGroup]) -> None:
        self._groups = security_groups
        self._found: dict[str, dict[RuleRef, str]] = {}

    def _of(self, group_id: str) -> dict[RuleRef, str]:
        found = self._found.get(group_id)
        if found is None:
            group = self._groups.get(group_id)
            lines = group.ingress_lines if group is not None else ()
            found = self._found[group_id] = {
                line.ref: line.peer_group for line in lines if line.peer_group is not None
            }
        return found

    def __getitem__(self, ref: RuleRef) -> str:
        if ref.id is None:
            raise KeyError(ref)
        return self._of(ref.id)[ref]

    def __contains__(self, ref: object) -> bool:
        return isinstance(ref, RuleRef) and ref.id is not None and ref in self._of(ref.id)

    def __iter__(self) -> Iterator[RuleRef]:
        for group_id in self._groups:
            yield from self._of(group_id)

    def __len__(self) -> int:
        return sum(len(self._of(group_id)) for group_id in self._groups)

    def __reduce__(self) -> tuple[object, ...]:
        return (dict, (dict(self.items()),))


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
    group_references: Mapping[RuleRef, str] = field(default_factory=dict)
    # interface-set security group tables, compiled on first use and shared by every interface with that set
    _sg_tables: dict[tuple[tuple[str, ...], str], RuleTable] = field(default_factory=dict, repr=False)
    # the address index: given by the compile cache, else built on first use
    _addresses: AddressIndex | None = field(default=None, repr=False)
    # describe-* kinds (CONTRACT §1 top-level keys) that no file of the snapshot holds, not even empty: what
    # the engine knows of them is assumed, never a fact ("no internet gateway" may be "no InternetGateways file")
    absent: frozenset[str] = frozenset()
    # VPN connections, virtual private, customer and Direct Connect gateways: where the network ends
    vpn: VpnNetwork = field(default_factory=VpnNetwork)

    # --- address index -------------------------------------------------------------------------

    @property
    def addresses(self) -> AddressIndex:
        if self._addresses is None:
            self._addresses = AddressIndex.of(self.interfaces, self.subnets)
        return self._addresses

    @functools.cached_property
    def _vpc_ranges(self) -> PrefixMap[str]:
        ranges: PrefixMap[str] = PrefixMap()
        for vpc in self.vpcs.values():
            for cidr in vpc.cidrs:
                ranges.add(cidr, vpc.id)
        return ranges

    def interfaces_at(self, family: int, value: int) -> list[Interface]:
        """Interfaces holding a private address (several when VPC ranges overlap)."""
        return [self.interfaces[i] for i in self.addresses.holders(family, value)]

    def interface_in_vpc(self, vpc_id: str, family: int, value: int) -> Interface | None:
        for interface in self.interfaces_at(family, value):
            if interface.vpc_id == vpc_id:
                return interface
        return None

    def public_owner(self, value: int) -> tuple[Interface, int] | None:
        """The interface a public IPv4 address maps to, and the private address behind it."""
        found = self.addresses.public_owner(value)
        return (self.interfaces[found[0]], found[1]) if found else None

    def subnet_of(self, vpc_id: str, family: int, value: int) -> Subnet | None:
        found = self.addresses.subnet_of(vpc_id, family, value)
        return self.subnets[found] if found is not None else None

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
