"""What the command-line fuzz test found, one story each with its minimal input: paths the system refuses,
folders of flow logs that hold what is no file, names that are not UTF-8, a region that is no region, and a
terminal width of nothing. Each is exit 2 with a message naming what is wrong, or a normal answer; never a
traceback, a hang or a blank screen."""

from __future__ import annotations

import gzip
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from reach.cli import app
from tests.conftest import FIXTURES

runner = CliRunner()
SNAPSHOT = FIXTURES / "lambda-rds-nacl" / "snapshot"
FLOW_LOGS = FIXTURES / "reconcile-lambda-rds-sg" / "flowlogs"
PARQUET = FIXTURES / "reconcile-mixed-formats" / "flowlogs" / "s3-default.log.parquet"
EXPLAIN = ["explain", "10.0.1.100", "10.0.2.50", "3306"]


def reach(*args: str, env: dict[str, str] | None = None) -> Result:
    result = runner.invoke(app, list(args), env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    return result


def refused(*args: str) -> str:
    result = reach(*args, env={"COLUMNS": "300"})  # usage errors are drawn in a box: one line, unwrapped
    assert result.exit_code == 2, result.output
    return " ".join(result.stderr.split())


# --- paths the system refuses -------------------------------------------------------------------------


def test_a_snapshot_path_too_long_for_the_file_system_is_bad_input_naming_it() -> None:
    message = refused(*EXPLAIN, "--snapshot", "a" * 5000)
    assert message.startswith("reach: aaaa") and "(5,000 characters): File name too long" in message


def test_a_cloudtrail_path_too_long_is_bad_input_too() -> None:
    message = refused("reconcile", str(FLOW_LOGS), "--snapshot", str(SNAPSHOT), "--cloudtrail", "c" * 5000)
    assert "File name too long" in message and len(message) < 400


@pytest.mark.parametrize("where", ["/", "/nonexistent/junit.xml"])
def test_a_junit_report_that_cannot_be_written_is_bad_input_naming_it(where: str) -> None:
    intents = str(FIXTURES / "lambda-rds-nacl" / "intents.yaml")
    message = refused("check", intents, "--snapshot", str(SNAPSHOT), "--junit", where)
    assert message.startswith(f"reach: cannot write the JUnit report {where}: ")


def test_a_file_that_refuses_to_be_read_is_named_with_the_reason() -> None:
    # /proc/self/mem opens, then every read fails with EIO: an OSError that names no file.
    assert refused("logs", "summary", "/proc/self/mem") == "reach: /proc/self/mem: cannot be read (Input/output error)"


# --- folders of flow logs that hold what is no file ----------------------------------------------------


def test_a_flow_log_folder_holding_a_fifo_and_a_device_is_read_without_hanging(tmp_path: Path) -> None:
    """A FIFO waits forever for a writer and /dev/zero never ends: neither is a delivered object."""
    shutil.copytree(FLOW_LOGS, tmp_path, dirs_exist_ok=True)
    os.mkfifo(tmp_path / "pipe.log")
    (tmp_path / "zero").symlink_to("/dev/zero")
    result = reach("logs", "summary", str(tmp_path), "--format", "json")
    assert result.exit_code == 0 and json.loads(result.stdout)["records"] == 210


def test_a_pipe_or_device_named_as_flow_logs_is_refused_saying_what_to_do() -> None:
    message = refused("logs", "summary", "/dev/null")
    assert message == "reach: /dev/null: neither a file nor a folder (save what a pipe or device gives to a file)"


def test_a_flow_log_folder_that_cannot_be_listed_is_an_error_not_fewer_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As root no chmod hides a folder, so listing it is made to fail as it does for other users."""
    shutil.copytree(FLOW_LOGS, tmp_path / "visible")
    hidden = tmp_path / "hidden"
    shutil.copytree(FLOW_LOGS, hidden)
    real_scandir = os.scandir

    def scandir(path: Any = ".") -> Any:
        if Path(path) == hidden:
            raise PermissionError(13, "Permission denied", str(hidden))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    assert refused("logs", "summary", str(tmp_path)) == f"reach: {hidden}: cannot be read (Permission denied)"


# --- names that are not UTF-8 ---------------------------------------------------------------------------


def test_a_snapshot_file_whose_name_is_not_utf8_loads(tmp_path: Path) -> None:
    shutil.copytree(SNAPSHOT, tmp_path, dirs_exist_ok=True)
    (tmp_path / "describe-vpcs.json").rename(tmp_path / os.fsdecode(b"vpcs-\xff.json"))
    result = reach(*EXPLAIN, "--snapshot", str(tmp_path), "--format", "json")
    assert result.exit_code == 0 and json.loads(result.stdout)["verdict"] == "REJECT"


def test_a_parquet_flow_log_whose_name_is_not_utf8_is_read(tmp_path: Path) -> None:
    shutil.copy(PARQUET, tmp_path / os.fsdecode(b"flows-\xff.parquet"))
    result = reach("logs", "summary", str(tmp_path), "--format", "json")
    assert result.exit_code == 0 and json.loads(result.stdout)["records"] == 48


# --- what the user types --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["collect", "out", "--region", "[/x]"],
        ["logs", "summary", "s3://bucket/prefix/", "--region", "us east 1"],
        ["reconcile", "s3://bucket/prefix/", "--snapshot", str(SNAPSHOT), "--region", "\x1b[2J"],
    ],
    ids=["collect", "logs summary", "reconcile"],
)
def test_a_region_that_is_no_region_name_is_a_usage_error_not_a_botocore_traceback(args: list[str]) -> None:
    message = refused(*args)
    assert "Invalid value for '--region'" in message and "is not a region name (such as us-east-1)" in message
    assert "\x1b" not in message


@pytest.mark.parametrize("columns", ["0", "-3", "abc"])
def test_a_terminal_width_of_nothing_still_shows_the_error_and_the_help(columns: str) -> None:
    """Some CI runners set COLUMNS=0; rich took it as a width of nothing and printed blank."""
    error = reach(*EXPLAIN, "--src-port", "abc", env={"COLUMNS": columns})
    assert error.exit_code == 2 and "Invalid value for '--src-port'" in error.stderr
    assert "Predict ACCEPT or REJECT" in reach("explain", "--help", env={"COLUMNS": columns}).stdout


# --- a snapshot of one interface ------------------------------------------------------------------------


@pytest.mark.parametrize("direction", ["--to", "--from"])
def test_reachable_on_an_interface_alone_in_its_snapshot_answers_with_no_peers(direction: str) -> None:
    """icmp-nacl-reply's snapshot holds one interface: no peer to decide, which once broke a reshape."""
    snapshot = str(FIXTURES / "icmp-nacl-reply" / "snapshot")
    result = reach("reachable", direction, "lab-server", "--snapshot", snapshot, "--format", "json")
    assert result.exit_code == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["summary"]["candidates"] == 0 and answer["unreached"] == []


# --- pages ----------------------------------------------------------------------------------------------


def test_a_page_printed_to_a_terminal_by_mistake_cannot_retitle_it(tmp_path: Path) -> None:
    """Who revoked a rule comes from CloudTrail, and is drawn in the page's timeline: its escape sequences are
    shown, not sent (`reach reconcile … --format html` without a redirect writes the page to the terminal)."""
    trail = next((FIXTURES / "reconcile-web-http-revoked" / "cloudtrail").rglob("*.json.gz"))
    document = json.loads(gzip.decompress(trail.read_bytes()))
    for record in document["Records"]:
        record["userIdentity"]["arn"] = "arn:aws:iam::123456789012:user/\x1b]0;pwned\x07bob"
    hostile = tmp_path / "trail.json.gz"
    hostile.write_bytes(gzip.compress(json.dumps(document).encode()))
    result = reach("reconcile", str(FIXTURES / "reconcile-web-http-revoked" / "flowlogs"),
                   "--snapshot", str(FIXTURES / "web-http-revoked" / "snapshot"), "--cloudtrail", str(hostile),
                   "--format", "html")
    assert result.exit_code == 0, result.stderr
    assert "user/\\x1b]0;pwned\\x07bob" in result.stdout
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout


def test_a_name_holding_a_lone_surrogate_is_drawn_escaped_in_every_format(tmp_path: Path) -> None:
    """JSON may escape a lone surrogate (`"\\udcff"`), which no encoder writes: every output shows it escaped
    (a page once failed to print with UnicodeEncodeError)."""
    shutil.copytree(SNAPSHOT, tmp_path, dirs_exist_ok=True)
    interfaces = tmp_path / "describe-network-interfaces.json"
    document = json.loads(interfaces.read_text())
    for interface in document["NetworkInterfaces"]:
        interface["TagSet"] = [{"Key": "Name", "Value": "db\udcff"}]
    interfaces.write_text(json.dumps(document))
    for format, shown in (("text", "db\\xff"), ("html", "db\\xff"), ("mermaid", "db#56575;")):
        result = reach(*EXPLAIN, "--snapshot", str(tmp_path), "--format", format, "--hops")
        assert result.exit_code == 0 and shown in result.stdout, (format, result.stderr)
    result = reach("exposure", "--snapshot", str(tmp_path), "--format", "json")  # JSON: escaped as JSON escapes
    assert result.exit_code == 0 and json.loads(result.stdout)["schema_version"] == 1


def test_a_time_window_that_ends_before_it_starts_is_a_mistake_not_zero_records() -> None:
    message = refused("logs", "summary", str(FLOW_LOGS), "--between", "2024-05-21", "2024-05-20")
    assert message == "reach: --between 2024-05-21 2024-05-20: START is after END, so no record could overlap"
