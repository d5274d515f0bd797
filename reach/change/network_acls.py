"""Network ACL calls applied to a snapshot: entries by direction and rule number, subnet associations, ACLs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reach.change.calls import (
    CreateNetworkAcl,
    CreateNetworkAclEntry,
    DeleteNetworkAcl,
    DeleteNetworkAclEntry,
    ReplaceNetworkAclAssociation,
    ReplaceNetworkAclEntry,
    acl_protocol,
)
from reach.change.work import Work
from reach.snapshot.network_acl import AwsNetworkAcl, IcmpTypeCode, NetworkAclAssociation, NetworkAclEntry


def _entry(call: CreateNetworkAclEntry | ReplaceNetworkAclEntry) -> NetworkAclEntry:
    """The entry as describe-network-acls would show it."""
    icmp = call.icmp_type_code
    return NetworkAclEntry(
        rule_number=call.rule_number,
        protocol=acl_protocol(call.protocol),
        rule_action=call.rule_action.value,
        egress=call.egress,
        cidr_block=call.cidr_block,
        ipv6_cidr_block=call.ipv6_cidr_block,
        port_range={"From": call.port_range.low, "To": call.port_range.high} if call.port_range else None,
        icmp_type_code=IcmpTypeCode(type=icmp.type, code=icmp.code) if icmp else None,
    )


def _acl(work: Work, acl_id: str) -> tuple[int, AwsNetworkAcl]:
    return work.get("NetworkAcls", "network_acl_id", acl_id, "network ACL")


def _entry_position(acl: AwsNetworkAcl, number: int, egress: bool) -> int:
    for position, entry in enumerate(acl.entries):
        if entry.rule_number == number and entry.egress == egress:
            return position
    return -1


def _side(egress: bool) -> str:
    return "outbound" if egress else "inbound"


def create_entry(work: Work, call: CreateNetworkAclEntry) -> None:
    position, acl = _acl(work, call.network_acl_id)
    if _entry_position(acl, call.rule_number, call.egress) >= 0:
        raise work.fail(
            f"network ACL {acl.network_acl_id} already has {_side(call.egress)} rule #{call.rule_number} "
            "(AWS: NetworkAclEntryAlreadyExists); use ReplaceNetworkAclEntry"
        )
    work.put("NetworkAcls", position, acl.model_copy(update={"entries": [*acl.entries, _entry(call)]}))


def replace_entry(work: Work, call: ReplaceNetworkAclEntry) -> None:
    position, acl = _acl(work, call.network_acl_id)
    at = _entry_position(acl, call.rule_number, call.egress)
    if at < 0:
        raise work.fail(
            f"network ACL {acl.network_acl_id} has no {_side(call.egress)} rule #{call.rule_number} to replace"
        )
    entries = list(acl.entries)
    entries[at] = _entry(call)
    work.put("NetworkAcls", position, acl.model_copy(update={"entries": entries}))


def delete_entry(work: Work, call: DeleteNetworkAclEntry) -> None:
    position, acl = _acl(work, call.network_acl_id)
    at = _entry_position(acl, call.rule_number, call.egress)
    if at < 0:
        raise work.fail(
            f"network ACL {acl.network_acl_id} has no {_side(call.egress)} rule #{call.rule_number} to delete"
        )
    entries = [e for i, e in enumerate(acl.entries) if i != at]
    work.put("NetworkAcls", position, acl.model_copy(update={"entries": entries}))


def replace_association(work: Work, call: ReplaceNetworkAclAssociation) -> None:
    """Moves a subnet to another ACL, found by its association id or (reach's own) by the subnet's id."""
    target_position, _ = _acl(work, call.network_acl_id)
    found: NetworkAclAssociation | None = None
    for position, acl in enumerate(work.items("NetworkAcls")):
        for association in acl.associations:
            if association.network_acl_association_id == call.association_id or (
                not call.association_id and association.subnet_id == call.subnet_id
            ):
                found = association
                rest = [a for a in acl.associations if a is not association]
                work.put("NetworkAcls", position, acl.model_copy(update={"associations": rest}))
                break
        if found is not None:
            break
    if found is None:
        if call.association_id:
            raise work.fail(f"network ACL association {call.association_id} is not in the snapshot")
        work.get("Subnets", "subnet_id", str(call.subnet_id), "subnet")  # on its VPC's default ACL, implicitly
    target = work.items("NetworkAcls")[target_position]
    moved = NetworkAclAssociation(
        subnet_id=found.subnet_id if found else str(call.subnet_id),
        network_acl_id=target.network_acl_id,
        network_acl_association_id=work.planned("aclassoc"),
    )
    work.put("NetworkAcls", target_position, target.model_copy(update={"associations": [*target.associations, moved]}))


def create_acl(work: Work, call: CreateNetworkAcl) -> None:
    if work.index("Vpcs", "vpc_id", call.vpc_id) < 0:
        raise work.fail(f"VPC {call.vpc_id} is not in the snapshot")
    acl_id = call.network_acl_id or work.planned("acl")
    if work.index("NetworkAcls", "network_acl_id", acl_id) >= 0:
        raise work.fail(f"network ACL {acl_id} already exists")
    # A new ACL denies everything until entries are added (the * rules).
    defaults = [
        NetworkAclEntry(rule_number=32767, protocol="-1", rule_action="deny", egress=egress, cidr_block="0.0.0.0/0")
        for egress in (False, True)
    ]
    work.items("NetworkAcls").append(AwsNetworkAcl(network_acl_id=acl_id, vpc_id=call.vpc_id, entries=defaults))


def delete_acl(work: Work, call: DeleteNetworkAcl) -> None:
    position, acl = _acl(work, call.network_acl_id)
    if acl.associations:
        raise work.fail(
            f"network ACL {acl.network_acl_id} is still associated with "
            f"{', '.join(a.subnet_id for a in acl.associations)} (AWS: DependencyViolation)"
        )
    if acl.is_default:
        raise work.fail(f"network ACL {acl.network_acl_id} is its VPC's default and cannot be deleted")
    del work.items("NetworkAcls")[position]


HANDLERS: dict[type, Callable[[Work, Any], None]] = {
    CreateNetworkAclEntry: create_entry,
    ReplaceNetworkAclEntry: replace_entry,
    DeleteNetworkAclEntry: delete_entry,
    ReplaceNetworkAclAssociation: replace_association,
    CreateNetworkAcl: create_acl,
    DeleteNetworkAcl: delete_acl,
}
