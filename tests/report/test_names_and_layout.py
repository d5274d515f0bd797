"""The pieces the text renderers share: the snapshot's names, tables that keep words whole, the sparkline."""

from __future__ import annotations

import io

from rich.text import Text

from reach.api import Snapshot
from reach.report.console import SafeConsole
from reach.report.layout import Column, print_table, sparkline
from reach.report.names import Names
from tests.conftest import FIXTURES


def test_names_come_from_the_snapshots_tags_and_group_names() -> None:
    names = Names.of(Snapshot.load(FIXTURES / "lambda-rds-nacl" / "snapshot").network)
    assert names.label("acl-0a888ff01d6002462") == "orders-db-acl (acl-0a888ff01d6002462)"
    assert names.label("sg-090ebaa4fc798dbb3") == "rds-sg (sg-090ebaa4fc798dbb3)"
    assert names.label("eni-0nothing") == "eni-0nothing"
    assert (names.endpoint("eni-07079bc4987533224"), names.endpoint("eni-06eda9f3bd974dd1b")) == ("lambda eni",
                                                                                                  "rds eni")


def test_tagging_names_each_id_once() -> None:
    names = Names({"sg-0f079d9271ed40a5f": "lambda-sg", "acl-0a888ff01d6002462": "orders-db-acl"})
    text = "from members of sg-0f079d9271ed40a5f (lambda-sg); acl-0a888ff01d6002462 rule #100; sg-0ffffffffff"
    assert names.tag(text) == ("from members of sg-0f079d9271ed40a5f (lambda-sg); acl-0a888ff01d6002462 "
                               "(orders-db-acl) rule #100; sg-0ffffffffff")


def _table(width: int, columns: list[Column], rows: list[list[str | Text]]) -> tuple[list[str], list[str]]:
    out = io.StringIO()
    console = SafeConsole(out, width=width)
    dropped = print_table(console, columns, rows, title="t")
    return out.getvalue().splitlines(), dropped


def test_a_table_drops_its_optional_columns_before_it_splits_a_word() -> None:
    ids = ["eni-0a8f44391eae18254", "sg-04915b9bbbde6f140 (web-sg) ingress"]
    columns = [Column("interface"), Column("responsible"), Column("first seen", drop=2), Column("last seen", drop=1)]
    rows: list[list[str | Text]] = [[ids[0], ids[1], "2024-06-20 08:00", "2024-06-20 08:58"]]
    wide, none = _table(120, columns, rows)
    narrow, dropped = _table(50, columns, rows)
    assert none == [] and "2024-06-20 08:58" in wide[2]
    assert dropped == ["first seen", "last seen"]
    assert all(len(line) <= 50 for line in narrow)
    assert "eni-0a8f44391eae18254" in narrow[2] and "sg-04915b9bbbde6f140" in "".join(narrow)


def test_a_table_too_wide_even_when_narrowed_is_drawn_whole_and_left_to_the_terminal() -> None:
    columns = [Column("a"), Column("b")]
    lines, dropped = _table(30, columns, [["arn:aws:iam::123456789012:role/a-long-role-name", "eni-0a8f44391eae18254"]])
    assert dropped == [] and "arn:aws:iam::123456789012:role/a-long-role-name  eni-0a8f44391eae18254" in lines


def test_the_sparkline_shows_any_record_and_scales_to_the_peak() -> None:
    assert sparkline([0, 1, 4, 8], 8) == " ▁▄█"
    assert sparkline([0, 1, 1000], 1000) == " ▁█"  # one record among a thousand still shows
