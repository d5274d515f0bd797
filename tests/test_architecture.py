"""The architecture, as tests: stages import downward only, nothing after the snapshot stage reads AWS JSON
shapes, and one module decides security group and network ACL verdicts."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "reach"

# The stages in their downward order: each may import only the stages before it (and itself).
ORDER = [
    "errors",
    "model",
    "snapshot",
    "change",
    "engine",
    "flowlogs",
    "reconcile",
    "whatif",
    "sets",
    "doctor",
    "spark",
    "report",
    "api",
    "__init__",
    "cli",
    "__main__",
]
# Stages that work on the compiled model only: they never import the AWS shapes of reach.snapshot.
MODEL_ONLY = ["model", "engine", "flowlogs", "reconcile", "whatif", "doctor"]


def _stage(path: Path) -> str:
    parts = path.relative_to(PACKAGE).parts
    return parts[0].removesuffix(".py")


def _imports(path: Path) -> list[str]:
    """Every reach module a file imports, at any depth (function-level imports included)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module == "reach" and node.level == 0:
            found += [f"reach.{alias.name}" for alias in node.names]  # from reach import flowlogs
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
        elif isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
    return [name for name in found if name == "reach" or name.startswith("reach.")]


def _files() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_every_module_belongs_to_a_stage_of_the_order() -> None:
    assert sorted({_stage(p) for p in _files()} - set(ORDER)) == []


def test_stages_import_downward_only() -> None:
    offenders = []
    for path in _files():
        stage = _stage(path)
        allowed = set(ORDER[: ORDER.index(stage) + 1])
        for name in _imports(path):
            target = name.split(".")[1] if "." in name else "__init__"
            if target not in allowed:
                offenders.append(f"{path.relative_to(PACKAGE)} ({stage}) imports {name} ({target})")
    assert offenders == []


@pytest.mark.parametrize("stage", MODEL_ONLY)
def test_stage_does_not_import_the_snapshot_layer(stage: str) -> None:
    offenders = [
        f"{path.name}: {name}"
        for path in (PACKAGE / stage).rglob("*.py")
        for name in _imports(path)
        if name.startswith("reach.snapshot")
    ]
    assert offenders == []


def test_only_the_interface_decision_calls_the_matching_kernel() -> None:
    """An AWS rule is written once: explain, reconcile and what-if ask reach.model.decision, which alone calls
    `first_match`. A second caller would be a second copy of the security group and network ACL semantics."""
    callers = []
    for path in _files():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
                if name == "first_match":
                    callers.append(str(path.relative_to(PACKAGE)))
    assert sorted(set(callers)) == ["model/decision.py"]


def test_no_two_public_classes_share_a_name() -> None:
    """A name means one thing: the AWS shape of a security group is `AwsSecurityGroup` (snapshot), the compiled
    one `SecurityGroup` (model), and a reader never has to ask which `Summary` an import brings."""
    where: dict[str, list[str]] = {}
    for path in _files():
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                where.setdefault(node.name, []).append(str(path.relative_to(PACKAGE.parent)))
    assert {name: paths for name, paths in where.items() if len(paths) > 1} == {}
