"""The `reach` command line: parses arguments and calls the stages, nothing more.

Every `ReachError` becomes a message on stderr and exit status 2.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, TypeVar

import typer

from reach import flowlogs
from reach.api import Snapshot
from reach.errors import ReachError
from reach.flowlogs import render as flowlogs_render
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
# --- reach logs (flow-log reader) ---

FlowLogArgs = Annotated[
    list[str], typer.Argument(help="Files, folders, s3://bucket/prefix or cloudwatch://<log-group>.")
]
LogFormatOption = Annotated[
    str | None,
    typer.Option("--log-format", help="Format of lines before any header: '${version} ${account-id} …'."),
]
LogsQuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar on stderr.")]
AccountOption = Annotated[list[str] | None, typer.Option("--account", help="Only this account (repeatable).")]
RegionOption = Annotated[list[str] | None, typer.Option("--region", help="Only this region (repeatable).")]
InterfaceOption = Annotated[
    list[str] | None, typer.Option("--interface", help="Only this network interface (repeatable).")
]
BetweenOption = Annotated[
    tuple[str, str] | None,
    typer.Option("--between", help="Only records overlapping [A, B]: epoch seconds or ISO 8601 times."),
]


def _logs_stream(
    flowlog: list[str],
    log_format: str | None,
    quiet: bool,
    account: list[str] | None,
    region: list[str] | None,
    interface: list[str] | None,
    between: tuple[str, str] | None,
) -> flowlogs.FlowLogStream:
    start = flowlogs.parse_time(between[0]) if between else None
    end = flowlogs.parse_time(between[1]) if between else None
    filters = flowlogs.Filters.of(
        accounts=account, regions=region, interfaces=interface, start=start, end=end
    )
    return flowlogs.read_flow_logs(flowlog, log_format=log_format, quiet=quiet, filters=filters)


@logs_app.command("summary")
def logs_summary(
    flowlog: FlowLogArgs,
    log_format: LogFormatOption = None,
    format: Annotated[str, typer.Option("--format", help="text or json.")] = "text",
    quiet: LogsQuietOption = False,
    account: AccountOption = None,
    region: RegionOption = None,
    interface: InterfaceOption = None,
    between: BetweenOption = None,
) -> None:
    """Records, time span, interfaces, accepts/rejects, skipped and unparsable lines, top talkers, ports."""

    def body() -> None:
        _check_format(format, ("text", "json"))
        stream = _logs_stream(flowlog, log_format, quiet, account, region, interface, between)
        summary = flowlogs.summarize(stream)
        if format == "json":
            typer.echo(json.dumps(summary.to_json(), indent=2))
        else:
            flowlogs_render.render_summary(summary, stdout_console())

    run(body)


@logs_app.command("query")
def logs_query(
    flowlog: FlowLogArgs,
    sql: Annotated[
        str | None, typer.Option("--sql", help="SELECT … FROM vpc_flow_logs … (Athena's column names).")
    ] = None,
    log_format: LogFormatOption = None,
    format: Annotated[str, typer.Option("--format", help="text, json or csv.")] = "text",
    quiet: LogsQuietOption = False,
    action: Annotated[str | None, typer.Option("--action", help="ACCEPT or REJECT.")] = None,
    src: Annotated[str | None, typer.Option("--src", help="Source address.")] = None,
    dst: Annotated[str | None, typer.Option("--dst", help="Destination address.")] = None,
    port: Annotated[int | None, typer.Option("--port", help="Destination port.")] = None,
    both_ways: Annotated[
        bool, typer.Option("--both-ways", help="Match --src/--dst in either direction (a conversation).")
    ] = False,
    top: Annotated[str | None, typer.Option("--top", help="Count records by this column, most first.")] = (
        None
    ),
    fields: Annotated[str | None, typer.Option("--fields", help="Columns to show, comma-separated.")] = None,
    limit: Annotated[int | None, typer.Option("--limit", help="At most this many rows.")] = None,
    show_sql: Annotated[bool, typer.Option("--show-sql", help="Print the SQL that runs on stderr.")] = False,
    account: AccountOption = None,
    region: RegionOption = None,
    interface: InterfaceOption = None,
    between: BetweenOption = None,
) -> None:
    """SQL over the records as the table vpc_flow_logs, or Logs Insights-style filters (--action, --top …)."""

    def body() -> None:
        _check_format(format, ("text", "json", "csv"))
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
        stream = _logs_stream(flowlog, log_format, quiet, account, region, interface, between)
        result = flowlogs.query(stream, statement)
        if format == "json":
            typer.echo(flowlogs_render.rows_json(result))
        elif format == "csv":
            typer.echo(flowlogs_render.rows_csv(result), nl=False)
        else:
            flowlogs_render.render_rows(result, stdout_console())
        if stream.stats.unparsable and not quiet:
            first = stream.stats.bad_lines[0]
            typer.echo(
                f"reach: {stream.stats.unparsable} unparsable line(s) left out; first: "
                f"{first.source}:{first.line}: {first.reason}",
                err=True,
            )

    run(body)


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
    flow_logs: Annotated[
        list[str] | None,
        typer.Option("--flow-logs", help="Flow logs (file, folder, s3://…), repeatable: what they recorded for it."),
    ] = None,
) -> None:
    """Predict ACCEPT or REJECT for SRC -> DST:PORT, hop by hop, both directions, with every blocker and the fix."""

    def body() -> None:
        _check_format(format, ("text", "json"))
        snap = _load(snapshot, quiet=format == "json")
        if flow_logs:
            return _explain_with_flow_logs(snap, src, dst, port, protocol, src_port, flow_logs, format)
        result = snap.explain(src, dst, port, protocol, src_port)
        if format == "json":
            typer.echo(explanation_json(result))
        else:
            render_explanation_text(result, stdout_console())

    run(body)


def _check_format(value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ReachError(f"--format must be one of {', '.join(allowed)}, not '{value}'")


# --- reach collect / doctor ---


@app.command()
def collect(
    outdir: Annotated[
        str | None, typer.Argument(help="A new folder to write the snapshot to.", show_default=False)
    ] = None,
    region: Annotated[
        list[str] | None, typer.Option("--region", help="A region to collect (repeatable); default: the profile's.")
    ] = None,
    all_regions: Annotated[bool, typer.Option("--all-regions", help="Every region enabled in the account.")] = False,
    profile: Annotated[
        str | None, typer.Option("--profile", help="AWS profile; default: boto3's chain (AWS_PROFILE, environment, …).")
    ] = None,
    role_arn: Annotated[
        list[str] | None,
        typer.Option("--role-arn", help="A role to assume, one per account to collect (repeatable)."),
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
        # Imported here so that other commands (and --help) do not pay for loading boto3.
        from contextlib import nullcontext

        import boto3
        from botocore.exceptions import ProfileNotFound

        from reach.report.collect import CollectProgress, render_collect_text
        from reach.report.console import show_progress
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
        progress = CollectProgress(stderr_console()) if show_progress(quiet) else None
        with progress or nullcontext():
            result = collect_snapshot(
                outdir, session=session, regions=region or [], all_regions=all_regions, role_arns=role_arn or [],
                redact=redact, progress=progress,
            )
        render_collect_text(result, stdout_console(), quiet=quiet)
        if not result.collected:
            raise ReachError(
                f"nothing could be collected: all {len(result.errors)} calls failed (see {outdir}/manifest.json)"
            )

    run(body)


@app.command()
def doctor(
    snapshot: SnapshotOption = None,
    flow_logs: Annotated[
        list[str] | None,
        typer.Option("--flow-logs", help="Flow-log data (file, folder, s3://…), repeatable: name covered but silent "
                     "interfaces."),
    ] = None,
    format: FormatOption = "text",
) -> None:
    """Can the flow logs show what happened? Coverage per interface, traffic type, format, delivery errors."""

    def body() -> None:
        from reach.doctor import diagnose
        from reach.report.doctor import doctor_json, render_doctor_text

        _check_format(format, ("text", "json"))
        report = diagnose(_load(snapshot, quiet=format == "json").network, flow_logs=flow_logs or None)
        if format == "json":
            typer.echo(doctor_json(report))
        else:
            render_doctor_text(report, stdout_console())

    run(body)


# --- reach whatif / check / diff ---

FlowLogsOption = Annotated[
    list[str] | None,
    typer.Option("--flow-logs", help="Flow logs whose connections to replay (file, folder, s3://…), repeatable."),
]
IntentsOption = Annotated[str | None, typer.Option("--intents", help="YAML file of intents to compare too.")]


@app.command()
def whatif(
    changes: Annotated[str, typer.Argument(help="JSON list of EC2 API calls, or `terraform show -json` output.")],
    snapshot: SnapshotOption = None,
    flow_logs: FlowLogsOption = None,
    intents: IntentsOption = None,
    log_format: LogFormatOption = None,
    format: FormatOption = "text",
    fail_on_break: Annotated[
        bool, typer.Option("--fail-on-break", help="Exit 1 when a live flow (observed, or an intent) would break.")
    ] = False,
) -> None:
    """What would this change break? The flows whose verdict it flips, before and after, and the rule responsible."""
    from reach.report.whatif import render_whatif_text, whatif_json

    def body() -> bool:
        _check_format(format, ("text", "json"))
        before = _load(snapshot, quiet=format == "json")
        after = before.apply(changes)
        assert after.applied is not None
        result = before.compare(after, flow_logs=flow_logs, intents=intents, log_format=log_format,
                                notes=after.applied.notes)
        change_set = after.applied.change_set
        extra = {"changes": len(change_set.changes), "change_format": change_set.kind,
                 "unsupported": change_set.unsupported}
        if format == "json":
            typer.echo(whatif_json(result, extra))
        else:
            title = f"What-if  {len(change_set.changes)} change(s) from {change_set.source} ({change_set.kind}):"
            render_whatif_text(result, stdout_console(), title)
        return result.breaks_live_flow

    if run(body) and fail_on_break:
        raise typer.Exit(code=1)


@app.command()
def check(
    intents: Annotated[str, typer.Argument(help="YAML file of intents: src, dst, port, protocol, expect.")],
    snapshot: SnapshotOption = None,
    format: FormatOption = "text",
    junit: Annotated[str | None, typer.Option("--junit", help="Also write a JUnit XML report here.")] = None,
) -> None:
    """Assert the network: every intent's expected verdict. Exit 1 when any fails, naming what blocks it."""
    from reach.report.check import check_json, render_check_text, write_check_junit

    def body() -> bool:
        _check_format(format, ("text", "json"))
        result = _load(snapshot, quiet=format == "json").check(intents)
        if junit:
            write_check_junit(result, junit)
        if format == "json":
            typer.echo(check_json(result))
        else:
            render_check_text(result, stdout_console())
        return result.passed

    if not run(body):
        raise typer.Exit(code=1)


