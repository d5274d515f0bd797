"""Multi-account layouts, references the snapshot cannot resolve, VPC endpoints and the new describe shapes."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from reach.api import Snapshot
from reach.snapshot.loader import load_snapshot
from tests.conftest import FIXTURES
from tests.topology.conftest import Workspace, story

Make = Callable[[Any], Workspace]

ARTIFACTS_SG = "sg-04815fc86fdfd677a"
PAYMENTS_SG = "sg-08d78cc0e57b894d7"
ENDPOINT = FIXTURES / "external" / "batfish" / "e2e" / "test-vpc-endpoint-interface" / "aws_configs" / "us-east-1"


def _split_by_account(tmp_path: Path) -> Path:
    """The hub-and-spoke story as two accounts collected separately: the network account owns the gateway and
    shared services; the workloads account sees the shared gateway too (RAM), so its file is listed twice."""
    root = tmp_path / "org"
    network, workloads = root / "111111111111" / "us-east-1", root / "222222222222" / "us-east-1"
    network.mkdir(parents=True)
    workloads.mkdir(parents=True)
    for file in story("topology-tgw-missing-propagation").iterdir():
        shutil.copy(file, network / file.name)
    shutil.copy(network / "describe-transit-gateways.json", workloads / "describe-transit-gateways.json")
    for name, key in (("describe-vpcs.json", "Vpcs"), ("describe-network-interfaces.json", "NetworkInterfaces")):
        data = json.loads((network / name).read_text())
        spoke = [r for r in data[key] if r["VpcId"] != "vpc-065cfc8a2e86d14b8"]
        (workloads / name).write_text(json.dumps({key: spoke}))
        (network / name).write_text(json.dumps({key: [r for r in data[key] if r not in spoke]}))
    return root


def test_account_region_folders_load_as_one_network(tmp_path: Path) -> None:
    root = _split_by_account(tmp_path)
    raw = load_snapshot(root)
    assert raw.origins["vpc-025ad27c7da1e4983"].account == "222222222222"
    assert raw.origins["vpc-065cfc8a2e86d14b8"].account == "111111111111"
    assert len(raw.transit_gateways) == 1  # the shared gateway, seen from both accounts, once
    snapshot = Snapshot.load(root, cache=False)
    assert snapshot.explain("payments-api", "artifacts", 443).verdict == "ACCEPT"
    assert snapshot.explain("orders-api", "artifacts", 443).reason == "TGW_RTB_NO_ROUTE_TO_TGW_ATTACHMENT"


def _enable_sg_referencing(ws: Workspace) -> None:
    def gateway(data: dict[str, Any]) -> None:
        data["TransitGateways"][0]["Options"]["SecurityGroupReferencingSupport"] = "enable"

    def attachments(data: dict[str, Any]) -> None:
        for attachment in data["TransitGatewayVpcAttachments"]:
            attachment["Options"]["SecurityGroupReferencingSupport"] = "enable"

    ws.edit("describe-transit-gateways.json", gateway)
    ws.edit("describe-transit-gateway-vpc-attachments.json", attachments)


def test_reference_to_a_group_in_another_account(workspace: Make) -> None:
    """A rule naming a group of another VPC (and account): across a transit gateway it matches only with
    security group referencing support; a group the snapshot lacks is denied (UNKNOWN_PEERED_SGS), said so."""
    ws = workspace("topology-tgw-missing-propagation")

    def from_group(group_id: str) -> Callable[[dict[str, Any]], None]:
        def change(data: dict[str, Any]) -> None:
            for group in data["SecurityGroups"]:
                if group["GroupId"] == ARTIFACTS_SG:
                    group["IpPermissions"] = [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [],
                                               "UserIdGroupPairs": [{"GroupId": group_id, "UserId": "222222222222"}]}]
        return change

    ws.edit("describe-security-groups.json", from_group(PAYMENTS_SG))
    discarded = ws.load().explain("payments-api", "artifacts", 443)
    assert discarded.reason == "SG_REFERENCING_SUPPORT"
    assert discarded.blocked_by is not None and PAYMENTS_SG in discarded.blocked_by.detail
    _enable_sg_referencing(ws)
    assert ws.load().explain("payments-api", "artifacts", 443).verdict == "ACCEPT"
    ws.edit("describe-security-groups.json", from_group("sg-0ffffffffffffffff"))
    snapshot = ws.load()
    result = snapshot.explain("payments-api", "artifacts", 443)
    assert result.reason == "UNKNOWN_PEERED_SGS"
    assert result.blocked_by is not None and result.blocked_by.id == ARTIFACTS_SG
    assert "sg-0ffffffffffffffff" in result.blocked_by.detail and "reach assumed 10.1.1.10 is not a member" in \
        result.blocked_by.detail
    assert any("sg-0ffffffffffffffff" in warning for warning in snapshot.warnings)
    # a port the rule would not allow anyway is an ordinary mismatch
    assert snapshot.explain("payments-api", "artifacts", 22).reason == "ENI_SG_RULES_MISMATCH"


def test_rule_naming_a_prefix_list_without_entries(workspace: Make) -> None:
    ws = workspace("topology-s3-gateway-endpoint")
    (ws.root / "get-managed-prefix-list-entries-ops-hosts.json").unlink()
    result = ws.load().explain("ops-runner", "etl-worker-b", 22)
    assert result.reason == "ENI_SG_RULES_MISMATCH"
    assert result.blocked_by is not None and "pl-0a426574c3ad20c5b" in result.blocked_by.detail
    assert "assumed" in result.blocked_by.detail


def test_gateway_endpoint_carries_only_tcp_and_icmp_echo(workspace: Make) -> None:
    ws = workspace("topology-s3-gateway-endpoint")

    def open_egress(data: dict[str, Any]) -> None:
        for group in data["SecurityGroups"]:
            group["IpPermissionsEgress"] = [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]

    ws.edit("describe-security-groups.json", open_egress)
    snapshot = ws.load()
    assert snapshot.explain("etl-worker-a", "52.216.164.61", 53, "udp").reason == "VPCE_GATEWAY_PROTOCOL_RESTRICTION"
    assert snapshot.explain("etl-worker-a", "52.216.164.61", 8, "icmp").verdict == "ACCEPT"


def test_interface_endpoint_is_filtered_by_its_own_groups(workspace: Make) -> None:
    """Batfish leaves an interface endpoint's security groups unenforced; reach applies them."""
    ws = workspace(ENDPOINT)
    snapshot = ws.load()
    accepted = snapshot.explain("i-0a0fbd0cfa774970f", "10.1.101.97", 443)
    assert accepted.verdict == "ACCEPT"
    assert any("endpoint policies are not evaluated" in note for note in accepted.notes)
    rejected = snapshot.explain("i-0a0fbd0cfa774970f", "10.1.101.97", 8443)
    assert rejected.reason == "ENI_SG_RULES_MISMATCH"
    assert rejected.blocked_by is not None and rejected.blocked_by.id == "sg-0973207c61f3466e1"


