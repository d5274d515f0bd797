"""Names come from the account, and the account can write anything in them: rich markup (`[/x]` is a legal
security group name), escape sequences that clear the screen or retitle the window, bidirectional overrides.
reach prints them as they are, and the terminal obeys none of them (issue 15)."""

from __future__ import annotations

import io
import json
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.text import Text
from typer.testing import CliRunner

from reach.cli import app
from reach.report.console import SafeConsole
from reach.report.safe import clean, clean_lines
from tests.conftest import FIXTURES

runner = CliRunner()
MARKUP = "[/x]"
LOUD = "[bold red blink]db"
CLEAR_AND_RETITLE = "\x1b[2J\x1b]0;pwned\x07"
# What may be left of an escape character in the output: rich's own colour sequences, nothing else.
SGR = re.compile(r"\x1b\[[0-9;]*m")
CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _no_control(text: str) -> None:
    assert not CONTROL.search(SGR.sub("", text)), repr(text)


def _edit(path: Path, change: object) -> None:
    data = json.loads(path.read_text())
    change(data)  # type: ignore[operator]
    path.write_text(json.dumps(data))


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    """Seed 002's Lambda -> RDS network, with names an attacker (or an unlucky colleague) could give."""
    snapshot = tmp_path / "snapshot"
    shutil.copytree(FIXTURES / "lambda-rds-nacl" / "snapshot", snapshot)

    def groups(data: dict) -> None:  # type: ignore[type-arg]
        for group in data["SecurityGroups"]:
            if group["GroupName"] == "lambda-sg":
                group["GroupName"] = MARKUP

    def acls(data: dict) -> None:  # type: ignore[type-arg]
        for acl in data["NetworkAcls"]:
            if acl["NetworkAclId"] == "acl-0a888ff01d6002462":
                acl["Tags"] = [{"Key": "Name", "Value": LOUD + CLEAR_AND_RETITLE}]

    def interfaces(data: dict) -> None:  # type: ignore[type-arg]
        for eni in data["NetworkInterfaces"]:
            if eni["NetworkInterfaceId"] == "eni-06eda9f3bd974dd1b":
                eni["TagSet"] = [{"Key": "Name", "Value": "rds\u202egnp.exe\r\x1b[31m"}]

    _edit(snapshot / "describe-security-groups.json", groups)
    _edit(snapshot / "describe-network-acls.json", acls)
    _edit(snapshot / "describe-network-interfaces.json", interfaces)
    (snapshot / "unknown.json").write_text(json.dumps({MARKUP + CLEAR_AND_RETITLE: [{"Id": 1}]}))
    return snapshot


def _explain(snapshot: Path, *extra: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, ["explain", "10.0.1.100", "10.0.2.50", "3306", "--snapshot", str(snapshot), *extra],
                           env={"COLUMNS": "100", **(env or {})})
    return result.exit_code, result.stdout, result.stderr


def test_a_security_group_named_markup_is_printed_as_it_is(hostile: Path) -> None:
    code, out, err = _explain(hostile, "--hops")
    assert code == 0, err
    assert f"security-group {MARKUP} (sg-0f079d9271ed40a5f) egress" in out
    assert f"members of sg-0f079d9271ed40a5f ({MARKUP})" in out


def test_markup_in_a_tag_is_not_interpreted(hostile: Path) -> None:
    code, out, _ = _explain(hostile)
    assert code == 0
    assert f"acl-0a888ff01d6002462 ({LOUD}\\x1b[2J\\x1b]0;pwned\\x07)" in " ".join(out.split())


def test_an_escape_sequence_in_a_tag_never_reaches_the_terminal(hostile: Path) -> None:
    code, out, err = _explain(hostile, "--hops")
    assert code == 0
    _no_control(out)
    _no_control(err)
    assert "\\x1b[2J" in out  # shown, escaped, for the reader to see what is there


def test_with_colours_on_only_colours_reach_the_terminal(hostile: Path) -> None:
    code, out, _ = _explain(hostile, "--hops", env={"FORCE_COLOR": "1", "TERM": "xterm-256color"})
    assert code == 0
    assert SGR.search(out)  # the colours are there
    _no_control(out)


def test_a_bidirectional_override_or_carriage_return_in_a_name_is_shown_escaped(hostile: Path) -> None:
    code, out, _ = _explain(hostile)
    assert code == 0
    assert "rds\\u202egnp.exe\\r\\x1b[31m" in out  # the path strip names the RDS interface by its tag


def test_the_ignored_key_warning_names_the_key_safely_in_text_and_json(hostile: Path) -> None:
    code, out, err = _explain(hostile)
    assert code == 0
    assert f"reach: ignored '{MARKUP}\\x1b[2J\\x1b]0;pwned\\x07' (not modelled)" in err
    code, out, err = _explain(hostile, "--format", "json")
    assert code == 0 and json.loads(out)["verdict"] == "REJECT"
    _no_control(err)


def test_json_keeps_the_names_exactly(hostile: Path) -> None:
    code, out, _ = _explain(hostile, "--format", "json")
    assert code == 0
    assert "(lambda-sg)" not in out and f"({MARKUP})" in json.loads(out)["hops"][5]["detail"]
    assert "\\u001b" in out and "\x1b" not in out  # JSON escapes control characters itself


def test_doctor_prints_hostile_interface_names_safely(hostile: Path) -> None:
    result = runner.invoke(app, ["doctor", "--snapshot", str(hostile)])
    assert result.exit_code == 0, result.output
    assert "Summary" in result.stdout
    _no_control(result.stdout)
    _no_control(result.stderr)


