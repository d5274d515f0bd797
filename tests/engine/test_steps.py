"""The walker's shape, as tests: one step module per component kind, each importable alone, no import cycle
in the engine, and a step for every route target and every move the steps can return."""

from __future__ import annotations

import ast
import importlib
import sys
import typing
from pathlib import Path

import networkx as nx
import pytest

from reach.api import Snapshot
from reach.engine import moves, walk
from reach.model.protocols import GATEWAY_ID_PREFIXES, ROUTE_TARGET_FIELDS
from reach.model.vocabulary import Kind
from tests.builder import ALL_OUT, SnapshotBuilder

ENGINE = Path(__file__).resolve().parents[2] / "reach" / "engine"
STEP_MODULES = sorted(f"reach.engine.steps.{p.stem}" for p in (ENGINE / "steps").glob("*.py") if p.stem != "__init__")


def _module(path: Path) -> str:
    parts = path.relative_to(ENGINE.parent.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _engine_imports(path: Path) -> set[str]:
    """The reach.engine modules a file imports, anywhere in it (TYPE_CHECKING blocks included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:  # `from reach.engine.steps import peering` imports a module
                candidate = f"{node.module}.{alias.name}"
                found.add(
                    candidate
                    if (ENGINE.parent.parent / Path(*candidate.split("."))).with_suffix(".py").exists()
                    else node.module
                )
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.startswith("reach.engine")}


def test_there_is_a_step_module_per_component_kind_that_moves_a_packet() -> None:
    assert {m.rsplit(".", 1)[1] for m in STEP_MODULES} >= {
        "vpc_router",
        "internet_gateway",
        "nat_gateway",
        "peering",
        "transit_gateway",
        "endpoint",
        "load_balancer",
        "appliance",
        "filters",
    }


def test_the_engines_import_graph_has_no_cycle() -> None:
    graph = nx.DiGraph()
    for path in ENGINE.rglob("*.py"):
        graph.add_node(_module(path))
        graph.add_edges_from((_module(path), target) for target in _engine_imports(path) if target != _module(path))
    cycles = list(nx.simple_cycles(graph))
    assert cycles == []
    # the steps sit below the walker: none reaches back into it
    assert not [m for m in STEP_MODULES if nx.has_path(graph, m, "reach.engine.walk")]


def test_no_engine_module_hides_an_import_of_reach_behind_type_checking() -> None:
    """A cycle hidden behind TYPE_CHECKING is still a cycle. (A library imported only for its types, so that
    start-up does not wait for it, is fine.)"""
    hidden = [
        str(path.relative_to(ENGINE))
        for path in ENGINE.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        and any(isinstance(i, ast.ImportFrom) and (i.module or "").startswith("reach")
                or isinstance(i, ast.Import) and any(a.name.startswith("reach") for a in i.names)
                for i in ast.walk(node))
    ]
    assert hidden == []


@pytest.mark.parametrize("name", STEP_MODULES)
def test_each_step_module_imports_alone(name: str) -> None:
    """Imported first, with no other engine module loaded: a cycle would find a half-initialised module."""
    saved = {k: v for k, v in sys.modules.items() if k.startswith("reach.engine")}
    for key in saved:
        del sys.modules[key]
    try:
        module = importlib.import_module(name)
        assert module.__doc__
    finally:
        for key in [k for k in sys.modules if k.startswith("reach.engine")]:
            del sys.modules[key]
        sys.modules.update(saved)


def test_every_route_target_kind_reach_models_has_a_step() -> None:
    kinds = {k for k in (*ROUTE_TARGET_FIELDS.values(), *GATEWAY_ID_PREFIXES.values()) if isinstance(k, Kind)}
    assert kinds - set(walk.STEPS) == set()
    assert "local" in walk.STEPS


def test_a_route_to_a_target_reach_does_not_model_is_a_blocker_naming_it(tmp_path: Path) -> None:
    b = SnapshotBuilder()
    vpc = b.vpc("10.0.0.0/16")
    subnet = b.subnet(vpc, "10.0.0.0/24")
    b.route_table(
        vpc, [subnet], [{"DestinationCidrBlock": "0.0.0.0/0", "CarrierGatewayId": "cagw-0a1", "State": "active"}]
    )
    b.interface(subnet, "10.0.0.5", [b.security_group(vpc, "any", [], [ALL_OUT])], name="phone-edge")
    result = Snapshot.load(b.write(tmp_path / "snap"), cache=False).explain("phone-edge", "8.8.8.8", 443)
    assert (result.verdict, result.reason) == ("REJECT", "UNSUPPORTED_COMPONENT")
    assert result.blocked_by is not None and "cagw-0a1 (carrier-gateway)" in result.blocked_by.detail


def test_every_move_has_a_step() -> None:
    assert set(typing.get_args(moves.Move)) - {moves.Follow} == set(walk.MOVES)
