"""What a walk carries from step to step: the leg's state, and the trace the steps write.

`Leg` is the state one packet's walk needs beyond the packet itself (each move carries its packet): whether
this is the response, the NAT and appliance sessions the request opened, the transit gateway zones and
traversals, whether security-group membership survived the way it came, the routing-loop counter. The
state lives for the whole explanation, request then response: the response finds the request's sessions.

`Trace` is what the steps found: hops, blockers (with what the fix needs), notes (and, among them, what reach
assumed because the snapshot lacks it), the graph nodes visited, the records flow logs would write, and where
the request left the modelled network. A step changes the leg and appends to the trace; nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple

from reach.engine.explanation import Blocker, FlowLogRecord, Hop
from reach.engine.fixes import FixContext, suggest_fix
from reach.engine.packet import Packet
from reach.engine.topology import Topology
from reach.model.addr import format_address
from reach.model.network import Network, Route, RouteTable, Subnet
from reach.model.protocols import PORTED
from reach.model.vocabulary import Action, Direction, Reason, Verdict

MAX_ROUTINGS = 32  # a packet routed more often than this is in a loop (appliances routing to each other)
MAX_TRANSIT_HOPS = 16  # transit gateway traversals before reach calls it a loop


class End(StrEnum):
    """Where a leg ended."""

    INTERFACE = "interface"
    INTERNET = "internet"
    EXIT = "exit"  # a gateway that leaves the snapshot (VPN, a peer or network the snapshot lacks)
    SERVICE = "service"  # an AWS service behind a gateway endpoint: the destination itself
    HOST = "host"  # a service the instance's host answers (Amazon DNS, instance metadata, Time Sync...)


class Arrival(NamedTuple):
    end: End
    id: str
    packet: Packet  # as delivered


@dataclass(frozen=True)
class Exit:
    """Where the request left the modelled network: the component, and what the snapshot says lies beyond
    it ("towards 19.168.0.0/16, the static route of vpn-…")."""

    kind: str
    id: str
    beyond: str


@dataclass
class Record:
    """A flow-log record the walk predicts; its action turns REJECT when a filter there denies."""

    interface_id: str
    direction: Direction
    packet: Packet
    srcaddr: str
    dstaddr: str
    return_path: bool
    action: Verdict = Verdict.ACCEPT


@dataclass
class Trace:
    hops: list[Hop] = field(default_factory=list)
    blockers: list[Blocker] = field(default_factory=list)
    fix_contexts: list[FixContext | None] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    assumed: list[str] = field(default_factory=list)  # the notes that say what reach assumed for missing data
    path: list[str] = field(default_factory=list)  # graph nodes visited, in order
    records: list[Record] = field(default_factory=list)
    alive: bool = True  # no filter has really denied the packet yet
    left: Exit | None = None  # the request left the snapshot there

    def flow_log_records(self) -> list[FlowLogRecord]:
        out = []
        for r in self.records:
            ports = r.packet.protocol in PORTED
            src_ports, dst_ports = r.packet.src_ports, r.packet.dst_ports
            out.append(
                FlowLogRecord(
                    interface_id=r.interface_id,
                    direction=r.direction,
                    action=r.action,
                    return_path=r.return_path,
                    srcaddr=r.srcaddr,
                    dstaddr=r.dstaddr,
                    srcport=(src_ports[0] if src_ports[0] == src_ports[1] else None) if ports else 0,
                    dstport=(dst_ports[0] if dst_ports[0] == dst_ports[1] else None) if ports else 0,
                    protocol=r.packet.protocol if r.packet.protocol >= 0 else None,
                )
            )
        return out


@dataclass
class Leg:
    topology: Topology
    trace: Trace = field(default_factory=Trace)
    response: bool = False
    groups_kept: bool | None = None  # came through a transit gateway: does it keep security group membership?
    groups_lost: tuple[Reason, str] | None = None  # what discarded membership: the reason code and the component
    routed: int = 0  # VPC routers crossed (loop guard)
    transit_hops: int = 0  # transit gateway traversals (loop guard)
    transit_zones: dict[str, str] = field(default_factory=dict)  # attachment -> AZ the request entered in
    nat_sessions: dict[str, tuple[int, tuple[int, int]]] = field(default_factory=dict)  # NAT gateway -> client
    appliance_sessions: dict[str, tuple[int, tuple[int, int]]] = field(default_factory=dict)  # NAT instances
    last_route: tuple[RouteTable, Route] | None = None
    auto_tracked: str | None = None  # what the connection came through that AWS tracks automatically (NAT, TGW)
    forwarders: list[tuple[bool, str]] = field(default_factory=list)  # (response?, appliance) that forwarded

    network: Network = field(init=False, repr=False)  # the topology's, at hand for every step

    def __post_init__(self) -> None:
        self.network = self.topology.network

    # --- writing the trace -------------------------------------------------------------------------

    def hop(
        self,
        kind: str,
        id: str | None,
        detail: str,
        *,
        direction: str | None = None,
        decision: Action = Action.ALLOW,
        rule: int | str | None = None,
    ) -> None:
        self.trace.hops.append(
            Hop(
                kind=kind,
                id=id,
                direction=direction,
                decision=decision,
                rule=rule,
                detail=detail,
                return_path=self.response,
            )
        )
        if id is not None:
            self.trace.path.append(id)

    def block(
        self,
        kind: str,
        id: str | None,
        reason: Reason,
        detail: str,
        *,
        direction: str | None = None,
        rule: int | str | None = None,
        groups: list[str] | None = None,
        record: Record | None = None,
        blocked_ports: str | None = None,
        fix_context: FixContext | None = None,
    ) -> None:
        self.hop(kind, id, detail, direction=direction, decision=Action.DENY, rule=rule)
        self.trace.blockers.append(
            Blocker(
                kind=kind,
                id=id,
                direction=direction,
                rule=rule,
                return_path=self.response,
                groups=groups,
                detail=detail,
                reason=reason,
                blocked_ports=blocked_ports,
            )
        )
        if record is not None and self.trace.alive:
            record.action = Verdict.REJECT
        self.trace.alive = False
        self.trace.fix_contexts.append(fix_context)

    def note(self, text: str) -> None:
        self.trace.notes.append(text)

    def note_once(self, text: str) -> None:
        if text not in self.trace.notes:
            self.trace.notes.append(text)

    def assume(self, text: str) -> None:
        """Say, once, what reach assumed because the snapshot lacks it (a note, and an "Assumed" line)."""
        self.note_once(text)
        if text not in self.trace.assumed:
            self.trace.assumed.append(text)

    def lacks(self, key: str) -> bool:
        """Does the snapshot lack a whole describe-* kind (no file holds the key, not even empty)?"""
        return key in self.network.absent

    def blocked_at(self, id: str | None, reason: Reason) -> bool:
        """Has this component already been named a blocker for this reason (the request, then its response)?"""
        return any(b.id == id and b.reason == reason for b in self.trace.blockers)

    def discard_groups(self, reason: Reason, where: str) -> None:
        """The way the packet came discards its security group membership: rules that admit members of a
        group no longer admit it (`reason` says why, `where` names the component)."""
        self.groups_kept = False
        self.groups_lost = (reason, where)

    def leave(
        self, kind: str, id: str, detail: str, packet: Packet, note: str | None = None, *, beyond: str | None = None,
        assumed: bool = False,
    ) -> Arrival:
        """The path leaves what the snapshot shows (a VPN, another account's network): an exit, said so.
        `beyond`: what the snapshot says lies past it ("towards 19.168.0.0/16 (static route of vpn-…)");
        `assumed`: the note says what reach assumed for a piece the snapshot lacks."""
        if note:
            (self.assume if assumed else self.note)(note)
        self.hop(kind, id, detail, direction=Direction.EGRESS)
        return self.exit(kind, id, packet, beyond)

    def exit(self, kind: str, id: str, packet: Packet, beyond: str | None = None) -> Arrival:
        """The packet is out of the modelled network at `id`; the request's first exit is remembered."""
        if not self.response and self.trace.left is None:
            self.trace.left = Exit(kind, id, beyond or f"through {id} towards {packet.dst_text}")
        return Arrival(End.EXIT, id, packet)

    def observe(self, interface_id: str | None, direction: Direction, packet: Packet) -> Record | None:
        """The record flow logs on the interface would write, while no filter has denied the packet."""
        if interface_id is None or not self.trace.alive:
            return None
        interface = self.network.interfaces.get(interface_id)
        src, dst = packet.src_text, packet.dst_text
        primary = interface.primary_ip if interface else None
        # An interface logs its own primary address where the packet is not addressed to or from it.
        if interface and primary and direction == Direction.INGRESS and not interface.holds(packet.family, packet.dst):
            dst = format_address(*primary)
        if interface and primary and direction == Direction.EGRESS and not interface.holds(packet.family, packet.src):
            src = format_address(*primary)
        record = Record(interface_id, direction, packet, src, dst, self.response)
        self.trace.records.append(record)
        return record

    def fixes(self) -> list[str | None]:
        return [
            suggest_fix(self.network, b, ctx)
            for b, ctx in zip(self.trace.blockers, self.trace.fix_contexts, strict=True)
        ]

    # --- what the snapshot lacks, said once --------------------------------------------------------

    def vpc_holds(self, vpc_id: str, family: int, value: int) -> bool:
        """Is the address in the VPC; for a VPC the snapshot lacks, judged by its subnets and interfaces."""
        self.vpc_seen(vpc_id)
        return self.topology.vpc_holds(vpc_id, family, value)

    def vpc_seen(self, vpc_id: str) -> None:
        """The walk uses the VPC: if the snapshot lacks it but holds its subnets, say what reach did."""
        if not self.topology.vpc_known(vpc_id) and self.topology.has_vpc(vpc_id):
            self.assume(
                f"{vpc_id} is not in the snapshot (describe-vpcs): reach took its range from the subnets and "
                "interfaces it holds"
            )

    def subnet(self, subnet_id: str, vpc_id: str, of: str) -> Subnet:
        """The subnet `of` sits in; one the snapshot lacks is a stand-in, and the trace says what was assumed."""
        subnet = self.topology.subnet(subnet_id, vpc_id)
        if not self.topology.subnet_known(subnet_id):
            routed = (
                f"routed by {vpc_id}'s main route table {subnet.route_table}"
                if subnet.route_table
                else "routed by the VPC's local route only (its route table is unknown)"
            )
            self.assume(
                f"{subnet_id}, where {of} sits, is not in the snapshot (describe-subnets): reach assumed no network "
                f"ACL filters it and it is {routed}"
            )
        return subnet
