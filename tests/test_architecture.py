"""Stages import downward only: the engine and everything after it never read AWS JSON shapes."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "reach"


@pytest.mark.parametrize("stage", ["model", "engine", "reconcile", "whatif", "flowlogs"])
def test_stage_does_not_import_the_snapshot_layer(stage: str) -> None:
    offenders = []
    for path in (PACKAGE / stage).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.startswith("reach.snapshot")]
    assert offenders == []


def test_model_does_not_import_the_engine() -> None:
    for path in (PACKAGE / "model").rglob("*.py"):
        assert "reach.engine" not in path.read_text(), path


def _imported(stage: str) -> set[str]:
    names: set[str] = set()
    for path in (PACKAGE / stage).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names |= {a.name for a in node.names} if isinstance(node, ast.Import) else set()
            names |= {node.module} if isinstance(node, ast.ImportFrom) and node.module else set()
    return {n for n in names if n.startswith("reach.")}


def test_the_change_stage_reads_only_aws_shapes_and_the_model_and_nothing_below_it_reads_it() -> None:
    allowed = ("reach.change", "reach.snapshot", "reach.model", "reach.errors")
    assert {n for n in _imported("change") if not n.startswith(allowed)} == set()
    assert {n for n in _imported("snapshot") | _imported("model") if n.startswith("reach.change")} == set()