def test_interface_endpoint_groups_come_from_the_endpoint_when_the_interface_lists_none(workspace: Make) -> None:
    ws = workspace(ENDPOINT)

    def strip(data: dict[str, Any]) -> None:
        for eni in data["NetworkInterfaces"]:
            if eni["NetworkInterfaceId"] == "eni-0084b734451ba23ca":
                eni["Groups"] = []

    ws.edit("NetworkInterfaces.json", strip)
    assert ws.load().network.interfaces["eni-0084b734451ba23ca"].groups == ("sg-0973207c61f3466e1",)


def test_keyed_shapes_are_recognised_and_nothing_topological_is_ignored() -> None:
    raw = load_snapshot(story("topology-tgw-missing-propagation"))
    assert len(raw.of("TransitGatewayRouteTableRoutes")) == 3
    assert len(raw.of("TransitGatewayRouteTableAssociations")) == 3
    assert len(raw.of("TransitGatewayRouteTablePropagations")) == 3
    assert raw.ignored == {}
    alb = load_snapshot(story("topology-alb-target-nacl"))
    assert {k for k, v in alb.resources.items() if v} >= {"LoadBalancers", "Listeners", "TargetGroups",
                                                          "LoadBalancerTargetHealth", "LoadBalancerAttributes"}
    batfish = load_snapshot(FIXTURES / "external" / "batfish" / "e2e" / "test-transit-gateway-peering" / "aws_configs")
    assert not [k for k in batfish.ignored if k.startswith(("TransitGateway", "LoadBalancer", "TargetGroup"))]
    # the peering attachment is listed by both gateways: both rows are kept
    assert len([a for a in batfish.of("TransitGatewayAttachments")
                if a.transit_gateway_attachment_id == "tgw-attach-012e5d602f859dd80"]) == 2
