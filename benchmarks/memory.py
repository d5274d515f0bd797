"""Peak memory against input size, for every input reach bounds.

    .venv/bin/python benchmarks/memory.py [--only bomb,line,aliases,calls,deep] [--quick]

Each input is generated (under benchmarks/.data/memory/, reused afterwards) at growing sizes and handed to the
command a user would run, in a child process per input, which prints its own peak resident memory (VmHWM),
its time and its exit status. Bounded means the peak stops growing where the limit applies:

- bomb     a snapshot `.json.gz` that inflates to N MiB of JSON (`reach explain`); limit: 1 GiB decompressed
           (REACH_MAX_JSON_BYTES), past it the file is refused as it inflates;
- line     flow logs holding one line of N MiB, gzipped (`reach logs summary`; the files of
           benchmarks/flowlogs_memory.py); limit: 4 MiB a line, past it the line is skipped as it is read;
- aliases  an intents file whose YAML aliases expand to 9**k values (`reach check`); limit: 100,000 values,
           1,000 aliases, 32 levels, refused while the YAML is composed;
- calls    a change set of N calls adding rules to one group (`reach whatif`); limit: AWS's, 1,000 rules a
           group each way, past it the call is refused as AWS refuses it;
- deep     JSON nested N levels (`reach whatif`); limit: Python's parser (about 1,000 levels), refused.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / ".data" / "memory"
MIB = 1 << 20
SNAPSHOT = ROOT / "fixtures" / "web-http-revoked" / "snapshot"
GROUP = "sg-04915b9bbbde6f140"  # web-sg, the group the calls change

sys.path.insert(0, str(HERE))
import flowlogs_memory  # noqa: E402  (a sibling script: its huge-line files)

# ----- inputs ---------------------------------------------------------------------------------------------


def _once(path: Path, write: Callable[[Path], None]) -> Path:
    """Write an input once; a marker says it was written whole."""
    marker = path.with_name(path.name + ".ok")
    if not (path.exists() and marker.exists()):
        path.parent.mkdir(parents=True, exist_ok=True)
        write(path)
        marker.write_text("ok")
    return path


def bomb(mib: int) -> Path:
    """A snapshot whose one extra file is `{"Vpcs": [<N MiB of spaces>]}`, gzipped: valid JSON, tiny on disk."""
    folder = DATA / f"bomb-{mib}mib"

    def write(path: Path) -> None:
        for file in SNAPSHOT.glob("*.json"):
            (folder / file.name).write_bytes(file.read_bytes())
        packer = zlib.compressobj(9, zlib.DEFLATED, 31)
        with path.open("wb") as out:
            out.write(packer.compress(b'{"Vpcs": ['))
            spaces = b" " * MIB
            for _ in range(mib):
                out.write(packer.compress(spaces))
            out.write(packer.compress(b"]}") + packer.flush())

    _once(folder / "bomb.json.gz", write)
    return folder


def aliases(levels: int) -> Path:
    """Nine aliases a level, `levels` deep: a few hundred bytes that expand to 9**levels values."""

    def write(path: Path) -> None:
        text = 'a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]\n'
        for k in range(1, levels):
            text += f"a{k}: &a{k} [{', '.join([f'*a{k - 1}'] * 9)}]\n"
        text += f"intents:\n- {{src: 10.10.1.15, dst: 1.1.1.1, port: 443, expect: ACCEPT, name: *a{levels - 1}}}\n"
        path.write_text(text)

    return _once(DATA / f"aliases-{levels}.yaml", write)


def calls(count: int) -> Path:
    """`count` calls on web-sg, each a rule of its own (port, /32), inbound and outbound in turn
    (AuthorizeSecurityGroupIngress, then Egress): AWS lets a group hold 1,000 rules each way."""

    def write(path: Path) -> None:
        items = [
            {"action": "AuthorizeSecurityGroupEgress" if k % 2 else "AuthorizeSecurityGroupIngress",
             "params": {"GroupId": GROUP, "IpPermissions": [
                 {"IpProtocol": "tcp", "FromPort": 1024 + k % 60000, "ToPort": 1024 + k % 60000,
                  "IpRanges": [{"CidrIp": f"10.{k >> 16 & 255}.{k >> 8 & 255}.{k & 255}/32"}]}]}}
            for k in range(count)
        ]
        path.write_text(json.dumps(items))

    return _once(DATA / f"calls-{count}.json", write)


def deep(levels: int) -> Path:
    return _once(DATA / f"deep-{levels}.json", lambda p: p.write_text("[" * levels + "]" * levels))


def line(mib: int) -> Path:
    path = DATA.parent / f"huge-line-{mib}mib.log.gz"
    flowlogs_memory.generate(path, mib, compress=True)
    return path


# ----- one run ----------------------------------------------------------------------------------------------


def child(argv: list[str]) -> None:
    """In a child process: the command as a user runs it, then this process's own peak RSS."""
    from typer.testing import CliRunner

    from reach.cli import app

    started = time.perf_counter()
    result = CliRunner().invoke(app, argv)
    seconds = time.perf_counter() - started
    peak = next(int(x.split()[1]) * 1024 for x in Path("/proc/self/status").read_text().splitlines()
                if x.startswith("VmHWM:"))
    said = (result.stderr.strip().splitlines() or [""])[-1]
    print(json.dumps({"exit": result.exit_code, "seconds": seconds, "rss": peak, "said": said,
                      "crashed": result.exception is not None and not isinstance(result.exception, SystemExit)}))


