"""`reach logs summary` and `reach logs query` through typer's CliRunner on reach.cli.app."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from flowlogs_support import AWSDOCS, DATA
from typer.testing import CliRunner

from reach.cli import app

runner = CliRunner()
SEED = str(DATA / "lambda-rds-3306.log")

# Seed 002's Athena query, verbatim.
ATHENA = """SELECT srcaddr, dstaddr, dstport, action, COUNT(*) as flow_count
FROM vpc_flow_logs
WHERE action = 'REJECT' AND dstport = 3306
GROUP BY srcaddr, dstaddr, dstport, action
ORDER BY flow_count DESC;"""


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_summary_json_on_the_aws_examples() -> None:
    code, out, _ = invoke("logs", "summary", str(AWSDOCS), "--format", "json", "--quiet")
    assert code == 0
    s = json.loads(out)
    assert {k: s[k] for k in ("records", "accept", "reject", "nodata", "skipdata", "unparsable", "interfaces")} == {
        "records": 25,
        "accept": 17,
        "reject": 2,
        "nodata": 1,
        "skipdata": 1,
        "unparsable": 2,
        "interfaces": 5,
    }
    assert (s["start"], s["end"], s["time_span"]) == (1418530010, 1616729349, 1616729349 - 1418530010)
    assert s["top_talkers"][0] == {
        "srcaddr": "52.213.180.42",
        "dstaddr": "10.0.0.62",
        "records": 4,
        "packets": 15869,
        "bytes": 23397117,
    }
    assert s["top_rejected_ports"] == [
        {"dstport": 0, "protocol": 1, "records": 1},
        {"dstport": 3389, "protocol": 6, "records": 1},
    ]
    assert [(Path(b["source"]).name, b["line"]) for b in s["bad_lines"]] == [
        ("flow-log-example-nat.log", 6),
        ("flow-log-example-nat.log", 7),
    ]


def test_summary_text_shows_bad_lines_with_file_and_line() -> None:
    code, out, _ = invoke("logs", "summary", str(AWSDOCS / "flow-log-example-nat.log"))
    assert code == 0
    assert "Unparsable lines (first 2 of 2)" in out and "#Traffic from the source instance" in out
    assert "flow-log-example-nat.log:6: 16 fields where the format has 6" in out
    assert "flow-log-example-nat.log:7: 17 fields where the format has 6" in out


def test_seed_002_athena_query_runs_unchanged() -> None:
    code, out, _ = invoke("logs", "query", SEED, "--sql", ATHENA, "--format", "json")
    assert code == 0
    assert json.loads(out) == [
        {
            "srcaddr": "10.0.1.100",
            "dstaddr": "10.0.2.50",
            "dstport": 3306,
            "action": "REJECT",
            "flow_count": 3,
        }
    ]


def test_logs_insights_shorthands() -> None:
    # filter action = "REJECT" | stats count() as rejection_count by dstport | sort rejection_count desc
    code, out, _ = invoke("logs", "query", SEED, "--action", "REJECT", "--top", "dstport", "--format", "json")
    assert code == 0
    assert [(r["dstport"], r["records"]) for r in json.loads(out)] == [(3306, 3), (22, 1)]
    # filter srcaddr = "10.0.1.100" and action = "REJECT"
    code, out, _ = invoke("logs", "query", SEED, "--src", "10.0.1.100", "--action", "REJECT", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and len(rows) == 3 and {r["dstaddr"] for r in rows} == {"10.0.2.50"}
    # the conversation between two hosts, both ways
    code, out, _ = invoke(
        "logs", "query", SEED, "--src", "10.0.1.100", "--dst", "52.94.4.10", "--both-ways", "--format", "json"
    )
    assert [(r["srcaddr"], r["dstaddr"]) for r in json.loads(out)] == [
        ("10.0.1.100", "52.94.4.10"),
        ("52.94.4.10", "10.0.1.100"),
    ]
    # filter dstport = 443 | stats count() as flow_count by action
    code, out, _ = invoke("logs", "query", SEED, "--port", "443", "--top", "action", "--format", "json")
    assert json.loads(out) == [{"action": "ACCEPT", "records": 1, "packets": 12, "bytes": 5210}]


def test_between_filters_records() -> None:
    code, out, _ = invoke(
        "logs",
        "query",
        SEED,
        "--between",
        "2021-09-30T18:00:00Z",
        "1633024870",
        "--top",
        "action",
        "--format",
        "json",
    )
    assert code == 0
    assert {r["action"]: r["records"] for r in json.loads(out)} == {"ACCEPT": 4, "REJECT": 3}


def test_query_text_output_and_reserved_end() -> None:
    code, out, _ = invoke(
        "logs", "query", SEED, "--sql", 'SELECT max(`end`) AS last, min("start") AS first FROM vpc_flow_logs'
    )
    assert code == 0 and "1633025040" in out and "1633024800" in out


def test_bad_input_exits_2_with_a_message(tmp_path: Path) -> None:
    code, _, err = invoke("logs", "summary", str(tmp_path / "missing.log"))
    assert code == 2 and err.startswith("reach: ") and "missing.log: no such file or directory" in err
    broken = tmp_path / "broken.log.gz"
    broken.write_bytes(b"\x1f\x8b\x08\x00 not deflate at all")
    code, _, err = invoke("logs", "summary", str(broken))
    assert code == 2 and "broken.log.gz: not a readable gzip file" in err and "Traceback" not in err
    code, _, err = invoke("logs", "query", SEED, "--sql", "SELECT nope FROM vpc_flow_logs")
    assert code == 2 and err.startswith("reach: SQL error:") and "nope" in err
    code, _, err = invoke("logs", "query", SEED, "--sql", "SELECT 1", "--action", "REJECT")
    assert code == 2 and "either --sql or filters" in err
    code, _, err = invoke("logs", "query", SEED, "--src", "not-an-ip")
    assert code == 2 and "'not-an-ip' is not an IP address" in err
    code, _, err = invoke("logs", "summary", SEED, "--format", "yaml")
    assert code == 2 and "--format" in err
    code, _, err = invoke("logs", "query", SEED, "--log-format", "${srcaddr} ${srcaddr}")
    assert code == 2 and "twice" in err


def test_query_sees_unknown_fields_as_string_columns(tmp_path: Path) -> None:
    path = tmp_path / "v10.log"
    path.write_text(
        "version interface-id srcaddr dstaddr action encryption-status\n"
        "10 eni-a 10.0.0.1 10.0.0.2 ACCEPT 1\n"
        "10 eni-a 10.0.0.1 10.0.0.3 ACCEPT 0\n"
        "10 eni-b 10.0.0.2 10.0.0.1 REJECT -\n"
    )
    sql = "SELECT encryption_status, count(*) AS n FROM vpc_flow_logs GROUP BY ALL ORDER BY ALL"
    code, out, _ = invoke("logs", "query", str(path), "--sql", sql, "--format", "json")
    assert code == 0
    assert json.loads(out) == [
        {"encryption_status": "0", "n": 1},
        {"encryption_status": "1", "n": 1},
        {"encryption_status": None, "n": 1},
    ]


def test_the_readme_union_example_counts_what_it_shows() -> None:
    sql = (
        "SELECT encryption_status, dstport, count(*) AS records FROM vpc_flow_logs "
        "WHERE log_status = 'OK' AND interface_id = 'eni-0a1b2c3d4e5f60001' GROUP BY ALL ORDER BY ALL"
    )
    newer = str(DATA / "lambda-rds-3306-encryption.log")
    for files in ((SEED, newer), (newer, SEED)):
        code, out, _ = invoke("logs", "query", *files, "--sql", sql, "--format", "json", "--quiet")
        assert code == 0
        assert [(r["encryption_status"], r["dstport"], r["records"]) for r in json.loads(out)] == [
            ("0", 3306, 1),
            ("1", 443, 1),
            (None, 443, 1),
            (None, 3306, 3),
            (None, 40112, 1),
        ]
