"""`reach doctor` output: the flow logs, which interface each covers, and the findings with their fixes."""

from __future__ import annotations

import json

from rich.console import Console
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from reach.doctor.report import DoctorReport, Finding, FlowLogReport, InterfaceCoverage

_SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}
_STATUS_STYLE = {
    "covered": "green", "accept-only": "yellow", "reject-only": "yellow", "failing": "red", "none": "red"
}


def doctor_json(report: DoctorReport) -> str:
    return json.dumps(report.model_dump(mode="json"), indent=2)


def render_doctor_text(report: DoctorReport, console: Console) -> None:
    _flow_logs(report.flow_logs, console)
    _interfaces(report.interfaces, console, with_data=report.data is not None)
    if report.data is not None:
        data = report.data
        console.print(
            f"Flow-log data: {data.records} records in {data.files} file(s), {data.interfaces} interfaces"
            + (f", {data.unparsable} unparsable lines" if data.unparsable else "")
            + (f", {data.unknown_count} interfaces not in the snapshot" if data.unknown_count else "")
        )
        console.print()
    _findings(report.findings, console)
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
    console.print(Text.assemble(("Summary  ", "bold"), ", ".join(parts), "; ", verdict))


def _flow_logs(reports: list[FlowLogReport], console: Console) -> None:
    if not reports:
        return
    table = Table(title="Flow logs", title_justify="left", title_style="bold", box=None, header_style="bold",
                  pad_edge=False)
    for column in ("flow log", "resource", "traffic", "destination", "window", "format", "delivery", "ENIs"):
        table.add_column(column, overflow="fold")
    for report in reports:
        fmt = "default" if report.default_format else "custom"
        if report.missing_fields:
            count = len(report.missing_fields)
            fmt += f" (lacks {count} field{'s' if count > 1 else ''})"
        delivery = Text(report.deliver_logs_status or "?",
                        style="red" if (report.deliver_logs_status or "").upper() == "FAILED" else "green")
        if report.deliver_logs_error_message:
            delivery.append(f": {report.deliver_logs_error_message}")
        partial = (report.traffic_type or "ALL") != "ALL"
        traffic = Text(report.traffic_type or "?", style="yellow" if partial else "")
        interval = f"{report.aggregation_interval // 60} min" if report.aggregation_interval else "?"
        # A CloudWatch Logs destination is an ARN ending in the log group's name: the name says it all.
        where = (report.destination or "(none)").split(":log-group:")[-1]
        destination = f"{report.destination_type or 'cloud-watch-logs'} {where}"
        table.add_row(report.id, f"{report.level} {report.resource_id}", traffic, destination, interval, fmt,
                      delivery, str(len(report.interfaces)))
    console.print(table)
    console.print()


def _interfaces(entries: list[InterfaceCoverage], console: Console, *, with_data: bool) -> None:
    if not entries:
        return
    table = Table(title="Coverage", title_justify="left", title_style="bold", box=None, header_style="bold",
                  pad_edge=False)
    columns = ["interface", "name", "subnet", "flow logs", "captures", "status"]
    if with_data:
        columns.append("records")
    for column in columns:
        table.add_column(column, overflow="fold")
    for entry in entries:
        logs = ", ".join(
            f"{c.flow_log_id} ({c.level}{'' if c.delivering else ', failing'})" for c in entry.flow_logs
        ) or "-"
        row: list[str | Text] = [
            entry.interface_id,
            entry.name or _short(entry.description) or entry.kind,
            entry.subnet_id,
            logs,
            "ALL" if len(entry.captures) == 2 else (", ".join(entry.captures) or "-"),
            Text(entry.status, style=_STATUS_STYLE[entry.status]),
        ]
        if with_data:
            observed = entry.observed
            row.append(str(observed.records) if observed else "-")
        table.add_row(*row)
    console.print(table)
    console.print()


def _short(description: str | None) -> str | None:
    # Service-made interfaces carry long generated descriptions; a short one is a better label than the kind.
    return description if description and len(description) <= 32 else None


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _findings(findings: list[Finding], console: Console) -> None:
    if not findings:
        console.print(Text("No problem found: every interface is covered by a delivering flow log that "
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
        console.print(Text.assemble(
            (f"{finding.severity.upper():<8}", _SEVERITY_STYLE[finding.severity]),
            (", ".join(subjects), "bold"), "  ", finding.summary,
        ))
        console.print(Padding(Text(f"why: {finding.detail}", style="dim"), (0, 0, 0, 8)))
        if finding.fix:
            console.print(Padding(Text(f"fix: {finding.fix}"), (0, 0, 0, 8)))
    console.print()
