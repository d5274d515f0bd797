"""Collect a snapshot folder from a live account with read-only describe/get calls.

    result = collect("snap/", session=boto3.Session(profile_name="prod"), regions=["eu-west-1"])
    result.manifest          # what was called, how many items, what was denied
    iam_policy()             # the IAM policy that allows exactly those calls

Every response is written as AWS returns it (pages merged, `ResponseMetadata` and `NextToken` dropped) to
`<outdir>/<account>/<region>/<call>.json`, the layout `load_snapshot` reads. Calls made once per resource
(prefix-list entries, transit gateway route-table searches, elbv2 listeners, target health, attributes) go to
`<call>/<id>.json` with the id added, as CONTRACT §1 stores them. A call that fails (denied, throttled past
every retry, region unreachable) is recorded in `manifest.json` and the rest carries on. Credentials are
held in memory only and never written.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Protocol

import boto3
from botocore import xform_name
from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ReadTimeoutError,
)

from reach.errors import ReachError
from reach.snapshot.redact import Redactor, redact_snapshot

MANIFEST = "manifest.json"
MANIFEST_KEY = "ReachManifest"  # one top-level key, so the snapshot loader mentions the manifest only once

# The IAM service prefix of each boto3 service the collector calls.
_IAM_PREFIX = {"ec2": "ec2", "elbv2": "elasticloadbalancing", "sts": "sts"}

# Error codes that mean "this principal may not make this call" (EC2 says UnauthorizedOperation).
DENIED_CODES = frozenset(
    {"UnauthorizedOperation", "AccessDenied", "AccessDeniedException", "UnauthorizedAccess", "Forbidden"}
)

# Failures below the HTTP layer that concern one call (or one region), not the whole collection.
_TRANSPORT_ERRORS = (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError, ConnectionClosedError)


@dataclass(frozen=True)
class Call:
    """One describe/get call as the collector makes it.

    `name` is the AWS CLI command (the file name), `result_key` the list that pages merge on and that is
    counted. A call with `per` runs once for each item of the `per` call's result, passing the item's
    `id_field` as `param`, and is stored with `{param: id}` added; `store_as` renames the result key where
    CONTRACT §1 names it differently from AWS.
    """

    name: str
    service: str
    operation: str
    result_key: str
    params: tuple[tuple[str, Any], ...] = ()
    per: str | None = None
    id_field: str | None = None
    param: str | None = None
    store_as: str | None = None
    elbv2: bool = False
    secret: tuple[str, ...] = ()  # fields of each item never written (a VPN's pre-shared keys)

    @property
    def action(self) -> str:
        return f"{_IAM_PREFIX[self.service]}:{self.operation}"


_TGW_ROUTE_TYPES = (("Filters", ({"Name": "type", "Values": ("static", "propagated")},)),)


def _ec2(name: str, operation: str, key: str) -> Call:
    return Call(name, "ec2", operation, key)


def _each(parent: str, id_field: str, name: str, service: str, operation: str, key: str, **more: Any) -> Call:
    """A call made once per item of `parent`, with the item's `id_field` as its parameter of the same name."""
    return Call(name, service, operation, key, per=parent, id_field=id_field, param=id_field, **more)


_TGW_TABLES = "describe-transit-gateway-route-tables"
_TABLE_ID = "TransitGatewayRouteTableId"
_LBS, _LB_ARN = "describe-load-balancers", "LoadBalancerArn"
_TGS, _TG_ARN = "describe-target-groups", "TargetGroupArn"

