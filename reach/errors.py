"""The one exception users see.

ReachError
 ├── SnapshotError      a snapshot file or resource is malformed (names file, resource id, field)
 ├── ResolveError       SRC or DST names nothing in the snapshot (names the closest matches)
 ├── FlowLogError       a flow-log source cannot be read (names the source)
 └── ChangeError        a change set names something the snapshot lacks

The CLI prints the message on stderr and exits 2; anything else is a bug and is allowed to raise.
"""

from __future__ import annotations


class ReachError(Exception):
    """Bad input from the user: printed as it is, exit status 2."""


class SnapshotError(ReachError):
    pass


class ResolveError(ReachError):
    pass


class FlowLogError(ReachError):
    pass


class ChangeError(ReachError):
    pass
