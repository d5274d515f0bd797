"""The compile cache's file: a network read from it answers exactly as the one compiled, builds only what a
query touches, and a damaged, truncated or foreign file is refused, never trusted."""

from __future__ import annotations

import logging
import pickle
from pathlib import Path

import pytest

from reach.api import Snapshot
from reach.engine.explain import Analyzer
from reach.model.network import Network
from reach.report.console import stdout_console
from reach.report.explain import render_explanation_text
from reach.report.names import Names
from reach.snapshot import cache
from reach.snapshot.compile import compile_snapshot
from reach.snapshot.loader import load_snapshot
from reach.snapshot.store import TABLES, LazyTable, _Chunk, open_network, write
from reach.whatif import load_intents
from tests.builder import SnapshotBuilder, tcp
from tests.conftest import FIXTURES

STORIES = sorted(path.parent for path in FIXTURES.glob("*/intents.yaml"))
LAMBDA_NACL = FIXTURES / "lambda-rds-nacl" / "snapshot"


def _round_trip(folder: Path, tmp_path: Path) -> tuple[Network, Network]:
    compiled = compile_snapshot(load_snapshot(folder))
    write(compiled, tmp_path / "n.network", "key")
    stored = open_network(tmp_path / "n.network", "key")
    assert stored is not None
    return compiled, stored


def _built(table: dict[str, object]) -> list[str]:
    """The ids whose resource a lazy table has built (read without building anything)."""
    return [key for key, value in dict.items(table) if not isinstance(value, _Chunk)]


@pytest.mark.parametrize("story", STORIES, ids=lambda p: p.name)
def test_every_story_s_intents_get_the_same_explanation_from_the_cache(story: Path, tmp_path: Path) -> None:
    snapshot = next(p for p in sorted(story.iterdir()) if p.is_dir() and p.name.startswith("snapshot"))
    compiled, stored = _round_trip(snapshot, tmp_path)
    fresh, cached = Analyzer(compiled), Analyzer(stored)
    intents = load_intents(str(story / "intents.yaml"))
    assert intents
    for intent in intents:
        args = (intent.src, intent.dst, intent.port, intent.protocol, intent.src_port)
        assert cached.explain(*args).model_dump() == fresh.explain(*args).model_dump(), intent.name


@pytest.mark.parametrize("story", STORIES, ids=lambda p: p.name)
def test_every_resource_comes_back_as_it_was_compiled_in_the_same_order(story: Path, tmp_path: Path) -> None:
    snapshot = next(p for p in sorted(story.iterdir()) if p.is_dir() and p.name.startswith("snapshot"))
    compiled, stored = _round_trip(snapshot, tmp_path)
    for name in TABLES:
        before, after = getattr(compiled, name), getattr(stored, name)
        assert list(after) == list(before), name
        assert [repr(v) for v in after.values()] == [repr(v) for v in before.values()], name
    assert stored.warnings == compiled.warnings and stored.ignored == compiled.ignored
    assert stored.unresolved == compiled.unresolved and stored.absent == compiled.absent
    assert dict(stored.group_references) == dict(compiled.group_references)
    assert repr(stored.transit) == repr(compiled.transit) and repr(stored.vpn) == repr(compiled.vpn)


@pytest.mark.parametrize("story", STORIES, ids=lambda p: p.name)
def test_names_looked_up_one_at_a_time_are_the_names_listed_all_at_once(story: Path, tmp_path: Path) -> None:
    snapshot = next(p for p in sorted(story.iterdir()) if p.is_dir() and p.name.startswith("snapshot"))
    compiled, stored = _round_trip(snapshot, tmp_path)
    listed = Names.of(compiled).names
    assert listed and Names.of(stored).names == listed
    lookup = Names.of(stored)
    assert {key: lookup.get(key) for key in listed} == listed
    assert lookup.get("sg-0000000000000000f") is None


def test_opening_builds_nothing_and_a_lookup_builds_one_subnet_s_interfaces(tmp_path: Path) -> None:
    compiled, stored = _round_trip(LAMBDA_NACL, tmp_path)
    tables = {name: getattr(stored, name) for name in TABLES}
    assert all(isinstance(t, LazyTable) and not _built(t) for t in tables.values())

    (lambda_eni,) = stored.interfaces_at(4, int.from_bytes(bytes([10, 0, 1, 100]), "big"))

    same_subnet = [i.id for i in compiled.interfaces.values() if i.subnet_id == lambda_eni.subnet_id]
    assert sorted(_built(stored.interfaces)) == sorted(same_subnet)
    assert len(same_subnet) < len(compiled.interfaces)
    assert not _built(stored.security_groups)  # nothing asked for a group yet
    group = stored.security_groups[lambda_eni.groups[0]]
    assert group.id in _built(stored.security_groups)
    assert len(_built(stored.security_groups)) <= TABLES["security_groups"].size  # with a few of its VPC's