@app.command()
def diff(
    snap_before: Annotated[str, typer.Argument(help="The snapshot folder before.")],
    snap_after: Annotated[str, typer.Argument(help="The snapshot folder after.")],
    flow_logs: FlowLogsOption = None,
    intents: IntentsOption = None,
    log_format: LogFormatOption = None,
    format: FormatOption = "text",
) -> None:
    """The rule-level differences between two snapshots, and the flows whose verdict they flip."""
    from reach.report.whatif import render_whatif_text, whatif_json

    def body() -> None:
        _check_format(format, ("text", "json"))
        before, after = _load(snap_before, quiet=format == "json"), _load(snap_after, quiet=format == "json")
        result = before.compare(after, flow_logs=flow_logs, intents=intents, log_format=log_format)
        if format == "json":
            typer.echo(whatif_json(result))
        else:
            render_whatif_text(result, stdout_console(), f"Diff  {snap_before} -> {snap_after}:")

    run(body)


# --- reach reconcile ---


@app.command()
def reconcile(
    flowlog: FlowLogArgs,
    snapshot: SnapshotOption = None,
    log_format: LogFormatOption = None,
    cloudtrail: Annotated[
        list[str] | None,
        typer.Option("--cloudtrail", help="CloudTrail logs (files or folders, plain or .gz), repeatable: name the "
                     "change behind each disagreement."),
    ] = None,
    format: FormatOption = "text",
    quiet: LogsQuietOption = False,
) -> None:
    """Flow logs against the snapshot: every REJECT attributed to its rule, every disagreement dated."""
    from reach.reconcile import CloudTrail
    from reach.reconcile import reconcile as reconcile_logs
    from reach.report.reconcile import reconcile_json, render_reconcile_text

    def body() -> None:
        _check_format(format, ("text", "json"))
        snap = _load(snapshot, quiet=quiet or format == "json")
        trail = CloudTrail.load(cloudtrail) if cloudtrail else None
        stream = flowlogs.read_flow_logs(flowlog, log_format=log_format, quiet=quiet)
        result = reconcile_logs(snap.network, stream, read_stats=stream.stats, cloudtrail=trail)
        if format == "json":
            typer.echo(reconcile_json(result))
        else:
            render_reconcile_text(result, stdout_console())

    run(body)


