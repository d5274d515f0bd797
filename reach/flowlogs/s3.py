"""`s3://bucket/prefix`: list the keys (paginated), prune them by layout, stream each object.

The client is injected (a boto3 S3 client); without one, boto3's default chain makes it, so
`AWS_ENDPOINT_URL`, profiles and the rest work as everywhere in reach.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
from botocore.exceptions import BotoCoreError, ClientError

from reach.errors import FlowLogError
from reach.flowlogs.filters import Filters
from reach.flowlogs.sources import (
    GZIP_MAGIC,
    PARQUET_MAGIC,
    READ_CHUNK,
    Input,
    ParquetInput,
    TextInput,
    gunzip,
    is_log_name,
    line_blocks,
    open_parquet,
    prefetch,
)


def split_uri(uri: str) -> tuple[str, str]:
    rest = uri.removeprefix("s3://")
    bucket, _, prefix = rest.partition("/")
    if not bucket:
        raise FlowLogError(f"{uri}: no bucket named (expected s3://bucket/prefix)")
    return bucket, prefix


def _describe(uri: str, exc: ClientError | BotoCoreError) -> str:
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        if code in ("NoSuchBucket", "404"):
            return f"{uri}: no such bucket"
        if code == "NoSuchKey":
            return f"{uri}: no such key"
        if code in ("AccessDenied", "403", "AllAccessDisabled"):
            return f"{uri}: access denied"
        return f"{uri}: {code or 'error'} ({exc})"
    return f"{uri}: {exc}"


def list_keys(client: Any, uri: str, filters: Filters, page_size: int | None = None) -> list[str]:
    """Every key under the prefix that may hold wanted records, in key order."""
    bucket, prefix = split_uri(uri)
    config = {"PageSize": page_size} if page_size else {}
    keys: list[str] = []
    seen_any = False
    try:
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix, PaginationConfig=config)
        for page in pages:
            for item in page.get("Contents", []):
                seen_any = True
                key = item["Key"]
                if key.endswith("/") or not is_log_name(key.rsplit("/", 1)[-1]):
                    continue
                if filters.wants_key(key):
                    keys.append(key)
    except (ClientError, BotoCoreError) as exc:
        raise FlowLogError(_describe(uri, exc)) from exc
    if not seen_any:
        raise FlowLogError(f"{uri}: no objects under this prefix")
    return keys


def open_object(client: Any, bucket: str, key: str) -> Input:
    uri = f"s3://{bucket}/{key}"
    try:
        body = client.get_object(Bucket=bucket, Key=key)["Body"]
        first = body.read(READ_CHUNK)
    except (ClientError, BotoCoreError) as exc:
        raise FlowLogError(_describe(uri, exc)) from exc
    if first.startswith(PARQUET_MAGIC):
        # Parquet needs random access: spool it to a temporary file rather than hold it in memory.
        spool = tempfile.TemporaryFile()  # noqa: SIM115 - owned by the ParquetFile that reads it, closed with it
        spool.write(first)
        for chunk in _chunks(uri, body):
            spool.write(chunk)
        spool.seek(0)
        return ParquetInput(uri, open_parquet(uri, pa.PythonFile(spool, mode="r")))
    chunks = _chunks(uri, body, first)
    if first.startswith(GZIP_MAGIC):
        return TextInput(uri, prefetch(line_blocks(gunzip(uri, chunks))))
    return TextInput(uri, prefetch(line_blocks(chunks)))


def _chunks(uri: str, body: Any, first: bytes = b"") -> Iterator[bytes]:
    if first:
        yield first
    try:
        while chunk := body.read(READ_CHUNK):
            yield chunk
    except (ClientError, BotoCoreError) as exc:
        raise FlowLogError(_describe(uri, exc)) from exc
    finally:
        body.close()


def s3_inputs(client: Any, uri: str, filters: Filters, page_size: int | None = None) -> Iterator[Input]:
    bucket, _ = split_uri(uri)
    for key in list_keys(client, uri, filters, page_size):
        yield open_object(client, bucket, key)
