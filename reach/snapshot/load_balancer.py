"""Elastic Load Balancing v2 (application, network, gateway load balancers): `aws elbv2 describe-*` shapes.

Recognised top-level keys: `LoadBalancers`, `Listeners` (describe-listeners), `TargetGroups`; Batfish's
`LoadBalancerListeners` (`[{LoadBalancerArn, Listeners}]`), `LoadBalancerTargetHealth`
(`[{TargetGroupArn, TargetHealthDescriptions}]`) and `LoadBalancerAttributes` (`[{LoadBalancerArn,
Attributes}]`); and, like CONTRACT §1's keyed shapes, describe-target-health stored as
`{"TargetGroupArn", "TargetHealthDescriptions"}`, describe-load-balancer-attributes as
`{"LoadBalancerArn", "Attributes"}` and describe-target-group-attributes as `{"TargetGroupArn", "Attributes"}`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from reach.errors import SnapshotError
from reach.model import load_balancer as model
from reach.model.addr import parse_address
from reach.model.load_balancer import LoadBalancing
from reach.model.network import Instance, Interface, Subnet
from reach.snapshot.base import AwsModel, Compiled
from reach.snapshot.ranges import Port

if TYPE_CHECKING:
    from reach.snapshot.loader import SnapshotResources


class LoadBalancerAddress(AwsModel):
    ip_address: str | None = None
    allocation_id: str | None = None
    private_i_pv4_address: str | None = Field(default=None, alias="PrivateIPv4Address")
    i_pv6_address: str | None = Field(default=None, alias="IPv6Address")


class LoadBalancerZone(AwsModel):
    zone_name: str | None = None
    subnet_id: str | None = None
    load_balancer_addresses: list[LoadBalancerAddress] = Field(default_factory=list)


class LoadBalancerState(AwsModel):
    code: str = "active"


class AwsLoadBalancer(AwsModel):
    load_balancer_arn: str
    load_balancer_name: str | None = None
    dns_name: str | None = Field(default=None, alias="DNSName")
    type: str = "application"  # application | network | gateway
    scheme: str | None = None  # internet-facing | internal
    vpc_id: str | None = None
    state: LoadBalancerState | None = None
    availability_zones: list[LoadBalancerZone] = Field(default_factory=list)
    security_groups: list[str] = Field(default_factory=list)
    ip_address_type: str | None = None


class TargetGroupTuple(AwsModel):
    target_group_arn: str
    weight: int | None = None


class ForwardConfig(AwsModel):
    target_groups: list[TargetGroupTuple] = Field(default_factory=list)


class ListenerAction(AwsModel):
    type: str
    target_group_arn: str | None = None
    order: int | None = None
    forward_config: ForwardConfig | None = None

    def target_group_arns(self) -> list[str]:
        arns = [self.target_group_arn] if self.target_group_arn else []
        if self.forward_config:
            arns += [t.target_group_arn for t in self.forward_config.target_groups if t.target_group_arn not in arns]
        return arns


class AwsListener(AwsModel):
    listener_arn: str
    load_balancer_arn: str
    port: Port | None = None
    protocol: str | None = None
    default_actions: list[ListenerAction] = Field(default_factory=list)


class LoadBalancerListeners(AwsModel):
    """Batfish's LoadBalancerListeners item."""

    load_balancer_arn: str
    listeners: list[AwsListener] = Field(default_factory=list)


class AwsTargetGroup(AwsModel):
    target_group_arn: str
    target_group_name: str | None = None
    protocol: str | None = None
    port: Port | None = None
    vpc_id: str | None = None
    target_type: str = "instance"  # instance | ip | lambda | alb
    load_balancer_arns: list[str] = Field(default_factory=list)


class TargetDescription(AwsModel):
    id: str
    port: Port | None = None
    availability_zone: str | None = None


class TargetHealthState(AwsModel):
    state: str | None = None
    reason: str | None = None


class TargetHealthDescription(AwsModel):
    target: TargetDescription
    health_check_port: str | None = None
    target_health: TargetHealthState | None = None


