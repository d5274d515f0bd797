"""Set questions benchmark, on the explain benchmark's snapshot (10,000 interfaces, 5,000 security groups,
200 subnets) with every interface given a public address and a third of the groups a world-open rule.

Prints, beside a baseline measured in the same run (json.load of the snapshot's files):
- `exposure` of every interface, every port, exact (target <= 10 s);
- `reachable --to` one interface on one port, and on every port (target <= 1 s).

    python benchmarks/sets.py [--interfaces 10000] [--groups 5000] [--subnets 200] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from explain import build  # noqa: E402  (the explain benchmark's snapshot)

from reach.api import Snapshot, exposure, reachable  # noqa: E402


def open_to_the_internet(folder: Path, seed: int = 11) -> None:
    """Every interface gets a public address; a third of the groups open one port to 0.0.0.0/0."""
    rng = random.Random(seed)
    path = folder / "NetworkInterfaces.json"
    data = json.loads(path.read_text())
    for i, eni in enumerate(data["NetworkInterfaces"]):
        public = f"{54 + i // 65536}.{(i // 256) % 256}.{i % 256}.{7}"
        eni["Association"] = {"PublicIp": public}
        eni["PrivateIpAddresses"][0]["Association"] = {"PublicIp": public}
    path.write_text(json.dumps(data))
    path = folder / "SecurityGroups.json"
    data = json.loads(path.read_text())
    for group in data["SecurityGroups"]:
        if rng.random() < 1 / 3:
            port = rng.choice([22, 80, 443, 3389, 8080])
            group["IpPermissions"].append(
                {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
            )
    path.write_text(json.dumps(data))


def best(repeat: int, action) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--interfaces", type=int, default=10_000)
    parser.add_argument("--groups", type=int, default=5_000)
    parser.add_argument("--subnets", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "snapshot"
        os.environ["REACH_CACHE_DIR"] = str(Path(tmp) / "cache")
        build(folder, args.interfaces, args.groups, args.subnets)
        open_to_the_internet(folder)

        start = time.perf_counter()
        for file in folder.iterdir():
            json.loads(file.read_bytes())
        json_seconds = time.perf_counter() - start

        def fresh() -> Snapshot:
            return Snapshot.load(folder, cache=True)

        fresh()  # fills the cache
        seconds, found = best(args.repeat, lambda: exposure(fresh()))
        load, _ = best(args.repeat, fresh)
        snap = fresh()
        target = sorted(snap.network.interfaces)[args.interfaces // 2]
        port = next(x.port_lo for g in snap.network.interfaces[target].groups  # a port its groups open
                    for x in snap.network.security_groups[g].ingress_lines)
        one_port, answer = best(args.repeat, lambda: reachable(snap, to=target, port=port))
        every_port, every = best(args.repeat, lambda: reachable(snap, to=target))

    summary = found.summary  # type: ignore[attr-defined]
    print(f"snapshot: {args.interfaces} interfaces, {args.groups} security groups, {args.subnets} subnets")
    print(f"baseline json.load of the files:       {json_seconds:6.3f} s")
    print(f"load from reach's cache:                {load:6.3f} s")
    print("(wall-clock seconds, best of the runs; the machine may be shared with other work)")
    print(f"exposure, every interface, exact:       {seconds:6.3f} s  (load included; target <= 10 s)  "
          f"{summary.exposed} exposed, {summary.sg_only_exposed} by security groups alone")
    print(f"reachable --to {target} --port {port}: {one_port:6.3f} s  (target <= 1 s)  "
          f"{len(answer.answers)} sources")  # type: ignore[attr-defined]
    print(f"reachable --to {target} (every port): {every_port:6.3f} s  "
          f"{len(every.answers)} sources")  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
