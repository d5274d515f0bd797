"""Loading pauses the cyclic garbage collector, leaves it as it found it (even when the load fails), and
moves what it made out of the young generations; the command line keeps it frozen for good."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

import reach.snapshot.pause as pause
from reach.errors import SnapshotError
from reach.snapshot.compile import compile_snapshot
from reach.snapshot.loader import load_snapshot
from tests.conftest import FIXTURES

LAMBDA_NACL = FIXTURES / "lambda-rds-nacl" / "snapshot"


@pytest.fixture
def freezing(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The command line's setting, undone after the test (what it froze is unfrozen)."""
    monkeypatch.setattr(pause, "_frozen_for_good", False)
    pause.freeze_snapshots()
    yield
    gc.unfreeze()


def test_the_collector_is_off_while_loading_and_on_again_after() -> None:
    seen = []
    with pause.collection_paused():
        seen.append(gc.isenabled())
        compile_snapshot(load_snapshot(LAMBDA_NACL))
        seen.append(gc.isenabled())  # the loader's own pause, inside, did not turn it back on
    assert seen == [False, False] and gc.isenabled()


def test_a_failed_load_leaves_the_collector_on(tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(SnapshotError, match="broken.json: not valid JSON"):
        load_snapshot(tmp_path)
    assert gc.isenabled()


def test_a_collector_turned_off_by_the_caller_stays_off() -> None:
    gc.disable()
    try:
        load_snapshot(LAMBDA_NACL)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_load_leaves_nothing_young_and_by_default_nothing_frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pause, "_frozen_for_good", False)
    gc.collect()
    frozen = gc.get_freeze_count()
    snapshot = load_snapshot(LAMBDA_NACL)
    assert gc.get_count()[0] < 100  # what the load made is not waiting for a young collection
    assert gc.get_freeze_count() == frozen
    assert any(gc.is_tracked(r) and r in gc.get_objects(generation=2) for r in snapshot.vpcs)


def test_the_command_line_keeps_what_a_load_made_frozen(freezing: None) -> None:
    snapshot = load_snapshot(LAMBDA_NACL)
    frozen = gc.get_freeze_count()
    assert frozen > 0 and not any(r in gc.get_objects(generation=2) for r in snapshot.vpcs)
    gc.collect()
    assert gc.get_freeze_count() == frozen  # a full collection does not walk them
