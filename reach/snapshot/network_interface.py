"""Network interfaces, as describe-network-interfaces and describe-instances both describe them.

An instance's `NetworkInterfaces[]` (groups, addresses, subnet, attachment) is as authoritative as
describe-network-interfaces: the two are merged, and where both describe one interface and disagree, a
warning names both and says which is used. An interface id that several instances claim is kept apart
per instance (never merged into one), the first instance by id keeping the bare id.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from pydantic import Field

from reach.model.addr import format_address
from reach.model.network import Interface
from reach.snapshot.base import AwsModel, Compiled, Origin, Tag, name_tag, parse_ip, where

if TYPE_CHECKING:
    from reach.snapshot.gateways import Address
    from reach.snapshot.instance import AwsInstance, Reservation
    from reach.snapshot.loader import SnapshotResources


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


class InterfaceShape(AwsModel):
    """What describe-network-interfaces and an instance's `NetworkInterfaces[]` share."""

    network_interface_id: str
    subnet_id: str | None = None
    vpc_id: str | None = None
    private_ip_address: str | None = None
    private_ip_addresses: list[PrivateIp] = Field(default_factory=list)
    ipv6_addresses: list[Ipv6Address] = Field(default_factory=list)
    association: IpAssociation | None = None
    groups: list[GroupIdentifier] = Field(default_factory=list)
    source_dest_check: bool = True
    interface_type: str = "interface"
    status: str | None = None
    attachment: InterfaceAttachment | None = None
    description: str | None = None
    owner_id: str | None = None


class NetworkInterface(InterfaceShape):
    subnet_id: str
    vpc_id: str
    availability_zone: str | None = None
    requester_managed: bool = False
    tag_set: list[Tag] = Field(default_factory=list)


# --- compile -----------------------------------------------------------------------------------------


def qualified(interface_id: str, instance_id: str) -> str:
    """The key of a copy of `interface_id` that a second instance claims: kept apart, never merged."""
    return f"{interface_id}@{instance_id}"


def compile_interfaces(snapshot: SnapshotResources) -> Compiled[dict[str, Interface]]:
    """Every interface: describe-network-interfaces first, then what describe-instances adds or contradicts."""
    eips = {a.network_interface_id: a for a in snapshot.addresses if a.network_interface_id}
    interfaces: dict[str, Interface] = {}
    for eni in snapshot.network_interfaces:
        at = where(snapshot.origins, eni.network_interface_id)
        private, public = _addresses(eni, eips.get(eni.network_interface_id), at)
        interfaces[eni.network_interface_id] = Interface(
            id=eni.network_interface_id,
            name=name_tag(eni.tag_set),
            kind=eni.interface_type,
            description=eni.description,
            vpc_id=eni.vpc_id,
            subnet_id=eni.subnet_id,
            private_ips=tuple(private),
            public_ips=tuple(public),
            groups=tuple(g.group_id for g in eni.groups),
            source_dest_check=eni.source_dest_check,
            instance_id=eni.attachment.instance_id if eni.attachment else None,
            owner=eni.owner_id,
            requester_managed=eni.requester_managed,
        )
    warnings: list[str] = []
    listed = set(interfaces)
    claimed: dict[str, _Claim] = {}  # interface id -> the instance whose copy holds the bare id
    for claim in sorted(_claims(snapshot), key=lambda c: (c.instance.instance_id, c.index)):
        label = claim.shape.network_interface_id if claim.shape else "its interface"
        state = claim.instance.state.name
        if state != "running":
            if not claim.shape or label not in listed:
                warnings.append(
                    f"instance {claim.instance.instance_id} is {state}: {label}, known only from "
                    "describe-instances, is left out (nothing there answers)"
                )
            continue
        built = _from_instance(claim, eips, snapshot)
        if built is None:
            warnings.append(
                f"instance {claim.instance.instance_id}: {label} has no subnet or private address in the "
                "snapshot, so it cannot be placed: left out"
            )
            continue
        if built.id in listed:
            interfaces[built.id], said = _reconcile(interfaces[built.id], built, claim, snapshot)
            warnings += said
            continue
        first = claimed.get(built.id)
        if first is not None and first.instance.instance_id != claim.instance.instance_id:
            key = qualified(built.id, claim.instance.instance_id)
            warnings.append(
                f"interface {built.id} is given by two instances with different content: "
                f"{first.instance.instance_id} ({first.origin.label}) and {claim.instance.instance_id} "
                f"({claim.origin.label}); the first by instance id keeps {built.id}, the other is kept apart as {key}"
            )
            built = replace(built, id=key)
        else:
            claimed[built.id] = claim
        interfaces[built.id] = built
        if claim.built_from_instance:
            warnings.append(
                f"instance {claim.instance.instance_id}: interface {built.id} not in the snapshot; "
                "built from the instance record"
            )
    # An untagged interface goes by its instance's Name tag, as the console shows it.
    names = {i.instance_id: i.name for r in snapshot.reservations for i in r.instances if i.name}
    for key, interface in interfaces.items():
        if interface.name is None and interface.instance_id in names:
            interfaces[key] = replace(interface, name=names[interface.instance_id])
    return Compiled(interfaces, tuple(warnings))


@dataclass(frozen=True)
class _Claim:
    """One interface as one instance of describe-instances describes it."""

    instance: AwsInstance
    owner: str | None
    shape: InterfaceShape | None  # None: the instance lists no NetworkInterfaces, only its own addresses
    index: int  # device index: the primary interface first
    origin: Origin

    @property
    def built_from_instance(self) -> bool:
        """Only the instance's own fields describe it (no interface entry with addresses)."""
        return self.shape is None or not (self.shape.private_ip_address or self.shape.private_ip_addresses)


