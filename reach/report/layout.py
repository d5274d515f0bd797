"""Text that fits the terminal without breaking a token: an id, an address or a command is never split.

Rich wraps at spaces and folds only a word longer than the room it has. So a paragraph is wrapped by rich
when every word fits, and left to the terminal (one logical line, copyable whole) when one does not; a
table drops its optional columns, least useful first, until its narrowest layout fits, and is drawn wider
than the terminal only when even its essential columns cannot fit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.cells import cell_len
from rich.console import Console
from rich.measure import Measurement
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

Cell = str | Text


def paragraph(console: Console, text: Text | str, indent: int = 0) -> None:
    """Print `text` wrapped at spaces within the width, indented; never splitting a word."""
    text = Text(text) if isinstance(text, str) else text
    room = console.width - indent
    longest = max((cell_len(word) for word in text.plain.split()), default=0)
    if longest > room:
        console.print(Text(" " * indent) + text, soft_wrap=True)
    else:
        console.print(Padding(text, (0, 0, 0, indent), expand=False) if indent else text)


def one_line(console: Console, text: Text | str) -> None:
    """Print `text` as one line whatever the width (a command to copy): the terminal may wrap it for the
    eye, but no newline is ever put into it."""
    console.print(text, soft_wrap=True)


@dataclass(frozen=True)
class Column:
    header: str
    right: bool = False  # numbers
    drop: int = 0  # 0: always shown; otherwise dropped on a narrow terminal, the highest first


def print_table(console: Console, columns: Sequence[Column], rows: Sequence[Sequence[Cell]],
                title: Text | str | None = None) -> list[str]:
    """A table at the terminal's width: optional columns dropped (the highest `drop` first) until every
    column can be comfortably wide (its longest line, or `_COMFORT` columns, and never less than its longest
    word), then the room left shared out; no word is ever split. Returns the headers of the columns left
    out, for the caller to say so."""
    shown = list(range(len(columns)))
    sizes = {i: _measure(console, [columns[i].header, *(row[i] for row in rows)]) for i in shown}

    def needed(which: list[int]) -> int:
        return sum(sizes[i][0] for i in which) + _GAP * (len(which) - 1)

    def comfortable(which: list[int]) -> int:
        return sum(min(sizes[i][1], max(sizes[i][0], _COMFORT)) for i in which) + _GAP * (len(which) - 1)

    while comfortable(shown) > console.width:
        optional = [i for i in shown if columns[i].drop]
        if not optional:
            break
        shown.remove(max(optional, key=lambda i: (columns[i].drop, i)))
    widths = _share([sizes[i] for i in shown], max(console.width, needed(shown)) - _GAP * (len(shown) - 1))
    table = Table(box=None, header_style="bold", pad_edge=False, show_edge=False, padding=(0, _GAP // 2))
    for i, width in zip(shown, widths, strict=True):
        table.add_column(columns[i].header, justify="right" if columns[i].right else "left", width=width,
                         overflow="fold")
    for row in rows:
        table.add_row(*(row[i] for i in shown))
    if title is not None:
        console.print(Text(title, style="bold") if isinstance(title, str) else title)
    total = sum(widths) + _GAP * (len(widths) - 1)
    if total <= console.width:
        console.print(table)
    else:  # even the essential columns do not fit: draw at their width and let the terminal wrap the lines
        width = console.width
        console.width = total
        try:
            console.print(table)
        finally:
            console.width = width
    return [columns[i].header for i in range(len(columns)) if i not in shown]


_GAP = 2  # spaces between two columns
_COMFORT = 20  # a column wrapped narrower than this (unless its longest word is) reads badly


def _measure(console: Console, cells: Sequence[Cell]) -> tuple[int, int]:
    """(the longest word, the longest line) over a column's cells."""
    unbounded = console.options.update_width(1 << 16)  # measured as they are, not as the terminal would cut them
    measured = [Measurement.get(console, unbounded, Text(c) if isinstance(c, str) else c) for c in cells]
    return max(m.minimum for m in measured), max(m.maximum for m in measured)


def _share(sizes: Sequence[tuple[int, int]], room: int) -> list[int]:
    """Column widths within `room`: each at least its longest word, the rest shared in proportion to what
    each still lacks to hold its longest line."""
    widths = [low for low, _ in sizes]
    spare = room - sum(widths)
    wants = [high - low for low, high in sizes]
    while spare > 0 and any(wants):
        total = sum(wants)
        given = [min(want, max(1 if want else 0, spare * want // total)) for want in wants]
        while sum(given) > spare:  # the ones of the rounding up
            given[given.index(max(given))] -= 1
        widths = [w + g for w, g in zip(widths, given, strict=True)]
        wants = [want - g for want, g in zip(wants, given, strict=True)]
        spare -= sum(given)
    return widths


def left_out(console: Console, headers: list[str], where: str = "--format json") -> None:
    if headers:
        console.print(Text(f"(left out to fit {console.width} columns: {', '.join(headers)}; {where} has them)",
                           style="dim"))


SPARKS = " ▁▂▃▄▅▆▇█"


def sparkline(counts: Sequence[int], peak: int, blocks: str = SPARKS) -> str:
    """One character per count, its height proportional to `peak`; a blank for none, the lowest bar for
    any count above none, so a single record still shows."""
    top = len(blocks) - 1
    return "".join(blocks[0] if not n else blocks[max(1, min(top, round(n * top / peak)))] for n in counts)
