"""Elastic Load Balancing v2, compiled: load balancers with their nodes' interfaces, listeners, and target
groups with each registered target resolved to the interface or address the load balancer sends to."""

from __future__ import annotations

from dataclasses import dataclass, field

# Listener protocol -> the IP protocols it accepts.
LISTENER_PROTOCOLS = {
    "TCP": (6,),
    "TLS": (6,),
    "HTTP": (6,),
    "HTTPS": (6,),
    "UDP": (17,),
    "TCP_UDP": (6, 17),
    "GENEVE": (17,),
}


@dataclass(frozen=True)
class Listener:
    arn: str
    port: int | None  # None: a Gateway Load Balancer listener (every port)
    protocol: str
    actions: tuple[str, ...]  # default action types in order: forward, redirect, fixed-response, …
    target_groups: tuple[str, ...]  # the target groups its forward action sends to

    def accepts(self, protocol: int, port: int) -> bool:
        return protocol in LISTENER_PROTOCOLS.get(self.protocol.upper(), (6,)) and self.port in (None, port)

    @property
    def label(self) -> str:
        return f"{self.protocol} {self.port}" if self.port is not None else self.protocol


@dataclass(frozen=True)
class Target:
    id: str  # i-…, an IP address, a Lambda or ALB ARN
    port: int | None  # the registered port (else the target group's)
    az: str | None
    health: str | None  # healthy | unhealthy | initial | unused | draining | unavailable | None (unknown)
    interface_id: str | None  # the interface that receives its traffic, when the snapshot has it
    address: tuple[int, int] | None  # (family, value) the load balancer sends to


@dataclass(frozen=True)
class TargetGroup:
    arn: str
    name: str | None
    protocol: str | None
    port: int | None
    target_type: str  # instance | ip | lambda | alb
    vpc_id: str | None
    targets: tuple[Target, ...]
    targets_known: bool  # False: the snapshot has no describe-target-health for it
    preserve_client_ip: bool  # targets see the client's address (NLB), else the load balancer's

    @property
    def label(self) -> str:
        return f"{self.name} ({self.arn.rsplit(':', 1)[-1]})" if self.name else self.arn


@dataclass(frozen=True)
class LoadBalancer:
    arn: str
    name: str | None
    kind: str  # application | network | gateway
    scheme: str | None
    vpc_id: str | None
    dns_name: str | None
    state: str
    zones: tuple[tuple[str, str], ...]  # (AZ, subnet id)
    interfaces: tuple[str, ...]  # the nodes' network interfaces found in the snapshot
    security_groups: tuple[str, ...]
    listeners: tuple[Listener, ...]
    cross_zone: bool

    @property
    def short_id(self) -> str:
        """'app/web/50dc6c495c0c9188': the ARN's resource part, as the nodes' interfaces name it."""
        return self.arn.split(":loadbalancer/", 1)[-1]

    @property
    def label(self) -> str:
        kind = {"application": "ALB", "network": "NLB", "gateway": "GWLB"}.get(self.kind, self.kind)
        return f"{kind} {self.name or self.short_id}"


@dataclass
class LoadBalancing:
    balancers: dict[str, LoadBalancer] = field(default_factory=dict)  # by ARN
    target_groups: dict[str, TargetGroup] = field(default_factory=dict)  # by ARN
    _by_interface: dict[str, str] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for balancer in self.balancers.values():
            for interface_id in balancer.interfaces:
                self._by_interface[interface_id] = balancer.arn

    def of_interface(self, interface_id: str) -> LoadBalancer | None:
        arn = self._by_interface.get(interface_id)
        return self.balancers[arn] if arn else None

    def find(self, text: str) -> LoadBalancer | None:
        """A load balancer by ARN, DNS name (with or without `dualstack.`), name or `app/name/id`."""
        key = text.strip().lower().rstrip(".")
        key = key.removeprefix("dualstack.")
        for balancer in self.balancers.values():
            names = {
                balancer.arn.lower(),
                balancer.short_id.lower(),
                (balancer.dns_name or "").lower().rstrip("."),
            }
            if key in names:
                return balancer
        named = [b for b in self.balancers.values() if (b.name or "").lower() == key]
        return named[0] if len(named) == 1 else None

    def __bool__(self) -> bool:
        return bool(self.balancers)
