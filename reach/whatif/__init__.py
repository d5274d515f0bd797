"""What-if: the verdicts a change would flip, and intents checked like tests.

Works on compiled networks (`reach.model`) through the engine; never reads describe-* JSON, so it does
not import `reach.snapshot` (applying a change set to a snapshot is the change stage, `reach.change`).
"""

from reach.whatif.compare import compare
from reach.whatif.diff import NetworkDiff, Scope, diff_networks
from reach.whatif.intents import Intent, check_intent, check_intents, load_intents, parse_intents
from reach.whatif.observed import Connections, group_connections
from reach.whatif.results import (
    ChangedFlow,
    CheckResult,
    IntentResult,
    RuleChange,
    WhatIfResult,
    WhatIfSummary,
)

__all__ = [
    "ChangedFlow",
    "CheckResult",
    "Connections",
    "Intent",
    "IntentResult",
    "NetworkDiff",
    "RuleChange",
    "Scope",
    "WhatIfResult",
    "WhatIfSummary",
    "check_intent",
    "check_intents",
    "compare",
    "diff_networks",
    "group_connections",
    "load_intents",
    "parse_intents",
]
