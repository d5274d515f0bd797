"""Synthetic flow logs for seed 003's web server (fixtures/web-http-revoked): every kind of record reconcile
tells apart, in any number, spread over files.

- clients on the internet calling HTTP (accepted until half way, rejected after: the revoke, a change point)
  and SSH, with the server's responses;
- pings, half of whose replies the server's side rejects; and connections between two ephemeral ports,
  whose REJECT is the response: both are told only by pairing with their reverse;
- scanners on closed ports, records of an interface the snapshot lacks, NODATA records, and a bad line.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

SNAPSHOT = Path(__file__).resolve().parents[2] / "fixtures" / "web-http-revoked" / "snapshot"
SERVER, ENI, OTHER_ENI = "10.10.1.15", "eni-0a8f44391eae18254", "eni-0123456789abcdef0"
START = 1_710_250_000


def records(n: int, seed: int = 7) -> pa.Table:
    """About `n` records in time order (default format's columns)."""
    rng = np.random.default_rng(seed)
    k = max(int(n / 1.6), 1)  # about 1.6 records a connection
    kind = rng.choice(6, size=k, p=[0.35, 0.2, 0.15, 0.1, 0.15, 0.05])
    start = START + np.sort(rng.integers(0, 7200, k))
    peer = np.array([f"{a}.{b}.{c}.{d}" for a, b, c, d in rng.integers(1, 224, (k, 4)).tolist()], dtype=object)
    eph = rng.integers(32768, 61000, k)
    after = start >= START + 3600  # the HTTP rule was revoked half way
    rows: list[tuple[object, ...]] = []
    for i in range(k):
        t, p, e = int(start[i]), peer[i], int(eph[i])
        if kind[i] == 0:  # HTTP: accepted, then rejected
            action = "REJECT" if after[i] else "ACCEPT"
            rows.append((ENI, p, SERVER, e, 80, 6, t, action))
            if action == "ACCEPT":
                rows.append((ENI, SERVER, p, 80, e, 6, t, "ACCEPT"))
        elif kind[i] == 1:  # SSH and its responses
            rows += [(ENI, p, SERVER, e, 22, 6, t, "ACCEPT"), (ENI, SERVER, p, 22, e, 6, t, "ACCEPT")]
        elif kind[i] == 2:  # a ping; half the replies rejected on the way out
            rows += [(ENI, p, SERVER, 0, 0, 1, t, "ACCEPT"),
                     (ENI, SERVER, p, 0, 0, 1, t + int(rng.integers(0, 3)), "REJECT" if i % 2 else "ACCEPT")]
        elif kind[i] == 3:  # ephemeral to ephemeral: the server's REJECT answers its own accepted request
            rows += [(ENI, SERVER, p, 40000 + i % 997, 50000, 6, t, "ACCEPT"),
                     (ENI, p, SERVER, 50000, 40000 + i % 997, 6, t + 1, "REJECT")]
        elif kind[i] == 4:  # scanners
            rows.append((ENI, p, SERVER, e, int(rng.integers(1, 1024)), 6, t, "REJECT"))
        else:  # an interface the snapshot lacks
            rows.append((OTHER_ENI, p, "10.10.9.9", e, 443, 6, t, "ACCEPT"))
    columns = list(zip(*rows, strict=True))
    n_rows = len(rows)
    starts = np.array(columns[6], dtype=np.int64)
    table = pa.table({
        "version": np.full(n_rows, 2, dtype=np.int32), "account-id": ["123456789012"] * n_rows,
        "interface-id": list(columns[0]), "srcaddr": list(columns[1]), "dstaddr": list(columns[2]),
        "srcport": np.array(columns[3], dtype=np.int32), "dstport": np.array(columns[4], dtype=np.int32),
        "protocol": np.array(columns[5], dtype=np.int32), "packets": np.full(n_rows, 4, dtype=np.int64),
        "bytes": np.full(n_rows, 480, dtype=np.int64), "start": starts, "end": starts + 59,
        "action": list(columns[7]), "log-status": ["OK"] * n_rows,
    })
    return table.take(pa.array(np.argsort(starts, kind="stable")))


def text(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    pacsv.write_csv(table, sink, pacsv.WriteOptions(include_header=False, delimiter=" ", quoting_style="none"))
    return sink.getvalue().to_pybytes()


def write(folder: Path, n: int, files: int = 3, seed: int = 7) -> Path:
    """`files` files of about n / files records each (the last gzipped), a NODATA record and a bad line."""
    folder.mkdir(parents=True, exist_ok=True)
    table = records(n, seed)
    bounds = np.linspace(0, table.num_rows, files + 1).astype(int)
    for f in range(files):
        body = text(table.slice(bounds[f], bounds[f + 1] - bounds[f]))
        if f == 0:
            body += f"2 123456789012 {ENI} - - - - - - - {START} {START + 59} - NODATA\n".encode()
            body += b"this line is not a flow log record\n"
        name = folder / f"part-{f:03d}.log"
        if f == files - 1 and files > 1:
            (folder / (name.name + ".gz")).write_bytes(gzip.compress(body))
        else:
            name.write_bytes(body)
    return folder
