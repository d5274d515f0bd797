"""Network Load Balancer behaviour, on edited copies of Batfish's `test-load-balancer` snapshot: cross-zone
load balancing, client IP preservation, empty and unknown target groups, and naming the load balancer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from reach.engine.explanation import Explanation
from tests.conftest import FIXTURES
from tests.topology.conftest import Workspace

Make = Callable[[Any], Workspace]

NLB = FIXTURES / "external" / "batfish" / "e2e" / "test-load-balancer" / "aws_configs"
CLIENT = "i-0c8ce8bbdd98cc4e8"  # 10.1.250.112
NODE_B = "10.1.1.237"  # the NLB's node in us-east-2b
TG = "arn:aws:elasticloadbalancing:us-east-2:554773406868:targetgroup/test-lb-tg/8e891d8fcdf8ece8"
LB = "arn:aws:elasticloadbalancing:us-east-2:554773406868:loadbalancer/net/test-lb/725b996cb6be8fba"


def _legs(result: Explanation) -> list[str]:
    return [h.detail for h in result.hops if h.kind == "load-balancer" and "sends it to target" in h.detail]


def _cross_zone(enabled: bool) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        for attribute in data["LoadBalancerAttributes"][0]["Attributes"]:
            if attribute["Key"] == "load_balancing.cross_zone.enabled":
                attribute["Value"] = "true" if enabled else "false"

    return change


def test_every_target_is_walked_with_cross_zone_on(workspace: Make) -> None:
    result = workspace(NLB).load().explain(CLIENT, NODE_B, 80)
    assert result.verdict == "ACCEPT"
    assert len(_legs(result)) == 2 and all("client IP preserved" in leg for leg in _legs(result))
    assert all(":22" in leg for leg in _legs(result))  # listener 80 -> the targets' registered port 22


def test_cross_zone_off_keeps_a_node_to_its_zone(workspace: Make) -> None:
    ws = workspace(NLB)
    ws.edit("LoadBalancerAttributes.json", _cross_zone(False))
    result = ws.load().explain(CLIENT, NODE_B, 80)
    assert result.verdict == "ACCEPT" and len(_legs(result)) == 1
    assert "10.1.1.189" in _legs(result)[0]
    assert any("cross-zone load balancing is off" in note for note in result.notes)

    def only_zone_a_target(data: dict[str, Any]) -> None:
        descriptions = data["LoadBalancerTargetHealth"][0]["TargetHealthDescriptions"]
        data["LoadBalancerTargetHealth"][0]["TargetHealthDescriptions"] = [
            d for d in descriptions if d["Target"]["Id"] == "i-0f4af951d61a19245"]

    ws.edit("LoadBalancerTargetHealth.json", only_zone_a_target)
    result = ws.load().explain(CLIENT, NODE_B, 80)
    assert result.reason == "ELBV2_NO_TARGETS_IN_AZ"
    assert result.blocked_by is not None and result.blocked_by.id == "net/test-lb/725b996cb6be8fba"


def test_client_ip_preservation_decides_what_the_target_group_must_allow(workspace: Make) -> None:
    ws = workspace(NLB)

    def only_lb_subnets(data: dict[str, Any]) -> None:
        for group in data["SecurityGroups"]:
            if group["GroupId"] == "sg-09dabbcbd3f44ebcf":
                group["IpPermissions"] = [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "UserIdGroupPairs": [],
                                           "IpRanges": [{"CidrIp": "10.1.1.0/24"}, {"CidrIp": "10.1.20.0/24"}]}]

    ws.edit("SecurityGroups.json", only_lb_subnets)
    preserved = ws.load().explain(CLIENT, NODE_B, 80)
    assert preserved.reason == "ENI_SG_RULES_MISMATCH"
    assert preserved.blocked_by is not None and "from 10.1.250.112" in preserved.blocked_by.detail
    ws.write("TargetGroupAttributes.json", {"TargetGroupArn": TG, "Attributes": [
        {"Key": "preserve_client_ip.enabled", "Value": "false"}]})
    translated = ws.load().explain(CLIENT, NODE_B, 80)
    assert translated.verdict == "ACCEPT", [h.detail for h in translated.hops]
    assert all(f"from {NODE_B}" in leg for leg in _legs(translated))


def test_listener_to_an_empty_target_group(workspace: Make) -> None:
    ws = workspace(NLB)
    ws.edit("LoadBalancerTargetHealth.json",
            lambda d: d["LoadBalancerTargetHealth"][0].update(TargetHealthDescriptions=[]))
    assert ws.load().explain(CLIENT, NODE_B, 80).reason == "ELBV2_LISTENER_HAS_NO_TG"


def test_targets_not_in_the_snapshot_end_the_path_at_the_load_balancer(workspace: Make) -> None:
    ws = workspace(NLB)
    (ws.root / "LoadBalancerTargetHealth.json").unlink()
    result = ws.load().explain(CLIENT, NODE_B, 80)
    assert result.verdict == "ACCEPT" and _legs(result) == []
    assert any("describe-target-health" in note for note in result.notes)


@pytest.mark.parametrize("name", [
    "test-lb-725b996cb6be8fba.elb.us-east-2.amazonaws.com",
    "dualstack.test-lb-725b996cb6be8fba.elb.us-east-2.amazonaws.com.",
    "test-lb",
    LB,
    "net/test-lb/725b996cb6be8fba",
])
def test_a_load_balancer_is_named_by_dns_name_name_or_arn(workspace: Make, name: str) -> None:
    result = workspace(NLB).load().explain(CLIENT, name, 80)
    assert result.verdict == "ACCEPT"
    assert result.flow.dst in ("10.1.20.123", NODE_B)
