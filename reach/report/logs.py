"""`reach logs summary --format json`: the reader's summary as an output model (CONTRACT §5)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from reach.report.outputs import Versioned, dumps


class BadLineOutput(BaseModel):
    source: str
    line: int
    text: str
    reason: str


class LogsSummaryOutput(Versioned):
    """CONTRACT §5's keys, then the extras (and any the reader adds)."""

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


def logs_summary_json(summary: dict[str, Any]) -> str:
    return dumps(LogsSummaryOutput.model_validate(summary))
