"""CloudTrail as delivered to S3 (`{"Records": […]}`, plain or gzipped, or folders of them), read into the
same typed EC2 calls as a change set, with who made each and when.

Only successful calls count (a record with an `errorCode` changed nothing). Read-only calls, other services and
EC2 calls reach does not apply are skipped. A change reach applies whose request it cannot read is counted
(`unreadable`), not guessed at. A file named on the command line that is not a CloudTrail log is an error;
inside a folder, files without `Records` (digest files, for instance) are passed over and counted.
"""

from __future__ import annotations

import gzip
import os
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel, ValidationError

from reach.change.calls import CALLS, Ec2Call
from reach.change.inputs import parse_json
from reach.errors import ReachError

_GZIP = b"\x1f\x8b"

# CloudTrail's names where they are not the API's with a capital first letter.
_RENAMES = {"groups": "UserIdGroupPairs", "groupSet": "Groups", "groupDescription": "Description"}
# The id AWS gave what a Create call made, where its response holds it: (the call's parameter, the path to it).
_CREATED = {
    "CreateSecurityGroup": ("GroupId", ("groupId",)),
    "CreateNetworkAcl": ("NetworkAclId", ("networkAcl", "networkAclId")),
    "CreateRouteTable": ("RouteTableId", ("routeTable", "routeTableId")),
}
_ID_LISTS = ("Groups", "SecurityGroupRuleIds")  # lists of ids CloudTrail writes as [{"groupId": …}, …]


@dataclass(frozen=True)
class TrailCall:
    """One successful EC2 call that CloudTrail recorded."""

    call: Ec2Call
    time: int  # epoch seconds of eventTime
    principal: str | None  # userIdentity.arn
    source_ip: str | None  # sourceIPAddress
    rules: tuple[str, ...]  # security group rule ids it names, or that AWS gave the rules it made
    source: str | None  # the file it was read from

    @property
    def summary(self) -> str:
        parts = self.call.summary()
        assigned = [r for r in self.rules if r not in parts]
        if assigned:
            parts.append(", ".join(assigned))
        return f"{self.call.verb} {'; '.join(parts)}" if parts else ""


@dataclass
class TrailRead:
    """What a set of CloudTrail files held."""

    calls: list[TrailCall] = field(default_factory=list)
    records: int = 0  # every record read
    ignored_files: int = 0  # files in a folder that are not CloudTrail logs
    unreadable: int = 0  # successful changes reach applies, whose request it could not read


def read_cloudtrail(paths: Sequence[str | os.PathLike[str]]) -> TrailRead:
    read = TrailRead()
    for given in paths:
        path = Path(given)
        if not path.exists():
            raise ReachError(f"--cloudtrail {path}: no such file or directory")
        if path.is_file():
            files = [path]
        else:
            files = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
        for file in files:
            records = _records(file, named=path.is_file())
            if records is None:
                read.ignored_files += 1
                continue
            for record in records:
                read.records += 1
                if not isinstance(record, dict) or not _is_change(record):
                    continue
                found = call_of(record, str(file))
                if found is None:
                    read.unreadable += 1
                else:
                    read.calls.append(found)
    return read


def _is_change(record: Mapping[str, Any]) -> bool:
    return (
        record.get("eventName") in CALLS
        and not record.get("errorCode")
        and record.get("eventSource", "ec2.amazonaws.com") == "ec2.amazonaws.com"
    )


