"""Each class of input that once fooled the reader (issues 11 and 15), with its smallest example.

The classes: a field that only some files carry, input that is not flow logs at all, byte-order marks and
CR line ends, values outside AWS's ranges, times on the seconds/milliseconds border, Parquet without flow-log
columns, lines too long to hold, and SQL that reaches past the table.
"""

from __future__ import annotations

import gzip
import json
import tracemalloc
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from flowlogs_support import ROOT, read
from typer.testing import CliRunner

from reach.cli import app
from reach.errors import FlowLogError
from reach.flowlogs import read_flow_logs, sources, spool, summarize
from reach.flowlogs.parse import TextParser
from reach.flowlogs.query import _sandbox
from reach.flowlogs.sources import MAX_LINE_BYTES, READ_CHUNK, gunzip
from reach.flowlogs.stats import FlowLogStats

Write = Callable[[str, "str | bytes"], Path]

HEADER = (
    "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"
)
R1 = "2 123456789010 eni-aaa 10.0.0.1 10.0.0.2 40000 443 6 10 840 1600000000 1600000060 ACCEPT OK"
R2 = "2 123456789010 eni-bbb 10.0.0.2 10.0.0.1 443 40000 6 8 620 1600000000 1600000060 REJECT OK"

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def query_json(*args: str) -> list[dict[str, Any]]:
    code, out, err = invoke("logs", "query", *args, "--format", "json", "--quiet")
    assert code == 0, err
    rows: list[dict[str, Any]] = json.loads(out)
    return rows


# ----- one table, whatever the files carry ----------------------------------------------------------


def test_a_newer_field_is_a_column_in_either_file_order(write: Write) -> None:
    with_field = write("with.log", f"{HEADER} encryption-status\n{R1} 1\n")
    without = write("without.log", f"{HEADER}\n{R2}\n")
    sql = "SELECT interface_id, encryption_status FROM vpc_flow_logs ORDER BY interface_id"
    expected = [
        {"interface_id": "eni-aaa", "encryption_status": "1"},
        {"interface_id": "eni-bbb", "encryption_status": None},
    ]
    assert query_json(str(with_field), str(without), "--sql", sql) == expected
    assert query_json(str(without), str(with_field), "--sql", sql) == expected


