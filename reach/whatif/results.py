"""What-if and check results are data: frozen models whose `model_dump()` feeds the text, JSON and JUnit
renderers in `reach.report`."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from reach.engine.explanation import Blocker, Explanation, Flow


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class RuleChange(_Frozen):
    """One rule-level difference between two networks, named as AWS names the rule."""

    kind: str  # security-group | network-acl | route-table | subnet | network-interface
    id: str
    direction: str | None = None  # ingress | egress for filter rules
    rule: int | str | None = None  # sgr- id, NACL rule number, route destination, or the attribute changed
    change: str  # added | removed | modified
    before: str | None = None  # the rule as it reads before (None when added)
    after: str | None = None  # … and after (None when removed)


class ChangedFlow(_Frozen):
    """A flow, or a group of flows, whose verdict the change flips.

    `source` says where it came from: `observed` (a distinct connection in the flow logs), `intent` (an
    entry of the intents file) or `header-space` (a region of addresses, protocols and ports around an
    interface, computed exactly from the rules). For a header-space group, `flow.src`/`flow.dst` hold the
    ranges as CIDRs and `dst_ports` the port (or ICMP type) range.
    """

    source: str
    flow: Flow
    before: str  # ACCEPT | REJECT
    after: str
    before_reason: str
    after_reason: str
    blocked_by: Blocker | None  # what blocks it after the change (None when it now passes)
    unblocked: Blocker | None = None  # what blocked it before, when the change lets it through
    observed_records: int = 0
    first_seen: int | None = None
    last_seen: int | None = None
    name: str | None = None  # the intent's name
    expect: str | None = None  # the intent's expected verdict
    interface: str | None = None  # header-space: the interface whose filters decide
    direction: str | None = None  # header-space: ingress | egress, seen from that interface
    src_ranges: list[str] | None = None
    dst_ranges: list[str] | None = None
    dst_ports: str | None = None  # "1024-65535", "8" (ICMP type), or None for every port
    note: str | None = None

    @property
    def broken(self) -> bool:
        return self.before == "ACCEPT" and self.after == "REJECT"

    @classmethod
    def between(cls, source: str, was: Explanation, now: Explanation, **details: Any) -> ChangedFlow:
        """The flow `now` explains, its verdict before (`was`) and after, and who blocks or stopped blocking it."""
        return cls(
            source=source,
            flow=details.pop("flow", now.flow),
            before=was.verdict,
            after=now.verdict,
            before_reason=was.reason,
            after_reason=now.reason,
            blocked_by=now.blocked_by,
            unblocked=was.blocked_by if now.accepted else None,
            **details,
        )


class WhatIfSummary(_Frozen):
    rule_changes: int
    affected_interfaces: int
    observed_records: int  # flow-log records read
    observed_connections: int  # distinct connections that touch an affected interface or subnet
    explained_connections: int  # … of which a changed rule can decide, explained before and after
    intents: int
    header_space_groups: int
    changed: int
    broken: int  # ACCEPT -> REJECT
    fixed: int  # REJECT -> ACCEPT
    broken_observed_connections: int
    broken_observed_records: int
    broken_intents: int  # intents that hold before and fail after


class WhatIfResult(_Frozen):
    changed: list[ChangedFlow]
    rule_changes: list[RuleChange]
    summary: WhatIfSummary
    notes: list[str] = []

    @property
    def breaks_live_flow(self) -> bool:
        """What `--fail-on-break` gates on: an observed connection or an intent that works now and would not
        after. With neither flow logs nor intents given, a header-space region that would be cut off."""
        if self.summary.broken_observed_connections or self.summary.broken_intents:
            return True
        no_flows = self.summary.observed_records == 0 and self.summary.intents == 0
        return no_flows and any(c.broken for c in self.changed if c.source == "header-space")


class IntentResult(_Frozen):
    name: str
    flow: Flow | None  # None when the intent's ends cannot be resolved
    expect: str
    verdict: str | None
    reason: str | None
    blocked_by: Blocker | None
    passed: bool
    problems: list[str]  # why it failed: verdict, reason or blocked_by mismatches, or a resolve error


class CheckResult(_Frozen):
    source: str  # the intents file, or "intents"
    results: list[IntentResult]

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    @property
    def failures(self) -> list[IntentResult]:
        return [r for r in self.results if not r.passed]
