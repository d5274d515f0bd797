"""Good flow-log files, mutated: no input makes the reader crash, miscount or disagree with itself.

Each example takes a real file (the repository's fixtures and AWS's documented examples), applies a few
mutations (byte flips, truncation, byte-order marks, CR and CRLF line ends, NUL and other hostile bytes, huge
tokens, swapped fields, dropped and repeated fields, repeated lines), and delivers it plain, gzipped or as a
corrupted gzip. The reader's limits are shrunk (line length, block and chunk sizes) so that the rare paths
(a line longer than the limit, a line across two blocks, a CR at the end of a chunk) are the common ones.

Properties:
- through the CLI, the exit code is 0 or 2 and nothing raises; on 2, the message names the file;
- records + unparsable = the non-blank, non-header lines, counted here line by line;
- the summary's buckets add up, its samples are bounded and their line numbers exist;
- the fast path never changes an answer: a read with Arrow's CSV reader turned off gives the same rows and
  counts;
- text output holds no control character from the input.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from unittest import mock

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from reach.cli import app
from reach.errors import FlowLogError
from reach.flowlogs import parse, read_flow_logs, sources
from reach.flowlogs.fields import header_fields
from tests.fuzz.harness import fuzz_settings
from tests.fuzz.mutations import MUTATIONS, Draw, flip, truncate

ROOT = Path(__file__).resolve().parents[2]
SEED_FILES = [
    ROOT / "tests/flowlogs/data/lambda-rds-3306.log",
    ROOT / "fixtures/reconcile-mixed-formats/flowlogs/s3-custom-v5.log",
    ROOT / "fixtures/whatif-nacl-renumber/flow-logs/orders-vpc.log",
    *sorted((ROOT / "fixtures/external/awsdocs/records").glob("*.log")),
]
# The first lines of each: enough for every shape of line, small enough for hundreds of examples.
SEEDS = {p.name: b"".join(p.read_bytes().splitlines(keepends=True)[:12]) for p in SEED_FILES}

runner = CliRunner()


@st.composite
def flow_log_files(draw: Draw) -> tuple[str, bytes | None, bytes]:
    """(seed name, the text, the bytes of the file): plain, gzip, or a gzip with a byte flipped or cut short.

    The text is None for a broken gzip: what it still holds, if anything, is not the text it was made from.
    """
    name = draw(st.sampled_from(sorted(SEEDS)))
    text = SEEDS[name]
    for mutate in draw(st.lists(st.sampled_from(MUTATIONS), max_size=5)):
        text = mutate(draw, text)
    container = draw(st.sampled_from(["plain", "plain", "gzip", "broken-gzip"]))
    if container == "plain":
        return name, text, text
    packed = gzip.compress(text, 1)
    if container == "broken-gzip":
        return name, None, draw(st.sampled_from([flip, truncate]))(draw, packed)
    return name, text, packed


limits = st.fixed_dictionaries(
    {
        "MAX_LINE_BYTES": st.integers(64, 400),
        "BLOCK_SIZE": st.integers(16, 2048),
        "READ_CHUNK": st.integers(8, 1024),
    }
)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz-flowlogs")


# ----- the obvious count --------------------------------------------------------------------------


def lines_to_count(text: bytes, max_line: int) -> tuple[int, int]:
    """(non-blank, non-header lines; all lines), line by line: what records + unparsable must add up to."""
    counted = total = 0
    for raw in re.split(rb"\r\n|\r|\n", text):
        total += 1
        if len(raw) > max_line:
            counted += 1  # too long to read: unparsable, whatever it holds
            continue
        line = raw.decode("utf-8", "replace").lstrip("\ufeff").strip(" \t")
        if not line:
            continue
        if header_fields(re.split(r"[ \t]+", line)) is None:
            counted += 1
    return counted, total


def _limited(limit: dict[str, int]) -> ExitStack:
    stack = ExitStack()
    for name, value in limit.items():
        stack.enter_context(mock.patch.object(sources, name, value))
    return stack


def _read(path: Path, *, exact_only: bool) -> tuple[list[dict[str, Any]], Any] | str:
    """Rows and stats, or the message of the FlowLogError raised."""
    with ExitStack() as stack:
        if exact_only:
            stack.enter_context(mock.patch.object(parse, "_read_csv", lambda block, fmt: None))
        try:
            stream = read_flow_logs([path], quiet=True)
            rows = [row for batch in stream for row in pa.Table.from_batches([batch]).to_pylist()]
        except FlowLogError as exc:
            return str(exc)
        return rows, stream.stats


def _invoke(*args: str) -> Any:
    result = runner.invoke(app, list(args))
    assert result.exit_code in (0, 2), (result.exit_code, result.stderr, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.stderr
    return result


_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")


# ----- properties ---------------------------------------------------------------------------------


@fuzz_settings
@given(case=flow_log_files(), limit=limits)
def test_mutated_flow_logs_exit_0_or_2_and_every_line_is_counted(
    case: tuple[str, bytes | None, bytes], limit: dict[str, int], folder: Path
) -> None:
    name, text, data = case
    path = folder / "flows.log"
    path.write_bytes(data)
    with _limited(limit):
        result = _invoke("logs", "summary", str(path), "--format", "json", "--quiet")
        if result.exit_code == 2:
            assert result.stderr.startswith("reach: ") and str(path) in result.stderr
            return
        s = json.loads(result.stdout)
        counted, total = lines_to_count(text, limit["MAX_LINE_BYTES"]) if text is not None else (None, 1 << 30)
        if counted is not None:
            assert s["records"] + s["unparsable"] == counted, name
        assert s["records"] == s["accept"] + s["reject"] + s["nodata"] + s["skipdata"] + s["no_action"]
        assert len(s["bad_lines"]) == min(10, s["unparsable"])
        for bad in s["bad_lines"]:
            assert 1 <= bad["line"] <= total and len(bad["text"]) <= 201 and len(bad["reason"]) <= 201
        for args in (
            ("logs", "summary", str(path)),
            ("logs", "query", str(path), "--sql", "SELECT * FROM vpc_flow_logs"),
        ):
            shown = _invoke(*args, "--quiet").stdout
            assert not _CONTROL.search(shown), _CONTROL.search(shown)


@fuzz_settings
@given(case=flow_log_files(), limit=limits)
def test_the_fast_path_never_changes_an_answer(
    case: tuple[str, bytes | None, bytes], limit: dict[str, int], folder: Path
) -> None:
    _, _, data = case
    path = folder / "paths.log"
    path.write_bytes(data)
    with _limited(limit):
        both = _read(path, exact_only=False)
        exact = _read(path, exact_only=True)
    if isinstance(both, str) or isinstance(exact, str):
        assert both == exact
        return
    (rows, stats), (exact_rows, exact_stats) = both, exact
    assert rows == exact_rows
    assert (stats.records, stats.unparsable, stats.headers) == (
        exact_stats.records,
        exact_stats.unparsable,
        exact_stats.headers,
    )
    assert stats.bad_lines == exact_stats.bad_lines


def test_the_seeds_are_read_whole() -> None:
    # The mutations start from good files: unmutated, each is all records (the docs' NAT example aside, whose
    # two comment lines AWS never writes).
    for name, text in SEEDS.items():
        counted, _ = lines_to_count(text, sources.MAX_LINE_BYTES)
        stats = _seed_stats(name, text)
        assert stats.records + stats.unparsable == counted, name
        assert stats.unparsable == (2 if name == "flow-log-example-nat.log" else 0), name


def _seed_stats(name: str, text: bytes) -> Any:
    def blocks() -> Iterator[pa.Buffer]:
        yield pa.py_buffer(text)

    parser = parse.TextParser(name, None, stats := _fresh_stats())
    for table in parser.parse(blocks()):
        stats.records += table.num_rows
    return stats


def _fresh_stats() -> Any:
    from reach.flowlogs.stats import FlowLogStats

    return FlowLogStats()
