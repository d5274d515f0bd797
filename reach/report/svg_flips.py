"""The layout of a what-if's verdict changes, for `_flips.svg.j2` to draw: one row per flow, its verdict
before and after the change side by side, and the component responsible."""

from __future__ import annotations

from dataclasses import dataclass

from reach.engine.explanation import Blocker
from reach.report.svg_path import DIRECTION_LABELS, MONO_CHAR, SANS_CHAR, fit, kind_label, rule_label
from reach.report.whatif import _flow_text
from reach.whatif.results import ChangedFlow

WIDTH = 1120  # the page's width
ROW = 30
HEAD = 34
LABEL_X, LABEL_W = 12, 440
BEFORE_X, AFTER_X, PILL_W = 464, 576, 84
WHO_X = 682
MAX_ROWS = 100  # the page's table lists every flow; the picture the first hundred


@dataclass(frozen=True)
class FlipRow:
    index: int
    changed: ChangedFlow
    y: float
    label: str
    responsible: str
    records: str  # "140 records" for an observed flow, else its source
    tooltip: str


@dataclass(frozen=True)
class FlipsPicture:
    width: int
    height: int
    rows: list[FlipRow]
    more: int  # flows left out of the picture
    label_x: int
    before_x: int
    after_x: int
    pill_w: int
    who_x: int


def responsible(changed: ChangedFlow, names: dict[str, str]) -> str:
    """The component that blocks the flow after the change (or stopped blocking it), by its name where it has one:
    `security group web-sg inbound, no rule matches`."""
    blocker: Blocker | None = changed.blocked_by or changed.unblocked
    if blocker is None:
        return ""
    who = names.get(blocker.id or "") or blocker.id or ""
    side = DIRECTION_LABELS.get(blocker.direction or "", "")
    rule = rule_label(blocker.kind, blocker.rule, True)
    lead = "" if changed.blocked_by is not None else "no longer blocked by "
    words = " ".join(x for x in (kind_label(blocker.kind), who, side) if x)
    return f"{lead}{words}" + (f", {rule}" if rule else "") + (" (responses)" if blocker.return_path else "")


def flips_picture(changed: list[ChangedFlow], names: dict[str, str] | None = None) -> FlipsPicture:
    names = names or {}
    rows = []
    for i, flip in enumerate(changed[:MAX_ROWS]):
        who = responsible(flip, names)
        records = (f"{flip.observed_records:,} record{'s' if flip.observed_records != 1 else ''}"
                   if flip.source == "observed" else flip.source)
        label = _flow_text(flip)
        rows.append(FlipRow(
            index=i, changed=flip, y=HEAD + i * ROW, label=fit(label, LABEL_W, MONO_CHAR),
            responsible=fit(f"{who} · {records}" if who else records, WIDTH - WHO_X - 8, SANS_CHAR),
            records=records, tooltip=f"{label}: {flip.before} -> {flip.after}; {who}",
        ))
    return FlipsPicture(width=WIDTH, height=HEAD + len(rows) * ROW + 8, rows=rows, more=len(changed) - len(rows),
                        label_x=LABEL_X, before_x=BEFORE_X, after_x=AFTER_X, pill_w=PILL_W, who_x=WHO_X)
