"""`reach reconcile` and `reach explain --flow-logs` output: rich text from the result objects; JSON is
their `model_dump()`."""

from __future__ import annotations

import json

from rich.console import Console
from rich.table import Table
from rich.text import Text

from reach.reconcile.result import Disagreement, Observed, ReconcileResult, utc_text

_MAX_ROWS = 20


def reconcile_json(result: ReconcileResult) -> str:
    return json.dumps(result.model_dump(mode="json"), indent=2)


def _span(first: int | None, last: int | None) -> str:
    if first is None:
        return "-"
    a, b = utc_text(first), utc_text(last)
    return f"{a} to {b[11:]}" if a[:10] == b[:10] else f"{a} to {b}"


def _last(first: int, last: int) -> str:
    """The last time, without its date when it is the first's."""
    a, b = utc_text(first, zone=False), utc_text(last, zone=False)
    return b[11:] if a[:10] == b[:10] else b


def _action(action: str) -> Text:
    return Text(action, style="green" if action == "ACCEPT" else "bold red")


def render_reconcile_text(result: ReconcileResult, console: Console) -> None:
    s = result.summary
    verdict = ("[bold green]all agree[/bold green]" if s.evaluated and not s.disagree else
               f"[bold red]{s.disagree:,} disagree[/bold red]" if s.disagree else "nothing to compare")
    console.print(f"[bold]Reconciled[/bold] {s.records:,} records: {s.evaluated:,} evaluated, {s.agree:,} agree, "
                  f"{verdict}; {s.skipped:,} skipped, {s.unparsable:,} unparsable  "
                  f"[dim]({_span(s.first_seen, s.last_seen)})[/dim]")
    if s.responses:
        told = ", ".join(f"{n:,} by {name.replace('_', '-')}" for name, n in s.response_methods.items() if n)
        console.print(f"[dim]{s.responses:,} responses of tracked connections, checked against network ACLs only "
                      f"(told {told})[/dim]")
    _blocking(result, console)
    _disagreements(result.disagreements, console)
    _skipped(result, console)
    for note in result.notes:
        console.print(Text(f"note: {note}", style="dim"))


def _blocking(result: ReconcileResult, console: Console) -> None:
    if not result.blocking:
        return
    table = Table(title="Blocking rules (observed REJECTs the snapshot explains)", title_justify="left",
                  header_style="bold", box=None, pad_edge=False)
    for column in ("rule", "records", "flows", "first seen (UTC)", "last seen"):
        table.add_column(column, overflow="fold", justify="right" if column in ("records", "flows") else "left")
    for b in result.blocking[:_MAX_ROWS]:
        words = b.detail + (" (on responses)" if b.return_path else "")
        if b.ports:
            words += f" - {', '.join(b.ports)}"
        flows = f"~{b.flows:,}" if b.flows_estimated else f"{b.flows:,}"
        table.add_row(Text(words), f"{b.records:,}", flows, utc_text(b.first_seen, zone=False),
                      _last(b.first_seen, b.last_seen))
    console.print()
    console.print(table)
    if len(result.blocking) > _MAX_ROWS:
        more = len(result.blocking) - _MAX_ROWS
        console.print(Text(f"… and {more} more rules (--format json lists all)", style="dim"))


def _story_key(d: Disagreement) -> tuple[object, ...]:
    """What the rows of one change share: the flip, the suspected event, the rules that would have to differ."""
    point = d.change_point.model_dump_json() if d.change_point is not None else None
    event = d.suspected_event.model_dump_json() if d.suspected_event is not None else None
    rules = tuple((c.kind, c.id, c.rule, c.must, c.traffic) for c in d.rules_to_differ)
    return (point, event, rules, d.response, d.observed, d.predicted)


def _story(rows: list[Disagreement]) -> list[str]:
    d = rows[0]
    lines = []
    if d.change_point is not None:
        c = d.change_point
        previous = f" (last {c.before} {utc_text(c.previous)})" if c.previous is not None else ""
        lines.append(f"flipped {c.before} -> {c.after} at {utc_text(c.at)}{previous}")
    else:
        lines.append(f"observed {d.observed} throughout the logs; the snapshot says {d.predicted}")
    if d.suspected_event is not None:
        e = d.suspected_event
        lines.append(f"suspected: {e.event} on {', '.join(e.components)} at {utc_text(e.time)} by "
                     f"{e.principal or '?'} from {e.source_ip or '?'}" + (f" ({e.summary})" if e.summary else ""))
    for i, change in enumerate(d.rules_to_differ):
        peers = list(dict.fromkeys(r.rules_to_differ[i].peer for r in rows))
        shown = ", ".join(peers[:5]) + (f" and {len(peers) - 5} more" if len(peers) > 5 else "")
        lines.append("would have to differ: " + change.needed.replace(f"{change.traffic} {change.peer}",
                                                                        f"{change.traffic} {shown}"))
    if d.response:
        lines.append("these are responses: only a network ACL can reject them")
    return lines


