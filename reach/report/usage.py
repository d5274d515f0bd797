"""Rule usage as a to-do list: lines nothing used first, then lines used far more narrowly than they allow,
then the rest. Each item says what the line allows, what used it, and what to do."""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from reach.model.protocols import ICMP_FAMILY, PORTED, protocol_name
from reach.reconcile.result import RuleUsage, utc_text
from reach.report.console import symbols
from reach.report.layout import one_line, paragraph
from reach.report.names import Names
from reach.report.safe import clean

_SHOWN = 40  # items of each kind listed before "and N more"


def _ports(protocol: int, ranges: list[list[int]]) -> str:
    name = protocol_name(protocol)
    if protocol == -1:
        return "all traffic"
    if not ranges or ranges == [[0, 65535]] or protocol not in PORTED | ICMP_FAMILY:
        return f"all {name}"
    words = ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in ranges[:6])
    more = f" (+{len(ranges) - 6} more)" if len(ranges) > 6 else ""
    return f"{name} {'type ' if protocol in ICMP_FAMILY else ''}{words}{more}"


def _seen(line: RuleUsage) -> str:
    """What used the line: its protocols and ports (for a line of all traffic, each protocol seen)."""
    if line.protocol != -1:
        return _ports(line.protocol, line.observed.ports)
    ported = [p for p in line.observed.protocols if p in ("tcp", "udp")]
    words = [f"{p} " + _ports(6, line.observed.ports).removeprefix("tcp ") for p in ported]
    return ", ".join(words + [p for p in line.observed.protocols if p not in ported]) or "nothing"


def _peers(cidrs: list[str], group: str | None, prefix_list: str | None, names: Names) -> str:
    if group:
        return f"members of {names.label(group)}"
    if prefix_list:
        return f"prefix list {names.label(prefix_list)}"
    shown = ", ".join(cidrs[:4])
    return shown + (f" (+{len(cidrs) - 4} more)" if len(cidrs) > 4 else "")


def _name(line: RuleUsage, names: Names) -> str:
    where = f"#{line.rule}" if line.kind == "network-acl" else str(line.rule or "(a rule without id)")
    side = "inbound" if line.direction == "ingress" else "outbound"
    return f"{names.label(line.id)} {where} {side}"


def _to_from(line: RuleUsage) -> str:
    return "from" if line.direction == "ingress" else "to"


def render_usage_text(usage: list[RuleUsage], console: Console, names: Names | None = None) -> None:
    names = names or Names()
    marks = symbols(console)
    unused = [u for u in usage if u.status == "unused"]
    wider = [u for u in usage if u.status == "wider"]
    used = [u for u in usage if u.status == "used"]
    paragraph(console, Text.assemble(
        ("Rule usage: ", "bold"),
        f"{len(usage)} allow lines on the interfaces the flow logs cover: {len(unused)} unused, "
        f"{len(wider)} far wider than used, {len(used)} used as allowed."))
    if unused:
        console.print()
        paragraph(console, Text.assemble(("Unused", "bold"), " — no observed record needed them:"))
        for line in unused[:_SHOWN]:
            allows = f"{_ports(line.protocol, line.allows_ports)} {_to_from(line)} " + _peers(
                line.allows_sources, line.peer_group, line.peer_prefix_list, names)
            paragraph(console, Text.assemble((marks["no"], "red"), " ", clean(_name(line, names))), indent=2)
            paragraph(console, clean(f"allows {allows}"), indent=6)
        if len(unused) > _SHOWN:
            paragraph(console, f"… and {len(unused) - _SHOWN} more", indent=2)
    if wider:
        console.print()
        paragraph(console, Text.assemble(("Far wider than used", "bold"), " — narrow to what was seen:"))
        for line in wider[:_SHOWN]:
            allows = f"{_ports(line.protocol, line.allows_ports)} {_to_from(line)} " + _peers(
                line.allows_sources, None, None, names)
            seen = f"{_seen(line)} {_to_from(line)} {_peers(line.observed.sources, None, None, names)}"
            paragraph(console, Text.assemble(("↓" if marks["to"] == "→" else "v", "yellow"), " ",
                                             clean(_name(line, names))), indent=2)
            paragraph(console, clean(f"allows  {allows}"), indent=6)
            paragraph(console, clean(f"used by {seen}"), indent=6)
            paragraph(console, f"{line.records} records, {line.flows} flows, last {utc_text(line.last_seen)}",
                      indent=6)
        if len(wider) > _SHOWN:
            paragraph(console, f"… and {len(wider) - _SHOWN} more", indent=2)
    if used:
        console.print()
        paragraph(console, Text.assemble(("Used as allowed", "bold"), f": {len(used)} lines."))
    if unused or wider:
        console.print()
        paragraph(console, "Write these as a change set, then check that nothing observed breaks:")
        one_line(console, "  reach reconcile … --suggest-changes narrow.json")
        one_line(console, "  reach whatif narrow.json --snapshot … --flow-logs …")
