"""How much compaction holds up the hub's event loop: block encoding on a reader thread
(holding the GIL) against the worker process.

    python bench/compact_gil_bench.py [--nodes 1000] [--rounds 2]

A scratch SQLite store gets `--nodes` nodes with one finished minute of desktop8 samples
each (bench/disk_bench.py's simulated collector) as rows; then one compaction pass runs
while a task on the same event loop sleeps 1 ms at a time and records how late it wakes
(what an ingest request waits for the loop). Each round runs both ways, alternately, on
fresh stores. Reported: pass duration, loop ticks during the pass, and the wake-up
lateness p50 / p99 / max. In process; a temporary folder.
"""
from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from disk_bench import SHAPES, timestamps  # noqa: E402

import hub.store.sqlite as backend  # noqa: E402
from hub.store import Push, open_store, sqlite_url  # noqa: E402


async def one(nodes: int, offload: bool, minute_samples: list[dict]) -> dict:
    backend.COMPACT_OFFLOAD = 50 if offload else 10**9
    with tempfile.TemporaryDirectory(prefix="forge-compact-gil-") as tmp:
        store = await open_store(sqlite_url(Path(tmp) / "forge.db"))
        try:
            for first in range(0, nodes, 200):
                await store.samples.ingest_many([Push(node_id=f"n{i:05d}", identity={}, samples=minute_samples,
                                                      now=time.time()) for i in range(first, min(nodes, first + 200))])
            if offload:  # start the worker before timing, as a running hub has
                await store.samples._t.offload(len, [])
            late: list[float] = []
            done = asyncio.Event()

            async def ticker() -> None:
                while not done.is_set():
                    t = time.perf_counter()
                    await asyncio.sleep(0.001)
                    late.append((time.perf_counter() - t - 0.001) * 1000)

            task = asyncio.create_task(ticker())
            started = time.perf_counter()
            compacted = await store.samples.compact(time.time())
            took = time.perf_counter() - started
            done.set()
            await task
        finally:
            await store.close()
    late.sort()
    return {"compacted": compacted, "s": took, "ticks": len(late), "p50": late[len(late) // 2],
            "p99": late[int(len(late) * 0.99)], "max": late[-1]}


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args(argv)
    if not 100 <= args.nodes <= 20_000 or not 1 <= args.rounds <= 10:
        raise SystemExit("--nodes 100-20000, --rounds 1-10")
    sample, _ = SHAPES["desktop8"].make(0)
    start = (time.time() // 60 - 5) * 60
    minute = [sample(t) for t in timestamps(start, 60, random.Random(0))]
    for r in range(args.rounds):
        for offload in (False, True):
            m = asyncio.run(one(args.nodes, offload, minute))
            print(f"round {r + 1}, {'worker process' if offload else 'reader thread '}: {m['compacted']} node-minutes "
                  f"in {m['s']:.1f} s; loop ticks {m['ticks']} ({m['ticks'] / m['s']:.0f}/s); wake-up late "
                  f"p50 {m['p50']:.2f} ms, p99 {m['p99']:.1f} ms, max {m['max']:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
