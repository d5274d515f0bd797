"""No input crashes the loader: each failure class with its minimal input, refused with a message that names
the file (and the resource and field where there is one), exit status 2 from the CLI, never a traceback."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from reach.cli import app
from reach.errors import SnapshotError
from reach.snapshot.compile import compile_snapshot
from reach.snapshot.loader import MAX_JSON_BYTES_ENV, load_snapshot

runner = CliRunner()
VPC = {"Vpcs": [{"VpcId": "vpc-1", "CidrBlock": "10.0.0.0/16"}]}


def write(folder: Path, name: str, content: Any) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def refused(folder: Path) -> str:
    with pytest.raises(SnapshotError) as error:
        compile_snapshot(load_snapshot(folder))
    return str(error.value)


def group(permission: dict[str, Any], egress: bool = False) -> dict[str, Any]:
    key = "IpPermissionsEgress" if egress else "IpPermissions"
    return {"SecurityGroups": [{"GroupId": "sg-x", "VpcId": "vpc-1", key: [permission]}]}


def acl(entry: dict[str, Any]) -> dict[str, Any]:
    base = {"RuleNumber": 100, "Protocol": "6", "RuleAction": "allow", "Egress": False, "CidrBlock": "0.0.0.0/0"}
    return {"NetworkAcls": [{"NetworkAclId": "acl-x", "VpcId": "vpc-1", "Entries": [{**base, **entry}]}]}


def tcp(from_port: int, to_port: int, protocol: str = "tcp") -> dict[str, Any]:
    return {"IpProtocol": protocol, "FromPort": from_port, "ToPort": to_port, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}


# --- files that are not readable JSON ---------------------------------------------------------------


def test_json_nested_100000_deep_is_refused_naming_the_file(tmp_path: Path) -> None:
    bad = write(tmp_path, "deep.json", '{"Vpcs": ' + "[" * 100_000 + "]" * 100_000 + "}")
    message = refused(tmp_path)
    assert str(bad) in message and "nested too deeply" in message


def test_an_integer_of_5000_digits_is_refused_naming_the_file(tmp_path: Path) -> None:
    bad = write(tmp_path, "big.json", '{"Vpcs": [{"VpcId": "vpc-1", "Tags": ' + "9" * 5000 + "}]}")
    message = refused(tmp_path)
    assert str(bad) in message and "5000 digits" in message


def test_a_corrupt_json_gz_is_refused_naming_the_file(tmp_path: Path) -> None:
    good = gzip.compress(json.dumps(VPC).encode())
    broken = bytearray(good)
    broken[12:16] = b"\xff\x00\xff\x00"
    bad = write(tmp_path, "vpcs.json.gz", bytes(broken))
    message = refused(tmp_path)
    assert str(bad) in message and "corrupt or truncated .json.gz" in message


def test_a_truncated_json_gz_is_refused_naming_the_file(tmp_path: Path) -> None:
    whole = gzip.compress(json.dumps({"Vpcs": [{"VpcId": f"vpc-{i}"} for i in range(500)]}).encode())
    bad = write(tmp_path, "vpcs.json.gz", whole[: len(whole) // 2])
    message = refused(tmp_path)
    assert str(bad) in message and "end-of-stream marker" in message


def test_a_json_gz_bomb_is_refused_before_it_fills_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # 64 MiB of spaces inside a valid document compress to ~64 KB; the limit here is 1 MiB.
    bomb = gzip.compress(b'{"Vpcs": [' + b" " * (64 << 20) + b"]}", compresslevel=9)
    bad = write(tmp_path, "bomb.json.gz", bomb)
    monkeypatch.setenv(MAX_JSON_BYTES_ENV, str(1 << 20))
    message = refused(tmp_path)
    assert str(bad) in message and "larger than 1,048,576 bytes of JSON once decompressed" in message
    assert MAX_JSON_BYTES_ENV in message  # and how to raise the limit


def test_a_plain_json_file_over_the_limit_is_refused_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = write(tmp_path, "vpcs.json", {"Vpcs": [{"VpcId": f"vpc-{i}"} for i in range(100)]})
    monkeypatch.setenv(MAX_JSON_BYTES_ENV, "100")
    assert f"{bad}: larger than 100 bytes of JSON" in refused(tmp_path)


# --- folders and files that cannot be read ----------------------------------------------------------


def test_a_folder_that_cannot_be_listed_is_an_error_naming_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An unreadable folder may hide the NACL that denies: an error, not a quieter ACCEPT (as root, no chmod
    can make a folder unreadable, so listing it is made to fail as it does for other users)."""
    write(tmp_path, "vpcs.json", VPC)
    hidden = tmp_path / "eu-west-1"
    write(hidden, "acls.json", acl({}))
    real_scandir = os.scandir

    def scandir(path: Any = ".") -> Any:
        if Path(path) == hidden:
            raise PermissionError(13, "Permission denied", str(hidden))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    message = refused(tmp_path)
    assert f"{hidden} (Permission denied)" in message and "cannot be read" in message


