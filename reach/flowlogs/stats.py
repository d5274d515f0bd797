"""What a read saw: counts, and the first bad lines with where they came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

MAX_BAD_LINES = 10


class BadLine(NamedTuple):
    source: str  # a path, s3://bucket/key or cloudwatch://group
    line: int  # 1-based line number (row number in Parquet, event number in CloudWatch)
    text: str
    reason: str


@dataclass
class FlowLogStats:
    """Counts of one read. Nothing is dropped without being counted here.

    records     every record read and kept (NODATA and SKIPDATA included)
    filtered    records read but left out by the account/region/interface/time filters
    unparsable  non-blank lines that are neither records nor headers, and records with the wrong field count,
                a bad address, an impossible time or a non-integer where an integer belongs
    headers     header lines (they set the format of the lines after them)
    """

    records: int = 0
    filtered: int = 0
    unparsable: int = 0
    nodata: int = 0
    skipdata: int = 0
    headers: int = 0
    bytes_read: int = 0
    files: int = 0
    bad_lines: list[BadLine] = field(default_factory=list)
    dropped_columns: list[str] = field(default_factory=list)

    def reject(self, source: str, line: int, text: str, reason: str) -> None:
        self.unparsable += 1
        if len(self.bad_lines) < MAX_BAD_LINES:
            self.bad_lines.append(BadLine(source, line, text, reason))

    @property
    def wants_samples(self) -> bool:
        return len(self.bad_lines) < MAX_BAD_LINES
