"""Shared pydantic base for the AWS describe-* shapes."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_pascal


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
