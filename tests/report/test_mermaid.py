"""`reach explain --format mermaid`: the path as a flowchart for pull requests and tickets, checked as text here
and rendered by mermaid.js itself in Chromium."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from typer.testing import CliRunner

from reach.api import Snapshot
from reach.cli import app
from reach.report.mermaid import explanation_mermaid, label
from tests.conftest import FIXTURES, ROOT
from tests.report.conftest import HOSTILE, Browser, hostile_snapshot

runner = CliRunner()
LAMBDA_NACL = str(FIXTURES / "lambda-rds-nacl/snapshot")
NODE = re.compile(r"^\s+(\w+)(\[|\(\[)(\".*\")(\]|\]\))$")


def mermaid(*args: str) -> str:
    result = runner.invoke(app, ["explain", *args, "--format", "mermaid"])
    assert result.exit_code == 0, result.output
    return result.stdout


def nodes(text: str) -> dict[str, str]:
    return {m.group(1): m.group(3) for line in text.splitlines() if (m := NODE.match(line))}


def test_the_lambda_to_rds_flowchart_has_both_lanes_with_the_nacl_denying_in_red() -> None:
    text = mermaid("10.0.1.100", "10.0.2.50", "3306", "--snapshot", LAMBDA_NACL)

    assert "\nflowchart LR\n" in text
    assert 'subgraph l0["request"]' in text and 'subgraph l1["response"]' in text
    found = nodes(text)
    assert len([n for n in found if n.startswith("h")]) == 14
    assert found["h4"] == '"#10007; network ACL inbound<br/>acl-0a888ff01d6002462 (orders-db-acl)<br/>rule #35;100"'
    assert "    class h4 deny" in text
    # past the denying NACL the request's links are dotted; the response's are not
    assert "    h3 --> h4\n    h4 -.-> h5\n" in text and "    h6 -.-> l0b\n" in text
    assert "    h12 --> h13\n    h13 --> l1b\n" in text


def test_node_ids_are_reachs_own_and_labels_carry_no_character_mermaid_could_read_as_syntax(tmp_path: Path) -> None:
    snap = Snapshot.load(hostile_snapshot("lambda-rds-nacl", tmp_path))
    text = explanation_mermaid(snap.explain("10.0.1.100", "10.0.2.50", 3306), snap.network)

    found = nodes(text)
    assert found and all(re.fullmatch(r"(h\d+|l\d+[ab])", node) for node in found)
    for quoted in found.values():
        inner = quoted[1:-1].replace("<br/>", "\n")
        assert re.fullmatch(r"[A-Za-z0-9 .,:/_+=@()\n#;-]*", inner), inner
        assert not re.search(r"#(?!\d+;)", inner)  # every '#' starts an entity code
    assert "alert" in text and "<script>" not in text and '"]; h0 --> evil' not in text


def test_label_writes_every_unsafe_character_as_an_entity_code() -> None:
    assert label('a"b', "<x>#") == '"a#34;b<br/>#60;x#62;#35;"'
    assert label("é ✓") == '"#233; #10003;"'


def test_an_accepted_flow_has_no_deny_class() -> None:
    text = mermaid("10.0.1.100", "10.0.3.60", "5432", "--snapshot", LAMBDA_NACL)

    assert "classDef deny" not in text and "-.->" not in text


# ----- rendered by mermaid.js ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Drawn:
    nodes: int  # nodes mermaid.js drew
    denied: list[str]  # ids of the nodes styled `deny`
    text: str  # the diagram's text as a reader sees it
    scripts: int  # script elements inside the diagram
    foreign_requests: list[str]


def render(chromium: Browser, mermaid_js: Path, text: str, screenshot: Path | None = None) -> Drawn:
    opened = chromium.open('<!doctype html><html><body><div id="out"></div></body></html>', "mermaid.html")
    opened.page.add_script_tag(path=str(mermaid_js))  # inlined: the page still asks for nothing
    opened.page.evaluate("""async (text) => {
        mermaid.initialize({startOnLoad: false, securityLevel: "strict"});
        const {svg} = await mermaid.render("diagram", text);
        document.getElementById("out").innerHTML = svg;
    }""", text)
    page = opened.page
    assert opened.console_errors == []
    if screenshot is not None:
        page.locator("#out svg").screenshot(path=str(screenshot))
        assert screenshot.stat().st_size > 10_000
    return Drawn(nodes=page.locator("#out g.node").count(),
                 denied=page.eval_on_selector_all("#out g.node.deny", "nodes => nodes.map(n => n.id)"),
                 text=page.locator("#out").inner_text(), scripts=page.locator("#out script").count(),
                 foreign_requests=opened.foreign_requests)


def test_mermaid_js_draws_every_hop_and_both_ends_of_each_lane(chromium: Browser, mermaid_js: Path,
                                                               tmp_path: Path) -> None:
    explanation = Snapshot.load(LAMBDA_NACL).explain("10.0.1.100", "10.0.2.50", 3306)
    text = mermaid("10.0.1.100", "10.0.2.50", "3306", "--snapshot", LAMBDA_NACL)
    folder = ROOT / "docs" if os.environ.get("REACH_UPDATE_SCREENSHOTS") else tmp_path

    drawn = render(chromium, mermaid_js, text, screenshot=folder / "explain-mermaid.png")

    assert drawn.nodes == len(explanation.hops) + 4
    assert len(drawn.denied) == 1 and "h4" in drawn.denied[0]
    assert "acl-0a888ff01d6002462 (orders-db-acl)" in drawn.text
    assert drawn.foreign_requests == []


def test_mermaid_js_draws_the_hostile_names_as_text(chromium: Browser, mermaid_js: Path, tmp_path: Path) -> None:
    snap = Snapshot.load(hostile_snapshot("lambda-rds-nacl", tmp_path))
    text = explanation_mermaid(snap.explain("10.0.1.100", "10.0.2.50", 3306), snap.network)

    drawn = render(chromium, mermaid_js, text)

    assert drawn.nodes == 14 + 4 and len(drawn.denied) == 1 and drawn.foreign_requests == []
    assert f"({HOSTILE}orders-db-acl)" in drawn.text and drawn.scripts == 0


def test_mermaid_js_draws_a_load_balancers_four_lanes(chromium: Browser, mermaid_js: Path) -> None:
    snapshot = str(FIXTURES / "topology-alb-target-nacl/snapshot")
    explanation = Snapshot.load(snapshot).explain("198.51.100.7", "3.92.40.77", 443)
    text = mermaid("198.51.100.7", "3.92.40.77", "443", "--snapshot", snapshot)

    drawn = render(chromium, mermaid_js, text)

    assert drawn.nodes == len(explanation.hops) + 2 * 4 and len(drawn.denied) == 2
