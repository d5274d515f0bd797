"""Cyclic garbage collection paused while a snapshot is read, compiled, stored or built from the cache.

Each of these makes hundreds of thousands of objects (describe-* models, rule lines, interfaces) that hold
no reference cycles, and the collector, which runs every few hundred allocations, would walk them all again
and again: on the 10,000-interface benchmark that was more than half of a cold load. Reference counting
still frees whatever is dropped; the collector resumes when the outermost pause ends.

What the pause made is then moved to the oldest generation (`gc.freeze` and `gc.unfreeze`), as long-lived
objects end up anyway: left young, the first collection after the pause would walk every one of them once
more (0.2 s on that benchmark). A cycle among them is still collected, by the next full collection.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collection_paused() -> Iterator[None]:
    """Also a decorator: `@collection_paused()`."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.freeze()
            gc.unfreeze()
            gc.enable()
