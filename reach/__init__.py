"""reach: why can't A talk to B in my AWS VPC? Offline answers from `aws ec2 describe-*` snapshots.

import reach
snap = reach.Snapshot.load("fixtures/web-http-revoked/snapshot-before")
snap.explain("198.51.100.23", "web-server-01", 80).verdict        # 'ACCEPT'
result = reach.whatif(snap, "fixtures/web-http-revoked/change.json")
result.changed[0].after                                           # 'REJECT'
reach.check(snap, "fixtures/web-http-revoked/intents-before.yaml").passed   # True
reach.Reason.SUBNET_ACL_RESTRICTION.analyzer_code                 # 'SUBNET_ACL_RESTRICTION'

The names below are imported on first use (PEP 562), so `import reach` and the command line's start-up do
not pay for NumPy, Arrow, DuckDB, networkx and boto3 until a command needs them.
"""

from __future__ import annotations

import sys
import types
from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reach.api import AppliedChanges, Snapshot, check, diff, explain, whatif
    from reach.engine.explanation import Explanation, Flow
    from reach.errors import ChangeError, ReachError
    from reach.model.vocabulary import Reason
    from reach.snapshot.loader import load_snapshot
    from reach.whatif import ChangedFlow, CheckResult, Intent, IntentResult, RuleChange, WhatIfResult

_WHERE = {
    "AppliedChanges": "reach.api",
    "Snapshot": "reach.api",
    "check": "reach.api",
    "diff": "reach.api",
    "explain": "reach.api",
    "whatif": "reach.api",
    "Explanation": "reach.engine.explanation",
    "Flow": "reach.engine.explanation",
    "ChangeError": "reach.errors",
    "ReachError": "reach.errors",
    "Reason": "reach.model.vocabulary",
    "load_snapshot": "reach.snapshot.loader",
    "ChangedFlow": "reach.whatif",
    "CheckResult": "reach.whatif",
    "Intent": "reach.whatif",
    "IntentResult": "reach.whatif",
    "RuleChange": "reach.whatif",
    "WhatIfResult": "reach.whatif",
}

__all__ = [
    "AppliedChanges",
    "ChangeError",
    "ChangedFlow",
    "CheckResult",
    "Explanation",
    "Flow",
    "Intent",
    "IntentResult",
    "ReachError",
    "Reason",
    "RuleChange",
    "Snapshot",
    "WhatIfResult",
    "__version__",
    "check",
    "diff",
    "explain",
    "load_snapshot",
    "whatif",
]


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("reach")
        except PackageNotFoundError:  # run from a source tree that was never installed
            return "0+unknown"
    if name not in _WHERE:
        raise AttributeError(f"module 'reach' has no attribute {name!r}")
    value = getattr(import_module(_WHERE[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


class _Package(types.ModuleType):
    """`reach.whatif` is the function, as it always was: importing the subpackage of the same name (which
    the import system then sets as an attribute here) leaves it so."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "whatif" and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
