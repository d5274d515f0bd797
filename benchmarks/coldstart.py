"""Cold start of `reach explain`, as a whole process, on the explain benchmark's snapshot (10,000 interfaces,
5,000 security groups, 200 subnets), against a bare `json.loads` of the same files measured in the same run.

Rows, interleaved so that a busy moment on the machine weighs on each alike; best and median of --repeat:

- `python -c pass`: the interpreter alone;
- `json.loads, own process`: a process that reads and parses every file of the snapshot, nothing else;
- `reach explain, cache warm`: the whole command, its compiled network already in reach's cache;
- `reach explain, cache cold`: the whole command with an empty cache folder (parse, validate, compile and
  write the cache);
- `imports of reach explain`: a process that imports the modules a warm `reach explain` imports (read from
  `python -X importtime` of one), and does nothing else: the floor under any cache format.

Then, each in a fresh process: `json.loads` of the files in-process (no interpreter start), the cache key
(a SHA-256 digest of every file), and where a warm `reach explain` spends its time (imports, the key, opening
the cached network, the engine's set-up, the explanation, its text).

    python benchmarks/coldstart.py [--repeat 7] [--interfaces 10000] [--groups 5000] [--subnets 200]

Targets (issue 14): warm <= 1.5 x json.loads, cold <= 4 x json.loads.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from explain import build  # noqa: E402  (the explain benchmark's snapshot)

SRC, DST, PORT = "eni-00000000000000000", "eni-00000000000000001", "443"  # two subnets of the one VPC

_JSON = "import json, sys\nfor name in sys.argv[1:]:\n    with open(name, 'rb') as f:\n        json.loads(f.read())"

# One warm `reach explain`, timed by phase in its own process (what the CLI does, step by step).
_PHASES = """
import sys, time
started = time.perf_counter()
laps = []
def lap(name):
    global started
    now = time.perf_counter(); laps.append((name, now - started)); started = now
import reach.cli
lap("import reach.cli")
from reach.api import Snapshot
from reach.report.explain import render_explanation_text
from reach.report.names import Names
from reach.report.console import stdout_console
lap("import the API, engine and report")
from pathlib import Path
from reach.snapshot import cache
folder = Path(sys.argv[1])
key = cache.fingerprint(folder)
lap("the cache key (digest of the files)")
network = cache.open_cached(key)
assert network is not None, "the cache is not warm"
lap("open the cached network")
import networkx
lap("import networkx (for the path graph)")
interfaces = list(network.interfaces.values())
lap("build all interfaces (graph, decision read all)")
snap = Snapshot(network, None, str(folder))
lap("the engine's path graph (Analyzer)")
from reach.model.decision import decision_of
decision_of(network)
lap("the interface decision's set-up")
result = snap.explain(sys.argv[2], sys.argv[3], sys.argv[4])
lap("explain")
import io
console = stdout_console()
console.file = io.StringIO()
render_explanation_text(result, console, Names.of(network))
lap("names and text")
for name, seconds in laps:
    print(f"{name}\\t{seconds}")
