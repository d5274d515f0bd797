"""Which interfaces each flow log covers, and what each interface's flow logs can show.

AWS: "If you create a flow log for a subnet or VPC, each network interface in that subnet or VPC is
monitored." So an interface is covered by the flow logs on its own id, on its subnet and on its VPC. Several
flow logs add up: an ACCEPT-only log and a REJECT-only log on the same interface together record everything.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from reach.doctor.report import CoverageStatus, CoveringLog, InterfaceCoverage, Level, ObservedCounts
from reach.model.network import FlowLogConfig, Interface, Network

# Resource id prefix -> the level a flow log on it works at (tgw-attach- before tgw-: the longer prefix wins).
_LEVELS: tuple[tuple[str, Level], ...] = (
    ("eni-", "interface"),
    ("subnet-", "subnet"),
    ("vpc-", "vpc"),
    ("tgw-attach-", "transit-gateway-attachment"),
    ("tgw-", "transit-gateway"),
)
_SPECIFICITY: dict[str, int] = {"interface": 0, "subnet": 1, "vpc": 2}

ACTIONS = ("ACCEPT", "REJECT")


def level_of(resource_id: str) -> Level:
    for prefix, level in _LEVELS:
        if resource_id.startswith(prefix):
            return level
    return "unknown"


def delivering(config: FlowLogConfig) -> bool:
    """False when AWS reports that delivery fails (DeliverLogsStatus FAILED). A rate-limited flow log still
    delivers, only not everything: it counts as delivering (its finding says records are lost)."""
    if (config.status or "").upper() != "FAILED":
        return True
    return (config.error or "").strip().lower().rstrip(".") == "rate limited"


def captured(traffic_type: str | None) -> frozenset[str]:
    """The actions a flow log records; a missing TrafficType is taken as ALL (no false alarm)."""
    kind = (traffic_type or "ALL").upper()
    return frozenset(ACTIONS) if kind == "ALL" else frozenset({kind}) & frozenset(ACTIONS)


def covering_logs(network: Network) -> dict[str, list[tuple[FlowLogConfig, Level]]]:
    """Interface id -> the flow logs that cover it and at which level, most specific first."""
    by_resource: dict[str, list[FlowLogConfig]] = {}
    for config in network.flow_logs:
        by_resource.setdefault(config.resource_id, []).append(config)
    found: dict[str, list[tuple[FlowLogConfig, Level]]] = {}
    for interface in network.interfaces.values():
        levels: tuple[tuple[str, Level], ...] = (
            (interface.id, "interface"), (interface.subnet_id, "subnet"), (interface.vpc_id, "vpc")
        )
        logs = [(config, level) for resource, level in levels for config in by_resource.get(resource, [])]
        found[interface.id] = logs
    return found


def status_of(logs: Iterable[tuple[FlowLogConfig, Level]]) -> tuple[CoverageStatus, list[str]]:
    """An interface's coverage status and the actions its delivering flow logs capture."""
    logs = list(logs)
    if not logs:
        return "none", []
    actions: set[str] = set()
    for config, _ in logs:
        if delivering(config):
            actions |= captured(config.traffic_type)
    if not actions:
        return "failing", []
    ordered = [a for a in ACTIONS if a in actions]
    if len(ordered) == len(ACTIONS):
        return "covered", ordered
    return ("accept-only" if ordered == ["ACCEPT"] else "reject-only"), ordered


def interface_coverage(
    network: Network,
    covering: Mapping[str, list[tuple[FlowLogConfig, Level]]],
    observed: Mapping[str, ObservedCounts] | None,
) -> list[InterfaceCoverage]:
    """One entry per interface, by VPC, subnet and id."""
    entries = []
    for interface in sorted(network.interfaces.values(), key=lambda i: (i.vpc_id, i.subnet_id, i.id)):
        logs = covering.get(interface.id, [])
        status, actions = status_of(logs)
        entries.append(
            InterfaceCoverage(
                interface_id=interface.id,
                name=_name(network, interface),
                kind=interface.kind,
                description=interface.description,
                vpc_id=interface.vpc_id,
                subnet_id=interface.subnet_id,
                instance_id=interface.instance_id,
                flow_logs=[_covering(config, level) for config, level in logs],
                captures=actions,
                status=status,
                observed=None if observed is None else observed.get(interface.id, ObservedCounts()),
            )
        )
    return entries


def _covering(config: FlowLogConfig, level: Level) -> CoveringLog:
    return CoveringLog(
        flow_log_id=config.id, level=level, traffic_type=config.traffic_type, delivering=delivering(config)
    )


def most_specific(logs: Iterable[tuple[FlowLogConfig, Level]]) -> FlowLogConfig | None:
    """The delivering flow log closest to the interface (its own, then its subnet's, then its VPC's)."""
    live = [(c, level) for c, level in logs if delivering(c)]
    return min(live, key=lambda pair: _SPECIFICITY.get(pair[1], 9))[0] if live else None


def _name(network: Network, interface: Interface) -> str | None:
    if interface.name:
        return interface.name
    instance = network.instances.get(interface.instance_id) if interface.instance_id else None
    return instance.name if instance else None
