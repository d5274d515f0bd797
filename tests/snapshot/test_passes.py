"""compile_snapshot is an ordered tuple of named passes: each takes what it needs by name and returns what
it builds with its warnings; nothing is built from what a later pass makes."""

from __future__ import annotations

import dataclasses
import inspect

from reach.model.network import Network
from reach.snapshot.base import Compiled
from reach.snapshot.compile import PASSES, Pass, compile_snapshot
from reach.snapshot.loader import load_snapshot
from tests.conftest import FIXTURES


def test_every_pass_needs_only_what_an_earlier_pass_built() -> None:
    built = {"snapshot"}
    for step in PASSES:
        missing = set(step.needs) - built
        assert not missing, f"{step.run.__name__} needs {missing} before any pass builds it"
        built.add(step.builds)


def test_the_passes_build_every_compiled_field_of_the_network() -> None:
    assembled = {"warnings", "ignored", "absent"}  # from the loaded snapshot itself
    public = {f.name for f in dataclasses.fields(Network) if not f.name.startswith("_")}
    assert public - assembled <= {step.builds for step in PASSES}


def test_every_pass_is_a_typed_function_returning_compiled() -> None:
    for step in PASSES:
        returns = inspect.signature(step.run).return_annotation
        assert str(returns).startswith("Compiled["), step.run.__name__


def test_a_pass_s_warnings_reach_the_network_in_pass_order() -> None:
    def first(snapshot: object) -> Compiled[int]:
        return Compiled(1, ("first said",))

    def second(first_value: int) -> Compiled[int]:
        return Compiled(first_value + 1, ("second said",))

    passes = (*PASSES, Pass("first_value", first), Pass("second_value", second))
    network = compile_snapshot(load_snapshot(FIXTURES / "lambda-rds-nacl" / "snapshot"), passes)
    assert network.warnings[-2:] == ["first said", "second said"]
