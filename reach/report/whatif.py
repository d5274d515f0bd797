"""`reach whatif` and `reach diff` output, the answer first: what breaks (live connections, intents or
header-space regions) and the rule most responsible, then the rule changes, every flow whose verdict flips
(most observed records first) and the summary. Text (rich) and CONTRACT §4 JSON."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from rich.text import Text

from reach.engine.explanation import Blocker
from reach.report.layout import Cell, Column, left_out, paragraph, print_table
from reach.report.names import Names
from reach.report.outputs import Versioned, dumps
from reach.report.safe import clean
from reach.whatif.results import ChangedFlow, RuleChange, WhatIfResult, WhatIfSummary


class WhatIfSummaryOutput(WhatIfSummary):
    changes: int | None = None  # whatif: the change set's actions (None for diff)
    change_format: str | None = None  # api | terraform
    unsupported: list[str] | None = None  # Terraform resources reach does not translate


class WhatIfOutput(Versioned):
    """`reach whatif` and `reach diff`: CONTRACT §4's object."""

    changed: list[ChangedFlow]
    summary: WhatIfSummaryOutput
    rule_changes: list[RuleChange]
    notes: list[str] = []


def whatif_json(result: WhatIfResult, extra_summary: dict[str, Any] | None = None) -> str:
    summary = WhatIfSummaryOutput.model_validate({**dict(result.summary), **(extra_summary or {})})
    return dumps(WhatIfOutput(changed=result.changed, summary=summary, rule_changes=result.rule_changes,
                              notes=result.notes))


def _time(epoch: int | None) -> str:
    return "" if epoch is None else datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M")


def _flow_text(changed: ChangedFlow) -> str:
    flow = changed.flow
    if changed.source == "header-space":
        what = flow.protocol if flow.protocol != "all" else "all traffic"
        if changed.dst_ports:
            what += f" {'type ' if flow.protocol in ('icmp', 'icmpv6') else ''}{changed.dst_ports}"
        elif flow.dst_port is not None:
            what += f" {flow.dst_port}"
        return clean(f"{flow.src} -> {flow.dst} {what}")
    port = f":{flow.dst_port}" if flow.dst_port is not None else ""
    text = f"{flow.src} -> {flow.dst}{port} {flow.protocol}"
    return clean(f"{changed.name}: {text}" if changed.name else text)


def _responsible(changed: ChangedFlow, names: Names) -> str:
    blocker = changed.blocked_by or changed.unblocked
    if blocker is None:
        return ""
    rule = "" if blocker.rule is None else f" rule {blocker.rule}"
    lead = "" if changed.blocked_by else "no longer blocked by "
    where = " (return path)" if blocker.return_path else ""
    words = f"{lead}{blocker.kind} {names.label(blocker.id)} {blocker.direction or ''}{rule}{where}"
    return clean(" ".join(words.split()))


def _headline(result: WhatIfResult) -> Text:
    s = result.summary
    if s.broken_observed_connections:
        what = (f"{s.broken_observed_connections} live connection(s) ({s.broken_observed_records:,} records) of "
                f"{s.observed_connections:,} that touch the change")
    elif s.broken_intents:
        what = f"{s.broken_intents} of {s.intents} intent(s) that hold today"
    elif s.broken:
        what = f"{s.broken} flow(s) ACCEPT -> REJECT" + (f", opens {s.fixed}" if s.fixed else "")
    elif s.fixed:
        return Text.assemble(("Opens", "bold yellow"), f"  {s.fixed} flow(s) REJECT -> ACCEPT, breaks none")
    else:
        return Text.assemble(("No verdict changes", "bold green"), _scope(result))
    return Text.assemble(("Breaks", "bold red"), f"  {what}")


def _scope(result: WhatIfResult) -> str:
    s = result.summary
    if s.observed_records:
        return f"  in {s.observed_connections:,} live connection(s) that touch the change"
    if s.intents:
        return f"  for {s.intents} intent(s)"
    return "  in the header space around what changed"


def _top_blocker(result: WhatIfResult, names: Names) -> Text | None:
    """The rule that blocks the most of what breaks (observed records, then flows)."""
    weight: dict[str, list[int]] = {}
    first: dict[str, Blocker] = {}
    for changed in result.changed:
        if changed.blocked_by is None or not changed.broken:
            continue
        key = _responsible(changed, names)
        totals = weight.setdefault(key, [0, 0])
        totals[0] += changed.observed_records
        totals[1] += 1
        first.setdefault(key, changed.blocked_by)
    if not weight:
        return None
    key = max(weight, key=lambda k: (weight[k][0], weight[k][1]))
    records, flows = weight[key]
    count = f"{flows} flow(s)" + (f", {records:,} records" if records else "")
    return Text.assemble(("Top blocker", "bold red"), "  ", clean(names.tag(first[key].detail)), f" ({count})")