# Every call, in the order CONTRACT §1 lists the keys; a dependent call after the call it depends on.
CALLS: tuple[Call, ...] = (
    _ec2("describe-vpcs", "DescribeVpcs", "Vpcs"),
    _ec2("describe-subnets", "DescribeSubnets", "Subnets"),
    _ec2("describe-route-tables", "DescribeRouteTables", "RouteTables"),
    _ec2("describe-security-groups", "DescribeSecurityGroups", "SecurityGroups"),
    _ec2("describe-security-group-rules", "DescribeSecurityGroupRules", "SecurityGroupRules"),
    _ec2("describe-network-acls", "DescribeNetworkAcls", "NetworkAcls"),
    _ec2("describe-network-interfaces", "DescribeNetworkInterfaces", "NetworkInterfaces"),
    _ec2("describe-instances", "DescribeInstances", "Reservations"),
    _ec2("describe-internet-gateways", "DescribeInternetGateways", "InternetGateways"),
    _ec2("describe-egress-only-internet-gateways", "DescribeEgressOnlyInternetGateways",
         "EgressOnlyInternetGateways"),
    _ec2("describe-nat-gateways", "DescribeNatGateways", "NatGateways"),
    _ec2("describe-vpc-peering-connections", "DescribeVpcPeeringConnections", "VpcPeeringConnections"),
    _ec2("describe-vpc-endpoints", "DescribeVpcEndpoints", "VpcEndpoints"),
    _ec2("describe-prefix-lists", "DescribePrefixLists", "PrefixLists"),
    _ec2("describe-managed-prefix-lists", "DescribeManagedPrefixLists", "PrefixLists"),
    _each("describe-managed-prefix-lists", "PrefixListId",
          "get-managed-prefix-list-entries", "ec2", "GetManagedPrefixListEntries", "Entries"),
    _ec2("describe-transit-gateways", "DescribeTransitGateways", "TransitGateways"),
    _ec2("describe-transit-gateway-attachments", "DescribeTransitGatewayAttachments",
         "TransitGatewayAttachments"),
    _ec2("describe-transit-gateway-vpc-attachments", "DescribeTransitGatewayVpcAttachments",
         "TransitGatewayVpcAttachments"),
    _ec2("describe-transit-gateway-peering-attachments", "DescribeTransitGatewayPeeringAttachments",
         "TransitGatewayPeeringAttachments"),
    _ec2(_TGW_TABLES, "DescribeTransitGatewayRouteTables", "TransitGatewayRouteTables"),
    _each(_TGW_TABLES, _TABLE_ID, "search-transit-gateway-routes", "ec2", "SearchTransitGatewayRoutes",
          "Routes", params=_TGW_ROUTE_TYPES),
    _each(_TGW_TABLES, _TABLE_ID, "get-transit-gateway-route-table-associations", "ec2",
          "GetTransitGatewayRouteTableAssociations", "Associations"),
    _each(_TGW_TABLES, _TABLE_ID, "get-transit-gateway-route-table-propagations", "ec2",
          "GetTransitGatewayRouteTablePropagations", "TransitGatewayRouteTablePropagations",
          store_as="Propagations"),
    _ec2("describe-addresses", "DescribeAddresses", "Addresses"),
    # CustomerGatewayConfiguration is the customer gateway's configuration, tunnel pre-shared keys included.
    Call("describe-vpn-connections", "ec2", "DescribeVpnConnections", "VpnConnections",
         secret=("CustomerGatewayConfiguration",)),
    _ec2("describe-vpn-gateways", "DescribeVpnGateways", "VpnGateways"),
    _ec2("describe-customer-gateways", "DescribeCustomerGateways", "CustomerGateways"),
    _ec2("describe-flow-logs", "DescribeFlowLogs", "FlowLogs"),
    Call(_LBS, "elbv2", "DescribeLoadBalancers", "LoadBalancers", elbv2=True),
    _each(_LBS, _LB_ARN, "describe-listeners", "elbv2", "DescribeListeners", "Listeners", elbv2=True),
    _each(_LBS, _LB_ARN, "describe-load-balancer-attributes", "elbv2", "DescribeLoadBalancerAttributes",
          "Attributes", elbv2=True),
    Call(_TGS, "elbv2", "DescribeTargetGroups", "TargetGroups", elbv2=True),
    _each(_TGS, _TG_ARN, "describe-target-health", "elbv2", "DescribeTargetHealth",
          "TargetHealthDescriptions", elbv2=True),
    _each(_TGS, _TG_ARN, "describe-target-group-attributes", "elbv2", "DescribeTargetGroupAttributes",
          "Attributes", elbv2=True),
)

_IDENTITY_ACTION = "sts:GetCallerIdentity"
_REGIONS_ACTION = "ec2:DescribeRegions"


