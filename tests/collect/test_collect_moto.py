"""The collector against a real moto server: files equal boto3's answers, the snapshot explains, throttling
is retried, denied calls are recorded and not fatal, roles, redaction and the IAM policy."""

from __future__ import annotations

import io
import ipaddress
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore import xform_name
from botocore.awsrequest import AWSResponse
from moto import settings as moto_settings

from reach.api import Snapshot
from reach.errors import ReachError
from reach.snapshot.collector import CALLS, MANIFEST, MANIFEST_KEY, CollectResult, collect, iam_policy
from tests.collect.moto_network import CREDENTIALS, OFFICE, REGION, Built, Moto


@pytest.fixture(scope="module")
def collected(moto_server: Moto, network: Built, tmp_path_factory: pytest.TempPathFactory) -> CollectResult:
    return collect(
        tmp_path_factory.mktemp("collect") / "snap",
        session=moto_server.session(),
        regions=[REGION],
        endpoint_url=moto_server.url,
    )


def _session(moto: Moto) -> boto3.Session:
    return boto3.Session(region_name=REGION, **CREDENTIALS)


def _collect(
    moto: Moto, tmp_path: Path, session: boto3.Session | None = None, **options: Any
) -> CollectResult:
    """Collect into tmp_path/snap from moto, in REGION unless the options say otherwise."""
    if not options.get("all_regions"):
        options.setdefault("regions", [REGION])
    return collect(tmp_path / "snap", session=session or _session(moto), endpoint_url=moto.url, **options)


def _account_dir(result: CollectResult) -> Path:
    return result.outdir / "123456789012" / REGION


def _json(value: Any) -> Any:
    """What a response looks like once written: datetimes as ISO 8601."""
    return json.loads(json.dumps(value, default=lambda v: v.isoformat()))


def _boto3_answer(client: Any, operation: str, **params: Any) -> dict[str, Any]:
    """The whole answer of one call the way boto3 users merge pages: botocore's own build_full_result."""
    method = xform_name(operation)
    if client.can_paginate(method):
        response = client.get_paginator(method).paginate(**params).build_full_result()
    else:
        response = getattr(client, method)(**params)
    response.pop("ResponseMetadata", None)
    response.pop("NextToken", None)
    return _json(response)


# --- what is written ------------------------------------------------------------------------------------


def test_every_file_equals_what_boto3_returns(collected: CollectResult, moto_server: Moto) -> None:
    clients = {"ec2": moto_server.client("ec2"), "elbv2": moto_server.client("elbv2")}
    folder = _account_dir(collected)
    checked = 0
    for call in CALLS:
        if call.per is not None:
            continue
        written = json.loads((folder / f"{call.name}.json").read_text())
        assert written == _boto3_answer(clients[call.service], call.operation), call.name
        checked += 1
    assert checked == sum(1 for c in CALLS if c.per is None)
    lists = json.loads((folder / "describe-managed-prefix-lists.json").read_text())["PrefixLists"]
    assert lists
    for prefix_list in lists:
        pl_id = prefix_list["PrefixListId"]
        written = json.loads((folder / "get-managed-prefix-list-entries" / f"{pl_id}.json").read_text())
        expected = _boto3_answer(clients["ec2"], "GetManagedPrefixListEntries", PrefixListId=pl_id)
        assert written == {"PrefixListId": pl_id, **expected}
        assert next(iter(written)) == "PrefixListId"  # the id first, as CONTRACT §1 writes it


def test_manifest_records_identity_regions_and_counts(collected: CollectResult) -> None:
    manifest = json.loads((collected.outdir / MANIFEST).read_text())[MANIFEST_KEY]
    assert manifest["identity"]["Account"] == "123456789012"
    assert manifest["regions"] == [REGION]
    assert manifest["errors"] == []
    assert manifest["seconds"] >= 0 and manifest["started"] <= manifest["finished"]
    calls = {c["call"]: c for c in manifest["calls"]}
    assert calls["describe-vpcs"]["items"] == 3  # the default VPC and the two the test built
    assert calls["describe-flow-logs"] == {
        **calls["describe-flow-logs"],
        "items": 3,
        "requests": 1,
        "files": 1,
    }
    assert (
        calls["get-managed-prefix-list-entries"]["files"] == calls["describe-managed-prefix-lists"]["items"]
    )
    assert manifest["files"] == len(collected.files) == sum(c["files"] for c in manifest["calls"])


