"""--redact: consistent, deterministic, and keeps which address lies in which range."""

from __future__ import annotations

import ipaddress

from hypothesis import given, settings
from hypothesis import strategies as st

from reach.snapshot.redact import TARGET, Redactor, redact_snapshot

ACCOUNT = "123456789012"


def _redactor(*values: object) -> Redactor:
    redactor = Redactor()
    for value in values:
        redactor.scan(value)
    return redactor


def test_accounts_are_replaced_everywhere_with_one_fake() -> None:
    document = {
        "OwnerId": ACCOUNT,
        "Arn": f"arn:aws:ec2:us-east-1:{ACCOUNT}:vpc/vpc-1",
        "Peer": {"OwnerId": "210987654321", "Description": f"peering to {ACCOUNT}"},
    }
    redacted, redactor = redact_snapshot({f"{ACCOUNT}/us-east-1/describe-vpcs.json": document})
    ((path, value),) = redacted.items()
    fake = redactor.account(ACCOUNT)
    assert len(fake) == 12 and fake.isdigit() and fake != ACCOUNT
    assert path == f"{fake}/us-east-1/describe-vpcs.json"
    assert value["OwnerId"] == fake
    assert value["Arn"] == f"arn:aws:ec2:us-east-1:{fake}:vpc/vpc-1"
    assert value["Peer"]["Description"] == f"peering to {fake}"
    assert value["Peer"]["OwnerId"] not in (fake, "210987654321")


def test_public_addresses_move_into_the_target_range_and_the_rest_stays() -> None:
    values = [
        "52.1.2.3",
        "52.1.0.0/16",
        "10.0.1.5",
        "0.0.0.0/0",
        "198.51.100.7",
        "172.16.0.0/12",
        "8.8.8.8/32",
    ]
    redactor = _redactor(values)
    out = redactor.apply(values)
    assert out[2:6] == ["10.0.1.5", "0.0.0.0/0", "198.51.100.7", "172.16.0.0/12"]
    for moved in (out[0], out[1], out[6]):
        assert ipaddress.ip_network(moved).subnet_of(TARGET)
    assert ipaddress.ip_address(out[0]) in ipaddress.ip_network(out[1])  # 52.1.2.3 stays inside 52.1.0.0/16
    assert out[6].endswith("/32") and ipaddress.ip_address(out[6][:-3]) not in ipaddress.ip_network(out[1])


def test_addresses_inside_text_and_dns_names_are_replaced_alike() -> None:
    redactor = _redactor({"PublicIp": "54.214.3.9"})
    mapped = redactor.address("54.214.3.9")
    out = redactor.apply(
        {
            "PublicDnsName": "ec2-54-214-3-9.compute-1.amazonaws.com",
            "Description": "allow 54.214.3.9 and 54.214.3.9/32 but not 54.214.3.9.1",
        }
    )
    assert out["PublicDnsName"] == f"ec2-{mapped.replace('.', '-')}.compute-1.amazonaws.com"
    assert out["Description"] == f"allow {mapped} and {mapped}/32 but not 54.214.3.9.1"


def test_same_snapshot_redacts_the_same_way_twice() -> None:
    documents = {
        "a.json": {"Addresses": [{"PublicIp": "3.3.3.3"}, {"PublicIp": "4.4.4.4"}], "OwnerId": ACCOUNT}
    }
    first, _ = redact_snapshot(documents)
    second, _ = redact_snapshot(documents)
    assert first == second


_public = st.integers(
    min_value=int(ipaddress.ip_address("11.0.0.0")), max_value=int(ipaddress.ip_address("99.0.0.0"))
)


@st.composite
def _networks(draw: st.DrawFn) -> list[ipaddress.IPv4Network]:
    found = []
    for _ in range(draw(st.integers(1, 40))):
        address = draw(_public)
        prefix = draw(st.sampled_from([8, 12, 16, 20, 24, 28, 32, 32, 32]))
        found.append(ipaddress.ip_network(f"{ipaddress.ip_address(address)}/{prefix}", strict=False))
    return found


@settings(max_examples=150, deadline=None)
@given(_networks())
def test_containment_and_disjointness_are_kept(networks: list[ipaddress.IPv4Network]) -> None:
    texts = [str(n) for n in networks]
    redactor = _redactor(texts)
    mapped = {n: ipaddress.ip_network(redactor.address(str(n))) for n in networks}
    for a in networks:
        assert mapped[a].subnet_of(TARGET)
        for b in networks:
            assert a.subnet_of(b) == mapped[a].subnet_of(mapped[b]), (a, b)
            assert a.overlaps(b) == mapped[a].overlaps(mapped[b]), (a, b)
