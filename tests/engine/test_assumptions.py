"""What the snapshot lacks is said as assumed, never as a fact (issue 11): in JSON `notes` (and `assumed`),
and in the text output's "Assumed" block. CloudMapper's demo account has no route tables, network ACLs or
internet gateways at all; the shop story deletes one file at a time."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from reach.api import Snapshot
from reach.cli import app
from tests.builder import ALL_OUT, SnapshotBuilder, tcp
from tests.conftest import FIXTURES

DEMO = FIXTURES / "external" / "cloudmapper"
runner = CliRunner()

NO_ROUTE_TABLES = (
    "the snapshot has no RouteTables (describe-route-tables): reach assumed every subnet has only its VPC's local "
    "route"
)
NO_ACLS = "the snapshot has no NetworkAcls (describe-network-acls): reach assumed every network ACL allows all traffic"


def cli(*args: str) -> str:
    result = runner.invoke(app, ["explain", *args, "--snapshot", str(DEMO)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.stdout


def test_the_cloudmapper_demo_answers_right_and_lists_what_it_assumed() -> None:
    body = json.loads(cli("Bastion", "Web1", "8000", "--format", "json"))
    assert (body["verdict"], body["reason"]) == ("ACCEPT", "ACCEPTED")
    assert body["assumed"] == [NO_ROUTE_TABLES, NO_ACLS]
    assert set(body["assumed"]) <= set(body["notes"])
    rejected = json.loads(cli("Web1", "Web2", "8000", "--format", "json"))
    assert (rejected["verdict"], rejected["blocked_by"]["id"]) == ("REJECT", "sg-00000004")
    assert rejected["assumed"] == [NO_ROUTE_TABLES, NO_ACLS]
    text = cli("Bastion", "Web1", "8000")
    block = text[text.index("Assumed\n"):]
    assert f"- {NO_ROUTE_TABLES}" in block and f"- {NO_ACLS}" in block
    # every hop that rests on a missing kind says so, as assumed
    hops = json.loads(cli("Bastion", "Web1", "8000", "--format", "json"))["hops"]
    acl = [h["detail"] for h in hops if h["kind"] == "network-acl"]
    assert acl and all(d.startswith("the snapshot has no NetworkAcls") for d in acl)


def test_a_complete_snapshot_assumes_nothing_and_prints_no_assumed_block(tmp_path: Path) -> None:
    b = SnapshotBuilder()
    vpc = b.vpc("10.0.0.0/16")
    subnet = b.subnet(vpc, "10.0.1.0/24")
    sg = b.security_group(vpc, "web", [tcp(443)], [ALL_OUT])
    b.interface(subnet, "10.0.1.10", [sg], name="a")
    b.interface(subnet, "10.0.1.11", [sg], name="b")
    folder = b.write(tmp_path / "snap")
    out = Snapshot.load(folder, cache=False).explain("a", "b", 443)
    assert (out.verdict, out.assumed) == ("ACCEPT", [])
    result = runner.invoke(app, ["explain", "a", "b", "443", "--snapshot", str(folder)])
    assert result.exit_code == 0 and "Assumed" not in result.stdout


def test_no_internet_gateway_file_is_not_no_internet_gateway(tmp_path: Path) -> None:
    """Without InternetGateways and without a route naming one, "vpc-… has no internet gateway" would state
    missing data as a fact; the answer says it assumed so."""
    b = SnapshotBuilder()
    vpc = b.vpc("10.0.0.0/16")
    subnet = b.subnet(vpc, "10.0.1.0/24")
    b.interface(subnet, "10.0.1.10", [b.security_group(vpc, "web", [tcp(443)], [ALL_OUT])], public_ip="54.0.0.1",
                name="web")
    folder = b.write(tmp_path / "known")
    known = Snapshot.load(folder, cache=False).explain("198.51.100.7", "web", 443)
    assert known.blocked_by is not None and known.blocked_by.detail.startswith(f"{vpc} has no internet gateway")
    assert known.assumed == []
    (folder / "InternetGateways.json").unlink()
    unknown = Snapshot.load(folder, cache=False).explain("198.51.100.7", "web", 443)
    assert unknown.reason == "NO_ROUTE_TO_DESTINATION" and unknown.blocked_by is not None
    assert unknown.blocked_by.detail.startswith("the snapshot has no InternetGateways (describe-internet-gateways)")
    assert any(a.endswith("reach assumed it has no internet gateway") for a in unknown.assumed)