"""


def _time(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def _reach() -> list[str]:
    """The installed console script when there is one (what users run), else `python -m reach`."""
    script = Path(sys.executable).with_name("reach")
    return [str(script)] if script.exists() else [sys.executable, "-m", "reach"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--interfaces", type=int, default=10_000)
    parser.add_argument("--groups", type=int, default=5_000)
    parser.add_argument("--subnets", type=int, default=200)
    args = parser.parse_args()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "snapshot"
        build(folder, args.interfaces, args.groups, args.subnets)
        files = sorted(str(f) for f in folder.iterdir())
        size = sum(Path(f).stat().st_size for f in files)
        warm_dir, cold_dir = Path(tmp) / "warm", Path(tmp) / "cold"
        env = {**os.environ, "REACH_CACHE_DIR": str(warm_dir), "COLUMNS": "100"}
        cold_env = {**env, "REACH_CACHE_DIR": str(cold_dir)}
        explain = [*_reach(), "explain", SRC, DST, PORT, "--snapshot", str(folder)]
        subprocess.run(explain, check=True, env=env, stdout=subprocess.DEVNULL)  # fills the warm cache

        def cold() -> float:
            shutil.rmtree(cold_dir, ignore_errors=True)
            return _time(explain, cold_env)

        imports = _imported(explain, env)
        rows = {
            "python -c pass": lambda: _time([sys.executable, "-c", "pass"], env),
            "json.loads, own process": lambda: _time([sys.executable, "-c", _JSON, *files], env),
            "reach explain, cache warm": lambda: _time(explain, env),
            "reach explain, cache cold": cold,
            "imports of reach explain": lambda: _time([sys.executable, "-c", f"import {', '.join(imports)}"], env),
        }
        samples: dict[str, list[float]] = {name: [] for name in rows}
        in_process: list[float] = []
        keys: list[float] = []
        phases: list[dict[str, float]] = []
        for _ in range(args.repeat):
            for name, measure in rows.items():
                samples[name].append(measure())
            in_process.append(_json_in_process(files, env))
            keys.append(_key_cost(folder, env))
            phases.append(_phases(folder, env))
        cache_bytes = sum(f.stat().st_size for f in warm_dir.iterdir())

    print(f"snapshot: {args.interfaces} interfaces, {args.groups} security groups, {args.subnets} subnets, "
          f"{size / 1e6:.1f} MB of JSON in {len(files)} files; cached network {cache_bytes / 1e6:.1f} MB")
    base = min(samples["json.loads, own process"])
    inner = min(in_process)
    for name, values in samples.items():
        best, median = min(values), statistics.median(values)
        ratio = "" if name == "python -c pass" else (
            f"  {best / base:4.2f}x the json.loads process, {best / inner:4.2f}x in-process")
        print(f"{name:<28} best {best:6.3f} s  median {median:6.3f} s{ratio}")
    print(f"{'json.loads, in-process':<28} best {inner:6.3f} s  median {statistics.median(in_process):6.3f} s")
    print(f"{'cache key (SHA-256)':<28} best {min(keys):6.3f} s  median {statistics.median(keys):6.3f} s")
    print("a warm `reach explain`, by phase (best of each):")
    for name in phases[0]:
        print(f"  {name:<48} {min(p[name] for p in phases):6.3f} s")
    print(f"targets: warm <= 1.5x, cold <= 4x json.loads.  cpus {os.cpu_count()}, load average "
          f"{load_before[0]:.1f} before, {os.getloadavg()[0]:.1f} after")


def _imported(explain: list[str], env: dict[str, str]) -> list[str]:
    """The modules a warm `reach explain` imports at the top of its import tree (they bring the rest)."""
    command = [sys.executable, "-X", "importtime", "-m", "reach", *explain[explain.index("explain"):]]
    lines = subprocess.run(command, check=True, env=env, capture_output=True, text=True).stderr.splitlines()
    names = [line.split("|")[2] for line in lines[1:] if line.startswith("import time:") and "|" in line]
    return [name.strip() for name in names if name.strip() and not name.startswith("  ") and
            not name.strip().startswith(("_", "encodings", "__"))]


def _json_in_process(files: list[str], env: dict[str, str]) -> float:
    code = f"import time\nstarted = time.perf_counter()\n{_JSON}\nprint(time.perf_counter() - started)"
    done = subprocess.run([sys.executable, "-c", code, *files], check=True, env=env, capture_output=True, text=True)
    return float(done.stdout)


def _key_cost(folder: Path, env: dict[str, str]) -> float:
    code = ("import sys, time\nfrom pathlib import Path\nfrom reach.snapshot.cache import fingerprint\n"
            "started = time.perf_counter()\nfingerprint(Path(sys.argv[1]))\nprint(time.perf_counter() - started)")
    done = subprocess.run([sys.executable, "-c", code, str(folder)], check=True, env=env, capture_output=True,
                          text=True)
    return float(done.stdout)


def _phases(folder: Path, env: dict[str, str]) -> dict[str, float]:
    done = subprocess.run([sys.executable, "-c", _PHASES, str(folder), SRC, DST, PORT], check=True, env=env,
                          capture_output=True, text=True)
    return {name: float(seconds) for name, seconds in (line.split("\t") for line in done.stdout.splitlines())}


if __name__ == "__main__":
    main()
