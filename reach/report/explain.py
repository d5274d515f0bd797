"""`reach explain` output, the answer first: the verdict on line 1, the blocker in plain words with its
name, the fix as one line to copy, a one-line path strip; then the records flow logs should show, and the
hop-by-hop walk only when asked (`--hops`)."""

from __future__ import annotations

import re

from rich.console import Console
from rich.text import Text

from reach.engine.explanation import Blocker, Explanation, Flow, Hop
from reach.report.console import symbols
from reach.report.layout import Cell, Column, left_out, one_line, paragraph, print_table
from reach.report.names import Names
from reach.report.safe import clean

# The short word for each kind in the path strip (AWS's own id prefixes).
_SHORT = {
    "security-group": "sg", "network-acl": "nacl", "route-table": "rtb", "internet-gateway": "igw",
    "egress-only-internet-gateway": "eigw", "nat-gateway": "nat", "network-interface": "eni",
    "vpc-peering-connection": "pcx", "transit-gateway": "tgw", "transit-gateway-route-table": "tgw-rtb",
    "vpc-endpoint": "vpce", "vpn-gateway": "vgw", "vpn-connection": "vpn", "load-balancer": "elb",
    "internet": "internet", "vpc-block-public-access": "bpa", "aws-service": "host",
    "direct-connect-gateway": "dxgw",
}
# A fix is prose, then the AWS CLI call that makes it: "allow ports 3306 before rule 100: aws ec2 …".
_COMMAND = re.compile(r"(?:^|: )(aws \S+ \S.*)$")


def flow_text(flow: Flow, arrow: str = "->") -> str:
    """`10.0.1.100 -> 10.0.2.50 tcp 3306`, `… icmp type 8 code 0`, `… all traffic`."""
    if flow.protocol in ("icmp", "icmpv6"):
        what = flow.protocol + ("" if flow.dst_port is None else f" type {flow.dst_port}")
        what += "" if flow.icmp_code is None else f" code {flow.icmp_code}"
    elif flow.protocol == "all":
        what = "all traffic"
    else:
        what = flow.protocol + ("" if flow.dst_port is None else f" {flow.dst_port}")
    src_port = f" from port {flow.src_port}" if flow.src_port is not None else ""
    return f"{clean(flow.src)} {arrow} {clean(flow.dst)} {what}{src_port}"


def render_explanation_text(explanation: Explanation, console: Console, names: Names | None = None, *,
                            hops: bool = False) -> None:
    names = names or Names()
    marks = symbols(console)
    verdict_style = "bold green" if explanation.accepted else "bold red"
    console.print(Text.assemble((explanation.verdict, verdict_style), "  ", flow_text(explanation.flow, marks["to"]),
                                "  ", (clean(explanation.reason), "dim")))
    for index, blocker in enumerate(explanation.blockers):
        _blocker(console, names, blocker, "Blocked by" if index == 0 else "Also blocked by")
    if explanation.fix:
        _fix(console, names, explanation.fix)
    _path(console, names, explanation, marks)
    if explanation.flow_logs:
        _flow_logs(console, explanation)
    _assumed(console, names, explanation.assumed)
    for note in explanation.notes:
        if note not in explanation.assumed:
            paragraph(console, Text(f"note: {clean(names.tag(note))}", style="dim"))
    if hops:
        render_hops(explanation.hops, console, names)


def hops_hint(console: Console) -> None:
    """The last line of an explanation printed without its hops."""
    console.print(Text("(--hops: every hop, both ways, with the rule that decided it)", style="dim"))


def _blocker(console: Console, names: Names, blocker: Blocker, lead: str) -> None:
    where = "on the return path" if blocker.return_path else "on the way there"
    words = Text.assemble((lead, "bold red"), "  ", clean(names.tag(blocker.detail)), f" ({where})")
    paragraph(console, words)
    if blocker.blocked_ports:
        paragraph(console, f"client ports blocked: {clean(blocker.blocked_ports)}", indent=2)


def _assumed(console: Console, names: Names, assumed: list[str]) -> None:
    """What the snapshot lacks and reach assumed instead, one item each: the answer holds only if they do."""
    if not assumed:
        return
    console.print(Text("Assumed", style="bold yellow"))
    for text in assumed:
        paragraph(console, Text(f"- {clean(names.tag(text))}"), indent=2)


def _fix(console: Console, names: Names, fix: str) -> None:
    found = _COMMAND.search(fix)
    if found is None:
        paragraph(console, Text.assemble(("Fix", "bold"), "  ", clean(names.tag(fix))))
        return
    prose = fix[: found.start()].strip()
    if prose:
        paragraph(console, Text.assemble(("Fix", "bold"), "  ", clean(names.tag(prose)), ":"))
    else:
        console.print(Text("Fix", style="bold"))
    one_line(console, Text(clean(found.group(1))))


