"""Reading files users hand to reach, and saying what is wrong with them, without trusting their size or shape.

Every failure here is bad input: a `ReachError` subclass (exit 2) whose message names the file and, for a
validation error, the JSON path of the offending value (`[3].params.IpPermissions[0].ToPort`). Values are
echoed clipped, so a hostile file cannot turn into a huge message.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from reach.errors import ReachError, clip

SHOWN_ERRORS = 3  # validation errors listed in one message; the rest are counted

_LONG_NUMBER = re.compile(rf"\d{{{sys.get_int_max_str_digits() + 1},}}")


def json_path(loc: Sequence[int | str], prefix: str = "") -> str:
    """('IpPermissions', 0, 'ToPort') under '[3].params' -> '[3].params.IpPermissions[0].ToPort'."""
    path = prefix
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def problems(exc: ValidationError, prefix: str = "", explain: Callable[[Any], str | None] | None = None) -> str:
    """A ValidationError as `path: problem; path: problem (and N more)`, never echoing the whole input.

    `explain(error)` may say better what an error means where the caller knows (an unknown parameter).
    """
    errors = exc.errors(include_url=False, include_input=False, include_context=False)
    shown = []
    for error in errors[:SHOWN_ERRORS]:
        said = explain(error) if explain else None
        shown.append(f"{json_path(error['loc'], prefix) or 'the document'}: {said or _message(error)}")
    more = f" (and {len(errors) - SHOWN_ERRORS} more)" if len(errors) > SHOWN_ERRORS else ""
    return "; ".join(shown) + more


def _message(error: Any) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown field"
    if error["type"] == "missing":
        return "required, missing"
    if error["type"] == "value_error":  # reach's own words
        return clip(str(error["msg"]).removeprefix("Value error, "), 400)
    text = str(error["msg"])
    return clip(text[:1].lower() + text[1:], 200)


def read_json(path: str | Path, what: str, error: type[ReachError] = ReachError) -> Any:
    """A JSON file's content. Unreadable, not UTF-8, not JSON, nested too deep or numbers too long to convert
    are each an `error` naming the file (and the line where JSON says where)."""
    file = Path(path)
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise error(f"{what} {file} cannot be read ({exc.strerror or exc})") from None
    return parse_json(raw, file, what, error)


def parse_json(raw: bytes, file: str | Path, what: str, error: type[ReachError] = ReachError) -> Any:
    """Bytes of a JSON document -> its content; see `read_json`."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error(f"{file}: not UTF-8 text (byte {exc.start} is {raw[exc.start]:#04x}): is this a {what}?") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise error(f"{file}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except RecursionError:
        raise error(f"{file}: JSON nested too deeply to read (more than {sys.getrecursionlimit()} levels)") from None
    except ValueError:  # an integer longer than Python converts
        found = _LONG_NUMBER.search(text)
        where = f" (line {text.count(chr(10), 0, found.start()) + 1})" if found else ""
        raise error(
            f"{file}: a number{where} has more than {sys.get_int_max_str_digits()} digits; no value reach reads is "
            "that long"
        ) from None
