"""What the set answers' renderers share: ports and sources said briefly, and the HTML page shell.

The page is a Jinja2 template (`templates/`, autoescaped) whose Content-Security-Policy refuses every
address: styles inline, nothing fetched, so it opens the same offline.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from netaddr import IPSet

from reach.report.safe import page_text


def ports_text(spans: Sequence[Sequence[int]]) -> str:
    """'22, 80, 8000-8100'; every port as 'all'."""
    if [list(s) for s in spans] == [[0, 65535]]:
        return "all"
    return ", ".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in spans)


def sources_text(sources: Sequence[str], internet: IPSet) -> str:
    """'anyone' where the sources are the whole internet (of a family), else the CIDRs, briefly."""
    found = IPSet(sources)
    parts = []
    for version, name in ((4, "IPv4"), (6, "IPv6")):
        mine = IPSet(c for c in found.iter_cidrs() if c.version == version)
        whole = IPSet(c for c in internet.iter_cidrs() if c.version == version)
        if mine and mine == whole:
            parts.append(f"anyone ({name})")
        elif mine:
            cidrs = [str(c) for c in mine.iter_cidrs()]
            parts.append(", ".join(cidrs) if len(cidrs) <= 2 else f"{cidrs[0]} +{len(cidrs) - 1} more")
    return "; ".join(parts) or "nobody"


@functools.cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("reach.report", "templates"),
        autoescape=True,  # names and details come from the snapshot: escape them all
        finalize=page_text,  # and show their control characters escaped
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def page(template: str, **context: Any) -> str:
    return _environment().get_template(template).render(**context)
