"""Intents: expected verdicts written as YAML, checked like tests.

- name: internet-to-web-http
  src: 198.51.100.23
  dst: web-server-01
  port: 80
  protocol: tcp
  expect: ACCEPT
  # optional: src_port, and for a REJECT the expected reason and blocked_by fields
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from reach.engine.explain import Analyzer
from reach.engine.explanation import Explanation
from reach.errors import ReachError, ResolveError
from reach.whatif.results import CheckResult, IntentResult


class Intent(BaseModel):
    """One expected verdict. Unknown keys are an error: a typo must not make an intent pass."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str | None = None
    src: str
    dst: str
    port: int | str
    protocol: str | int = "tcp"
    src_port: int | None = None
    expect: str
    reason: str | None = None
    blocked_by: dict[str, Any] | None = None

    @field_validator("expect")
    @classmethod
    def _verdict(cls, value: str) -> str:
        upper = value.strip().upper()
        if upper not in ("ACCEPT", "REJECT"):
            raise ValueError(f"expect must be ACCEPT or REJECT, not '{value}'")
        return upper

    @property
    def label(self) -> str:
        return self.name or f"{self.src} -> {self.dst}:{self.port}/{self.protocol}"

    def explain(self, analyzer: Analyzer) -> Explanation:
        return analyzer.explain(self.src, self.dst, self.port, self.protocol, self.src_port)


def parse_intents(data: Any, source: str = "intents") -> list[Intent]:
    """A YAML/JSON list of intents (or `{"intents": [...]}`) -> intents, each error naming item and field."""
    if isinstance(data, dict) and "intents" in data:
        data = data["intents"]
    if data is None:
        return []
    if not isinstance(data, list):
        raise ReachError(f"{source}: expected a list of intents (src, dst, port, protocol, expect)")
    intents = []
    for position, item in enumerate(data, start=1):
        if isinstance(item, Intent):
            intents.append(item)
            continue
        try:
            intents.append(Intent.model_validate(item))
        except ValidationError as exc:
            name = item.get("name") if isinstance(item, dict) else None
            where = f"intent #{position}" + (f" ({name})" if name else "")
            problems = "; ".join(_problem(e) for e in exc.errors()[:3])
            raise ReachError(f"{source}: {where}: {problems}") from None
    return intents


def _problem(error: Any) -> str:
    field = ".".join(str(p) for p in error["loc"]) or "intent"
    if error["type"] == "extra_forbidden":
        return f"unknown field '{field}' (known: {', '.join(Intent.model_fields)})"
    return f"field '{field}': {error['msg'].lower()}"


def load_intents(path: str | Path) -> list[Intent]:
    file = Path(path)
    try:
        data = yaml.safe_load(file.read_text())
    except OSError as exc:
        raise ReachError(f"intents file {file} cannot be read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise ReachError(f"intents file {file} is not valid YAML: {exc}") from None
    return parse_intents(data, str(file))


def check_intents(analyzer: Analyzer, intents: Sequence[Intent], source: str = "intents") -> CheckResult:
    return CheckResult(source=source, results=[check_intent(analyzer, intent) for intent in intents])


def check_intent(analyzer: Analyzer, intent: Intent) -> IntentResult:
    try:
        explanation = intent.explain(analyzer)
    except ResolveError as exc:
        return IntentResult(
            name=intent.label,
            flow=None,
            expect=intent.expect,
            verdict=None,
            reason=None,
            blocked_by=None,
            passed=False,
            problems=[str(exc)],
        )
    problems = mismatches(intent, explanation)
    return IntentResult(
        name=intent.label,
        flow=explanation.flow,
        expect=intent.expect,
        verdict=explanation.verdict,
        reason=explanation.reason,
        blocked_by=explanation.blocked_by,
        passed=not problems,
        problems=problems,
    )


def mismatches(intent: Intent, explanation: Explanation) -> list[str]:
    """What differs from the intent: the verdict, then (if the intent names them) the reason and each
    `blocked_by` field."""
    problems = []
    if explanation.verdict != intent.expect:
        problems.append(f"expected {intent.expect}, got {explanation.verdict} ({explanation.reason})")
        return problems
    if intent.reason is not None and intent.reason != explanation.reason:
        problems.append(f"expected reason {intent.reason}, got {explanation.reason}")
    if intent.blocked_by:
        actual = explanation.blocked_by.model_dump() if explanation.blocked_by else None
        if actual is None:
            problems.append("expected a blocked_by, got none")
        else:
            for key, wanted in intent.blocked_by.items():
                if key not in actual:
                    problems.append(f"blocked_by has no field '{key}'")
                elif not _same(actual[key], wanted):
                    problems.append(f"expected blocked_by.{key} {wanted!r}, got {actual[key]!r}")
    return problems


def _same(actual: Any, wanted: Any) -> bool:
    if actual == wanted:
        return True
    if isinstance(actual, list) and isinstance(wanted, list):
        return sorted(map(str, actual)) == sorted(map(str, wanted))
    return actual is not None and wanted is not None and str(actual) == str(wanted)