class TargetHealth(AwsModel):
    """describe-target-health for one target group, with the group's ARN added."""

    target_group_arn: str
    target_health_descriptions: list[TargetHealthDescription] = Field(default_factory=list)


class Attribute(AwsModel):
    key: str
    value: str = ""


class LoadBalancerAttributes(AwsModel):
    load_balancer_arn: str
    attributes: list[Attribute] = Field(default_factory=list)


class TargetGroupAttributes(AwsModel):
    target_group_arn: str
    attributes: list[Attribute] = Field(default_factory=list)


# --- compile -----------------------------------------------------------------------------------------


def compile_load_balancers(
    snapshot: SnapshotResources,
    interfaces: dict[str, Interface],
    instances: dict[str, Instance],
    subnets: dict[str, Subnet],
) -> Compiled[LoadBalancing]:
    """Load balancers with their nodes' interfaces (found by the `ELB <type>/<name>/<id>` description AWS
    gives them), listeners, and target groups whose targets are resolved to interfaces."""
    balancers_raw: list[AwsLoadBalancer] = snapshot.of("LoadBalancers")
    if not balancers_raw:
        return Compiled(LoadBalancing())
    warnings: list[str] = []
    listeners: dict[str, list[AwsListener]] = {}
    for listener in snapshot.of("Listeners"):
        listeners.setdefault(listener.load_balancer_arn, []).append(listener)
    for listing in snapshot.of("LoadBalancerListeners"):
        for listener in listing.listeners:
            known = listeners.setdefault(listing.load_balancer_arn, [])
            if all(k.listener_arn != listener.listener_arn for k in known):
                known.append(listener)
    lb_attributes = {
        a.load_balancer_arn: {x.key: x.value for x in a.attributes} for a in snapshot.of("LoadBalancerAttributes")
    }
    tg_attributes = {
        a.target_group_arn: {x.key: x.value for x in a.attributes} for a in snapshot.of("TargetGroupAttributes")
    }
    health: dict[str, list[TargetHealthDescription]] = {}
    for listing in snapshot.of("LoadBalancerTargetHealth"):
        health.setdefault(listing.target_group_arn, []).extend(listing.target_health_descriptions)
    by_description: dict[str, list[Interface]] = {}
    for interface in interfaces.values():
        if interface.description and interface.description.startswith("ELB "):
            by_description.setdefault(interface.description[4:], []).append(interface)

    balancers: dict[str, model.LoadBalancer] = {}
    for raw in balancers_raw:
        short_id = raw.load_balancer_arn.split(":loadbalancer/", 1)[-1]
        nodes = sorted(
            by_description.get(short_id, []),
            key=lambda i: (subnets[i.subnet_id].az or "", i.id) if i.subnet_id in subnets else ("", i.id),
        )
        if not nodes:
            warnings.append(
                f"load balancer {short_id}: none of its network interfaces (description 'ELB {short_id}') "
                "is in the snapshot, so no path can reach it"
            )
        kind = raw.type.lower()
        attributes = lb_attributes.get(raw.load_balancer_arn, {})
        cross_zone = kind == "application" or attributes.get("load_balancing.cross_zone.enabled", "false") == "true"
        compiled = []
        for listener in sorted(listeners.get(raw.load_balancer_arn, []), key=lambda x: (x.port or 0, x.listener_arn)):
            actions = sorted(listener.default_actions, key=lambda a: a.order or 0)
            forward_to = tuple(
                arn for action in actions if action.type.lower() == "forward" for arn in action.target_group_arns()
            )
            compiled.append(
                model.Listener(
                    listener.listener_arn,
                    listener.port,
                    listener.protocol or "TCP",
                    tuple(a.type.lower() for a in actions),
                    forward_to,
                )
            )
        if raw.load_balancer_arn not in listeners:
            warnings.append(
                f"load balancer {short_id}: its listeners are not in the snapshot (aws elbv2 describe-listeners); "
                "every flow to it is reported as matching no listener"
            )
        balancers[raw.load_balancer_arn] = model.LoadBalancer(
            arn=raw.load_balancer_arn,
            name=raw.load_balancer_name,
            kind=kind,
            scheme=raw.scheme,
            vpc_id=raw.vpc_id,
            dns_name=raw.dns_name,
            state=(raw.state.code if raw.state else "active").lower(),
            zones=tuple(sorted((z.zone_name or "", z.subnet_id) for z in raw.availability_zones if z.subnet_id)),
            interfaces=tuple(i.id for i in nodes),
            security_groups=tuple(raw.security_groups),
            listeners=tuple(compiled),
            cross_zone=cross_zone,
        )

    by_address: dict[tuple[int, int], list[Interface]] = {}
    for interface in interfaces.values():
        for address in interface.private_ips:
            by_address.setdefault(address, []).append(interface)
    groups: dict[str, model.TargetGroup] = {}
    for group in snapshot.of("TargetGroups"):
        group_type = group.target_type.lower()
        targets = []
        for description in health.get(group.target_group_arn, []):
            target = description.target
            found = snapshot.origins.get(f"LoadBalancerTargetHealth:{group.target_group_arn}")
            receiver, target_address = _resolve_target(group, target, interfaces, instances, by_address, warnings,
                                                       f"{found.file}: " if found else "")
            az = target.availability_zone
            if az in (None, "all") and receiver is not None and receiver.subnet_id in subnets:
                az = subnets[receiver.subnet_id].az
            targets.append(
                model.Target(
                    id=target.id,
                    port=target.port if target.port is not None else group.port,
                    az=az,
                    health=description.target_health.state if description.target_health else None,
                    interface_id=receiver.id if receiver else None,
                    address=target_address,
                )
            )
        attributes = tg_attributes.get(group.target_group_arn, {})
        preserve = attributes.get("preserve_client_ip.enabled")
        if preserve is None:
            # ELB defaults: on for instance and ALB targets, and for UDP; off for IP targets over TCP/TLS.
            protocol = (group.protocol or "").upper()
            preserve_default = group_type in ("instance", "alb") or protocol in ("UDP", "TCP_UDP")
        else:
            preserve_default = preserve == "true"
        groups[group.target_group_arn] = model.TargetGroup(
            arn=group.target_group_arn,
            name=group.target_group_name,
            protocol=group.protocol,
            port=group.port,
            target_type=group_type,
            vpc_id=group.vpc_id,
            targets=tuple(targets),
            targets_known=group.target_group_arn in health,
            preserve_client_ip=preserve_default,
        )
    return Compiled(LoadBalancing(balancers=balancers, target_groups=groups), tuple(warnings))


def _resolve_target(
    group: AwsTargetGroup,
    target: TargetDescription,
    interfaces: dict[str, Interface],
    instances: dict[str, Instance],
    by_address: dict[tuple[int, int], list[Interface]],
    warnings: list[str],
    where: str = "",
) -> tuple[Interface | None, tuple[int, int] | None]:
    """The interface and address a target receives on: an instance's primary interface, or the interface
    holding an IP target (preferring the target group's VPC). Lambda and ALB targets have neither."""
    kind = group.target_type.lower()
    if kind == "instance":
        instance = instances.get(target.id)
        eni = next((e for e in instance.interfaces if e in interfaces), None) if instance else None
        if eni is None:
            warnings.append(f"target group {group.target_group_name}: target {target.id} is not in the snapshot")
            return None, None
        return interfaces[eni], interfaces[eni].primary_ip
    if kind == "ip":
        try:
            address = parse_address(target.id)
        except ValueError:
            raise SnapshotError(
                f"{where}target group {group.target_group_arn}: target '{target.id}' is not an IP address"
            ) from None
        holders = by_address.get(address, [])
        same_vpc = [i for i in holders if group.vpc_id in (None, i.vpc_id)]
        found = same_vpc or holders
        return (found[0] if found else None), address
    return None, None
