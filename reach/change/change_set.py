"""A change set: EC2 calls in order, each validated into its typed model, with where it came from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from reach.change.calls import Ec2Call, parse_call
from reach.errors import ChangeError


class ChangeFormat(StrEnum):
    API = "api"  # a JSON list of {"action", "params"}
    TERRAFORM = "terraform"  # `terraform show -json` output


@dataclass(frozen=True)
class Change:
    """One call of a change set; `index` is its 1-based position, for messages."""

    index: int
    call: Ec2Call

    @property
    def action(self) -> str:
        return self.call.action

    @property
    def params(self) -> dict[str, Any]:
        """The parameters as given, `--cli-input-json`'s way."""
        return self.call.params()

    def __str__(self) -> str:
        return f"change #{self.index} ({self.action})"


@dataclass
class ChangeSet:
    """A change set ready to apply, with what is worth telling about how it was read."""

    changes: list[Change]
    source: str
    kind: ChangeFormat
    notes: list[str] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)  # Terraform resources reach does not translate
    placeholders: dict[str, str] = field(default_factory=dict)  # Terraform address -> id used for it


def parse_changes(data: Any, source: str = "change set") -> list[Change]:
    """A JSON list of `{"action", "params"}` objects -> changes; a single object is a list of one.

    Actions may be written as the API names them (`RevokeSecurityGroupIngress`) or as the CLI does
    (`revoke-security-group-ingress`). Every error names the item and the JSON path of the bad value.
    """
    if isinstance(data, Mapping) and "action" in data:
        data = [data]
    if not isinstance(data, list):
        raise ChangeError(
            f'{source}: expected a JSON list of {{"action": ..., "params": {{...}}}}, found {_json_type(data)}'
        )
    changes = []
    for position, item in enumerate(data):
        where = f"{source}: item #{position + 1}"
        if not isinstance(item, Mapping):
            raise ChangeError(f'{where}: [{position}]: expected an object {{"action": ..., "params": {{...}}}}')
        action = item.get("action")
        if not isinstance(action, str):
            raise ChangeError(f"{where}: [{position}].action: expected the action's name as a string")
        unknown = sorted(str(k) for k in item if k not in ("action", "params"))
        if unknown:
            raise ChangeError(f"{where}: [{position}].{unknown[0][:60]}: unknown field (an item has action and params)")
        params = item.get("params", {})
        if not isinstance(params, Mapping):
            raise ChangeError(f"{where}: [{position}].params: expected an object, found {_json_type(params)}")
        call = parse_call(action, params, where, f"[{position}].params")
        changes.append(Change(position + 1, call))
    return changes


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", int: "a number", float: "a number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)
