"""Explanations are data: flow -> verdict -> hops of decisions. `model_dump()` is CONTRACT §2's JSON;
the text, JSON and HTML renderers all read this one object."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Flow(_Frozen):
    src: str
    dst: str
    protocol: str  # tcp | udp | icmp | icmpv6 | all | a number
    src_port: int | None = None
    dst_port: int | None = None  # ICMP: the type
    icmp_code: int | None = None


class Blocker(_Frozen):
    """A component that stops the flow: CONTRACT's `blocked_by` shape, plus its reason code."""

    kind: str
    id: str | None
    direction: str | None = None
    rule: int | str | None = None
    return_path: bool = False
    groups: list[str] | None = None
    detail: str = ""
    reason: str = ""
    blocked_ports: str | None = None  # "32768-60999 of 1024-65535" when only part of a range is blocked
    fix: str | None = None  # the AWS CLI call that removes this blocker


class Hop(_Frozen):
    kind: str
    id: str | None
    direction: str | None = None
    decision: str = "allow"  # allow | deny
    rule: int | str | None = None
    detail: str = ""
    return_path: bool = False


class FlowLogRecord(_Frozen):
    """A record flow logs on that interface would show for this flow."""

    interface_id: str
    direction: str  # ingress | egress, as the record's flow-direction
    action: str  # ACCEPT | REJECT
    return_path: bool = False
    srcaddr: str | None = None
    dstaddr: str | None = None
    srcport: int | None = None
    dstport: int | None = None
    protocol: int | None = None


class Explanation(_Frozen):
    flow: Flow
    verdict: str  # ACCEPT | REJECT
    reason: str
    blocked_by: Blocker | None
    blockers: list[Blocker]
    hops: list[Hop]
    flow_logs: list[FlowLogRecord]
    fix: str | None = None
    notes: list[str] = []

    @property
    def accepted(self) -> bool:
        return self.verdict == "ACCEPT"
