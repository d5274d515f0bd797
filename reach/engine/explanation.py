"""Explanations are data: flow -> verdict -> hops of decisions. `model_dump()` is CONTRACT §2's JSON;
the text, JSON and HTML renderers all read this one object."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from reach.model.rules import RuleRef


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
    """A component that stops the flow: a `RuleRef` (CONTRACT's `blocked_by` shape, flat in the JSON) plus
    its reason code, where on the path it stopped it, and the fix."""

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

    @classmethod
    def of(cls, ref: RuleRef, reason: str, *, return_path: bool = False, detail: str | None = None,
           blocked_ports: str | None = None) -> Blocker:
        """The blocker a rule makes (`detail`: said more fully than the rule's own words, when given)."""
        return cls(kind=ref.kind, id=ref.id, direction=ref.direction, rule=ref.rule, return_path=return_path,
                   groups=list(ref.groups) if ref.groups is not None else None,
                   detail=ref.detail if detail is None else detail, reason=reason, blocked_ports=blocked_ports)

    @property
    def ref(self) -> RuleRef:
        """The rule behind the blocker, as compile and the interface decision name it."""
        return RuleRef(self.kind, self.id, self.direction, self.rule, self.detail,
                       tuple(self.groups) if self.groups is not None else None)


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
    # the notes that say what reach assumed because the snapshot lacks it (a whole describe-* kind, or one
    # resource a path needs): the text output's "Assumed" block
    assumed: list[str] = []

    @property
    def accepted(self) -> bool:
        return self.verdict == "ACCEPT"
