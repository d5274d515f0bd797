from __future__ import annotations

from reach.snapshot.base import AwsModel, Tag


class PrefixList(AwsModel):
    """describe-prefix-lists: AWS-managed service lists with their CIDRs inline."""

    prefix_list_id: str
    prefix_list_name: str | None = None
    cidrs: list[str] = []


class ManagedPrefixList(AwsModel):
    """describe-managed-prefix-lists: entries come separately (get-managed-prefix-list-entries)."""

    prefix_list_id: str
    prefix_list_name: str | None = None
    address_family: str | None = None
    owner_id: str | None = None
    state: str | None = None
    max_entries: int | None = None
    tags: list[Tag] = []


class PrefixListEntry(AwsModel):
    cidr: str
    description: str | None = None


class PrefixListEntries(AwsModel):
    """`{"PrefixListId": "pl-…", "Entries": […]}` as CONTRACT §1 stores get-managed-prefix-list-entries."""

    prefix_list_id: str
    entries: list[PrefixListEntry] = []
