"""The layout of an explanation's path, for `_path.svg.j2` to draw: every hop a box, in lanes.

A lane is a run of hops in one direction: the request goes down from the source at the top to the
destination at the bottom, its response comes back up beside it (a load balancer's second leg adds another
pair). Positions and the text that fits each box are worked out here; the template only draws.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby

from reach.engine.explanation import Explanation, Hop
from reach.model.vocabulary import Action, Direction, Kind

BOX_W, BOX_H = 300, 58
ROW = 78  # vertical distance between hops
LANE_GAP = 64
MARGIN = 16
END_H = 44
LANE_TOP = MARGIN + END_H + 44  # first row, below the source and the lane titles
PAD = 10
MONO_CHAR, SANS_CHAR = 6.7, 7.0  # average glyph widths (px) of the 11.5px monospace and 12px sans fonts

KIND_LABELS: dict[str, str] = {
    Kind.SECURITY_GROUP: "security group",
    Kind.NETWORK_ACL: "network ACL",
    Kind.ROUTE_TABLE: "route table",
    Kind.INTERNET_GATEWAY: "internet gateway",
    Kind.EGRESS_ONLY_INTERNET_GATEWAY: "egress-only internet gateway",
    Kind.NAT_GATEWAY: "NAT gateway",
    Kind.NETWORK_INTERFACE: "network interface",
    Kind.VPC_PEERING_CONNECTION: "VPC peering",
    Kind.TRANSIT_GATEWAY: "transit gateway",
    Kind.TRANSIT_GATEWAY_ROUTE_TABLE: "transit gateway route table",
    Kind.VPC_ENDPOINT: "VPC endpoint",
    Kind.VPN_GATEWAY: "VPN gateway",
    Kind.VPN_CONNECTION: "VPN connection",
    Kind.LOAD_BALANCER: "load balancer",
    Kind.INTERNET: "internet",
    Kind.VPC_BLOCK_PUBLIC_ACCESS: "VPC Block Public Access",
}
DIRECTION_LABELS: dict[str, str] = {Direction.INGRESS: "inbound", Direction.EGRESS: "outbound"}


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, kind.replace("-", " "))


def fit(text: str, width: float, char: float) -> str:
    """`text` cut to about `width` pixels, with an ellipsis when it does not fit."""
    most = max(1, int(width / char + 1e-6))
    return text if len(text) <= most else text[: most - 1] + "…"


def rule_label(kind: str, rule: int | str | None, deny: bool = False) -> str:
    """The rule as people name it: `rule #100` for a NACL entry, the route's destination, the sgr- id."""
    if rule is None:
        return "no rule matches" if deny and kind in (Kind.SECURITY_GROUP, Kind.NETWORK_ACL) else ""
    if kind == Kind.NETWORK_ACL:
        return f"rule #{rule}"
    if kind in (Kind.ROUTE_TABLE, Kind.TRANSIT_GATEWAY_ROUTE_TABLE):
        return f"route {rule}"
    return f"rule {rule}" if kind == Kind.SECURITY_GROUP else str(rule)


@dataclass(frozen=True)
class HopBox:
    index: int  # position in the explanation's hops
    hop: Hop
    lane: int
    x: float
    y: float
    title: str  # first line: kind and direction
    id_text: str
    name: str  # the Name tag, fitted ("" when none)
    rule: str  # fitted
    blocked: bool
    tooltip: str


@dataclass(frozen=True)
class Link:
    x: float
    y1: float
    y2: float
    cut: bool  # after a denying hop of the same lane: the packet does not get this far


@dataclass(frozen=True)
class Lane:
    x: float
    title_y: float
    title: str
    return_path: bool


@dataclass(frozen=True)
class EndBox:
    role: str  # source | destination
    label: str
    x: float
    y: float
    w: float
    h: float = END_H


@dataclass(frozen=True)
class PathPicture:
    width: float
    height: float
    box_w: int
    box_h: int
    lanes: list[Lane]
    boxes: list[HopBox]
    links: list[Link]
    ends: list[EndBox]


