"""`reach exposure`: what the internet can open, exactly, told on fixtures; and every cell of the answer
held to the walker (one `explain` from a representative internet source per cell)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from netaddr import IPNetwork, IPSet
from typer.testing import CliRunner

from reach.api import Snapshot, exposure
from reach.cli import app
from reach.engine.explanation import Explanation
from reach.model.addr import format_address
from reach.sets.results import ExposureResult, InterfaceExposure
from tests.conftest import FIXTURES

EDGE = FIXTURES / "exposure-internet-edge" / "snapshot"
ALB = FIXTURES / "topology-alb-target-nacl" / "snapshot"
CROSS_CHECKED = [EDGE, ALB, FIXTURES / "web-http-revoked" / "snapshot", FIXTURES / "icmp-nacl-reply" / "snapshot",
                 FIXTURES / "ecs-ecr-nat" / "snapshot", FIXTURES / "lambda-rds-ok" / "snapshot"]


def _by_name(result: ExposureResult, name: str) -> InterfaceExposure:
    return next(i for i in result.interfaces if i.name == name)


@pytest.fixture(scope="module")
def edge() -> ExposureResult:
    return exposure(Snapshot.load(EDGE, cache=False))


def test_the_web_server_is_open_on_80_443_and_ping_but_ssh_stops_at_the_acl(edge: ExposureResult) -> None:
    web = _by_name(edge, "web")
    assert [(e.protocol, e.ports) for e in web.exposed] == [("icmp", [[8, 8]]), ("tcp", [[80, 80], [443, 443]])]
    assert {e.via for e in web.exposed} == {"igw-00000000000000004"}
    # The sources are the internet: outside the VPC, less what the gateway drops.
    sources = IPSet(web.exposed[1].sources)
    assert "8.8.8.8" in sources and "10.40.0.1" not in sources and "192.168.1.1" not in sources
    assert sources == IPSet(edge.internet) & IPSet(["0.0.0.0/0"])
    # security groups alone also report ssh; the network ACL's rule 90 is why it is not reachable
    assert [(s.protocol, s.ports, s.exposed) for s in web.sg_only if not s.exposed] == [("tcp", [[22, 22]], False)]
    assert web.sg_only_wrong
    assert any("rule #90 denies tcp 22" in note for note in web.notes)


def test_world_open_groups_that_no_path_from_the_internet_reaches(edge: ExposureResult) -> None:
    """bastion: a public address, but its subnet routes responses to a NAT gateway. db: no public address.
    legacy: no route back at all. Each is open to the world in its security group, and exposed nowhere."""
    for name, why in (("bastion", "nat-"), ("db", "no public IPv4 address"), ("legacy", "no route")):
        found = _by_name(edge, name)
        assert found.exposed == [], name
        assert found.sg_only and not any(s.exposed for s in found.sg_only), name
        assert any(why in note for note in found.notes), (name, found.notes)


def test_an_ipv6_address_is_open_through_the_gateway_but_the_ipv4_rule_reaches_nothing(edge: ExposureResult) -> None:
    api = _by_name(edge, "api-v6")
    assert api.public_ips == ["2600:1f18:4a3:6b00::20"]
    assert [(e.protocol, e.ports) for e in api.exposed] == [("tcp", [[8443, 8443]])]
    assert IPSet(api.exposed[0].sources) == IPSet(edge.internet) & IPSet(["::/0"])
    assert {IPNetwork(s).version for s in api.exposed[0].sources} == {6}
    v4 = [s for s in api.sg_only if IPNetwork(s.sources[0]).version == 4]
    assert v4 and not v4[0].exposed


def test_responses_allowed_to_only_part_of_the_ephemeral_range_say_which_part(edge: ExposureResult) -> None:
    ftp = _by_name(edge, "ftp")
    assert [(e.protocol, e.ports, e.client_ports) for e in ftp.exposed] == [("tcp", [[21, 21]], [[32768, 65535]])]


def test_a_nat_gateway_takes_nothing_from_the_internet(edge: ExposureResult) -> None:
    nat = next(i for i in edge.interfaces if i.public_ips == ["3.80.5.5"])
    assert nat.exposed == [] and nat.sg_only == []


def test_summary_counts_what_security_groups_alone_get_wrong(edge: ExposureResult) -> None:
    assert edge.schema_version == 1
    assert edge.summary.interfaces == 7
    assert edge.summary.exposed == 3  # web, api-v6, ftp
    assert edge.summary.sg_only_exposed == 6
    assert edge.summary.sg_only_wrong == 5 == edge.summary.sg_only_overstated
    assert edge.summary.sg_only_missed == 0


def test_load_balancer_targets_are_exposed_on_their_port_through_the_listener() -> None:
    """The ALB's targets have no public address and allow 8080 only from the ALB's group: security groups
    alone see nothing, yet anyone can reach them through the HTTPS listener."""
    result = exposure(Snapshot.load(ALB, cache=False))
    for name in ("web-1", "web-2"):
        target = _by_name(result, name)
        assert [(e.protocol, e.ports, e.via, e.listener) for e in target.exposed] == [
            ("tcp", [[8080, 8080]], "app/shop-web/50dc6c495c0c9188", "HTTPS 443")]
        assert target.sg_only == [] and target.sg_only_wrong
    nodes = [i for i in result.interfaces if i.public_ips]
    assert [[(e.protocol, e.ports) for e in n.exposed] for n in nodes] == [[("tcp", [[80, 80], [443, 443]])]] * 2
    assert result.summary.sg_only_missed == 2


def test_a_target_reached_from_no_node_is_not_exposed(tmp_path: Path) -> None:
    """The app subnets' ACL lets 8080 in from neither ALB subnet: no target is exposed, the nodes still are."""
    folder = tmp_path / "snapshot"
    folder.mkdir()
    for file in ALB.iterdir():
        data = json.loads(file.read_text())
        for acl in data.get("NetworkAcls", []):
            for entry in acl["Entries"]:
                if entry.get("CidrBlock") == "10.30.0.0/24" and not entry["Egress"]:
                    entry["CidrBlock"] = "10.30.200.0/24"
        (folder / file.name).write_text(json.dumps(data))
    result = exposure(Snapshot.load(folder, cache=False))
    assert _by_name(result, "web-1").exposed == [] and _by_name(result, "web-2").exposed == []
    assert result.summary.exposed == 2