def calls_for(*, elbv2: bool = True) -> tuple[Call, ...]:
    """The calls one collection makes in each region."""
    return tuple(c for c in CALLS if elbv2 or not c.elbv2)


def iam_policy(*, all_regions: bool = False, elbv2: bool = True) -> dict[str, Any]:
    """The minimal IAM policy for `collect` with these options: exactly the actions it calls."""
    actions = {c.action for c in calls_for(elbv2=elbv2)} | {_IDENTITY_ACTION}
    if all_regions:
        actions.add(_REGIONS_ACTION)
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "ReachCollectReadOnly", "Effect": "Allow", "Action": sorted(actions), "Resource": "*"}
        ],
    }


# --- results ------------------------------------------------------------------------------------------------


@dataclass
class CallRecord:
    """One call name in one account and region: requests (pages) made, items returned, files written."""

    account: str
    region: str
    call: str
    action: str
    requests: int = 0
    items: int = 0
    files: int = 0
    seconds: float = 0.0


@dataclass(frozen=True)
class CallError:
    account: str
    region: str
    call: str
    action: str
    code: str
    message: str
    resource: str | None = None

    @property
    def denied(self) -> bool:
        return self.code in DENIED_CODES


@dataclass
class CollectResult:
    """What one collection did: files written (relative paths), calls, errors, and the manifest written."""

    outdir: Path
    files: list[str] = field(default_factory=list)
    calls: list[CallRecord] = field(default_factory=list)
    errors: list[CallError] = field(default_factory=list)
    accounts: list[dict[str, Any]] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    identity: dict[str, str] = field(default_factory=dict)
    started: str = ""
    finished: str = ""
    seconds: float = 0.0
    redacted: bool = False

    @property
    def collected(self) -> bool:
        return bool(self.files)

    @property
    def requests(self) -> int:
        return sum(c.requests for c in self.calls)

    @property
    def denied(self) -> list[CallError]:
        return [e for e in self.errors if e.denied]

    def manifest(self) -> dict[str, Any]:
        return {
            MANIFEST_KEY: {
                "version": 1,
                "started": self.started,
                "finished": self.finished,
                "seconds": round(self.seconds, 3),
                "identity": self.identity,
                "accounts": self.accounts,
                "regions": self.regions,
                "redacted": self.redacted,
                "requests": self.requests,
                "files": len(self.files),
                "calls": [
                    {
                        "account": c.account,
                        "region": c.region,
                        "call": c.call,
                        "action": c.action,
                        "requests": c.requests,
                        "items": c.items,
                        "files": c.files,
                        "seconds": round(c.seconds, 3),
                    }
                    for c in sorted(
                        self.calls, key=lambda c: (c.account, c.region, _CALL_ORDER.get(c.call, 99))
                    )
                ],
                "errors": [
                    {
                        "account": e.account,
                        "region": e.region,
                        "call": e.call,
                        "action": e.action,
                        "code": e.code,
                        "message": e.message,
                        "resource": e.resource,
                        "denied": e.denied,
                    }
                    for e in self.errors
                ],
            }
        }


_CALL_ORDER = {c.name: index for index, c in enumerate(CALLS)}


class Progress(Protocol):
    """Told about calls as they are planned and finished (from worker threads)."""

    def planned(self, target: str, calls: int) -> None: ...

    def finished(self, target: str, call: str, ok: bool) -> None: ...


class _Silent:
    def planned(self, target: str, calls: int) -> None:
        pass

    def finished(self, target: str, call: str, ok: bool) -> None:
        pass


# --- collection ---------------------------------------------------------------------------------------------


@dataclass
class _Target:
    """One account in one region, with its clients (clients are thread-safe, sessions are not)."""

    account: str
    region: str
    clients: dict[str, Any]

    @property
    def label(self) -> str:
        return f"{self.account}/{self.region}"