def _strip_parts(hops: list[Hop], names: Names, marks: dict[str, str], named: str, ends: tuple[str, str]) -> list[str]:
    """One part per hop: the end interfaces as what they are, each filter and gateway with its mark.
    `named`: which parts carry their name: "all", "denied" (only the blocking ones), "none", or "grouped"
    (kinds only, and the hops that let it through in a row as one part). `ends`: what to call a leg's ends
    when they are not interfaces (an address on premises, the internet)."""
    parts: list[str] = []
    passed: list[str] = []  # "grouped": the run of hops that let it through
    for i, hop in enumerate(hops):
        short = _SHORT.get(hop.kind, hop.kind)
        if hop.kind == "network-interface" and (i == 0 or i == len(hops) - 1):
            if passed:
                parts.append(f"{'·'.join(passed)} {marks['ok']}")
                passed = []
            parts.append(names.endpoint(hop.id))
            continue
        denied = hop.decision == "deny"
        if named == "grouped" and not denied:
            passed.append(short)
            continue
        if passed:
            parts.append(f"{'·'.join(passed)} {marks['ok']}")
            passed = []
        label = names.short(hop.id, short) if named == "all" or (named in ("denied", "grouped") and denied) else short
        mark = marks["no"] if denied else marks["ok"]
        rule = f" #{hop.rule}" if denied and hop.kind == "network-acl" and hop.rule is not None else ""
        parts.append(f"{label} {mark}{rule}")
    if passed:
        parts.append(f"{'·'.join(passed)} {marks['ok']}")
    if hops and hops[0].kind != "network-interface":
        parts.insert(0, ends[0])
    if hops and hops[-1].kind != "network-interface" and hops[-1].decision != "deny":
        parts.append(ends[1])
    return [clean(part) for part in parts]


def _path(console: Console, names: Names, explanation: Explanation, marks: dict[str, str]) -> None:
    hops, flow = explanation.hops, explanation.flow
    forward = [h for h in hops if not h.return_path]
    back = [h for h in hops if h.return_path]
    if not forward:
        return
    back_blocked = any(h.decision == "deny" for h in back)
    # the response's fate, when it is all that is left to say: only after a request that gets through
    response_ok = bool(back) and not back_blocked and not any(h.decision == "deny" for h in forward)
    # a flow that left the snapshot did not reach its destination as far as reach knows: say so at the end
    dst = f"{flow.dst}?" if explanation.reason == "UNKNOWN_DESTINATION" else flow.dst
    lines = []
    for named in ("all", "denied", "none", "grouped"):
        there = f" {marks['to']} ".join(_strip_parts(forward, names, marks, named, (flow.src, dst)))
        if response_ok:
            there += f"  {marks['back']} {marks['ok']}"
        lines = [("Path  ", there)]
        if back_blocked:
            ends = (flow.dst, flow.src)
            lines.append(("Back  ", f" {marks['to']} ".join(_strip_parts(back, names, marks, named, ends))))
        if all(len(lead) + len(line) <= console.width for lead, line in lines):
            break
    for lead, line in lines:
        one_line(console, Text.assemble((lead, "bold"), line))


def _flow_logs(console: Console, explanation: Explanation) -> None:
    rows: list[list[Cell]] = []
    for record in explanation.flow_logs:
        ports = f"{_port(record.srcport)} -> {_port(record.dstport)}"
        what = f"{clean(record.srcaddr)} -> {clean(record.dstaddr)} {ports}"
        rows.append([clean(record.interface_id), record.direction, what + (" (response)" if record.return_path else ""),
                     Text(record.action, style="green" if record.action == "ACCEPT" else "red")])
    columns = [Column("interface"), Column("direction", drop=1), Column("record"), Column("action")]
    left_out(console, print_table(console, columns, rows, title="Flow logs should show"))


def render_hops(hops: list[Hop], console: Console, names: Names | None = None) -> None:
    """Every hop, forward then return: its mark, component (named), direction and rule, then the detail."""
    names = names or Names()
    marks = symbols(console)
    leg = None
    for hop in hops:
        label = "return" if hop.return_path else "forward"
        if label != leg:
            leg = label
            console.print(Text(label, style="dim italic"))
        denied = hop.decision == "deny"
        head = Text.assemble((marks["no"] if denied else marks["ok"], "bold red" if denied else "green"), " ",
                             clean(f"{hop.kind} {names.label(hop.id)}".strip()))
        if hop.direction:
            head.append(f" {hop.direction}")
        if hop.rule is not None:
            head.append(f", rule {clean(hop.rule)}")
        paragraph(console, head, indent=2)
        if hop.detail:
            paragraph(console, Text(clean(names.tag(hop.detail)), style="red" if denied else ""), indent=4)


def _port(port: int | None) -> str:
    return "*" if port is None else str(port)