# --- every cell held to the walker ---------------------------------------------------------------------


def _source(sources: list[str]) -> str:
    largest = max(IPSet(sources).iter_cidrs(), key=lambda c: c.size)
    return str(largest[1] if largest.size > 1 else largest[0])


def _blocked_outside_target_legs(result: Explanation, target: str | None) -> list[str]:
    """Blocking hops, leaving out those on the legs to other targets than `target` (the walker walks every
    target of a load balancer; one unreachable target does not stop the client's connection to the node)."""
    blocked, leg = [], None
    for hop in result.hops:
        if hop.kind == "load-balancer" and "sends it to target" in hop.detail:
            leg = hop.detail
        elif hop.kind == "load-balancer" and "takes the target's response" in hop.detail:
            leg = None
            continue
        if hop.decision == "deny" and (leg is None or (target is not None and target in leg)):
            blocked.append(hop.detail)
    return blocked


def _explain(snap: Snapshot, src: str, dst: str, protocol: str, port: int, client: int | None) -> Explanation:
    return snap.explain(src, dst, port, protocol, src_port=client if protocol in ("tcp", "udp") else None)


@pytest.mark.parametrize("folder", CROSS_CHECKED, ids=lambda f: f.parent.name)
def test_every_exposed_cell_agrees_with_the_walker(folder: Path) -> None:
    snap = Snapshot.load(folder, cache=False)
    result = exposure(snap)
    checked = 0
    for interface in result.interfaces:
        for entry in interface.exposed:
            src = _source(entry.sources)
            client = entry.client_ports[0][0] if entry.client_ports else None
            if entry.listener is None:
                v6 = ":" in src
                dst = next(a for a in interface.public_ips if (":" in a) == v6)
                destinations: list[tuple[str, int | None]] = [(dst, None)]
            else:  # through a load balancer: some node of it carries the listener to this target
                balancer = snap.network.balancing.find(entry.via)
                assert balancer is not None
                nodes = [snap.network.interfaces[n] for n in balancer.interfaces]
                listener_port = int(entry.listener.split()[-1])
                destinations = [(format_address(4, n.public_ips[0][0]), listener_port) for n in nodes if n.public_ips]
            for lo, hi in entry.ports:
                for port in {lo, hi}:
                    outcomes = []
                    for dst, listener in destinations:
                        explained = _explain(snap, src, dst, entry.protocol, listener or port, client)
                        target = interface.interface_id if listener else None
                        outcomes.append(_blocked_outside_target_legs(explained, target))
                    assert [] in outcomes, (interface.interface_id, entry, outcomes)
                    checked += 1
    assert checked == sum(len({p for span in e.ports for p in span}) for i in result.interfaces for e in i.exposed)