def collect(
    outdir: str | Path,
    *,
    session: boto3.Session | None = None,
    regions: Sequence[str] = (),
    all_regions: bool = False,
    role_arns: Sequence[str] = (),
    redact: bool = False,
    elbv2: bool = True,
    workers: int = 8,
    retry_mode: str | None = None,
    max_attempts: int | None = None,
    endpoint_url: str | None = None,
    progress: Progress | None = None,
) -> CollectResult:
    """Collect every describe/get call of `calls_for(elbv2=elbv2)` in each account and region into `outdir`.

    `session` defaults to boto3's standard chain (environment, profile, `AWS_ENDPOINT_URL`); `endpoint_url`
    overrides the endpoint (tests, benchmarks). Throttled calls are retried with backoff: `retry_mode`
    (default `$AWS_RETRY_MODE`, else adaptive, which also slows the client down when AWS throttles it) and
    `max_attempts` (retries after the first request; default `$AWS_MAX_ATTEMPTS` attempts in all, else 10
    retries). With `role_arns`, each role is assumed from `session` and its account collected instead of the
    session's own. Raises ReachError when there is nothing to collect with
    (no credentials, no region, `outdir` not empty); failed calls are recorded in the result instead.
    """
    root = Path(outdir)
    _check_outdir(root)
    base = session or boto3.Session()
    tracker = progress or _Silent()
    config = Config(
        retries=_retries(retry_mode, max_attempts),
        max_pool_connections=max(10, workers),
        user_agent_extra="reach-collect",
    )
    started = time.monotonic()
    result = CollectResult(outdir=root, started=_now(), redacted=redact)
    home = regions[0] if regions else base.region_name
    if not home and not all_regions:
        raise ReachError(
            "no region: pass --region R (repeatable) or --all-regions, or set AWS_REGION or a profile region"
        )
    home = home or "us-east-1"
    result.identity = _identity(base, home, config, endpoint_url)
    accounts = _accounts(base, role_arns, home, config, endpoint_url, result)
    result.regions = list(regions) or (
        _all_regions(base, home, config, endpoint_url) if all_regions else [home]
    )
    calls = calls_for(elbv2=elbv2)
    services = sorted({c.service for c in calls})
    targets = [
        _Target(
            account, region, {s: _client(account_session, s, region, config, endpoint_url) for s in services}
        )
        for account, account_session in accounts
        for region in result.regions
    ]
    documents = _Collector(calls, workers, tracker, result).run(targets)
    if redact:
        extra = [
            result.identity,
            result.accounts,
            [[e.account, e.message, e.resource] for e in result.errors],
        ]
        documents, redactor = redact_snapshot(documents, extra=extra)
        result.identity = redactor.apply(result.identity)
        result.identity.pop("UserId", None)  # the principal's unique id names the principal
        result.accounts = redactor.apply(result.accounts)
        result.calls = [_redact_record(c, redactor.account) for c in result.calls]
        result.errors = [_redact_error(e, redactor) for e in result.errors]
    for relative, document in sorted(documents.items()):
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(document, indent=2, default=_json_default) + "\n")
        result.files.append(relative)
    result.finished = _now()
    result.seconds = time.monotonic() - started
    root.mkdir(parents=True, exist_ok=True)
    (root / MANIFEST).write_text(json.dumps(result.manifest(), indent=2) + "\n")
    return result


