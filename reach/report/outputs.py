"""Every command's `--format json` output is a model: the JSON is the model's dump and `reach schema COMMAND`
is the model's JSON Schema, so the two cannot disagree (CONTRACT §7).

Each output carries `schema_version` at its top level; a change that breaks a field bumps it. The models
live beside their renderers (`reach.report.whatif.WhatIfOutput`, …) and are looked up here by name, so that
printing one command's output imports nothing of the others'.
"""

from __future__ import annotations

import json
from importlib import import_module
from typing import Any, Literal

from pydantic import BaseModel

from reach.engine.explanation import Explanation

SCHEMA_VERSION: Literal[1] = 1


class Versioned(BaseModel):
    schema_version: Literal[1] = SCHEMA_VERSION


# Each output lists `Versioned` last among its bases, so `schema_version` comes first in the JSON.
class ExplainOutput(Explanation, Versioned):
    """`reach explain`: CONTRACT §2's object."""


# command -> "module:model" of its output
SCHEMAS = {
    "explain": "reach.report.reconcile:ExplainObservedOutput",  # with --flow-logs, `observed` too
    "reconcile": "reach.report.reconcile:ReconcileOutput",
    "whatif": "reach.report.whatif:WhatIfOutput",
    "diff": "reach.report.whatif:WhatIfOutput",
    "check": "reach.report.check:CheckOutput",
    "doctor": "reach.report.doctor:DoctorOutput",
    "logs summary": "reach.report.logs:LogsSummaryOutput",
    "exposure": "reach.sets.results:ExposureResult",
    "reachable": "reach.sets.results:ReachableResult",
}


def dumps(output: BaseModel, *, exclude: set[str] | None = None) -> str:
    """The JSON text of an output model, as every command prints it."""
    return json.dumps(output.model_dump(mode="json", exclude=exclude), indent=2)


def schema(command: str) -> dict[str, Any]:
    """The JSON Schema of `command`'s `--format json` output."""
    module, name = SCHEMAS[command].split(":")
    model: type[BaseModel] = getattr(import_module(module), name)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **model.model_json_schema(mode="serialization")}


def explain_json(explanation: Explanation) -> str:
    return dumps(ExplainOutput.model_validate(dict(explanation)))
