"""Which records a read keeps: by account, region, interface and time window.

Files and S3 keys are pruned first by what their layout says (`layout.py`); records are then filtered on their
own fields. A record whose format lacks the field (no `region` in the default format, say) is kept: its file
already passed the layout check, and nothing else can tell.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from reach.flowlogs.layout import KeyInfo, may_overlap, parse_key


@dataclass(frozen=True)
class Filters:
    """Keep records of these accounts, regions and interfaces (None: all) that overlap [start, end].

    `start` and `end` are epoch seconds; a record overlaps when its `end` >= start and its `start` <= end.
    """

    accounts: frozenset[str] | None = None
    regions: frozenset[str] | None = None
    interfaces: frozenset[str] | None = None
    start: int | None = None
    end: int | None = None

    @classmethod
    def of(
        cls,
        *,
        accounts: Iterable[str] | None = None,
        regions: Iterable[str] | None = None,
        interfaces: Iterable[str] | None = None,
        start: int | None = None,
        end: int | None = None,
    ) -> Filters:
        def norm(values: Iterable[str] | None) -> frozenset[str] | None:
            return frozenset(values) if values else None

        return cls(norm(accounts), norm(regions), norm(interfaces), start, end)

    @property
    def active(self) -> bool:
        return any(v is not None for v in (self.accounts, self.regions, self.interfaces, self.start, self.end))

    def wants_key(self, key: str) -> bool:
        """Whether a file or S3 key may hold wanted records, judging by its layout alone."""
        info: KeyInfo = parse_key(key)
        if self.accounts is not None and info.account is not None and info.account not in self.accounts:
            return False
        if self.regions is not None and info.region is not None and info.region not in self.regions:
            return False
        return may_overlap(info, self.start, self.end)

    def mask(self, batch: pa.RecordBatch) -> pa.Array | None:
        """Rows of a conformed batch to keep, or None to keep them all."""
        if not self.active:
            return None
        masks = []
        for column, wanted in (
            ("account_id", self.accounts),
            ("region", self.regions),
            ("interface_id", self.interfaces),
        ):
            if wanted is not None:
                col = batch.column(column)
                values = pa.array(sorted(wanted), pa.string())
                masks.append(pc.or_(pc.is_null(col), pc.fill_null(pc.is_in(col, value_set=values), False)))
        if self.start is not None:
            masks.append(pc.fill_null(pc.greater_equal(batch.column("end"), self.start), True))
        if self.end is not None:
            masks.append(pc.fill_null(pc.less_equal(batch.column("start"), self.end), True))
        keep = masks[0]
        for m in masks[1:]:
            keep = pc.and_(keep, m)
        return keep
