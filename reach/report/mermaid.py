"""`reach explain --format mermaid`: the path as a Mermaid flowchart, for pull-request comments and tickets.

Each lane (the request, then the response) is a subgraph that runs top to bottom from one end of the flow to
the other, the lanes side by side. Node ids are reach's own (`h0`, `l0s`, …), never a snapshot's name, and
every label character outside a small safe set is written as a Mermaid entity code (`#35;`), so no Name tag
can break the diagram or inject into it.
"""

from __future__ import annotations

import string
from itertools import groupby

from reach.engine.explanation import Explanation, Hop
from reach.model.network import Network
from reach.model.vocabulary import Action
from reach.report.names import component_names
from reach.report.svg_path import DIRECTION_LABELS, kind_label, rule_label

_SAFE = frozenset(string.ascii_letters + string.digits + " .,:/_-+=@()")
_DENY_STYLE = "fill:#ffebe9,stroke:#cf222e,stroke-width:3px,color:#82071e"


def label(*lines: str) -> str:
    """A quoted node label: lines joined by Mermaid's line break, every other character an entity code."""
    return '"' + "<br/>".join("".join(c if c in _SAFE else f"#{ord(c)};" for c in line) for line in lines) + '"'


def _hop_lines(hop: Hop, names: dict[str, str]) -> list[str]:
    mark = "✗" if hop.decision == Action.DENY else "✓"
    side = DIRECTION_LABELS.get(hop.direction or "", "")
    lines = [f"{mark} {kind_label(hop.kind)}" + (f" {side}" if side else "")]
    if hop.id:
        name = names.get(hop.id)
        lines.append(f"{hop.id} ({name})" if name else hop.id)
    rule = rule_label(hop.kind, hop.rule, hop.decision == Action.DENY)
    if rule:
        lines.append(rule)
    return lines


def explanation_mermaid(explanation: Explanation, *networks: Network | None) -> str:
    """The explanation's path as a Mermaid `flowchart`, the denying hops styled red."""
    names = component_names(*networks)
    flow = explanation.flow
    port = "" if flow.dst_port is None else f":{flow.dst_port}"
    code = "" if flow.icmp_code is None else f"/{flow.icmp_code}"
    source, destination = f"source {flow.src}", f"destination {flow.dst}{port}{code} {flow.protocol}"
    # wide enough labels that an id is never broken across lines
    lines = ["---", "config:", "  flowchart:", "    wrappingWidth: 400", "---", "flowchart LR",
             f"    %% reach explain: {explanation.verdict} ({explanation.reason})"]
    links: list[str] = []
    denied: list[str] = []
    runs = groupby(enumerate(explanation.hops), key=lambda item: item[1].return_path)
    lanes = 0
    for lane, (back, run) in enumerate(runs):
        lanes += 1
        first, last = (destination, source) if back else (source, destination)
        lines.append(f"    subgraph l{lane}[{label('response' if back else 'request')}]")
        lines.append("        direction TB")
        lines.append(f"        l{lane}a([{label(first)}])")
        previous, cut = f"l{lane}a", False
        for index, hop in run:
            node = f"h{index}"
            lines.append(f"        {node}[{label(*_hop_lines(hop, names))}]")
            links.append(f"    {previous} {'-.->' if cut else '-->'} {node}")
            previous = node
            if hop.decision == Action.DENY:
                denied.append(node)
                cut = True
        lines.append(f"        l{lane}b([{label(last)}])")
        links.append(f"    {previous} {'-.->' if cut else '-->'} l{lane}b")
        lines.append("    end")
    lines += links
    lines += [f"    l{lane - 1} ~~~ l{lane}" for lane in range(1, lanes)]  # the lanes side by side
    if denied:
        lines.append(f"    classDef deny {_DENY_STYLE}")
        lines.append(f"    class {','.join(denied)} deny")
    return "\n".join(lines) + "\n"