def test_no_credentials_are_written(moto_server: Moto, network: Built, tmp_path: Path) -> None:
    session = boto3.Session(
        region_name=REGION,
        aws_access_key_id="AKIAREACHCOLLECTTEST",
        aws_secret_access_key="reach-secret-never-written",
    )
    result = _collect(moto_server, tmp_path, session)
    text = "".join(p.read_text() for p in result.outdir.rglob("*.json"))
    for secret in ("AKIAREACHCOLLECTTEST", "reach-secret-never-written", "SecretAccessKey", "SessionToken"):
        assert secret not in text


# --- collect, then explain ------------------------------------------------------------------------------


def test_collected_snapshot_loads_and_explains(collected: CollectResult, network: Built) -> None:
    snap = Snapshot.load(collected.outdir, cache=False)
    assert set(snap.ignored) <= {MANIFEST_KEY}
    assert network["pcx"] in snap.network.peerings
    assert network["nat"] in snap.network.gateways

    allowed = snap.explain(
        "app-server", "10.0.2.20", 5432
    )  # db-sg allows 5432 from app-sg (a group reference)
    assert allowed.verdict == "ACCEPT"

    denied = snap.explain(
        "app-server", "10.0.2.20", 3306
    )  # db-sg allows it too, but the db NACL denies first
    assert denied.verdict == "REJECT"
    assert denied.reason == "SUBNET_ACL_RESTRICTION"
    assert denied.blocked_by is not None
    assert (denied.blocked_by.kind, denied.blocked_by.id, denied.blocked_by.rule) == (
        "network-acl",
        network["db-acl"],
        100,
    )


# --- throttling and denial, injected with botocore event hooks ---------------------------------------------


class _Body:
    """A raw HTTP body botocore can read."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def stream(self, **_: Any) -> Any:
        yield self._data.read()


def _ec2_error(code: str, status: int) -> AWSResponse:
    body = (
        f"<Response><Errors><Error><Code>{code}</Code><Message>injected {code}</Message></Error></Errors>"
        "<RequestID>reach-test</RequestID></Response>"
    ).encode()
    return AWSResponse("http://moto/", status, {}, _Body(body))


def _throttle(times: int, seen: list[str]) -> Callable[..., AWSResponse | None]:
    """A before-send hook: answer the first `times` requests with RequestLimitExceeded, then let them through,
    so botocore's retry handler (not this hook) decides to try again."""

    def hook(request: Any, **_: Any) -> AWSResponse | None:
        seen.append("throttled" if len(seen) < times else "sent")
        return _ec2_error("RequestLimitExceeded", 503) if seen[-1] == "throttled" else None

    return hook


