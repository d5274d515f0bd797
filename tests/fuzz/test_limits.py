"""The limits the README states, held at their edges: past a limit reach says so, and counts what it could not
keep exactly; below it, the answer is exact."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reach.cli import app
from reach.reconcile.attribute import SKETCH
from tests.conftest import FIXTURES

runner = CliRunner()
SNAPSHOT = FIXTURES / "lambda-rds-nacl" / "snapshot"
RDS = "eni-06eda9f3bd974dd1b"  # 10.0.2.50, behind the NACL whose rule 100 denies 3306 from 10.0.0.0/16


def rejected_attempts(folder: Path, flows: int) -> Path:
    """`flows` distinct attempts of the Lambda (10.0.1.100) on MySQL, one client port each, all REJECTed at
    the database's interface by NACL rule 100 (seed 002, case B)."""
    lines = [
        f"2 123456789012 {RDS} 10.0.1.100 10.0.2.50 {40000 + k} 3306 6 1 60 {1716195600 + k} {1716195660 + k} "
        "REJECT OK"
        for k in range(flows)
    ]
    path = folder / f"attempts-{flows}.log"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("flows", [SKETCH - 1, 3 * SKETCH])
def test_distinct_flows_are_exact_up_to_the_sketch_and_a_marked_estimate_past_it(tmp_path: Path, flows: int) -> None:
    result = runner.invoke(app, ["reconcile", str(rejected_attempts(tmp_path, flows)), "--snapshot", str(SNAPSHOT),
                                 "--format", "json", "--quiet"])
    assert result.exit_code == 0, result.stderr
    blocking = json.loads(result.stdout)["blocking"]
    assert [(b["id"], b["rule"], b["records"]) for b in blocking] == [("acl-0a888ff01d6002462", 100, flows)]
    if flows < SKETCH:
        assert (blocking[0]["flows"], blocking[0]["flows_estimated"]) == (flows, False)
    else:  # bounded memory: an estimate within a few percent, and said to be one
        assert blocking[0]["flows_estimated"] is True
        assert abs(blocking[0]["flows"] - flows) < 0.05 * flows


def test_the_text_output_marks_an_estimated_flow_count(tmp_path: Path) -> None:
    flows = 2 * SKETCH
    result = runner.invoke(app, ["reconcile", str(rejected_attempts(tmp_path, flows)), "--snapshot", str(SNAPSHOT),
                                 "--quiet"], env={"COLUMNS": "200"})
    assert result.exit_code == 0 and "~" in result.stdout


def test_an_intent_whose_end_is_longer_than_any_aws_name_is_refused_not_echoed(tmp_path: Path) -> None:
    """A Name tag holds at most 256 characters: a longer src names nothing, and a failed intent used to quote
    it twice (200 KB of output for a 100,000-character src)."""
    intents = tmp_path / "intents.yaml"
    intents.write_text(f"- {{src: {'x' * 100_000}, dst: 10.0.2.50, port: 3306, expect: ACCEPT}}\n")
    result = runner.invoke(app, ["check", str(intents), "--snapshot", str(SNAPSHOT)])
    assert result.exit_code == 2 and len(result.output) < 300
    assert "intent #1: field 'src': string should have at most 256 characters" in result.stderr


def test_a_snapshot_value_of_a_million_characters_is_quoted_clipped(tmp_path: Path) -> None:
    shutil.copytree(SNAPSHOT, tmp_path, dirs_exist_ok=True)
    acls = tmp_path / "describe-network-acls.json"
    document = json.loads(acls.read_text())
    document["NetworkAcls"][0]["NetworkAclId"] = "acl-" + "z" * 1_000_000
    document["NetworkAcls"][0]["Entries"][0]["Protocol"] = "x" * 1_000_000
    acls.write_text(json.dumps(document))
    (tmp_path / "unknown.json").write_text(json.dumps({"K" * 1_000_000: [{"Id": 1}]}))
    result = runner.invoke(app, ["explain", "10.0.1.100", "10.0.2.50", "3306", "--snapshot", str(tmp_path)])
    assert result.exit_code == 2 and len(result.stderr) < 1000, len(result.stderr)
    assert f"{acls}: NetworkAcls[0] (acl-zzz" in result.stderr and "field 'Entries[0].Protocol'" in result.stderr


def test_an_ignored_key_of_a_million_characters_is_named_clipped(tmp_path: Path) -> None:
    shutil.copytree(SNAPSHOT, tmp_path, dirs_exist_ok=True)
    (tmp_path / "unknown.json").write_text(json.dumps({"K" * 1_000_000: [{"Id": 1}]}))
    result = runner.invoke(app, ["explain", "10.0.1.100", "10.0.2.50", "3306", "--snapshot", str(tmp_path)])
    assert result.exit_code == 0 and "reach: ignored 'KKK" in result.stderr and len(result.stderr) < 500
