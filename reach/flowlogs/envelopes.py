"""CloudWatch Logs and Firehose wrappers around record lines.

- `{"message": "2 123… OK"}` per line (Firehose, Logstash);
- a subscription payload `{"messageType": "DATA_MESSAGE", "logGroup": …, "logStream": "eni-…",
  "logEvents": [{"message": …}]}`, as it is, gzipped (S3/Firehose delivery of the subscription), or base64 of
  the gzip (`{"awslogs": {"data": "H4sI…"}}`, the Lambda event, or the bare base64 text);
- a JSON array of any of these.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import zlib
from typing import Any

# A JSON document larger than this is not parsed whole: it is read line by line, so memory stays bounded.
MAX_DOCUMENT_BYTES = 64 << 20
_GZIP_BASE64_PREFIX = b"H4sI"  # base64 of the gzip magic 1f 8b 08


def messages(obj: Any) -> list[str] | None:
    """The record lines an envelope carries, or None when `obj` is not an envelope."""
    if isinstance(obj, list):
        out: list[str] = []
        for item in obj:
            inner = messages(item)
            if inner is None:
                return None
            out.extend(inner)
        return out
    if not isinstance(obj, dict):
        return None
    if isinstance(obj.get("message"), str):
        return [obj["message"]]
    if isinstance(obj.get("logEvents"), list):
        return [e["message"] for e in obj["logEvents"] if isinstance(e, dict) and isinstance(e.get("message"), str)]
    if obj.get("messageType") == "CONTROL_MESSAGE":
        return []  # CloudWatch's connectivity check carries no records
    awslogs = obj.get("awslogs")
    if isinstance(awslogs, dict) and isinstance(awslogs.get("data"), str):
        decoded = decode_base64_gzip(awslogs["data"].encode())
        return None if decoded is None else messages(decoded)
    return None


def decode_base64_gzip(data: bytes) -> Any | None:
    """JSON from base64 of gzip (a subscription payload as Lambda receives it), or None if it is not that."""
    try:
        raw = gzip.decompress(base64.b64decode(data.strip(), validate=True))
        return json.loads(raw)
    except (binascii.Error, OSError, EOFError, zlib.error, ValueError):
        return None


def document_lines(data: bytes) -> bytes | None:
    """Record lines of a whole-document envelope, newline-joined; None when `data` is not one.

    `data` is the start of a file (at most MAX_DOCUMENT_BYTES + 1 bytes); JSON Lines files are not
    documents and are left to the line parser, which unwraps `{"message": …}` lines one by one.
    """
    head = data.lstrip()[:4]
    if head.startswith(_GZIP_BASE64_PREFIX):
        obj = decode_base64_gzip(data)
    elif head[:1] in (b"{", b"["):
        if len(data) > MAX_DOCUMENT_BYTES:
            return None
        try:
            obj = json.loads(data)
        except ValueError:
            return None  # e.g. JSON Lines: "Extra data"
    else:
        return None
    lines = messages(obj) if obj is not None else None
    if lines is None:
        return None
    return "".join(line.rstrip("\n") + "\n" for line in lines).encode()
