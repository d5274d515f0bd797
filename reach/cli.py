"""The `reach` command line: parses arguments and calls the stages, nothing more.

Every `ReachError` becomes a message on stderr and exit status 2. Only typer is imported here at start-up:
each command imports the stages it uses (snapshot, engine, flow logs, what-if, rich) when it runs, so
`reach explain` does not wait for Arrow, DuckDB, networkx or boto3 before it reads the snapshot.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

from reach.errors import ReachError, clip

if TYPE_CHECKING:
    from reach.api import Snapshot
    from reach.engine.explanation import Explanation
    from reach.flowlogs import FlowLogStream
    from reach.model.network import Network
    from reach.reconcile.result import Observed, ReconcileResult
    from reach.report.names import Names
    from reach.whatif import WhatIfResult

log = logging.getLogger("reach.cli")
T = TypeVar("T")


# --- help that names values, never Python types ------------------------------------------------------


class _Argument(TyperArgument):
    def display_type_rich(self, ctx: Any) -> str | None:
        return None  # the name column already shows the metavar (FLOWLOG..., SRC)


class _Option(TyperOption):
    def display_type_rich(self, ctx: Any) -> str | None:
        if self.metavar is None and self.is_bool_flag:
            return None  # a flag takes no value
        return super().display_type_rich(ctx)


def _plain_help(params: list[Any]) -> None:
    # typer shows a parameter's Python type (`<str>`, `<list[str]>`); reach's help shows each value's
    # metavar (DIR, N, FLOWLOG...) or its choices (`<text|json>`) instead.
    for param in params:
        if type(param) is TyperArgument:
            param.__class__ = _Argument
        elif type(param) is TyperOption:
            param.__class__ = _Option


class Command(TyperCommand):
    def get_params(self, ctx: Any) -> list[Any]:
        params = super().get_params(ctx)
        _plain_help(params)
        return params


class _PlainHelpGroup(TyperGroup):
    def get_params(self, ctx: Any) -> list[Any]:
        params = super().get_params(ctx)
        _plain_help(params)
        return params

    def main(self, *args: Any, **kwargs: Any) -> Any:
        _usable_columns()
        return super().main(*args, **kwargs)


def _usable_columns() -> None:
    # rich takes COLUMNS=0 (some CI runners set it) as a width of nothing: help, usage errors and tables would
    # print blank. A width that is no positive number is no width: rich then asks the terminal, or uses 80.
    columns = os.environ.get("COLUMNS")
    if columns is not None and not (columns.isdigit() and int(columns) > 0):
        del os.environ["COLUMNS"]


app = typer.Typer(
    name="reach",
    cls=_PlainHelpGroup,
    help="Why can't A talk to B in my AWS VPC? Answers from describe-* snapshots, checked against flow logs.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
)
logs_app = typer.Typer(cls=_PlainHelpGroup, help="Read VPC Flow Logs from anywhere AWS delivers them, and query them.",
                       no_args_is_help=True)
app.add_typer(logs_app, name="logs")


# --- output formats: real choice lists ---------------------------------------------------------------


class Format(StrEnum):
    TEXT = "text"
    JSON = "json"


class PictureFormat(StrEnum):
    """reconcile and whatif: text, JSON, or a self-contained HTML page (CONTRACT §10)."""

    TEXT = "text"
    JSON = "json"
    HTML = "html"


class ExplainFormat(StrEnum):
    TEXT = "text"
    JSON = "json"
    HTML = "html"
    MERMAID = "mermaid"


class Engine(StrEnum):
    LOCAL = "local"
    SPARK = "spark"


class QueryFormat(StrEnum):
    TEXT = "text"
    JSON = "json"
    CSV = "csv"


def _page(result: Explanation | ReconcileResult | WhatIfResult, *networks: Network, title: str | None = None,
          observed: Observed | None = None) -> None:
    """`--format html`: one self-contained page (imported here, so that only pages pay for Jinja2)."""
    from reach.report.pages import render_html

    typer.echo(render_html(result, *networks, title=title, observed=observed), nl=False)


def _mermaid(result: Explanation, network: Network) -> None:
    """`explain --format mermaid`: the path as a Mermaid flowchart."""
    from reach.report.mermaid import explanation_mermaid

    typer.echo(explanation_mermaid(result, network), nl=False)


# --- the whole program -------------------------------------------------------------------------------


def run(action: Callable[[], T]) -> T:
    """Run a command body; turn bad input into a clear message and exit 2."""
    from reach.report.safe import clean_lines

    try:
        return action()
    except ReachError as exc:
        log.debug("bad input", exc_info=True)
        typer.echo(f"reach: {clean_lines(exc)}", err=True)
        raise typer.Exit(code=2) from None
    except OSError as exc:
        # The system refused an operation on a path the user named (a name too long for the file system, a
        # folder where a file belongs, a file that cannot be written): bad input, said with the path. An
        # OSError that names no file is no such thing, and raises.
        if exc.filename is None:
            raise
        log.debug("bad path", exc_info=True)
        typer.echo(f"reach: {clean_lines(_path_error(exc))}", err=True)
        raise typer.Exit(code=2) from None


def _path_error(exc: OSError) -> str:
    where = exc.filename if exc.filename2 is None else f"{exc.filename} -> {exc.filename2}"
    shown = str(where) if len(str(where)) <= 200 else f"{str(where)[:200]}… ({len(str(where)):,} characters)"
    return f"{shown}: {exc.strerror or exc}"


def _version(value: bool) -> None:
    if value:
        import reach

        typer.echo(f"reach {reach.__version__}")
        raise typer.Exit()


class _CleanFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        from reach.report.safe import clean_lines

        return clean_lines(super().format(record))


def _debug() -> None:
    """Python logging for reach and botocore on stderr, at DEBUG."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_CleanFormatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    for name in ("reach", "botocore", "boto3"):
        logger = logging.getLogger(name)
        logger.setLevel(logging.DEBUG)
        logger.addHandler(handler)


