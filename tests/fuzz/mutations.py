"""Byte-level mutations of flow-log files, shared by the flow-log and CLI fuzz tests.

Each mutation takes Hypothesis's `draw` and the bytes of a file and returns new bytes: flipped, inserted,
deleted and truncated bytes, other line ends, huge tokens, repeated lines, and edits of one line's fields
(swapped, dropped, repeated, replaced by a hostile token).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

# Tokens that once broke a reader, or might: out-of-range values, markup and escape sequences, byte-order
# marks, odd whitespace and line ends, invalid UTF-8, digits that are not ASCII.
HOSTILE = [
    b"99999",
    b"-1",
    b"999",
    b"MAYBE",
    b"PARTIAL",
    b"2147483648",
    b"4102444801",
    b"1600000000000",
    b"-",
    b"None",
    b"0x10",
    b"+5",
    b"00000000000000000000443",
    b"[/x]",
    b"[bold red blink]",
    b"\x1b[2J",
    b"\x1b]0;title\x07",
    b"\xef\xbb\xbf",
    b"{",
    b'{"message":"x"}',
    b"\x00",
    b"\t",
    b"\x0b",
    b"\r",
    b"\r\n",
    b"\n",
    b"\xff\xfe",
    "б".encode(),
    "\u00a0".encode(),
    "٣".encode(),
    b"version account-id interface-id",
    b"  ",
    b"10.0.0.999",
    b"2001:db8::1",
    b"eni-",
    b"ACCEPT",
    b"NODATA",
]
Draw = Callable[[st.SearchStrategy[Any]], Any]



def flip(draw: Draw, data: bytes) -> bytes:
    if not data:
        return data
    at = draw(st.integers(0, len(data) - 1))
    return data[:at] + bytes([draw(st.integers(0, 255))]) + data[at + 1 :]


def _insert(draw: Draw, data: bytes) -> bytes:
    at = draw(st.integers(0, len(data)))
    token = draw(st.one_of(st.sampled_from(HOSTILE), st.binary(min_size=1, max_size=6)))
    return data[:at] + token + data[at:]


def _delete(draw: Draw, data: bytes) -> bytes:
    at = draw(st.integers(0, len(data)))
    return data[:at] + data[at + draw(st.integers(1, 40)) :]


def truncate(draw: Draw, data: bytes) -> bytes:
    return data[: draw(st.integers(0, len(data)))]


def _line_ends(draw: Draw, data: bytes) -> bytes:
    return data.replace(b"\n", draw(st.sampled_from([b"\r", b"\r\n", b"\n\r", b"\r\r\n"])))


def _huge_token(draw: Draw, data: bytes) -> bytes:
    at = draw(st.integers(0, len(data)))
    size = draw(st.sampled_from([100, 250, 299, 300, 301, 302, 600, 5000, 70_000]))  # around the shrunk limit
    return data[:at] + draw(st.sampled_from([b"x", b" ", b"-", b"7"])) * size + data[at:]


def _on_a_line(edit: Callable[[Draw, list[bytes]], list[bytes]]) -> Callable[[Draw, bytes], bytes]:
    """A mutation of the fields of one line."""

    def mutate(draw: Draw, data: bytes) -> bytes:
        lines = data.split(b"\n")
        k = draw(st.integers(0, len(lines) - 1))
        fields = lines[k].split(b" ")
        lines[k] = b" ".join(edit(draw, fields))
        return b"\n".join(lines)

    return mutate


def _swap(draw: Draw, fields: list[bytes]) -> list[bytes]:
    i, j = draw(st.integers(0, len(fields) - 1)), draw(st.integers(0, len(fields) - 1))
    fields[i], fields[j] = fields[j], fields[i]
    return fields


def _drop(draw: Draw, fields: list[bytes]) -> list[bytes]:
    del fields[draw(st.integers(0, len(fields) - 1))]
    return fields


def _repeat(draw: Draw, fields: list[bytes]) -> list[bytes]:
    i = draw(st.integers(0, len(fields) - 1))
    return fields[: i + 1] + fields[i:]


def _replace(draw: Draw, fields: list[bytes]) -> list[bytes]:
    fields[draw(st.integers(0, len(fields) - 1))] = draw(st.sampled_from(HOSTILE))
    return fields


def _repeat_line(draw: Draw, data: bytes) -> bytes:
    lines = data.splitlines(keepends=True)
    if not lines:
        return data
    k = draw(st.integers(0, len(lines) - 1))
    return b"".join(lines[: k + 1] + lines[k:])


MUTATIONS = [
    flip,
    _insert,
    _delete,
    truncate,
    _line_ends,
    _huge_token,
    _repeat_line,
    _on_a_line(_swap),
    _on_a_line(_drop),
    _on_a_line(_repeat),
    _on_a_line(_replace),
]
