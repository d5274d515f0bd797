"""The one exception users see.

ReachError
 ├── SnapshotError      a snapshot file or resource is malformed (names file, resource id, field)
 ├── ResolveError       SRC or DST names nothing in the snapshot (names the closest matches)
 ├── FlowLogError       a flow-log source cannot be read (names the source)
 └── ChangeError        a change set names something the snapshot lacks

The CLI prints the message on stderr and exits 2; anything else is a bug and is allowed to raise. A message
quotes values from input through `clip`, so that a hostile file cannot turn into a huge message.
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


ECHO = 60  # characters of a value echoed in a message


def clip(value: object, limit: int = ECHO) -> str:
    """A value as a message may quote it: repr of a non-string, at most `limit` characters."""
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else f"{text[: limit - 1]}…"
