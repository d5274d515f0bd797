"""Reconcile on every core gives the answer one process gives: however the input is split (files, byte
ranges, worker processes, chunks), whatever order the parts fold in, and when per-key state goes to disk."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from reach.api import Snapshot
from reach.cli import app
from reach.flowlogs import read_flow_logs
from reach.reconcile import CloudTrail, Reconciler, ReconcileResult, reconcile
from reach.reconcile.parallel import reconcile_sources
from tests.reconcile import synthetic

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
# every reconcile fixture, with the snapshot its story reads it against
CASES = [
    ("web-http-revoked/snapshot", "reconcile-web-http-revoked/flowlogs", "reconcile-web-http-revoked/cloudtrail"),
    ("web-http-revoked/snapshot-before", "reconcile-web-http-revoked/flowlogs",
     "reconcile-web-http-revoked/cloudtrail"),
    ("lambda-rds-nacl/snapshot", "reconcile-lambda-rds-nacl/flowlogs", None),
    ("lambda-rds-sg/snapshot", "reconcile-lambda-rds-sg/flowlogs", None),
    ("lambda-rds-nacl/snapshot", "reconcile-mixed-formats/flowlogs", None),
    ("icmp-nacl-reply/snapshot", "reconcile-icmp-nacl-reply/flowlogs", None),
    ("reconcile-rule-usage/snapshot", "reconcile-rule-usage/flowlogs", None),
]


SPILL_NOTE = "per-key counts outgrew memory"


def answer(result: ReconcileResult) -> dict[str, Any]:
    """The answer, less how it was computed: whether and how much per-key state went to disk depends on the
    engine and its budgets, never what it reports."""
    out = result.model_dump()
    out["summary"].pop("spilled_bytes")
    out["notes"] = [n for n in out["notes"] if not n.startswith(SPILL_NOTE)]
    return out


def one_process(snapshot: Path, logs: Path, trail: CloudTrail | None = None) -> dict[str, Any]:
    network = Snapshot.load(snapshot).network
    stream = read_flow_logs([str(logs)], quiet=True)
    return answer(reconcile(network, stream, read_stats=stream.stats, cloudtrail=trail))


def split(snapshot: Path, sources: list[str], trail: CloudTrail | None = None, jobs: int = 4,
          range_bytes: int = 600) -> dict[str, Any]:
    """Workers on byte ranges of `range_bytes` (the input never counts as small enough for one process)."""
    network = Snapshot.load(snapshot).network
    return answer(reconcile_sources(network, sources, jobs=jobs, cloudtrail=trail, range_bytes=range_bytes,
                                    small_input=0))


@pytest.mark.parametrize(("snapshot", "logs", "trail"), CASES, ids=[f"{c[1].split('/')[0]}:{c[0]}" for c in CASES])
def test_four_workers_on_byte_ranges_give_the_answer_one_process_gives(snapshot: str, logs: str,
                                                                        trail: str | None) -> None:
    events = CloudTrail.load([str(FIXTURES / trail)]) if trail else None
    whole = one_process(FIXTURES / snapshot, FIXTURES / logs, events)
    assert whole["summary"]["evaluated"] > 0
    assert split(FIXTURES / snapshot, [str(FIXTURES / logs)], events) == whole


@pytest.fixture(scope="module")
def web_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthetic.write(tmp_path_factory.mktemp("synthetic"), 40_000, files=4)


def test_synthetic_logs_with_a_change_point_pairs_and_cloudtrail_fold_to_the_same_answer(web_logs: Path) -> None:
    events = CloudTrail.load([str(FIXTURES / "reconcile-web-http-revoked/cloudtrail")])
    whole = one_process(synthetic.SNAPSHOT, web_logs, events)
    s = whole["summary"]
    assert s["response_methods"]["pairing"] > 1000 and s["unknown_interface"] > 0 and s["unparsable"] == 1
    http = [d for d in whole["disagreements"] if d["service_port"] == 80]
    assert http and all(d["change_point"]["at"] >= synthetic.START + 3600 for d in http)
    assert all(d["suspected_event"]["event"] == "RevokeSecurityGroupIngress" for d in http)
    assert split(synthetic.SNAPSHOT, [str(web_logs)], events, jobs=2, range_bytes=200_000) == whole
    # the same files named one by one, in another order: the answer does not follow the order of the parts
    files = sorted(str(p) for p in web_logs.iterdir())
    shuffled = split(synthetic.SNAPSHOT, files[::-1], events, jobs=2, range_bytes=200_000)
    assert {k: v for k, v in shuffled.items() if k != "bad_lines"} == {
        k: v for k, v in whole.items() if k != "bad_lines"}


def test_a_file_split_at_any_line_tells_responses_and_reconciles_as_the_whole(tmp_path: Path) -> None:
    body = synthetic.text(synthetic.records(120, seed=3))
    (tmp_path / "whole").mkdir()
    (tmp_path / "whole" / "a.log").write_bytes(body)
    whole = one_process(synthetic.SNAPSHOT, tmp_path / "whole")
    assert whole["summary"]["response_methods"]["pairing"] > 0
    network = Snapshot.load(synthetic.SNAPSHOT).network
    lines = body.splitlines(keepends=True)
    for k in range(1, len(lines)):
        folder = tmp_path / f"split-{k}"
        folder.mkdir()
        (folder / "a.log").write_bytes(b"".join(lines[:k]))
        (folder / "b.log").write_bytes(b"".join(lines[k:]))
        # one task per file, each its own partial: the pairs across the cut meet only when partials fold
        parts = answer(reconcile_sources(network, [str(folder)], jobs=1))
        assert parts == whole, f"split after line {k}"


def test_a_header_half_way_through_a_file_reads_every_byte_range_in_its_format(tmp_path: Path) -> None:
    table = synthetic.records(2000, seed=5)
    custom = ["version", "interface-id", "account-id", "srcaddr", "dstaddr", "srcport", "dstport", "protocol",
              "packets", "bytes", "start", "end", "action", "log-status"]
    half = table.num_rows // 2
    default_header = " ".join(table.column_names).encode() + b"\n"
    body = default_header + synthetic.text(table.slice(0, half))
    body += " ".join(custom).encode() + b"\n" + synthetic.text(table.slice(half).select(custom))
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "mixed.log").write_bytes(body)
    whole = one_process(synthetic.SNAPSHOT, tmp_path / "logs")
    assert whole["summary"]["unparsable"] == 0
    assert split(synthetic.SNAPSHOT, [str(tmp_path / "logs")], jobs=4, range_bytes=4096) == whole


def test_per_key_counts_that_outgrow_memory_go_to_disk_and_stay_exact(web_logs: Path) -> None:
    network = Snapshot.load(synthetic.SNAPSHOT).network
    stream = read_flow_logs([str(web_logs)], quiet=True)
    reconciler = Reconciler(network)
    reconciler.CHUNK = 4096  # many chunks, each spilled
    reconciler.state.cells.budget = 1
    for batch in stream:
        reconciler.add(batch)
    result = reconciler.result(stream.stats)
    assert result.summary.spilled_bytes > 0 and any(n.startswith(SPILL_NOTE) for n in result.notes)
    assert answer(result) == one_process(synthetic.SNAPSHOT, web_logs)


runner = CliRunner()


def test_the_cli_takes_jobs_and_refuses_a_spark_master_without_the_spark_engine() -> None:
    args = ["reconcile", str(FIXTURES / "reconcile-lambda-rds-nacl/flowlogs"), "--snapshot",
            str(FIXTURES / "lambda-rds-nacl/snapshot"), "--format", "json"]
    one, two = runner.invoke(app, [*args, "--jobs", "1"]), runner.invoke(app, [*args, "--jobs", "2"])
    assert one.exit_code == 0 and json.loads(one.stdout) == json.loads(two.stdout)
    bad = runner.invoke(app, [*args, "--master", "local[2]"])
    assert bad.exit_code == 2 and "--engine spark" in bad.stderr
