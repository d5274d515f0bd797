"""The layout of a timeline of observed records, for `_timeline.svg.j2` to draw: ACCEPT bars up, REJECT bars
down from one axis, a bucket each, with the change point and the CloudTrail event as marked lines."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from reach.reconcile.result import Timeline, utc_text

WIDTH, HEIGHT = 1080, 220  # the width of a story on the page
LEFT, RIGHT = 64, 20
TOP, BOTTOM = 40, 30  # room for the marks' labels, and for the time ticks
NEAR = 0.5  # a mark this far outside the records (as a share of their span) widens the axis to show it
_STEPS = (60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800, 2592000)
MAX_TICKS = 8


class MarkKind(StrEnum):
    CHANGE_POINT = "change-point"
    EVENT = "cloudtrail-event"


@dataclass(frozen=True)
class Mark:
    """A moment to show on the timeline: when the observed action flipped, or the change that did it."""

    kind: MarkKind
    at: int  # epoch seconds
    label: str
    detail: str = ""


@dataclass(frozen=True)
class Bar:
    action: str  # ACCEPT | REJECT
    start: int
    records: int
    x: float
    y: float
    w: float
    h: float
    tooltip: str


@dataclass(frozen=True)
class PlacedMark:
    mark: Mark
    x: float
    label_y: float
    anchor: str  # start | end: which side of the line the label sits
    outside: str  # "" when on the axis; "before" / "after" when beyond it (drawn at the edge)


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True)
class TimelinePicture:
    width: int
    height: int
    left: float
    right: float
    top: float
    axis: float  # y of the zero line
    bottom: float
    peak: int  # records in the fullest bucket of either action
    seconds: int
    bars: list[Bar]
    marks: list[PlacedMark]
    ticks: list[Tick]
    caption: str


def _ticks(t0: int, t1: int, x_of: Callable[[float], float]) -> list[Tick]:
    step = next((s for s in _STEPS if (t1 - t0) / s <= MAX_TICKS), _STEPS[-1])
    first = -(-t0 // step) * step
    ticks, day = [], ""
    for t in range(first, t1 + 1, step):
        when = datetime.fromtimestamp(t, tz=UTC)
        label = when.strftime("%H:%M") if step < 86400 else when.strftime("%m-%d")
        if step < 86400 and when.strftime("%m-%d") != day:
            day = when.strftime("%m-%d")
            label = f"{day} {label}"
        ticks.append(Tick(x=x_of(t), label=label))
    return ticks


def timeline_picture(timeline: Timeline, marks: list[Mark] | None = None) -> TimelinePicture:
    """Bars, marks and ticks of one timeline, on an axis wide enough for its records and nearby marks."""
    marks = sorted(dict.fromkeys(marks or []), key=lambda m: (m.at, m.kind))
    buckets = timeline.buckets
    t0 = buckets[0].start if buckets else min((m.at for m in marks), default=0)
    t1 = buckets[-1].start + timeline.seconds if buckets else t0 + timeline.seconds
    span = max(t1 - t0, timeline.seconds)
    for mark in marks:  # widen to show a mark that is close by
        if t0 - span * NEAR <= mark.at < t0:
            t0 = mark.at - timeline.seconds // 2
        elif t1 < mark.at <= t1 + span * NEAR:
            t1 = mark.at + timeline.seconds // 2
    left, right = float(LEFT), float(WIDTH - RIGHT)
    top, bottom = float(TOP), float(HEIGHT - BOTTOM)
    axis = (top + bottom) / 2
    half = axis - top - 2

    def x_of(t: float) -> float:
        return round(left + (t - t0) / max(t1 - t0, 1) * (right - left), 2)

    peak = max((max(b.accept, b.reject) for b in buckets), default=0)
    bars = []
    for b in buckets:
        x, x2 = x_of(b.start), x_of(b.start + timeline.seconds)
        w = max(1.0, round(x2 - x - (1 if x2 - x > 3 else 0), 2))
        when = utc_text(b.start)
        for action, records in (("ACCEPT", b.accept), ("REJECT", b.reject)):
            if not records:
                continue
            h = max(1.0, round(records / peak * half, 2))
            y = axis - h if action == "ACCEPT" else axis
            bars.append(Bar(action=action, start=b.start, records=records, x=x, y=y, w=w, h=h,
                            tooltip=f"{records:,} {action} record{'s' if records != 1 else ''} from {when}"))
    placed = []
    for mark in marks:
        outside = "before" if mark.at < t0 else "after" if mark.at > t1 else ""
        x = left if outside == "before" else right if outside == "after" else x_of(mark.at)
        # events label to the left of their line, change points to the right, on rows of their own
        anchor = "end" if mark.kind == MarkKind.EVENT else "start"
        if anchor == "end" and x - left < 200:
            anchor = "start"
        elif anchor == "start" and right - x < 200:
            anchor = "end"
        label_y = 13.0 if mark.kind == MarkKind.EVENT else 28.0
        placed.append(PlacedMark(mark=mark, x=x, label_y=label_y, anchor=anchor, outside=outside))
    width = f"{timeline.seconds // 60} minute" if timeline.seconds < 3600 else f"{timeline.seconds // 3600} hour"
    caption = f"{utc_text(t0)} to {utc_text(t1)}, records per {width}{'s' if not width.startswith('1 ') else ''}"
    return TimelinePicture(width=WIDTH, height=HEIGHT, left=left, right=right, top=top, axis=axis, bottom=bottom,
                           peak=peak, seconds=timeline.seconds, bars=bars, marks=placed,
                           ticks=_ticks(t0, t1, x_of), caption=caption)
