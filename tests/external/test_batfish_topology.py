"""Batfish's asserted AWS cases for transit gateways, VPC endpoints, load balancers, VPN exits and the
pybatfish hybrid-cloud notebook, replayed through reach.

Every case of these scenarios in `fixtures/external/batfish/expected/batfish_expected_flows.json` runs
here: reach must agree on the verdict and on the component that decides it. Where reach deliberately
differs, `DIFFERS` says who is wrong and why (per `shared/reference/aws-semantics.md`), and the test checks
reach's own answer instead.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from reach.api import Snapshot
from reach.engine.explanation import Explanation
from reach.errors import ResolveError
from tests.conftest import FIXTURES

BATFISH = FIXTURES / "external" / "batfish"
SCENARIOS = (
    "test-transit-gateway/",
    "test-transit-gateway-multi-table/",
    "test-transit-gateway-asymmetric-paths/",
    "test-transit-gateway-multi-account/",
    "test-transit-gateway-peering/",
    "test-vpc-endpoint-gateway/",
    "test-vpc-endpoint-interface/",
    "test-load-balancer/",
    "test-vpn-gateway/",
    "pybatfish/hybrid-cloud",
)

# Batfish starts these flows at its model of the on-premises router ("(router IP)"). reach starts a flow
# outside every VPC at an address; a private one that the VPC routes to its VPN gateway comes in through it.
ON_PREM = "172.16.5.5"

# Cases where reach's answer differs from Batfish's on purpose: (why, reach's verdict, reach's reason). Where
# Batfish names a responsible component or reason, reach must still name it among its blockers (the walk goes
# on past the first blocker, as Reachability Analyzer's blocked paths do).
_TUNNELS_DOWN = (
    "The snapshot's own telemetry for vpn-03701a53bba3c48b7 says both tunnels are DOWN ('IPSEC IS DOWN'). A "
    "Site-to-Site VPN connection carries traffic only over a tunnel that is UP, and its BGP session runs inside "
    "the tunnels, so with both down it has learned no route either; Reachability Analyzer names such a "
    "connection BAD_STATE_VPN (aws-semantics A.5). Batfish builds the tunnels from the customer router's "
    "configuration and ignores VgwTelemetry, so Batfish is wrong for this snapshot. With the tunnels UP, reach "
    "agrees (test_with_its_tunnels_up_reach_agrees)."
)
DIFFERS: dict[str, tuple[str, str, str | None]] = {
    "vgw-1": (_TUNNELS_DOWN, "REJECT", "BAD_STATE_VPN"),
    "vgw-2": (_TUNNELS_DOWN, "REJECT", "BAD_STATE_VPN"),
    "vgw-3": (_TUNNELS_DOWN, "REJECT", "BAD_STATE_VPN"),
    "vgw-4": (_TUNNELS_DOWN, "REJECT", "BAD_STATE_VPN"),
    "vgw-5": (_TUNNELS_DOWN, "REJECT", "BAD_STATE_VPN"),
    "hyb-2": (
        "Same verdict, other component. Batfish drops 10.40.2.80 at its synthetic ISP's bogon filter; in AWS the "
        "internet gateway itself rejects egress to an RFC 1918 destination (aws-semantics.md §E.5, RA code "
        "IGW_DESTINATION_ADDRESS_NOT_IN_RFC1918_EGRESS), which is what reach names.",
        "REJECT",
        "IGW_DESTINATION_ADDRESS_NOT_IN_RFC1918_EGRESS",
    ),
}

# Not a question about the snapshot: reach refuses it (exit 2 from the CLI) rather than invent a path.
REFUSED = {
    "vgw-6": "internet -> the VGW's tunnel endpoint 18.217.248.9: that address appears only inside the VPN "
    "connection's customer-gateway XML, no interface of the snapshot holds it, so neither end is in the snapshot",
}

# Batfish's `responsible.type` -> reach's blocker kind; Batfish's reason -> reach's reason code(s).
KIND_FOR = {
    "SecurityGroup": "security-group",
    "TransitGatewayRouteTable": "transit-gateway-route-table",
    "LoadBalancer": "load-balancer",
    "RouteTable": "route-table",
}
REASON_FOR = {
    "sg_ingress_no_matching_rule": {"ENI_SG_RULES_MISMATCH"},
    # no route at all for the address / no route to the attachment whose VPC holds it
    "tgw_route_table_has_no_route": {"NO_ROUTE_TO_DESTINATION", "TGW_RTB_NO_ROUTE_TO_TGW_ATTACHMENT"},
    "nlb_no_listener": {"ELBV2_LISTENERS_MISMATCH"},
    "no_eni_owns_dst_ip": {"DESTINATION_ADDRESS_UNASSIGNED"},
    "dst_in_vpc_cidr_but_in_no_subnet": {"VPC_ADDRESS_NOT_IN_SUBNET"},
}

# The hybrid-cloud notebook's reachability questions (hyb-5, hyb-6), as the concrete flows they stand for:
# from the internet, which instances answer on SSH and which on a port other than 22 ("Connectivity test").
HYBRID_FLOWS = {
    "hyb-5": [
        ("i-01602d9efaed4409a", 22, "ACCEPT"),  # east2_public
        ("i-02cae6eaa9edeed70", 22, "ACCEPT"),  # west2_public
        ("i-04cd3db5124a05ee6", 22, "REJECT"),  # east2_private: no public address
        ("i-0a5d64b8b58c6dd09", 22, "REJECT"),  # west2_private
    ],
    "hyb-6": [
        ("i-01602d9efaed4409a", 3306, "ACCEPT"),  # the 3306 "Connectivity test" rule
        ("i-02cae6eaa9edeed70", 3306, "REJECT"),
        ("i-01602d9efaed4409a", 80, "REJECT"),
        ("i-02cae6eaa9edeed70", 80, "REJECT"),
    ],
}


def _cases() -> list[Any]:
    data = json.loads((BATFISH / "expected" / "batfish_expected_flows.json").read_text())
    return [
        pytest.param(case, id=case["id"])
        for case in data["cases"]
        if any(scenario in case["fixture"] for scenario in SCENARIOS)
    ]


_SNAPSHOTS: dict[str, Snapshot] = {}


def _snapshot(fixture: str) -> Snapshot:
    folder = fixture.split(" ")[0].removeprefix("batfish/")
    if folder.startswith("pybatfish/"):
        folder = "pybatfish/hybrid-cloud/aws_configs"
    if folder not in _SNAPSHOTS:
        _SNAPSHOTS[folder] = Snapshot.load(BATFISH / folder)
    return _SNAPSHOTS[folder]


def _explain(snapshot: Snapshot, flow: dict[str, Any]) -> Explanation:
    src = flow["src_node"] if flow["src_node"].startswith("i-") else flow["src_ip"]
    if src.startswith("(router IP") or flow["src_node"] == "srv-101":
        src = ON_PREM if flow["src_node"] != "srv-101" else flow["src_ip"]
    protocol = str(flow["ip_protocol"]).split(" ")[0]
    protocol = "all" if protocol == "0" else protocol  # Batfish's "any packet" flow
    port = flow.get("icmp_type") if protocol == "icmp" else flow["dst_port"]
    return snapshot.explain(src, flow["dst_ip"], port if port is not None else 80, protocol, flow["src_port"])


@pytest.mark.parametrize("case", _cases())
def test_reach_agrees_with_batfish(case: dict[str, Any]) -> None:
    snapshot = _snapshot(case["fixture"])
    if case["id"] in HYBRID_FLOWS:
        for dst, port, verdict in HYBRID_FLOWS[case["id"]]:
            assert snapshot.explain("8.8.8.8", dst, port).verdict == verdict, (dst, port)
        return
    if case["id"] in REFUSED:
        with pytest.raises(ResolveError, match="neither"):
            _explain(snapshot, case["flow"])
        return
    result = _explain(snapshot, case["flow"])
    trace = [h.detail for h in result.hops]
    responsible = case.get("responsible") or {}
    if case["id"] in DIFFERS:
        _, verdict, reason = DIFFERS[case["id"]]
        assert (result.verdict, result.reason) == (verdict, reason), trace
        if responsible.get("type") in KIND_FOR:
            assert responsible["id"] in {n for b in result.blockers for n in (b.id, *(b.groups or []))}, trace
        if case["reason"] in REASON_FOR:
            assert REASON_FOR[case["reason"]] & {b.reason for b in result.blockers}, trace
        return
    expected = "ACCEPT" if case["verdict"].startswith("ACCEPT") else case["verdict"]
    assert result.verdict == expected, trace
    if expected == "REJECT":
        assert result.blocked_by is not None
        if case["reason"] in REASON_FOR:
            assert result.reason in REASON_FOR[case["reason"]], trace
        if responsible.get("type") in KIND_FOR:
            assert result.blocked_by.kind == KIND_FOR[responsible["type"]]
            assert responsible["id"] in {result.blocked_by.id, *(result.blocked_by.groups or [])}
    elif responsible.get("type") in KIND_FOR:
        # The accepting component is on reach's path, allowing.
        kind = KIND_FOR[responsible["type"]]
        assert any(h.kind == kind and h.id == responsible["id"] and h.decision == "allow" for h in result.hops), trace
    # Every transit gateway Batfish's path crosses is on reach's path too.
    for node in case.get("hops", []):
        if node.startswith("tgw-"):
            assert node in {h.id for h in result.hops}, (node, trace)


def test_with_its_tunnels_up_reach_agrees(tmp_path: Path) -> None:
    """test-vpn-gateway with the VPN's telemetry turned UP: the flows from on-premises meet Batfish's blockers
    first, and the flows out through the VPN leave the snapshot: ACCEPT, `UNKNOWN_DESTINATION`, never
    "delivered". (vgw-4: Batfish follows the packet into the customer router, which has no route to
    8.8.8.8; vgw-5: 18.217.248.9 is the gateway's own tunnel address. Both are on the far side of the VPN,
    which the describe-* data does not describe: reach says so instead of guessing.)"""
    folder = tmp_path / "aws_configs"
    shutil.copytree(BATFISH / "e2e" / "test-vpn-gateway" / "aws_configs", folder)
    path = folder / "VpnConnections.json"
    data = json.loads(path.read_text())
    for connection in data["VpnConnections"]:
        for tunnel in connection.get("VgwTelemetry", []):
            tunnel.update(Status="UP", AcceptedRouteCount=1)
    path.write_text(json.dumps(data))
    snapshot = Snapshot.load(folder, cache=False)
    assert snapshot.explain(ON_PREM, "10.0.1.204", 80, "all").reason == "ENI_SG_RULES_MISMATCH"  # vgw-1
    assert snapshot.explain(ON_PREM, "10.0.1.205", 80, "all").reason == "DESTINATION_ADDRESS_UNASSIGNED"  # vgw-2
    assert snapshot.explain(ON_PREM, "10.0.2.1", 80, "all").reason == "VPC_ADDRESS_NOT_IN_SUBNET"  # vgw-3
    for dst in ("8.8.8.8", "18.217.248.9"):  # vgw-4, vgw-5
        out = snapshot.explain("10.0.1.204", dst, 80, "all")
        assert (out.verdict, out.reason, out.blocked_by) == ("ACCEPT", "UNKNOWN_DESTINATION", None)
        assert any("learns its routes over BGP" in a for a in out.assumed)