def run(argv: list[str]) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, "--child", json.dumps(argv)], capture_output=True, text=True,
                         check=True, cwd=ROOT).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    assert not result["crashed"], result
    return result


# ----- the table ------------------------------------------------------------------------------------------


def cases(quick: bool) -> Iterator[tuple[str, str, str, list[str]]]:
    """(input kind, its size, the limit that applies, the command line)."""
    snapshot = ["--snapshot", str(SNAPSHOT)]
    for mib in (16, 256) if quick else (16, 256, 1024, 2048):
        yield ("bomb", f"{mib:,} MiB inflated", "1 GiB a file",
               ["explain", "10.10.1.15", "1.1.1.1", "443", "--snapshot", str(bomb(mib))])
    for mib in (16, 256) if quick else (16, 256, 1024):
        yield ("line", f"{mib:,} MiB line", "4 MiB a line", ["logs", "summary", str(line(mib)), "--quiet"])
    for levels in (3, 5, 6, 9) if quick else (3, 4, 5, 6, 7, 9):
        yield ("aliases", f"9^{levels} = {9**levels:,} values", "100,000 values",
               ["check", str(aliases(levels)), *snapshot])
    for count in (100, 1000) if quick else (100, 1000, 3000):
        yield ("calls", f"{count:,} calls", "AWS's: 1,000 rules a group each way",
               ["whatif", str(calls(count)), *snapshot, "--format", "json"])
    for levels in (100, 10_000, 1_000_000) if quick else (100, 1000, 10_000, 1_000_000, 10_000_000):
        yield ("deep", f"{levels:,} levels", "~1,000 levels", ["whatif", str(deep(levels)), *snapshot])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default="", help="comma-separated kinds: bomb,line,aliases,calls,deep")
    ap.add_argument("--quick", action="store_true", help="the smaller sizes only")
    ap.add_argument("--child")
    args = ap.parse_args()
    if args.child:
        child(json.loads(args.child))
        return
    wanted = set(filter(None, args.only.split(",")))
    baseline = run(["schema", "explain"])["rss"]
    print(f"peak RSS of each command in a child process; `reach schema explain` alone: {baseline / 1e6:.0f} MB")
    print(f"  {'input':<8} {'size':<26} {'on disk':>9} {'limit':<32} {'exit':>4} {'peak RSS':>9} {'time':>7}  said")
    for kind, size, limit, argv in cases(args.quick):
        if wanted and kind not in wanted:
            continue
        source = Path(argv[1] if argv[0] in ("whatif", "check") else argv[-1] if kind == "bomb" else argv[2])
        disk = sum(f.stat().st_size for f in source.rglob("*.json*")) if source.is_dir() else source.stat().st_size
        r = run(argv)
        said = str(r["said"])
        said = said if len(said) <= 70 else said[:69] + "…"
        print(f"  {kind:<8} {size:<26} {disk / 1e6:7.2f} MB {limit:<32} {r['exit']:>4} {r['rss'] / 1e6:6.0f} MB "
              f"{r['seconds']:6.1f}s  {said}")


if __name__ == "__main__":
    main()
