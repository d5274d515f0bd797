"""describe-instances is as authoritative about an instance's interfaces as describe-network-interfaces:
the two are merged, and where both describe one interface and disagree, a warning names both."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from reach.api import Snapshot
from reach.snapshot.compile import compile_snapshot
from reach.snapshot.loader import load_snapshot
from tests.builder import ALL_OUT, ALLOW_ALL_NACL, tcp

WEB_SG = {"GroupId": "sg-web", "VpcId": "vpc-1", "IpPermissions": [tcp(443)], "IpPermissionsEgress": [ALL_OUT]}
CLIENT_SG = {"GroupId": "sg-client", "VpcId": "vpc-1", "IpPermissionsEgress": [ALL_OUT]}


def write(folder: Path, name: str, content: Any) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(json.dumps(content))
    return path


def base(folder: Path) -> None:
    write(folder, "vpcs.json", {"Vpcs": [{"VpcId": "vpc-1", "CidrBlock": "10.0.0.0/16"}]})
    write(folder, "subnets.json", {"Subnets": [{"SubnetId": "subnet-1", "VpcId": "vpc-1", "CidrBlock": "10.0.1.0/24"}]})
    write(
        folder,
        "acls.json",
        {"NetworkAcls": [{"NetworkAclId": "acl-1", "VpcId": "vpc-1", "IsDefault": True, "Entries": ALLOW_ALL_NACL}]},
    )
    write(folder, "sgs.json", {"SecurityGroups": [WEB_SG, CLIENT_SG]})


def instance(instance_id: str, eni: str, ip: str, group: str, name: str, *more: dict[str, Any]) -> dict[str, Any]:
    primary = {
        "NetworkInterfaceId": eni,
        "SubnetId": "subnet-1",
        "VpcId": "vpc-1",
        "PrivateIpAddress": ip,
        "PrivateIpAddresses": [{"PrivateIpAddress": ip, "Primary": True}],
        "Groups": [{"GroupId": group}],
        "Attachment": {"DeviceIndex": 0, "Status": "attached"},
    }
    return {
        "InstanceId": instance_id,
        "State": {"Name": "running"},
        "SubnetId": "subnet-1",
        "VpcId": "vpc-1",
        "PrivateIpAddress": ip,
        "SecurityGroups": [{"GroupId": group}],
        "NetworkInterfaces": [primary, *more],
        "Tags": [{"Key": "Name", "Value": name}],
    }


def test_without_describe_network_interfaces_an_instance_keeps_its_groups_and_answers(tmp_path: Path) -> None:
    base(tmp_path)
    secondary = {
        "NetworkInterfaceId": "eni-web-2",
        "SubnetId": "subnet-1",
        "VpcId": "vpc-1",
        "PrivateIpAddresses": [{"PrivateIpAddress": "10.0.1.21", "Primary": True}],
        "Groups": [{"GroupId": "sg-client"}],
        "Attachment": {"DeviceIndex": 1},
    }
    write(
        tmp_path,
        "instances.json",
        {
            "Reservations": [
                {
                    "Instances": [
                        instance("i-web", "eni-web", "10.0.1.20", "sg-web", "web", secondary),
                        instance("i-client", "eni-client", "10.0.1.10", "sg-client", "client"),
                    ]
                }
            ]
        },
    )
    snap = Snapshot.load(tmp_path, cache=False)
    assert snap.network.interfaces["eni-web"].groups == ("sg-web",)
    assert snap.network.interfaces["eni-web-2"].groups == ("sg-client",)  # its own groups, not the instance's
    assert snap.network.instances["i-web"].interfaces == ("eni-web", "eni-web-2")
    assert snap.explain("client", "i-web", 443).verdict == "ACCEPT"  # its primary interface
    assert snap.explain("client", "10.0.1.21", 443).verdict == "REJECT"  # sg-client lets no 443 in
    assert not [w for w in snap.warnings if "built from the instance record" in w]


def test_where_both_calls_describe_an_interface_and_disagree_both_are_named(tmp_path: Path) -> None:
    base(tmp_path)
    listed = write(
        tmp_path,
        "enis.json",
        {
            "NetworkInterfaces": [
                {
                    "NetworkInterfaceId": "eni-web",
                    "SubnetId": "subnet-1",
                    "VpcId": "vpc-1",
                    "PrivateIpAddress": "10.0.1.20",
                    "Groups": [{"GroupId": "sg-web"}],
                    "Attachment": {"InstanceId": "i-web"},
                }
            ]
        },
    )
    described = write(
        tmp_path,
        "instances.json",
        {"Reservations": [{"Instances": [instance("i-web", "eni-web", "10.0.1.20", "sg-client", "web")]}]},
    )
    network = compile_snapshot(load_snapshot(tmp_path))
    said = [w for w in network.warnings if w.startswith("interface eni-web:")]
    assert len(said) == 1
    assert str(listed) in said[0] and f"{described} (Reservations[0].Instances[0])" in said[0]
    assert "security groups (sg-web against sg-client)" in said[0]
    assert "the describe-network-interfaces copy is used" in said[0]
    assert network.interfaces["eni-web"].groups == ("sg-web",)
    assert network.interfaces["eni-web"].name == "web"  # the instance's Name tag completes it


def test_an_instance_id_resolves_from_the_interfaces_attachment_without_describe_instances(tmp_path: Path) -> None:
    base(tmp_path)
    enis = [
        {
            "NetworkInterfaceId": eni,
            "SubnetId": "subnet-1",
            "VpcId": "vpc-1",
            "PrivateIpAddress": ip,
            "Groups": [{"GroupId": group}],
            "Attachment": {"InstanceId": instance_id, "DeviceIndex": 0},
        }
        for eni, ip, group, instance_id in (
            ("eni-web", "10.0.1.20", "sg-web", "i-0web"),
            ("eni-client", "10.0.1.10", "sg-client", "i-0client"),
        )
    ]
    write(tmp_path, "enis.json", {"NetworkInterfaces": enis})
    snap = Snapshot.load(tmp_path, cache=False)
    assert "Reservations" in snap.network.absent
    assert snap.network.instances["i-0web"].interfaces == ("eni-web",)
    assert snap.network.instances["i-0web"].state == "unknown"  # nothing says whether it runs
    explained = snap.explain("i-0client", "i-0web", 443)
    assert (explained.flow.src, explained.flow.dst, explained.verdict) == ("10.0.1.10", "10.0.1.20", "ACCEPT")
