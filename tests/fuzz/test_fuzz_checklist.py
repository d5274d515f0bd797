"""The checklist (tests/fuzz/README.md) names a test for every failure class; a renamed or removed test must
not leave a class held by nothing."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.conftest import ROOT

CHECKLIST = ROOT / "tests" / "fuzz" / "README.md"
REFERENCE = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")


def _tests_in(path: Path) -> set[str]:
    return {node.name for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")}


def test_every_test_the_checklist_names_exists() -> None:
    references = REFERENCE.findall(CHECKLIST.read_text())
    classes = [line for line in CHECKLIST.read_text().splitlines() if line.startswith("- ")]
    assert len(references) >= len(classes) >= 30
    missing = [f"{file}::{name}" for file, name in references
               if not (ROOT / file).exists() or name not in _tests_in(ROOT / file)]
    assert not missing, missing


def test_every_line_of_the_checklist_names_a_test() -> None:
    lines = [line for line in CHECKLIST.read_text().splitlines() if line.startswith("- ")]
    assert [line for line in lines if not REFERENCE.search(line)] == []