def test_a_field_first_seen_in_the_last_file_is_there_when_the_table_spills_to_disk(
    write: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(spool, "MEMORY_BUDGET", 0)  # every batch goes to Arrow files on disk
    first = write("a.log", f"{HEADER}\n{R1}\n")
    table = pa.table(
        {"interface_id": ["eni-ccc"], "srcaddr": ["10.0.0.3"], "dstaddr": ["10.0.0.1"], "resource_id": ["r-1"]}
    )
    last = write("b.log.parquet", b"")
    pq.write_table(table, last)
    sql = "SELECT interface_id, resource_id FROM vpc_flow_logs ORDER BY interface_id"
    assert query_json(str(first), str(last), "--sql", sql) == [
        {"interface_id": "eni-aaa", "resource_id": None},
        {"interface_id": "eni-ccc", "resource_id": "r-1"},
    ]


def test_a_self_join_sees_every_row_of_the_table() -> None:
    seed = str(ROOT / "tests/flowlogs/data/lambda-rds-3306.log")
    sql = "SELECT count(*) AS n FROM vpc_flow_logs a JOIN vpc_flow_logs b USING (interface_id)"
    # 11 records on 2 interfaces: 6 on the Lambda's (36 pairs) and 5 on the database's (25 pairs).
    assert query_json(seed, "--sql", sql) == [{"n": 61}]


# ----- input that is not flow logs ------------------------------------------------------------------


def test_a_readme_passed_as_flow_logs_is_an_error_naming_it_and_its_first_lines() -> None:
    code, out, err = invoke("logs", "summary", str(ROOT / "README.md"), "--quiet")
    assert code == 2 and out == "" and "Traceback" not in err
    assert "README.md: not flow logs: none of its" in err and "lines is a flow-log record" in err
    assert "README.md:1: 2 fields where the format has 14\n      # reach" in err


def test_a_snapshot_folder_passed_to_reconcile_is_an_error() -> None:
    snapshot = str(ROOT / "fixtures/lambda-rds-nacl/snapshot")
    code, _, err = invoke("reconcile", snapshot, "--snapshot", snapshot, "--format", "json", "--quiet")
    assert code == 2 and "snapshot: not flow logs" in err and "JSON that is not a flow-log envelope" in err


def test_a_readme_beside_good_flow_logs_is_still_named(write: Write) -> None:
    good = write("flows.log", f"{R1}\n")
    readme = write("notes.txt", "these are my flow logs\n")
    with pytest.raises(FlowLogError, match=r"notes.txt: not flow logs: none of its 1 line is"):
        read([good, readme])


def test_records_left_out_by_filters_are_not_an_error(write: Write) -> None:
    code, out, _ = invoke(
        "logs", "summary", str(write("f.log", f"{R1}\n")), "--interface", "eni-zzz", "--format", "json", "--quiet"
    )
    assert code == 0 and json.loads(out)["records"] == 0 and json.loads(out)["filtered"] == 1


def test_an_empty_file_or_a_header_alone_is_no_records_not_an_error(write: Write) -> None:
    assert read(write("empty.log", ""))[1].records == 0
    _, stats = read(write("header.log", HEADER + "\n"))
    assert (stats.records, stats.headers, stats.unparsable) == (0, 1, 0)


# ----- byte-order marks and line ends ---------------------------------------------------------------

BOM = "\ufeff"


def _both_paths(text: str, fmt: tuple[str, ...] | None = None) -> tuple[list[dict[str, Any]], FlowLogStats]:
    """The exact path's rows and stats on one block, checked against the fast path's when it takes the block."""
    block = pa.py_buffer(text.encode())
    fast = TextParser("f", fmt, FlowLogStats())._fast(block)
    exact = TextParser("f", fmt, FlowLogStats())
    tables = list(exact._exact(block))
    rows = pa.concat_tables(tables).to_pylist() if tables else []
    if fast is not None:  # the fast path takes only blocks it reads exactly as the exact path does
        assert fast.to_pylist() == rows and exact.stats.unparsable == 0
    return rows, exact.stats


@pytest.mark.parametrize("text", [f"{BOM}{R1}\n{R2}\n", f"{R1}\n{BOM}{R2}\n"], ids=["file-start", "mid-block"])
def test_a_byte_order_mark_at_a_line_start_is_ignored_by_both_paths(text: str) -> None:
    rows, stats = _both_paths(text)
    assert [r["interface_id"] for r in rows] == ["eni-aaa", "eni-bbb"] and stats.unparsable == 0


def test_a_byte_order_mark_before_text_fields_is_not_kept_in_them() -> None:
    fmt = ("interface-id", "action", "log-status")
    rows, _ = _both_paths(f"eni-aaa ACCEPT OK\n{BOM}eni-bbb REJECT OK\n", fmt)
    assert [r["interface_id"] for r in rows] == ["eni-aaa", "eni-bbb"]


def test_a_byte_order_mark_before_a_custom_header_does_not_hide_it(write: Write) -> None:
    # The custom order swaps the ports: read in the default format instead, they would be swapped back.
    text = f"{BOM}interface-id dstport srcport srcaddr dstaddr\neni-1 443 40000 10.0.0.1 10.0.0.2\n"
    (row,), stats = read(write("bom-header.log", text))
    assert (row["srcport"], row["dstport"], stats.headers) == (40000, 443, 1)


@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"], ids=["LF", "CRLF", "CR"])
@pytest.mark.parametrize("block", [40, 1 << 20], ids=["lines-straddle-blocks", "one-block"])
def test_lf_crlf_and_cr_line_ends_read_alike(
    end: str, block: int, write: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sources, "BLOCK_SIZE", block)
    lines = [HEADER, R1, "not a record", "", R2]
    for name, content in (
        ("f.log", end.join(lines) + end),
        ("f.log.gz", gzip.compress((end.join(lines) + end).encode())),
    ):
        rows, stats = read(write(name, content))
        assert [r["interface_id"] for r in rows] == ["eni-aaa", "eni-bbb"], name
        assert [(b.line, b.text) for b in stats.bad_lines] == [(3, "not a record")], name


def test_blank_and_double_spaced_lines_are_no_records_in_a_format_of_text_fields(write: Write) -> None:
    # Every field is text, so nothing fails to convert: an empty line must still not become a record.
    rows, stats = read(write("f.log", "interface-id action log-status\neni-a ACCEPT OK\n\n   \neni-b  REJECT OK\n"))
    assert [(r["interface_id"], r["action"]) for r in rows] == [("eni-a", "ACCEPT"), ("eni-b", "REJECT")]
    assert stats.unparsable == 0


def test_tabs_separate_fields_in_both_paths() -> None:
    rows, _ = _both_paths(R1.replace(" ", "\t", 3) + "\n" + R2 + "\n")
    assert [(r["interface_id"], r["dstport"]) for r in rows] == [("eni-aaa", 443), ("eni-bbb", 40000)]


# ----- values ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "old,new,reason",
    [
        (" 443 ", " 99999 ", "dstport 99999 is out of range (0-65535)"),
        (" 6 10 ", " 999 10 ", "protocol 999 is out of range (0-255)"),
        (" 10 840 ", " -10 840 ", "packets -10 is out of range (>= 0)"),
        (" 840 ", " -1 ", "bytes -1 is out of range (>= 0)"),
        ("ACCEPT", "MAYBE", "action 'MAYBE' is not one of ACCEPT, REJECT"),
        (" OK", " PARTIAL", "log-status 'PARTIAL' is not one of OK, NODATA, SKIPDATA"),
    ],
)
def test_values_outside_aws_ranges_are_unparsable_with_their_line(
    old: str, new: str, reason: str, write: Write
) -> None:
    path = write("f.log", f"{R2}\n{R1.replace(old, new, 1)}\n")
    rows, stats = read(path)
    assert len(rows) == 1 and [(b.line, b.reason) for b in stats.bad_lines] == [(2, reason)]
    summary = summarize(read_flow_logs([path], quiet=True))
    st = summary.stats
    assert st.records == summary.accept + summary.reject + st.nodata + st.skipdata + summary.no_action


