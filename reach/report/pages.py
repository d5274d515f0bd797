"""`--format html`: one self-contained page per result, drawn from the same objects as the text and JSON.

    render_html(snap.explain("10.0.1.100", "10.0.2.50", 3306), snap.network)   # -> "<!doctype html>…"

Pages are Jinja2 templates (`reach/report/templates/`, autoescaped) around one shell, `base.html.j2`, whose
Content-Security-Policy refuses every address: styles, scripts and pictures are inline, so the page opens
the same offline, from a ticket or a CI artifact. Pictures are inline SVG laid out by `svg_path`,
`svg_timeline` and `svg_flips`. A new page (exposure, say) is a template extending the shell, a function
returning `page(template, ...)`, and an entry in `PAGES`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from reach.engine.explanation import Blocker, Explanation
from reach.model.network import Network
from reach.reconcile.result import Blocking, Disagreement, Observed, ReconcileResult, utc_text
from reach.report.names import Names as NameLookup
from reach.report.names import component_names
from reach.report.reconcile import _story, _story_key
from reach.report.safe import page_text
from reach.report.svg_flips import flips_picture
from reach.report.svg_path import DIRECTION_LABELS, kind_label, path_picture, rule_label
from reach.report.svg_timeline import Mark, MarkKind, TimelinePicture, timeline_picture
from reach.report.whatif import _summary_text
from reach.whatif.results import WhatIfResult

Names = dict[str, str]


@dataclass(frozen=True)
class PageContext:
    """What a page knows besides its result."""

    names: Names  # id -> Name tag
    title: str | None = None
    observed: Observed | None = None  # explain --flow-logs: what the logs recorded for the flow


@functools.cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("reach.report", "templates"),
        autoescape=True,  # every name and detail comes from the snapshot or the logs: escape them all
        finalize=page_text,  # and show their control characters escaped
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["kind"] = kind_label
    env.filters["side"] = lambda direction: DIRECTION_LABELS.get(direction or "", direction or "")
    env.filters["utc"] = utc_text
    env.filters["count"] = lambda n: f"{n:,}"
    return env


def _version() -> str:
    try:
        return version("reach")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "dev"


def page(template: str, *, page: str, title: str, heading: str, subtitle: str = "", names: Names | None = None,
         **context: Any) -> str:
    """A template of `templates/` that extends the shell, rendered to a complete page."""
    return _environment().get_template(template).render(
        page=page, title=title, heading=heading, subtitle=subtitle, names=names or {}, version=_version(),
        rule_text=lambda b: rule_label(b.kind, b.rule, True), **context)


def _flow_words(e: Explanation) -> str:
    flow = e.flow
    port = "" if flow.dst_port is None else f":{flow.dst_port}"
    code = "" if flow.icmp_code is None else f"/{flow.icmp_code}"
    src_port = "" if flow.src_port is None else f" from port {flow.src_port}"
    return f"{flow.src} → {flow.dst}{port}{code} {flow.protocol}{src_port}"


def explanation_page(e: Explanation, context: PageContext) -> str:
    flow = _flow_words(e)
    return page("explain.html.j2", page="explain", title=context.title or f"reach explain {flow}: {e.verdict}",
                heading=f"Can {e.flow.src} reach {e.flow.dst}?", subtitle=flow, names=context.names, e=e,
                picture=path_picture(e, context.names), observed=context.observed)


# ----- reconcile ------------------------------------------------------------------------------------


def _marks(disagreements: list[Disagreement]) -> list[Mark]:
    """The change points and suspected CloudTrail events of these disagreements, once each."""
    marks = []
    for d in disagreements:
        if d.change_point is not None:
            c = d.change_point
            marks.append(Mark(MarkKind.CHANGE_POINT, c.at, f"{c.before} → {c.after} {utc_text(c.at)[11:19]}",
                              f"observed action flipped {c.before} -> {c.after} at {utc_text(c.at)}"
                              + (f" (last {c.before} {utc_text(c.previous)})" if c.previous is not None else "")))
        if d.suspected_event is not None:
            ev = d.suspected_event
            who = (ev.principal or "?").rsplit("/", 1)[-1]
            marks.append(Mark(MarkKind.EVENT, ev.time, f"{ev.event} by {who} {utc_text(ev.time)[11:19]}",
                              f"{ev.event} on {', '.join(ev.components)} at {utc_text(ev.time)} by "
                              f"{ev.principal or '?'} from {ev.source_ip or '?'}"
                              + (f" ({ev.summary})" if ev.summary else "")))
    return list(dict.fromkeys(marks))


def _blocked_by_rule(d: Disagreement, b: Blocking) -> bool:
    if d.blocked_by is None:
        return False
    return (d.blocked_by.get("kind"), d.blocked_by.get("id"), d.blocked_by.get("rule"), d.response) == (
        b.kind, b.id, b.rule, b.return_path)


def _picture(timeline: Any, marks: list[Mark]) -> TimelinePicture | None:
    return timeline_picture(timeline, marks) if timeline is not None else None


def reconcile_page(result: ReconcileResult, context: PageContext) -> str:
    stories: dict[tuple[object, ...], list[Disagreement]] = {}
    for d in result.disagreements:
        stories.setdefault((_story_key(d), d.timeline.model_dump_json() if d.timeline else None), []).append(d)
    lookup = NameLookup(dict(context.names))
    story_views = [{"rows": rows, "lines": _story(rows, lookup), "picture": _picture(rows[0].timeline, _marks(rows))}
                   for rows in stories.values()]
    blocking_views = [{"b": b, "picture": _picture(b.timeline, _marks(
        [d for d in result.disagreements if _blocked_by_rule(d, b)]))} for b in result.blocking]
    s = result.summary
    span = f"{utc_text(s.first_seen)} to {utc_text(s.last_seen)}" if s.first_seen is not None else "no records"
    heading = (f"{s.disagree:,} records disagree with the snapshot" if s.disagree
               else "The flow logs agree with the snapshot" if s.evaluated else "Nothing to compare")
    return page("reconcile.html.j2", page="reconcile", title=context.title or f"reach reconcile: {heading}",
                heading=heading, subtitle=f"flow logs {span}", names=context.names, r=result, stories=story_views,
                blocking=blocking_views)


# ----- whatif ---------------------------------------------------------------------------------------


def whatif_page(result: WhatIfResult, context: PageContext) -> str:
    s = result.summary
    heading = (f"{s.broken} flow(s) would break, {s.fixed} would be let through" if result.changed
               else "No verdict changes")
    return page("whatif.html.j2", page="whatif", title=context.title or f"reach whatif: {heading}",
                heading=heading, subtitle=context.title or "", names=context.names, w=result,
                summary=_summary_text(result), flips=flips_picture(result.changed, context.names),
                blocker_of=_blocker_of)


def _blocker_of(changed: Any) -> Blocker | None:
    return changed.blocked_by or changed.unblocked


PAGES: dict[type, Callable[[Any, PageContext], str]] = {
    Explanation: explanation_page,
    ReconcileResult: reconcile_page,
    WhatIfResult: whatif_page,
}


def render_html(result: Explanation | ReconcileResult | WhatIfResult, *networks: Network | None,
                title: str | None = None, observed: Observed | None = None) -> str:
    """The result as one self-contained HTML page; `networks` lend their Name tags to the ids shown."""
    context = PageContext(names=component_names(*networks), title=title, observed=observed)
    for kind, render in PAGES.items():
        if isinstance(result, kind):
            return render(result, context)
    raise TypeError(f"no HTML page for {type(result).__name__}")
