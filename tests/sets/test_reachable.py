"""`reach reachable`: who can open a connection to an interface, and what it can open, as exact ports
with the path that carries each; every answer held to the walker."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from reach.api import Snapshot, reachable
from reach.cli import app
from tests.conftest import FIXTURES
from tests.sets.test_exposure import _blocked_outside_target_legs

OK = FIXTURES / "lambda-rds-ok" / "snapshot"
NACL = FIXTURES / "lambda-rds-nacl" / "snapshot"
ALB = FIXTURES / "topology-alb-target-nacl" / "snapshot"
TGW = FIXTURES / "topology-tgw-missing-propagation" / "snapshot"


def test_who_can_open_the_database_on_3306() -> None:
    result = reachable(Snapshot.load(OK, cache=False), to="10.0.2.50", port=3306)
    assert result.schema_version == 1 and result.query.direction == "to"
    assert [(a.kind, a.access[0].sources, a.access[0].ports) for a in result.answers] == [
        ("network-interface", ["10.0.1.100/32"], [[3306, 3306]])]
    assert result.answers[0].path[0] == "eni-07079bc4987533224" and result.answers[0].path[-1] == result.query.endpoint


def test_the_nacl_that_denies_3306_leaves_nobody() -> None:
    result = reachable(Snapshot.load(NACL, cache=False), to="10.0.2.50", port=3306)
    assert result.answers == [] and result.summary.candidates == 2


def test_what_the_lambda_can_open_with_every_port() -> None:
    result = reachable(Snapshot.load(OK, cache=False), from_="10.0.1.100")
    assert {(a.id, a.access[0].protocol, tuple(map(tuple, a.access[0].ports))) for a in result.answers} == {
        ("eni-06eda9f3bd974dd1b", "tcp", ((3306, 3306),)), ("eni-0f6ebb446a0d90200", "tcp", ((5432, 5432),))}


def test_a_load_balancer_target_is_opened_by_one_node_and_by_the_internet_through_the_listener() -> None:
    """The ALB node in us-east-1b (10.30.1.41) is not a source: the app subnets' ACL lets 8080 in only from
    10.30.0.0/24."""
    result = reachable(Snapshot.load(ALB, cache=False), to="web-1")
    kinds = {(a.kind, a.id) for a in result.answers}
    assert kinds == {("network-interface", "eni-0c26187fd754cd025"), ("internet", "app/shop-web/50dc6c495c0c9188")}
    internet = next(a for a in result.answers if a.kind == "internet")
    assert internet.access[0].ports == [[8080, 8080]] and internet.name == "HTTPS 443"


@pytest.mark.parametrize("folder", [OK, ALB, TGW, FIXTURES / "exposure-internet-edge" / "snapshot"],
                         ids=lambda f: f.parent.name)
def test_every_interface_answer_agrees_with_the_walker(folder) -> None:  # type: ignore[no-untyped-def]
    snap = Snapshot.load(folder, cache=False)
    checked = 0
    for endpoint in sorted(snap.network.interfaces)[:6]:
        for direction in ("to", "from"):
            kwargs = {"to": endpoint} if direction == "to" else {"from_": endpoint}
            result = reachable(snap, **kwargs)  # type: ignore[arg-type]
            for answer in result.answers:
                if answer.kind != "network-interface":
                    continue
                src, dst = (answer.id, endpoint) if direction == "to" else (endpoint, answer.id)
                for access in answer.access:
                    for lo, hi in access.ports:
                        for port in {lo, hi}:
                            client = access.client_ports[0][0] if access.client_ports else None
                            explained = snap.explain(src, dst, port, access.protocol, src_port=client)
                            # a load balancer node takes the connection whatever its targets do
                            assert _blocked_outside_target_legs(explained, None) == [], (src, dst, port)
                            checked += 1
    assert checked > 0


def test_cli_json_text_and_usage_errors() -> None:
    runner = CliRunner()
    out = runner.invoke(app, ["reachable", "--to", "10.0.2.50", "--port", "3306", "--snapshot", str(OK),
                              "--format", "json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["schema_version"] == 1
    text = runner.invoke(app, ["reachable", "--to", "10.0.2.50", "--port", "3306", "--snapshot", str(OK)])
    assert text.output.splitlines()[0].startswith("Reachable  1 source can open")
    both = runner.invoke(app, ["reachable", "--snapshot", str(OK)])
    assert both.exit_code == 2 and "--to" in both.output
    unknown = runner.invoke(app, ["reachable", "--to", "nope-host", "--snapshot", str(OK)])
    assert unknown.exit_code == 2 and "nope-host" in unknown.output
    page = runner.invoke(app, ["reachable", "--to", "10.0.2.50", "--snapshot", str(OK), "--format", "html"])
    assert page.exit_code == 0 and 'data-kind="network-interface"' in page.output
