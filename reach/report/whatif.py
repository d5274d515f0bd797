"""`reach whatif` and `reach diff` output: the rule changes, then every flow whose verdict flips (most observed
records first) with the component responsible, then the summary. Text (rich) and CONTRACT §4 JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from reach.engine.explanation import Blocker
from reach.whatif.results import ChangedFlow, WhatIfResult

_BLOCKER_FIELDS = ("kind", "id", "direction", "rule", "return_path", "groups", "detail", "reason", "blocked_ports")
_EXTRAS = ("name", "expect", "interface", "direction", "src_ranges", "dst_ranges", "dst_ports", "note")


def blocker_json(blocker: Blocker | None) -> dict[str, Any] | None:
    if blocker is None:
        return None
    data = blocker.model_dump(mode="json")
    return {k: data[k] for k in _BLOCKER_FIELDS}


def changed_json(changed: ChangedFlow) -> dict[str, Any]:
    """One `changed` item: CONTRACT §4's keys always, the others where they say something."""
    item: dict[str, Any] = {
        "flow": changed.flow.model_dump(mode="json"),
        "before": changed.before,
        "after": changed.after,
        "blocked_by": blocker_json(changed.blocked_by),
        "observed_records": changed.observed_records,
        "first_seen": changed.first_seen,
        "last_seen": changed.last_seen,
        "source": changed.source,
        "before_reason": changed.before_reason,
        "after_reason": changed.after_reason,
    }
    if changed.unblocked is not None:
        item["unblocked"] = blocker_json(changed.unblocked)
    for key in _EXTRAS:
        value = getattr(changed, key)
        if value is not None:
            item[key] = value
    return item


def whatif_json(result: WhatIfResult, extra_summary: dict[str, Any] | None = None) -> str:
    summary = result.summary.model_dump(mode="json") | (extra_summary or {})
    body = {
        "changed": [changed_json(c) for c in result.changed],
        "summary": summary,
        "rule_changes": [r.model_dump(mode="json") for r in result.rule_changes],
        "notes": result.notes,
    }
    return json.dumps(body, indent=2)


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
        return f"{flow.src} -> {flow.dst} {what}"
    port = f":{flow.dst_port}" if flow.dst_port is not None else ""
    text = f"{flow.src} -> {flow.dst}{port} {flow.protocol}"
    return f"{changed.name}: {text}" if changed.name else text


def _responsible(changed: ChangedFlow) -> str:
    blocker = changed.blocked_by or changed.unblocked
    if blocker is None:
        return ""
    rule = "" if blocker.rule is None else f" rule {blocker.rule}"
    lead = "" if changed.blocked_by else "no longer blocked by "
    where = " (return path)" if blocker.return_path else ""
    return f"{lead}{blocker.kind} {blocker.id or ''} {blocker.direction or ''}{rule}{where}".replace("  ", " ").strip()


def render_whatif_text(result: WhatIfResult, console: Console, title: str = "What-if") -> None:
    summary = result.summary
    console.print(
        Text.assemble(
            (f"{title}  ", "bold"),
            f"{summary.rule_changes} rule change(s), {summary.affected_interfaces} interface(s) affected",
        )
    )
    if result.rule_changes:
        rules = Table(title="Rule changes", title_justify="left", box=None, header_style="bold", pad_edge=False)
        for column in ("", "component", "dir", "rule", "detail"):
            rules.add_column(column, overflow="fold")
        marks = {"added": ("+", "green"), "removed": ("-", "red"), "modified": ("~", "yellow")}
        for change in result.rule_changes:
            mark, style = marks[change.change]
            detail = change.after if change.change == "added" else change.before
            if change.change == "modified":
                detail = f"{change.before}\n  -> {change.after}"
            rules.add_row(
                Text(mark, style=style),
                f"{change.kind} {change.id}",
                change.direction or "",
                "" if change.rule is None else str(change.rule),
                detail or "",
            )
        console.print(rules)
    if result.changed:
        observed = any(c.source == "observed" for c in result.changed)
        flows = Table(
            title=f"Verdicts that change ({len(result.changed)})",
            title_justify="left",
            box=None,
            header_style="bold",
            pad_edge=False,
        )
        columns = ["records", "from", "before", "after", "flow", "responsible", "first seen", "last seen"]
        for column in columns if observed else columns[1:6]:
            flows.add_column(column, overflow="fold")
        for changed in result.changed:
            row: list[str | Text] = [
                f"{changed.observed_records:,}" if changed.source == "observed" else "",
                changed.source,
                Text(changed.before, style="green" if changed.before == "ACCEPT" else "red"),
                Text(changed.after, style="bold green" if changed.after == "ACCEPT" else "bold red"),
                _flow_text(changed),
                _responsible(changed),
                _time(changed.first_seen),
                _time(changed.last_seen),
            ]
            flows.add_row(*(row if observed else row[1:6]))
        console.print(flows)
        # Each component responsible once, in its own words (for the first flow it blocks).
        blocked: dict[str, list[ChangedFlow]] = {}
        for changed in result.changed:
            if changed.blocked_by is not None:
                blocked.setdefault(_responsible(changed), []).append(changed)
        for responsible, group in blocked.items():
            more = f" (and {len(group) - 1} more)" if len(group) > 1 else ""
            detail = group[0].blocked_by.detail if group[0].blocked_by else ""
            console.print(Text(f"  {responsible}: {detail}{more}", style="dim"))
    else:
        console.print("No verdict changes.")
    console.print(Text.assemble(("Summary  ", "bold"), _summary_text(result)))
    for note in result.notes:
        console.print(Text(f"note: {note}", style="dim"))


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