def _disagreements(disagreements: list[Disagreement], console: Console) -> None:
    if not disagreements:
        return
    stories: dict[tuple[object, ...], list[Disagreement]] = {}
    table = Table(title="Disagreements (observed vs the snapshot)", title_justify="left", header_style="bold",
                  box=None, pad_edge=False)
    for column in ("", "interface", "dir", "flow", "observed", "predicted", "records", "first seen (UTC)",
                   "last seen"):
        table.add_column(column, overflow="fold", justify="right" if column == "records" else "left")
    for d in disagreements[:_MAX_ROWS]:
        rows = stories.setdefault(_story_key(d), [])
        rows.append(d)
        number = list(stories).index(_story_key(d)) + 1
        port = f":{d.service_port}" if d.service_port is not None else ""
        if d.response:
            flow = f"{d.src}{port} -> {d.dst} {d.protocol} (response)"
        else:
            flow = f"{d.src} -> {d.dst}{port} {d.protocol}"
        table.add_row(f"[{number}]", d.interface_id, d.direction, flow, _action(d.observed), _action(d.predicted),
                      f"{d.records:,}", utc_text(d.first_seen, zone=False), _last(d.first_seen, d.last_seen))
    console.print()
    console.print(table)
    if len(disagreements) > _MAX_ROWS:
        console.print(Text(f"… and {len(disagreements) - _MAX_ROWS} more groups (--format json lists them)",
                           style="dim"))
    for number, rows in enumerate(stories.values(), start=1):
        first, *rest = _story(rows)
        console.print(Text.assemble((f"[{number}] ", "bold"), first))
        for line in rest:
            console.print(f"    {line}")


def _skipped(result: ReconcileResult, console: Console) -> None:
    s = result.summary
    if s.skipped:
        parts = [f"{n:,} {what}" for n, what in (
            (s.nodata, "NODATA"), (s.skipdata, "SKIPDATA"), (s.no_action, "without an action"),
            (s.unknown_interface, "on interfaces not in the snapshot"),
            (s.unplaceable, "whose addresses are not their interface's")) if n]
        console.print()
        console.print(f"[bold]Skipped[/bold] {s.skipped:,} records: {', '.join(parts)}")
        for item in result.skipped_interfaces[:5]:
            console.print(f"  {item.interface_id}: {item.records:,} ({item.reason})")
        if len(result.skipped_interfaces) > 5:
            console.print(Text(f"  … and {len(result.skipped_interfaces) - 5} more interfaces", style="dim"))
    if s.unparsable:
        console.print()
        console.print(f"[bold]Unparsable[/bold] {s.unparsable:,} lines; the first:")
        for bad in result.bad_lines[:5]:
            console.print(Text(f"  {bad.source}:{bad.line}: {bad.reason}: {bad.text[:100]}"))


def render_observed_text(observed: Observed, console: Console) -> None:
    """The `explain --flow-logs` section: each predicted record next to what was logged."""
    table = Table(title=f"Flow logs observed ({observed.read:,} records read)", title_justify="left",
                  header_style="bold", box=None, pad_edge=False)
    for column in ("interface", "direction", "record", "predicted", "observed", "seen"):
        table.add_column(column, overflow="fold")
    for r in observed.records:
        ports = f"{'*' if r.srcport is None else r.srcport} -> {'*' if r.dstport is None else r.dstport}"
        what = f"{r.srcaddr} -> {r.dstaddr} {ports}" + (" (response)" if r.return_path else "")
        if r.records:
            seen = Text(", ".join(f"{n:,} {a}" for n, a in ((r.accept, "ACCEPT"), (r.reject, "REJECT")) if n),
                        style="green" if r.agrees else "bold red")
        else:
            seen = Text("none", style="yellow")
        table.add_row(r.interface_id, r.direction, what, _action(r.predicted), seen, _span(r.first_seen, r.last_seen))
    console.print(table)
    for r in observed.records:
        if not r.records:
            console.print(Text.assemble((f"No record on {r.interface_id} ({r.direction}): ", "bold"),
                                        "; ".join(r.why_none)))
    for note in observed.unreached:
        console.print(Text(f"note: {note}", style="dim"))
