"""describe-instances: the shapes, and the instances compiled with the interfaces that are theirs.

An instance the snapshot knows only from an interface's `Attachment.InstanceId` (no describe-instances)
still resolves by its id.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from reach.model.network import Instance as CompiledInstance
from reach.model.network import Interface
from reach.snapshot.base import AwsModel, Compiled, Tag, name_tag
from reach.snapshot.network_interface import GroupIdentifier, InterfaceShape, qualified

if TYPE_CHECKING:
    from reach.snapshot.loader import SnapshotResources


class InstanceState(AwsModel):
    name: str = "running"


class AwsInstance(AwsModel):
    instance_id: str
    state: InstanceState = InstanceState()
    subnet_id: str | None = None
    vpc_id: str | None = None
    private_ip_address: str | None = None
    public_ip_address: str | None = None
    security_groups: list[GroupIdentifier] = Field(default_factory=list)
    network_interfaces: list[InterfaceShape] = Field(default_factory=list)
    source_dest_check: bool | None = None
    tags: list[Tag] = Field(default_factory=list)

    @property
    def name(self) -> str | None:
        return name_tag(self.tags)


class Reservation(AwsModel):
    instances: list[AwsInstance] = Field(default_factory=list)
    owner_id: str | None = None


# --- compile -----------------------------------------------------------------------------------------

UNKNOWN_STATE = "unknown"  # an instance known only from an interface's attachment


def compile_instances(
    snapshot: SnapshotResources, interfaces: dict[str, Interface]
) -> Compiled[dict[str, CompiledInstance]]:
    """Each instance with its interfaces, primary first: the ones it lists (under the key the interfaces
    pass gave them), then any interface whose attachment names it."""
    instances: dict[str, CompiledInstance] = {}
    for reservation in snapshot.reservations:
        for instance in reservation.instances:
            listed = sorted(
                enumerate(instance.network_interfaces),
                key=lambda pair: (
                    pair[1].attachment.device_index
                    if pair[1].attachment and pair[1].attachment.device_index is not None
                    else pair[0]
                ),
            )
            ids = [_key(shape.network_interface_id, instance.instance_id, interfaces) for _, shape in listed]
            if instance.instance_id in interfaces:  # built from the instance's own address
                ids.append(instance.instance_id)
            instances[instance.instance_id] = CompiledInstance(
                id=instance.instance_id, name=instance.name, state=instance.state.name, interfaces=tuple(ids)
            )
    attached: dict[str, list[str]] = {}
    for interface in interfaces.values():
        if interface.instance_id:
            attached.setdefault(interface.instance_id, []).append(interface.id)
    for instance_id, ids in sorted(attached.items()):
        known = instances.get(instance_id)
        if known is None:
            instances[instance_id] = CompiledInstance(instance_id, None, UNKNOWN_STATE, tuple(ids))
        elif missing := [i for i in ids if i not in known.interfaces]:
            instances[instance_id] = CompiledInstance(
                known.id, known.name, known.state, known.interfaces + tuple(missing)
            )
    return Compiled(instances)


def _key(interface_id: str, instance_id: str, interfaces: dict[str, Interface]) -> str:
    """The key this instance's copy of an interface has: the bare id, unless another instance holds it."""
    found = interfaces.get(interface_id)
    if found is not None and found.instance_id not in (None, instance_id):
        other = qualified(interface_id, instance_id)
        if other in interfaces:
            return other
    return interface_id
