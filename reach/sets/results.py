"""The answers of `reach exposure` (CONTRACT §8) and `reach reachable`: pydantic models whose
`model_dump()` is the JSON."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Access(_Frozen):
    """Ports (ICMP: types) of one protocol open from every source listed."""

    protocol: str  # tcp | udp | icmp | icmpv6 | a number | all
    ports: list[list[int]]
    sources: list[str]
    codes: list[list[int]] | None = None  # ICMP codes, when not every code
    except_protocols: list[str] | None = None  # protocol `all`: every protocol but these (listed on their own)


class Exposed(Access):
    via: str  # the internet gateway, or the load balancer
    # the client ports whose responses get out, when not every one of 1024-65535 (the network ACL's part)
    client_ports: list[list[int]] | None = None
    listener: str | None = None  # through a load balancer: the listener ("HTTPS 443")


class SgOnly(Access):
    exposed: bool  # False: a security-group-only tool reports it, but nothing from the internet reaches it


class InterfaceExposure(_Frozen):
    interface_id: str
    name: str | None = None
    public_ips: list[str]
    exposed: list[Exposed]
    sg_only: list[SgOnly]
    sg_only_wrong: bool = False  # the security-group-only view differs from the exact one
    notes: list[str] = []  # why what the security groups open is not (all) reachable


class ExposureSummary(_Frozen):
    interfaces: int
    exposed: int
    sg_only_exposed: int
    sg_only_wrong: int = 0  # interfaces where the security-group-only view differs from the exact one
    sg_only_overstated: int = 0  # ... because it reports what nothing reaches
    sg_only_missed: int = 0  # ... because it misses what is reachable (a load balancer's targets)
    not_followed: int = 0  # interfaces whose responses leave by a way exposure does not follow (said in notes)


class ExposureResult(_Frozen):
    schema_version: Literal[1] = 1
    summary: ExposureSummary
    interfaces: list[InterfaceExposure]
    notes: list[str] = []
    internet: list[str] = []  # the sources that stand for "anyone": outside every VPC, not dropped by the gateway


class Query(_Frozen):
    direction: Literal["to", "from"]
    endpoint: str  # the interface asked about
    address: str  # its address the answer is about
    protocol: str
    port: int | None  # None: every port


class Opened(Access):
    # the client ports whose responses get back, when not every one of 1024-65535 (network ACLs decide that part)
    client_ports: list[list[int]] | None = None


class Answer(_Frozen):
    """One peer that can open a connection to (--to) or be opened by (--from) the endpoint: exact sets."""

    kind: str  # network-interface | vpc-peering-connection | internet
    id: str | None
    name: str | None = None
    access: list[Opened]  # `sources` hold the peer's addresses that can: the sources (--to) or destinations (--from)
    path: list[str]  # the components that carry it, in order, from the client to the server


class Unreached(_Frozen):
    """A candidate the graph connects that cannot open anything: what stops it."""

    kind: str
    id: str | None
    reason: str
    detail: str


class ReachableSummary(_Frozen):
    candidates: int  # peers the topology graph connects to the endpoint
    answers: int
    unreached: int


class ReachableResult(_Frozen):
    schema_version: Literal[1] = 1
    query: Query
    summary: ReachableSummary
    answers: list[Answer]
    unreached: list[Unreached] = []
    notes: list[str] = []
