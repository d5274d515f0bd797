"""The one table of flow-log fields: name, Arrow type, version.

Names are kept as AWS spells them in a LogFormat or an S3 header (`log-status`); columns are named as Athena
names them (`log_status`). Types follow the Parquet types AWS documents for S3 Parquet delivery (aws-
semantics.md C.4), except that `account-id` stays a string: leading zeros occur, and `unknown` is a
documented value.
"""

from __future__ import annotations

import re
from typing import NamedTuple

import pyarrow as pa

from reach.errors import FlowLogError


def column_name(field_name: str) -> str:
    """`log-status` -> `log_status`, as Athena and S3 Parquet delivery name the column."""
    return field_name.replace("-", "_")


class Field(NamedTuple):
    name: str  # as in a LogFormat: log-status
    type: pa.DataType
    version: int

    @property
    def column(self) -> str:
        return column_name(self.name)


_S, _I32, _I64 = pa.string(), pa.int32(), pa.int64()

# VPC flow-log fields, versions 2-8, in the order of AWS's field table: this order is also the column order of
# FLOW_LOG_SCHEMA and of "all fields" custom formats (Elastic's v5/v7/v8 samples use it).
VPC_FIELDS: tuple[Field, ...] = (
    Field("version", _I32, 2),
    Field("account-id", _S, 2),
    Field("interface-id", _S, 2),
    Field("srcaddr", _S, 2),
    Field("dstaddr", _S, 2),
    Field("srcport", _I32, 2),
    Field("dstport", _I32, 2),
    Field("protocol", _I32, 2),
    Field("packets", _I64, 2),
    Field("bytes", _I64, 2),
    Field("start", _I64, 2),
    Field("end", _I64, 2),
    Field("action", _S, 2),
    Field("log-status", _S, 2),
    Field("vpc-id", _S, 3),
    Field("subnet-id", _S, 3),
    Field("instance-id", _S, 3),
    Field("tcp-flags", _I32, 3),
    Field("type", _S, 3),
    Field("pkt-srcaddr", _S, 3),
    Field("pkt-dstaddr", _S, 3),
    Field("region", _S, 4),
    Field("az-id", _S, 4),
    Field("sublocation-type", _S, 4),
    Field("sublocation-id", _S, 4),
    Field("pkt-src-aws-service", _S, 5),
    Field("pkt-dst-aws-service", _S, 5),
    Field("flow-direction", _S, 5),
    Field("traffic-path", _I32, 5),
    Field("ecs-cluster-arn", _S, 7),
    Field("ecs-cluster-name", _S, 7),
    Field("ecs-container-instance-arn", _S, 7),
    Field("ecs-container-instance-id", _S, 7),
    Field("ecs-container-id", _S, 7),
    Field("ecs-second-container-id", _S, 7),
    Field("ecs-service-name", _S, 7),
    Field("ecs-task-definition-arn", _S, 7),
    Field("ecs-task-arn", _S, 7),
    Field("ecs-task-id", _S, 7),
    Field("reject-reason", _S, 8),
)

# Transit-gateway flow logs (their "version 6") share the record syntax but not the field set. Their fields
# are
# known, so they are typed, but they are not VPC columns: when present they are appended after the schema's
# columns, like unknown fields.
TGW_FIELDS: tuple[Field, ...] = (
    Field("resource-type", _S, 6),
    Field("tgw-id", _S, 6),
    Field("tgw-attachment-id", _S, 6),
    Field("tgw-src-vpc-account-id", _S, 6),
    Field("tgw-dst-vpc-account-id", _S, 6),
    Field("tgw-src-vpc-id", _S, 6),
    Field("tgw-dst-vpc-id", _S, 6),
    Field("tgw-src-subnet-id", _S, 6),
    Field("tgw-dst-subnet-id", _S, 6),
    Field("tgw-src-eni", _S, 6),
    Field("tgw-dst-eni", _S, 6),
    Field("tgw-src-az-id", _S, 6),
    Field("tgw-dst-az-id", _S, 6),
    Field("tgw-pair-attachment-id", _S, 6),
    Field("packets-lost-no-route", _I64, 6),
    Field("packets-lost-blackhole", _I64, 6),
    Field("packets-lost-mtu-exceeded", _I64, 6),
    Field("packets-lost-ttl-expired", _I64, 6),
)

KNOWN_FIELDS: dict[str, Field] = {f.name: f for f in VPC_FIELDS + TGW_FIELDS}

FLOW_LOG_SCHEMA: pa.Schema = pa.schema([pa.field(f.column, f.type) for f in VPC_FIELDS])

DEFAULT_LOG_FORMAT: tuple[str, ...] = tuple(f.name for f in VPC_FIELDS if f.version == 2)

ADDRESS_COLUMNS: tuple[str, ...] = ("srcaddr", "dstaddr", "pkt_srcaddr", "pkt_dstaddr")

# "lowercase words joined by hyphens" (CONTRACT §5); digits are allowed inside words for names like az-id's
# peers.
_NAME = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
HEADER_MIN_KNOWN = 3


# Fields are separated by runs of spaces or tabs; nothing else separates them (other whitespace, a NUL or a
# byte-order mark inside a line is part of the field it is in). Both parsing paths and the header test use this.
FIELD_SEPARATOR = "[ \t]+"
_SEPARATOR = re.compile(FIELD_SEPARATOR)
BOM = "\ufeff"


def split_fields(line: str) -> list[str]:
    """The fields of one line: a leading byte-order mark dropped, split on runs of spaces and tabs."""
    line = line.lstrip(BOM).strip(" \t")
    return _SEPARATOR.split(line) if line else []


def field_type(field_name: str) -> pa.DataType:
    """The Arrow type of a field; unknown (newer) fields are strings."""
    known = KNOWN_FIELDS.get(field_name)
    return known.type if known else _S


def header_fields(tokens: list[str]) -> tuple[str, ...] | None:
    """The format a header line sets, or None when the line is not a header.

    A header is a line whose every token is shaped like a field name and which names at least three known
    fields (CONTRACT §5); a name repeated twice cannot be a format, so such a line is not a header either.
    """
    if len(tokens) < HEADER_MIN_KNOWN or not all(_NAME.fullmatch(t) for t in tokens):
        return None
    if len(set(tokens)) != len(tokens):
        return None
    if sum(t in KNOWN_FIELDS for t in tokens) < HEADER_MIN_KNOWN:
        return None
    return tuple(tokens)


def parse_log_format(log_format: str) -> tuple[str, ...]:
    """Field names from a LogFormat (`${version} ${account-id} …`) or a header (`version account-id …`)."""
    names = [t.removeprefix("${").removesuffix("}") for t in log_format.split()]
    if not names:
        raise FlowLogError("--log-format is empty: give the fields, e.g. '${version} ${account-id} ${interface-id}'")
    bad = [n for n in names if not _NAME.fullmatch(n)]
    if bad:
        raise FlowLogError(f"--log-format: {bad[0]!r} is not a field name (expected e.g. ${{srcaddr}})")
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise FlowLogError(f"--log-format names {dup[0]!r} twice")
    return tuple(names)
