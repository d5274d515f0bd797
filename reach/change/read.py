"""A change set from a file or from parsed JSON: a list of EC2 calls, or a Terraform plan (told by its shape)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from reach.change.change_set import Change, ChangeFormat, ChangeSet, parse_changes
from reach.change.inputs import read_json
from reach.change.terraform import is_terraform_plan, plan_changes
from reach.errors import ChangeError
from reach.snapshot.loader import SnapshotResources


def read_change_set(source: str | Path | Sequence[Any] | Mapping[str, Any], snapshot: SnapshotResources) -> ChangeSet:
    """A path to a JSON file, or its parsed content: a list of EC2 API calls, or a Terraform plan."""
    name = "change set"
    data: Any = source
    if isinstance(source, str | Path):
        name = str(source)
        data = read_json(source, "change set", ChangeError)
    if is_terraform_plan(data):
        return plan_changes(data, snapshot, source=name)
    if isinstance(data, list | tuple) and data and all(isinstance(c, Change) for c in data):
        return ChangeSet(list(data), name, ChangeFormat.API)
    return ChangeSet(parse_changes(data, name), name, ChangeFormat.API)
