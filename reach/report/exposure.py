"""`reach exposure` output: the answer first (how many interfaces the internet can open, the worst), then a
table that fits 80 columns, then where a security-group-only view is wrong. Text (rich), JSON (CONTRACT §8)
and a minimal self-contained HTML page (`templates/exposure.html.j2`)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from netaddr import IPSet
from rich.console import Console
from rich.table import Table

from reach.report.sets import ports_text, sources_text
from reach.sets.results import Access, ExposureResult, InterfaceExposure

WIDTH = 80


def exposure_json(result: ExposureResult) -> str:
    return json.dumps(result.model_dump(mode="json"), indent=2)


def _size(access: Access) -> float:
    """How much an entry opens: ports (every protocol counts 256 x 65536) x the share of the address space."""
    ports = sum(hi - lo + 1 for lo, hi in access.ports) * (256 if access.protocol == "all" else 1)
    share = sum(c.size / (2**32 if c.version == 4 else 2**128) for c in IPSet(access.sources).iter_cidrs())
    return ports * share


def worst(result: ExposureResult) -> InterfaceExposure | None:
    exposed = [i for i in result.interfaces if i.exposed]
    return max(exposed, key=lambda i: (sum(_size(e) for e in i.exposed), i.interface_id), default=None)


def headline(result: ExposureResult) -> list[str]:
    summary = result.summary
    lines = [f"Exposure  {summary.exposed} of {summary.interfaces} interfaces can be opened from the internet"]
    top = worst(result)
    if top is not None:
        what = "; ".join(f"{e.protocol} {ports_text(e.ports)}" for e in top.exposed[:4])
        lines.append(f"Worst  {_label(top)}: {what}")
    if summary.sg_only_wrong:
        lines.append(
            f"Security groups alone suggest {summary.sg_only_exposed}, and are wrong for {summary.sg_only_wrong}: "
            f"{summary.sg_only_overstated} overstated, {summary.sg_only_missed} missed"
        )
    else:
        lines.append(f"Security groups alone suggest {summary.sg_only_exposed}, and are right for every one")
    return lines


def _label(interface: InterfaceExposure) -> str:
    name = f" ({interface.name})" if interface.name else ""
    public = f" {interface.public_ips[0]}" if interface.public_ips else ""
    return f"{interface.interface_id}{name}{public}"


def render_exposure_text(result: ExposureResult, console: Console) -> None:
    for line in headline(result):
        console.print(line, width=WIDTH)
    internet = IPSet(result.internet)
    exposed = [i for i in result.interfaces if i.exposed]
    partial: list[str] = []
    if exposed:
        table = Table(box=None, width=min(console.width, WIDTH), pad_edge=False, show_edge=False)
        table.add_column("interface", width=21, no_wrap=True)
        table.add_column("protocol", width=8, overflow="fold")
        table.add_column("ports", ratio=2, overflow="fold")
        table.add_column("sources", ratio=3, overflow="fold")
        table.add_column("via", width=21, overflow="fold")
        for interface in exposed:
            for k, entry in enumerate(interface.exposed):
                first = k == 0
                label = (interface.interface_id + (f"\n{interface.name}" if interface.name else "")) if first else ""
                ports = ports_text(entry.ports)
                if entry.client_ports:
                    partial.append(f"{interface.interface_id} {entry.protocol} {ports}: only clients using ports "
                                   f"{ports_text(entry.client_ports)} get the response (the network ACL drops the rest "
                                   "of 1024-65535)")
                    ports += " *"
                table.add_row(label, _protocol(entry), ports, sources_text(entry.sources, internet),
                              entry.via + (f"\n{entry.listener}" if entry.listener else ""))
        console.print()
        console.print(table)
        if partial:
            console.print()
        for line in partial:
            console.print(f"* {line}", width=WIDTH)
    wrong = [i for i in result.interfaces if i.sg_only_wrong]
    if wrong:
        console.print()
        console.print("Where the security-group-only view is wrong")
        for interface in wrong:
            console.print(f" {_label(interface)}")
            for sg in interface.sg_only:
                if not sg.exposed:
                    console.print(f"   reports {_protocol(sg)} {ports_text(sg.ports)} from "
                                  f"{sources_text(sg.sources, internet)}: not reachable", soft_wrap=True)
            through = [e for e in interface.exposed if e.listener]
            if through:
                console.print("   misses what a load balancer opens: "
                              + "; ".join(f"{_protocol(e)} {ports_text(e.ports)} via {e.via}" for e in through),
                              soft_wrap=True)
            if any(not sg.exposed for sg in interface.sg_only):
                for note in interface.notes[:4]:
                    console.print(f"   why: {note}", soft_wrap=True)
    for note in result.notes:
        console.print(f"Note  {note}", soft_wrap=True)


def _protocol(access: Access) -> str:
    text = access.protocol
    if access.except_protocols:
        text += " but " + ", ".join(access.except_protocols)
    if access.codes:
        text += f" code {ports_text(access.codes)}"
    return text


def render_exposure_html(result: ExposureResult, title: str = "reach exposure") -> str:
    from reach.report.pages import page  # Jinja2: only for the page

    internet = IPSet(result.internet)

    def rows(items: Sequence[Access]) -> list[dict[str, object]]:
        return [
            {
                "protocol": _protocol(a),
                "ports": ports_text(a.ports),
                "sources": sources_text(a.sources, internet),
                "sources_all": ", ".join(a.sources),
                "via": getattr(a, "via", ""),
                "listener": getattr(a, "listener", None),
                "client_ports": ports_text(getattr(a, "client_ports", None) or []),
                "exposed": getattr(a, "exposed", True),
            }
            for a in items
        ]

    interfaces = [
        {"id": i.interface_id, "name": i.name, "public_ips": i.public_ips, "exposed": rows(i.exposed),
         "sg_only": rows(i.sg_only), "wrong": i.sg_only_wrong, "notes": i.notes}
        for i in result.interfaces
        if i.exposed or i.sg_only
    ]
    lines = headline(result)
    return page("exposure.html.j2", page="exposure", title=title, heading=lines[0], subtitle=" · ".join(lines[1:]),
                interfaces=interfaces, notes=result.notes)
