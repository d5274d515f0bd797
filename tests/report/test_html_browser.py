"""Each page opened in headless Chromium, as a user would open the file: what it draws, that it logs no error
and asks for nothing, and a screenshot.

With REACH_UPDATE_SCREENSHOTS=1 the screenshots are written to docs/, where the README shows them.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reach.api import Snapshot
from reach.cli import app
from reach.report.pages import render_html
from tests.conftest import ROOT
from tests.report.conftest import HOSTILE, Browser, Opened, hostile_snapshot

runner = CliRunner()
# Paths as the README gives them, from the repository's root: they show on the pages, and so in docs/.
LAMBDA_NACL = "fixtures/lambda-rds-nacl/snapshot"
SEED_003 = Path("fixtures/reconcile-web-http-revoked")
REVOKE = Path("fixtures/whatif-web-http-revoke")
DOCS = ROOT / "docs"


@pytest.fixture(autouse=True)
def _from_the_repository_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def page(*args: str) -> str:
    result = runner.invoke(app, [*args, "--format", "html"])
    assert result.exit_code == 0, result.output
    return result.stdout


def screenshot(opened: Opened, name: str, tmp_path: Path) -> tuple[int, int]:
    """A full-page screenshot (kept in docs/ when asked), as (width, height) read from the PNG itself."""
    folder = DOCS if os.environ.get("REACH_UPDATE_SCREENSHOTS") else tmp_path
    folder.mkdir(exist_ok=True)
    path = folder / f"{name}.png"
    opened.page.screenshot(path=str(path), full_page=True)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def assert_quiet(opened: Opened) -> None:
    assert opened.console_errors == []
    assert opened.foreign_requests == []
    assert opened.requests == [opened.url]


def test_chromium_draws_the_lambda_to_rds_path_with_the_nacl_blocking(chromium: Browser, tmp_path: Path) -> None:
    explanation = Snapshot.load(LAMBDA_NACL).explain("10.0.1.100", "10.0.2.50", 3306)
    opened = chromium.open(page("explain", "10.0.1.100", "10.0.2.50", "3306", "--snapshot", LAMBDA_NACL))

    hops = opened.page.locator("svg.path [data-kind]")
    assert hops.count() == len(explanation.hops)
    drawn = hops.evaluate_all("els => els.map(e => [e.dataset.kind, e.dataset.id, e.getBBox().width])")
    assert [(kind, id_) for kind, id_, _ in drawn] == [(h.kind, h.id) for h in explanation.hops]
    assert all(width > 100 for _, _, width in drawn)  # really laid out, not just in the markup
    blocked = opened.page.locator('svg.path [data-blocked="true"]')
    assert blocked.count() == 1 and blocked.get_attribute("data-id") == "acl-0a888ff01d6002462"
    assert "orders-db-acl" in (blocked.text_content() or "")
    assert opened.page.locator(".verdict").inner_text().startswith("REJECT")
    assert_quiet(opened)
    width, height = screenshot(opened, "explain", tmp_path)
    assert width == 1240 and height > 900


def test_pointing_at_the_blocking_hop_lights_up_its_row_in_the_hop_table(chromium: Browser) -> None:
    opened = chromium.open(page("explain", "10.0.1.100", "10.0.2.50", "3306", "--snapshot", LAMBDA_NACL))

    opened.page.locator('svg.path [data-blocked="true"]').hover()

    lit = opened.page.locator("table.hops tr.hl")
    assert lit.count() == 1 and "denies tcp 3306 from 10.0.0.0/16" in lit.inner_text()
    assert_quiet(opened)


def test_chromium_draws_seed_003_http_turning_to_reject_at_alices_revoke(chromium: Browser, tmp_path: Path) -> None:
    after = "fixtures/web-http-revoked/snapshot"
    opened = chromium.open(page("reconcile", str(SEED_003 / "flowlogs"), "--snapshot", after,
                                "--cloudtrail", str(SEED_003 / "cloudtrail")))

    story = opened.page.locator("section.disagreement svg.timeline").first
    accepted = story.locator('[data-action="ACCEPT"]').evaluate_all("els => els.map(e => e.getBBox().x)")
    rejected = story.locator('[data-action="REJECT"]').evaluate_all("els => els.map(e => e.getBBox().x)")
    assert len(accepted) == 17 and len(rejected) == 13 and max(accepted) < min(rejected)  # ACCEPT, then REJECT
    flip = story.locator("g.marker.change-point line").evaluate("e => e.getBBox().x")
    event = story.locator("g.marker.cloudtrail-event")
    assert "RevokeSecurityGroupIngress by alice" in event.inner_html()
    minute = rejected[1] - rejected[0]
    # the revoke at 14:06:50 inside the last ACCEPT minute, the flip at 14:07:05 inside the first REJECT one
    assert max(accepted) < event.locator("line").evaluate("e => e.getBBox().x") < min(rejected) <= flip
    assert flip < min(rejected) + minute
    assert opened.page.locator("section.blocking svg.timeline").count() == 1
    assert_quiet(opened)
    screenshot(opened, "reconcile", tmp_path)


def test_chromium_draws_the_whatif_flows_before_and_after(chromium: Browser, tmp_path: Path) -> None:
    opened = chromium.open(page("whatif", str(REVOKE / "change.json"), "--snapshot", str(REVOKE / "snapshot"),
                                "--flow-logs", str(REVOKE / "flow-logs"), "--intents", str(REVOKE / "intents.yaml")))

    flips = opened.page.locator("svg.flips g.flip")
    assert flips.count() == 5
    assert flips.evaluate_all("els => els.map(e => e.dataset.before + '>' + e.dataset.after)") == ["ACCEPT>REJECT"] * 5
    assert "web-sg" in flips.first.inner_html()
    assert opened.page.locator("table.changed tbody tr").count() == 5
    assert_quiet(opened)
    screenshot(opened, "whatif", tmp_path)


def test_a_name_tag_written_as_a_script_is_shown_never_run(chromium: Browser, tmp_path: Path) -> None:
    snap = Snapshot.load(hostile_snapshot("lambda-rds-nacl", tmp_path / "snapshot"))
    opened = chromium.open(render_html(snap.explain("10.0.1.100", "10.0.2.50", 3306), snap.network), "hostile.html")
    dialogs: list[str] = []
    opened.page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    opened.page.wait_for_timeout(200)

    assert dialogs == [] and opened.page.locator("script").count() == 1
    assert HOSTILE[:20] in opened.page.locator("table.hops").inner_text()
    assert_quiet(opened)


# ----- the set answers -----------------------------------------------------------------------------------

EXPOSURE = "fixtures/exposure-internet-edge/snapshot"


def test_exposure_strikes_through_what_security_groups_alone_would_wrongly_report(
        chromium: Browser, tmp_path: Path) -> None:
    opened = chromium.open(page("exposure", "--snapshot", EXPOSURE))

    struck = opened.page.locator('s[data-false-positive="true"]')
    assert struck.count() >= 3  # world-open groups that a NACL, a route or a missing address makes unreachable
    style = struck.first.evaluate("e => getComputedStyle(e).textDecorationLine")
    assert "line-through" in style
    wrong = opened.page.locator('tr[data-wrong="true"]')
    assert wrong.count() >= 3 and all(wrong.nth(k).get_attribute("data-id") for k in range(wrong.count()))
    assert_quiet(opened)
    screenshot(opened, "exposure", tmp_path)


def test_reachable_lists_each_answer_with_its_path(chromium: Browser, tmp_path: Path) -> None:
    opened = chromium.open(page("reachable", "--to", "10.0.2.50", "--port", "3306", "--snapshot",
                                "fixtures/lambda-rds-ok/snapshot"))

    rows = opened.page.locator("tr[data-id]")
    assert rows.count() >= 1
    assert_quiet(opened)
    screenshot(opened, "reachable", tmp_path)
