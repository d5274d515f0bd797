"""CloudMapper's demo account, as its `collect` lays it out: no route tables, no network ACLs, instances known
only from describe-instances, and three instances that all call their interface `eni-00000000`."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from reach.cli import app
from reach.model.network import Network
from reach.snapshot.compile import compile_snapshot
from reach.snapshot.loader import load_snapshot
from tests.conftest import FIXTURES

DEMO = FIXTURES / "external" / "cloudmapper"
runner = CliRunner()


@pytest.fixture(scope="module")
def network() -> Network:
    return compile_snapshot(load_snapshot(DEMO))


def explain(*args: str) -> dict[str, object]:
    result = runner.invoke(app, ["explain", *args, "--snapshot", str(DEMO), "--format", "json"])
    assert result.exit_code == 0, result.output
    body: dict[str, object] = json.loads(result.stdout)
    return body


def test_bastion_reaches_web1_on_8000_because_internal_web_allows_the_bastion_group() -> None:
    body = explain("10.0.0.1", "10.0.2.1", "8000")
    assert (body["verdict"], body["blocked_by"]) == ("ACCEPT", None)


def test_web1_cannot_reach_web2_on_8000_and_the_internal_web_group_is_named() -> None:
    body = explain("Web1", "Web2", "8000")
    assert body["flow"] == {
        "src": "10.0.2.1",
        "dst": "10.0.3.1",
        "protocol": "tcp",
        "src_port": None,
        "dst_port": 8000,
        "icmp_code": None,
    }
    assert (body["verdict"], body["reason"]) == ("REJECT", "ENI_SG_RULES_MISMATCH")
    blocked = body["blocked_by"]
    assert isinstance(blocked, dict)
    assert (blocked["kind"], blocked["id"], blocked["direction"]) == ("security-group", "sg-00000004", "ingress")
    assert "Internal web" in blocked["detail"]
    assert "--group-id sg-00000004" in blocked["fix"]  # a group id, never an interface id


def test_interfaces_known_only_from_describe_instances_keep_their_security_groups(network: Network) -> None:
    web1 = network.interfaces[network.instances["i-00000000000000001"].interfaces[0]]
    assert (web1.name, web1.groups, web1.subnet_id) == ("Web1", ("sg-00000004",), "subnet-00000003")
    bastion = network.interfaces["eni-00000000"]
    assert (bastion.name, bastion.groups, bastion.instance_id) == ("Bastion", ("sg-00000002",), "i-00000000000000000")
    assert bastion.public_ips  # 1.2.3.4, from the interface's association


def test_one_interface_id_given_by_three_instances_is_kept_apart_and_said(network: Network) -> None:
    ids = {i: network.instances[i].interfaces for i in sorted(network.instances)}
    assert ids == {
        "i-00000000000000000": ("eni-00000000",),  # the first by instance id keeps the bare id
        "i-00000000000000001": ("eni-00000000@i-00000000000000001",),
        "i-00000000000000002": ("eni-00000000@i-00000000000000002",),
    }
    said = [w for w in network.warnings if w.startswith("interface eni-00000000 is given by two instances")]
    assert len(said) == 2
    assert "ec2-describe-instances.json (Reservations[0].Instances[1])" in said[0]
    assert "kept apart as eni-00000000@i-00000000000000001" in said[0]


def test_what_the_demo_lacks_is_recorded_as_absent_not_as_fact(network: Network) -> None:
    assert {"RouteTables", "NetworkAcls", "InternetGateways"} <= network.absent
    assert not {"Vpcs", "Subnets", "SecurityGroups", "Reservations", "NetworkInterfaces"} & network.absent
