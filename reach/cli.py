"""The `reach` command line: parses arguments and calls the stages, nothing more.

Every `ReachError` becomes a message on stderr and exit status 2.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Annotated, TypeVar

import typer

from reach.api import Snapshot
from reach.errors import ReachError
from reach.report.console import stderr_console, stdout_console
from reach.report.explain import explanation_json, render_explanation_text

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
# --- reach explain (core engine) ---


def _load(snapshot: str | None, quiet: bool = False) -> Snapshot:
    if not snapshot:
        raise ReachError("no snapshot: pass --snapshot DIR or set REACH_SNAPSHOT")
    snap = Snapshot.load(snapshot)
    if not quiet:
        warn = stderr_console()
        for key, file in snap.ignored.items():
            warn.print(f"[dim]reach: ignored '{key}' (not modelled), first seen in {file}[/dim]")
    return snap


SnapshotOption = Annotated[
    str | None, typer.Option("--snapshot", envvar="REACH_SNAPSHOT", help="Snapshot folder of describe-* JSON.")
]
FormatOption = Annotated[str, typer.Option("--format", help="text or json.")]


@app.command()
def explain(
    src: Annotated[str, typer.Argument(help="Source: address, interface id, instance id or Name tag.")],
    dst: Annotated[str, typer.Argument(help="Destination: address, interface id, instance id or Name tag.")],
    port: Annotated[str, typer.Argument(help="Destination port; for ICMP the type, or TYPE/CODE (8, 8/0).")],
    snapshot: SnapshotOption = None,
    protocol: Annotated[str, typer.Option("--protocol", help="tcp, udp, icmp, icmpv6, all or a number.")] = "tcp",
    src_port: Annotated[
        int | None, typer.Option("--src-port", help="The client's port (default: its whole ephemeral range).")
    ] = None,
    format: FormatOption = "text",
) -> None:
    """Predict ACCEPT or REJECT for SRC -> DST:PORT, hop by hop, both directions, with every blocker and the fix."""

    def body() -> None:
        _check_format(format, ("text", "json"))
        result = _load(snapshot, quiet=format == "json").explain(src, dst, port, protocol, src_port)
        if format == "json":
            typer.echo(explanation_json(result))
        else:
            render_explanation_text(result, stdout_console())

    run(body)


def _check_format(value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ReachError(f"--format must be one of {', '.join(allowed)}, not '{value}'")


def main() -> None:
    app(prog_name="reach")


if __name__ == "__main__":
    sys.exit(main())
