"""Compile a loaded snapshot into the `reach.model.Network` the engine evaluates.

An ordered tuple of named passes (STYLE example 9). Each pass is a function of its kind's module that takes
what it needs, by name (`snapshot`, or what an earlier pass built), and returns what it builds plus its
warnings (`Compiled`); nothing is mutated behind another pass's back. A pass may rebuild what an earlier
one built (`bind_interface_endpoints` completes the interfaces), never anything else.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, NamedTuple

from reach.model.network import Network
from reach.snapshot.base import Compiled
from reach.snapshot.endpoints import bind_interface_endpoints
from reach.snapshot.flow_log import compile_flow_logs
from reach.snapshot.gateways import compile_gateways, compile_peerings
from reach.snapshot.instance import compile_instances
from reach.snapshot.load_balancer import compile_load_balancers
from reach.snapshot.loader import SnapshotResources
from reach.snapshot.network_acl import compile_network_acls
from reach.snapshot.network_interface import compile_interfaces
from reach.snapshot.pause import long_lived
from reach.snapshot.prefix_list import compile_prefix_lists
from reach.snapshot.route_table import compile_route_tables
from reach.snapshot.security_group import compile_security_groups, find_group_references, find_unresolved
from reach.snapshot.subnet import compile_subnets
from reach.snapshot.transit_gateway import compile_transit_gateways
from reach.snapshot.vpc import compile_vpcs
from reach.snapshot.vpn import compile_vpn


class Pass(NamedTuple):
    builds: str  # the name it builds: a `Network` field, or an intermediate such as `prefix_lists`
    run: Callable[..., Compiled[Any]]

    @property
    def needs(self) -> tuple[str, ...]:
        return _parameters(self.run)


@functools.cache
def _parameters(function: Callable[..., Any]) -> tuple[str, ...]:
    return tuple(inspect.signature(function).parameters)


PASSES: tuple[Pass, ...] = (
    Pass("prefix_lists", compile_prefix_lists),
    Pass("interfaces", compile_interfaces),
    Pass("interfaces", bind_interface_endpoints),
    Pass("instances", compile_instances),
    Pass("route_tables", compile_route_tables),
    Pass("nacls", compile_network_acls),
    Pass("vpcs", compile_vpcs),
    Pass("subnets", compile_subnets),
    Pass("security_groups", compile_security_groups),
    Pass("unresolved", find_unresolved),
    Pass("group_references", find_group_references),
    Pass("gateways", compile_gateways),
    Pass("peerings", compile_peerings),
    Pass("transit", compile_transit_gateways),
    Pass("balancing", compile_load_balancers),
    Pass("flow_logs", compile_flow_logs),
    Pass("vpn", compile_vpn),
)


@long_lived()
def compile_snapshot(snapshot: SnapshotResources, passes: tuple[Pass, ...] = PASSES) -> Network:
    """Run every pass in order, then assemble the network from what they built."""
    built: dict[str, Any] = {"snapshot": snapshot}
    warnings = list(snapshot.warnings)
    for step in passes:
        result = step.run(**{name: built[name] for name in step.needs})
        built[step.builds] = result.value
        warnings += result.warnings
    fields = {name: built[name] for name in _NETWORK_FIELDS if name in built}
    return Network(**fields, warnings=warnings, ignored=dict(snapshot.ignored), absent=snapshot.absent)


_NETWORK_FIELDS = tuple(inspect.signature(Network).parameters)