def test_files_that_cannot_be_read_are_all_named_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "vpcs.json", VPC)
    first = write(tmp_path / "a", "acls.json", acl({}))
    second = write(tmp_path / "b", "sgs.json", group(tcp(22, 22)))
    real_open = Path.open

    def guarded(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self in (first, second):
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", guarded)
    message = refused(tmp_path)
    assert "2 file(s) or folder(s) cannot be read" in message
    assert str(first) in message and str(second) in message


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every folder whatever its mode")
def test_a_subfolder_listed_but_not_entered_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "vpcs.json", VPC)
    locked = tmp_path / "locked"
    write(locked, "acls.json", acl({}))
    locked.chmod(0o400)  # can be listed, not entered
    try:
        assert str(locked) in refused(tmp_path)
    finally:
        locked.chmod(0o700)


def test_the_cli_exits_2_with_the_message_for_an_unreadable_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, "vpcs.json", VPC)
    hidden = tmp_path / "hidden"
    write(hidden, "acls.json", acl({}))
    real_scandir = os.scandir
    monkeypatch.setattr(
        os,
        "scandir",
        lambda path=".": (
            (_ for _ in ()).throw(PermissionError(13, "Permission denied", str(hidden)))
            if Path(path) == hidden
            else real_scandir(path)
        ),
    )
    result = runner.invoke(app, ["explain", "10.0.0.1", "10.0.0.2", "22", "--snapshot", str(tmp_path)])
    assert result.exit_code == 2
    assert str(hidden) in result.output and "Traceback" not in result.output


# --- values outside AWS's own ranges ----------------------------------------------------------------


def test_a_bogus_protocol_in_describe_security_group_rules_names_file_rule_and_field(tmp_path: Path) -> None:
    rule = {"SecurityGroupRuleId": "sgr-1", "GroupId": "sg-x", "IsEgress": False, "IpProtocol": "bogus"}
    bad = write(tmp_path, "rules.json", {"SecurityGroupRules": [rule]})
    message = refused(tmp_path)
    assert f"{bad}: SecurityGroupRules[0] (sgr-1): field 'IpProtocol'" in message and "'bogus'" in message


@pytest.mark.parametrize(
    ("permission", "field", "said"),
    [
        (tcp(22, 2**32), "IpPermissions[0].ToPort", "ToPort 4294967296 is not a valid port"),
        (tcp(-5, 22), "IpPermissions[0].FromPort", "FromPort -5 is not a valid port"),
        (tcp(99999, 99999), "IpPermissions[0].FromPort", "FromPort 99999 is not a valid port"),
        (tcp(443, 80), "IpPermissions[0].ToPort", "FromPort 443 is above ToPort 80"),
        (tcp(8, 99999, "icmp"), "IpPermissions[0].ToPort", "ToPort 99999 is not a valid ICMP code"),
        (tcp(0, 0, "256"), "IpPermissions[0].IpProtocol", "'256' is not -1 or 0-255"),
        (tcp(0, 0, "-2"), "IpPermissions[0].IpProtocol", "'-2' is not -1 or 0-255"),
    ],
)
def test_a_security_group_value_outside_aws_ranges_names_file_group_and_field(
    tmp_path: Path, permission: dict[str, Any], field: str, said: str
) -> None:
    bad = write(tmp_path, "sgs.json", group(permission))
    message = refused(tmp_path)
    assert f"{bad}: SecurityGroups[0] (sg-x): field '{field}'" in message and said in message