def call_of(record: Mapping[str, Any], source: str | None = None) -> TrailCall | None:
    """The call a successful EC2 change record describes, or None when its request or time cannot be read."""
    model = CALLS[str(record.get("eventName"))]
    params = record.get("requestParameters") or {}
    if not isinstance(params, dict) or not isinstance(record.get("eventTime"), str):
        return None
    try:
        request = _request(params)
        if model.action == "ModifySecurityGroupRules":  # the one call CloudTrail records in its own wrapper
            request = _security_group_rules(request.get("ModifySecurityGroupRulesRequest", request))
        if model.action in _CREATED:
            request = {**request, **_created(model.action, record.get("responseElements"))}
        call = model.model_validate(_known(model, request))
        time = int(datetime.fromisoformat(str(record["eventTime"]).replace("Z", "+00:00")).timestamp())
        rules = dict.fromkeys([*_rule_ids(params), *_rule_ids(record.get("responseElements"))])
    except (ValidationError, ValueError, RecursionError):  # RecursionError: a request nested absurdly deep
        return None
    identity = record.get("userIdentity")
    principal = identity.get("arn") if isinstance(identity, dict) else None
    source_ip = record.get("sourceIPAddress")
    return TrailCall(
        call,
        time,
        principal if isinstance(principal, str) else None,
        source_ip if isinstance(source_ip, str) else None,
        tuple(rules),
        source,
    )


def _request(value: Any) -> Any:
    """CloudTrail's spelling of a request -> the API's: `{"items": [...]}` is a list, `groupId` is `GroupId`."""
    if isinstance(value, dict):
        if set(value) <= {"items"}:
            return [_request(item) for item in value.get("items") or []]
        renamed = {_RENAMES.get(k, k[:1].upper() + k[1:]): _request(v) for k, v in value.items()}
        for name in _ID_LISTS:
            if isinstance(renamed.get(name), list):
                renamed[name] = [_only_value(item) for item in renamed[name]]
        return renamed
    if isinstance(value, list):
        return [_request(item) for item in value]
    return value


def _created(action: str, response: Any) -> dict[str, str]:
    parameter, path = _CREATED[action]
    for step in path:
        response = response.get(step) if isinstance(response, dict) else None
    return {parameter: response} if isinstance(response, str) else {}


def _only_value(item: Any) -> Any:
    return next(iter(item.values())) if isinstance(item, dict) and len(item) == 1 else item


def _security_group_rules(request: Any) -> Any:
    if not isinstance(request, dict):
        return request
    rules = request.get("SecurityGroupRule", request.get("SecurityGroupRules"))
    rest = {k: v for k, v in request.items() if k not in ("SecurityGroupRule", "SecurityGroupRules")}
    return {**rest, "SecurityGroupRules": rules if isinstance(rules, list) else [rules]}


def _known(model: type[BaseModel], data: Any) -> Any:
    """Only the parameters the model knows, at every level: CloudTrail adds its own (`tag`, …), which say
    nothing about what changed."""
    if not isinstance(data, dict):
        return data
    fields = {f.alias or name: f.annotation for name, f in model.model_fields.items()}
    kept = {}
    for key, value in data.items():
        if key not in fields:
            continue
        nested = _model_in(fields[key])
        if nested is None:
            kept[key] = value
        elif isinstance(value, list):
            kept[key] = [_known(nested, item) for item in value]
        else:
            kept[key] = _known(nested, value)
    return kept


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model a field holds (itself, in a list, or optional), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in get_args(annotation):
        found = _model_in(argument)
        if found is not None:
            return found
    return None


def _rule_ids(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        if value.startswith("sgr-"):
            yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _rule_ids(item)
    elif isinstance(value, list):
        for item in value:
            yield from _rule_ids(item)


def _records(file: Path, *, named: bool) -> list[Any] | None:
    try:
        raw = file.read_bytes()
        if raw.startswith(_GZIP):
            raw = gzip.decompress(raw)
        document = parse_json(raw, file, "CloudTrail log")
    except (OSError, EOFError, zlib.error, gzip.BadGzipFile, ReachError) as exc:
        if named:
            raise ReachError(f"--cloudtrail {file}: not a CloudTrail log file ({exc})") from None
        return None
    if not isinstance(document, dict) or not isinstance(document.get("Records"), list):
        if named:
            raise ReachError(f'--cloudtrail {file}: no "Records" list, so not a CloudTrail log file')
        return None
    return list(document["Records"])
