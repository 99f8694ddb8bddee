"""Cost of one ``Collector.sample()`` on this machine: median and p95 over N calls.

    python bench/collector_bench.py [--calls 200] [--budget-s 20]

The agent samples once per second, so a sample should cost a small fraction of
that (goal: median under 5 ms, p95 under 20 ms on a 2-core VM). Calls run back
to back, which is harsher than the real 1 s cadence (rates see tiny intervals)
but measures the same syscalls. The run stops early once the time budget is spent.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from forge_desktop.collector import Collector  # noqa: E402


def measure(calls: int, budget_s: float) -> list[float]:
    collector = Collector()
    collector.sample()
    durations: list[float] = []
    deadline = time.monotonic() + budget_s
    while len(durations) < calls and time.monotonic() < deadline:
        start = time.perf_counter()
        collector.sample()
        durations.append(time.perf_counter() - start)
    return durations


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="benchmark Collector.sample()")
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--budget-s", type=float, default=20.0)
    args = parser.parse_args(argv)
    durations = measure(args.calls, args.budget_s)
    median_ms = statistics.median(durations) * 1000
    p95_ms = percentile(durations, 0.95) * 1000
    print(f"sample(): {len(durations)} calls, median {median_ms:.2f} ms, "
          f"p95 {p95_ms:.2f} ms, max {max(durations) * 1000:.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
