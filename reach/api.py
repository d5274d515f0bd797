"""The typed Python API: load a snapshot once, ask it questions.

snap = Snapshot.load("fixtures/lambda-rds-nacl/snapshot")
snap.explain("10.0.1.100", "10.0.2.50", 3306).verdict   # 'REJECT'
snap.apply("fixtures/lambda-rds-nacl/fix.json").explain("10.0.1.100", "10.0.2.50", 3306).verdict  # 'ACCEPT'
snap.check("fixtures/lambda-rds-nacl/intents.yaml").passed  # True
whatif(snap, "change.json", flow_logs=["flows/"]).summary.broken_observed_connections
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reach.engine.explain import Analyzer
from reach.engine.explanation import Explanation
from reach.errors import ReachError
from reach.model.network import Network
from reach.snapshot.cache import load_network

# What-if and flow logs (DuckDB, Arrow) are imported where they are used, so that loading a snapshot and
# explaining a flow does not pay for them; nor do the change stage and the describe-* models (pydantic),
# which a network taken from the compile cache never needs.
if TYPE_CHECKING:
    from reach.change import Change, ChangeSet
    from reach.sets.results import ExposureResult, ReachableResult
    from reach.snapshot.loader import SnapshotResources as RawSnapshot
    from reach.snapshot.loader import load_snapshot
    from reach.whatif import CheckResult, Intent, WhatIfResult

    # What `Snapshot.apply` takes: a path to a JSON change set or Terraform plan, or its parsed content.
    Changes = str | os.PathLike[str] | Sequence[Any] | Mapping[str, Any] | ChangeSet
# What `Snapshot.check` takes: a path to an intents YAML file, or the intents themselves.
Intents = str | os.PathLike[str] | Sequence["Intent | Mapping[str, Any]"]


@dataclass(frozen=True)
class AppliedChanges:
    """How a snapshot came about from another: the change set, and what is worth saying about it."""

    base: str | None
    change_set: ChangeSet
    notes: list[str] = field(default_factory=list)

    @property
    def changes(self) -> list[Change]:
        return self.change_set.changes


class Snapshot:
    """A snapshot folder, compiled: the network model plus its path graph."""

    applied: AppliedChanges | None = None  # set on a snapshot made by `apply`

    def __init__(self, network: Network, raw: RawSnapshot | None = None, path: str | None = None) -> None:
        self.network = network
        self.raw = raw
        self.path = path
        self.analyzer = Analyzer(network)

    @classmethod
    def load(cls, path: str | Path, *, cache: bool = True) -> Snapshot:
        """Load and compile every describe-* file under `path` (cached by file contents when `cache`)."""
        network, raw = load_network(Path(path), cache=cache)
        return cls(network, raw, str(path))

    def explain(
        self, src: str, dst: str, port: str | int, protocol: str | int = "tcp", src_port: int | None = None
    ) -> Explanation:
        """Predict ACCEPT or REJECT for SRC -> DST:PORT, both directions, naming every blocker."""
        return self.analyzer.explain(src, dst, port, protocol, src_port)

    def raw_snapshot(self) -> RawSnapshot:
        """The describe-* resources behind the network (read again when the network came from the cache)."""
        if self.raw is None:
            if self.path is None:
                raise ReachError("this snapshot was built without its describe-* resources; load it from a folder")
            from reach.snapshot.loader import load_snapshot

            self.raw = load_snapshot(self.path)
        return self.raw

    def apply(self, changes: Changes) -> Snapshot:
        """A new snapshot: this one with a change set (EC2 API calls) or a Terraform plan applied.

        `changes` is a path to a JSON file, a parsed list of `{"action", "params"}`, or a parsed
        `terraform show -json` plan (recognised by its shape). This snapshot is left as it is.
        """
        from reach.change import ChangeSet, apply_changes, read_change_set
        from reach.snapshot.compile import compile_snapshot

        raw = self.raw_snapshot()
        change_set = changes if isinstance(changes, ChangeSet) else read_change_set(_path_or(changes), raw)
        notes = list(change_set.notes)
        changed = apply_changes(raw, change_set.changes, notes)
        snapshot = Snapshot(compile_snapshot(changed), changed, None)
        snapshot.applied = AppliedChanges(self.path, change_set, notes)
        return snapshot

    def check(self, intents: Intents) -> CheckResult:
        """Explain every intent and compare it with what it expects (verdict, and reason and blocked_by
        fields where the intent names them)."""
        from reach.whatif import check_intents

        loaded, source = _intents(intents)
        return check_intents(self.analyzer, loaded, source)

    def whatif(
        self,
        changes: Changes,
        *,
        flow_logs: Sequence[str | os.PathLike[str]] | None = None,
        intents: Intents | None = None,
        log_format: str | None = None,
        header_space: bool | None = None,
    ) -> WhatIfResult:
        """The flows whose verdict `changes` would flip (see `reach.whatif.compare`)."""
        after = self.apply(changes)
        assert after.applied is not None
        return self.compare(
            after,
            flow_logs=flow_logs,
            intents=intents,
            log_format=log_format,
            header_space=header_space,
            notes=after.applied.notes,
        )

    def compare(
        self,
        after: Snapshot,
        *,
        flow_logs: Sequence[str | os.PathLike[str]] | None = None,
        intents: Intents | None = None,
        log_format: str | None = None,
        header_space: bool | None = None,
        notes: Sequence[str] = (),
        profile: str | None = None,
        region: str | None = None,
    ) -> WhatIfResult:
        """The rule-level diff from this snapshot to `after`, and the flows whose verdict it flips (flow logs on
        S3 or CloudWatch Logs read with the AWS client's `profile` and `region`)."""
        from reach.flowlogs import read_flow_logs
        from reach.whatif import compare

        flows = (read_flow_logs(list(flow_logs), log_format=log_format, quiet=True, profile=profile, region=region)
                 if flow_logs else None)
        loaded = _intents(intents)[0] if intents is not None else None
        return compare(
            self.analyzer, after.analyzer, flows=flows, intents=loaded, header_space=header_space, notes=notes
        )

    @property
    def warnings(self) -> list[str]:
        return self.network.warnings

    @property
    def ignored(self) -> dict[str, str]:
        return self.network.ignored


def explain(
    snapshot: str | Path | Snapshot,
    src: str,
    dst: str,
    port: str | int,
    protocol: str | int = "tcp",
    src_port: int | None = None,
) -> Explanation:
    snap = snapshot if isinstance(snapshot, Snapshot) else Snapshot.load(snapshot)
    return snap.explain(src, dst, port, protocol, src_port)


def _path_or(value: Any) -> Any:
    return os.fspath(value) if isinstance(value, os.PathLike) else value


def _intents(intents: Intents) -> tuple[list[Intent], str]:
    from reach.whatif import load_intents, parse_intents

    if isinstance(intents, str | os.PathLike):
        return load_intents(os.fspath(intents)), os.fspath(intents)
    return parse_intents(list(intents)), "intents"


def _snapshot(snapshot: str | Path | Snapshot) -> Snapshot:
    return snapshot if isinstance(snapshot, Snapshot) else Snapshot.load(snapshot)


def whatif(
    snapshot: str | Path | Snapshot,
    changes: Changes,
    *,
    flow_logs: Sequence[str | os.PathLike[str]] | None = None,
    intents: Intents | None = None,
    log_format: str | None = None,
    header_space: bool | None = None,
) -> WhatIfResult:
    """What `changes` (EC2 API calls or a Terraform plan) would do to `snapshot`'s verdicts: for the
    connections in `flow_logs`, for `intents`, or, with neither, for the header space around every
    interface the change touches."""
    return _snapshot(snapshot).whatif(
        changes, flow_logs=flow_logs, intents=intents, log_format=log_format, header_space=header_space
    )


def check(snapshot: str | Path | Snapshot, intents: Intents) -> CheckResult:
    """Check every intent against `snapshot`; `.passed` is False when any fails."""
    return _snapshot(snapshot).check(intents)


def diff(
    before: str | Path | Snapshot,
    after: str | Path | Snapshot,
    *,
    flow_logs: Sequence[str | os.PathLike[str]] | None = None,
    intents: Intents | None = None,
    log_format: str | None = None,
) -> WhatIfResult:
    """The rule-level differences between two snapshots, and the flows whose verdict they flip."""
    return _snapshot(before).compare(_snapshot(after), flow_logs=flow_logs, intents=intents, log_format=log_format)


def exposure(snapshot: str | Path | Snapshot) -> ExposureResult:
    """What the internet can open on every interface, exactly (CONTRACT §8): `.model_dump()` is the JSON."""
    from reach.sets.exposure import exposure as exposure_of  # networkx: only for the set questions

    return exposure_of(_snapshot(snapshot).analyzer)


def reachable(
    snapshot: str | Path | Snapshot,
    *,
    to: str | None = None,
    from_: str | None = None,
    port: int | str | None = None,
    protocol: str | int = "tcp",
) -> ReachableResult:
    """Who can open a connection to `to`, or what `from_` can open: exact ports and addresses, each with its path."""
    from reach.sets.reachable import reachable as reachable_of

    return reachable_of(_snapshot(snapshot).analyzer, to=to, from_=from_, port=port, protocol=protocol)


def __getattr__(name: str) -> Any:
    if name == "load_snapshot":  # re-exported, imported on first use (it brings the describe-* models)
        from reach.snapshot.loader import load_snapshot

        return load_snapshot
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AppliedChanges", "Snapshot", "check", "diff", "explain", "exposure", "load_snapshot", "reachable", "whatif",
]