def test_an_explanation_and_its_text_build_only_the_security_groups_of_its_two_ends(tmp_path: Path) -> None:
    builder = SnapshotBuilder()
    vpc = builder.vpc("10.0.0.0/16")
    subnets = [builder.subnet(vpc, f"10.0.{n}.0/24") for n in range(4)]
    groups = [builder.security_group(vpc, f"group-{n}", [tcp(443 + n % 3, "10.0.0.0/16")]) for n in range(40)]
    enis = [
        builder.interface(subnets[n % 4], f"10.0.{n % 4}.{10 + n}", [groups[n % 40], groups[(n * 7) % 40]])
        for n in range(80)
    ]
    compiled, stored = _round_trip(builder.write(tmp_path / "snapshot"), tmp_path)

    result = Analyzer(stored).explain(enis[1], enis[2], 444)
    console = stdout_console()
    with console.capture() as text:
        render_explanation_text(result, console, Names.of(stored))

    ends = {*compiled.interfaces[enis[1]].groups, *compiled.interfaces[enis[2]].groups}
    assert "group-" in text.get()  # the text names groups, by their names
    built = set(_built(stored.security_groups))
    assert ends <= built and len(built) <= len(ends) * TABLES["security_groups"].size < len(groups)
    assert result.model_dump() == Analyzer(compiled).explain(enis[1], enis[2], 444).model_dump()


def test_a_lazy_table_reads_as_the_dict_it_stands_for(tmp_path: Path) -> None:
    compiled, stored = _round_trip(LAMBDA_NACL, tmp_path)
    plain, lazy = compiled.subnets, stored.subnets
    some = next(iter(plain))
    assert lazy.get(some) is lazy[some] and lazy.get("subnet-none", "default") == "default"
    assert some in lazy and "subnet-none" not in lazy and len(lazy) == len(plain)
    rebuilt = _round_trip(LAMBDA_NACL, tmp_path)[1].subnets
    assert repr(dict(rebuilt)) == repr(plain)  # dict() reads every value, none left a placeholder
    rebuilt = _round_trip(LAMBDA_NACL, tmp_path)[1].subnets
    assert repr({**rebuilt}) == repr(plain)
    rebuilt = _round_trip(LAMBDA_NACL, tmp_path)[1].subnets
    assert rebuilt == plain
    assert not rebuilt != plain  # noqa: SIM202  (__ne__ is its own method on a dict)
    rebuilt = _round_trip(LAMBDA_NACL, tmp_path)[1].subnets
    copied = pickle.loads(pickle.dumps(rebuilt))
    assert type(copied) is dict and copied == plain  # a worker process gets an ordinary dict


def test_a_pickled_cached_network_is_a_plain_one_that_answers_the_same(tmp_path: Path) -> None:
    compiled, stored = _round_trip(LAMBDA_NACL, tmp_path)
    copied = pickle.loads(pickle.dumps(stored))
    assert all(type(getattr(copied, name)) is dict for name in TABLES)
    flow = ("10.0.1.100", "10.0.2.50", 3306)
    assert Analyzer(copied).explain(*flow).model_dump() == Analyzer(compiled).explain(*flow).model_dump()


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda data: data[: len(data) // 2], id="truncated"),
        pytest.param(lambda data: b"", id="empty"),
        pytest.param(lambda data: data[:-1] + bytes([data[-1] ^ 1]), id="a flipped bit at the end"),
        pytest.param(lambda data: data[:100] + bytes([data[100] ^ 0x40]) + data[101:], id="a flipped bit inside"),
        pytest.param(lambda data: b"not a cache file at all" * 100, id="garbage"),
        pytest.param(lambda data: pickle.dumps({"key": "k"}), id="a pickle"),
    ],
)
def test_a_damaged_cache_file_is_refused_then_rebuilt(
    damage: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("REACH_CACHE_DIR", str(tmp_path / "cache"))
    assert Snapshot.load(LAMBDA_NACL).explain("10.0.1.100", "10.0.2.50", 3306).verdict == "REJECT"
    key = cache.fingerprint(LAMBDA_NACL)
    assert key is not None
    path = cache.cached_path(key)
    good = path.read_bytes()
    path.write_bytes(damage(good))  # type: ignore[operator]
    assert open_network(path, key) is None

    with caplog.at_level(logging.DEBUG, logger="reach.snapshot.cache"):
        network, raw = cache.load_network(LAMBDA_NACL)

    assert raw is not None  # compiled afresh, not read from the damaged file
    assert f"cache file {path} refused" in caplog.text
    assert Analyzer(network).explain("10.0.1.100", "10.0.2.50", 3306).verdict == "REJECT"
    assert open_network(path, key) is not None  # and written anew
    assert cache.load_network(LAMBDA_NACL)[1] is None  # the next load is a hit


def test_a_file_written_for_another_key_is_refused(tmp_path: Path) -> None:
    compiled = compile_snapshot(load_snapshot(LAMBDA_NACL))
    write(compiled, tmp_path / "a.network", "key-a")
    assert open_network(tmp_path / "a.network", "key-b") is None
    assert open_network(tmp_path / "missing.network", "key-a") is None
