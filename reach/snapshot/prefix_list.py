"""Prefix lists: describe-prefix-lists (AWS-managed, CIDRs inline), describe-managed-prefix-lists and the
entries of customer-managed lists (stored with their id, CONTRACT §1)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from reach.model.addr import Cidr
from reach.snapshot.base import AwsModel, Compiled, Tag, parse_cidr, where

if TYPE_CHECKING:
    from reach.snapshot.loader import SnapshotResources


class PrefixList(AwsModel):
    """describe-prefix-lists: AWS-managed service lists with their CIDRs inline."""

    prefix_list_id: str
    prefix_list_name: str | None = None
    cidrs: list[str] = Field(default_factory=list)


class ManagedPrefixList(AwsModel):
    """describe-managed-prefix-lists: entries come separately (get-managed-prefix-list-entries)."""

    prefix_list_id: str
    prefix_list_name: str | None = None
    address_family: str | None = None
    owner_id: str | None = None
    state: str | None = None
    max_entries: int | None = None
    tags: list[Tag] = Field(default_factory=list)


class PrefixListEntry(AwsModel):
    cidr: str
    description: str | None = None


class PrefixListEntries(AwsModel):
    """`{"PrefixListId": "pl-…", "Entries": […]}` as CONTRACT §1 stores get-managed-prefix-list-entries."""

    prefix_list_id: str
    entries: list[PrefixListEntry] = Field(default_factory=list)


# --- compile -----------------------------------------------------------------------------------------


def compile_prefix_lists(snapshot: SnapshotResources) -> Compiled[dict[str, list[Cidr]]]:
    """pl- id -> CIDRs, from AWS-managed lists (inline) and customer-managed entries."""
    found: dict[str, list[Cidr]] = {}
    for prefix_list in snapshot.prefix_lists:
        if "cidrs" not in prefix_list.model_fields_set:
            continue  # describe-managed-prefix-lists: the entries come from get-managed-prefix-list-entries
        at = where(snapshot.origins, prefix_list.prefix_list_id)
        found[prefix_list.prefix_list_id] = [parse_cidr(c, at) for c in prefix_list.cidrs]
    for pl_id, cidrs in snapshot.prefix_list_entries.items():
        found[pl_id] = [parse_cidr(c, f"entries of {pl_id}") for c in cidrs]
    return Compiled(found)
