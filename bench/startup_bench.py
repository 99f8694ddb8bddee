"""What loading the fleet costs at hub startup: every node's sparkline (`recent_cpu`, 30 points).

    python bench/startup_bench.py [--nodes 2000]

Builds a scratch SQLite store of `--nodes` desktop8 nodes (bench/disk_bench.py's simulated
samples), each with two compacted minutes and no raw rows left (nodes that stopped
reporting, or a hub down long enough for every minute to be compacted), then times, on
one thread as the hub's startup does, every node's sparkline read the way the hub reads
it (rows, then the points kept beside the newest block) against decoding the newest
block (the code before migration 008). In process, CPU time and wall clock.
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from disk_bench import SHAPES, timestamps  # noqa: E402
from hub.store.sqlite import Database, blocks  # noqa: E402
from hub.store.sqlite.db import _END, _cpu_percent  # noqa: E402


def build(db: Database, nodes: int) -> None:
    sample, _ = SHAPES["desktop8"].make(0)
    start = (time.time() // 60 - 30) * 60
    minutes = [[sample(t) for t in timestamps(start + 60 * m, 60, random.Random(m))] for m in range(2)]
    encoded = [blocks.encode(m) for m in minutes]
    for first in range(0, nodes, 500):
        db.put_blocks([(f"node-{i:05d}", int(start * 1000) + 60_000 * m, enc, [])
                       for i in range(first, min(nodes, first + 500)) for m, enc in enumerate(encoded)])


def old_recent_cpu(db: Database, node_id: str, points: int) -> list:
    with db.read_tx() as c:
        return [_cpu_percent(s) for s in db._raw(c, node_id, points, -1, _END)]


def timed(fn, ids: list[str]) -> tuple[float, float, list]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = [fn(i, 30) for i in ids]
    return time.perf_counter() - wall, time.process_time() - cpu, out


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, default=2000)
    args = ap.parse_args(argv)
    if not 1 <= args.nodes <= 20_000:
        raise SystemExit("--nodes must be 1-20000")
    with tempfile.TemporaryDirectory(prefix="forge-startup-bench-") as tmp:
        db = Database(Path(tmp) / "forge.db")
        build(db, args.nodes)
        ids = [n.id for n in db.nodes()] or [f"node-{i:05d}" for i in range(args.nodes)]
        new = timed(db.recent_cpu, ids)
        old = timed(lambda i, p: old_recent_cpu(db, i, p), ids)
        assert new[2] == old[2], "both reads give the same sparklines"
        db.close()
    for name, (wall, cpu, _) in (("decode the newest block (before)", old), ("rows + kept points (now)", new)):
        print(f"{name}: {wall:.2f} s wall, {cpu:.2f} s CPU for {args.nodes} nodes "
              f"({1000 * wall / args.nodes:.2f} ms per node; x{10_000 / args.nodes:g} for 10,000 nodes: {wall * 10_000 / args.nodes:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
