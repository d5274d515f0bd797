"""Rule usage as a to-do list: lines nothing used first, then lines used far more narrowly than they allow,
then the rest. Each item says what the line allows, what used it, and what to do."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from reach.model.protocols import protocol_name
from reach.reconcile.result import RuleUsage, utc_text

_SHOWN = 40  # items of each kind listed before "and N more"


def _ports(protocol: int, ranges: list[list[int]]) -> str:
    name = protocol_name(protocol)
    if protocol == -1:
        return "all traffic"
    if not ranges or ranges == [[0, 65535]] or protocol not in (1, 6, 17, 58):
        return f"all {name}"
    words = ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in ranges[:6])
    more = f" (+{len(ranges) - 6} more)" if len(ranges) > 6 else ""
    return f"{name} {'type ' if protocol in (1, 58) else ''}{words}{more}"


def _peers(cidrs: list[str], group: str | None, prefix_list: str | None) -> str:
    if group:
        return f"members of {group}"
    if prefix_list:
        return f"prefix list {prefix_list}"
    shown = ", ".join(cidrs[:4])
    return shown + (f" (+{len(cidrs) - 4} more)" if len(cidrs) > 4 else "")


def _seen(line: RuleUsage) -> str:
    """What used the line: its protocols and ports (for a line of all traffic, each protocol seen)."""
    if line.protocol != -1:
        return _ports(line.protocol, line.observed.ports)
    ported = [p for p in line.observed.protocols if p in ("tcp", "udp")]
    words = [f"{p} " + _ports(6, line.observed.ports).removeprefix("tcp ") for p in ported]
    return ", ".join(words + [p for p in line.observed.protocols if p not in ported]) or "nothing"


def _name(line: RuleUsage) -> str:
    where = f"#{line.rule}" if line.kind == "network-acl" else str(line.rule or "(no rule id)")
    side = "inbound" if line.direction == "ingress" else "outbound"
    return f"{line.id} {where} {side}"


def _to_from(line: RuleUsage) -> str:
    return "from" if line.direction == "ingress" else "to"


def render_usage_text(usage: list[RuleUsage], console: Console) -> None:
    unused = [u for u in usage if u.status == "unused"]
    wider = [u for u in usage if u.status == "wider"]
    used = [u for u in usage if u.status == "used"]
    console.print(
        f"[bold]Rule usage:[/bold] {len(usage)} allow lines on the interfaces the flow logs cover: "
        f"{len(unused)} unused, {len(wider)} far wider than used, {len(used)} used as allowed."
    )
    if unused:
        console.print("\n[bold]Unused[/bold] — no observed record needed them; revoke after checking with whatif:")
        for line in unused[:_SHOWN]:
            allows = f"{_ports(line.protocol, line.allows_ports)} {_to_from(line)} " + _peers(
                line.allows_sources, line.peer_group, line.peer_prefix_list)
            console.print(f"  [red]✗[/red] {escape(_name(line))}", soft_wrap=True)
            console.print(f"      allows {escape(allows)}", soft_wrap=True)
        if len(unused) > _SHOWN:
            console.print(f"  … and {len(unused) - _SHOWN} more")
    if wider:
        console.print("\n[bold]Far wider than used[/bold] — narrow to what was seen:")
        for line in wider[:_SHOWN]:
            allows = f"{_ports(line.protocol, line.allows_ports)} {_to_from(line)} " + _peers(
                line.allows_sources, None, None)
            seen = f"{_seen(line)} {_to_from(line)} {_peers(line.observed.sources, None, None)}"
            console.print(f"  [yellow]↓[/yellow] {escape(_name(line))}", soft_wrap=True)
            console.print(f"      allows  {escape(allows)}", soft_wrap=True)
            console.print(f"      used by {escape(seen)}", soft_wrap=True)
            console.print(f"      {line.records} records, {line.flows} flows, last {utc_text(line.last_seen)}")
        if len(wider) > _SHOWN:
            console.print(f"  … and {len(wider) - _SHOWN} more")
    if used:
        console.print(f"\n[bold]Used as allowed[/bold]: {len(used)} lines.")
    if unused or wider:
        console.print(
            "\nWrite these as a change set with --suggest-changes FILE, then check that nothing observed breaks: "
            "reach whatif FILE --snapshot … --flow-logs …", soft_wrap=True,
        )