def _explain_with_flow_logs(snap: Snapshot, src: str, dst: str, port: str, protocol: str, src_port: int | None,
                            flow_logs: list[str], format: str) -> None:
    """`explain --flow-logs`: the explanation, then what the logs recorded for it (JSON: an `observed` field)."""
    from reach.reconcile import observe
    from reach.report.reconcile import render_observed_text

    result = snap.explain(src, dst, port, protocol, src_port)
    stream = flowlogs.read_flow_logs(flow_logs, quiet=True)
    observed = observe(snap.network, result, stream, read_stats=stream.stats)
    if format == "json":
        typer.echo(json.dumps({**result.model_dump(mode="json"), "observed": observed.model_dump(mode="json")},
                              indent=2))
    else:
        render_explanation_text(result, stdout_console())
        render_observed_text(observed, stdout_console())


# --- reach exposure / reachable (set questions) ---


@app.command()
def exposure(
    snapshot: SnapshotOption = None,
    format: Annotated[str, typer.Option("--format", help="text, json or html.")] = "text",
) -> None:
    """What the internet can open on every interface, exactly, beside what security groups alone suggest."""
    from reach.api import exposure as exposure_of
    from reach.report.exposure import exposure_json, render_exposure_html, render_exposure_text

    def body() -> None:
        _check_format(format, ("text", "json", "html"))
        result = exposure_of(_load(snapshot, quiet=format != "text"))
        if format == "json":
            typer.echo(exposure_json(result))
        elif format == "html":
            typer.echo(render_exposure_html(result, f"reach exposure — {snapshot}"))
        else:
            render_exposure_text(result, stdout_console())

    run(body)


