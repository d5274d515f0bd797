"""Good change sets and Terraform plans, damaged at random: reach applies them or refuses them with a ReachError
(exit 2 on the command line), and never fails any other way."""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import reach
from reach import ReachError
from tests.conftest import FIXTURES

DOCUMENTS = sorted(
    f for pattern in ("*/change.json", "*/fix.json", "*/plan*.json") for f in FIXTURES.glob(pattern)
    if (f.parent / "snapshot").is_dir()
)

# Values a hand-written or generated file might hold where another belongs, AWS's near misses among them.
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.sampled_from([-2, -1, 0, 1, 255, 256, 32766, 32767, 65535, 65536])
    | st.floats(allow_nan=True)
    | st.text(max_size=12)
    | st.sampled_from(["tcp", "-1", "all", "icmp", "58", "0.0.0.0/0", "::/0", "10.0.0.0/33", "sg-0nope", "", "alow",
                      "deny", "create", "delete", "update", "no-op", "aws_route", "igw-1", "local"])
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=6,
)


@functools.cache
def snapshot(folder: Path) -> reach.Snapshot:
    return reach.Snapshot.load(folder, cache=False)


def places(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON document, the document itself first."""
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += places(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += places(item, (*path, index))
    return found


def damaged(document: Any, path: tuple[Any, ...], value: Any, delete: bool) -> Any:
    if not path:
        return value
    copied = copy.deepcopy(document)
    parent = copied
    for step in path[:-1]:
        parent = parent[step]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return copied


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_damaged_change_set_or_plan_is_applied_or_refused_never_crashes(data: st.DataObject) -> None:
    file = data.draw(st.sampled_from(DOCUMENTS), label="file")
    document = json.loads(file.read_text())
    path = data.draw(st.sampled_from(places(document)), label="path")
    delete = bool(path) and data.draw(st.booleans(), label="delete")
    value = None if delete else data.draw(VALUES, label="value")
    try:
        snapshot(file.parent / "snapshot").apply(damaged(document, path, value, delete))
    except ReachError as exc:
        assert len(str(exc)) < 2000, "a message echoes at most a clipped value"
