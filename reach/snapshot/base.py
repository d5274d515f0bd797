"""Shared pydantic base for the AWS describe-* shapes, and what every compile pass returns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_pascal

from reach.errors import SnapshotError
from reach.model.addr import Cidr, parse_address

T = TypeVar("T")


class AwsModel(BaseModel):
    """A describe-* object: PascalCase keys as AWS writes them, unknown keys ignored."""

    model_config = ConfigDict(alias_generator=to_pascal, populate_by_name=True, frozen=True, extra="ignore")


class Tag(AwsModel):
    key: str
    value: str = ""


def name_tag(tags: list[Tag]) -> str | None:
    for tag in tags:
        if tag.key == "Name" and tag.value:
            return tag.value
    return None


@dataclass(frozen=True)
class Origin:
    """Where a resource came from: its file, its place in that file, and the account and region its folder
    names (if any)."""

    file: str
    account: str | None
    region: str | None
    position: str = ""  # e.g. "SecurityGroups[3]"

    @property
    def label(self) -> str:
        return f"{self.file} ({self.position})" if self.position else self.file


@dataclass(frozen=True)
class Compiled(Generic[T]):
    """What one compile pass builds, and what it had to warn about on the way (never printed by the pass)."""

    value: T
    warnings: tuple[str, ...] = ()


def where(origins: Mapping[str, Origin], rid: str) -> str:
    """'file: rid' for an error or warning about one resource; the bare id when its file is unknown."""
    origin = origins.get(rid)
    return f"{origin.file}: {rid}" if origin else rid


def parse_cidr(text: str, where: str) -> Cidr:
    try:
        return Cidr.parse(text)
    except ValueError:
        raise SnapshotError(f"{where}: '{text}' is not a CIDR block") from None


def parse_ip(text: str, where: str) -> tuple[int, int]:
    try:
        return parse_address(text)
    except ValueError:
        raise SnapshotError(f"{where}: '{text}' is not an IP address") from None
