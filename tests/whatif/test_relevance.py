"""Only connections a changed rule can decide are re-explained; the answer is the same as re-explaining all."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import reach
from reach.flowlogs import read_flow_logs
from reach.whatif import diff_networks, group_connections
from reach.whatif.observed import changed_connections
from reach.whatif.relevance import may_flip
from tests.conftest import FIXTURES

ROUTE = FIXTURES / "whatif-route-missing-nat"
TASK_ACL = "acl-0d5324629a5ff89c5"

# The task subnet's ACL lets in only 443: ECR's responses to the task's ephemeral ports are cut.
ONLY_443_IN = [
    {
        "action": "ReplaceNetworkAclEntry",
        "params": {
            "NetworkAclId": TASK_ACL,
            "RuleNumber": 100,
            "Protocol": "6",
            "RuleAction": "allow",
            "Egress": False,
            "CidrBlock": "0.0.0.0/0",
            "PortRange": {"From": 443, "To": 443},
        },
    }
]
# A rule for a port nobody uses: nothing observed can flip.
UNUSED_PORT = [
    {
        "action": "AuthorizeSecurityGroupIngress",
        "params": {
            "GroupId": "sg-0e9392fe10cbe60ed",
            "IpPermissions": [
                {"IpProtocol": "tcp", "FromPort": 9999, "ToPort": 9999, "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}
            ],
        },
    }
]

CASES = {
    "seed-003-revoke": (FIXTURES / "whatif-web-http-revoke", "change.json"),
    "nacl-renumber": (FIXTURES / "whatif-nacl-renumber", "change.json"),
    "route-missing-nat": (ROUTE, "change.json"),
    "return-path-acl": (ROUTE, ONLY_443_IN),
    "unused-port": (ROUTE, UNUSED_PORT),
}


def _replay(folder: Path, change: Any) -> tuple[set[tuple[str, str, int | None, str]], int, int]:
    before = reach.Snapshot.load(folder / "snapshot")
    after = before.apply(folder / change if isinstance(change, str) else change)
    scope = diff_networks(before.network, after.network).scope
    grouped = group_connections(
        read_flow_logs([folder / "flow-logs"], quiet=True),
        interfaces=scope.interfaces,
        addresses=scope.addresses(before.network, after.network),
    )
    kept = grouped.table.filter(may_flip(before.network, after.network, scope, grouped.table))
    every = {
        (c.flow.src, c.flow.dst, c.flow.dst_port, c.after)
        for c in changed_connections(before.analyzer, after.analyzer, grouped.table)
    }
    relevant = {
        (c.flow.src, c.flow.dst, c.flow.dst_port, c.after)
        for c in changed_connections(before.analyzer, after.analyzer, kept)
    }
    assert relevant == every
    return relevant, kept.num_rows, grouped.table.num_rows


@pytest.mark.parametrize("case", CASES, ids=str)
def test_the_filtered_replay_finds_exactly_what_the_full_replay_finds(case: str) -> None:
    _replay(*CASES[case])


def test_an_acl_change_on_the_return_path_keeps_the_clients_connections() -> None:
    changed, kept, _ = _replay(ROUTE, ONLY_443_IN)
    assert changed == {("10.0.3.25", "52.46.145.1", 443, "REJECT"), ("10.0.3.25", "52.216.164.61", 443, "REJECT")}
    assert kept == 3  # and the ALB's 8080 to the task: the ACL's inbound rules changed under it too


def test_a_rule_for_a_port_nobody_uses_re_explains_nothing() -> None:
    changed, kept, in_scope = _replay(ROUTE, UNUSED_PORT)
    assert (changed, kept) == (set(), 0) and in_scope > 0
