"""`--format html`: each result as one self-contained page, its pictures drawn from the result itself.

These read the page's markup; `test_html_browser.py` opens the same pages in Chromium.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from markupsafe import escape
from typer.testing import CliRunner

from reach.api import Snapshot
from reach.cli import app
from reach.report.mermaid import explanation_mermaid
from reach.report.pages import render_html
from reach.whatif.intents import Intent, load_intents
from tests.conftest import FIXTURES
from tests.report.conftest import HOSTILE, elements, hostile_snapshot

runner = CliRunner()
LAMBDA_NACL = str(FIXTURES / "lambda-rds-nacl/snapshot")
WEB_AFTER = str(FIXTURES / "web-http-revoked/snapshot")
SEED_003 = FIXTURES / "reconcile-web-http-revoked"
REVOKE = FIXTURES / "whatif-web-http-revoke"


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def hops_drawn(html: str) -> list[dict[str, str | None]]:
    return [attrs for _, attrs in elements(html) if "data-kind" in attrs]


def explain_page(*args: str) -> str:
    return invoke("explain", *args, "--format", "html")


def reconcile_page() -> str:
    return invoke("reconcile", str(SEED_003 / "flowlogs"), "--snapshot", WEB_AFTER,
                  "--cloudtrail", str(SEED_003 / "cloudtrail"), "--format", "html")


def whatif_page() -> str:
    return invoke("whatif", str(REVOKE / "change.json"), "--snapshot", str(REVOKE / "snapshot"),
                  "--flow-logs", str(REVOKE / "flow-logs"), "--intents", str(REVOKE / "intents.yaml"),
                  "--format", "html")


# ----- explain --------------------------------------------------------------------------------------


def test_the_lambda_to_rds_page_draws_every_hop_and_marks_the_db_subnets_nacl_as_the_blocker() -> None:
    explanation = Snapshot.load(LAMBDA_NACL).explain("10.0.1.100", "10.0.2.50", 3306)
    html = explain_page("10.0.1.100", "10.0.2.50", "3306", "--snapshot", LAMBDA_NACL)

    drawn = hops_drawn(html)
    assert [(h["data-kind"], h["data-id"]) for h in drawn] == [(h.kind, h.id) for h in explanation.hops]
    assert [h["data-lane"] for h in drawn] == ["forward"] * 7 + ["return"] * 7
    blocked = [h for h in drawn if h.get("data-blocked") == "true"]
    assert [(h["data-kind"], h["data-id"], h["data-direction"]) for h in blocked] == [
        ("network-acl", "acl-0a888ff01d6002462", "ingress")]


def test_the_explain_page_says_the_verdict_the_blocker_by_name_the_fix_and_the_flow_log_records() -> None:
    html = explain_page("10.0.1.100", "10.0.2.50", "3306", "--snapshot", LAMBDA_NACL)

    assert 'data-verdict="REJECT"' in html and "SUBNET_ACL_RESTRICTION" in html
    assert "network ACL acl-0a888ff01d6002462 inbound rule #100 denies tcp 3306 from 10.0.0.0/16" in html
    assert "orders-db-acl" in html and "rds-sg" in html  # the snapshot's Name tags, beside the ids
    fix = re.search(r'<pre class="fix"><code>(.*?)</code></pre>', html, re.S)
    assert fix is not None and "\n" not in fix.group(1)  # one line, to be copied
    assert fix.group(1).startswith("allow ports 3306 before rule 100: aws ec2 create-network-acl-entry")
    assert "eni-07079bc4987533224" in html and "eni-06eda9f3bd974dd1b" in html
    assert html.count('<span class="pill reject">REJECT</span>') == 1  # the RDS side's ingress record


def test_an_accepted_flow_has_no_blocked_hop_and_no_cut_link() -> None:
    html = explain_page("10.0.1.100", "10.0.3.60", "5432", "--snapshot", LAMBDA_NACL)

    assert 'data-verdict="ACCEPT"' in html
    assert hops_drawn(html) and all("data-blocked" not in h for h in hops_drawn(html))
    assert 'class="link cut"' not in html


def test_a_load_balancer_path_gets_a_lane_per_leg_request_lanes_down_response_lanes_up() -> None:
    snapshot = str(FIXTURES / "topology-alb-target-nacl/snapshot")
    explanation = Snapshot.load(snapshot).explain("198.51.100.7", "3.92.40.77", 443)
    html = explain_page("198.51.100.7", "3.92.40.77", "443", "--snapshot", snapshot)

    assert len(hops_drawn(html)) == len(explanation.hops)
    titles = re.findall(r'<text class="lane-title" [^>]*>([^<]*)</text>', html)
    assert titles == ["request ↓", "↑ response", "request ↓ (2)", "↑ response (2)"]
    assert [h["data-id"] for h in hops_drawn(html) if h.get("data-blocked")] == ["acl-07526e1db6e53da44"] * 2


def test_the_page_asks_for_nothing_from_any_address() -> None:
    html = explain_page("10.0.1.100", "10.0.2.50", "3306", "--snapshot", LAMBDA_NACL)

    assert "default-src 'none'" in html  # and the browser enforces it
    for tag, attrs in elements(html):
        for name in ("src", "href", "action", "srcset"):
            value = attrs.get(name)
            assert value is None or value.startswith(("data:", "#")), (tag, name, value)
    assert not re.search(r"url\((?!#)", html)  # CSS and SVG only point inside the page
    assert "@import" not in html


def test_names_from_the_snapshot_are_text_on_the_page_never_markup(tmp_path: Path) -> None:
    snapshot = str(hostile_snapshot("lambda-rds-nacl", tmp_path))
    snap = Snapshot.load(snapshot)
    html = render_html(snap.explain("10.0.1.100", "10.0.2.50", 3306), snap.network)

    assert html.count("<script") == 1  # the page's own script, nothing a Name tag smuggled in
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert str(escape(HOSTILE + "orders-db-acl")) in html  # the whole name, as text
    assert [tag for tag, _ in elements(html)].count("script") == 1


def test_explain_with_flow_logs_puts_what_the_logs_recorded_on_the_page() -> None:
    html = explain_page("198.51.100.23", "web-server-01", "80", "--snapshot", WEB_AFTER,
                        "--flow-logs", str(SEED_003 / "flowlogs"))

    assert "What the flow logs recorded (215 records read)" in html
    assert "17 ACCEPT" in html and "13 REJECT" in html


@pytest.mark.parametrize("command", [
    ["explain", "10.0.1.100", "10.0.2.50", "3306", "--snapshot", LAMBDA_NACL],
    ["reconcile", str(SEED_003 / "flowlogs"), "--snapshot", WEB_AFTER],
])
def test_an_unknown_format_is_a_usage_error_naming_the_choices(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--format", "svg"])

    assert result.exit_code == 2
    error = " ".join(result.stderr.split())  # the usage box may wrap
    assert "'svg'" in error and "'html'" in error


# ----- reconcile: seed 003 as a picture ---------------------------------------------------------------


def bars(html: str, action: str, section: str) -> list[int]:
    """Start times of the bars of one action inside the first <section> of that class."""
    start = html.index(f'<section class="story {section}"')
    part = html[start:html.index("</section>", start)]
    return [int(t) for t in re.findall(rf'data-action="{action}" data-start="(\d+)"', part)]


def test_the_reconcile_page_draws_http_turning_from_accept_to_reject_at_the_revoke() -> None:
    html = reconcile_page()
    flip, revoke = 1710252425, 1710252410  # 2024-03-12 14:07:05 and 14:06:50 UTC

    accepted, rejected = bars(html, "ACCEPT", "disagreement"), bars(html, "REJECT", "disagreement")
    assert accepted and rejected and max(accepted) < flip <= min(rejected) + 60
    assert f'<g class="marker change-point" data-at="{flip}">' in html
    assert f'<g class="marker cloudtrail-event" data-at="{revoke}">' in html
    assert "RevokeSecurityGroupIngress by alice 14:06:50" in html
    assert "ACCEPT → REJECT 14:07:05" in html


def test_the_reconcile_page_draws_the_blocking_rule_over_time_with_the_telnet_scans_before_the_change() -> None:
    html = reconcile_page()

    assert "no inbound rule of sg-04915b9bbbde6f140 (web-sg) matches (implicit deny)" in html
    rejected = bars(html, "REJECT", "blocking")
    assert min(rejected) < 1710252425  # the telnet scanner, rejected all along
    assert 'class="marker change-point"' in html[html.index('<section class="story blocking"'):]


def test_the_reconcile_page_counts_what_it_could_not_evaluate() -> None:
    html = reconcile_page()

    assert "6 records skipped: 1 NODATA, 1 SKIPDATA, 4 on interfaces not in the snapshot." in " ".join(html.split())
    assert "2 unparsable lines" in html and "_20240312T1400Z_5e6f7a8b.log:9</code>" in html


# ----- whatif: before and after -----------------------------------------------------------------------


def test_the_whatif_page_shows_each_flow_that_flips_before_and_after_with_web_sg_responsible() -> None:
    html = whatif_page()

    flips = [attrs for tag, attrs in elements(html) if attrs.get("class") == "flip"]
    assert [(f["data-before"], f["data-after"], f["data-source"]) for f in flips] == [
        ("ACCEPT", "REJECT", "observed")] * 4 + [("ACCEPT", "REJECT", "intent")]
    assert "security group web-sg inbound, no rule matches · 40 records" in html
    assert "4 live connection(s) (140 records) would break" in html
    assert "sgr-07ed9a40471de341d" in html  # the rule change itself


def test_diff_draws_the_same_page_from_two_snapshots() -> None:
    html = invoke("diff", str(FIXTURES / "web-http-revoked/snapshot-before"), WEB_AFTER, "--format", "html")

    assert '<body data-page="whatif">' in html and "sgr-07ed9a40471de341d" in html


# ----- every story the fixtures tell ------------------------------------------------------------------


def fixture_intents() -> list[tuple[str, Intent]]:
    found = []
    for file in sorted(FIXTURES.glob("*/intents*.yaml")):
        snapshot = file.parent / "snapshot"
        if snapshot.is_dir():
            found += [(str(snapshot), intent) for intent in load_intents(file)]
    return found


@pytest.mark.parametrize(("snapshot", "intent"), fixture_intents(),
                         ids=lambda x: x.name if isinstance(x, Intent) else Path(x).parent.name)
def test_every_fixture_intent_draws_one_element_per_hop_and_marks_each_denying_one(snapshot: str,
                                                                                   intent: Intent) -> None:
    snap = Snapshot.load(snapshot)
    explanation = snap.explain(intent.src, intent.dst, intent.port, intent.protocol, intent.src_port)

    html = render_html(explanation, snap.network)
    drawn = hops_drawn(html)
    assert [(h["data-kind"], h["data-id"] or None) for h in drawn] == [(h.kind, h.id) for h in explanation.hops]
    assert [h.get("data-blocked") == "true" for h in drawn] == [h.decision == "deny" for h in explanation.hops]
    assert len([h for h in explanation.hops if h.decision == "deny"]) == len(explanation.blockers)
    assert f'data-verdict="{explanation.verdict}"' in html
    hops = explanation.hops
    lanes = 1 + sum(a.return_path != b.return_path for a, b in zip(hops, hops[1:], strict=False))
    assert explanation_mermaid(explanation, snap.network).count("subgraph ") == lanes
