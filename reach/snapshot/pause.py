"""Cyclic garbage collection paused while a snapshot is read, compiled, stored or built from the cache.

Each of these makes hundreds of thousands of objects (describe-* models, rule lines, interfaces) that hold
no reference cycles, and the collector, which runs every few hundred allocations, would walk them all again
and again: on the 10,000-interface benchmark that was more than half of a cold load. Reference counting
still frees whatever is dropped; the collector resumes when the outermost pause ends.

What a load made lives as long as the snapshot is used. Left young, the next collections would walk every
object of it again, once per generation it climbs; `long_lived()` moves it at once to the oldest generation
(`gc.freeze`, then `gc.unfreeze`), where only a full collection looks. A process that reads its snapshot,
answers and exits (the command line) goes further with `freeze_snapshots()`: what a load made stays frozen,
out of every collection's sight, for the rest of the process (on the benchmark, 0.5-1 s of a cold `reach
explain`). Frozen objects are still freed by reference counting; only a cycle among them would outlive its use.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

_frozen_for_good = False


def freeze_snapshots() -> None:
    """From now on, keep what a load makes out of the collector's sight for good: for a process that reads
    its snapshot, answers and exits. Everything alive at the end of each load is frozen with it."""
    global _frozen_for_good
    _frozen_for_good = True


@contextmanager
def collection_paused() -> Iterator[None]:
    """No cyclic collection until the outermost pause ends. Also a decorator: `@collection_paused()`."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextmanager
def long_lived() -> Iterator[None]:
    """A pause whose objects stay: moved to the oldest generation, or frozen (`freeze_snapshots`), when the
    outermost pause ends. Also a decorator: `@long_lived()`."""
    outermost = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if outermost:
            gc.freeze()
            if not _frozen_for_good:
                gc.unfreeze()
            gc.enable()