@app.callback()
def main_options(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print reach's version and exit.")
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Log what reach and botocore do (DEBUG) on stderr.")
    ] = False,
) -> None:
    """Why can't A talk to B in my AWS VPC? Answers from describe-* snapshots, checked against flow logs."""
    if debug:
        _debug()


# --- options shared by commands ----------------------------------------------------------------------

SnapshotOption = Annotated[
    str | None,
    typer.Option("--snapshot", envvar="REACH_SNAPSHOT", metavar="DIR", help="Snapshot folder of describe-* JSON."),
]
FlowLogArgs = Annotated[
    list[str],
    typer.Argument(metavar="FLOWLOG...", help="Files, folders, s3://bucket/prefix or cloudwatch://<log-group>."),
]
LogFormatOption = Annotated[
    str | None,
    typer.Option("--log-format", metavar="FORMAT",
                 help="Format of lines before any header: '${version} ${account-id} …'."),
]
LogsQuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar on stderr.")]
ProfileOption = Annotated[
    str | None,
    typer.Option("--profile", metavar="PROFILE",
                 help="AWS profile for s3:// and cloudwatch:// sources; default: boto3's chain (AWS_PROFILE, …)."),
]
# A region name as botocore accepts it; anything else would fail deep inside the client with a traceback.
_REGION = re.compile(r"[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?")


def _regions(value: str | list[str] | None) -> str | list[str] | None:
    """The value of a --region option (repeatable or not), checked: a name AWS could give a region."""
    from reach.report.safe import clean

    for region in value if isinstance(value, list) else [value]:
        if region is not None and not _REGION.fullmatch(region):
            raise typer.BadParameter(f"'{clean(region)[:80]}' is not a region name (such as us-east-1)")
    return value


ClientRegionOption = Annotated[
    str | None,
    typer.Option("--region", metavar="REGION", callback=_regions,
                 help="AWS region of the S3 and CloudWatch Logs clients; default: the profile's."),
]
AccountOption = Annotated[
    list[str] | None, typer.Option("--account", metavar="ACCOUNT", help="Only this account's records (repeatable).")
]
RecordRegionOption = Annotated[
    list[str] | None,
    typer.Option("--record-region", metavar="REGION", help="Only the records of this region (repeatable)."),
]
InterfaceOption = Annotated[
    list[str] | None,
    typer.Option("--interface", metavar="ENI", help="Only this network interface's records (repeatable)."),
]
BetweenOption = Annotated[
    tuple[str, str] | None,
    typer.Option("--between", metavar="START END",
                 help="Only records overlapping [START, END]: epoch seconds or ISO 8601 times."),
]
FlowLogsOption = Annotated[
    list[str] | None,
    typer.Option("--flow-logs", metavar="PATH",
                 help="Flow logs whose connections to replay (file, folder, s3://…), repeatable."),
]
IntentsOption = Annotated[
    str | None, typer.Option("--intents", metavar="FILE", help="YAML file of intents to compare too.")
]


