"""reach on Spark (local[2]) gives the local engine's answers: every reconcile fixture, a Hive-partitioned
Parquet folder, a million synthetic records, and the CLI's --engine spark."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from reach.api import Snapshot
from reach.cli import app
from reach.reconcile import CloudTrail
from tests.reconcile import synthetic
from tests.reconcile.test_parallel import CASES, FIXTURES, answer, one_process

pytest.importorskip("pyspark")
if shutil.which("java") is None:
    pytest.skip("PySpark needs a Java runtime (.ci/run installs openjdk-17-jre-headless)", allow_module_level=True)

from pyspark.sql import SparkSession  # noqa: E402

from reach.spark import reconcile_spark  # noqa: E402
from reach.spark.engine import _session  # noqa: E402


@pytest.fixture(scope="module")
def spark() -> Iterator[SparkSession]:
    session = _session("local[2]")
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def on_spark(spark: SparkSession, snapshot: Path, logs: Path, trail: CloudTrail | None = None) -> dict[str, Any]:
    network = Snapshot.load(snapshot).network
    return answer(reconcile_spark(network, [str(logs)], cloudtrail=trail, spark=spark))


@pytest.mark.parametrize(("snapshot", "logs", "trail"), CASES, ids=[f"{c[1].split('/')[0]}:{c[0]}" for c in CASES])
def test_spark_gives_the_local_answer_on_every_reconcile_fixture(spark: SparkSession, snapshot: str, logs: str,
                                                                  trail: str | None) -> None:
    events = CloudTrail.load([str(FIXTURES / trail)]) if trail else None
    assert on_spark(spark, FIXTURES / snapshot, FIXTURES / logs, events) == one_process(
        FIXTURES / snapshot, FIXTURES / logs, events)


def test_a_hive_partitioned_parquet_folder_is_read_by_sparks_parquet_reader(spark: SparkSession,
                                                                            tmp_path: Path) -> None:
    table = synthetic.records(4000, seed=11)
    table = table.rename_columns([c.replace("-", "_") for c in table.column_names])
    half = table.num_rows // 2
    for hour, part in (("13", table.slice(0, half)), ("14", table.slice(half))):
        folder = tmp_path / "logs" / "year=2024" / "month=03" / "day=12" / f"hour={hour}"
        folder.mkdir(parents=True)
        pq.write_table(part, folder / "flows.parquet")
    local = one_process(synthetic.SNAPSHOT, tmp_path / "logs")
    assert local["summary"]["records"] == table.num_rows
    found = on_spark(spark, synthetic.SNAPSHOT, tmp_path / "logs")
    # Spark's reader numbers rows per batch, not per file: the counts agree, not the bad-line samples
    assert {k: v for k, v in found.items() if k != "bad_lines"} == {k: v for k, v in local.items() if k != "bad_lines"}


def test_a_million_synthetic_records_give_the_local_answer(spark: SparkSession, tmp_path: Path) -> None:
    logs = synthetic.write(tmp_path / "logs", 1_000_000, files=4)
    events = CloudTrail.load([str(FIXTURES / "reconcile-web-http-revoked/cloudtrail")])
    local = one_process(synthetic.SNAPSHOT, logs, events)
    assert local["summary"]["records"] > 900_000 and local["disagreements"]
    assert on_spark(spark, synthetic.SNAPSHOT, logs, events) == local


def test_reconcile_engine_spark_from_the_command_line(spark: SparkSession) -> None:
    args = ["reconcile", str(FIXTURES / "reconcile-web-http-revoked/flowlogs"), "--snapshot",
            str(FIXTURES / "web-http-revoked/snapshot"), "--format", "json"]
    local = CliRunner().invoke(app, args)
    on = CliRunner().invoke(app, [*args, "--engine", "spark", "--master", "local[2]"])
    assert on.exit_code == 0, on.output
    assert json.loads(on.stdout) == json.loads(local.stdout)


def test_cloudwatch_sources_are_refused_with_a_hint(spark: SparkSession) -> None:
    network = Snapshot.load(synthetic.SNAPSHOT).network
    from reach.errors import ReachError

    with pytest.raises(ReachError, match="--engine local"):
        reconcile_spark(network, ["cloudwatch://flow-logs"], spark=spark)


def test_arrow_batches_of_columns_are_what_spark_hands_over() -> None:
    # the executor side, without Spark: a partition's rows are a partial and its held candidates
    from reach.spark.engine import PARTIAL, _columns_task

    class Broadcast:
        value = __import__("pickle").dumps(Snapshot.load(synthetic.SNAPSHOT).network)

    table = synthetic.records(400, seed=2)
    table = table.rename_columns([c.replace("-", "_") for c in table.column_names])
    out = pa.Table.from_batches(list(_columns_task(Broadcast(), 0, "t", True)(iter(table.to_batches()))))
    assert out["kind"].to_pylist()[0] == PARTIAL and out.num_rows >= 2  # the pings wait for their replies
