"""Least privilege from flow logs: every ACCEPT attributed to the line that allowed it (CONTRACT §9).

Fixture `reconcile-rule-usage` (tests/reconcile/make_usage_fixture.py): the orders database allows PostgreSQL
from the whole VPC and only one app server uses it; SSH from 10.0.0.0/8 nobody used; it lets everything out
and never starts a connection. The bastion's SSH is open to the internet and one admin uses it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from reach.api import Snapshot, whatif
from reach.cli import app
from reach.flowlogs import read_flow_logs
from reach.reconcile import reconcile
from reach.reconcile.result import ReconcileResult, RuleUsage
from reach.reconcile.suggest import suggested_changes
from reach.reconcile.usage import PEERS_KEPT, _Line, _ranges

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "reconcile-rule-usage"
SNAPSHOT, FLOWLOGS = FIXTURE / "snapshot", FIXTURE / "flowlogs"
DB_SG, BASTION_SG = "sg-0a11c0ffee0000022", "sg-0a11c0ffee0000023"
runner = CliRunner()


@pytest.fixture(scope="module")
def result() -> ReconcileResult:
    snap = Snapshot.load(SNAPSHOT)
    stream = read_flow_logs([str(FLOWLOGS)], quiet=True)
    return reconcile(snap.network, stream, read_stats=stream.stats)


def line(result: ReconcileResult, rule: str) -> RuleUsage:
    return next(u for u in result.rule_usage if u.rule == rule)


def test_the_postgres_rule_allows_the_whole_vpc_and_one_app_server_uses_it(result: ReconcileResult) -> None:
    postgres = line(result, "sgr-0db000000000postgres")
    assert (postgres.kind, postgres.id, postgres.direction, postgres.status) == (
        "security-group", DB_SG, "ingress", "wider")
    assert (postgres.records, postgres.flows) == (144, 144)
    assert postgres.observed.sources == ["10.20.1.15/32"] and postgres.observed.ports == [[5432, 5432]]
    assert postgres.allows_sources == ["10.20.0.0/16"]
    assert (postgres.first_seen, postgres.last_seen) == (1717225200, 1717225200 + 600 * 143 + 599)


def test_ssh_to_the_database_was_never_used_and_comes_first(result: ReconcileResult) -> None:
    ssh = line(result, "sgr-0db00000000000ssh")
    assert (ssh.status, ssh.records, ssh.flows, ssh.first_seen, ssh.last_seen) == ("unused", 0, 0, None, None)
    assert ssh.observed.sources == [] and ssh.observed.ports == []
    statuses = [u.status for u in result.rule_usage]
    assert statuses == sorted(statuses, key=["unused", "wider", "used"].index)


def test_the_database_never_opens_a_connection_so_its_allow_all_egress_is_unused(result: ReconcileResult) -> None:
    # its answers to the app server leave on connection tracking, which no egress rule decides
    assert line(result, "sgr-0db00000000000out").status == "unused"


def test_network_acl_entries_count_requests_and_responses_but_are_never_called_wider(
        result: ReconcileResult) -> None:
    inbound = next(u for u in result.rule_usage if u.kind == "network-acl" and u.direction == "ingress")
    assert (inbound.rule, inbound.records, inbound.status) == (100, 156, "used")
    outbound = next(u for u in result.rule_usage if u.kind == "network-acl" and u.direction == "egress")
    assert outbound.records == 156 and [40000, 40143] in outbound.observed.ports  # the app's ephemeral ports


def test_lines_of_interfaces_the_logs_do_not_cover_are_not_listed(result: ReconcileResult) -> None:
    # the app servers logged nothing: their group's rules are neither used nor unused as far as the logs know
    assert not any(u.id == "sg-0a11c0ffee0000021" for u in result.rule_usage)


def test_rule_usage_json_has_the_contract_fields() -> None:
    out = runner.invoke(app, ["reconcile", str(FLOWLOGS), "--snapshot", str(SNAPSHOT), "--format", "json"])
    assert out.exit_code == 0, out.output
    entries = json.loads(out.stdout)["rule_usage"]
    assert {"kind", "id", "rule", "direction", "records", "flows", "first_seen", "last_seen",
            "observed"} <= set(entries[0])
    assert {"sources", "ports"} <= set(entries[0]["observed"])


def test_the_text_reads_as_a_to_do_list() -> None:
    out = runner.invoke(app, ["reconcile", str(FLOWLOGS), "--snapshot", str(SNAPSHOT), "--rule-usage"],
                        env={"COLUMNS": "100"})
    assert out.exit_code == 0, out.output
    text = out.stdout
    assert text.index("Unused") < text.index("Far wider than used")
    assert "sgr-0db00000000000ssh" in text and "used by tcp 5432 from 10.20.1.15/32" in text


def test_the_suggested_narrowing_breaks_no_observed_connection(tmp_path: Path, result: ReconcileResult) -> None:
    changes = tmp_path / "narrow.json"
    out = runner.invoke(app, ["reconcile", str(FLOWLOGS), "--snapshot", str(SNAPSHOT), "--format", "json",
                              "--suggest-changes", str(changes)])
    assert out.exit_code == 0, out.output
    calls = json.loads(changes.read_text())
    assert calls == suggested_changes(result.rule_usage)
    revoked = {rule for c in calls for rule in c["params"].get("SecurityGroupRuleIds", [])}
    assert {"sgr-0db00000000000ssh", "sgr-0db000000000postgres", "sgr-0b5700000000000ssh"} <= revoked
    narrowed = [c for c in calls if c["action"] == "AuthorizeSecurityGroupIngress" and c["params"]["GroupId"] == DB_SG]
    assert narrowed[0]["params"]["IpPermissions"][0]["IpRanges"][0]["CidrIp"] == "10.20.1.15/32"
    checked = whatif(SNAPSHOT, changes, flow_logs=[str(FLOWLOGS)])
    assert [c for c in checked.changed if c.observed_records] == []
    # and the check is not vacuous: revoking the postgres rule without the narrowed one breaks the app
    changes.write_text(json.dumps([c for c in calls if c["action"].startswith("Revoke")]))
    broken = whatif(SNAPSHOT, changes, flow_logs=[str(FLOWLOGS)])
    assert any(c.after == "REJECT" and c.observed_records for c in broken.changed)


def test_peers_beyond_what_is_kept_exactly_become_wider_prefixes_that_still_cover_them() -> None:
    state = _Line()
    peers = [(10 << 24) | (k << 8) | 7 for k in range(PEERS_KEPT + 40)]  # 10.0.k.7
    state.add_peers(4, peers)
    assert state.widened and len(state.peers) <= PEERS_KEPT
    assert all(n < 32 for _, n, _ in state.peers)
    assert all(any(v >> (32 - n) == p >> (32 - n) for _, n, v in state.peers) for p in peers)


def test_partial_usage_merges_into_the_whole() -> None:
    whole, left, right = _Line(), _Line(), _Line()
    peers = [(192 << 24) | (168 << 16) | k for k in range(100)]
    whole.add_peers(4, peers)
    left.add_peers(4, peers[:50])
    right.add_peers(4, peers[50:])
    left.merge(right)
    assert left.peers == whole.peers and left.prefix == whole.prefix


def test_ports_beyond_the_listed_ranges_are_covered_across_the_narrowest_gaps() -> None:
    ports = np.zeros(65536, dtype=bool)
    ports[[1, 2, 3, 10, 20, 21, 100]] = True
    assert _ranges(ports) == [[1, 3], [10, 10], [20, 21], [100, 100]]
    assert _ranges(ports, most=3) == [[1, 10], [20, 21], [100, 100]]  # the gap 3..10 is the narrowest
