"""Where output goes: results on stdout, progress and warnings on stderr (quiet when not a terminal).

Both consoles print what they are given as it is: no rich markup (`[/x]` is a legal group name), no emoji
codes, no highlighting, and no control character that did not come from rich itself (see `SafeConsole`).
Their width is the terminal's, else `COLUMNS`, else 80 (rich's order: `COLUMNS` first, then the size of
whichever standard stream is a terminal, so `reach … | less` still fits the window).
"""

from __future__ import annotations

import re
import sys
from typing import IO, Any

from rich.console import Console
from rich.text import Text

from reach.report.safe import clean_lines

# What rich itself writes between the text: colours and styles (SGR). Anything else that starts with ESC,
# or any other control character, came from the input and is shown escaped.
_SGR = re.compile(r"\x1b\[[0-9;:]*m")
_CONTROL = re.compile(r"\x1b\[[0-9;:]*m|[\x00-\x09\x0b-\x1f\x7f-\x9f]")
# The spaces rich pads a line with up to the width, before its newline (and its closing colour codes).
_TRAILING = re.compile(r" +((?:\x1b\[[0-9;:]*m)*)\n")


class _SafeFile:
    """A text stream that lets through rich's colour sequences and newlines, and escapes every other control
    character: the last guard between the account's strings and the terminal."""

    def __init__(self, file: IO[str]) -> None:
        self._file = file

    def write(self, text: str) -> int:
        self._file.write(_TRAILING.sub(r"\1\n", _CONTROL.sub(_keep_colours, text)))
        return len(text)

    def flush(self) -> None:
        self._file.flush()

    def isatty(self) -> bool:
        return self._file.isatty()

    def fileno(self) -> int:
        return self._file.fileno()

    @property
    def encoding(self) -> str:
        return getattr(self._file, "encoding", None) or "utf-8"


def _keep_colours(match: re.Match[str]) -> str:
    found = match.group()
    return found if _SGR.fullmatch(found) else clean_lines(found)


class SafeConsole(Console):
    """A rich console that never interprets its text: markup, emoji codes and highlighting are off, strings
    are printed with their control characters escaped, and its stream passes only rich's own colours."""

    def __init__(self, file: IO[str], **options: Any) -> None:
        super().__init__(file=_SafeFile(file), markup=False, emoji=False, highlight=False, **options)  # type: ignore[arg-type]

    def render_str(self, text: str, **options: Any) -> Text:
        return super().render_str(clean_lines(text), **options)


def stdout_console() -> Console:
    return SafeConsole(sys.stdout, soft_wrap=False)


def stderr_console() -> Console:
    return SafeConsole(sys.stderr, stderr=True)


def progress_console() -> Console:
    """For live progress bars on stderr, which move the cursor and so cannot go through `SafeConsole`'s
    stream: what they show is reach's own counts, and descriptions passed through `escape_markup`."""
    return Console(file=sys.stderr, stderr=True, highlight=False, emoji=False)


def show_progress(quiet: bool) -> bool:
    return not quiet and sys.stderr.isatty()


def symbols(console: Console) -> dict[str, str]:
    """Arrows and marks in the console's encoding: Unicode where it can be written, ASCII otherwise."""
    if console.encoding.lower().replace("-", "").startswith("utf"):
        return {"to": "→", "ok": "✓", "no": "✗", "back": "↩"}
    return {"to": "->", "ok": "ok", "no": "X", "back": "<-"}
