"""`reach reachable` output: the answer first (how many peers, on which ports), then one line per peer with
its ports and the path that carries it. Text (rich), JSON and a minimal HTML page."""

from __future__ import annotations

import json

from rich.console import Console

from reach.report.sets import ports_text
from reach.sets.results import Answer, ReachableResult

WIDTH = 80


def reachable_json(result: ReachableResult) -> str:
    return json.dumps(result.model_dump(mode="json"), indent=2)


def headline(result: ReachableResult) -> str:
    query = result.query
    what = f"{query.protocol} {query.port}" if query.port is not None else f"{query.protocol}, every port"
    n = result.summary.answers
    if query.direction == "to":
        sources = "source" if n == 1 else "sources"
        return f"Reachable  {n} {sources} can open {query.endpoint} ({query.address}) on {what}"
    destinations = "destination" if n == 1 else "destinations"
    return f"Reachable  {query.endpoint} ({query.address}) can open {n} {destinations} on {what}"


def _access_text(answer: Answer) -> str:
    return "; ".join(f"{a.protocol} {ports_text(a.ports)}" + (f" from {', '.join(a.sources[:2])}"
                                                               + (" …" if len(a.sources) > 2 else "")
                                                               if answer.kind != "network-interface" else "")
                     for a in answer.access)


def render_reachable_text(result: ReachableResult, console: Console) -> None:
    console.print(headline(result), width=WIDTH)
    console.print(f"({result.summary.candidates} interfaces connected in the topology graph were examined; "
                  f"{result.summary.unreached} stopped on the way)", width=WIDTH)
    for answer in result.answers:
        name = f" ({answer.name})" if answer.name else ""
        console.print(f" {answer.kind} {answer.id}{name}: {_access_text(answer)}", width=WIDTH)
        console.print(f"   path: {' > '.join(answer.path)}", width=WIDTH)
    for stopped in result.unreached:
        console.print(f" stopped  {stopped.id}: {stopped.reason}: {stopped.detail}", width=WIDTH)
    for note in result.notes:
        console.print(f"Note  {note}", width=WIDTH)


def render_reachable_html(result: ReachableResult) -> str:
    from reach.report.pages import page  # Jinja2: only for the page

    rows = [{"kind": a.kind, "id": a.id, "name": a.name, "access": _access_text(a), "path": " › ".join(a.path)}
            for a in result.answers]
    return page("reachable.html.j2", page="reachable", title=f"reach reachable — {result.query.endpoint}",
                heading=headline(result), answers=rows, unreached=result.unreached, notes=result.notes)
