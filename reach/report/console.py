"""Where output goes: results on stdout, progress and warnings on stderr (quiet when not a terminal)."""

from __future__ import annotations

import sys

from rich.console import Console


def stdout_console() -> Console:
    return Console(file=sys.stdout, highlight=False, soft_wrap=False, width=None if sys.stdout.isatty() else 140)


def stderr_console() -> Console:
    return Console(file=sys.stderr, highlight=False, stderr=True)


def show_progress(quiet: bool) -> bool:
    return not quiet and sys.stderr.isatty()
