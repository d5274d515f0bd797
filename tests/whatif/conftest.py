"""One small VPC that the change-set and Terraform tests edit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reach import Snapshot
from tests.builder import ALLOW_ALL_NACL, SnapshotBuilder, tcp


@pytest.fixture
def small(tmp_path: Path) -> dict[str, Any]:
    """app (10.0.1.10, app-sg) and db (10.0.2.20, db-sg: 5432 from 10.0.1.0/24) in one VPC with an IGW; the app
    subnet has its own route table (0.0.0.0/0 -> a NAT gateway in the public subnet) and its own ACL."""
    b = SnapshotBuilder()
    vpc = b.vpc("10.0.0.0/16")
    public, app_net, db_net = (b.subnet(vpc, c) for c in ("10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24"))
    igw = b.internet_gateway(vpc)
    b.route_table(vpc, [public], [{"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": igw, "State": "active"}])
    nat = b.nat_gateway(public, "10.0.0.5", "3.3.3.3")
    app_table = b.route_table(
        vpc, [app_net], [{"DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": nat, "State": "active"}]
    )
    acl = b.nacl(vpc, [app_net], list(ALLOW_ALL_NACL))
    app_sg = b.security_group(vpc, "app-sg", [])
    db_sg = b.security_group(vpc, "db-sg", [tcp(5432, "10.0.1.0/24")])
    app = b.interface(app_net, "10.0.1.10", [app_sg], name="app")
    db = b.interface(db_net, "10.0.2.20", [db_sg], name="db")
    for table in b.data["RouteTables"]:
        for n, association in enumerate(table["Associations"]):
            association["RouteTableAssociationId"] = f"rtbassoc-{table['RouteTableId'][4:]}{n}"
    for nacl in b.data["NetworkAcls"]:
        for n, association in enumerate(nacl["Associations"]):
            association["NetworkAclAssociationId"] = f"aclassoc-{nacl['NetworkAclId'][4:]}{n}"
    return {
        "snapshot": Snapshot.load(b.write(tmp_path / "snapshot"), cache=False),
        "vpc": vpc,
        "app_net": app_net,
        "db_net": db_net,
        "app_table": app_table,
        "association": f"rtbassoc-{app_table[4:]}0",
        "acl": acl,
        "app_sg": app_sg,
        "db_sg": db_sg,
        "app": app,
        "db": db,
        "nat": nat,
        "igw": igw,
    }