def test_an_error_naming_hostile_input_is_clean(hostile: Path) -> None:
    result = runner.invoke(app, ["explain", f"nobody{CLEAR_AND_RETITLE}", "10.0.2.50", "3306", "--snapshot",
                                 str(hostile)])
    assert result.exit_code == 2 and result.stderr.startswith("reach: ")
    assert "nobody\\x1b[2J" in result.stderr
    _no_control(result.stderr)


def test_check_names_a_hostile_intent_safely_and_its_junit_parses(hostile: Path, tmp_path: Path) -> None:
    intents = tmp_path / "intents.yaml"
    intents.write_text(json.dumps([{"name": f"{MARKUP} lambda\x1b[2J to rds\x07", "src": "10.0.1.100",
                                    "dst": "10.0.2.50", "port": 3306, "expect": "ACCEPT"}]))
    junit = tmp_path / "junit.xml"
    result = runner.invoke(app, ["check", str(intents), "--snapshot", str(hostile), "--junit", str(junit)])
    assert result.exit_code == 1, result.output
    assert f"FAIL  {MARKUP} lambda\\x1b[2J to rds\\x07" in result.stdout
    _no_control(result.stdout)
    case = ET.parse(junit).getroot().find("testsuite/testcase")
    assert case is not None and case.get("name") == f"{MARKUP} lambda\\x1b[2J to rds\\x07"
    failure = case.find("failure")
    assert failure is not None and "acl-0a888ff01d6002462" in (failure.text or "")


HOSTILE_LOG = (
    "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action "
    "log-status\n"
    f"2 123456789012 eni-{MARKUP}{CLEAR_AND_RETITLE} 10.0.1.100 10.0.2.50 40000 3306 6 1 60 1716195600 1716195660 "
    "REJECT OK\n"
    f"2 123456789012 eni-06eda9f3bd974dd1b {LOUD}\x1b[2J\n"
)


def test_logs_query_and_summary_print_hostile_fields_safely(tmp_path: Path) -> None:
    log = tmp_path / "hostile\x1b[2J.log"
    log.write_text(HOSTILE_LOG)
    query = runner.invoke(app, ["logs", "query", str(log), "--sql", "SELECT interface_id FROM vpc_flow_logs"],
                          env={"COLUMNS": "100"})
    assert query.exit_code == 0, query.output
    assert f"eni-{MARKUP}\\x1b[2J" in query.stdout
    _no_control(query.stdout)
    _no_control(query.stderr)
    summary = runner.invoke(app, ["logs", "summary", str(log)], env={"COLUMNS": "100"})
    assert summary.exit_code == 0, summary.output
    assert LOUD in summary.stdout and "hostile\\x1b[2J.log:3:" in summary.stdout
    _no_control(summary.stdout)


def test_reconcile_prints_a_hostile_interface_it_skips_safely(hostile: Path, tmp_path: Path) -> None:
    log = tmp_path / "flows.log"
    log.write_text(HOSTILE_LOG)
    result = runner.invoke(app, ["reconcile", str(log), "--snapshot", str(hostile)])
    assert result.exit_code == 0, result.output
    assert f"eni-{MARKUP}\\x1b[2J\\x1b]0;pwned\\x07: 1 (not in the snapshot)" in result.stdout
    _no_control(result.stdout)
    _no_control(result.stderr)


def test_whatif_prints_hostile_names_safely(hostile: Path) -> None:
    fix = FIXTURES / "lambda-rds-nacl" / "fix.json"
    result = runner.invoke(app, ["whatif", str(fix), "--snapshot", str(hostile)])
    assert result.exit_code == 0, result.output
    # in a table cell, wrapped at its space: "[bold red" then "blink]db\x1b[2J…"
    assert "network-acl [bold red" in result.stdout and "blink]db\\x1b[2J\\x1b]0;pwned\\x07" in result.stdout
    _no_control(result.stdout)


def test_the_console_is_the_last_guard_even_for_text_nobody_cleaned() -> None:
    out = io.StringIO()
    console = SafeConsole(out, force_terminal=True, color_system="standard", width=80)
    console.print(Text("\x1b[2Jred\x07", style="red"))
    console.print("[bold]not markup[/bold] :smile:")
    written = out.getvalue()
    assert "\x1b[31m" in written  # rich's colour
    assert "\x1b[2J" not in written and "\\x1b[2J" in written and "\x07" not in written
    assert "[bold]not markup[/bold] :smile:" in written


@given(st.text())
def test_clean_leaves_no_control_character_and_keeps_everything_else(text: str) -> None:
    cleaned = clean(text)
    _no_control(cleaned)
    assert "\n" not in cleaned
    assert clean(cleaned) == cleaned  # cleaning twice changes nothing
    escaped = "\n\u2028\u2029\u200e\u200f\u061c\ufffe\uffff"
    plain = [c for c in text if c not in escaped and not CONTROL.match(c) and not 0xD800 <= ord(c) < 0xE000]
    assert all(c in cleaned for c in plain)
    assert clean_lines(text).count("\n") == text.count("\n")


def test_a_hostile_region_in_collects_progress_bar_is_shown_escaped() -> None:
    from rich.console import Console

    from reach.report.collect import CollectProgress

    screen = io.StringIO()
    with CollectProgress(Console(file=screen, force_terminal=True, width=100)) as progress:
        target = f"123456789012/{MARKUP}{CLEAR_AND_RETITLE}"
        progress.planned(target, 2)
        progress.finished(target, "describe-vpcs", ok=True)
        progress.finished(target, "describe-subnets", ok=True)
    assert progress.tasks[0].completed == 2
    written = screen.getvalue()
    assert f"123456789012/{MARKUP}\\x1b[2J" in written  # the markup shown, the escape escaped
    assert "\x1b[2J" not in written and "\x07" not in written
