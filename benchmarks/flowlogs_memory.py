"""Peak memory of reading flow logs whose one line is huge, against the size of that line.

    .venv/bin/python benchmarks/flowlogs_memory.py [--sizes 16,64,256,1024] [--plain-sizes 64,1024]

Issue 15 found that a 1 MB gzip holding a single 1 GiB line took 10.6 GB of resident memory and printed a
1.1 GB JSON summary. This generates (under benchmarks/.data/, reused afterwards) gzip files that each hold a
record, one line of N MiB, and a record, for every N in `--sizes`, and plain (uncompressed) files the same
way for every N in `--plain-sizes`; then runs `reach logs summary FILE --format json --quiet` on each in a
child process and prints the child's peak RSS (VmHWM), its time and the size of its JSON output. Bounded means the
peak stays flat while the line grows a hundredfold: the reader skips a line past its limit (4 MiB) as it reads
it, inflates gzip 1 MiB at a time, and keeps 200 characters of it as a sample.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data"
RECORD = b"2 123456789010 eni-aaa 10.0.0.1 10.0.0.2 40000 443 6 10 840 1600000000 1600000060 ACCEPT OK\n"
MIB = 1 << 20


def generate(path: Path, line_mib: int, compress: bool) -> None:
    marker = path.with_suffix(path.suffix + ".ok")
    if path.exists() and marker.exists():
        return
    DATA.mkdir(parents=True, exist_ok=True)
    chunk = b"x" * MIB
    with path.open("wb") as out:
        c = zlib.compressobj(9, zlib.DEFLATED, 31) if compress else None

        def put(data: bytes) -> None:
            out.write(c.compress(data) if c else data)

        put(RECORD)
        for _ in range(line_mib):
            put(chunk)
        put(b"\n" + RECORD)
        if c:
            out.write(c.flush())
    marker.write_text("ok")


def child(path: str) -> None:
    """In a child process: the CLI as a user runs it, then this process's own peak RSS."""
    from typer.testing import CliRunner

    from reach.cli import app

    t0 = time.perf_counter()
    result = CliRunner().invoke(app, ["logs", "summary", path, "--format", "json", "--quiet"])
    seconds = time.perf_counter() - t0
    summary = json.loads(result.stdout)
    peak = 0
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            peak = int(line.split()[1]) * 1024
    print(
        json.dumps(
            {
                "exit": result.exit_code,
                "seconds": seconds,
                "rss": peak,
                "json_bytes": len(result.stdout),
                "records": summary["records"],
                "unparsable": summary["unparsable"],
            }
        )
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="16,64,256,1024", help="line sizes in MiB, gzip files")
    ap.add_argument("--plain-sizes", default="64,1024", help="line sizes in MiB, plain files ('': none)")
    ap.add_argument("--child")
    args = ap.parse_args()
    if args.child:
        child(args.child)
        return
    cases = [(DATA / f"huge-line-{n}mib.log.gz", n, True) for n in map(int, args.sizes.split(","))]
    if args.plain_sizes:
        cases += [(DATA / f"huge-line-{n}mib.log", n, False) for n in map(int, args.plain_sizes.split(","))]
    print("reach logs summary on one huge line between two records; child process per file")
    print(f"  {'file':<26} {'on disk':>10} {'line':>9} {'peak RSS':>9} {'time':>7} {'JSON out':>9}  counts")
    for path, n, compress in cases:
        generate(path, n, compress)
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(path)], check=True, capture_output=True, text=True
        ).stdout
        r = json.loads(out.strip().splitlines()[-1])
        assert r["exit"] == 0 and (r["records"], r["unparsable"]) == (2, 1), r
        print(
            f"  {path.name:<26} {path.stat().st_size / MIB:8.1f} MB {n:5d} MiB {r['rss'] / 1e6:6.0f} MB "
            f"{r['seconds']:6.1f}s {r['json_bytes']:7,d} B  2 records, 1 unparsable"
        )


if __name__ == "__main__":
    main()
