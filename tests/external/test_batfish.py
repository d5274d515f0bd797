"""Batfish's own asserted AWS dispositions, replayed through reach.

Each case comes from `fixtures/external/batfish/expected/batfish_expected_flows.json` (collected from
Batfish's JUnit tests). reach must agree on the verdict and on the component that decides it. Where a
case cannot be expressed in reach, or reach deliberately differs, the reason is written next to it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from reach.api import Snapshot
from reach.errors import ResolveError
from tests.conftest import FIXTURES

BATFISH = FIXTURES / "external" / "batfish"
SCENARIOS = (
    "test-subnet/",
    "test-public-subnet/",
    "test-public-private-subnet/",
    "test-nat-gateway/",
    "test-vpc-peering/",
    "test-vpc-peering-multi-account/",
)

# Cases whose flow starts somewhere reach does not start flows: Batfish injects packets at its synthetic
# router nodes (a VPC router, a subnet router, a VPN gateway), bypassing the interface they would come from.
NOT_EXPRESSIBLE = {
    "subnet-3": "Batfish injects 0.0.0.0 at its VPC router node; reach flows start at an interface or the internet",
    "pubsub-6": "Batfish injects a spoofed source at the subnet router; an instance interface would drop it first",
}

# Batfish starts these at the VPN gateway itself; reach starts them where they come from: a host on the
# customer side of the VPN connection, inside its only static route 19.168.0.0/16, whose traffic enters
# through the gateway the VPC's routes point at.
ON_PREMISES = {"pubpriv-11": "19.168.5.5", "pubpriv-12": "19.168.5.5"}

# Cases where reach deliberately answers differently: why (who is wrong, and the AWS document that decides
# it), reach's verdict and reason. Batfish's responsible component, where it names one, must still be among
# reach's blockers (the walk goes on past the first, as Reachability Analyzer's blocked paths do).
_TUNNELS_DOWN = (
    "The snapshot's own telemetry for vpn-05044757278685fd3 says both tunnels are DOWN (VgwTelemetry Status). "
    "A Site-to-Site VPN connection carries traffic only over a tunnel that is UP, and Reachability Analyzer "
    "names a VPN connection that is not functional BAD_STATE_VPN (aws-semantics A.5). Batfish ignores "
    "VgwTelemetry and treats the connection as carrying traffic, so Batfish is wrong for this snapshot: reach "
    "reads the state AWS reported. With the tunnels UP, reach agrees (test_with_its_tunnels_up_reach_agrees)."
)
DIFFERS: dict[str, tuple[str, str, str]] = {
    "pubpriv-9": (_TUNNELS_DOWN, "REJECT", "BAD_STATE_VPN"),
    "pubpriv-11": (_TUNNELS_DOWN, "REJECT", "BAD_STATE_VPN"),
    "pubpriv-12": (_TUNNELS_DOWN, "REJECT", "BAD_STATE_VPN"),
}

# Batfish's `responsible.type` -> what reach names for the same cause.
KIND_FOR = {
    "SecurityGroup": "security-group",
    "NatGateway": "nat-gateway",
    "InternetGateway": "internet-gateway",
}
REASON_FOR = {
    "dst_in_vpc_cidr_but_in_no_subnet": "VPC_ADDRESS_NOT_IN_SUBNET",
    "no_eni_owns_dst_ip": "DESTINATION_ADDRESS_UNASSIGNED",
    "sg_ingress_no_matching_rule": "ENI_SG_RULES_MISMATCH",
    "nat_gateway_unsupported_protocol": "NGW_PROTOCOL_RESTRICTION",
    "nat_gateway_no_session": "NAT_GATEWAY_NO_SESSION",
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
    folder = fixture.split(" ")[0]
    if folder not in _SNAPSHOTS:
        _SNAPSHOTS[folder] = Snapshot.load(BATFISH / folder.removeprefix("batfish/"))
    return _SNAPSHOTS[folder]


def _protocol(flow: dict[str, Any]) -> str:
    protocol = str(flow["ip_protocol"]).split(" ")[0]
    # Batfish's protocol 0 with no ports is its "any packet" flow: reach's `all`.
    return "all" if protocol == "0" else protocol


@pytest.mark.parametrize("case", _cases())
def test_reach_agrees_with_batfish(case: dict[str, Any]) -> None:
    if case["id"] in NOT_EXPRESSIBLE:
        pytest.skip(NOT_EXPRESSIBLE[case["id"]])
    flow = case["flow"]
    snapshot = _snapshot(case["fixture"])
    src = flow["src_node"] if flow["src_node"].startswith("i-") else flow["src_ip"]
    if src.startswith("("):  # "(any internet IP)"
        src = ON_PREMISES.get(case["id"], "8.8.8.8")
    if case["id"] == "pubsub-2" or case["verdict"].startswith("N/A"):
        # pubsub-2: an address no interface owns; Batfish ends it NULL_ROUTED at its synthetic backbone.
        # pubsub-4: internet to internet. With neither end in the snapshot, reach refuses the question
        # (exit 2 from the CLI) rather than inventing a path through the internet.
        # Internet to internet: not a question about this snapshot, and reach says so (exit 2 from the CLI).
        with pytest.raises(ResolveError, match="neither"):
            snapshot.explain(src, flow["dst_ip"], 80)
        return
    result = snapshot.explain(src, flow["dst_ip"], flow["dst_port"] or 80, _protocol(flow), flow["src_port"])
    responsible = case.get("responsible") or {}
    if case["id"] in DIFFERS:
        _, verdict, reason = DIFFERS[case["id"]]
        assert (result.verdict, result.reason) == (verdict, reason), [h.detail for h in result.hops]
        if responsible.get("type") in KIND_FOR:
            assert responsible["id"] in {n for b in result.blockers for n in (b.id, *(b.groups or []))}
        return
    assert result.verdict == case["verdict"], [h.detail for h in result.hops]
    if case["verdict"] == "REJECT":
        assert result.blocked_by is not None
        if case["reason"] in REASON_FOR:
            assert result.reason == REASON_FOR[case["reason"]]
        if responsible.get("type") in KIND_FOR:
            assert result.blocked_by.kind == KIND_FOR[responsible["type"]]
            named = {result.blocked_by.id, *(result.blocked_by.groups or [])}
            assert responsible["id"] in named
            assert result.blocked_by.direction in (responsible.get("direction"), None, "ingress")


def test_with_its_tunnels_up_reach_agrees(tmp_path: Path) -> None:
    """The same snapshot with the VPN's telemetry turned UP: reach then gives Batfish's answers, so the cases
    above differ by the tunnel state alone. Leaving through the VPN is ACCEPT with `UNKNOWN_DESTINATION`:
    nothing the snapshot holds stops it, and beyond the VPN gateway nothing is known (README: "Traffic that
    leaves the snapshot")."""
    folder = tmp_path / "aws_configs"
    shutil.copytree(BATFISH / "e2e" / "test-public-private-subnet" / "aws_configs", folder)
    path = folder / "VpnConnections.json"
    data = json.loads(path.read_text())
    for tunnel in data["VpnConnections"][0]["VgwTelemetry"]:
        tunnel["Status"] = "UP"
    path.write_text(json.dumps(data))
    snapshot = Snapshot.load(folder, cache=False)
    out = snapshot.explain("10.0.1.204", "19.168.0.0", 80, "all")  # pubpriv-9
    assert (out.verdict, out.reason, out.blocked_by) == ("ACCEPT", "UNKNOWN_DESTINATION", None)
    assert any("vpn-05044757278685fd3 towards 19.168.0.0/16" in n for n in out.notes)
    for dst, group in (("10.0.0.47", "sg-0662342465612f419"), ("10.0.1.204", "sg-063f2bb51713c3236")):
        inbound = snapshot.explain("19.168.5.5", dst, 80, "all")  # pubpriv-11, pubpriv-12
        assert inbound.reason == "ENI_SG_RULES_MISMATCH" and inbound.blocked_by is not None
        assert inbound.blocked_by.id == group