class _Collector:
    """Runs every target's calls on one bounded pool; a dependent call is queued when its parent returns."""

    def __init__(
        self, calls: Sequence[Call], workers: int, progress: Progress, result: CollectResult
    ) -> None:
        self.calls = calls
        self.children = {c.name: [d for d in calls if d.per == c.name] for c in calls}
        self.workers = max(1, workers)
        self.progress = progress
        self.result = result
        self.documents: dict[str, Any] = {}
        self.records: dict[tuple[str, str, str], CallRecord] = {}
        self.lock = threading.Lock()

    def run(self, targets: Sequence[_Target]) -> dict[str, Any]:
        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="reach-collect") as pool:
            pending: set[Future[list[tuple[_Target, Call, str]]]] = set()
            for target in targets:
                top = [c for c in self.calls if c.per is None]
                self.progress.planned(target.label, len(top))
                pending |= {pool.submit(self._call, target, c, None) for c in top}
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    follow_ups = future.result()  # a bug in a worker raises here, as it should
                    for target, call, resource in follow_ups:
                        pending.add(pool.submit(self._call, target, call, resource))
        self.result.calls = list(self.records.values())
        return self.documents

    def _call(self, target: _Target, call: Call, resource: str | None) -> list[tuple[_Target, Call, str]]:
        started = time.monotonic()
        params = {k: _thaw(v) for k, v in call.params}
        if call.param and resource is not None:
            params[call.param] = resource
        try:
            document, pages = _fetch(target.clients[call.service], call, params)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            self._fail(
                target,
                call,
                resource,
                str(error.get("Code") or "ClientError"),
                str(error.get("Message") or exc),
            )
            return []
        except _TRANSPORT_ERRORS as exc:
            self._fail(target, call, resource, type(exc).__name__, str(exc))
            return []
        items = document.get(call.result_key) or []
        if call.secret:
            items = [{k: v for k, v in i.items() if k not in call.secret} if isinstance(i, dict) else i for i in items]
            document = {**document, call.result_key: items}
        if call.param and resource is not None:
            # CONTRACT §1: these responses lack the id they belong to; it goes first, named as in the request.
            document = {call.param: resource, **document}
        if call.store_as:
            document = {call.store_as if k == call.result_key else k: v for k, v in document.items()}
        path = f"{target.account}/{target.region}/{call.name}"
        path = f"{path}/{_file_stem(resource)}.json" if resource is not None else f"{path}.json"
        follow_ups = [
            (target, child, str(item[child.id_field]))
            for child in self.children[call.name]
            for item in items
            if isinstance(item, dict) and child.id_field and item.get(child.id_field)
        ]
        with self.lock:
            self.documents[path] = document
            record = self._record(target, call)
            record.requests += pages
            record.items += len(items)
            record.files += 1
            record.seconds += time.monotonic() - started
        if follow_ups:
            self.progress.planned(target.label, len(follow_ups))
        self.progress.finished(target.label, call.name, True)
        return follow_ups

    def _fail(self, target: _Target, call: Call, resource: str | None, code: str, message: str) -> None:
        with self.lock:
            self.result.errors.append(
                CallError(target.account, target.region, call.name, call.action, code, message, resource)
            )
            self._record(target, call).requests += 1
        self.progress.finished(target.label, call.name, False)

    def _record(self, target: _Target, call: Call) -> CallRecord:
        key = (target.account, target.region, call.name)
        record = self.records.get(key)
        if record is None:
            record = self.records[key] = CallRecord(target.account, target.region, call.name, call.action)
        return record


def _fetch(client: Any, call: Call, params: Mapping[str, Any]) -> tuple[dict[str, Any], int]:
    """The whole response of one call, its pages merged on the result key; and how many pages it took."""
    method = xform_name(call.operation)
    if not client.can_paginate(method):
        response = getattr(client, method)(**params)
        return _strip(response), 1
    merged: dict[str, Any] | None = None
    pages = 0
    for page in client.get_paginator(method).paginate(**params):
        pages += 1
        if merged is None:
            merged = _strip(page)
            merged.setdefault(call.result_key, [])
        else:
            merged[call.result_key].extend(page.get(call.result_key) or [])
    return merged or {call.result_key: []}, pages


def _strip(response: Mapping[str, Any]) -> dict[str, Any]:
    return {
        k: v
        for k, v in response.items()
        if k not in ("ResponseMetadata", "NextToken", "NextMarker", "Marker")
    }


def _thaw(value: Any) -> Any:
    """Call parameters are stored as tuples (Call is frozen); boto3 wants lists."""
    if isinstance(value, tuple):
        return [_thaw(v) for v in value]
    if isinstance(value, dict):
        return {k: _thaw(v) for k, v in value.items()}
    return value


def _file_stem(resource: str) -> str:
    """A file name for a per-resource call: the id, or an ARN's resource part (never its account)."""
    if resource.startswith("arn:"):
        resource = resource.split(":", 5)[-1]
    return re.sub(r"[^A-Za-z0-9._-]+", "_", resource).strip("_") or "resource"


# --- sessions, identity, regions ----------------------------------------------------------------------------


def _retries(mode: str | None, max_attempts: int | None) -> dict[str, Any]:
    retries: dict[str, Any] = {"mode": mode or os.environ.get("AWS_RETRY_MODE") or "adaptive"}
    if max_attempts is not None:
        retries["max_attempts"] = max_attempts
    elif not os.environ.get("AWS_MAX_ATTEMPTS"):
        # botocore's default is 3 attempts in all; a large account throttles harder than that.
        retries["max_attempts"] = 10
    return retries


