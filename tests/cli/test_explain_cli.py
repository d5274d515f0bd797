"""`reach explain` from the command line: CONTRACT §2's options, JSON shape and exit codes."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from reach.cli import app
from tests.conftest import FIXTURES

runner = CliRunner()
LAMBDA_NACL = str(FIXTURES / "lambda-rds-nacl" / "snapshot")


def test_lambda_cannot_reach_rds_because_the_db_subnets_nacl_denies_3306() -> None:
    result = runner.invoke(
        app, ["explain", "10.0.1.100", "10.0.2.50", "3306", "--snapshot", LAMBDA_NACL, "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert set(body) >= {"flow", "verdict", "reason", "blocked_by", "blockers", "hops", "flow_logs"}
    assert body["flow"] == {
        "src": "10.0.1.100",
        "dst": "10.0.2.50",
        "protocol": "tcp",
        "src_port": None,
        "dst_port": 3306,
        "icmp_code": None,
    }
    assert (body["verdict"], body["reason"]) == ("REJECT", "SUBNET_ACL_RESTRICTION")
    blocked = body["blocked_by"]
    assert {k: blocked[k] for k in ("kind", "id", "direction", "rule", "return_path", "groups")} == {
        "kind": "network-acl",
        "id": "acl-0a888ff01d6002462",
        "direction": "ingress",
        "rule": 100,
        "return_path": False,
        "groups": None,
    }
    assert body["flow_logs"][-1] == {
        **body["flow_logs"][-1],
        "interface_id": "eni-06eda9f3bd974dd1b",
        "direction": "ingress",
        "action": "REJECT",
    }


def test_text_output_names_the_rule_and_the_fix() -> None:
    result = runner.invoke(app, ["explain", "10.0.1.100", "10.0.2.50", "3306", "--snapshot", LAMBDA_NACL])
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())  # wrapped at the width (80 when not a terminal)
    assert "REJECT" in text and "inbound rule #100 denies tcp 3306 from 10.0.0.0/16" in text
    assert "create-network-acl-entry" in result.stdout


def test_snapshot_comes_from_the_environment(monkeypatch: object) -> None:
    result = runner.invoke(
        app, ["explain", "10.0.1.100", "10.0.3.60", "5432", "--format", "json"], env={"REACH_SNAPSHOT": LAMBDA_NACL}
    )
    assert json.loads(result.stdout)["verdict"] == "ACCEPT"


def test_bad_input_exits_2_with_a_message_and_no_traceback() -> None:
    cases = [
        ["explain", "nobody", "10.0.2.50", "3306", "--snapshot", LAMBDA_NACL],
        ["explain", "10.0.1.100", "10.0.2.50", "99999", "--snapshot", LAMBDA_NACL],
        ["explain", "10.0.1.100", "10.0.2.50", "3306", "--snapshot", "/no/such/dir"],
        ["explain", "10.0.1.100", "10.0.2.50", "3306", "--snapshot", LAMBDA_NACL, "--protocol", "bogus"],
        ["explain", "10.0.1.100", "10.0.2.50", "3306"],
    ]
    for args in cases:
        result = runner.invoke(app, args, env={"REACH_SNAPSHOT": ""})
        assert result.exit_code == 2, (args, result.output)
        assert result.stderr.startswith("reach: ") and "Traceback" not in result.output


def test_a_malformed_snapshot_exits_2_naming_the_file(tmp_path: object) -> None:
    from pathlib import Path

    folder = Path(str(tmp_path))
    (folder / "sg.json").write_text('{"SecurityGroups": [{"GroupName": "x"}]}')
    result = runner.invoke(app, ["explain", "10.0.0.1", "10.0.0.2", "22", "--snapshot", str(folder)])
    assert result.exit_code == 2
    assert "sg.json" in result.stderr and "GroupId" in result.stderr


def test_src_port_and_icmp_type_code_from_the_command_line() -> None:
    ok = str(FIXTURES / "lambda-rds-ok" / "snapshot")
    # A client port below the NACLs' ephemeral range: the response is what gets dropped.
    below = runner.invoke(
        app, ["explain", "10.0.1.100", "10.0.2.50", "3306", "--src-port", "1000", "--snapshot", ok, "--format", "json"]
    )
    body = json.loads(below.stdout)
    assert (body["flow"]["src_port"], body["verdict"], body["blocked_by"]["return_path"]) == (1000, "REJECT", True)
    ping = runner.invoke(
        app,
        [
            "explain",
            "203.0.113.12",
            "54.152.93.41",
            "8/0",
            "--protocol",
            "icmp",
            "--snapshot",
            str(FIXTURES / "icmp-nacl-reply" / "snapshot"),
            "--format",
            "json",
        ],
    )
    body = json.loads(ping.stdout)
    assert (body["flow"]["protocol"], body["flow"]["dst_port"], body["flow"]["icmp_code"]) == ("icmp", 8, 0)
    assert (body["blocked_by"]["direction"], body["blocked_by"]["return_path"]) == ("egress", True)


def test_python_dash_m_reach_runs_the_cli() -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "reach", "explain", "--help"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0
    for option in ("--snapshot", "--protocol", "--src-port", "--format"):
        assert option in done.stdout
