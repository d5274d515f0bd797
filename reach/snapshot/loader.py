"""Find describe-* JSON files under a folder and recognise each by its top-level key.

File names never matter: `aws ec2 describe-security-groups > anything.json` loads as security groups.
No input crashes the loader: a file that cannot be read, is not JSON, is too deep, too large or a
corrupt `.json.gz`, and a resource that lacks a field or carries a value outside AWS's own ranges, is a
`SnapshotError` naming the file (and the resource and field where there is one). Nothing is dropped
without a word: a key reach does not model is reported as ignored, and one id given twice with different
content is a warning naming both copies and the one used (chosen by content, never by file order).
"""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from reach.errors import SnapshotError, clip
from reach.snapshot.base import Origin
from reach.snapshot.endpoints import VpcEndpoint
from reach.snapshot.files import UNREADABLE_SHOWN, snapshot_files, unreadable_error
from reach.snapshot.flow_log import FlowLog
from reach.snapshot.gateways import (
    Address,
    EgressOnlyInternetGateway,
    InternetGateway,
    NatGateway,
    VpcPeeringConnection,
)
from reach.snapshot.instance import Reservation
from reach.snapshot.load_balancer import (
    AwsListener,
    AwsLoadBalancer,
    AwsTargetGroup,
    LoadBalancerAttributes,
    LoadBalancerListeners,
    TargetGroupAttributes,
    TargetHealth,
)
from reach.snapshot.network_acl import AwsNetworkAcl
from reach.snapshot.network_interface import NetworkInterface
from reach.snapshot.pause import long_lived
from reach.snapshot.prefix_list import ManagedPrefixList, PrefixList, PrefixListEntries
from reach.snapshot.route_table import AwsRouteTable
from reach.snapshot.security_group import AwsSecurityGroup, SecurityGroupRule
from reach.snapshot.subnet import AwsSubnet
from reach.snapshot.transit_gateway import (
    AwsTransitGateway,
    TransitGatewayAttachment,
    TransitGatewayPeeringAttachment,
    TransitGatewayRouteTable,
    TransitGatewayRouteTableAssociations,
    TransitGatewayRouteTablePropagations,
    TransitGatewayRouteTableRoutes,
    TransitGatewayVpcAttachment,
)
from reach.snapshot.vpc import AwsVpc
from reach.snapshot.vpn import (
    AwsCustomerGateway,
    AwsDirectConnectGateway,
    AwsVpnConnection,
    AwsVpnGateway,
    DirectConnectGatewayAssociation,
)

