"""Loading snapshots as users produce them, and refusing bad ones clearly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reach.errors import SnapshotError
from reach.snapshot.loader import load_snapshot
from tests.conftest import FIXTURES

EXTERNAL = Path(__file__).resolve().parents[2].parent / "shared" / "external"


def write(folder: Path, name: str, content: object) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def test_files_are_recognised_by_top_level_key_not_by_name(tmp_path: Path) -> None:
    write(tmp_path, "whatever.json", {"Vpcs": [{"VpcId": "vpc-1", "CidrBlock": "10.0.0.0/16"}]})
    write(
        tmp_path / "deep" / "er",
        "x.json",
        {"Subnets": [{"SubnetId": "subnet-1", "VpcId": "vpc-1", "CidrBlock": "10.0.1.0/24"}]},
    )
    snapshot = load_snapshot(tmp_path)
    assert [v.vpc_id for v in snapshot.vpcs] == ["vpc-1"]
    assert [s.subnet_id for s in snapshot.subnets] == ["subnet-1"]


def test_account_and_region_come_from_the_folder_layout(tmp_path: Path) -> None:
    write(
        tmp_path / "111122223333" / "eu-west-1", "vpcs.json", {"Vpcs": [{"VpcId": "vpc-a", "CidrBlock": "10.0.0.0/16"}]}
    )
    write(tmp_path / "aws_configs" / "accounts" / "222" / "us-west-2", "v.json", {"Vpcs": [{"VpcId": "vpc-b"}]})
    snapshot = load_snapshot(tmp_path)
    assert (snapshot.origins["vpc-a"].account, snapshot.origins["vpc-a"].region) == ("111122223333", "eu-west-1")
    assert (snapshot.origins["vpc-b"].account, snapshot.origins["vpc-b"].region) == ("222", "us-west-2")


def test_a_key_reach_does_not_model_is_reported_once_as_ignored(tmp_path: Path) -> None:
    write(tmp_path, "a.json", {"Vpcs": [{"VpcId": "vpc-1"}], "CapacityReservations": [{"x": 1}]})
    write(tmp_path, "b.json", {"CapacityReservations": [{"x": 2}], "ResponseMetadata": {"RequestId": "r"}})
    snapshot = load_snapshot(tmp_path)
    assert list(snapshot.ignored) == ["CapacityReservations"]


def test_not_json_names_the_file_and_position(tmp_path: Path) -> None:
    bad = write(tmp_path, "sg.json", '{"SecurityGroups": [')
    with pytest.raises(SnapshotError, match=rf"{bad}: not valid JSON \(line 1, column 21"):
        load_snapshot(tmp_path)


def test_a_resource_missing_a_required_field_names_file_resource_and_field(tmp_path: Path) -> None:
    bad = write(
        tmp_path,
        "acls.json",
        {
            "NetworkAcls": [
                {
                    "NetworkAclId": "acl-0db",
                    "VpcId": "vpc-1",
                    "Entries": [{"RuleNumber": 100, "Protocol": "6", "Egress": False}],
                }
            ]
        },
    )
    with pytest.raises(SnapshotError) as error:
        load_snapshot(tmp_path)
    message = str(error.value)
    assert str(bad) in message and "acl-0db" in message and "Entries[0].RuleAction" in message


def test_a_truncated_resource_list_is_an_error_not_a_silent_drop(tmp_path: Path) -> None:
    write(tmp_path, "enis.json", {"NetworkInterfaces": [{"NetworkInterfaceId": "eni-1", "VpcId": "vpc-1"}]})
    with pytest.raises(SnapshotError, match=r"eni-1.*SubnetId"):
        load_snapshot(tmp_path)


def test_an_empty_or_missing_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SnapshotError, match="does not exist"):
        load_snapshot(tmp_path / "nope")
    with pytest.raises(SnapshotError, match="holds no .json files"):
        load_snapshot(tmp_path)
    write(tmp_path, "x.json", {"Something": []})
    with pytest.raises(SnapshotError, match="no file holds a describe-\\* key"):
        load_snapshot(tmp_path)


def test_recorded_boto3_responses_load_or_fail_naming_file_resource_and_field() -> None:
    """Cloud Custodian's 365 recorded responses: each loads, or is refused with a SnapshotError that
    names the file, the resource and the field (some recordings were trimmed to an id and tags)."""
    folder = EXTERNAL / "cloud-custodian-placebo"
    if not folder.exists():
        pytest.skip("shared/external not beside the checkout")
    loaded, refused = 0, []
    for path in sorted(folder.rglob("*.json")):
        try:
            snapshot = load_snapshot(path)
        except SnapshotError as error:
            refused.append(str(error))
            continue
        loaded += 1
        assert snapshot.files == 1
    assert loaded > 300
    for message in refused:
        assert (
            ("field '" in message and ".json: " in message)
            or "every describe-* list in it is empty" in message
            or "holds an AWS error response" in message
            or "without the 'PrefixListId'" in message
        ), message


def test_cloudmapper_layout_without_route_tables_or_nacls_loads_and_says_what_it_assumes() -> None:
    folder = EXTERNAL / "cloudmapper-demo"
    if not folder.exists():
        pytest.skip("shared/external not beside the checkout")
    from reach.snapshot.compile import compile_snapshot

    network = compile_snapshot(load_snapshot(folder))
    assert any("no route table in the snapshot" in w for w in network.warnings)
    assert any("no network ACL in the snapshot" in w for w in network.warnings)


def test_every_bundled_fixture_loads() -> None:
    for snapshot_dir in sorted(FIXTURES.glob("*/snapshot")):
        assert load_snapshot(snapshot_dir).network_interfaces, snapshot_dir


def test_an_aws_managed_prefix_list_keeps_its_cidrs_whichever_file_comes_first(tmp_path: Path) -> None:
    # describe-managed-prefix-lists also answers under "PrefixLists", without CIDRs; it sorts first here.
    write(
        tmp_path,
        "a-managed-prefix-lists.json",
        {"PrefixLists": [{"PrefixListId": "pl-63a5400a", "PrefixListName": "s3"}]},
    )
    write(
        tmp_path, "b-prefix-lists.json", {"PrefixLists": [{"PrefixListId": "pl-63a5400a", "Cidrs": ["52.216.0.0/15"]}]}
    )
    snapshot = load_snapshot(tmp_path)
    assert [p.cidrs for p in snapshot.prefix_lists] == [["52.216.0.0/15"]]


def test_the_collectors_manifest_is_not_reported_as_ignored(tmp_path: Path) -> None:
    write(tmp_path, "vpcs.json", {"Vpcs": [{"VpcId": "vpc-1"}]})
    write(tmp_path, "manifest.json", {"ReachManifest": {"regions": ["us-east-1"]}})
    assert load_snapshot(tmp_path).ignored == {}
