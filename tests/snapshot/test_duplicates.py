"""One id given twice: identical copies (one resource seen from two files, as Batfish layouts and
multi-region collections have) are one resource; copies that differ are never merged silently, and which
one is used depends on what they hold, never on the order the files are read in."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from reach.api import Snapshot
from reach.snapshot.compile import compile_snapshot
from reach.snapshot.loader import load_snapshot
from tests.builder import ALL_OUT, ALLOW_ALL_NACL, tcp


def write(folder: Path, name: str, content: Any) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(json.dumps(content))
    return path


def network_with_group_twice(folder: Path, first: str, second: str) -> tuple[Path, Path]:
    """Two interfaces in one subnet; the web group sg-x comes in two files (named `first` and `second`):
    one copy allows 22 only, the other 22 and 443."""
    vpc = {"VpcId": "vpc-1", "CidrBlock": "10.0.0.0/16"}
    write(folder, "vpcs.json", {"Vpcs": [vpc]})
    write(folder, "subnets.json", {"Subnets": [{"SubnetId": "subnet-1", "VpcId": "vpc-1", "CidrBlock": "10.0.1.0/24"}]})
    write(
        folder,
        "acls.json",
        {"NetworkAcls": [{"NetworkAclId": "acl-1", "VpcId": "vpc-1", "IsDefault": True, "Entries": ALLOW_ALL_NACL}]},
    )
    enis = [
        {"NetworkInterfaceId": eni, "SubnetId": "subnet-1", "VpcId": "vpc-1", "PrivateIpAddress": ip, "Groups": groups}
        for eni, ip, groups in (
            ("eni-client", "10.0.1.10", [{"GroupId": "sg-client"}]),
            ("eni-web", "10.0.1.20", [{"GroupId": "sg-x"}]),
        )
    ]
    write(folder, "enis.json", {"NetworkInterfaces": enis})
    client = {"GroupId": "sg-client", "VpcId": "vpc-1", "IpPermissionsEgress": [ALL_OUT]}
    narrow = {"GroupId": "sg-x", "VpcId": "vpc-1", "IpPermissions": [tcp(22)], "IpPermissionsEgress": [ALL_OUT]}
    wide = {**narrow, "IpPermissions": [tcp(22), tcp(443)]}
    return (
        write(folder, first, {"SecurityGroups": [client, narrow]}),
        write(folder, second, {"SecurityGroups": [wide]}),
    )


def test_two_different_copies_of_a_group_are_named_with_the_copy_used(tmp_path: Path) -> None:
    narrow, wide = network_with_group_twice(tmp_path, "a-sgs.json", "b-sgs.json")
    network = compile_snapshot(load_snapshot(tmp_path))
    said = [w for w in network.warnings if "sg-x is given 2 times" in w]
    assert len(said) == 1
    assert f"{narrow} (SecurityGroups[1])" in said[0] and f"{wide} (SecurityGroups[0])" in said[0]
    assert f"The copy in {wide} (SecurityGroups[0]) is used" in said[0]
    assert len(network.security_groups["sg-x"].ingress_lines) == 2


def test_the_verdict_does_not_depend_on_which_file_is_read_first(tmp_path: Path) -> None:
    network_with_group_twice(tmp_path / "one", "a-sgs.json", "b-sgs.json")
    network_with_group_twice(tmp_path / "two", "b-sgs.json", "a-sgs.json")  # the wide copy is read first
    verdicts = {
        Snapshot.load(tmp_path / order, cache=False).explain("10.0.1.10", "10.0.1.20", 443).verdict
        for order in ("one", "two")
    }
    assert verdicts == {"ACCEPT"}


def test_identical_copies_in_two_files_are_one_resource_without_a_word(tmp_path: Path) -> None:
    group = {"GroupId": "sg-x", "VpcId": "vpc-1", "IpPermissions": [tcp(22)]}
    write(tmp_path / "111111111111" / "us-east-1", "sgs.json", {"SecurityGroups": [group]})
    write(tmp_path / "222222222222" / "us-east-1", "sgs.json", {"SecurityGroups": [group]})
    snapshot = load_snapshot(tmp_path)
    assert len(snapshot.security_groups) == 1 and snapshot.warnings == []


def test_copies_that_differ_only_in_their_tags_are_one_resource(tmp_path: Path) -> None:
    """A shared transit gateway or peering seen from two accounts carries each account's own tags."""
    pcx = {
        "VpcPeeringConnectionId": "pcx-1",
        "Status": {"Code": "active"},
        "RequesterVpcInfo": {"VpcId": "vpc-1", "CidrBlock": "10.0.0.0/16"},
        "AccepterVpcInfo": {"VpcId": "vpc-2", "CidrBlock": "10.1.0.0/16"},
    }
    write(tmp_path / "a", "pcx.json", {"VpcPeeringConnections": [{**pcx, "Tags": [{"Key": "Name", "Value": "a"}]}]})
    write(tmp_path / "b", "pcx.json", {"VpcPeeringConnections": [{**pcx, "Tags": []}]})
    snapshot = load_snapshot(tmp_path)
    assert len(snapshot.vpc_peering_connections) == 1 and snapshot.warnings == []
    assert snapshot.vpc_peering_connections[0].tags  # the fuller copy, whatever the order


def test_two_different_interfaces_under_one_id_are_said_in_the_network_warnings(tmp_path: Path) -> None:
    eni = {"NetworkInterfaceId": "eni-1", "SubnetId": "subnet-1", "VpcId": "vpc-1", "PrivateIpAddress": "10.0.1.5"}
    write(tmp_path, "a.json", {"NetworkInterfaces": [eni]})
    second = write(tmp_path, "b.json", {"NetworkInterfaces": [{**eni, "PrivateIpAddress": "10.0.1.6"}]})
    network = compile_snapshot(load_snapshot(tmp_path))
    said = [w for w in network.warnings if w.startswith("NetworkInterfaces: eni-1 is given 2 times")]
    assert said and str(second) in said[0]
    assert len(network.interfaces_at(4, 0x0A000106)) + len(network.interfaces_at(4, 0x0A000105)) == 1
