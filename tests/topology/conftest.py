"""Helpers for the topology tests: the story fixtures, and edited copies of them."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from reach.api import Snapshot
from tests.conftest import FIXTURES

STORIES = ("topology-tgw-missing-propagation", "topology-s3-gateway-endpoint", "topology-alb-target-nacl",
           "topology-nat-instance-source-dest-check")

Edit = Callable[[dict[str, Any]], None]


def story(name: str) -> Path:
    return FIXTURES / name / "snapshot"


class Workspace:
    """A copy of a snapshot folder whose files a test edits before loading it."""

    def __init__(self, source: Path, root: Path) -> None:
        self.root = root
        shutil.copytree(source, root)

    def edit(self, name: str, change: Edit) -> None:
        path = self.root / name
        data = json.loads(path.read_text())
        change(data)
        path.write_text(json.dumps(data))

    def write(self, name: str, data: Any) -> None:
        (self.root / name).write_text(json.dumps(data))

    def load(self) -> Snapshot:
        return Snapshot.load(self.root, cache=False)


@pytest.fixture
def workspace(tmp_path: Path) -> Callable[[str | Path], Workspace]:
    def make(source: str | Path) -> Workspace:
        folder = Path(source) if isinstance(source, Path) else story(source)
        return Workspace(folder, tmp_path / "snapshot")

    return make