def render_whatif_text(result: WhatIfResult, console: Console, title: str = "What-if",
                       names: Names | None = None) -> None:
    names = names or Names()
    summary = result.summary
    paragraph(console, _headline(result))
    top = _top_blocker(result, names)
    if top is not None:
        paragraph(console, top)
    paragraph(console, Text.assemble(
        (f"{clean(title)}  ", "bold"),
        f"{summary.rule_changes} rule change(s), {summary.affected_interfaces} interface(s) affected"))
    if result.rule_changes:
        _rule_changes(result, console, names)
    if result.changed:
        _verdicts(result, console, names)
    paragraph(console, Text.assemble(("Summary  ", "bold"), _summary_text(result)))
    for note in result.notes:
        paragraph(console, Text(f"note: {clean(names.tag(note))}", style="dim"))


def _rule_changes(result: WhatIfResult, console: Console, names: Names) -> None:
    """One change a line (mark, component, direction, rule), the rule in words under it: a list, not a
    table, so the words keep the width whatever the ids take."""
    marks = {"added": ("+", "green"), "removed": ("-", "red"), "modified": ("~", "yellow")}
    console.print(Text("Rule changes", style="bold"))
    for change in result.rule_changes:
        mark, style = marks[change.change]
        head = Text.assemble((mark, style), " ", clean(f"{change.kind} {names.label(change.id)}"))
        if change.direction:
            head.append(f" {change.direction}")
        if change.rule is not None:
            head.append(clean(f" rule {change.rule}"))
        paragraph(console, head)
        if change.change == "modified":
            paragraph(console, clean(names.tag(change.before or "")), indent=4)
            paragraph(console, f"-> {clean(names.tag(change.after or ''))}", indent=4)
        else:
            paragraph(console, clean(names.tag((change.after if change.change == "added" else change.before) or "")),
                      indent=4)


def _verdicts(result: WhatIfResult, console: Console, names: Names) -> None:
    observed = any(c.source == "observed" for c in result.changed)
    rows: list[list[Cell]] = []
    for changed in result.changed:
        rows.append([
            f"{changed.observed_records:,}" if changed.source == "observed" else "",
            changed.source,
            Text(changed.before, style="green" if changed.before == "ACCEPT" else "red"),
            Text(changed.after, style="bold green" if changed.after == "ACCEPT" else "bold red"),
            _flow_text(changed),
            _responsible(changed, names),
            _time(changed.first_seen),
            _time(changed.last_seen),
        ])
    columns = [Column("records", right=True), Column("from", drop=3), Column("before"), Column("after"),
               Column("flow"), Column("responsible"), Column("first seen", drop=2), Column("last seen", drop=1)]
    if not observed:
        columns, rows = columns[1:6], [row[1:6] for row in rows]
    title = f"Verdicts that change ({len(result.changed)})"
    left_out(console, print_table(console, columns, rows, title=title))
    # Each component responsible once, in its own words (for the first flow it blocks).
    blocked: dict[str, list[ChangedFlow]] = {}
    for changed in result.changed:
        if changed.blocked_by is not None:
            blocked.setdefault(_responsible(changed, names), []).append(changed)
    for responsible, group in blocked.items():
        more = f" (and {len(group) - 1} more)" if len(group) > 1 else ""
        detail = group[0].blocked_by.detail if group[0].blocked_by else ""
        paragraph(console, Text(f"{responsible}: {clean(names.tag(detail))}{more}", style="dim"), indent=2)


def _summary_text(result: WhatIfResult) -> str:
    s = result.summary
    parts = []
    if s.observed_records:
        parts.append(
            f"{s.broken_observed_connections} live connection(s) ({s.broken_observed_records:,} records) would break, "
            f"of {s.observed_connections:,} connection(s) that touch the change in {s.observed_records:,} records read"
        )
    if s.intents:
        parts.append(f"{s.broken_intents} of {s.intents} intent(s) would stop holding")
    if s.header_space_groups:
        parts.append(f"{s.header_space_groups} header-space group(s) flip")
    parts.append(f"{s.broken} flow(s) ACCEPT -> REJECT, {s.fixed} REJECT -> ACCEPT")
    return "; ".join(parts)