def _stdout() -> Any:
    from reach.report.console import stdout_console

    return stdout_console()


def _load(snapshot: str | None, quiet: bool = False) -> Snapshot:
    if not snapshot:
        raise ReachError("no snapshot: pass --snapshot DIR or set REACH_SNAPSHOT")
    from rich.text import Text

    from reach.api import Snapshot
    from reach.report.console import stderr_console
    from reach.report.safe import clean

    log.debug("reading the snapshot %s", snapshot)
    started = time.perf_counter()
    snap = Snapshot.load(snapshot)
    log.debug("snapshot read in %.3f s: %d interfaces", time.perf_counter() - started, len(snap.network.interfaces))
    if not quiet:
        warn = stderr_console()
        for key, file in snap.ignored.items():
            said = f"reach: ignored '{clean(clip(key))}' (not modelled), first seen in {clean(file)}"
            warn.print(Text(said, style="dim"), soft_wrap=True)
    return snap


def _names(snap: Snapshot) -> Names:
    from reach.report.names import Names

    return Names.of(snap.network)


# --- reach logs (flow-log reader) ---------------------------------------------------------------------


def _record_region_hint(region: str | None, flowlog: list[str]) -> None:
    """`--region` filtered records before it meant the AWS client's region: a local read refuses it."""
    remote = any(source.startswith(("s3://", "cloudwatch://")) for source in flowlog)
    if region is not None and not remote:
        raise ReachError(f"--region is the AWS client's region (for s3:// and cloudwatch:// sources); to keep "
                         f"only the records of a region, use --record-region {region}")


def _logs_stream(
    flowlog: list[str],
    log_format: str | None,
    quiet: bool,
    account: list[str] | None,
    record_region: list[str] | None,
    interface: list[str] | None,
    between: tuple[str, str] | None,
    profile: str | None = None,
    region: str | None = None,
) -> FlowLogStream:
    from reach import flowlogs

    start = flowlogs.parse_time(between[0]) if between else None
    end = flowlogs.parse_time(between[1]) if between else None
    if between and start is not None and end is not None and start > end:
        raise ReachError(f"--between {clip(between[0])} {clip(between[1])}: START is after END, so no record could "
                         "overlap")
    filters = flowlogs.Filters.of(
        accounts=account, regions=record_region, interfaces=interface, start=start, end=end
    )
    return flowlogs.read_flow_logs(flowlog, log_format=log_format, quiet=quiet, filters=filters, profile=profile,
                                   region=region)


@logs_app.command("summary", cls=Command)
def logs_summary(
    flowlog: FlowLogArgs,
    log_format: LogFormatOption = None,
    format: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.TEXT,
    quiet: LogsQuietOption = False,
    account: AccountOption = None,
    record_region: RecordRegionOption = None,
    interface: InterfaceOption = None,
    between: BetweenOption = None,
    profile: ProfileOption = None,
    region: ClientRegionOption = None,
) -> None:
    """Records, time span, interfaces, accepts/rejects, skipped and unparsable lines, top talkers, ports."""

    def body() -> None:
        from reach import flowlogs
        from reach.flowlogs import render as flowlogs_render
        from reach.report.logs import logs_summary_json

        _record_region_hint(region, flowlog)
        stream = _logs_stream(flowlog, log_format, quiet, account, record_region, interface, between, profile,
                              region)
        summary = flowlogs.summarize(stream)
        if format == Format.JSON:
            typer.echo(logs_summary_json(summary.to_json()))
        else:
            flowlogs_render.render_summary(summary, _stdout())

    run(body)


