"""Applying a change set: each call handed to its resource's module, in order, on a working copy.

What AWS would refuse because something is absent (a group, an ACL, a route, an entry, a rule id) is a
`ChangeError` naming the call's position, the action and the missing id. What AWS would accept but that leads
nowhere (a route to a NAT gateway the snapshot does not hold) is applied and noted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from reach.change import network_acls, network_interfaces, route_tables, security_groups
from reach.change.calls import CALLS
from reach.change.change_set import Change, parse_changes
from reach.change.work import Work
from reach.snapshot.loader import SnapshotResources

HANDLERS: dict[type, Callable[[Work, Any], None]] = {
    **security_groups.HANDLERS,
    **network_acls.HANDLERS,
    **route_tables.HANDLERS,
    **network_interfaces.HANDLERS,
}


def apply_changes(
    snapshot: SnapshotResources, changes: Iterable[Change] | Any, notes: list[str] | None = None
) -> SnapshotResources:
    """Apply the changes in order to a copy of `snapshot`; `notes` (if given) collects what is worth saying
    about changes AWS would accept but that point at things the snapshot lacks.

    `changes` are parsed changes, or what `parse_changes` takes (a JSON list of `{"action", "params"}`).
    """
    parsed = list(changes) if _all_changes(changes) else parse_changes(changes)
    work = Work(snapshot, notes if notes is not None else [])
    for change in parsed:
        work.change = change
        if change.call.dry_run:
            work.note("DryRun: AWS would only check permissions and change nothing; not applied")
            continue
        HANDLERS[type(change.call)](work, change.call)
    return work.result()


def supported_actions() -> list[str]:
    return sorted(CALLS)


def _all_changes(changes: Any) -> bool:
    return isinstance(changes, list | tuple) and all(isinstance(c, Change) for c in changes)
