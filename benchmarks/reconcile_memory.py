"""Reconcile's peak memory against the number of distinct flows (issue 15: ~420 MB per million distinct
(interface, peer, port) keys before per-key state was bounded).

Writes N default-format records on the 2,000-interface benchmark snapshot (benchmarks/reconcile.py), each
with its own (interface, peer, port): internet hosts knocking on a different port of a different interface,
half of them ACCEPTed where the snapshot rejects them, so there are N distinct history keys and N / 2
disagreement groups. Runs `reach reconcile --format json` in a child process per size and samples the resident
memory of it and its workers every 20 ms.

    python benchmarks/reconcile_memory.py [--keys 1000000 5000000] [--jobs 1 2]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

sys.path.insert(0, str(Path(__file__).resolve().parent))
import reconcile as bench  # noqa: E402  (the snapshot and its data folder)

DATA = bench.DATA.parent / "reconcile-memory"


def write(path: Path, n: int, interfaces: int) -> None:
    """n records, every (interface, peer, port) distinct."""
    i = np.arange(n, dtype=np.int64)
    iface = i % interfaces
    ips = np.array([bench._ip(k % bench.SUBNETS, 4 + k // bench.SUBNETS) for k in range(interfaces)], dtype=object)
    peer = pa.array([f"{1 + (k >> 24) % 200}.{(k >> 16) & 255}.{(k >> 8) & 255}.{k & 255}" for k in i.tolist()])
    port = 10000 + (i // interfaces) % 50000
    start = 1_717_200_000 + (i * 3600 // n)
    table = pa.table({
        "version": np.full(n, 2, dtype=np.int32), "account-id": pa.array([bench.ACCOUNT] * n),
        "interface-id": pa.array([f"eni-{k:017x}" for k in iface.tolist()]), "srcaddr": peer,
        "dstaddr": pa.array(ips[iface].tolist()), "srcport": np.full(n, 40000, dtype=np.int32),
        "dstport": port.astype(np.int32), "protocol": np.full(n, 6, dtype=np.int32),
        "packets": np.ones(n, dtype=np.int64), "bytes": np.full(n, 60, dtype=np.int64), "start": start,
        "end": start + 59, "action": pa.array(np.where(i % 2 == 0, "ACCEPT", "REJECT")),
        "log-status": pa.array(["OK"] * n),
    })
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        pacsv.write_csv(table, out, pacsv.WriteOptions(include_header=False, delimiter=" ", quoting_style="none"))


def measure(path: Path, jobs: int) -> dict[str, object]:
    cmd = [sys.executable, "-m", "reach", "reconcile", str(path), "--snapshot", str(bench.DATA / "snapshot"),
           "--format", "json", "--jobs", str(jobs), "--quiet"]
    out = path.parent / f"out-{jobs}.json"
    t = time.perf_counter()
    with out.open("wb") as sink:
        child = subprocess.Popen(cmd, stdout=sink)
        peak = 0.0
        while child.poll() is None:
            peak = max(peak, bench.tree_rss_mb(child.pid))
            time.sleep(0.02)
    seconds = time.perf_counter() - t
    if child.returncode != 0:
        raise SystemExit(f"reach reconcile exited {child.returncode}")
    result = json.loads(out.read_text())
    return {"seconds": seconds, "peak": peak, "summary": result["summary"], "listed": len(result["disagreements"]),
            "notes": result["notes"], "json": out.stat().st_size}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keys", type=int, nargs="+", default=[1_000_000, 5_000_000])
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    if not (bench.DATA / "snapshot").exists():
        subprocess.run([sys.executable, bench.__file__, "--generate-only"], check=True)
    interfaces = json.loads((bench.DATA / "meta.json").read_text())["interfaces"]
    print("reach reconcile --format json, every record its own (interface, peer, port); half disagree")
    print(f"  {'distinct keys':>13}  {'file':>8}  {'jobs':>4}  {'peak RSS':>9}  {'time':>7}  {'spilled':>8}  "
          f"{'disagree':>10}  listed  JSON out")
    for n in args.keys:
        path = DATA / f"distinct-{n}.log"
        if not path.exists():
            write(path, n, interfaces)
        for jobs in args.jobs:
            r = measure(path, jobs)
            s = r["summary"]
            assert isinstance(s, dict)
            print(f"  {n:>13,}  {path.stat().st_size / 1e6:>6.0f}MB  {jobs:>4}  {r['peak']:>6,.0f} MB  "
                  f"{r['seconds']:>6.1f}s  {s['spilled_bytes'] / 1e6:>5.0f} MB  {s['disagree']:>10,}  "
                  f"{r['listed']:>6}  {r['json'] / 1e6:.1f} MB", flush=True)
        print(f"    notes: {' | '.join(str(x) for x in r['notes'])}")


if __name__ == "__main__":
    main()
