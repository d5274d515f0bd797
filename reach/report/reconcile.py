"""`reach reconcile` and `reach explain --flow-logs` output: rich text from the result objects, the answer
first (the tally, the top blocking rule, the first drift), then the tables; JSON is their `model_dump()`."""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from reach.engine.explanation import Explanation
from reach.reconcile.result import Blocking, Disagreement, Observed, ReconcileResult, Timeline, utc_text
from reach.report.layout import Cell, Column, left_out, one_line, paragraph, print_table, sparkline
from reach.report.names import Names
from reach.report.outputs import ExplainOutput, Versioned, dumps
from reach.report.safe import clean

_MAX_ROWS = 20


class ReconcileOutput(ReconcileResult, Versioned):
    """`reach reconcile`: CONTRACT §3's object, §9's `rule_usage` where it is computed."""


class ExplainObservedOutput(ExplainOutput):
    """`reach explain --flow-logs`: the explanation, and what the logs recorded for it."""

    observed: Observed | None = None


def reconcile_json(result: ReconcileResult) -> str:
    return dumps(ReconcileOutput.model_validate(dict(result)))


def explain_observed_json(explanation: Explanation, observed: Observed) -> str:
    return dumps(ExplainObservedOutput.model_validate({**dict(explanation), "observed": observed}))


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


def render_reconcile_text(result: ReconcileResult, console: Console, names: Names | None = None) -> None:
    names = names or Names()
    s = result.summary
    verdict = (Text("all agree", style="bold green") if s.evaluated and not s.disagree else
               Text(f"{s.disagree:,} disagree", style="bold red") if s.disagree else Text("nothing to compare"))
    paragraph(console, Text.assemble(
        ("Reconciled", "bold"), f" {s.records:,} records: {s.evaluated:,} evaluated, {s.agree:,} agree, ", verdict,
        f"; {s.skipped:,} skipped, {s.unparsable:,} unparsable  ", (f"({_span(s.first_seen, s.last_seen)})", "dim")))
    stories = _stories(result.disagreements[:_MAX_ROWS])
    if result.blocking:
        top = result.blocking[0]
        paragraph(console, Text.assemble(("Top blocking rule", "bold red"), "  ", _blocking_words(top, names),
                                         f" ({_counted(top)})"))
    if stories:
        first = stories[0][0]
        event = first.suspected_event
        suspect = f"; suspected: {event.event} by {event.principal or '?'}" if event is not None else ""
        paragraph(console, Text.assemble(("Drift", "bold red"), "  [1] ", _story(stories[0], names)[0],
                                         clean(suspect)))
    if s.responses:
        told = ", ".join(f"{n:,} by {name.replace('_', '-')}" for name, n in s.response_methods.items() if n)
        paragraph(console, Text(f"{s.responses:,} responses of tracked connections, checked against network ACLs "
                                f"only (told {told})", style="dim"))
    _blocking(result, console, names)
    _disagreements(result.disagreements, stories, console, names)
    _skipped(result, console)
    for note in result.notes:
        paragraph(console, Text(f"note: {clean(names.tag(note))}", style="dim"))


def _blocking_words(b: Blocking, names: Names) -> str:
    words = names.tag(b.detail) + (" (on responses)" if b.return_path else "")
    if b.ports:
        words += f" - {', '.join(b.ports)}"
    return clean(words)


def _counted(b: Blocking) -> str:
    flows = f"~{b.flows:,}" if b.flows_estimated else f"{b.flows:,}"
    span = f"{utc_text(b.first_seen, zone=False)} to {_last(b.first_seen, b.last_seen)}"
    return f"{b.records:,} records, {flows} flows, {span}"


def _blocking(result: ReconcileResult, console: Console, names: Names) -> None:
    if not result.blocking:
        return
    rows: list[list[Cell]] = []
    for b in result.blocking[:_MAX_ROWS]:
        flows = f"~{b.flows:,}" if b.flows_estimated else f"{b.flows:,}"
        rows.append([_blocking_words(b, names), f"{b.records:,}", flows, utc_text(b.first_seen, zone=False),
                     _last(b.first_seen, b.last_seen)])
    columns = [Column("rule"), Column("records", right=True), Column("flows", right=True, drop=1),
               Column("first seen (UTC)", drop=3), Column("last seen", drop=2)]
    console.print()
    left_out(console, print_table(console, columns, rows, title="Blocking rules (observed REJECTs the snapshot "
                                                                "explains)"))
    if len(result.blocking) > _MAX_ROWS:
        more = len(result.blocking) - _MAX_ROWS
        console.print(Text(f"… and {more} more rules (--format json lists all)", style="dim"))