# Top-level key -> (model, the field that identifies one resource).
KINDS: dict[str, tuple[type[BaseModel], str]] = {
    "Vpcs": (AwsVpc, "VpcId"),
    "Subnets": (AwsSubnet, "SubnetId"),
    "RouteTables": (AwsRouteTable, "RouteTableId"),
    "SecurityGroups": (AwsSecurityGroup, "GroupId"),
    "SecurityGroupRules": (SecurityGroupRule, "SecurityGroupRuleId"),
    "NetworkAcls": (AwsNetworkAcl, "NetworkAclId"),
    "NetworkInterfaces": (NetworkInterface, "NetworkInterfaceId"),
    "Reservations": (Reservation, "ReservationId"),
    "InternetGateways": (InternetGateway, "InternetGatewayId"),
    "EgressOnlyInternetGateways": (EgressOnlyInternetGateway, "EgressOnlyInternetGatewayId"),
    "NatGateways": (NatGateway, "NatGatewayId"),
    "VpcPeeringConnections": (VpcPeeringConnection, "VpcPeeringConnectionId"),
    "VpcEndpoints": (VpcEndpoint, "VpcEndpointId"),
    "PrefixLists": (PrefixList, "PrefixListId"),
    "ManagedPrefixLists": (ManagedPrefixList, "PrefixListId"),
    "TransitGateways": (AwsTransitGateway, "TransitGatewayId"),
    "TransitGatewayAttachments": (TransitGatewayAttachment, "TransitGatewayAttachmentId"),
    "TransitGatewayVpcAttachments": (TransitGatewayVpcAttachment, "TransitGatewayAttachmentId"),
    "TransitGatewayRouteTables": (TransitGatewayRouteTable, "TransitGatewayRouteTableId"),
    "TransitGatewayPeeringAttachments": (TransitGatewayPeeringAttachment, "TransitGatewayAttachmentId"),
    # per-table shapes (see _KEYED); one table's routes may come in several files, so no id dedups them
    "TransitGatewayRouteTableRoutes": (TransitGatewayRouteTableRoutes, ""),
    "TransitGatewayStaticRoutes": (TransitGatewayRouteTableRoutes, ""),
    "TransitGatewayRouteTableAssociations": (TransitGatewayRouteTableAssociations, ""),
    "TransitGatewayRouteTablePropagations": (TransitGatewayRouteTablePropagations, ""),
    "TransitGatewayPropagations": (TransitGatewayRouteTablePropagations, ""),
    "LoadBalancers": (AwsLoadBalancer, "LoadBalancerArn"),
    "Listeners": (AwsListener, "ListenerArn"),
    "LoadBalancerListeners": (LoadBalancerListeners, "LoadBalancerArn"),
    "TargetGroups": (AwsTargetGroup, "TargetGroupArn"),
    "LoadBalancerTargetHealth": (TargetHealth, "TargetGroupArn"),
    "LoadBalancerAttributes": (LoadBalancerAttributes, "LoadBalancerArn"),
    "TargetGroupAttributes": (TargetGroupAttributes, "TargetGroupArn"),
    "Addresses": (Address, "PublicIp"),
    "FlowLogs": (FlowLog, "FlowLogId"),
    "VpnConnections": (AwsVpnConnection, "VpnConnectionId"),
    "VpnGateways": (AwsVpnGateway, "VpnGatewayId"),
    "CustomerGateways": (AwsCustomerGateway, "CustomerGatewayId"),
    # aws directconnect describe-direct-connect-gateways / -gateway-associations (camelCase keys)
    "directConnectGateways": (AwsDirectConnectGateway, "directConnectGatewayId"),
    "directConnectGatewayAssociations": (DirectConnectGatewayAssociation, "associationId"),
    "PrefixListEntries": (PrefixListEntries, ""),  # see _KEYED
}

# The describe-* kinds whose absence `Network.absent` reports: CONTRACT §1's keys and the VPN calls.
# (`ManagedPrefixLists` is left out: describe-managed-prefix-lists prints its lists under `PrefixLists`.)
EXPECTED = (
    "Vpcs",
    "Subnets",
    "RouteTables",
    "SecurityGroups",
    "SecurityGroupRules",
    "NetworkAcls",
    "NetworkInterfaces",
    "Reservations",
    "InternetGateways",
    "EgressOnlyInternetGateways",
    "NatGateways",
    "VpcPeeringConnections",
    "VpcEndpoints",
    "PrefixLists",
    "TransitGateways",
    "TransitGatewayAttachments",
    "TransitGatewayVpcAttachments",
    "TransitGatewayRouteTables",
    "Addresses",
    "FlowLogs",
    "VpnConnections",
    "VpnGateways",
    "CustomerGateways",
)

# Resources one id does not identify: a TGW peering attachment is listed under each gateway it joins.
# describe-prefix-lists (with Cidrs) and describe-managed-prefix-lists (without, but with an AddressFamily)
# both print "PrefixLists" and both list the AWS-managed lists: keep one of each.
COMPOSITE_IDS: dict[str, tuple[str, ...]] = {
    "TransitGatewayAttachments": ("TransitGatewayAttachmentId", "TransitGatewayId"),
    "PrefixLists": ("PrefixListId", "AddressFamily"),
}

