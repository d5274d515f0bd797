"""`reach collect` on the command line, against moto through AWS_ENDPOINT_URL; then explain and doctor."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from reach.cli import app
from reach.report.collect import CollectProgress
from reach.snapshot.collector import MANIFEST, MANIFEST_KEY, collect, iam_policy
from tests.collect.moto_network import CREDENTIALS, REGION, Built, Moto

runner = CliRunner()


@pytest.fixture
def aws_env(moto_server: Moto, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """boto3's standard chain, pointed at moto: endpoint, credentials and region from the environment."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_MAX_ATTEMPTS"):
        monkeypatch.delenv(name, raising=False)
    return {
        "AWS_ENDPOINT_URL": moto_server.url,
        "AWS_ACCESS_KEY_ID": CREDENTIALS["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": CREDENTIALS["aws_secret_access_key"],
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": "/nonexistent",
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
    }


def test_collect_then_explain_and_doctor(aws_env: dict[str, str], network: Built, tmp_path: Path) -> None:
    out = tmp_path / "snap"
    result = runner.invoke(app, ["collect", str(out), "--region", REGION], env=aws_env)
    assert result.exit_code == 0, result.output
    assert "Collected" in result.stdout and "123456789012/us-east-1" in result.stdout
    manifest = json.loads((out / MANIFEST).read_text())[MANIFEST_KEY]
    assert manifest["errors"] == [] and manifest["regions"] == [REGION]

    explained = runner.invoke(
        app, ["explain", "app-server", "10.0.2.20", "3306", "--snapshot", str(out), "--format", "json"]
    )
    assert explained.exit_code == 0, explained.output
    body = json.loads(explained.stdout)
    assert (body["verdict"], body["blocked_by"]["kind"], body["blocked_by"]["rule"]) == (
        "REJECT",
        "network-acl",
        100,
    )

    doctor = runner.invoke(app, ["doctor", "--snapshot", str(out), "--format", "json"])
    assert doctor.exit_code == 0, doctor.output
    report = json.loads(doctor.stdout)
    levels = {f["id"]: f["level"] for f in report["flow_logs"]}
    assert levels == {
        network["vpc-flow-log"]: "vpc",
        network["subnet-flow-log"]: "subnet",
        network["eni-flow-log"]: "interface",
    }


def test_region_defaults_to_the_environment(aws_env: dict[str, str], network: Built, tmp_path: Path) -> None:
    result = runner.invoke(app, ["collect", str(tmp_path / "snap"), "--quiet"], env=aws_env)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""  # --quiet: nothing unless a call fails
    assert (tmp_path / "snap" / "123456789012" / REGION / "describe-vpcs.json").exists()


def test_print_policy_is_the_minimal_policy_as_json() -> None:
    result = runner.invoke(app, ["collect", "--print-policy"])
    assert result.exit_code == 0, result.output
    policy = json.loads(result.stdout)
    assert policy == iam_policy()
    actions = policy["Statement"][0]["Action"]
    assert "ec2:DescribeFlowLogs" in actions and "sts:GetCallerIdentity" in actions
    assert "ec2:DescribeRegions" not in actions
    with_regions = json.loads(runner.invoke(app, ["collect", "--print-policy", "--all-regions"]).stdout)
    assert "ec2:DescribeRegions" in with_regions["Statement"][0]["Action"]


def test_exit_2_when_nothing_could_be_collected(aws_env: dict[str, str], tmp_path: Path) -> None:
    # STS answers (moto), EC2 and ELB do not (nothing listens on port 9): every describe call fails.
    dead = {
        "AWS_ENDPOINT_URL_EC2": "http://127.0.0.1:9",
        "AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2": "http://127.0.0.1:9",
        "AWS_MAX_ATTEMPTS": "1",
    }
    result = runner.invoke(app, ["collect", str(tmp_path / "snap"), "--quiet"], env={**aws_env, **dead})
    assert result.exit_code == 2
    assert "nothing could be collected" in result.stderr
    assert "EndpointConnectionError" in result.stdout  # the failures are listed


def test_exit_2_for_bad_usage(aws_env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "old.json").write_text("{}")
    not_empty = runner.invoke(app, ["collect", str(tmp_path), "--region", REGION], env=aws_env)
    assert not_empty.exit_code == 2 and "not empty" in not_empty.stderr
    no_outdir = runner.invoke(app, ["collect"], env=aws_env)
    assert no_outdir.exit_code == 2 and "OUTDIR" in no_outdir.stderr
    bad_profile = runner.invoke(
        app, ["collect", str(tmp_path / "new"), "--profile", "no-such-profile"], env=aws_env
    )
    assert bad_profile.exit_code == 2 and "no-such-profile" in bad_profile.stderr


def test_progress_bars_count_every_call(moto_server: Moto, network: Built, tmp_path: Path) -> None:
    """The terminal progress (rich, on stderr) is told about each call from the worker threads."""
    screen = io.StringIO()
    with CollectProgress(Console(file=screen, force_terminal=True, width=100)) as progress:
        result = collect(
            tmp_path / "snap",
            session=moto_server.session(),
            regions=[REGION],
            endpoint_url=moto_server.url,
            progress=progress,
        )
        (task,) = progress.tasks
        assert task.description == f"123456789012/{REGION}"
        assert task.total == task.completed == sum(c.files for c in result.calls)
    assert "123456789012/us-east-1" in screen.getvalue()
