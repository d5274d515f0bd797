"""Every command's `--format json` output as a model: the JSON is the model's dump and `reach schema COMMAND`
is the model's JSON Schema, so the two cannot disagree (CONTRACT §7).

Each output carries `schema_version` at its top level; a change that breaks a field bumps it.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from reach.doctor.report import DoctorReport
from reach.engine.explanation import Explanation
from reach.reconcile.result import Observed, ReconcileResult
from reach.whatif.results import ChangedFlow, IntentResult, RuleChange, WhatIfSummary

SCHEMA_VERSION: Literal[1] = 1


class _Versioned(BaseModel):
    schema_version: Literal[1] = SCHEMA_VERSION


# Each output lists `_Versioned` last, so `schema_version` comes first in the JSON.
class ExplainOutput(Explanation, _Versioned):
    """`reach explain`: CONTRACT §2's object; with `--flow-logs`, `observed` too."""

    observed: Observed | None = None


class ReconcileOutput(ReconcileResult, _Versioned):
    """`reach reconcile`: CONTRACT §3's object, §9's `rule_usage` where it is computed."""


class DoctorOutput(DoctorReport, _Versioned):
    """`reach doctor`."""


class WhatIfSummaryOutput(WhatIfSummary):
    changes: int | None = None  # whatif: the change set's actions (None for diff)
    change_format: str | None = None  # api | terraform
    unsupported: list[str] | None = None  # Terraform resources reach does not translate


class WhatIfOutput(_Versioned):
    """`reach whatif` and `reach diff`: CONTRACT §4's object."""

    changed: list[ChangedFlow]
    summary: WhatIfSummaryOutput
    rule_changes: list[RuleChange]
    notes: list[str] = []


class CheckSummary(BaseModel):
    intents: int
    passed: int
    failed: int


class CheckOutput(_Versioned):
    """`reach check`: one result per intent."""

    summary: CheckSummary
    results: list[IntentResult]


class BadLineOutput(BaseModel):
    source: str
    line: int
    text: str
    reason: str


class LogsSummaryOutput(_Versioned):
    """`reach logs summary`: CONTRACT §5's keys, then the extras (and any the reader adds)."""

    model_config = ConfigDict(extra="allow")

    records: int
    accept: int
    reject: int
    nodata: int
    skipdata: int
    unparsable: int
    interfaces: int
    start: int | None
    end: int | None
    time_span: int | None = None
    files: int = 0
    bytes_read: int = 0
    filtered: int = 0
    top_talkers: list[dict[str, Any]] = []
    top_rejected_ports: list[dict[str, Any]] = []
    bad_lines: list[BadLineOutput] = []


SCHEMAS: dict[str, type[BaseModel]] = {
    "explain": ExplainOutput,
    "reconcile": ReconcileOutput,
    "whatif": WhatIfOutput,
    "diff": WhatIfOutput,
    "check": CheckOutput,
    "doctor": DoctorOutput,
    "logs summary": LogsSummaryOutput,
}


def dumps(output: BaseModel, *, exclude: set[str] | None = None) -> str:
    """The JSON text of an output model, as every command prints it."""
    return json.dumps(output.model_dump(mode="json", exclude=exclude), indent=2)


def schema(command: str) -> dict[str, Any]:
    """The JSON Schema of `command`'s `--format json` output."""
    model = SCHEMAS[command]
    document = model.model_json_schema(mode="serialization")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **document}


def _explain(explanation: Explanation, observed: Observed | None = None) -> ExplainOutput:
    return ExplainOutput.model_validate({**dict(explanation), "observed": observed})


def explain_json(explanation: Explanation, observed: Observed | None = None) -> str:
    return dumps(_explain(explanation, observed), exclude=None if observed is not None else {"observed"})


def reconcile_json(result: ReconcileResult) -> str:
    return dumps(ReconcileOutput.model_validate(dict(result)))


def doctor_json(report: DoctorReport) -> str:
    return dumps(DoctorOutput.model_validate(dict(report)))