def _story_key(d: Disagreement) -> tuple[object, ...]:
    """What the rows of one change share: the flip, the suspected event, the rules that would have to differ."""
    point = d.change_point.model_dump_json() if d.change_point is not None else None
    event = d.suspected_event.model_dump_json() if d.suspected_event is not None else None
    rules = tuple((c.kind, c.id, c.rule, c.must, c.traffic) for c in d.rules_to_differ)
    return (point, event, rules, d.response, d.observed, d.predicted)


def _stories(disagreements: list[Disagreement]) -> list[list[Disagreement]]:
    """The disagreement rows grouped by the change they tell, in order of first appearance."""
    stories: dict[tuple[object, ...], list[Disagreement]] = {}
    for d in disagreements:
        stories.setdefault(_story_key(d), []).append(d)
    return list(stories.values())


def _story(rows: list[Disagreement], names: Names) -> list[str]:
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
        needed = change.needed.replace(f"{change.traffic} {change.peer}", f"{change.traffic} {shown}")
        lines.append("would have to differ: " + names.tag(needed))
    if d.response:
        lines.append("these are responses: only a network ACL can reject them")
    return [clean(line) for line in lines]


def _disagreements(disagreements: list[Disagreement], stories: list[list[Disagreement]], console: Console,
                   names: Names) -> None:
    if not disagreements:
        return
    number = {id(d): n for n, rows in enumerate(stories, start=1) for d in rows}
    rows: list[list[Cell]] = []
    for d in disagreements[:_MAX_ROWS]:
        port = f":{d.service_port}" if d.service_port is not None else ""
        if d.response:
            flow = f"{d.src}{port} -> {d.dst} {d.protocol} (response)"
        else:
            flow = f"{d.src} -> {d.dst}{port} {d.protocol}"
        rows.append([f"[{number[id(d)]}]", clean(d.interface_id), d.direction, clean(flow), _action(d.observed),
                     _action(d.predicted), f"{d.records:,}", utc_text(d.first_seen, zone=False),
                     _last(d.first_seen, d.last_seen)])
    columns = [Column(""), Column("interface"), Column("dir", drop=2), Column("flow"), Column("observed"),
               Column("predicted"), Column("records", right=True, drop=1), Column("first seen (UTC)", drop=4),
               Column("last seen", drop=3)]
    console.print()
    left_out(console, print_table(console, columns, rows, title="Disagreements (observed vs the snapshot)"))
    if len(disagreements) > _MAX_ROWS:
        console.print(Text(f"… and {len(disagreements) - _MAX_ROWS} more groups (--format json lists them)",
                           style="dim"))
    for n, story in enumerate(stories, start=1):
        first, *rest = _story(story, names)
        paragraph(console, Text.assemble((f"[{n}] ", "bold"), first))
        for line in rest:
            paragraph(console, line, indent=4)
        d = story[0]
        if d.change_point is not None and d.timeline is not None and d.timeline.buckets:
            _timeline(console, d, names)