def _deny(code: str = "UnauthorizedOperation") -> Callable[..., tuple[AWSResponse, dict[str, Any]]]:
    """A before-call hook: answer as AWS does when IAM denies the call."""

    def hook(model: Any, **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        message = f"You are not authorized to perform this operation. ({model.name})"
        parsed = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": 403}}
        return _ec2_error(code, 403), parsed

    return hook


def test_throttled_call_is_retried(moto_server: Moto, network: Built, tmp_path: Path) -> None:
    session = _session(moto_server)
    seen: list[str] = []
    session.events.register("before-send.ec2.DescribeFlowLogs", _throttle(2, seen))
    result = _collect(moto_server, tmp_path, session, retry_mode="standard", max_attempts=4)
    assert seen == ["throttled", "throttled", "sent"]
    assert result.errors == []
    flow_logs = json.loads((_account_dir(result) / "describe-flow-logs.json").read_text())["FlowLogs"]
    assert len(flow_logs) == 3


def test_throttled_past_every_retry_is_recorded_not_fatal(
    moto_server: Moto, network: Built, tmp_path: Path
) -> None:
    session = _session(moto_server)
    seen: list[str] = []
    session.events.register("before-send.ec2.DescribeFlowLogs", _throttle(99, seen))
    result = _collect(moto_server, tmp_path, session, retry_mode="standard", max_attempts=1)
    assert len(seen) == 2  # the request and its one retry
    assert [(e.call, e.code, e.denied) for e in result.errors] == [
        ("describe-flow-logs", "RequestLimitExceeded", False)
    ]
    assert not (_account_dir(result) / "describe-flow-logs.json").exists()
    assert (_account_dir(result) / "describe-vpcs.json").exists()


def test_denied_calls_are_recorded_and_the_rest_collected(
    moto_server: Moto, network: Built, tmp_path: Path
) -> None:
    session = _session(moto_server)
    session.events.register("before-call.ec2.DescribeFlowLogs", _deny())
    session.events.register("before-call.ec2.GetManagedPrefixListEntries", _deny())
    result = _collect(moto_server, tmp_path, session)

    assert result.collected
    denied = {(e.call, e.resource) for e in result.denied}
    assert ("describe-flow-logs", None) in denied
    entries = {resource for call, resource in denied if call == "get-managed-prefix-list-entries"}
    lists = json.loads((_account_dir(result) / "describe-managed-prefix-lists.json").read_text())[
        "PrefixLists"
    ]
    assert entries == {p["PrefixListId"] for p in lists}
    assert all(e.code == "UnauthorizedOperation" and e.action.startswith("ec2:") for e in result.errors)

    manifest = json.loads((result.outdir / MANIFEST).read_text())[MANIFEST_KEY]
    assert {e["call"] for e in manifest["errors"] if e["denied"]} == {
        "describe-flow-logs",
        "get-managed-prefix-list-entries",
    }
    assert not (_account_dir(result) / "describe-flow-logs.json").exists()
    # What was collected still explains.
    assert (
        Snapshot.load(result.outdir, cache=False).explain("app-server", "10.0.2.20", 5432).verdict == "ACCEPT"
    )


def test_nothing_collected_when_every_call_is_denied(moto_server: Moto, tmp_path: Path) -> None:
    session = _session(moto_server)
    session.events.register("before-call.ec2", _deny())
    session.events.register("before-call.elastic-load-balancing-v2", _deny("AccessDenied"))
    result = _collect(moto_server, tmp_path, session)
    assert not result.collected
    assert len(result.denied) == len(result.errors) == sum(1 for c in CALLS if c.per is None)
    assert (result.outdir / MANIFEST).exists()  # the manifest still says what was tried


# --- accounts and regions ---------------------------------------------------------------------------------


def test_role_arns_collect_each_account(moto_server: Moto, tmp_path: Path) -> None:
    roles = ["arn:aws:iam::111111111111:role/reach-read", "arn:aws:iam::222222222222:role/reach-read"]
    result = _collect(moto_server, tmp_path, role_arns=roles, elbv2=False)
    assert [a["account"] for a in result.accounts] == ["111111111111", "222222222222"]
    assert [a["role_arn"] for a in result.accounts] == roles
    for account in ("111111111111", "222222222222"):
        assert (result.outdir / account / REGION / "describe-vpcs.json").exists()
    assert not (result.outdir / "123456789012").exists()


def test_all_regions_lists_the_enabled_regions(moto_server: Moto, network: Built, tmp_path: Path) -> None:
    session = _session(moto_server)

    def two_regions(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        parsed = {
            "Regions": [{"RegionName": "eu-west-1"}, {"RegionName": REGION}],
            "ResponseMetadata": {"HTTPStatusCode": 200},
        }
        return AWSResponse("http://moto/", 200, {}, _Body(b"")), parsed

    session.events.register("before-call.ec2.DescribeRegions", two_regions)
    result = _collect(moto_server, tmp_path, session, all_regions=True, elbv2=False)
    assert result.regions == ["eu-west-1", REGION]
    assert (result.outdir / "123456789012" / "eu-west-1" / "describe-vpcs.json").exists()
    assert (result.outdir / "123456789012" / REGION / "describe-flow-logs.json").exists()


def test_outdir_must_be_new_or_empty(moto_server: Moto, tmp_path: Path) -> None:
    (tmp_path / "old.json").write_text("{}")
    with pytest.raises(ReachError, match="not empty"):
        collect(tmp_path, session=_session(moto_server), regions=[REGION], endpoint_url=moto_server.url)


# --- redaction and the IAM policy ---------------------------------------------------------------------------


def test_redacted_snapshot_hides_accounts_and_public_addresses_and_explains_the_same(
    moto_server: Moto, network: Built, collected: CollectResult, tmp_path: Path
) -> None:
    result = _collect(moto_server, tmp_path, redact=True)
    ec2 = moto_server.client("ec2")
    bastion = ec2.describe_instances(InstanceIds=[network["bastion"]])["Reservations"][0]["Instances"][0]
    text = "".join(p.read_text() for p in result.outdir.rglob("*.json"))
    for secret in ("123456789012", bastion["PublicIpAddress"], OFFICE, OFFICE.split("/")[0]):
        assert secret not in text
    assert not (result.outdir / "123456789012").exists()
    manifest = json.loads((result.outdir / MANIFEST).read_text())[MANIFEST_KEY]
    assert manifest["redacted"] is True and len(manifest["identity"]["Account"]) == 12

    groups = json.loads(next(result.outdir.rglob("describe-security-groups.json")).read_text())[
        "SecurityGroups"
    ]
    office = next(g for g in groups if g["GroupName"] == "bastion-sg")["IpPermissions"][0]["IpRanges"][0][
        "CidrIp"
    ]
    assert ipaddress.ip_network(office).subnet_of(ipaddress.ip_network("198.18.0.0/15"))
    inside = str(ipaddress.ip_network(office).network_address + 5)

    plain, redacted = Snapshot.load(collected.outdir, cache=False), Snapshot.load(result.outdir, cache=False)
    flows = [
        (("app-server", "10.0.2.20", 5432), ("app-server", "10.0.2.20", 5432)),
        (("app-server", "10.0.2.20", 3306), ("app-server", "10.0.2.20", 3306)),
        (("app-server", "8.8.8.8", 443), ("app-server", "8.8.8.8", 443)),
        (("81.2.69.160", "bastion", 22), (inside, "bastion", 22)),  # from the office: allowed
        (("81.2.70.5", "bastion", 22), ("81.2.70.5", "bastion", 22)),  # from elsewhere: the SG says no
    ]
    verdicts = []
    for before_flow, after_flow in flows:
        before, after = plain.explain(*before_flow), redacted.explain(*after_flow)
        assert (before.verdict, before.reason) == (after.verdict, after.reason), before_flow
        assert [h.kind for h in before.hops] == [h.kind for h in after.hops]
        verdicts.append(before.verdict)
    assert verdicts == ["ACCEPT", "REJECT", "ACCEPT", "ACCEPT", "REJECT"]


def test_policy_lists_exactly_the_actions_called(moto_server: Moto, network: Built, tmp_path: Path) -> None:
    session = _session(moto_server)
    called: set[str] = set()

    def record(model: Any, **_: Any) -> None:
        called.add(f"{model.service_model.signing_name}:{model.name}")

    session.events.register("before-call", record)
    _collect(moto_server, tmp_path, session)
    statement = iam_policy()["Statement"][0]
    assert set(statement["Action"]) == called
    assert statement["Effect"] == "Allow" and statement["Resource"] == "*"
    assert all(a.split(":")[1].startswith(("Describe", "Get", "Search")) for a in called)
    assert "ec2:DescribeRegions" in iam_policy(all_regions=True)["Statement"][0]["Action"]


def test_the_printed_policy_is_enough_under_moto_iam_and_a_missing_action_is_denied(
    moto_server: Moto, network: Built, tmp_path: Path
) -> None:
    """With moto checking every request against IAM: the minimal policy collects everything; the same policy
    without ec2:DescribeFlowLogs is denied that one call, recorded, and the rest is collected."""
    iam = moto_server.client("iam")
    keys = {}
    for user, drop in (("reach-full", None), ("reach-no-flow-logs", "ec2:DescribeFlowLogs")):
        policy = iam_policy()
        policy["Statement"][0]["Action"] = [a for a in policy["Statement"][0]["Action"] if a != drop]
        iam.create_user(UserName=user)
        iam.put_user_policy(UserName=user, PolicyName="reach", PolicyDocument=json.dumps(policy))
        keys[user] = iam.create_access_key(UserName=user)["AccessKey"]

    def session(user: str) -> boto3.Session:
        key = keys[user]
        return boto3.Session(
            region_name=REGION,
            aws_access_key_id=key["AccessKeyId"],
            aws_secret_access_key=key["SecretAccessKey"],
        )

    before = moto_settings.INITIAL_NO_AUTH_ACTION_COUNT
    moto_settings.INITIAL_NO_AUTH_ACTION_COUNT = 0  # from now on moto authorizes every request
    try:
        full = _collect(moto_server, tmp_path / "full", session("reach-full"))
        partial = _collect(moto_server, tmp_path / "partial", session("reach-no-flow-logs"))
    finally:
        moto_settings.INITIAL_NO_AUTH_ACTION_COUNT = before
    assert full.errors == [] and full.collected
    assert [(e.call, e.denied) for e in partial.errors] == [("describe-flow-logs", True)]
    assert len(partial.files) == len(full.files) - 1