def _box(index: int, hop: Hop, lane: int, x: float, y: float, names: dict[str, str]) -> HopBox:
    direction = DIRECTION_LABELS.get(hop.direction or "", "")
    title = kind_label(hop.kind) + (f" · {direction}" if direction else "")
    rule = rule_label(hop.kind, hop.rule, hop.decision == Action.DENY)
    name = names.get(hop.id or "", "")
    # the rule and the name share the last line: the rule first, the name keeps at least a few letters
    inner = BOX_W - 2 * PAD - 12
    rule_w = min(len(rule) * MONO_CHAR, inner - min(len(name) * SANS_CHAR, 8 * SANS_CHAR))
    blocked = hop.decision == Action.DENY
    tooltip = " — ".join(x for x in (hop.id or kind_label(hop.kind), name, hop.detail) if x)
    return HopBox(
        index=index, hop=hop, lane=lane, x=x, y=y, title=fit(title, BOX_W - 2 * PAD - 16, SANS_CHAR),
        id_text=fit(hop.id or "", BOX_W - 2 * PAD, MONO_CHAR), name=fit(name, inner - rule_w, SANS_CHAR),
        rule=fit(rule, rule_w, MONO_CHAR), blocked=blocked, tooltip=tooltip,
    )


def path_picture(explanation: Explanation, names: dict[str, str] | None = None) -> PathPicture:
    """Boxes, links and lanes for the explanation's hops, request lanes going down, response lanes up."""
    names = names or {}
    runs = [list(run) for _, run in groupby(enumerate(explanation.hops), key=lambda item: item[1].return_path)]
    rows = max((len(run) for run in runs), default=0)
    lane_count = max(1, len(runs))
    width = 2 * MARGIN + lane_count * BOX_W + (lane_count - 1) * LANE_GAP
    bottom = LANE_TOP + max(rows, 1) * ROW - (ROW - BOX_H)  # below the last row
    dst_y = bottom + 36
    height = dst_y + END_H + MARGIN
    flow = explanation.flow
    port = "" if flow.dst_port is None else f":{flow.dst_port}"
    code = f"/{flow.icmp_code}" if flow.icmp_code is not None else ""
    src_port = "" if flow.src_port is None else f" from port {flow.src_port}"
    ends = [
        EndBox("source", f"{flow.src}{src_port}", MARGIN, MARGIN, width - 2 * MARGIN),
        EndBox("destination", f"{flow.dst}{port}{code} {flow.protocol}", MARGIN, dst_y, width - 2 * MARGIN),
    ]
    lanes, boxes, links = [], [], []
    seen = {False: 0, True: 0}
    for lane, run in enumerate(runs):
        back = run[0][1].return_path
        seen[back] += 1
        x = MARGIN + lane * (BOX_W + LANE_GAP)
        again = f" ({seen[back]})" if seen[back] > 1 else ""
        title = ("↑ response" if back else "request ↓") + again
        lanes.append(Lane(x=x, title_y=LANE_TOP - 18, title=title, return_path=back))
        ys = [LANE_TOP + (rows - 1 - j if back else j) * ROW for j in range(len(run))]
        lane_boxes = [_box(i, hop, lane, x, y, names) for (i, hop), y in zip(run, ys, strict=True)]
        boxes += lane_boxes
        centre = x + BOX_W / 2
        # request: source -> first hop -> ... -> destination; response: destination -> ... -> source
        start, finish = (dst_y, MARGIN + END_H) if back else (MARGIN + END_H, dst_y)
        edges: list[float] = [start]
        for box in lane_boxes:  # where a link arrives at the box, and where the next one leaves it
            edges += (box.y + BOX_H, box.y) if back else (box.y, box.y + BOX_H)
        edges.append(finish)
        cut = False
        for j in range(len(lane_boxes) + 1):
            links.append(Link(x=centre, y1=edges[2 * j], y2=edges[2 * j + 1], cut=cut))
            if j < len(lane_boxes) and lane_boxes[j].blocked:
                cut = True
    return PathPicture(width=width, height=height, box_w=BOX_W, box_h=BOX_H, lanes=lanes, boxes=boxes, links=links,
                       ends=ends)
