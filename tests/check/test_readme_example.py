"""The pytest example of docs/README-whatif.md, as it is written there (paths from the fixtures folder)."""

from __future__ import annotations

import pytest

import reach
from tests.conftest import FIXTURES

SNAPSHOT = reach.Snapshot.load(FIXTURES / "lambda-rds-nacl" / "snapshot")


@pytest.mark.parametrize(
    "intent", reach.check(SNAPSHOT, FIXTURES / "lambda-rds-nacl" / "intents.yaml").results, ids=lambda r: r.name
)
def test_intent_holds(intent: reach.IntentResult) -> None:
    assert intent.passed, intent.problems


def test_the_fix_lets_the_lambda_reach_mysql() -> None:
    fixed = SNAPSHOT.apply(FIXTURES / "lambda-rds-nacl" / "fix.json")
    assert fixed.explain("10.0.1.100", "10.0.2.50", 3306).verdict == "ACCEPT"
