"""What a read saw: counts, and the first bad lines with where they came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

MAX_BAD_LINES = 10
# The first bad lines of each source are kept too, to name them if the source turns out to hold no record.
SOURCE_BAD_LINES = 3
# A bad line is shown cut to this many characters (a line may be megabytes long), its reason to REASON_CHARS.
SAMPLE_CHARS = 200
REASON_CHARS = 200


def clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters; `…` marks the cut."""
    return text if len(text) <= limit else text[:limit] + "…"


# C0 controls, DEL and C1 controls -> their escaped spelling.
_CONTROLS = {c: f"\\x{c:02x}" for c in (*range(0x20), *range(0x7F, 0xA0))}


def printable(value: object) -> str:
    """A value as text that is safe to print to a terminal: control characters escaped (`\\x1b`)."""
    return str(value).translate(_CONTROLS)


class BadLine(NamedTuple):
    source: str  # a path, s3://bucket/key or cloudwatch://group
    line: int  # 1-based line number (row number in Parquet, event number in CloudWatch)
    text: str  # the line, cut to SAMPLE_CHARS characters
    reason: str


@dataclass
class FlowLogStats:
    """Counts of one read. Nothing is dropped without being counted here.

    records     every record read and kept (NODATA and SKIPDATA included)
    filtered    records read but left out by the account/region/interface/time filters
    unparsable  non-blank lines that are neither records nor headers: a wrong field count, a bad address, an
                impossible time, a value out of its documented range, text where an integer belongs, a line
                longer than the reader's limit, invalid UTF-8
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
    source_bad_lines: list[BadLine] = field(default_factory=list, repr=False, compare=False)

    def reject(self, source: str, line: int, text: str, reason: str) -> None:
        self.unparsable += 1
        if self.wants_samples:
            bad = BadLine(source, line, clip(text, SAMPLE_CHARS), clip(reason, REASON_CHARS))
            if len(self.bad_lines) < MAX_BAD_LINES:
                self.bad_lines.append(bad)
            if len(self.source_bad_lines) < SOURCE_BAD_LINES:
                self.source_bad_lines.append(bad)

    @property
    def wants_samples(self) -> bool:
        return len(self.bad_lines) < MAX_BAD_LINES or len(self.source_bad_lines) < SOURCE_BAD_LINES