@app.command()
def reachable(
    to: Annotated[str | None, typer.Option("--to", help="Who can open a connection to this interface?")] = None,
    from_: Annotated[str | None, typer.Option("--from", help="What can this interface open?")] = None,
    port: Annotated[str | None, typer.Option("--port", help="Only this port (ICMP: type); default every port.")] = None,
    protocol: Annotated[str, typer.Option("--protocol", help="tcp, udp, icmp, icmpv6, all or a number.")] = "tcp",
    snapshot: SnapshotOption = None,
    format: Annotated[str, typer.Option("--format", help="text, json or html.")] = "text",
) -> None:
    """Set questions inside the snapshot: every source that can open DST, or every destination SRC can open."""
    from reach.api import reachable as reachable_of
    from reach.report.reachable import reachable_json, render_reachable_html, render_reachable_text

    def body() -> None:
        _check_format(format, ("text", "json", "html"))
        snap = _load(snapshot, quiet=format != "text")
        result = reachable_of(snap, to=to, from_=from_, port=port, protocol=protocol)
        if format == "json":
            typer.echo(reachable_json(result))
        elif format == "html":
            typer.echo(render_reachable_html(result))
        else:
            render_reachable_text(result, stdout_console())

    run(body)


def main() -> None:
    app(prog_name="reach")


if __name__ == "__main__":
    main()
