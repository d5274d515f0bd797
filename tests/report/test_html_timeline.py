"""The timelines behind the reconcile page: records per time bucket for each disagreement and blocking rule,
kept by reconcile (`timeline` in its JSON), bounded whatever the input, and laid out with their marks."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
from typer.testing import CliRunner

from reach.cli import app
from reach.reconcile.drift import MAX_BUCKETS, RuleSeries, timelines
from reach.reconcile.result import Timeline, TimelineBucket
from reach.report.svg_timeline import Mark, MarkKind, timeline_picture
from tests.conftest import FIXTURES

runner = CliRunner()
SEED_003 = FIXTURES / "reconcile-web-http-revoked"


def at(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp())


def seed_003() -> dict[str, object]:
    result = runner.invoke(app, ["reconcile", str(SEED_003 / "flowlogs"), "--snapshot",
                                 str(FIXTURES / "web-http-revoked/snapshot"), "--format", "json"])
    assert result.exit_code == 0, result.output
    body: dict[str, object] = json.loads(result.stdout)
    return body


def test_each_http_disagreement_carries_its_minutes_accepted_until_1407_then_rejected() -> None:
    http = [d for d in seed_003()["disagreements"] if d["service_port"] == 80]  # type: ignore[attr-defined]

    for d in http:
        timeline = d["timeline"]
        assert timeline["seconds"] == 60
        buckets = timeline["buckets"]
        flip = at("2024-03-12T14:07:00")
        # three clients, one connection a minute each, on the interface's port-80 history
        assert all((b["accept"], b["reject"]) == (3, 0) for b in buckets if b["start"] < flip)
        assert all((b["accept"], b["reject"]) == (0, 3) for b in buckets if b["start"] >= flip)
        assert buckets[0]["start"] == at("2024-03-12T13:50:00") and buckets[-1]["start"] == at("2024-03-12T14:19:00")
        assert sum(b["accept"] for b in buckets) == 3 * d["records"]


def test_the_blocking_rule_counts_what_it_rejects_and_what_it_should_have_rejected_minute_by_minute() -> None:
    (web_sg,) = seed_003()["blocking"]  # type: ignore[misc]
    buckets = web_sg["timeline"]["buckets"]

    assert sum(b["reject"] for b in buckets) == web_sg["records"] == 41
    assert sum(b["accept"] for b in buckets) == 51  # the disagreements: accepted before the revoke
    telnet = [b for b in buckets if b["start"] < at("2024-03-12T14:07:00") and b["reject"]]
    assert [b["start"] for b in telnet] == [at("2024-03-12T13:55:00")]


def table(key: list[int], bucket: list[int], accept: list[int], records: list[int]) -> pa.Table:
    return pa.table({"key": key, "bucket": bucket, "accept": accept, "records": records})


def test_a_day_of_minutes_is_drawn_in_at_most_240_buckets_and_loses_no_record() -> None:
    minutes = np.arange(1440) + at("2024-03-12T00:00:00") // 60
    found = timelines(table([7] * 1440, minutes.tolist(), [1] * 1440, [2] * 1440), 60)

    day = found[7]
    assert day.seconds == 600 and len(day.buckets) == 144 <= MAX_BUCKETS
    assert sum(b.accept for b in day.buckets) == 2880 and all(b.reject == 0 for b in day.buckets)
    assert day.buckets[0].start == at("2024-03-12T00:00:00")


def test_timelines_keep_their_keys_apart_and_can_be_asked_for_some() -> None:
    found = timelines(table([1, 1, 2], [100, 100, 100], [1, 0, 0], [5, 3, 9]), 60, np.array([1]))

    assert list(found) == [1]
    assert found[1].buckets == [TimelineBucket(start=6000, accept=5, reject=3)]


def test_the_rule_series_widens_its_buckets_past_its_budget_and_keeps_every_record() -> None:
    series = RuleSeries(budget=50)
    start = np.arange(0, 6000 * 60, 60, dtype=np.int64)  # 6000 minutes of one rule
    series.add(np.zeros(6000, dtype=np.int64), np.zeros(6000, dtype=np.int64), start)

    assert series.seconds > 60 and series.table().num_rows <= 50
    assert sum(series.table()["records"].to_pylist()) == 6000


def test_records_the_snapshot_lets_through_are_not_any_rules_series() -> None:
    series = RuleSeries()
    series.add(np.array([-1, -1]), np.array([1, 0]), np.array([0, 60]))

    assert series.table().num_rows == 0


def test_a_nearby_cloudtrail_event_widens_the_axis_and_a_distant_one_points_off_the_edge() -> None:
    minutes = [TimelineBucket(start=6000 + 60 * i, accept=1, reject=0) for i in range(30)]
    timeline = Timeline(seconds=60, buckets=minutes)
    near = Mark(MarkKind.EVENT, 6000 - 300, "revoke")
    far = Mark(MarkKind.EVENT, 6000 - 86400, "long ago")

    picture = timeline_picture(timeline, [near, far])

    placed = {p.mark.label: p for p in picture.marks}
    assert placed["revoke"].outside == "" and picture.left < placed["revoke"].x < picture.bars[0].x
    assert placed["long ago"].outside == "before" and placed["long ago"].x == picture.left
    assert all(picture.left <= bar.x <= picture.right for bar in picture.bars)
    assert all(bar.y + bar.h <= picture.axis + 0.01 for bar in picture.bars)  # ACCEPT bars stand on the axis