# Calls whose output lacks the id it belongs to, stored with the id added (CONTRACT §1):
# (id key, list key) -> the kind the document is filed under, as a one-item list.
_KEYED: tuple[tuple[str, str, str], ...] = (
    ("PrefixListId", "Entries", "PrefixListEntries"),
    ("TransitGatewayRouteTableId", "Routes", "TransitGatewayRouteTableRoutes"),
    ("TransitGatewayRouteTableId", "Associations", "TransitGatewayRouteTableAssociations"),
    ("TransitGatewayRouteTableId", "Propagations", "TransitGatewayRouteTablePropagations"),
    ("TransitGatewayRouteTableId", "TransitGatewayRouteTablePropagations", "TransitGatewayRouteTablePropagations"),
    ("TargetGroupArn", "TargetHealthDescriptions", "LoadBalancerTargetHealth"),
    ("TargetGroupArn", "Attributes", "TargetGroupAttributes"),
    ("LoadBalancerArn", "Attributes", "LoadBalancerAttributes"),
)

# Keys that carry no path-shaping data, or are response plumbing: skipped without a word.
IGNORED = frozenset(
    {
        "ResponseMetadata",
        "NextToken",
        "Marker",
        "IsTruncated",
        "AvailabilityZones",
        "Regions",
        "DhcpOptions",
        "Tags",
        "ReachManifest",  # what `reach collect` writes beside the snapshot
    }
)

_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")
_ACCOUNT = re.compile(r"^\d{12}$")

# The largest JSON document reach reads, after decompression: past it, a file is refused (a `.json.gz` of
# 1 MB can hold gigabytes). describe-network-interfaces of 100,000 interfaces is about 200 MB.
MAX_JSON_BYTES = 1 << 30
MAX_JSON_BYTES_ENV = "REACH_MAX_JSON_BYTES"


@dataclass
class SnapshotResources:
    """Every resource of a snapshot folder, by kind, in file order (one copy per id)."""

    root: str
    resources: dict[str, list[Any]] = field(default_factory=dict)
    origins: dict[str, Origin] = field(default_factory=dict)
    prefix_list_entries: dict[str, list[str]] = field(default_factory=dict)
    ignored: dict[str, str] = field(default_factory=dict)
    files: int = 0
    present: set[str] = field(default_factory=set)  # every describe-* key some file holds, even empty
    warnings: list[str] = field(default_factory=list)  # what loading noticed (duplicates), for Network.warnings

    @property
    def absent(self) -> frozenset[str]:
        """The describe-* kinds no file holds: what the model says of them is assumed."""
        return frozenset(k for k in EXPECTED if k not in self.present)

    def of(self, key: str) -> list[Any]:
        return self.resources.get(key, [])

    @property
    def vpcs(self) -> list[AwsVpc]:
        return self.of("Vpcs")

    @property
    def subnets(self) -> list[AwsSubnet]:
        return self.of("Subnets")

    @property
    def route_tables(self) -> list[AwsRouteTable]:
        return self.of("RouteTables")

    @property
    def security_groups(self) -> list[AwsSecurityGroup]:
        return self.of("SecurityGroups")

    @property
    def security_group_rules(self) -> list[SecurityGroupRule]:
        return self.of("SecurityGroupRules")

    @property
    def network_acls(self) -> list[AwsNetworkAcl]:
        return self.of("NetworkAcls")

    @property
    def network_interfaces(self) -> list[NetworkInterface]:
        return self.of("NetworkInterfaces")

    @property
    def reservations(self) -> list[Reservation]:
        return self.of("Reservations")

    @property
    def internet_gateways(self) -> list[InternetGateway]:
        return self.of("InternetGateways")

    @property
    def egress_only_internet_gateways(self) -> list[EgressOnlyInternetGateway]:
        return self.of("EgressOnlyInternetGateways")

    @property
    def nat_gateways(self) -> list[NatGateway]:
        return self.of("NatGateways")

    @property
    def vpc_peering_connections(self) -> list[VpcPeeringConnection]:
        return self.of("VpcPeeringConnections")

    @property
    def vpc_endpoints(self) -> list[VpcEndpoint]:
        return self.of("VpcEndpoints")

    @property
    def prefix_lists(self) -> list[PrefixList]:
        return self.of("PrefixLists")

    @property
    def managed_prefix_lists(self) -> list[ManagedPrefixList]:
        return self.of("ManagedPrefixLists")

    @property
    def addresses(self) -> list[Address]:
        return self.of("Addresses")

    @property
    def flow_logs(self) -> list[FlowLog]:
        return self.of("FlowLogs")

    @property
    def transit_gateways(self) -> list[AwsTransitGateway]:
        return self.of("TransitGateways")


