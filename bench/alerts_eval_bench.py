"""What alert evaluation costs the hub, in process: the ingest hook and the 1 s timer.

    python bench/alerts_eval_bench.py --nodes 10000

The engine of a fresh hub (the 5 stock rules, on a real SQLite store in a temp folder)
with `--nodes` nodes: (1) `observe`, what each push adds to the ingest request (the
newest of 5 samples shaped like a real agent's, none breaching a rule), per call; (2)
`tick`, the 1 s timer (offline rules over every node), per tick. CPU time
(time.process_time), medians of `--repeat` rounds, so a busy shared machine inflates
them less than wall-clock figures. Printed with what they are per second at the paced
rate of bench/ingest_bench.py (2,000 pushes/s for 10,000 nodes at 5 s).
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from ingest_bench import fake_sample

from hub.alerts.engine import Engine
from hub.store import open_store, sqlite_url


async def measure(nodes: int, rounds: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        store = await open_store(sqlite_url(Path(tmp) / "forge.db"))
        try:
            eng = Engine(store.alerts, 60.0)
            await eng.load([])
            assert len(eng.rules) == 5
            ids = [f"sim-{i:05d}" for i in range(nodes)]
            ident = {"hostname": "sim", "os": "Linux", "cores": 8}
            t = 1_800_000_000.0
            batches = [[fake_sample(t + k) for k in range(5)] for _ in range(64)]
            for i, n in enumerate(ids):  # every node known, one push each
                eng.observe(n, ident, max(batches[i % 64], key=lambda s: s["ts"]), t)
            observe_us, tick_ms = [], []
            for r in range(rounds):
                t += 5
                for b in batches:
                    for s in b:
                        s["ts"] = s["ts"] + 5
                newest = [max(b, key=lambda s: s["ts"]) for b in batches]
                c0 = time.process_time()
                for i, n in enumerate(ids):
                    eng.observe(n, ident, newest[i % 64], t + i * 1e-4)
                observe_us.append((time.process_time() - c0) / nodes * 1e6)
                c0 = time.process_time()
                for _ in range(5):
                    eng.tick(t + 1)
                tick_ms.append((time.process_time() - c0) / 5 * 1e3)
            assert eng.pending_ops() == 0, "a fake sample breached a stock rule"
            return {"observe_us": statistics.median(observe_us), "tick_ms": statistics.median(tick_ms)}
        finally:
            await store.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, default=10000)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--rate", type=float, default=2000, help="pushes/s to scale the per-call cost to")
    a = ap.parse_args()
    r = asyncio.run(measure(a.nodes, a.repeat))
    per_s = r["observe_us"] * a.rate / 1e3 + r["tick_ms"]
    print(f"{a.nodes} nodes x 5 stock rules: observe {r['observe_us']:.1f} us per push, tick {r['tick_ms']:.2f} ms; "
          f"at {a.rate:.0f} pushes/s: {per_s:.1f} ms of CPU per second ({per_s / 10:.2f} % of one core)")


if __name__ == "__main__":
    main()
