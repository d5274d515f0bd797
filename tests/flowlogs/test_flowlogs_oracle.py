"""The fast path and the exact path against a slow, obvious oracle (one line at a time, `str.split`, `int`,
`ipaddress`), on generated text cut into small blocks so that lines straddle block boundaries."""

from __future__ import annotations

import ipaddress
import re
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from flowlogs_support import read
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reach.errors import FlowLogError
from reach.flowlogs import sources
from reach.flowlogs.fields import DEFAULT_LOG_FORMAT, column_name, field_type, header_fields
from reach.flowlogs.parse import TextParser
from reach.flowlogs.stats import FlowLogStats

INTS = {n for n in DEFAULT_LOG_FORMAT if field_type(n) != pa.string()}
ADDRESSES = {"srcaddr", "dstaddr"}
# AWS's documented ranges and values (aws-semantics.md C.4), written out again here as the oracle's own.
RANGES = {"srcport": (0, 65535), "dstport": (0, 65535), "protocol": (0, 255), "packets": (0, None), "bytes": (0, None)}
CHOICES = {"action": ("ACCEPT", "REJECT"), "log-status": ("OK", "NODATA", "SKIPDATA")}
HEADER = " ".join(DEFAULT_LOG_FORMAT)
SHORT_HEADER = "interface-id srcaddr dstaddr action"


def oracle(text: str) -> tuple[list[dict[str, Any]], int]:
    """Rows (as typed dicts, absent fields left out) and the unparsable count, the obvious way."""
    fmt: tuple[str, ...] = DEFAULT_LOG_FORMAT
    rows, bad = [], 0
    for line in re.split(r"\r\n|\r|\n", text):
        line = line.lstrip("\ufeff").strip(" \t")
        tokens = re.split(r"[ \t]+", line) if line else []
        if not tokens:
            continue
        header = header_fields(tokens)
        if header is not None:
            fmt = header
            continue
        if len(tokens) != len(fmt):
            bad += 1
            continue
        row: dict[str, Any] = {}
        ok = True
        for name, token in zip(fmt, tokens, strict=True):
            value: Any = None if token == "-" else token
            if value is not None and name in INTS:
                limit = 2**31 if field_type(name) == pa.int32() else 2**63
                if not re.fullmatch(r"-?[0-9]{1,18}", value) or not -limit <= int(value) < limit:
                    ok = False
                    break
                value = int(value)
                if name in ("start", "end") and value > 4102444800:  # above 2100 in seconds: milliseconds
                    value //= 1000
                low, high = RANGES.get(name, (None, None))
                if (low is not None and value < low) or (high is not None and value > high):
                    ok = False
                    break
            if value is not None and name in CHOICES and value not in CHOICES[name]:
                ok = False
                break
            if value is not None and name in ADDRESSES:
                try:
                    ipaddress.ip_address(value)
                except ValueError:
                    ok = False
            row[column_name(name)] = value
        start, end = row.get("start"), row.get("end")
        for t in (start, end):
            if t is not None and not 1262304000 <= t <= 4102444800:
                ok = False
        if start is not None and end is not None and start > end:
            ok = False
        if ok:
            rows.append(row)
        else:
            bad += 1
    return rows, bad


good_int = st.integers(0, 65535).map(str)
token = {
    "version": st.sampled_from(["2", "-"]),
    "account-id": st.sampled_from(["123456789010", "000000000000", "unknown", "-"]),
    "interface-id": st.sampled_from(["eni-0a", "eni-0b", "-"]),
    "srcaddr": st.sampled_from(["10.0.0.1", "2001:db8::1", "-", "10.0.0.256", "x"]),
    "dstaddr": st.sampled_from(["10.0.1.7", "::", "-"]),
    "srcport": st.one_of(good_int, st.just("-"), st.just("http")),
    "dstport": st.one_of(good_int, st.just("-"), st.just("99999")),
    "protocol": st.sampled_from(["6", "17", "1", "8080", "-"]),
    "packets": st.sampled_from(["1", "20", "-", "-3"]),
    "bytes": st.sampled_from(["40", "4249", "99999999999999999999", "-"]),
    "start": st.sampled_from(["1600000000", "1600000000000", "164000066", "2147483648", "-"]),
    "end": st.sampled_from(["1600000060", "1600000060000", "-"]),
    "action": st.sampled_from(["ACCEPT", "REJECT", "-", "MAYBE"]),
    "log-status": st.sampled_from(["OK", "NODATA", "SKIPDATA", "PARTIAL"]),
}
record = st.tuples(*(token[n] for n in DEFAULT_LOG_FORMAT)).map(" ".join)
line = st.one_of(
    record,
    record,
    record,
    record.map(lambda r: r.replace(" ", "  ", 1)),
    record.map(lambda r: r.rsplit(" ", 1)[0]),
    st.just(""),
    st.just(HEADER),
    st.just(SHORT_HEADER),
    st.just("eni-0c 10.0.0.1 10.0.0.2 ACCEPT"),
    st.just('{"message":"2 123456789010 eni-0d - - - - - - - 1600000000 1600000060 - NODATA"}'),
)


