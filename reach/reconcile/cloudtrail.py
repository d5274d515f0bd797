"""CloudTrail as delivered to S3 (`{"Records": […]}`, plain or gzipped, or folders of them): the EC2 calls
that change what reaches what, and which component each touched.

Only successful calls count (a record with an `errorCode` changed nothing). Read-only calls and other
services are skipped. A file named on the command line that is not a CloudTrail log is an error; inside a
folder, files without `Records` (digest files, for instance) are passed over and counted.
"""

from __future__ import annotations

import bisect
import gzip
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from reach.errors import ReachError
from reach.reconcile.result import TrailEvent

# The EC2 calls that change a security group, a network ACL, a route table or an interface's groups.
CHANGE_EVENTS = frozenset({
    "RevokeSecurityGroupIngress", "AuthorizeSecurityGroupIngress",
    "RevokeSecurityGroupEgress", "AuthorizeSecurityGroupEgress",
    "ModifySecurityGroupRules", "ModifyNetworkInterfaceAttribute",
    "CreateNetworkAclEntry", "ReplaceNetworkAclEntry", "DeleteNetworkAclEntry", "ReplaceNetworkAclAssociation",
    "CreateRoute", "ReplaceRoute", "DeleteRoute", "ReplaceRouteTableAssociation",
})
_COMPONENT_KEYS = ("groupId", "networkAclId", "routeTableId", "networkInterfaceId")
_GZIP = b"\x1f\x8b"


def _items(value: Any) -> list[Any]:
    """CloudTrail wraps lists as {"items": [...]}; accept a bare list or one object too."""
    if isinstance(value, dict):
        value = value.get("items", [value] if value else [])
    return value if isinstance(value, list) else []


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


def _components(params: dict[str, Any]) -> list[str]:
    found = [params[k] for k in _COMPONENT_KEYS if isinstance(params.get(k), str)]
    nested = params.get("ModifySecurityGroupRulesRequest")
    if isinstance(nested, dict) and isinstance(nested.get("GroupId"), str):
        found.append(nested["GroupId"])
    found += [g["groupId"] for g in _items(params.get("groupSet")) if isinstance(g, dict) and "groupId" in g]
    return list(dict.fromkeys(found))


def _permission(item: dict[str, Any]) -> str:
    protocol = str(item.get("ipProtocol", "-1"))
    what = "all traffic" if protocol == "-1" else protocol
    low, high = item.get("fromPort"), item.get("toPort")
    if protocol != "-1" and low is not None and low != -1:
        what += f" {low}" if low == high or high is None else f" {low}-{high}"
    peers = [r.get("cidrIp") for r in _items(item.get("ipRanges"))]
    peers += [r.get("cidrIpv6") for r in _items(item.get("ipv6Ranges"))]
    peers += [r.get("groupId") for r in _items(item.get("groups"))]
    peers += [r.get("prefixListId") for r in _items(item.get("prefixListIds"))]
    peers = [p for p in peers if p]
    return what + (f" {'/'.join(peers)}" if peers else "")


def _summary(name: str, params: dict[str, Any], rules: list[str]) -> str:
    parts = [_permission(i) for i in _items(params.get("ipPermissions")) if isinstance(i, dict)]
    if "ruleNumber" in params:
        side = "outbound" if params.get("egress") else "inbound"
        ports = params.get("portRange") or {}
        port = f" {ports.get('from')}-{ports.get('to')}" if ports else ""
        action = params.get("ruleAction", "")
        peer = params.get("cidrBlock") or params.get("ipv6CidrBlock") or ""
        protocol = params.get("protocol", "")
        parts.append(f"{side} rule #{params['ruleNumber']} {action} protocol {protocol}{port} {peer}".strip())
    destination = params.get("destinationCidrBlock") or params.get("destinationIpv6CidrBlock")
    if destination:
        target = next((str(v) for k, v in params.items() if k.endswith("Id") and k not in _COMPONENT_KEYS), "")
        parts.append(f"route {destination}" + (f" -> {target}" if target else ""))
    if rules:
        parts.append(", ".join(rules))
    if not parts:
        return ""
    verb = "removes" if name.startswith(("Revoke", "Delete")) else "adds" if name.startswith(
        ("Authorize", "Create")) else "changes"
    return f"{verb} {'; '.join(parts)}"


def _epoch(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def event_of(record: dict[str, Any], source: str | None = None) -> TrailEvent | None:
    """The change a CloudTrail record describes, or None when it changed nothing reach models."""
    name = record.get("eventName")
    if name not in CHANGE_EVENTS or record.get("errorCode") or not isinstance(record.get("eventTime"), str):
        return None
    if record.get("eventSource", "ec2.amazonaws.com") != "ec2.amazonaws.com":
        return None
    params = record.get("requestParameters") or {}
    if not isinstance(params, dict):
        return None
    identity = record.get("userIdentity") or {}
    rules = list(dict.fromkeys([*_rule_ids(params), *_rule_ids(record.get("responseElements"))]))
    try:
        time = _epoch(record["eventTime"])
    except ValueError:
        return None
    return TrailEvent(
        event=name, time=time, principal=identity.get("arn") if isinstance(identity, dict) else None,
        source_ip=record.get("sourceIPAddress"), components=_components(params), rules=rules,
        summary=_summary(name, params, rules), source=source,
    )


class CloudTrail:
    """EC2 change events in time order."""

    def __init__(self, events: Iterable[TrailEvent], records: int = 0, ignored_files: int = 0) -> None:
        self.events = sorted(events, key=lambda e: e.time)
        self._times = [e.time for e in self.events]
        self.records = records
        self.ignored_files = ignored_files

    @classmethod
    def load(cls, paths: Sequence[str | os.PathLike[str]]) -> CloudTrail:
        events: list[TrailEvent] = []
        records = ignored = 0
        for given in paths:
            path = Path(given)
            if not path.exists():
                raise ReachError(f"--cloudtrail {path}: no such file or directory")
            files = [path] if path.is_file() else sorted(
                p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
            for file in files:
                document = _read(file, named=path.is_file())
                if document is None:
                    ignored += 1
                    continue
                for record in document:
                    records += 1
                    if isinstance(record, dict):
                        event = event_of(record, str(file))
                        if event is not None:
                            events.append(event)
        return cls(events, records, ignored)

    def nearest_before(self, components: Iterable[str], at: int) -> TrailEvent | None:
        """The latest change at or before `at` that touched one of the components."""
        wanted = set(components)
        for i in range(bisect.bisect_right(self._times, at) - 1, -1, -1):
            if wanted.intersection(self.events[i].components):
                return self.events[i]
        return None

    def first_after(self, components: Iterable[str], at: int) -> TrailEvent | None:
        """The earliest change after `at` that touched one of the components."""
        wanted = set(components)
        for i in range(bisect.bisect_right(self._times, at), len(self.events)):
            if wanted.intersection(self.events[i].components):
                return self.events[i]
        return None


def _read(file: Path, *, named: bool) -> list[Any] | None:
    try:
        raw = file.read_bytes()
        if raw.startswith(_GZIP):
            raw = gzip.decompress(raw)
        document = json.loads(raw)
    except (OSError, EOFError, gzip.BadGzipFile, UnicodeDecodeError, json.JSONDecodeError) as exc:
        if named:
            raise ReachError(f"--cloudtrail {file}: not a CloudTrail log file ({exc})") from None
        return None
    if not isinstance(document, dict) or not isinstance(document.get("Records"), list):
        if named:
            raise ReachError(f"--cloudtrail {file}: no \"Records\" list, so not a CloudTrail log file")
        return None
    return list(document["Records"])
