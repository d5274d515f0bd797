"""Network interface calls applied to a snapshot: its security groups, source/destination check, description."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reach.change.calls import ModifyNetworkInterfaceAttribute
from reach.change.work import Work
from reach.snapshot.network_interface import GroupIdentifier


def modify_attribute(work: Work, call: ModifyNetworkInterfaceAttribute) -> None:
    interface_id = call.network_interface_id
    position, eni = work.get("NetworkInterfaces", "network_interface_id", interface_id, "network interface")
    update: dict[str, Any] = {}
    if call.groups is not None:
        groups = []
        for group_id in call.groups:
            _, group = work.get("SecurityGroups", "group_id", group_id, "security group")
            groups.append(GroupIdentifier(group_id=group_id, group_name=group.group_name))
        if not groups:
            raise work.fail("an interface needs at least one security group")
        update["groups"] = groups
    if call.source_dest_check is not None:
        update["source_dest_check"] = call.source_dest_check.value
    if call.description is not None:
        update["description"] = call.description.value
    work.put("NetworkInterfaces", position, eni.model_copy(update=update))


HANDLERS: dict[type, Callable[[Work, Any], None]] = {ModifyNetworkInterfaceAttribute: modify_attribute}
