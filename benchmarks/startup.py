"""Start-up time of the command line, against a bare `python -c pass` measured in the same run.

    python benchmarks/startup.py [--repeat 15]

- `import reach.cli`: what every command pays before it parses its arguments;
- `reach --help`;
- `reach explain` until it starts reading the snapshot (the time of its `--debug` line "reading the snapshot",
  from the moment the process was started), and the whole `reach explain` on a small fixture;
- which of the heavy libraries `import reach.cli` loads (none, by design), and the modules `python -X importtime`
  finds slowest in it.

Run it on a quiet machine: each figure is the best of --repeat runs, with the median beside it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SNAPSHOT = ROOT / "fixtures" / "lambda-rds-nacl" / "snapshot"
EXPLAIN = ["explain", "10.0.1.100", "10.0.2.50", "3306", "--snapshot", str(SNAPSHOT)]
HEAVY = ("pyarrow", "duckdb", "boto3", "botocore", "networkx", "numpy", "rich", "pydantic")


def _run(args: list[str]) -> tuple[float, str]:
    """Wall time of one process, and its stderr."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=ROOT, check=True,
                          env={**os.environ, "COLUMNS": "80"})
    return time.perf_counter() - started, done.stderr


def _until_read() -> float:
    """Seconds from the process's start to its log line 'reading the snapshot'."""
    started = time.time()
    _, stderr = _run(["-m", "reach", "--debug", *EXPLAIN, "--format", "json"])
    line = next(line for line in stderr.splitlines() if "reading the snapshot" in line)
    stamp = datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").timestamp()
    return stamp - started


def _figures(measure: object, repeat: int) -> list[float]:
    return [measure() for _ in range(repeat)]  # type: ignore[operator]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    repeat = parser.parse_args().repeat
    _run(["-m", "reach", *EXPLAIN])  # warm the compile cache and the OS's file cache
    rows = {
        "python -c pass": lambda: _run(["-c", "pass"])[0],
        "import reach.cli": lambda: _run(["-c", "import reach.cli"])[0],
        "reach --help": lambda: _run(["-m", "reach", "--help"])[0],
        "reach explain, until it reads": _until_read,
        "reach explain, whole": lambda: _run(["-m", "reach", *EXPLAIN])[0],
    }
    # interleaved, so that a busy moment on the machine weighs on every row alike
    samples: dict[str, list[float]] = {name: [] for name in rows}
    for _ in range(repeat):
        for name, measure in rows.items():
            samples[name].append(measure())
    base = min(samples["python -c pass"])
    for name, values in samples.items():
        best, median = min(values), statistics.median(values)
        extra = "" if name == "python -c pass" else f"  (+{best - base:.3f} s over python)"
        print(f"{name:<32} best {best:.3f} s  median {median:.3f} s{extra}")
    code = f"import sys, reach.cli; print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    print(f"import reach.cli loads: {', '.join(loaded) or 'none'} of {', '.join(HEAVY)}")
    times = subprocess.run([sys.executable, "-X", "importtime", "-c", "import reach.cli"], capture_output=True,
                           text=True, check=True).stderr.splitlines()[1:]
    parsed = [(int(cumulative), name.strip()) for _, cumulative, name in (line.split("|") for line in times)]
    top = sorted((c, n) for c, n in parsed if n.count(".") == 0)[-5:]
    print("slowest top-level imports:", ", ".join(f"{n} {c / 1e6:.3f} s" for c, n in reversed(top)))
    print(f"cpus {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
