"""CloudTrail's EC2 changes in time order, to date when what the flow logs show flipped.

The change stage reads the files into typed EC2 calls (`reach.change.cloudtrail`); this keeps what drift
dating needs of each: when, by whom, which components it touched and what it did, in words.
"""

from __future__ import annotations

import bisect
import os
from collections.abc import Iterable, Sequence

from reach.change.cloudtrail import TrailCall, read_cloudtrail
from reach.reconcile.result import TrailEvent


def event_of(found: TrailCall) -> TrailEvent:
    return TrailEvent(
        event=found.call.action,
        time=found.time,
        principal=found.principal,
        source_ip=found.source_ip,
        components=found.call.components(),
        rules=list(found.rules),
        summary=found.summary,
        source=found.source,
    )


class CloudTrail:
    """EC2 change events in time order."""

    def __init__(
        self, events: Iterable[TrailEvent], records: int = 0, ignored_files: int = 0, unreadable: int = 0
    ) -> None:
        self.events = sorted(events, key=lambda e: e.time)
        self._times = [e.time for e in self.events]
        self.records = records
        self.ignored_files = ignored_files
        self.unreadable = unreadable  # successful changes whose request could not be read: not dated by

    @classmethod
    def load(cls, paths: Sequence[str | os.PathLike[str]]) -> CloudTrail:
        read = read_cloudtrail(paths)
        return cls([event_of(c) for c in read.calls], read.records, read.ignored_files, read.unreadable)

    def nearest_before(self, components: Iterable[str], at: int) -> TrailEvent | None:
        """The latest change at or before `at` that touched one of the components."""
        wanted = set(components)
        for i in range(bisect.bisect_right(self._times, at) - 1, -1, -1):
            if wanted.intersection(self.events[i].components):
                return self.events[i]
        return None

    def first_after(self, components: Iterable[str], at: int) -> TrailEvent | None:
        """The earliest change after `at` that touched one of the components."""
        wanted = set(components)
        for i in range(bisect.bisect_right(self._times, at), len(self.events)):
            if wanted.intersection(self.events[i].components):
                return self.events[i]
        return None