def _rows(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if v is not None} for r in records]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(line, max_size=40), block=st.integers(20, 400), newline=st.booleans())
def test_reader_agrees_with_the_oracle(
    lines: list[str], block: int, newline: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sources, "BLOCK_SIZE", block)
    text = "\n".join(lines) + ("\n" if newline else "")
    path = tmp_path / "f.log"
    path.write_text(text)
    expected, bad = oracle(text.replace('{"message":"', "").replace('"}', ""))
    if bad and not expected:  # lines, but not one record: not flow logs
        with pytest.raises(FlowLogError, match=f"none of its {bad} lines? is a flow-log record"):
            read(path)
        return
    rows, stats = read(path)
    assert _rows(rows) == _rows(expected)
    assert stats.unparsable == bad


@settings(max_examples=40, deadline=None)
@given(lines=st.lists(record, min_size=1, max_size=50))
def test_fast_path_equals_exact_path_when_it_accepts(lines: list[str]) -> None:
    block = pa.py_buffer(("\n".join(lines) + "\n").encode())
    fast = TextParser("f", None, FlowLogStats())._fast(block)
    exact_parser = TextParser("f", None, FlowLogStats())
    exact = list(exact_parser._exact(block))
    if fast is None:  # something odd in the block: only the exact path decides it
        return
    assert exact_parser.stats.unparsable == 0
    assert fast.to_pylist() == pa.concat_tables(exact).to_pylist()


def test_line_numbers_across_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources, "BLOCK_SIZE", 64)
    good = "2 123456789010 eni-0a 10.0.0.1 10.0.1.7 1 2 6 1 40 1600000000 1600000060 ACCEPT OK"
    lines = [HEADER] + [good] * 30 + ["bad line"] + [good] * 30 + ["", "another bad line"]
    path = tmp_path / "f.log"
    path.write_text("\n".join(lines))
    rows, stats = read(path)
    assert len(rows) == 60
    assert [(b.line, b.text) for b in stats.bad_lines] == [(32, "bad line"), (64, "another bad line")]


def _generate(path: Path, n: int) -> None:
    rng = np.random.default_rng(7)
    ports = rng.integers(1024, 65535, n)
    with path.open("w") as f:
        f.write(HEADER + "\n")
        f.writelines(
            f"2 123456789010 eni-0{i % 7} 10.0.{i % 250}.1 10.1.0.{i % 200} {p} 443 6 3 180 "
            "1600000000 1600000060 ACCEPT OK\n"
            for i, p in enumerate(ports.tolist())
        )


def test_memory_does_not_grow_with_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources, "BLOCK_SIZE", 1 << 20)
    peaks = []
    for n in (40_000, 160_000):
        path = tmp_path / f"{n}.log"
        _generate(path, n)
        base = pa.total_allocated_bytes()
        peak = 0
        tracemalloc.start()
        rows = 0
        for batch in read_stream(path):
            rows += batch.num_rows
            peak = max(peak, pa.total_allocated_bytes() - base)
            del batch
        _, py_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert rows == n
        peaks.append(peak + py_peak)
    # Four times the records, about the same memory (a few blocks), not four times as much.
    assert peaks[1] < 2 * peaks[0], peaks


def read_stream(path: Path) -> Any:
    from reach.flowlogs import read_flow_logs

    return read_flow_logs([path], quiet=True)
