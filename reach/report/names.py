"""The names a snapshot gives its resources (Name tags, security group names), for the text renderers.

Explanations carry AWS ids only; people know their network by names (`orders-db-acl`, `rds-sg`). The CLI
passes the compiled `Network` in, and this lookup puts the name next to each id the text mentions. The
engine's models stay as they are.
"""

from __future__ import annotations

import re
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
    """Id -> name, for every named resource of one snapshot."""

    def __init__(self, names: dict[str, str] | None = None, endpoints: dict[str, str] | None = None) -> None:
        self._names = names or {}
        self._endpoints = endpoints or {}

    @classmethod
    def of(cls, network: Network | None) -> Names:
        """The names of `network`'s resources; an empty lookup without one."""
        if network is None:
            return cls()
        named: list[tuple[str, str | None]] = []
        for table in (network.vpcs, network.subnets, network.interfaces, network.route_tables, network.nacls,
                      network.security_groups, network.gateways, network.peerings, network.instances,
                      network.transit.gateways, network.transit.route_tables):
            named += [(key, getattr(item, "name", None)) for key, item in table.items()]
        named += [(attachment.id, attachment.name) for attachment in network.transit.attachments.values()]
        named += [(balancer.short_id, balancer.name) for balancer in network.balancing.balancers.values()]
        endpoints = {}
        for interface in network.interfaces.values():
            role = _role(interface)
            if interface.name:
                endpoints[interface.id] = interface.name
            elif interface.instance_id:
                endpoints[interface.id] = interface.instance_id
            elif role:
                endpoints[interface.id] = f"{role} eni"
        return cls({key: name for key, name in named if name and name != key}, endpoints)

    @property
    def names(self) -> dict[str, str]:
        return dict(self._names)

    def get(self, resource_id: str | None) -> str | None:
        return self._names.get(resource_id) if resource_id else None

    def label(self, resource_id: str | None) -> str:
        """`name (id)` when the resource has a name, else its id."""
        if not resource_id:
            return ""
        name = self._names.get(resource_id)
        return f"{name} ({resource_id})" if name else resource_id

    def short(self, resource_id: str | None, fallback: str) -> str:
        """The name alone, else `fallback` (a kind's short word)."""
        return self.get(resource_id) or fallback

    def endpoint(self, interface_id: str | None) -> str:
        """What an interface is to people: its name, else what runs behind it (`lambda eni`), else `eni`."""
        return self._endpoints.get(interface_id or "", "eni")

    def tag(self, text: str) -> str:
        """`text` with each named id followed by its name, unless the text already names it there."""

        def named(match: re.Match[str]) -> str:
            name = self._names.get(match.group())
            already = text.startswith(" (", match.end())
            return f"{match.group()} ({name})" if name and not already else match.group()

        return _ID.sub(named, text) if self._names else text


def component_names(*networks: Network | None) -> dict[str, str]:
    """Id -> name for every resource of the networks that has one (a later network's name wins): for the
    pictures, which draw before and after side by side."""
    names: dict[str, str] = {}
    for network in networks:
        names.update(Names.of(network).names)
    return names
