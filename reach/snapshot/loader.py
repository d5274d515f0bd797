"""Find describe-* JSON files under a folder and recognise each by its top-level key.

File names never matter: `aws ec2 describe-security-groups > anything.json` loads as security groups.
An invalid resource is an error naming the file, the resource id and the field; nothing is dropped.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from reach.errors import SnapshotError
from reach.snapshot.base import AwsModel
from reach.snapshot.endpoints import FlowLog, VpcEndpoint
from reach.snapshot.gateways import (
    Address,
    EgressOnlyInternetGateway,
    InternetGateway,
    NatGateway,
    VpcPeeringConnection,
)
from reach.snapshot.instance import Reservation
from reach.snapshot.load_balancer import (
    Listener,
    LoadBalancer,
    LoadBalancerAttributes,
    LoadBalancerListeners,
    TargetGroup,
    TargetGroupAttributes,
    TargetHealth,
)
from reach.snapshot.network_acl import NetworkAcl
from reach.snapshot.network_interface import NetworkInterface
from reach.snapshot.prefix_list import ManagedPrefixList, PrefixList, PrefixListEntries
from reach.snapshot.route_table import RouteTable
from reach.snapshot.security_group import SecurityGroup, SecurityGroupRule
from reach.snapshot.subnet import Subnet
from reach.snapshot.transit_gateway import (
    TransitGateway,
    TransitGatewayAttachment,
    TransitGatewayPeeringAttachment,
    TransitGatewayRouteTable,
    TransitGatewayRouteTableAssociations,
    TransitGatewayRouteTablePropagations,
    TransitGatewayRouteTableRoutes,
    TransitGatewayVpcAttachment,
)
from reach.snapshot.vpc import Vpc

# Top-level key -> (model, the field that identifies one resource).
KINDS: dict[str, tuple[type[AwsModel], str]] = {
    "Vpcs": (Vpc, "VpcId"),
    "Subnets": (Subnet, "SubnetId"),
    "RouteTables": (RouteTable, "RouteTableId"),
    "SecurityGroups": (SecurityGroup, "GroupId"),
    "SecurityGroupRules": (SecurityGroupRule, "SecurityGroupRuleId"),
    "NetworkAcls": (NetworkAcl, "NetworkAclId"),
    "NetworkInterfaces": (NetworkInterface, "NetworkInterfaceId"),
    "Reservations": (Reservation, "ReservationId"),
    "InternetGateways": (InternetGateway, "InternetGatewayId"),
    "EgressOnlyInternetGateways": (EgressOnlyInternetGateway, "EgressOnlyInternetGatewayId"),
    "NatGateways": (NatGateway, "NatGatewayId"),
    "VpcPeeringConnections": (VpcPeeringConnection, "VpcPeeringConnectionId"),
    "VpcEndpoints": (VpcEndpoint, "VpcEndpointId"),
    "PrefixLists": (PrefixList, "PrefixListId"),
    "ManagedPrefixLists": (ManagedPrefixList, "PrefixListId"),
    "TransitGateways": (TransitGateway, "TransitGatewayId"),
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
    "LoadBalancers": (LoadBalancer, "LoadBalancerArn"),
    "Listeners": (Listener, "ListenerArn"),
    "LoadBalancerListeners": (LoadBalancerListeners, "LoadBalancerArn"),
    "TargetGroups": (TargetGroup, "TargetGroupArn"),
    "LoadBalancerTargetHealth": (TargetHealth, "TargetGroupArn"),
    "LoadBalancerAttributes": (LoadBalancerAttributes, "LoadBalancerArn"),
    "TargetGroupAttributes": (TargetGroupAttributes, "TargetGroupArn"),
    "Addresses": (Address, "PublicIp"),
    "FlowLogs": (FlowLog, "FlowLogId"),
}

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


@dataclass(frozen=True)
class Origin:
    """Where a resource came from: its file, and the account and region its folder names (if any)."""

    file: str
    account: str | None
    region: str | None


@dataclass
class Snapshot:
    """Every resource of a snapshot folder, by kind, in file order (deduplicated by id)."""

    root: str
    resources: dict[str, list[Any]] = field(default_factory=dict)
    origins: dict[str, Origin] = field(default_factory=dict)
    prefix_list_entries: dict[str, list[str]] = field(default_factory=dict)
    ignored: dict[str, str] = field(default_factory=dict)
    files: int = 0

    def of(self, key: str) -> list[Any]:
        return self.resources.get(key, [])

    @property
    def vpcs(self) -> list[Vpc]:
        return self.of("Vpcs")

    @property
    def subnets(self) -> list[Subnet]:
        return self.of("Subnets")

    @property
    def route_tables(self) -> list[RouteTable]:
        return self.of("RouteTables")

    @property
    def security_groups(self) -> list[SecurityGroup]:
        return self.of("SecurityGroups")

    @property
    def security_group_rules(self) -> list[SecurityGroupRule]:
        return self.of("SecurityGroupRules")

    @property
    def network_acls(self) -> list[NetworkAcl]:
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
    def transit_gateways(self) -> list[TransitGateway]:
        return self.of("TransitGateways")


def load_snapshot(path: str | Path) -> Snapshot:
    """Load every describe-* JSON file below `path` (a folder, or a single file)."""
    root = Path(path)
    if not root.exists():
        raise SnapshotError(f"snapshot {root} does not exist")
    snapshot = Snapshot(root=str(root))
    seen: dict[str, set[str]] = {}
    for file in _json_files(root):
        document = _read_json(file)
        snapshot.files += 1
        origin = _origin(root, file)
        for key, value in _keyed(_unwrap(document, file)).items():
            _add(snapshot, seen, key, value, file, origin)
    if snapshot.files == 0:
        raise SnapshotError(f"snapshot {root} holds no .json files")
    if not snapshot.resources:
        raise SnapshotError(f"snapshot {root}: no file holds a describe-* key reach knows ({', '.join(KINDS)})")
    if not any(snapshot.resources.values()):
        raise SnapshotError(f"snapshot {root}: every describe-* list in it is empty")
    return snapshot


def _json_files(root: Path) -> Iterator[Path]:
    if root.is_file():
        yield root
        return
    for file in sorted(root.rglob("*")):
        if file.is_file() and file.name.endswith((".json", ".json.gz")) and not file.name.startswith("."):
            yield file


def _read_json(file: Path) -> Any:
    try:
        raw = gzip.decompress(file.read_bytes()) if file.name.endswith(".gz") else file.read_bytes()
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise SnapshotError(f"{file}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except (OSError, UnicodeDecodeError, gzip.BadGzipFile) as exc:
        raise SnapshotError(f"{file}: cannot be read ({exc})") from None


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


def _add(snapshot: Snapshot, seen: dict[str, set[str]], key: str, value: Any, file: Path, origin: Origin) -> None:
    if key in IGNORED:
        return
    if key == "Entries" and isinstance(value, list):
        if "PrefixListId" not in _unwrap(_read_json(file), file):
            raise SnapshotError(
                f"{file}: prefix-list 'Entries' without the 'PrefixListId' they belong to: store "
                'get-managed-prefix-list-entries as {"PrefixListId": "pl-…", "Entries": […]}'
            )
        return  # handled with its PrefixListId below
    if key == "PrefixListId" and isinstance(value, str):
        entries = _validate(PrefixListEntries, {"PrefixListId": value, "Entries": _entries_of(file)}, file, key, 0)
        snapshot.prefix_list_entries[value] = [e.cidr for e in entries.entries]
        return
    if key == "Instances":  # Batfish accepts a bare instance list
        key, value = "Reservations", [{"Instances": value}]
    if key not in KINDS:
        if value and key not in snapshot.ignored and not isinstance(value, str | int | float | bool):
            snapshot.ignored[key] = str(file)
        return
    if not isinstance(value, list):
        raise SnapshotError(f"{file}: '{key}' should be a list of resources, found {type(value).__name__}")
    model, id_field = KINDS[key]
    bucket = snapshot.resources.setdefault(key, [])
    ids = seen.setdefault(key, set())
    for item, resource in zip(value, _validate_all(model, value, file, key), strict=True):
        rid = _identity(key, item, id_field)
        if rid is not None:
            if rid in ids:  # the same resource seen from two files (e.g. a shared transit gateway)
                _prefer_richer(bucket, key, resource)
                continue
            ids.add(rid)
            snapshot.origins[rid] = origin
        bucket.append(resource)


def _entries_of(file: Path) -> Any:
    document = _unwrap(_read_json(file), file)
    return document.get("Entries", [])


def _prefer_richer(bucket: list[Any], key: str, resource: Any) -> None:
    """describe-managed-prefix-lists and describe-prefix-lists both answer under `PrefixLists`; only the
    latter carries an AWS-managed list's CIDRs, so that record wins whichever file was read first."""
    if key != "PrefixLists" or not resource.cidrs:
        return
    for index, existing in enumerate(bucket):
        if existing.prefix_list_id == resource.prefix_list_id and not existing.cidrs:
            bucket[index] = resource


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
        problems = "; ".join(
            f"field '{_field_path(error['loc'])}': {error['msg'].lower()}" for error in exc.errors()[:3]
        )
        where = f"{key}[{index}]" + (f" ({rid})" if rid else "")
        raise SnapshotError(f"{file}: {where}: {problems}") from None


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