def _client(
    session: boto3.Session, service: str, region: str, config: Config, endpoint_url: str | None
) -> Any:
    if endpoint_url:
        return session.client(service, region_name=region, config=config, endpoint_url=endpoint_url)
    return session.client(service, region_name=region, config=config)


def _identity(
    session: boto3.Session, region: str, config: Config, endpoint_url: str | None
) -> dict[str, str]:
    try:
        response = _client(session, "sts", region, config, endpoint_url).get_caller_identity()
    except (NoCredentialsError, PartialCredentialsError):
        raise ReachError(
            "no AWS credentials: pass --profile, or set AWS_PROFILE, or AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY"
        ) from None
    except NoRegionError:
        raise ReachError("no region: pass --region R or set AWS_REGION") from None
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise ReachError(
            f"cannot identify the caller (sts:GetCallerIdentity): {error.get('Code')}: {error.get('Message')}"
        ) from None
    except _TRANSPORT_ERRORS as exc:
        raise ReachError(f"cannot reach AWS: {exc}") from None
    return {k: str(response[k]) for k in ("Account", "Arn", "UserId") if k in response}


def _accounts(
    base: boto3.Session,
    role_arns: Sequence[str],
    region: str,
    config: Config,
    endpoint_url: str | None,
    result: CollectResult,
) -> list[tuple[str, boto3.Session]]:
    """(account, session) to collect: the caller's own account, or with roles, each role's account."""
    if not role_arns:
        result.accounts = [
            {"account": result.identity["Account"], "arn": result.identity.get("Arn"), "role_arn": None}
        ]
        return [(result.identity["Account"], base)]
    sts = _client(base, "sts", region, config, endpoint_url)
    found: list[tuple[str, boto3.Session]] = []
    for arn in role_arns:
        try:
            credentials = sts.assume_role(RoleArn=arn, RoleSessionName="reach-collect")["Credentials"]
        except ClientError as exc:
            error = exc.response.get("Error", {})
            account = _arn_account(arn) or "unknown"
            result.errors.append(
                CallError(
                    account,
                    region,
                    "assume-role",
                    "sts:AssumeRole",
                    str(error.get("Code")),
                    str(error.get("Message")),
                    arn,
                )
            )
            continue
        # The temporary credentials live only in this session object; nothing writes them.
        session = boto3.Session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
            region_name=region,
        )
        identity = _identity(session, region, config, endpoint_url)
        result.accounts.append({"account": identity["Account"], "arn": identity.get("Arn"), "role_arn": arn})
        found.append((identity["Account"], session))
    return found


def _all_regions(session: boto3.Session, region: str, config: Config, endpoint_url: str | None) -> list[str]:
    try:
        response = _client(session, "ec2", region, config, endpoint_url).describe_regions()
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise ReachError(
            f"--all-regions: cannot list regions (ec2:DescribeRegions): {error.get('Code')}: "
            f"{error.get('Message')}"
        ) from None
    return sorted(r["RegionName"] for r in response.get("Regions", []))


def _arn_account(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[4] if len(parts) > 5 and parts[4].isdigit() else None


# --- small helpers ------------------------------------------------------------------------------------------


def _check_outdir(root: Path) -> None:
    if root.exists() and not root.is_dir():
        raise ReachError(f"{root} exists and is not a folder")
    if root.is_dir() and any(root.iterdir()):
        raise ReachError(
            f"{root} is not empty: collect into a new folder, so no stale file mixes into the snapshot"
        )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _json_default(value: Any) -> Any:
    # boto3 parses timestamps into datetimes; write them back as ISO 8601, as the AWS CLI does.
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def _redact_record(record: CallRecord, account: Callable[[str], str]) -> CallRecord:
    record.account = account(record.account)
    return record


def _redact_error(error: CallError, redactor: Redactor) -> CallError:
    return CallError(
        redactor.account(error.account),
        error.region,
        error.call,
        error.action,
        error.code,
        redactor.apply(error.message),
        redactor.apply(error.resource),
    )