@long_lived()
def load_snapshot(path: str | Path) -> SnapshotResources:
    """Load every describe-* JSON file below `path` (a folder, or a single file)."""
    root = Path(path)
    if not root.exists():
        raise SnapshotError(f"snapshot {root} does not exist")
    snapshot = SnapshotResources(root=str(root))
    copies = _Copies()
    unreadable: list[str] = []
    for file in snapshot_files(root):
        try:
            document = read_json(file)
        except PermissionError as exc:
            unreadable.append(f"{file} ({exc.strerror or exc})")
            if len(unreadable) >= UNREADABLE_SHOWN:
                break
            continue
        snapshot.files += 1
        origin = _origin(root, file)
        for key, value in _keyed(_unwrap(document, file)).items():
            _add(snapshot, copies, key, value, file, origin)
    if unreadable:
        raise unreadable_error(root, unreadable)
    if snapshot.files == 0:
        raise SnapshotError(f"snapshot {root} holds no .json files")
    if not snapshot.resources:
        raise SnapshotError(f"snapshot {root}: no file holds a describe-* key reach knows ({', '.join(KINDS)})")
    if not any(snapshot.resources.values()):
        raise SnapshotError(f"snapshot {root}: every describe-* list in it is empty")
    snapshot.warnings += copies.settle(snapshot)
    return snapshot


def max_json_bytes() -> int:
    configured = os.environ.get(MAX_JSON_BYTES_ENV, "")
    return int(configured) if configured.isdigit() else MAX_JSON_BYTES


