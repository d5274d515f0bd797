"""Which files make a snapshot: every `.json` and `.json.gz` below its folder.

Kept apart from the loader, which brings the describe-* models (pydantic): the compile cache's key needs the
list of files, and a command answered from the cache never needs the models.
"""

from __future__ import annotations

import os
from pathlib import Path

from reach.errors import SnapshotError

UNREADABLE_SHOWN = 20  # unreadable files and folders named in the error; the walk stops there


def snapshot_files(root: Path) -> list[Path]:
    """Every `.json` and `.json.gz` file below `root`, sorted; symlinked folders are not followed.

    A folder that cannot be listed is an error naming it (with up to 19 more): whatever it holds, a
    network ACL or a security group, would be missing from every answer, and an answer computed without a
    deny it cannot see is worse than none. Files that cannot be read are refused the same way by
    `load_snapshot`."""
    if root.is_file():
        return [root]
    unreadable: list[str] = []

    def refused(error: OSError) -> None:
        unreadable.append(f"{error.filename} ({error.strerror or error})")

    files = []
    for folder, subfolders, names in os.walk(root, onerror=refused):
        if len(unreadable) >= UNREADABLE_SHOWN:
            break
        subfolders.sort()
        files += [Path(folder, n) for n in names if n.endswith((".json", ".json.gz")) and not n.startswith(".")]
    if unreadable:
        raise unreadable_error(root, unreadable)
    return sorted(files)


def unreadable_error(root: Path, entries: list[str]) -> SnapshotError:
    more = " (and perhaps more: the search stopped there)" if len(entries) >= UNREADABLE_SHOWN else ""
    return SnapshotError(
        f"snapshot {root}: {len(entries)} file(s) or folder(s) cannot be read{more}: {'; '.join(entries)}. "
        "What they hold (a network ACL, a security group) would be missing from every answer: make them "
        "readable, or point --snapshot at a folder that holds only what you can read"
    )
