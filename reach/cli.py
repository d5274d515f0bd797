"""The `reach` command line: parses arguments and calls the stages, nothing more.

Every `ReachError` becomes a message on stderr and exit status 2.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TypeVar

import typer

from reach.errors import ReachError

app = typer.Typer(
    name="reach",
    help="Why can't A talk to B in my AWS VPC? Answers from describe-* snapshots, checked against flow logs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
logs_app = typer.Typer(help="Read VPC Flow Logs from anywhere AWS delivers them, and query them.", no_args_is_help=True)
app.add_typer(logs_app, name="logs")

T = TypeVar("T")


def run(action: Callable[[], T]) -> T:
    """Run a command body; turn bad input into a clear message and exit 2."""
    try:
        return action()
    except ReachError as exc:
        typer.echo(f"reach: {exc}", err=True)
        raise typer.Exit(code=2) from None


# --- commands are added below, one block per stage -------------------------------------------


def main() -> None:
    app(prog_name="reach")


if __name__ == "__main__":
    sys.exit(main())