def read_json(file: Path) -> Any:
    """One file's JSON; a `SnapshotError` naming the file for anything that is not a readable JSON document
    of at most `max_json_bytes()` (decompressed). PermissionError is left to the caller, which names every
    unreadable file at once."""
    limit = max_json_bytes()
    try:
        raw = _gunzip(file, limit) if file.name.endswith(".gz") else _plain(file, limit)
    except PermissionError:
        raise
    except (OSError, EOFError, zlib.error) as exc:
        kind = "a corrupt or truncated .json.gz" if file.name.endswith(".gz") else "unreadable"
        raise SnapshotError(f"{file}: {kind} ({exc})") from None
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise SnapshotError(f"{file}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except UnicodeDecodeError as exc:
        raise SnapshotError(f"{file}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except RecursionError:
        raise SnapshotError(f"{file}: JSON nested too deeply to read (no describe-* output nests so)") from None
    except ValueError as exc:  # an integer of thousands of digits
        raise SnapshotError(f"{file}: holds a value reach cannot read ({exc})") from None


def _too_large(file: Path, limit: int) -> SnapshotError:
    return SnapshotError(
        f"{file}: larger than {limit:,} bytes of JSON{' once decompressed' if file.name.endswith('.gz') else ''}; "
        f"reach refuses it (set {MAX_JSON_BYTES_ENV} to raise the limit)"
    )


def _plain(file: Path, limit: int) -> bytes:
    with file.open("rb") as handle:
        raw = handle.read(limit + 1)
    if len(raw) > limit:
        raise _too_large(file, limit)
    return raw


def _gunzip(file: Path, limit: int) -> bytes:
    """Decompress at most `limit` bytes: a bomb is refused before it fills memory."""
    with file.open("rb") as handle, gzip.GzipFile(fileobj=handle) as stream:
        out = io.BytesIO()
        while chunk := stream.read(min(1 << 20, limit + 1 - out.tell())):
            out.write(chunk)
            if out.tell() > limit:
                raise _too_large(file, limit)
    return out.getvalue()


def _unwrap(document: Any, file: Path) -> dict[str, Any]:
    if not isinstance(document, dict):
        raise SnapshotError(
            f"{file}: expected a JSON object with a describe-* key such as 'Vpcs', found {type(document).__name__}"
        )
    # Recorded boto3 responses (placebo) wrap the response in {"status_code": …, "data": {…}}.
    if set(document) >= {"status_code", "data"} and isinstance(document["data"], dict):
        document = document["data"]
    error = document.get("Error")
    if isinstance(error, dict):
        raise SnapshotError(
            f"{file}: holds an AWS error response, not resources ({error.get('Code')}: {error.get('Message')})"
        )
    return document


def _keyed(document: dict[str, Any]) -> dict[str, Any]:
    for id_key, list_key, kind in _KEYED:
        if isinstance(document.get(id_key), str) and isinstance(document.get(list_key), list):
            return {kind: [document]}
    return document


def _identity(key: str, item: Any, id_field: str) -> str | None:
    if not isinstance(item, dict):
        return None
    parts = COMPOSITE_IDS.get(key)
    if parts is None:
        value = item.get(id_field) if id_field else None
        return value if isinstance(value, str) else None
    return "/".join(str(item.get(part)) for part in parts)


def _origin(root: Path, file: Path) -> Origin:
    parts = file.relative_to(root).parts[:-1] if root.is_dir() else ()
    account = region = None
    for index, part in enumerate(parts):
        if _REGION.match(part):
            region = part
        elif _ACCOUNT.match(part) or (index > 0 and parts[index - 1] == "accounts"):
            account = part
    return Origin(str(file), account, region)


def _add(snapshot: SnapshotResources, copies: _Copies, key: str, value: Any, file: Path, origin: Origin) -> None:
    if key in IGNORED:
        return
    if key == "Entries" and isinstance(value, list):
        raise SnapshotError(
            f"{file}: prefix-list 'Entries' without the 'PrefixListId' they belong to: store "
            'get-managed-prefix-list-entries as {"PrefixListId": "pl-…", "Entries": […]}'
        )
    if key == "Instances":  # Batfish accepts a bare instance list
        key, value = "Reservations", [{"Instances": value}]
    if key not in KINDS:
        if value and key not in snapshot.ignored and not isinstance(value, str | int | float | bool):
            snapshot.ignored[key] = str(file)
        return
    if not isinstance(value, list):
        raise SnapshotError(f"{file}: '{key}' should be a list of resources, found {type(value).__name__}")
    snapshot.present.add(key)
    model, id_field = KINDS[key]
    bucket = snapshot.resources.setdefault(key, [])
    for index, (item, resource) in enumerate(zip(value, _validate_all(model, value, file, key), strict=True)):
        if key == "PrefixListEntries":
            snapshot.prefix_list_entries[resource.prefix_list_id] = [e.cidr for e in resource.entries]
        rid = _identity(key, item, id_field)
        here = Origin(origin.file, origin.account, origin.region, f"{key}[{index}]")
        if key == "Reservations":  # instances are found by their own id, not their reservation's
            for number, instance in enumerate(resource.instances):
                at = f"{here.position}.Instances[{number}]"
                snapshot.origins.setdefault(instance.instance_id, Origin(here.file, here.account, here.region, at))
        if rid is None:
            keyed = next((item.get(k) for k, _, kind in _KEYED if kind == key and isinstance(item, dict)), None)
            if isinstance(keyed, str):  # a per-table document: remember its file for errors about that table
                snapshot.origins.setdefault(f"{key}:{keyed}", here)
            bucket.append(resource)
        elif copies.add(key, rid, resource, here, len(bucket)):
            snapshot.origins[rid] = here
            bucket.append(resource)


# Kinds whose copies legitimately differ: describe-managed-prefix-lists and describe-prefix-lists both
# answer under `PrefixLists`, and only the latter carries an AWS-managed list's CIDRs. A copy the rule
# prefers beats one it does not, silently; copies it cannot tell apart are settled as any others.
_PREFERRED: dict[str, Callable[[Any], bool]] = {"PrefixLists": lambda resource: bool(resource.cidrs)}


@dataclass
class _Copy:
    resource: Any
    origin: Origin


@dataclass
class _Copies:
    """Every copy of every id, to settle duplicates once all files are read, by content, not file order."""

    seen: dict[tuple[str, str], list[_Copy]] = field(default_factory=dict)
    position: dict[tuple[str, str], int] = field(default_factory=dict)  # index in its bucket

    def add(self, key: str, rid: str, resource: Any, origin: Origin, position: int) -> bool:
        """Record a copy; True when it is the first of its id (and so takes a place in the bucket)."""
        known = self.seen.setdefault((key, rid), [])
        known.append(_Copy(resource, origin))
        if len(known) == 1:
            self.position[(key, rid)] = position
        return len(known) == 1

    def settle(self, snapshot: SnapshotResources) -> list[str]:
        """Put the chosen copy of each duplicated id in its bucket; a warning for copies that disagree."""
        warnings = []
        for (key, rid), found in self.seen.items():
            if len(found) < 2:
                continue
            chosen, warning = _choose(key, rid, found)
            snapshot.resources[key][self.position[(key, rid)]] = chosen.resource
            snapshot.origins[rid] = chosen.origin
            if warning:
                warnings.append(warning)
        return warnings


def _choose(key: str, rid: str, found: list[_Copy]) -> tuple[_Copy, str | None]:
    """The copy used, and a warning when copies differ in more than their tags (a multi-account snapshot
    sees one shared resource with each account's own tags). The richest copy wins, whatever file it is in."""
    prefer = _PREFERRED.get(key)
    if prefer is not None and any(prefer(c.resource) for c in found):
        found = [c for c in found if prefer(c.resource)]
        if len(found) == 1:
            return found[0], None
    if all(c.resource == found[0].resource for c in found[1:]):
        return found[0], None  # the same resource seen from several files
    full = {id(c): _canonical(c.resource, tags=True) for c in found}
    chosen = max(found, key=lambda c: (len(full[id(c)]), full[id(c)]))  # the fullest; ties by content
    content = _canonical(chosen.resource, tags=False)
    if all(_canonical(c.resource, tags=False) == content for c in found):
        return chosen, None
    others = [c for c in found if c is not chosen]
    return chosen, (
        f"{key}: {rid} is given {len(found)} times with different content: "
        f"{'; '.join(c.origin.label for c in found)}. The copy in {chosen.origin.label} is used (the fullest, "
        f"whatever the file order); check which collection is current ({len(others)} other cop"
        f"{'y' if len(others) == 1 else 'ies'} ignored)"
    )


def _canonical(resource: Any, *, tags: bool) -> str:
    data = resource.model_dump(mode="json", exclude=None if tags else {"tags", "tag_set"})
    return json.dumps(data, sort_keys=True, default=str)


_ADAPTERS: dict[type[BaseModel], TypeAdapter[list[Any]]] = {}


def _validate_all(model: type[BaseModel], items: list[Any], file: Path, key: str) -> list[Any]:
    """Validate a whole list in one call (fast); on failure, name the first bad resource."""
    adapter = _ADAPTERS.get(model)
    if adapter is None:
        adapter = _ADAPTERS[model] = TypeAdapter(list[model])  # type: ignore[valid-type]
    try:
        return adapter.validate_python(items)
    except ValidationError as exc:
        index = next((e["loc"][0] for e in exc.errors() if e["loc"] and isinstance(e["loc"][0], int)), 0)
        _validate(model, items[index], file, key, index)
        raise  # _validate raised above for the same item


def _validate(model: type[BaseModel], item: Any, file: Path, key: str, index: int) -> Any:
    try:
        return model.model_validate(item)
    except ValidationError as exc:
        rid = _resource_id(item)
        problems = "; ".join(f"field '{_field_path(error['loc'])}': {clip(_problem(error), 200)}"
                             for error in exc.errors()[:3])
        where = f"{key}[{index}]" + (f" ({clip(rid)})" if rid else "")
        raise SnapshotError(f"{file}: {where}: {problems}") from None


def _problem(error: Any) -> str:
    """Our own range checks speak for themselves ("FromPort 443 is above ToPort 80"); pydantic's own
    messages read as the tail of a sentence ("field required")."""
    if error["type"] == "value_error" and "error" in error.get("ctx", {}):
        return str(error["ctx"]["error"])
    message = str(error["msg"])
    return message[:1].lower() + message[1:]


def _resource_id(item: Any) -> str | None:
    if not isinstance(item, dict):
        return None
    for name, value in item.items():
        if name.endswith("Id") and isinstance(value, str) and "-" in value and name != "OwnerId":
            return value
    return None


def _field_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path
