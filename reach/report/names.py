"""The names people gave their resources (Name tags, group and load balancer names), by the ids that hops,
blockers and records carry, so that pictures can say `orders-db-acl` beside `acl-0a888ff01d6002462`."""

from __future__ import annotations

from collections.abc import Iterable

from reach.model.network import Network


def component_names(*networks: Network | None) -> dict[str, str]:
    """Id -> name for every resource of the networks that has one (a later network's name wins)."""
    names: dict[str, str] = {}
    for network in networks:
        if network is None:
            continue
        resources: Iterable[tuple[str, str | None]] = (
            *((r.id, r.name) for r in network.vpcs.values()),
            *((r.id, r.name) for r in network.subnets.values()),
            *((r.id, r.name) for r in network.interfaces.values()),
            *((r.id, r.name) for r in network.route_tables.values()),
            *((r.id, r.name) for r in network.nacls.values()),
            *((r.id, r.name) for r in network.security_groups.values()),
            *((r.id, r.name) for r in network.gateways.values()),
            *((r.id, r.name) for r in network.peerings.values()),
            *((r.id, r.name) for r in network.instances.values()),
            *((r.id, r.name) for r in network.transit.gateways.values()),
            *((r.id, r.name) for r in network.transit.route_tables.values()),
            *((r.id, r.name) for r in network.transit.attachments.values()),
            *((b.short_id, b.name) for b in network.balancing.balancers.values()),
        )
        names.update((id_, name) for id_, name in resources if name and name != id_)
    return names
