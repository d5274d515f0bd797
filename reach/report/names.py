"""The names a snapshot gives its resources (Name tags, security group names), for the text renderers.

Explanations carry AWS ids only; people know their network by names (`orders-db-acl`, `rds-sg`). The CLI
passes the compiled `Network` in, and this lookup puts the name next to each id the text mentions. The
engine's models stay as they are.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reach.model.network import Interface, Network

# An AWS id as the explanations write them: a lowercase prefix (sg, acl, tgw-rtb …) and 8 or 17 hex digits.
_ID = re.compile(r"\b[a-z]+(?:-[a-z]+)*-[0-9a-f]{8,17}\b")

# What runs behind a requester-managed interface, from its InterfaceType or the description AWS gives it.
_ROLE_BY_KIND = {
    "lambda": "lambda", "nat_gateway": "nat", "vpc_endpoint": "vpce", "gateway_load_balancer": "gwlb",
    "gateway_load_balancer_endpoint": "gwlbe", "network_load_balancer": "nlb", "efs": "efs",
    "transit_gateway": "tgw", "api_gateway_managed": "apigw", "quicksight": "quicksight",
}
_ROLE_BY_DESCRIPTION = (
    ("RDSNetworkInterface", "rds"), ("ELB app/", "alb"), ("ELB net/", "nlb"), ("ELB ", "elb"),
    ("AWS Lambda VPC ENI", "lambda"), ("Interface for NAT Gateway", "nat"), ("EFS mount target", "efs"),
    ("ElastiCache", "elasticache"), ("arn:aws:ecs:", "ecs"), ("Amazon EKS", "eks"),
    ("VPC Endpoint Interface", "vpce"), ("Network Interface for Transit Gateway", "tgw"),
)


def _role(interface: Interface) -> str | None:
    if interface.kind in _ROLE_BY_KIND:
        return _ROLE_BY_KIND[interface.kind]
    description = interface.description or ""
    return next((role for prefix, role in _ROLE_BY_DESCRIPTION if description.startswith(prefix)), None)


class Names:
    """Id -> name, for every named resource of one snapshot.

    Made from a network (`Names.of`), it looks each id up when a text mentions it: the text of one answer
    names a dozen resources of the snapshot's thousands, and a network read from the compile cache builds
    only the resources looked up."""

    def __init__(self, names: dict[str, str] | None = None, endpoints: dict[str, str] | None = None) -> None:
        self._names = names or {}
        self._endpoints = endpoints or {}
        self._network: Network | None = None
        self._looked_up: dict[str, str | None] = {}
        self._by_other_id: dict[str, str] | None = None

    @classmethod
    def of(cls, network: Network | None) -> Names:
        """The names of `network`'s resources; an empty lookup without one."""
        names = cls()
        names._network = network
        return names

    def _name(self, resource_id: str) -> str | None:
        if self._network is None:
            return self._names.get(resource_id)
        if resource_id not in self._looked_up:
            self._looked_up[resource_id] = self._find(self._network, resource_id)
        return self._looked_up[resource_id]

    def _find(self, network: Network, resource_id: str) -> str | None:
        """The name the last table holding the id gives it (in `_tables` order), or that of an attachment or
        load balancer."""
        if self._by_other_id is None:
            self._by_other_id = {key: name for key, name in _named_by_other_id(network) if name and name != key}
        if resource_id in self._by_other_id:
            return self._by_other_id[resource_id]
        for table in reversed(_tables(network)):
            item = table.get(resource_id)
            name = getattr(item, "name", None) if item is not None else None
            if name and name != resource_id:
                return str(name)
        return None

    @property
    def names(self) -> dict[str, str]:
        """Every name, at once (the pictures draw with all of them)."""
        if self._network is None:
            return dict(self._names)
        named = [(key, getattr(item, "name", None)) for table in _tables(self._network) for key, item in table.items()]
        named += _named_by_other_id(self._network)
        return {key: name for key, name in named if name and name != key}

    def get(self, resource_id: str | None) -> str | None:
        return self._name(resource_id) if resource_id else None

    def label(self, resource_id: str | None) -> str:
        """`name (id)` when the resource has a name, else its id."""
        if not resource_id:
            return ""
        name = self._name(resource_id)
        return f"{name} ({resource_id})" if name else resource_id

    def short(self, resource_id: str | None, fallback: str) -> str:
        """The name alone, else `fallback` (a kind's short word)."""
        return self.get(resource_id) or fallback

    def endpoint(self, interface_id: str | None) -> str:
        """What an interface is to people: its name, else what runs behind it (`lambda eni`), else `eni`."""
        if self._network is None:
            return self._endpoints.get(interface_id or "", "eni")
        interface = self._network.interfaces.get(interface_id or "")
        if interface is None:
            return "eni"
        role = _role(interface)
        return interface.name or interface.instance_id or (f"{role} eni" if role else "eni")

    def tag(self, text: str) -> str:
        """`text` with each named id followed by its name, unless the text already names it there."""

        def named(match: re.Match[str]) -> str:
            name = self._name(match.group())
            already = text.startswith(" (", match.end())
            return f"{match.group()} ({name})" if name and not already else match.group()

        return _ID.sub(named, text) if self._names or self._network is not None else text


def _tables(network: Network) -> tuple[Mapping[str, object], ...]:
    """The tables of named resources by id; where two hold one id, the later one's name is used."""
    return (network.vpcs, network.subnets, network.interfaces, network.route_tables, network.nacls,
            network.security_groups, network.gateways, network.peerings, network.instances,
            network.transit.gateways, network.transit.route_tables)


def _named_by_other_id(network: Network) -> list[tuple[str, str | None]]:
    """Transit gateway attachments and load balancers, which their tables do not key by the id texts use."""
    named: list[tuple[str, str | None]] = [(a.id, a.name) for a in network.transit.attachments.values()]
    return named + [(balancer.short_id, balancer.name) for balancer in network.balancing.balancers.values()]


def component_names(*networks: Network | None) -> dict[str, str]:
    """Id -> name for every resource of the networks that has one (a later network's name wins): for the
    pictures, which draw before and after side by side."""
    names: dict[str, str] = {}
    for network in networks:
        names.update(Names.of(network).names)
    return names
