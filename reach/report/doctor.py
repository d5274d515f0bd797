"""`reach doctor` output: the flow logs, which interface each covers, and the findings with their fixes."""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from reach.doctor.report import DoctorReport, Finding, FlowLogReport, InterfaceCoverage
from reach.report.layout import Cell, Column, left_out, one_line, paragraph, print_table
from reach.report.outputs import Versioned, dumps
from reach.report.safe import clean


class DoctorOutput(DoctorReport, Versioned):
    """`reach doctor`."""


def doctor_json(report: DoctorReport) -> str:
    return dumps(DoctorOutput.model_validate(dict(report)))


_SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}
_STATUS_STYLE = {
    "covered": "green", "accept-only": "yellow", "reject-only": "yellow", "failing": "red", "none": "red"
}


def render_doctor_text(report: DoctorReport, console: Console) -> None:
    """The summary first (can the flow logs show what happened?), then the findings with their fixes, then
    the flow logs and the coverage of each interface."""
    summary = report.summary
    parts = [
        f"{summary.flow_logs} flow log{'s' if summary.flow_logs != 1 else ''}",
        f"{summary.interfaces} interfaces: {summary.covered} fully covered",
    ]
    for count, what in ((summary.partial, "partially"), (summary.failing, "failing delivery"),
                        (summary.uncovered, "not covered"), (summary.silent, "silent")):
        if count:
            parts.append(f"{count} {what}")
    verdict = Text(f"{_plural(summary.errors, 'error')}, {_plural(summary.warnings, 'warning')}",
                   style="bold red" if summary.errors else ("yellow" if summary.warnings else "green"))
    paragraph(console, Text.assemble(("Summary  ", "bold"), ", ".join(parts), "; ", verdict))
    console.print()
    _findings(report.findings, console)
    _flow_logs(report.flow_logs, console)
    _interfaces(report.interfaces, console, with_data=report.data is not None)
    if report.data is not None:
        data = report.data
        paragraph(console,
            f"Flow-log data: {data.records} records in {data.files} file(s), {data.interfaces} interfaces"
            + (f", {data.unparsable} unparsable lines" if data.unparsable else "")
            + (f", {data.unknown_count} interfaces not in the snapshot" if data.unknown_count else "")
        )


def _flow_logs(reports: list[FlowLogReport], console: Console) -> None:
    if not reports:
        return
    rows: list[list[Cell]] = []
    for report in reports:
        fmt = "default" if report.default_format else "custom"
        if report.missing_fields:
            count = len(report.missing_fields)
            fmt += f" (lacks {count} field{'s' if count > 1 else ''})"
        delivery = Text(clean(report.deliver_logs_status or "?"),
                        style="red" if (report.deliver_logs_status or "").upper() == "FAILED" else "green")
        if report.deliver_logs_error_message:
            delivery.append(f": {clean(report.deliver_logs_error_message)}")
        partial = (report.traffic_type or "ALL") != "ALL"
        traffic = Text(clean(report.traffic_type or "?"), style="yellow" if partial else "")
        interval = f"{report.aggregation_interval // 60} min" if report.aggregation_interval else "?"
        # A CloudWatch Logs destination is an ARN ending in the log group's name: the name says it all.
        where = (report.destination or "(none)").split(":log-group:")[-1]
        destination = clean(f"{report.destination_type or 'cloud-watch-logs'} {where}")
        rows.append([clean(report.id), clean(f"{report.level} {report.resource_id}"), traffic, destination,
                     interval, fmt, delivery, str(len(report.interfaces))])
    columns = [Column("flow log"), Column("resource", drop=3), Column("traffic"), Column("destination", drop=4),
               Column("window", drop=6), Column("format", drop=2), Column("delivery"), Column("ENIs", drop=5)]
    left_out(console, print_table(console, columns, rows, title="Flow logs"))
    console.print()


def _interfaces(entries: list[InterfaceCoverage], console: Console, *, with_data: bool) -> None:
    if not entries:
        return
    rows: list[list[Cell]] = []
    for entry in entries:
        logs = ", ".join(
            f"{c.flow_log_id} ({c.level}{'' if c.delivering else ', failing'})" for c in entry.flow_logs
        ) or "-"
        row: list[Cell] = [
            clean(entry.interface_id),
            clean(entry.name or _short(entry.description) or entry.kind),
            clean(entry.subnet_id),
            clean(logs),
            "ALL" if len(entry.captures) == 2 else (", ".join(entry.captures) or "-"),
            Text(entry.status, style=_STATUS_STYLE[entry.status]),
        ]
        if with_data:
            observed = entry.observed
            row.append(str(observed.records) if observed else "-")
        rows.append(row)
    columns = [Column("interface"), Column("name", drop=2), Column("subnet", drop=3), Column("flow logs", drop=1),
               Column("captures", drop=4), Column("status")]
    if with_data:
        columns.append(Column("records", right=True))
    left_out(console, print_table(console, columns, rows, title="Coverage"))
    console.print()


def _short(description: str | None) -> str | None:
    # Service-made interfaces carry long generated descriptions; a short one is a better label than the kind.
    return description if description and len(description) <= 32 else None


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _findings(findings: list[Finding], console: Console) -> None:
    if not findings:
        paragraph(console, Text("No problem found: every interface is covered by a delivering flow log that "
                                "records ALL traffic with the fields reconcile uses.", style="green"))
        console.print()
        return
    console.print(Text("Findings", style="bold"))
    # The same finding about several flow logs is said once, naming them all.
    merged: list[tuple[Finding, list[str]]] = []
    for finding in findings:
        last = merged[-1][0] if merged else None
        if last is not None and (last.severity, last.code, last.summary, last.detail, last.fix) == (
            finding.severity, finding.code, finding.summary, finding.detail, finding.fix
        ):
            merged[-1][1].append(finding.subject)
        else:
            merged.append((finding, [finding.subject]))
    for finding, subjects in merged:
        paragraph(console, Text.assemble(
            (f"{finding.severity.upper():<8}", _SEVERITY_STYLE[finding.severity]),
            (clean(", ".join(subjects)), "bold"), "  ", clean(finding.summary),
        ))
        paragraph(console, Text(f"why: {clean(finding.detail)}", style="dim"), indent=8)
        if finding.fix:
            _fix(console, clean(finding.fix))
    console.print()


def _fix(console: Console, fix: str) -> None:
    # A fix that is an AWS CLI call is printed whole on one line, to copy; prose wraps.
    if fix.startswith("aws "):
        one_line(console, Text(f"        fix: {fix}"))
    else:
        paragraph(console, f"fix: {fix}", indent=8)