def _claims(snapshot: SnapshotResources) -> Iterable[_Claim]:
    reservations: list[Reservation] = snapshot.reservations
    for reservation in reservations:
        for instance in reservation.instances:
            origin = snapshot.origins.get(instance.instance_id) or Origin("", None, None)
            if not instance.network_interfaces:
                yield _Claim(instance, reservation.owner_id, None, 0, origin)
            for order, shape in enumerate(instance.network_interfaces):
                device = shape.attachment.device_index if shape.attachment else None
                yield _Claim(instance, reservation.owner_id, shape, device if device is not None else order, origin)


def _from_instance(claim: _Claim, eips: dict[str, Address], snapshot: SnapshotResources) -> Interface | None:
    """The interface a running instance's record describes; None when it says too little to place it.
    Where the record lists the interface without addresses, the instance's own primary address, subnet and
    groups stand in for its primary interface."""
    instance, shape = claim.instance, claim.shape
    at = where(snapshot.origins, instance.instance_id)
    primary = claim.index == 0
    private: list[tuple[int, int]] = []
    public: list[tuple[int, int]] = []
    if shape is not None:
        private, public = _addresses(shape, eips.get(shape.network_interface_id), at)
    if primary and not private and instance.private_ip_address:
        private = [parse_ip(instance.private_ip_address, at)]
    if primary and instance.public_ip_address and private and not public:
        public = [(parse_ip(instance.public_ip_address, at)[1], private[0][1])]
    subnet_id = (shape.subnet_id if shape else None) or (instance.subnet_id if primary else None)
    if subnet_id is None or not private:
        return None
    # An interface lists its own groups; the instance's apply to its primary interface when it does not.
    groups = [g.group_id for g in shape.groups] if shape else []
    if primary and not groups:
        groups = [g.group_id for g in instance.security_groups]
    source_dest_check = shape.source_dest_check if shape else instance.source_dest_check
    return Interface(
        id=shape.network_interface_id if shape else instance.instance_id,
        name=instance.name,
        kind=shape.interface_type if shape else "interface",
        description=shape.description if shape else None,
        vpc_id=(shape.vpc_id if shape else None) or instance.vpc_id or "",
        subnet_id=subnet_id,
        private_ips=tuple(private),
        public_ips=tuple(public),
        groups=tuple(groups),
        source_dest_check=source_dest_check if source_dest_check is not None else True,
        instance_id=instance.instance_id,
        owner=(shape.owner_id if shape else None) or claim.owner,
        requester_managed=False,
    )


def _reconcile(
    listed: Interface, described: Interface, claim: _Claim, snapshot: SnapshotResources
) -> tuple[Interface, list[str]]:
    """describe-network-interfaces' copy, completed from the instance's (name, attachment); a warning per
    field the two disagree on. The describe-network-interfaces copy is used: it is the interface's own call."""
    said = []
    source = snapshot.origins.get(listed.id)
    both = f"describe-network-interfaces ({source.label if source else '?'}) and describe-instances " + (
        f"({claim.instance.instance_id}, {claim.origin.label})"
    )
    for label, mine, theirs in (
        ("security groups", sorted(listed.groups), sorted(described.groups)),
        ("private addresses", sorted(listed.private_ips), sorted(described.private_ips)),
        ("subnet", listed.subnet_id, described.subnet_id),
    ):
        if mine != theirs:
            said.append(
                f"interface {listed.id}: {both} disagree on its {label} "
                f"({_show(mine)} against {_show(theirs)}); the describe-network-interfaces copy is used"
            )
    if listed.instance_id not in (None, claim.instance.instance_id):
        said.append(
            f"interface {listed.id}: {both} disagree on its instance ({listed.instance_id} against "
            f"{claim.instance.instance_id}); the describe-network-interfaces copy is used"
        )
    completed = replace(
        listed,
        name=listed.name or described.name,
        instance_id=listed.instance_id or claim.instance.instance_id,
        public_ips=listed.public_ips or described.public_ips,
    )
    return completed, said


def _show(value: object) -> str:
    if isinstance(value, list):
        return ", ".join(format_address(*v) if isinstance(v, tuple) else str(v) for v in value) or "none"
    return str(value)


def _addresses(
    eni: InterfaceShape, eip: Address | None, at: str
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """(private addresses, primary IPv4 first then IPv6; (public, private) IPv4 pairs)."""
    private: list[tuple[int, int]] = []
    public: list[tuple[int, int]] = []
    listed = [eni.private_ip_address] if eni.private_ip_address else []
    listed += [p.private_ip_address for p in sorted(eni.private_ip_addresses, key=lambda p: not p.primary)]
    for text in listed:
        address = parse_ip(text, at)
        if address not in private:
            private.append(address)
    for entry in eni.private_ip_addresses:
        if entry.association and entry.association.public_ip:
            public.append((parse_ip(entry.association.public_ip, at)[1], parse_ip(entry.private_ip_address, at)[1]))
    if eni.association and eni.association.public_ip and private:
        pair = (parse_ip(eni.association.public_ip, at)[1], private[0][1])
        if pair not in public:
            public.append(pair)
    if eip and eip.private_ip_address:
        pair = (parse_ip(eip.public_ip, at)[1], parse_ip(eip.private_ip_address, at)[1])
        if pair not in public:
            public.append(pair)
    private += [parse_ip(a.ipv6_address, at) for a in eni.ipv6_addresses]
    return private, public