@pytest.mark.parametrize("folder", CROSS_CHECKED, ids=lambda f: f.parent.name)
def test_what_security_groups_alone_overstate_the_walker_rejects(folder: Path) -> None:
    snap = Snapshot.load(folder, cache=False)
    for interface in exposure(snap).interfaces:
        for entry in interface.sg_only:
            if entry.exposed or not interface.public_ips or entry.protocol == "all":
                continue
            src = _source(entry.sources)
            addresses = [a for a in interface.public_ips if (":" in a) == (":" in src)]
            for dst in addresses:
                explained = _explain(snap, src, dst, entry.protocol, entry.ports[0][0], None)
                assert explained.verdict == "REJECT", (interface.interface_id, entry)


# --- the command ------------------------------------------------------------------------------------------


def test_cli_json_is_contract_shaped() -> None:
    out = CliRunner().invoke(app, ["exposure", "--snapshot", str(EDGE), "--format", "json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["schema_version"] == 1
    assert set(data["summary"]) >= {"interfaces", "exposed", "sg_only_exposed"}
    first = next(i for i in data["interfaces"] if i["exposed"])
    assert set(first) >= {"interface_id", "public_ips", "exposed", "sg_only"}
    assert set(first["exposed"][0]) >= {"protocol", "ports", "sources", "via"}
    assert len(data["interfaces"]) == data["summary"]["interfaces"]


def test_cli_text_answers_first_and_fits_80_columns() -> None:
    out = CliRunner().invoke(app, ["exposure", "--snapshot", str(EDGE)])
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    assert lines[0] == "Exposure  3 of 7 interfaces can be opened from the internet"
    assert lines[1].startswith("Worst  ") and "(web)" in lines[1]
    table = lines[lines.index("") + 1: lines.index("", lines.index("") + 1)]
    assert table[0].split() == ["interface", "protocol", "ports", "sources", "via"]
    assert all(len(line) <= 80 for line in table)


def test_cli_html_strikes_what_security_groups_alone_overstate() -> None:
    out = CliRunner().invoke(app, ["exposure", "--snapshot", str(EDGE), "--format", "html"])
    assert out.exit_code == 0, out.output
    page = out.output
    assert page.startswith("<!doctype html>") and "default-src 'none'" in page
    assert page.count('data-false-positive="true"') == 5
    assert "<s " in page and "tcp 3389" in page
    assert "http://" not in page and "https://" not in page


def test_cli_bad_snapshot_exits_2_with_a_message(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text("{not json")
    out = CliRunner().invoke(app, ["exposure", "--snapshot", str(tmp_path)])
    assert out.exit_code == 2
    assert "bad.json" in out.output
