"""Text that came from the account, made harmless to print.

Group names, tags, descriptions, file names, unknown keys and flow-log fields are the account's words, and
any of them can hold what a terminal obeys: an escape sequence that clears the screen or sets the window
title, a carriage return that overwrites a line, a bidirectional override that reorders what is shown.
`clean` shows each such character as its Python escape (`\\x1b`), so the text is printed as it is and the
terminal obeys none of it. Rich markup (`[/x]` is a legal security group name) is never parsed: reach's
consoles have markup off (`reach.report.console`), and `escape_markup` covers the few places where rich
parses markup whatever the console says (progress-bar columns).
"""

from __future__ import annotations

# C0 controls, DEL and C1 controls; the Unicode characters that change how the rest of a line is shown
# (bidirectional overrides and isolates, line and paragraph separators); the two noncharacters XML cannot
# hold; and lone surrogates, which no encoder writes (a file name's undecodable bytes arrive as such).
_CONTROLS = [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0), *range(0x202A, 0x202F), *range(0x2066, 0x206A),
             0x2028, 0x2029, 0x200E, 0x200F, 0x061C, 0xFFFE, 0xFFFF, *range(0xD800, 0xE000)]
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escaped(code: int) -> str:
    char = chr(code)
    if char in _NAMED:
        return _NAMED[char]
    if 0xDC80 <= code <= 0xDCFF:  # surrogateescape: the byte that could not be decoded
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


_TABLE = {code: _escaped(code) for code in _CONTROLS}
_TABLE_KEEP_NEWLINES = {code: text for code, text in _TABLE.items() if code != 0x0A}


def clean(value: object) -> str:
    """`value` as text with every control character shown as its escape: one line, obeyed by no terminal."""
    return str(value).translate(_TABLE)


def clean_lines(value: object) -> str:
    """As `clean`, but newlines are kept: for messages reach writes over several lines."""
    return str(value).translate(_TABLE_KEEP_NEWLINES)


def escape_markup(value: object) -> str:
    """`clean(value)` with rich markup escaped, for the places where rich parses markup in any case."""
    from rich.markup import escape

    return escape(clean(value))


def page_text(value: object) -> object:
    """Jinja's `finalize` for pages: a string from input with its control characters shown as escapes, as in
    text output (a page printed to a terminal by mistake must not retitle it); markup reach wrote, a macro's
    output or an include, passes as it is, and autoescaping does the rest."""
    from markupsafe import Markup

    if isinstance(value, str) and not isinstance(value, Markup):
        return clean_lines(value)
    return value
