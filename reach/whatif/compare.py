"""`compare`: what a change does to verdicts. Two compiled networks in, the flows whose verdict flips out.

    before, after = Analyzer(old_network), Analyzer(new_network)
    result = compare(before, after, flows=read_flow_logs(paths), intents=load_intents("intents.yaml"))

The flows come from up to three places: connections observed in flow logs (weighted by their records),
the intents, and, when neither is given, the header space of every affected interface (see
`headerspace`). The rule-level diff comes with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pyarrow as pa

from reach.engine.explain import Analyzer
from reach.errors import ResolveError
from reach.model.network import Network
from reach.whatif.diff import diff_networks
from reach.whatif.headerspace import filter_flips, flip_notes, route_flips
from reach.whatif.intents import Intent
from reach.whatif.observed import changed_connections, group_connections
from reach.whatif.relevance import may_flip
from reach.whatif.results import ChangedFlow, WhatIfResult, WhatIfSummary

_SOURCE_ORDER = {"observed": 0, "intent": 1, "header-space": 2}


def _analyzer(network: Network | Analyzer) -> Analyzer:
    return network if isinstance(network, Analyzer) else Analyzer(network)


def compare(
    before: Network | Analyzer,
    after: Network | Analyzer,
    *,
    flows: Iterable[pa.RecordBatch] | None = None,
    intents: Sequence[Intent] | None = None,
    header_space: bool | None = None,
    notes: Sequence[str] = (),
) -> WhatIfResult:
    """The flows whose verdict differs between `before` and `after`, most observed records first.

    `header_space` defaults to on exactly when neither flows nor intents are given.
    """
    old, new = _analyzer(before), _analyzer(after)
    diff = diff_networks(old.network, new.network)
    scope = diff.scope
    said = list(notes)
    changed: list[ChangedFlow] = []
    records = connections = explained = 0
    if flows is not None:
        if diff.empty:
            said.append("the change alters no rule: the flow logs were not replayed")
        else:
            grouped = group_connections(
                flows, interfaces=scope.interfaces, addresses=scope.addresses(old.network, new.network)
            )
            records, connections = grouped.records_read, grouped.table.num_rows
            relevant = grouped.table.filter(may_flip(old.network, new.network, scope, grouped.table))
            explained = relevant.num_rows
            changed += changed_connections(old, new, relevant)
    if intents:
        changed += _intent_changes(old, new, intents, said)
    if header_space if header_space is not None else (flows is None and not intents):
        changed += filter_flips(old.network, new.network, scope)
        changed += route_flips(old, new, scope)
        said += flip_notes(old.network, new.network, scope)
    changed.sort(
        key=lambda c: (
            -c.observed_records,
            _SOURCE_ORDER[c.source],
            c.interface or "",
            c.flow.src,
            c.flow.dst,
            c.flow.protocol,
            c.flow.dst_port or 0,
        )
    )
    observed = [c for c in changed if c.source == "observed"]
    summary = WhatIfSummary(
        rule_changes=len(diff.rule_changes),
        affected_interfaces=len(scope.interfaces),
        observed_records=records,
        observed_connections=connections,
        explained_connections=explained,
        intents=len(intents or ()),
        header_space_groups=sum(c.source == "header-space" for c in changed),
        changed=len(changed),
        broken=sum(c.broken for c in changed),
        fixed=sum(c.before == "REJECT" and c.after == "ACCEPT" for c in changed),
        broken_observed_connections=sum(c.broken for c in observed),
        broken_observed_records=sum(c.observed_records for c in observed if c.broken),
        broken_intents=sum(c.source == "intent" and c.expect == c.before != c.after for c in changed),
    )
    return WhatIfResult(changed=changed, rule_changes=diff.rule_changes, summary=summary, notes=said)


def _intent_changes(old: Analyzer, new: Analyzer, intents: Sequence[Intent], notes: list[str]) -> list[ChangedFlow]:
    changed = []
    for intent in intents:
        try:
            was, now = intent.explain(old), intent.explain(new)
        except ResolveError as exc:
            notes.append(f"intent {intent.label}: {exc}")
            continue
        if was.verdict == now.verdict:
            continue
        changed.append(ChangedFlow.between("intent", was, now, name=intent.label, expect=intent.expect))
    return changed
