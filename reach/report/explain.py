"""`reach explain` output: a hop table, the verdict, the blocker in plain words, the smallest fix."""

from __future__ import annotations

import json

from rich.console import Console
from rich.table import Table
from rich.text import Text

from reach.engine.explanation import Explanation

_CONTRACT_BLOCKER = ("kind", "id", "direction", "rule", "return_path", "groups", "detail")


def explanation_json(explanation: Explanation) -> str:
    return json.dumps(explanation.model_dump(mode="json"), indent=2)


def render_explanation_text(explanation: Explanation, console: Console) -> None:
    flow = explanation.flow
    port = f":{flow.dst_port}" if flow.dst_port is not None else ""
    if flow.protocol in ("icmp", "icmpv6") and flow.icmp_code:
        port += f"/{flow.icmp_code}"
    src_port = f" from port {flow.src_port}" if flow.src_port is not None else ""
    console.print(Text.assemble(("Flow  ", "bold"), f"{flow.src} -> {flow.dst}{port} ({flow.protocol}){src_port}"))
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    for column in ("", "component", "dir", "decision", "rule", "detail"):
        table.add_column(column, overflow="fold")
    leg = None
    for hop in explanation.hops:
        label = "return" if hop.return_path else "forward"
        if label != leg:
            leg = label
            table.add_row(Text(label, style="dim italic"), "", "", "", "", "")
        decision = Text(hop.decision, style="green" if hop.decision == "allow" else "bold red")
        table.add_row(
            "",
            f"{hop.kind} {hop.id or ''}".strip(),
            hop.direction or "",
            decision,
            "" if hop.rule is None else str(hop.rule),
            hop.detail,
        )
    console.print(table)
    style = "bold green" if explanation.accepted else "bold red"
    console.print(Text.assemble(("Verdict  ", "bold"), (explanation.verdict, style), f"  ({explanation.reason})"))
    for index, blocker in enumerate(explanation.blockers):
        where = "on the return path" if blocker.return_path else "on the way there"
        lead = "Blocked by" if index == 0 else "Also blocked by"
        console.print(Text.assemble((f"{lead}  ", "bold red"), f"{blocker.detail} ({where})"))
        if blocker.blocked_ports:
            console.print(f"  client ports blocked: {blocker.blocked_ports}")
    if explanation.fix:
        console.print(Text.assemble(("Fix  ", "bold"), explanation.fix))
    if explanation.flow_logs:
        records = Table(title="Flow logs should show", title_justify="left", box=None, header_style="bold")
        for column in ("interface", "direction", "record", "action"):
            records.add_column(column)
        for record in explanation.flow_logs:
            ports = f"{_port(record.srcport)} -> {_port(record.dstport)}"
            what = f"{record.srcaddr} -> {record.dstaddr} {ports}" + (" (response)" if record.return_path else "")
            records.add_row(
                record.interface_id,
                record.direction,
                what,
                Text(record.action, style="green" if record.action == "ACCEPT" else "red"),
            )
        console.print(records)
    for note in explanation.notes:
        console.print(Text(f"note: {note}", style="dim"))


def _port(port: int | None) -> str:
    return "*" if port is None else str(port)