@logs_app.command("query", cls=Command)
def logs_query(
    flowlog: FlowLogArgs,
    sql: Annotated[
        str | None,
        typer.Option("--sql", metavar="SQL", help="SELECT … FROM vpc_flow_logs … (Athena's column names)."),
    ] = None,
    log_format: LogFormatOption = None,
    format: Annotated[QueryFormat, typer.Option("--format", help="Output format.")] = QueryFormat.TEXT,
    quiet: LogsQuietOption = False,
    action: Annotated[str | None, typer.Option("--action", metavar="ACTION", help="ACCEPT or REJECT.")] = None,
    src: Annotated[str | None, typer.Option("--src", metavar="ADDRESS", help="Source address.")] = None,
    dst: Annotated[str | None, typer.Option("--dst", metavar="ADDRESS", help="Destination address.")] = None,
    port: Annotated[int | None, typer.Option("--port", metavar="PORT", help="Destination port.")] = None,
    both_ways: Annotated[
        bool, typer.Option("--both-ways", help="Match --src/--dst in either direction (a conversation).")
    ] = False,
    top: Annotated[
        str | None, typer.Option("--top", metavar="COLUMN", help="Count records by this column, most first.")
    ] = None,
    fields: Annotated[
        str | None, typer.Option("--fields", metavar="COLUMNS", help="Columns to show, comma-separated.")
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", metavar="N", help="At most this many rows.")] = None,
    show_sql: Annotated[bool, typer.Option("--show-sql", help="Print the SQL that runs on stderr.")] = False,
    account: AccountOption = None,
    record_region: RecordRegionOption = None,
    interface: InterfaceOption = None,
    between: BetweenOption = None,
    profile: ProfileOption = None,
    region: ClientRegionOption = None,
) -> None:
    """SQL over the records as the table vpc_flow_logs, or Logs Insights-style filters (--action, --top …)."""

    def body() -> None:
        from reach import flowlogs
        from reach.flowlogs import render as flowlogs_render
        from reach.report.safe import clean

        _record_region_hint(region, flowlog)
        shorthand_used = any(v is not None for v in (action, src, dst, port, top, fields)) or both_ways
        if sql and shorthand_used:
            raise ReachError("give either --sql or filters (--action, --src, --dst, --port, --top, --fields)")
        statement = sql or flowlogs.shorthand_sql(
            flowlogs.Shorthand(
                action=action,
                src=src,
                dst=dst,
                port=port,
                both_ways=both_ways,
                top=top,
                fields=[f.strip() for f in fields.split(",")] if fields else flowlogs.DEFAULT_FIELDS,
                limit=limit,
            )
        )
        if show_sql:
            typer.echo(statement, err=True)
        stream = _logs_stream(flowlog, log_format, quiet, account, record_region, interface, between, profile,
                              region)
        result = flowlogs.query(stream, statement)
        if format == QueryFormat.JSON:
            typer.echo(flowlogs_render.rows_json(result))
        elif format == QueryFormat.CSV:
            typer.echo(flowlogs_render.rows_csv(result), nl=False)
        else:
            flowlogs_render.render_rows(result, _stdout())
        if stream.stats.unparsable and not quiet:
            first = stream.stats.bad_lines[0]
            typer.echo(
                clean(f"reach: {stream.stats.unparsable} unparsable line(s) left out; first: "
                      f"{first.source}:{first.line}: {first.reason}"),
                err=True,
            )

    run(body)


# --- reach explain (core engine) ----------------------------------------------------------------------


@app.command(cls=Command)
def explain(
    src: Annotated[str, typer.Argument(metavar="SRC", help="Source: address, interface id, instance id or Name tag.")],
    dst: Annotated[
        str, typer.Argument(metavar="DST", help="Destination: address, interface id, instance id or Name tag.")
    ],
    port: Annotated[
        str, typer.Argument(metavar="PORT", help="Destination port; for ICMP the type, or TYPE/CODE (8, 8/0).")
    ],
    snapshot: SnapshotOption = None,
    protocol: Annotated[
        str, typer.Option("--protocol", metavar="PROTOCOL", help="tcp, udp, icmp, icmpv6, all or a number.")
    ] = "tcp",
    src_port: Annotated[
        int | None,
        typer.Option("--src-port", metavar="N", help="The client's port (default: its whole ephemeral range)."),
    ] = None,
    format: Annotated[ExplainFormat, typer.Option("--format", help="Output format.")] = ExplainFormat.TEXT,
    hops: Annotated[
        bool, typer.Option("--hops", "-v", help="Text: every hop, both ways, with the rule that decided it.")
    ] = False,
    flow_logs: Annotated[
        list[str] | None,
        typer.Option("--flow-logs", metavar="PATH",
                     help="Flow logs (file, folder, s3://…), repeatable: what they recorded for it."),
    ] = None,
    profile: ProfileOption = None,
    region: ClientRegionOption = None,
) -> None:
    """Predict ACCEPT or REJECT for SRC -> DST:PORT, both directions: the verdict, every blocker and the fix."""

    def body() -> None:
        from reach.report.explain import hops_hint, render_explanation_text
        from reach.report.outputs import explain_json

        snap = _load(snapshot, quiet=format != ExplainFormat.TEXT)
        started = time.perf_counter()
        result = snap.explain(src, dst, port, protocol, src_port)
        log.debug("explained in %.3f s", time.perf_counter() - started)
        observed = None
        if flow_logs:
            from reach.flowlogs import read_flow_logs
            from reach.reconcile import observe

            stream = read_flow_logs(flow_logs, quiet=True, profile=profile, region=region)
            observed = observe(snap.network, result, stream, read_stats=stream.stats)
        if format == ExplainFormat.HTML:
            return _page(result, snap.network, observed=observed)
        if format == ExplainFormat.MERMAID:
            return _mermaid(result, snap.network)
        if format == ExplainFormat.JSON:
            if observed is None:
                typer.echo(explain_json(result))
            else:
                from reach.report.reconcile import explain_observed_json

                typer.echo(explain_observed_json(result, observed))
            return
        console, names = _stdout(), _names(snap)
        render_explanation_text(result, console, names, hops=hops)
        if observed is not None:
            from reach.report.reconcile import render_observed_text

            render_observed_text(observed, console, names)
        if not hops and result.hops:
            hops_hint(console)

    run(body)


# --- reach collect / doctor ---------------------------------------------------------------------------


@app.command(cls=Command)
def collect(
    outdir: Annotated[
        str | None,
        typer.Argument(metavar="OUTDIR", help="A new folder to write the snapshot to.", show_default=False),
    ] = None,
    region: Annotated[
        list[str] | None,
        typer.Option("--region", metavar="REGION", callback=_regions,
                     help="A region to collect (repeatable); default: the profile's."),
    ] = None,
    all_regions: Annotated[bool, typer.Option("--all-regions", help="Every region enabled in the account.")] = False,
    profile: Annotated[
        str | None,
        typer.Option("--profile", metavar="PROFILE",
                     help="AWS profile; default: boto3's chain (AWS_PROFILE, environment, …)."),
    ] = None,
    role_arn: Annotated[
        list[str] | None,
        typer.Option("--role-arn", metavar="ARN", help="A role to assume, one per account to collect (repeatable)."),
    ] = None,
    redact: Annotated[
        bool, typer.Option("--redact", help="Replace account ids and public IPv4 addresses, consistently.")
    ] = False,
    print_policy: Annotated[
        bool, typer.Option("--print-policy", help="Print the minimal IAM policy for these options, and exit.")
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress and no summary; failures are still listed.")
    ] = False,
) -> None:
    """Write a snapshot folder from a live account, with read-only describe/get calls."""

    def body() -> None:
        import json
        from contextlib import nullcontext

        import boto3
        from botocore.exceptions import ProfileNotFound

        from reach.report.collect import CollectProgress, render_collect_text
        from reach.report.console import progress_console, show_progress
        from reach.snapshot.collector import collect as collect_snapshot
        from reach.snapshot.collector import iam_policy

        if print_policy:
            typer.echo(json.dumps(iam_policy(all_regions=all_regions), indent=2))
            return
        if not outdir:
            raise ReachError("missing OUTDIR: the new folder to write the snapshot to (or pass --print-policy)")
        try:
            session = boto3.Session(profile_name=profile)
        except ProfileNotFound as exc:
            raise ReachError(str(exc)) from None
        progress = CollectProgress(progress_console()) if show_progress(quiet) else None
        with progress or nullcontext():
            result = collect_snapshot(
                outdir, session=session, regions=region or [], all_regions=all_regions, role_arns=role_arn or [],
                redact=redact, progress=progress,
            )
        render_collect_text(result, _stdout(), quiet=quiet)
        if not result.collected:
            raise ReachError(
                f"nothing could be collected: all {len(result.errors)} calls failed (see {outdir}/manifest.json)"
            )

    run(body)


@app.command(cls=Command)
def doctor(
    snapshot: SnapshotOption = None,
    flow_logs: Annotated[
        list[str] | None,
        typer.Option("--flow-logs", metavar="PATH",
                     help="Flow-log data (file, folder, s3://…), repeatable: name covered but silent interfaces."),
    ] = None,
    format: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.TEXT,
    profile: ProfileOption = None,
    region: ClientRegionOption = None,
) -> None:
    """Can the flow logs show what happened? Coverage per interface, traffic type, format, delivery errors."""

    def body() -> None:
        from reach.doctor import diagnose
        from reach.report.doctor import doctor_json, render_doctor_text

        network = _load(snapshot, quiet=format == Format.JSON).network
        report = diagnose(network, flow_logs=flow_logs or None, profile=profile, region=region)
        if format == Format.JSON:
            typer.echo(doctor_json(report))
        else:
            render_doctor_text(report, _stdout())

    run(body)


# --- reach whatif / check / diff ----------------------------------------------------------------------


@app.command(cls=Command)
def whatif(
    changes: Annotated[
        str, typer.Argument(metavar="CHANGES", help="JSON list of EC2 API calls, or `terraform show -json` output.")
    ],
    snapshot: SnapshotOption = None,
    flow_logs: FlowLogsOption = None,
    intents: IntentsOption = None,
    log_format: LogFormatOption = None,
    format: Annotated[PictureFormat, typer.Option("--format", help="Output format.")] = PictureFormat.TEXT,
    fail_on_break: Annotated[
        bool, typer.Option("--fail-on-break", help="Exit 1 when a live flow (observed, or an intent) would break.")
    ] = False,
    profile: ProfileOption = None,
    region: ClientRegionOption = None,
) -> None:
    """What would this change break? The flows whose verdict it flips, before and after, and the rule responsible."""

    def body() -> bool:
        from reach.report.whatif import render_whatif_text, whatif_json

        before = _load(snapshot, quiet=format != PictureFormat.TEXT)
        after = before.apply(changes)
        assert after.applied is not None
        result = before.compare(after, flow_logs=flow_logs, intents=intents, log_format=log_format,
                                notes=after.applied.notes, profile=profile, region=region)
        change_set = after.applied.change_set
        extra = {"changes": len(change_set.changes), "change_format": change_set.kind,
                 "unsupported": change_set.unsupported}
        title = f"{len(change_set.changes)} change(s) from {change_set.source} ({change_set.kind}):"
        if format == PictureFormat.JSON:
            typer.echo(whatif_json(result, extra))
        elif format == PictureFormat.HTML:
            _page(result, before.network, after.network, title=f"What-if  {title.rstrip(':')}")
        else:
            render_whatif_text(result, _stdout(), title, _names(before))
        return result.breaks_live_flow

    if run(body) and fail_on_break:
        raise typer.Exit(code=1)


@app.command(cls=Command)
def check(
    intents: Annotated[
        str, typer.Argument(metavar="INTENTS", help="YAML file of intents: src, dst, port, protocol, expect.")
    ],
    snapshot: SnapshotOption = None,
    format: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.TEXT,
    junit: Annotated[
        str | None, typer.Option("--junit", metavar="FILE", help="Also write a JUnit XML report here.")
    ] = None,
) -> None:
    """Assert the network: every intent's expected verdict. Exit 1 when any fails, naming what blocks it."""

    def body() -> bool:
        from reach.report.check import check_json, render_check_text, write_check_junit

        snap = _load(snapshot, quiet=format == Format.JSON)
        result = snap.check(intents)
        if junit:
            write_check_junit(result, junit)
        if format == Format.JSON:
            typer.echo(check_json(result))
        else:
            render_check_text(result, _stdout(), _names(snap))
        return result.passed

    if not run(body):
        raise typer.Exit(code=1)


@app.command(cls=Command)
def diff(
    snap_before: Annotated[str, typer.Argument(metavar="SNAP_BEFORE", help="The snapshot folder before.")],
    snap_after: Annotated[str, typer.Argument(metavar="SNAP_AFTER", help="The snapshot folder after.")],
    flow_logs: FlowLogsOption = None,
    intents: IntentsOption = None,
    log_format: LogFormatOption = None,
    format: Annotated[PictureFormat, typer.Option("--format", help="Output format.")] = PictureFormat.TEXT,
    profile: ProfileOption = None,
    region: ClientRegionOption = None,
) -> None:
    """The rule-level differences between two snapshots, and the flows whose verdict they flip."""

    def body() -> None:
        from reach.report.whatif import render_whatif_text, whatif_json

        quiet = format != PictureFormat.TEXT
        before, after = _load(snap_before, quiet=quiet), _load(snap_after, quiet=quiet)
        result = before.compare(after, flow_logs=flow_logs, intents=intents, log_format=log_format, profile=profile,
                                region=region)
        if format == PictureFormat.JSON:
            typer.echo(whatif_json(result))
        elif format == PictureFormat.HTML:
            _page(result, before.network, after.network, title=f"Diff  {snap_before} -> {snap_after}")
        else:
            render_whatif_text(result, _stdout(), f"Diff  {snap_before} -> {snap_after}:", _names(after))

    run(body)


# --- reach reconcile ----------------------------------------------------------------------------------


def _write_suggestions(result: ReconcileResult, path: Path) -> None:
    from reach.reconcile.suggest import suggested_changes

    calls = suggested_changes(result.rule_usage)
    try:
        path.write_text(json.dumps(calls, indent=2) + "\n")
    except OSError as exc:
        raise ReachError(f"cannot write {path}: {exc.strerror}") from None
    typer.echo(f"reach: wrote {len(calls)} suggested change(s) to {path}", err=True)


@app.command(cls=Command)
def reconcile(
    flowlog: FlowLogArgs,
    snapshot: SnapshotOption = None,
    log_format: LogFormatOption = None,
    cloudtrail: Annotated[
        list[str] | None,
        typer.Option("--cloudtrail", metavar="PATH",
                     help="CloudTrail logs (files or folders, plain or .gz), repeatable: name the change behind "
                          "each disagreement."),
    ] = None,
    format: Annotated[PictureFormat, typer.Option("--format", help="Output format.")] = PictureFormat.TEXT,
    quiet: LogsQuietOption = False,
    profile: ProfileOption = None,
    region: ClientRegionOption = None,
    rule_usage: Annotated[
        bool, typer.Option("--rule-usage", help="Text: the allow rules nothing used, and those far wider than used.")
    ] = False,
    suggest_changes: Annotated[
        Path | None,
        typer.Option("--suggest-changes", metavar="FILE",
                     help="Write a change set (EC2 API calls) that revokes unused security group rules and narrows "
                          "far wider ones, for reach whatif to check first."),
    ] = None,
    jobs: Annotated[
        int | None,
        typer.Option("--jobs", "-j", min=1, metavar="N",
                     help="Worker processes (default: every core this process may use)."),
    ] = None,
    engine: Annotated[
        Engine, typer.Option("--engine", help="local: this machine's cores; spark: a Spark cluster (reach[spark]).")
    ] = Engine.LOCAL,
    master: Annotated[
        str | None,
        typer.Option("--master", metavar="URL",
                     help="Spark master (local[4], yarn, spark://host:7077); default: spark-submit's or local[*]."),
    ] = None,
) -> None:
    """Flow logs against the snapshot: every REJECT attributed to its rule, every disagreement dated."""

    def body() -> None:
        from reach.reconcile import CloudTrail
        from reach.report.reconcile import reconcile_json, render_reconcile_text

        if master is not None and engine != Engine.SPARK:
            raise ReachError("--master is the Spark master: give it with --engine spark")
        snap = _load(snapshot, quiet=quiet or format != PictureFormat.TEXT)
        trail = CloudTrail.load(cloudtrail) if cloudtrail else None
        if engine == Engine.SPARK:
            from reach.spark import reconcile_spark

            result = reconcile_spark(snap.network, flowlog, log_format=log_format, cloudtrail=trail, master=master)
        else:
            from reach.reconcile.parallel import reconcile_sources

            result = reconcile_sources(snap.network, flowlog, jobs=jobs, log_format=log_format, cloudtrail=trail,
                                       profile=profile, region=region, quiet=quiet)
        if suggest_changes is not None:
            _write_suggestions(result, suggest_changes)
        if format == PictureFormat.JSON:
            typer.echo(reconcile_json(result))
        elif format == PictureFormat.HTML:
            _page(result, snap.network)
        elif rule_usage:
            from reach.report.usage import render_usage_text

            render_usage_text(result.rule_usage, _stdout(), _names(snap))
        else:
            render_reconcile_text(result, _stdout(), _names(snap))

    run(body)


# --- reach schema -------------------------------------------------------------------------------------


@app.command(cls=Command)
def schema(
    command: Annotated[
        list[str],
        typer.Argument(metavar="COMMAND...", help="explain, reconcile, whatif, diff, check, doctor or 'logs summary'."),
    ],
) -> None:
    """Print the JSON Schema of a command's --format json output (generated from the models that make it)."""

    def body() -> None:
        import json

        from reach.report.outputs import SCHEMAS
        from reach.report.outputs import schema as output_schema

        name = " ".join(command).replace("-", " ")
        if name not in SCHEMAS:
            raise ReachError(f"no JSON output named '{name}': one of {', '.join(SCHEMAS)}")
        typer.echo(json.dumps(output_schema(name), indent=2))

    run(body)


# --- reach exposure / reachable (set questions) ---


@app.command(cls=Command)
def exposure(
    snapshot: SnapshotOption = None,
    format: Annotated[PictureFormat, typer.Option("--format", help="Output format.")] = PictureFormat.TEXT,
) -> None:
    """What the internet can open on every interface, exactly, beside what security groups alone suggest."""
    from reach.api import exposure as exposure_of
    from reach.report.exposure import exposure_json, render_exposure_html, render_exposure_text

    def body() -> None:
        result = exposure_of(_load(snapshot, quiet=format != PictureFormat.TEXT))
        if format == PictureFormat.JSON:
            typer.echo(exposure_json(result))
        elif format == PictureFormat.HTML:
            typer.echo(render_exposure_html(result, f"reach exposure — {snapshot}"))
        else:
            render_exposure_text(result, _stdout())

    run(body)


@app.command(cls=Command)
def reachable(
    to: Annotated[
        str | None, typer.Option("--to", metavar="DST", help="Who can open a connection to this interface?")
    ] = None,
    from_: Annotated[str | None, typer.Option("--from", metavar="SRC", help="What can this interface open?")] = None,
    port: Annotated[
        str | None, typer.Option("--port", metavar="PORT", help="Only this port (ICMP: type); default every port.")
    ] = None,
    protocol: Annotated[
        str, typer.Option("--protocol", metavar="PROTOCOL", help="tcp, udp, icmp, icmpv6, all or a number.")
    ] = "tcp",
    snapshot: SnapshotOption = None,
    format: Annotated[PictureFormat, typer.Option("--format", help="Output format.")] = PictureFormat.TEXT,
) -> None:
    """Set questions inside the snapshot: every source that can open DST, or every destination SRC can open."""
    from reach.api import reachable as reachable_of
    from reach.report.reachable import reachable_json, render_reachable_html, render_reachable_text

    def body() -> None:
        snap = _load(snapshot, quiet=format != PictureFormat.TEXT)
        result = reachable_of(snap, to=to, from_=from_, port=port, protocol=protocol)
        if format == PictureFormat.JSON:
            typer.echo(reachable_json(result))
        elif format == PictureFormat.HTML:
            typer.echo(render_reachable_html(result))
        else:
            render_reachable_text(result, _stdout())

    run(body)


def main() -> None:
    from reach.snapshot.pause import freeze_snapshots

    freeze_snapshots()  # a command reads its snapshots, answers and exits: no collection need walk them
    app(prog_name="reach")


if __name__ == "__main__":
    main()
