"""A packet as the walker sees it: addresses, protocol and port ranges (a range stands for every client
port the answer must hold for)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from reach.model.addr import format_address
from reach.model.match import Probe

EPHEMERAL = (1024, 65535)  # the widest client range AWS documents (Lambda, NAT gateway, ELB)
NAT_PORTS = (1024, 65535)

_ECHO_REPLY = {(1, 8): 0, (58, 128): 129}


@dataclass(frozen=True)
class Packet:
    family: int
    src: int
    dst: int
    protocol: int  # -1: all protocols
    src_ports: tuple[int, int]
    dst_ports: tuple[int, int]  # ICMP: the type
    code: int = 0  # ICMP code

    def probe(self, peer: int, port: int | None = None) -> Probe:
        return Probe.one(self.family, peer, self.protocol, self.dst_ports[0] if port is None else port, self.code)

    def with_(self, **changes: object) -> Packet:
        return replace(self, **changes)  # type: ignore[arg-type]

    def response(self) -> Packet | None:
        """The reply a tracked connection sends back, or None for one-way traffic (ICMP other than echo)."""
        if self.protocol in (1, 58):
            reply = _ECHO_REPLY.get((self.protocol, self.dst_ports[0]))
            if reply is None:
                return None
            return replace(self, src=self.dst, dst=self.src, dst_ports=(reply, reply), code=0)
        return replace(self, src=self.dst, dst=self.src, src_ports=self.dst_ports, dst_ports=self.src_ports)

    @property
    def src_text(self) -> str:
        return format_address(self.family, self.src)

    @property
    def dst_text(self) -> str:
        return format_address(self.family, self.dst)

    @property
    def ports_are_range(self) -> bool:
        return self.dst_ports[0] != self.dst_ports[1]


def port_text(ports: tuple[int, int]) -> str:
    return str(ports[0]) if ports[0] == ports[1] else f"{ports[0]}-{ports[1]}"
