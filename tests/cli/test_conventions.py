"""The AWS toolbox's conventions: --version, --debug, completion, --format as choices, help that names values
(never Python types), --profile/--region for what reads S3 or CloudWatch, --record-region, JSON versions."""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

import reach
from reach.cli import app
from tests.conftest import FIXTURES

runner = CliRunner()
LAMBDA_NACL = str(FIXTURES / "lambda-rds-nacl" / "snapshot")
WEB = FIXTURES / "whatif-web-http-revoke"
SEED_LOGS = str(FIXTURES / "reconcile-lambda-rds-nacl" / "flowlogs")


@pytest.fixture
def quiet_loggers() -> Iterator[None]:
    """--debug adds handlers to the reach and botocore loggers: take them off again after the test."""
    yield
    for name in ("reach", "botocore", "boto3"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.setLevel(logging.NOTSET)


def test_version_prints_the_installed_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"reach {reach.__version__}"
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", reach.__version__)


def test_debug_logs_what_reach_does_on_stderr(quiet_loggers: None) -> None:
    result = runner.invoke(app, ["--debug", "explain", "10.0.1.100", "10.0.2.50", "3306", "--snapshot", LAMBDA_NACL,
                                 "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["verdict"] == "REJECT"  # stdout stays the answer alone
    assert f"reach.cli DEBUG reading the snapshot {LAMBDA_NACL}" in result.stderr
    assert re.search(r"snapshot read in \d+\.\d+ s: 3 interfaces", result.stderr)
    assert logging.getLogger("botocore").getEffectiveLevel() == logging.DEBUG


def test_without_debug_nothing_is_logged() -> None:
    result = runner.invoke(app, ["explain", "10.0.1.100", "10.0.2.50", "3306", "--snapshot", LAMBDA_NACL,
                                 "--format", "json"])
    assert result.exit_code == 0 and result.stderr == ""


def test_shell_completion_is_offered() -> None:
    result = runner.invoke(app, ["--show-completion", "bash"], prog_name="reach")
    assert result.exit_code == 0, result.output
    assert "_REACH_COMPLETE" in result.stdout and "complete" in result.stdout


HELP_PAGES = [[], ["explain"], ["whatif"], ["check"], ["diff"], ["reconcile"], ["doctor"], ["collect"], ["schema"],
              ["logs"], ["logs", "summary"], ["logs", "query"]]


@pytest.mark.parametrize("command", HELP_PAGES, ids=lambda c: " ".join(c) or "reach")
def test_no_help_shows_a_python_type(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for python_type in ("<str>", "<int>", "<bool>", "list[", "<str,str>", "NoneType"):
        assert python_type not in result.stdout, (command, python_type)


def test_format_is_a_choice_list_that_help_shows_and_the_parser_enforces() -> None:
    help_text = runner.invoke(app, ["explain", "--help"], env={"COLUMNS": "200"}).stdout
    assert "<text|json|html|mermaid>" in help_text
    assert "<text|json|csv>" in runner.invoke(app, ["logs", "query", "--help"], env={"COLUMNS": "200"}).stdout
    bad = runner.invoke(app, ["check", "intents.yaml", "--format", "yaml"])
    assert bad.exit_code == 2 and "yaml" in bad.stderr and "Traceback" not in bad.output


def test_the_record_filter_is_called_record_region() -> None:
    # S3 delivery's layout names the region: AWSLogs/<account>/vpcflowlogs/us-east-1/…
    logs = str(FIXTURES / "reconcile-web-http-revoked" / "flowlogs")

    def records(region: str) -> int:
        result = runner.invoke(app, ["logs", "summary", logs, "--record-region", region, "--format", "json"])
        assert result.exit_code == 0, result.output
        return int(json.loads(result.stdout)["records"])

    assert (records("us-east-1"), records("eu-west-3")) == (215, 0)


def test_the_old_region_filter_on_local_files_is_refused_with_a_hint() -> None:
    result = runner.invoke(app, ["logs", "summary", SEED_LOGS, "--region", "us-east-1"])
    assert result.exit_code == 2
    assert "--region is the AWS client's region" in result.stderr
    assert "--record-region us-east-1" in result.stderr


# Every command that can read S3 or CloudWatch Logs hands --profile and --region to the client it makes:
# a profile that does not exist, or a region that cannot be, is named in the error (exit 2), before any call.
S3 = "s3://reach-test-bucket/AWSLogs/"
READERS = {
    "logs summary": ["logs", "summary", S3],
    "logs query": ["logs", "query", S3, "--top", "action"],
    "reconcile": ["reconcile", S3, "--snapshot", LAMBDA_NACL],
    "explain --flow-logs": ["explain", "10.0.1.100", "10.0.2.50", "3306", "--snapshot", LAMBDA_NACL,
                            "--flow-logs", S3],
    "whatif --flow-logs": ["whatif", str(WEB / "change.json"), "--snapshot", str(WEB / "snapshot"),
                           "--flow-logs", S3],
    "diff --flow-logs": ["diff", str(FIXTURES / "web-http-revoked" / "snapshot-before"),
                         str(FIXTURES / "web-http-revoked" / "snapshot"), "--flow-logs", S3],
    "doctor --flow-logs": ["doctor", "--snapshot", LAMBDA_NACL, "--flow-logs", S3],
}


@pytest.fixture
def no_aws_config(tmp_path: Path) -> dict[str, str | None]:
    config = tmp_path / "config"
    config.write_text("[default]\nregion = us-east-1\n")
    return {"AWS_CONFIG_FILE": str(config), "AWS_SHARED_CREDENTIALS_FILE": str(config), "AWS_PROFILE": None,
            "AWS_DEFAULT_PROFILE": None, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


@pytest.mark.parametrize("command", READERS.values(), ids=READERS.keys())
def test_profile_reaches_the_aws_client(command: list[str], no_aws_config: dict[str, str | None]) -> None:
    result = runner.invoke(app, [*command, "--profile", "no-such-profile"], env=no_aws_config)
    assert result.exit_code == 2, result.output
    assert "no-such-profile" in result.stderr and "Traceback" not in result.output


@pytest.mark.parametrize("command", READERS.values(), ids=READERS.keys())
def test_region_reaches_the_aws_client(command: list[str], no_aws_config: dict[str, str | None]) -> None:
    result = runner.invoke(app, [*command, "--region", "not a region!"], env=no_aws_config)
    assert result.exit_code == 2, result.output
    assert "not a region!" in result.stderr and "Traceback" not in result.output


def test_import_reach_cli_leaves_the_heavy_libraries_unloaded() -> None:
    code = ("import sys, reach, reach.cli; "
            "print(sorted(m for m in ('pyarrow', 'duckdb', 'boto3', 'botocore', 'networkx') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_loading_the_api_for_explain_leaves_arrow_duckdb_and_boto3_unloaded() -> None:
    code = ("import sys; from reach.api import Snapshot; "
            "print(sorted(m for m in ('pyarrow', 'duckdb', 'boto3', 'botocore', 'networkx') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_reason_codes_are_one_exported_enum() -> None:
    assert reach.Reason.SUBNET_ACL_RESTRICTION == "SUBNET_ACL_RESTRICTION"
    assert reach.Reason.ACCEPTED.analyzer_code is None
    assert "Reason" in reach.__all__
    assert reach.whatif is reach.api.whatif  # the function, even once the subpackage is imported


def test_the_package_ships_a_py_typed_marker() -> None:
    from importlib.resources import files

    assert files("reach").joinpath("py.typed").is_file()
    assert 'reach = ["py.typed"]' in (Path(__file__).parents[2] / "pyproject.toml").read_text()
