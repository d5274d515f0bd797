"""The snapshot being edited by a change set: resource lists are copied the first time a call changes them, so
the snapshot given is never touched (its models are frozen; an edited resource is a `model_copy`)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from reach.change.calls import Ec2Call
from reach.change.change_set import Change
from reach.errors import ChangeError
from reach.snapshot.loader import SnapshotResources


class _Nothing(Ec2Call):
    """The call before the first: only for messages."""


@dataclass
class Work:
    base: SnapshotResources
    notes: list[str]
    change: Change = field(default_factory=lambda: Change(0, _Nothing()))
    _lists: dict[str, list[Any]] = field(default_factory=dict)
    _counter: int = 0
    # what a resource module remembers between the calls of one change set (keyed by the module's own keys)
    memo: dict[Any, Any] = field(default_factory=dict)

    def items(self, key: str) -> list[Any]:
        """The resources filed under a describe-* key (`SecurityGroups`), editable."""
        if key not in self._lists:
            self._lists[key] = list(self.base.of(key))
        return self._lists[key]

    def fail(self, message: str) -> ChangeError:
        return ChangeError(f"{self.change}: {message}")

    def note(self, message: str) -> None:
        self.notes.append(f"{self.change}: {message}")

    def index(self, key: str, attr: str, rid: str) -> int:
        """Position of the resource whose `attr` is `rid`, or -1."""
        for position, item in enumerate(self.items(key)):
            if getattr(item, attr) == rid:
                return position
        return -1

    def get(self, key: str, attr: str, rid: str, what: str) -> tuple[int, Any]:
        """The resource whose `attr` is `rid`, and its position; a ChangeError naming it when it is absent."""
        position = self.index(key, attr, rid)
        if position < 0:
            raise self.fail(f"{what} {rid} is not in the snapshot")
        return position, self.items(key)[position]

    def put(self, key: str, position: int, item: Any) -> None:
        self.items(key)[position] = item

    def planned(self, prefix: str) -> str:
        """An id for something the change set creates: `sgr-planned-<change>-<n>`."""
        self._counter += 1
        return f"{prefix}-planned-{self.change.index}-{self._counter}"

    def result(self) -> SnapshotResources:
        resources = dict(self.base.resources)
        resources.update(self._lists)
        return dataclasses.replace(self.base, resources=resources, origins=dict(self.base.origins))