def _timeline(console: Console, d: Disagreement, names: Names) -> None:
    """ACCEPT and REJECT records over time as two sparklines on one scale, the flip marked below them."""
    timeline = d.timeline
    assert timeline is not None and d.change_point is not None
    lead = "    "
    room = max(10, console.width - len(lead) - 7)
    start, accept, reject, seconds = _resample(timeline, room)
    stretch = max(1, room // len(accept))  # few buckets: each drawn several columns wide
    peak = max(max(accept, default=0), max(reject, default=0), 1)
    what = f"{names.label(d.interface_id)} {d.direction}" + (f" {d.protocol} {d.service_port}"
                                                              if d.service_port is not None else f" {d.protocol}")
    per = f"{seconds // 60} min" if seconds % 60 == 0 else f"{seconds} s"
    paragraph(console, Text(clean(f"records per {per} of {what} (UTC):"), style="dim"), indent=4)
    for label, counts, style in (("ACCEPT", accept, "green"), ("REJECT", reject, "red")):
        bars = "".join(bar * stretch for bar in sparkline(counts, peak))
        one_line(console, Text.assemble(lead, (label, style), " ", (bars, style)))
    width = len(accept) * stretch
    flip = (d.change_point.at - start) * stretch // seconds
    end = start + seconds * len(accept)
    one_line(console, Text(lead + " " * 7 + _axis(width, [
        (0, utc_text(start)[11:16]), (flip, "^" + utc_text(d.change_point.at)[11:19]),
        (width - 5, utc_text(end - 1)[11:16])]), style="dim"))


def _resample(timeline: Timeline, room: int) -> tuple[int, list[int], list[int], int]:
    """The timeline in at most `room` columns, every bucket from the first to the last (empty ones too):
    (start, ACCEPT per column, REJECT per column, seconds per column)."""
    start, seconds = timeline.buckets[0].start, timeline.seconds
    count = (timeline.buckets[-1].start - start) // seconds + 1
    accept, reject = [0] * count, [0] * count
    for bucket in timeline.buckets:
        accept[(bucket.start - start) // seconds] += bucket.accept
        reject[(bucket.start - start) // seconds] += bucket.reject
    step = -(-count // room)

    def merged(counts: list[int]) -> list[int]:
        return [sum(counts[i:i + step]) for i in range(0, len(counts), step)]

    return start, merged(accept), merged(reject), seconds * step


def _axis(width: int, labels: list[tuple[int, str]]) -> str:
    """Labels placed at their columns, left to right; one that would overlap the one before is left out,
    except the flip's (placed after the first label instead)."""
    line = ""
    for column, label in labels:
        at = max(column, len(line) + 1 if line else 0)
        if at > column and not label.startswith("^"):
            continue
        line = line.ljust(at) + label
    return line[: max(width, len(line))]


def _skipped(result: ReconcileResult, console: Console) -> None:
    s = result.summary
    if s.skipped:
        parts = [f"{n:,} {what}" for n, what in (
            (s.nodata, "NODATA"), (s.skipdata, "SKIPDATA"), (s.no_action, "without an action"),
            (s.unknown_interface, "on interfaces not in the snapshot"),
            (s.unplaceable, "whose addresses are not their interface's")) if n]
        console.print()
        paragraph(console, Text.assemble(("Skipped", "bold"), f" {s.skipped:,} records: {', '.join(parts)}"))
        for item in result.skipped_interfaces[:5]:
            console.print(Text(f"  {clean(item.interface_id)}: {item.records:,} ({clean(item.reason)})"))
        if len(result.skipped_interfaces) > 5:
            console.print(Text(f"  … and {len(result.skipped_interfaces) - 5} more interfaces", style="dim"))
    if s.unparsable:
        console.print()
        console.print(Text.assemble(("Unparsable", "bold"), f" {s.unparsable:,} lines; the first:"))
        for bad in result.bad_lines[:5]:
            # file:line: reason, as compilers print them: one line whatever its length, to copy whole
            one_line(console, Text(f"  {clean(bad.source)}:{bad.line}: {clean(bad.reason)}"))
            one_line(console, Text(f"    {clean(bad.text[:100])}", style="dim"))


def render_observed_text(observed: Observed, console: Console, names: Names | None = None) -> None:
    """The `explain --flow-logs` section: each predicted record next to what was logged."""
    names = names or Names()
    rows: list[list[Cell]] = []
    for r in observed.records:
        ports = f"{'*' if r.srcport is None else r.srcport} -> {'*' if r.dstport is None else r.dstport}"
        what = f"{r.srcaddr} -> {r.dstaddr} {ports}" + (" (response)" if r.return_path else "")
        if r.records:
            seen = Text(", ".join(f"{n:,} {a}" for n, a in ((r.accept, "ACCEPT"), (r.reject, "REJECT")) if n),
                        style="green" if r.agrees else "bold red")
        else:
            seen = Text("none", style="yellow")
        rows.append([clean(r.interface_id), r.direction, clean(what), _action(r.predicted), seen,
                     _span(r.first_seen, r.last_seen)])
    columns = [Column("interface"), Column("direction", drop=1), Column("record"), Column("predicted"),
               Column("observed"), Column("seen", drop=2)]
    left_out(console, print_table(console, columns, rows, title=f"Flow logs observed ({observed.read:,} records read)"))
    for r in observed.records:
        if not r.records:
            paragraph(console, Text.assemble((f"No record on {clean(r.interface_id)} ({r.direction}): ", "bold"),
                                             clean(names.tag("; ".join(r.why_none)))))
    for note in observed.unreached:
        paragraph(console, Text(f"note: {clean(names.tag(note))}", style="dim"))
