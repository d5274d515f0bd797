"""`cloudwatch://<log-group>`: a CloudWatch Logs group read with `filter_log_events` (paginated).

Everything after `cloudwatch://` is the group name, slashes included: `cloudwatch:///aws/vpc/flowlogs` is the
group `/aws/vpc/flowlogs`. Each network interface has its own log stream, named after it, so an interface
filter becomes `logStreamNamePrefix`; a time window becomes `startTime`/`endTime` (an event's timestamp is its
record's start). CloudWatch events carry no header: their format is `--log-format`, else the default.
Line numbers in error reports count events from the start of the read.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyarrow as pa
from botocore.exceptions import BotoCoreError, ClientError

from reach.errors import FlowLogError
from reach.flowlogs.filters import Filters
from reach.flowlogs.layout import SLACK
from reach.flowlogs.sources import TextInput, prefetch

SCHEME = "cloudwatch://"


def group_name(uri: str) -> str:
    group = uri.removeprefix(SCHEME)
    if not group:
        raise FlowLogError(f"{uri}: no log group named (expected cloudwatch://<log-group>)")
    return group


def _describe(uri: str, exc: ClientError | BotoCoreError) -> str:
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        if code == "ResourceNotFoundException":
            return f"{uri}: no such log group"
        if code in ("AccessDeniedException", "AccessDenied"):
            return f"{uri}: access denied"
        return f"{uri}: {code or 'error'} ({exc})"
    return f"{uri}: {exc}"


def _pages(client: Any, uri: str, kwargs: dict[str, Any], page_size: int | None) -> Iterator[pa.Buffer]:
    config = {"PageSize": page_size} if page_size else {}
    try:
        for page in client.get_paginator("filter_log_events").paginate(**kwargs, PaginationConfig=config):
            messages = [e["message"].rstrip("\n") for e in page.get("events", [])]
            if messages:
                yield pa.py_buffer(("\n".join(messages) + "\n").encode())
    except (ClientError, BotoCoreError) as exc:
        raise FlowLogError(_describe(uri, exc)) from exc


def cloudwatch_inputs(client: Any, uri: str, filters: Filters, page_size: int | None = None) -> Iterator[TextInput]:
    group = group_name(uri)
    kwargs: dict[str, Any] = {"logGroupName": group}
    if filters.start is not None:
        # A record that ends inside the window may have started up to an aggregation interval before it.
        kwargs["startTime"] = max(0, filters.start - SLACK) * 1000
    if filters.end is not None:
        kwargs["endTime"] = filters.end * 1000 + 999
    if not filters.interfaces:
        yield TextInput(uri, prefetch(_pages(client, uri, kwargs, page_size)))
        return
    for eni in sorted(filters.interfaces):
        name = f"{uri} (stream {eni})"
        yield TextInput(name, prefetch(_pages(client, name, {**kwargs, "logStreamNamePrefix": eni}, page_size)))
