"""A loader no input can crash, as a property: any one value of a good snapshot replaced by a hostile one
(out of range, of the wrong type, huge, missing) loads and compiles, or is refused with a SnapshotError.
Anything else, a traceback, is a bug."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reach.errors import SnapshotError
from reach.snapshot.compile import compile_snapshot
from reach.snapshot.loader import load_snapshot, snapshot_files
from tests.conftest import FIXTURES

SOURCES = [
    FIXTURES / "lambda-rds-nacl" / "snapshot",
    FIXTURES / "topology-alb-target-nacl" / "snapshot",
    FIXTURES / "topology-tgw-missing-propagation" / "snapshot",
    FIXTURES / "external" / "batfish" / "e2e" / "test-public-private-subnet",
    FIXTURES / "external" / "cloudmapper",
]

HOSTILE: list[Any] = [
    None,
    -1,
    -5,
    0,
    99999,
    2**31,
    2**32,
    2**63,
    10**20,
    -(10**20),
    1.5,
    True,
    "",
    "bogus",
    "-1",
    "256",
    "0.0.0.0/0",
    "::/0",
    "300.1.1.1",
    "10.0.0.0/33",
    "[/x]",
    "x" * 300,
    [],
    {},
    [{}],
    {"Key": "Name"},
]
DELETE = object()


def documents(folder: Path) -> list[tuple[str, Any]]:
    return [(str(f.relative_to(folder)), json.loads(f.read_text())) for f in snapshot_files(folder)]


SNAPSHOTS = [(folder.name, documents(folder)) for folder in SOURCES]


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a document that holds a value (dict keys and list items)."""
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += paths(value, (*prefix, index))
    return found


def replaced(node: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(node, dict):
        copy = dict(node)
        if value is DELETE and not rest:
            copy.pop(head, None)
        else:
            copy[head] = replaced(node[head], rest, value)
        return copy
    copy = list(node)
    if value is DELETE and not rest:
        del copy[head]
    else:
        copy[head] = replaced(node[head], rest, value)
    return copy


@st.composite
def mutated(draw: st.DrawFn) -> list[tuple[str, Any]]:
    _, files = draw(st.sampled_from(SNAPSHOTS))
    out = list(files)
    for _ in range(draw(st.integers(1, 3))):
        index = draw(st.integers(0, len(out) - 1))
        name, document = out[index]
        places = paths(document)
        if not places:
            continue
        path = draw(st.sampled_from(places))
        value = draw(st.sampled_from([*HOSTILE, DELETE]))
        out[index] = (name, replaced(document, path, value))
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_a_snapshot_with_any_value_made_hostile_loads_or_is_refused_clearly(files: list[tuple[str, Any]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        for name, document in files:
            path = Path(folder, name)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(document))
        try:
            compile_snapshot(load_snapshot(folder))
        except SnapshotError as error:
            assert folder in str(error) or "snapshot" in str(error)
