"""SRC and DST as users write them: addresses, interface ids, instance ids, Name tags."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from reach.errors import ResolveError
from reach.model.addr import IPV4, IPV6, format_address, parse_address
from reach.model.network import Interface, Network


@dataclass(frozen=True)
class Endpoint:
    """One end of a flow: an interface in the snapshot, or an address outside it."""

    text: str
    interface: Interface | None
    address: tuple[int, int] | None  # the address the user wrote, if they wrote one
    in_vpc: bool = False  # an address no interface holds, inside a VPC of the snapshot

    @property
    def external(self) -> bool:
        return self.interface is None and not self.in_vpc


def resolve(network: Network, text: str) -> Endpoint:
    text = text.strip()
    try:
        family, value = parse_address(text)
    except ValueError:
        return Endpoint(text, _by_name(network, text), None)
    holders = network.interfaces_at(family, value)
    if len(holders) > 1:
        raise ResolveError(
            f"{text} is held by several interfaces (overlapping VPCs): "
            f"{', '.join(i.label for i in holders)}; name one by its id"
        )
    if holders:
        return Endpoint(text, holders[0], (family, value))
    owner = network.public_owner(value) if family == IPV4 else None
    if owner is not None:
        return Endpoint(text, owner[0], (family, value))
    return Endpoint(text, None, (family, value), in_vpc=bool(network.vpcs_holding(family, value)))


def _by_name(network: Network, text: str) -> Interface:
    if text in network.interfaces:
        return network.interfaces[text]
    instance = network.instances.get(text)
    if instance is not None:
        return _instance_interface(network, text, instance.interfaces)
    gateway = network.gateways.get(text)
    if gateway is not None and gateway.interface_id in network.interfaces:
        return network.interfaces[gateway.interface_id]
    balancer = network.balancing.find(text) if network.balancing else None
    if balancer is not None:  # a load balancer's DNS name, name or ARN: its first node (one per zone)
        if not balancer.interfaces:
            raise ResolveError(f"load balancer '{text}' has no network interface in the snapshot")
        return network.interfaces[balancer.interfaces[0]]
    # A Name tag may sit on an interface, on its instance, or both: they name one endpoint if they agree.
    found = {i.id: i for i in network.interfaces.values() if i.name == text}
    for instance in network.instances.values():
        if instance.name == text:
            interface = _instance_interface(network, text, instance.interfaces)
            found[interface.id] = interface
    if len(found) == 1:
        return next(iter(found.values()))
    if found:
        raise ResolveError(f"'{text}' names several interfaces: {', '.join(sorted(found))}; use an id")
    names = (
        list(network.interfaces)
        + list(network.instances)
        + [n for n in {i.name for i in network.interfaces.values()} | {i.name for i in network.instances.values()} if n]
    )
    close = difflib.get_close_matches(text, names, n=5, cutoff=0.5)
    hint = f"; closest matches: {', '.join(close)}" if close else ""
    raise ResolveError(f"'{text}' is not an address, interface id, instance id or Name tag in the snapshot{hint}")


def _instance_interface(network: Network, text: str, interfaces: tuple[str, ...]) -> Interface:
    for eni in interfaces:
        if eni in network.interfaces:
            return network.interfaces[eni]
    raise ResolveError(f"instance '{text}' has no network interface in the snapshot")


def addresses(src: Endpoint, dst: Endpoint) -> tuple[tuple[int, int], tuple[int, int]]:
    """The addresses the flow uses: written ones as written; an id or tag stands for its private address,
    or, as a destination seen from the internet, its public one."""
    family = (src.address or dst.address or (IPV4, 0))[0]
    src_address = _private(src, family) if src.interface else src.address
    dst_address: tuple[int, int] | None
    if dst.address is not None and not (dst.interface and dst.address[0] != family):
        dst_address = dst.address
    elif dst.interface is not None:
        dst_address = _public(dst.interface, family) if src.external else None
        dst_address = dst_address or _private(dst, family)
    else:
        dst_address = dst.address
    assert src_address is not None and dst_address is not None
    if src.interface and src.address and src.address[0] == family and src.interface.holds(*src.address):
        src_address = src.address
    if src_address[0] != dst_address[0]:
        raise ResolveError(
            f"{src.text} ({format_address(*src_address)}) and {dst.text} ({format_address(*dst_address)}) "
            "are different IP families"
        )
    return src_address, dst_address


def _private(endpoint: Endpoint, family: int) -> tuple[int, int]:
    assert endpoint.interface is not None
    for address in endpoint.interface.private_ips:
        if address[0] == family:
            return address
    kind = "IPv6" if family == IPV6 else "IPv4"
    raise ResolveError(f"{endpoint.interface.label} has no {kind} address")


def _public(interface: Interface, family: int) -> tuple[int, int] | None:
    if family != IPV4 or not interface.public_ips:
        return None
    return (IPV4, interface.public_ips[0][0])
