"""What a snapshot lacks is data too: the describe-* kinds no file holds are recorded in `Network.absent`, and
what the compile assumed in their place is said in `Network.warnings`, never stated as fact."""

from __future__ import annotations

import shutil
from pathlib import Path

from reach.api import Snapshot
from tests.conftest import FIXTURES

LAMBDA_NACL = FIXTURES / "lambda-rds-nacl" / "snapshot"


def without(tmp_path: Path, *files: str) -> Path:
    folder = tmp_path / "snapshot"
    shutil.copytree(LAMBDA_NACL, folder)
    for name in files:
        (folder / name).unlink()
    return folder


def test_a_complete_collection_lacks_only_what_it_never_called(tmp_path: Path) -> None:
    network = Snapshot.load(LAMBDA_NACL, cache=False).network
    assert {"TransitGateways", "VpnConnections"} <= network.absent
    assert not {"Vpcs", "Subnets", "RouteTables", "NetworkAcls", "SecurityGroups"} & network.absent


def test_an_empty_list_is_knowledge_not_absence(tmp_path: Path) -> None:
    folder = without(tmp_path)
    (folder / "vpn.json").write_text('{"VpnConnections": []}')
    assert "VpnConnections" not in Snapshot.load(folder, cache=False).network.absent


def test_without_subnets_or_vpcs_the_snapshot_loads_and_says_what_it_assumed(tmp_path: Path) -> None:
    folder = without(tmp_path, "describe-subnets.json", "describe-vpcs.json")
    snap = Snapshot.load(folder, cache=False)
    network = snap.network
    assert {"Subnets", "Vpcs"} <= network.absent
    lambda_eni = next(i for i in network.interfaces.values() if i.holds(4, 0x0A000164))  # 10.0.1.100
    assert lambda_eni.subnet_id in network.subnets and lambda_eni.vpc_id in network.vpcs
    vpc_said = [w for w in network.warnings if w.startswith(f"VPC {lambda_eni.vpc_id} is not in the snapshot")]
    assert vpc_said and "its CIDR blocks taken from its local routes (10.0.0.0/16)" in vpc_said[0]
    assert any(w.startswith(f"subnet {lambda_eni.subnet_id} is not in the snapshot") for w in network.warnings)
    # The subnets' network ACLs still come from their associations: the same answer as with every file.
    explained = snap.explain("10.0.1.100", "10.0.2.50", 3306)
    blocked = explained.blocked_by
    assert explained.verdict == "REJECT" and blocked is not None
    assert (blocked.kind, blocked.rule) == ("network-acl", 100)
