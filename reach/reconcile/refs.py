"""Rule ids that mean the same in every process.

The interface decision numbers rules as it meets them, so two worker processes (or Spark executors) give
one rule different numbers. Partial results therefore name rules by a stable id, a hash of the rule itself,
and carry the rules they name; the process that folds them maps stable ids back to its own registry once.
"""

from __future__ import annotations

import hashlib

import numpy as np

from reach.model.decision import RuleRegistry
from reach.model.rules import RuleRef

_BITS = 61  # room for `id * 2 + response` in an int64


def stable_id(ref: RuleRef, allow: bool) -> int:
    """A 61-bit id of (rule, allows): the same in every process and every run."""
    text = repr((str(ref.kind), ref.id, None if ref.direction is None else str(ref.direction), ref.rule,
                 ref.detail, ref.groups, ref.implicit, allow))
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big") >> (64 - _BITS)


class StableIds:
    """Registry id -> stable id, for one registry that grows as rules are met; and stable id -> rule."""

    def __init__(self, registry: RuleRegistry) -> None:
        self.registry = registry
        self._ids = np.zeros(0, dtype=np.int64)
        self.rules: dict[int, tuple[RuleRef, bool]] = {}

    def of(self, ids: np.ndarray) -> np.ndarray:
        """The stable id of each registry id (-1 stays -1)."""
        registry = self.registry
        if len(registry.rules) > len(self._ids):
            new = [stable_id(ref, allow) for ref, allow in zip(registry.rules[len(self._ids):],
                                                               registry.allow[len(self._ids):], strict=True)]
            for k, (ref, allow) in zip(new, zip(registry.rules[len(self._ids):], registry.allow[len(self._ids):],
                                                strict=True), strict=True):
                self.rules[k] = (ref, allow)
            self._ids = np.concatenate([self._ids, np.array(new, dtype=np.int64)])
        ids = np.asarray(ids)
        return np.where(ids >= 0, self._ids[np.maximum(ids, 0)] if len(self._ids) else -1, -1).astype(np.int64)

    def one(self, registry_id: int) -> int:
        return int(self.of(np.array([registry_id]))[0])


def to_registry(stable: np.ndarray, mapping: dict[int, int]) -> np.ndarray:
    """Stable ids -> registry ids through `mapping` (-1 stays -1)."""
    if not len(stable):
        return np.zeros(0, dtype=np.int64)
    keys = np.array(sorted(mapping), dtype=np.int64)
    values = np.array([mapping[k] for k in keys.tolist()], dtype=np.int64)
    pos = np.minimum(np.searchsorted(keys, stable), max(len(keys) - 1, 0))
    if not len(keys):
        return np.full(len(stable), -1, dtype=np.int64)
    found = keys[pos] == stable
    if not (found | (stable < 0)).all():
        raise AssertionError("a partial names a rule it does not carry")
    return np.where(stable >= 0, values[pos], -1)