@pytest.mark.parametrize(
    ("entry", "field", "said"),
    [
        ({"RuleNumber": -5}, "Entries[0].RuleNumber", "rule number -5 is outside 1-32766"),
        ({"RuleNumber": 10**20}, "Entries[0].RuleNumber", f"rule number {10**20} is outside 1-32766"),
        ({"RuleAction": "alow"}, "Entries[0].RuleAction", "'allow' or 'deny'"),
        ({"Protocol": "999"}, "Entries[0].Protocol", "'999' is not -1 or 0-255"),
        ({"PortRange": {"From": 0, "To": 2**32}}, "Entries[0].PortRange.To", "4294967296 is not a port"),
        ({"PortRange": {"From": 443, "To": 80}}, "Entries[0].PortRange", "From 443 is above To 80"),
        ({"Protocol": "1", "IcmpTypeCode": {"Type": 8, "Code": 99999}}, "Entries[0].IcmpTypeCode.Code", "99999"),
    ],
)
def test_a_network_acl_value_outside_aws_ranges_names_file_acl_and_field(
    tmp_path: Path, entry: dict[str, Any], field: str, said: str
) -> None:
    bad = write(tmp_path, "acls.json", acl(entry))
    message = refused(tmp_path)
    assert f"{bad}: NetworkAcls[0] (acl-x): field '{field}'" in message and said in message


def test_a_nacl_rule_numbered_minus_5_is_refused_from_the_cli_with_exit_2(tmp_path: Path) -> None:
    write(tmp_path, "vpcs.json", VPC)
    write(tmp_path, "acls.json", acl({"RuleNumber": -5}))
    result = runner.invoke(app, ["explain", "10.0.0.1", "10.0.0.2", "22", "--snapshot", str(tmp_path)])
    assert result.exit_code == 2 and "acl-x" in result.output and "RuleNumber" in result.output


def test_the_values_aws_itself_writes_at_the_edges_of_its_ranges_load(tmp_path: Path) -> None:
    write(tmp_path, "vpcs.json", VPC)
    defaults = [
        {"RuleNumber": 32767, "Protocol": "-1", "RuleAction": "deny", "Egress": False, "CidrBlock": "0.0.0.0/0"},
        {"RuleNumber": 32768, "Protocol": "-1", "RuleAction": "deny", "Egress": False, "Ipv6CidrBlock": "::/0"},
        {
            "RuleNumber": 1,
            "Protocol": "58",
            "RuleAction": "ALLOW",
            "Egress": True,
            "Ipv6CidrBlock": "::/0",
            "IcmpTypeCode": {"Type": -1, "Code": -1},
        },
    ]
    write(tmp_path, "acls.json", {"NetworkAcls": [{"NetworkAclId": "acl-x", "VpcId": "vpc-1", "Entries": defaults}]})
    permissions = [tcp(-1, -1), tcp(0, 65535), tcp(-1, -1, "icmp"), tcp(255, 255, "icmpv6"), tcp(5, 5, "47")]
    write(tmp_path, "sgs.json", {"SecurityGroups": [{"GroupId": "sg-x", "IpPermissions": permissions}]})
    network = compile_snapshot(load_snapshot(tmp_path))
    assert len(network.security_groups["sg-x"].ingress_lines) == 5
    egress = network.nacls["acl-x"].egress.lines
    assert (egress[0].ref.rule, egress[0].allow) == (1, True)  # "ALLOW" as some tools write it
