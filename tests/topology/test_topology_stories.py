"""The four topology stories: every intent of each `intents.yaml` holds, and each story's point is made."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from reach.api import Snapshot
from tests.conftest import FIXTURES
from tests.topology.conftest import STORIES, story

_LOADED: dict[str, Snapshot] = {}


def _snapshot(name: str) -> Snapshot:
    if name not in _LOADED:
        _LOADED[name] = Snapshot.load(story(name), cache=False)
    return _LOADED[name]


def _intents() -> list[Any]:
    cases = []
    for name in STORIES:
        for intent in yaml.safe_load((FIXTURES / name / "intents.yaml").read_text()):
            cases.append(pytest.param(name, intent, id=f"{name}:{intent['name']}"))
    return cases


@pytest.mark.parametrize(("name", "intent"), _intents())
def test_intent_holds(name: str, intent: dict[str, Any]) -> None:
    result = _snapshot(name).explain(intent["src"], intent["dst"], intent["port"], intent.get("protocol", "tcp"),
                                     intent.get("src_port"))
    trace = [h.detail for h in result.hops]
    assert result.verdict == intent["expect"], trace
    if intent["expect"] == "ACCEPT":
        assert result.blocked_by is None and result.blockers == []
        return
    assert result.reason == intent["reason"], trace
    blocked = result.blocked_by
    assert blocked is not None
    for field, value in intent["blocked_by"].items():
        assert getattr(blocked, field) == value, (field, blocked)


def test_tgw_story_names_the_missing_propagation_and_the_path() -> None:
    result = _snapshot("topology-tgw-missing-propagation").explain("orders-api", "artifacts", 443)
    assert result.blocked_by is not None
    detail = result.blocked_by.detail
    assert "tgw-attach-078e02dc139140aab" in detail and "propagate" in detail
    kinds = [h.kind for h in result.hops]
    assert kinds.index("transit-gateway") < kinds.index("transit-gateway-route-table")
    # the webhook's request crosses the gateway; only its response is stopped
    webhook = _snapshot("topology-tgw-missing-propagation").explain("artifacts", "orders-api", 8080)
    delivered = [h for h in webhook.hops if not h.return_path and h.kind == "network-interface"]
    assert delivered[-1].detail.startswith("delivered to eni-")
    assert [b.return_path for b in webhook.blockers] == [True]


def test_s3_story_points_at_the_endpoint_association() -> None:
    snapshot = _snapshot("topology-s3-gateway-endpoint")
    failing = snapshot.explain("etl-worker-b", "52.216.164.61", 443)
    assert failing.blocked_by is not None
    assert "rtb-0dd52d1ba697d8a52 is not associated with that endpoint" in failing.blocked_by.detail
    working = snapshot.explain("etl-worker-a", "52.216.164.61", 443)
    assert any(h.kind == "vpc-endpoint" and "endpoint policies are not evaluated" in h.detail for h in working.hops)
    assert any("endpoint policy" in note for note in working.notes)
    # an address outside the S3 prefix list does not use the endpoint
    assert snapshot.explain("etl-worker-a", "52.94.0.10", 443).reason == "ENI_SG_RULES_MISMATCH"


def test_alb_story_walks_every_target_from_the_node_reached() -> None:
    snapshot = _snapshot("topology-alb-target-nacl")
    failing = snapshot.explain("198.51.100.7", "3.92.40.77", 443)
    assert [b.kind for b in failing.blockers] == ["network-acl", "network-acl"]  # one per target
    legs = [h.detail for h in failing.hops if h.kind == "load-balancer" and "sends it to target" in h.detail]
    assert len(legs) == 2 and all("from 10.30.1.41" in leg for leg in legs)
    assert any("no target is reachable" in note for note in failing.notes)
    wrong_port = snapshot.explain("198.51.100.7", "shop-web", 8080)
    assert [b.reason for b in wrong_port.blockers] == ["ENI_SG_RULES_MISMATCH", "ELBV2_LISTENERS_MISMATCH"]
    assert "8080 is the targets' port" in wrong_port.blockers[1].detail


def test_story_fixes_turn_the_verdict() -> None:
    for name, src, dst in (
        ("topology-alb-target-nacl", "198.51.100.7", "3.92.40.77"),
        ("topology-nat-instance-source-dest-check", "billing-worker", "93.184.216.34"),
    ):
        fixed = _snapshot(name).apply(FIXTURES / name / "fix.json")
        assert fixed.explain(src, dst, 443).verdict == "ACCEPT", name


def test_nat_instance_translates_and_says_it_assumed_so() -> None:
    snapshot = _snapshot("topology-nat-instance-source-dest-check")
    result = snapshot.explain("billing-worker", "93.184.216.34", 443)
    assert [(b.direction, b.return_path) for b in result.blockers] == [("ingress", False), ("egress", True)]
    assert any("as a NAT instance does" in note for note in result.notes)
    fixed = snapshot.apply(FIXTURES / "topology-nat-instance-source-dest-check" / "fix.json")
    accepted = fixed.explain("billing-worker", "93.184.216.34", 443)
    assert any("translates 10.40.1.20 to its own address 10.40.0.10" in h.detail for h in accepted.hops)
    assert accepted.hops[-1].detail.startswith("delivered to eni-0327f35289725ae71")
