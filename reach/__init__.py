"""reach: why can't A talk to B in my AWS VPC? Offline answers from `aws ec2 describe-*` snapshots.

import reach
snap = reach.Snapshot.load("fixtures/web-http-revoked/snapshot-before")
snap.explain("198.51.100.23", "web-server-01", 80).verdict        # 'ACCEPT'
result = reach.whatif(snap, "fixtures/web-http-revoked/change.json")
result.changed[0].after                                           # 'REJECT'
reach.check(snap, "fixtures/web-http-revoked/intents-before.yaml").passed   # True
"""

from reach.api import AppliedChanges, Snapshot, check, diff, explain, whatif
from reach.engine.explanation import Explanation, Flow
from reach.errors import ChangeError, ReachError
from reach.snapshot.loader import load_snapshot
from reach.whatif import ChangedFlow, CheckResult, Intent, IntentResult, RuleChange, WhatIfResult

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
    "RuleChange",
    "Snapshot",
    "WhatIfResult",
    "check",
    "diff",
    "explain",
    "load_snapshot",
    "whatif",
]