def test_a_dash_beside_a_bad_value_in_the_same_batch_still_passes(write: Write) -> None:
    # A NODATA record's action is `-`; a MAYBE in the same batch must not take the NODATA record with it.
    nodata = "2 123456789010 eni-ccc - - - - - - - 1600000000 1600000060 - NODATA"
    rows, stats = read(write("f.log", f"{R1}\n{R2.replace('REJECT', 'MAYBE')}\n{nodata}\n"))
    assert [r["log_status"] for r in rows] == ["OK", "NODATA"] and stats.unparsable == 1


def test_newer_fields_are_held_to_their_documented_values(write: Write) -> None:
    header = "interface-id srcaddr dstaddr tcp-flags flow-direction"
    rows, stats = read(
        write(
            "f.log",
            f"{header}\neni-a 10.0.0.1 10.0.0.2 19 ingress\neni-a 10.0.0.1 10.0.0.2 256 egress\n"
            "eni-a 10.0.0.1 10.0.0.2 2 sideways\n",
        )
    )
    assert len(rows) == 1
    assert [b.reason for b in stats.bad_lines] == [
        "tcp-flags 256 is out of range (0-255)",
        "flow-direction 'sideways' is not one of ingress, egress",
    ]


def test_records_without_an_action_are_counted_apart(write: Write) -> None:
    path = write("tgw.log", "version resource-type srcaddr dstaddr log-status\n6 TransitGateway 10.0.0.1 10.0.0.2 OK\n")
    summary = summarize(read_flow_logs([path], quiet=True))
    assert (summary.stats.records, summary.accept, summary.reject, summary.no_action) == (1, 0, 0, 1)


@pytest.mark.parametrize(
    "start,end,expected",
    [
        ("2147483648", "2147483700", (2147483648, 2147483700)),  # 2038, in seconds: once misread as ms
        ("4102444800", "4102444800", (4102444800, 4102444800)),  # 2100-01-01, the last second
        ("1600000000000", "1600000060000", (1600000000, 1600000060)),  # milliseconds
    ],
)
def test_seconds_up_to_2100_milliseconds_above(start: str, end: str, expected: tuple[int, int], write: Write) -> None:
    (row,), _ = read(write("f.log", R1.replace("1600000000 1600000060", f"{start} {end}") + "\n"))
    assert (row["start"], row["end"]) == expected


def test_one_past_2100_in_seconds_is_milliseconds_of_1970(write: Write) -> None:
    _, stats = read(write("f.log", f"{R2}\n" + R1.replace("1600000000 1600000060", "4102444801 4102444801") + "\n"))
    assert stats.bad_lines[0].reason == "impossible time: start 4102444 is not between 2010 and 2100"


def test_a_parquet_file_without_flow_log_columns_is_an_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "sales.parquet"
    pq.write_table(pa.table({"customer": ["a"], "amount": [3]}), path)
    with pytest.raises(
        FlowLogError, match=r"sales.parquet: a Parquet file without flow-log columns \(it has customer, amount"
    ):
        read(path)


# ----- lines too long to hold -------------------------------------------------------------------------

LONG = MAX_LINE_BYTES + 1000


@pytest.mark.parametrize("block", [1 << 20, 64 << 20], ids=["line-straddles-blocks", "line-inside-a-block"])
@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
def test_a_line_over_the_limit_is_one_unparsable_line(
    block: int, gz: bool, write: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sources, "BLOCK_SIZE", block)
    text = f"{R1}\n{'x' * LONG}\r\n{R2}\n".encode()
    rows, stats = read(write("f.log.gz" if gz else "f.log", gzip.compress(text, 1) if gz else text))
    assert [r["interface_id"] for r in rows] == ["eni-aaa", "eni-bbb"]
    (bad,) = stats.bad_lines
    assert (bad.line, bad.reason) == (2, f"line longer than {MAX_LINE_BYTES:,} bytes ({LONG + 2:,} bytes)")
    assert bad.text == "x" * 200 + "…"


def test_a_line_at_the_limit_is_read(write: Write) -> None:
    # A record padded with an unknown field to exactly the limit is still a record.
    pad = MAX_LINE_BYTES - len(R1) - 1
    rows, stats = read(write("f.log", f"{HEADER} padding\n{R1} {'p' * pad}\n"))
    assert len(rows) == 1 and stats.unparsable == 0 and len(rows[0]["padding"]) == pad


def test_a_gigabyte_line_is_not_held_whole(tmp_path: Path) -> None:
    path = tmp_path / "bomb.log.gz"
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    with path.open("wb") as f:
        f.write(c.compress((R1 + "\n").encode()))
        for _ in range(64):
            f.write(c.compress(b"x" * (1 << 20)))  # a 64 MiB line, a few dozen KiB on disk
        f.write(c.compress(("\n" + R2 + "\n").encode()) + c.flush())
    tracemalloc.start()
    base = pa.total_allocated_bytes()
    rows, stats = read(path)
    _, python_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(rows) == 2 and stats.unparsable == 1 and stats.bad_lines[0].line == 2
    assert python_peak + pa.total_allocated_bytes() - base < 3 * MAX_LINE_BYTES + 8 * READ_CHUNK


def test_gzip_inflates_a_megabyte_at_a_time() -> None:
    data = gzip.compress(b"\0" * (20 * READ_CHUNK))
    sizes = [len(out) for out in gunzip("zeros.gz", [data])]
    assert sum(sizes) == 20 * READ_CHUNK and max(sizes) <= READ_CHUNK


# ----- SQL stays inside the table ---------------------------------------------------------------------

SEED = str(ROOT / "tests/flowlogs/data/lambda-rds-3306.log")


def test_sql_cannot_write_a_file(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    code, _, err = invoke("logs", "query", SEED, "--sql", f"COPY (SELECT * FROM vpc_flow_logs) TO '{target}'")
    assert code == 2 and "a COPY statement is not run" in err and not target.exists()
    code, _, err = invoke("logs", "query", SEED, "--sql", f"SELECT 1; COPY (SELECT 1) TO '{target}'")
    assert code == 2 and "one SELECT statement, not 2" in err and not target.exists()


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM read_text('/etc/passwd')",
        "SELECT * FROM read_csv('/etc/hostname')",
        "SELECT * FROM glob('/etc/*')",
        "SELECT * FROM vpc_flow_logs, read_parquet('/tmp/*.parquet')",
    ],
)
def test_sql_cannot_read_another_file(sql: str) -> None:
    code, out, err = invoke("logs", "query", SEED, "--sql", sql)
    assert code == 2 and out == "" and err.startswith("reach: --sql may only read the table vpc_flow_logs")


@pytest.mark.parametrize(
    "sql",
    [
        "SET enable_external_access = true",
        "ATTACH '/tmp/x.db'",
        "INSTALL httpfs",
        "LOAD httpfs",
        "PRAGMA enable_profiling",
    ],
)
def test_sql_cannot_change_the_sandbox(sql: str) -> None:
    code, _, err = invoke("logs", "query", SEED, "--sql", sql)
    assert code == 2 and "is not run" in err


def test_the_connection_itself_is_locked_even_past_the_statement_check(tmp_path: Path) -> None:
    # Defence in depth: the SELECT-only check aside, the connection can neither touch a file nor be unlocked.
    import duckdb

    con = duckdb.connect(config=_sandbox(tmp_path))
    with pytest.raises(duckdb.PermissionException):
        con.execute(f"COPY (SELECT 1) TO '{tmp_path / 'x.csv'}'")
    with pytest.raises(duckdb.InvalidInputException, match="locked"):
        con.execute("SET enable_external_access = true")
    assert not (tmp_path / "x.csv").exists()


# ----- what a terminal is shown ------------------------------------------------------------------------


def test_markup_and_escape_sequences_in_fields_are_printed_as_text(write: Write) -> None:
    path = write("f.log", "interface-id srcaddr dstaddr vpc-id\neni-[/x] 10.0.0.1 10.0.0.2 vpc-\x1b[2J\n")
    code, out, err = invoke("logs", "query", str(path), "--sql", "SELECT interface_id, vpc_id FROM vpc_flow_logs")
    assert code == 0, err
    assert "eni-[/x]" in out and "vpc-\\x1b[2J" in out and "\x1b" not in out
