"""Downsampled tiers: 1-minute and 1-hour averages of raw samples, same shape as a sample.

Ingest marks the (node, minute) buckets it touched; the rollup task recomputes the
marked buckets once their minute is over. Late samples from an agent's offline
buffer simply mark old buckets again, so tiers stay right.
"""
from __future__ import annotations

from typing import Any

from .store import Store, ts_ms

MINUTE_MS = 60_000
HOUR_MS = 3_600_000


def average(samples: list[Any]) -> Any:
    """Average numbers leaf by leaf, ignoring nulls; lists element-wise; strings from the last."""
    present = [s for s in samples if s is not None]
    if not present:
        return None
    first = present[-1]
    if isinstance(first, bool):
        return first
    if isinstance(first, (int, float)):
        nums = [float(s) for s in present if isinstance(s, (int, float)) and not isinstance(s, bool)]
        return round(sum(nums) / len(nums), 3) if nums else None
    if isinstance(first, dict):
        keys: dict[str, None] = {}
        for s in present:
            if isinstance(s, dict):
                keys.update(dict.fromkeys(s))
        return {k: average([s.get(k) if isinstance(s, dict) else None for s in present]) for k in keys}
    if isinstance(first, list):
        width = max(len(s) for s in present if isinstance(s, list))
        return [average([s[i] if isinstance(s, list) and i < len(s) else None for s in present])
                for i in range(width)]
    return first


class Rollups:
    def __init__(self, store: Store):
        self.store = store
        self.dirty_minutes: set[tuple[str, int]] = set()

    def mark(self, node_id: str, samples: list[dict]) -> None:
        for s in samples:
            self.dirty_minutes.add((node_id, ts_ms(s["ts"]) // MINUTE_MS * MINUTE_MS))

    def take_ready(self, now: float) -> set[tuple[str, int]]:
        """Finished dirty minutes, removed from the dirty set (call on the event loop)."""
        current = ts_ms(now) // MINUTE_MS * MINUTE_MS
        ready = {b for b in self.dirty_minutes if b[1] < current}
        self.dirty_minutes -= ready
        return ready

    def averages(self, source: str, buckets: set[tuple[str, int]], width: int) -> list[tuple]:
        """(node, bucket, n, averaged sample) rows for the given buckets. Reads only, so it runs
        on a reader thread and never holds up the writer."""
        out = []
        for node_id, bucket in sorted(buckets):
            rows = self.store.raw_between(node_id, bucket, bucket + width, source)
            if rows:
                avg = average(rows)
                avg["ts"] = bucket / 1000
                out.append((node_id, bucket, len(rows), avg))
        return out

    def compute(self, ready: set[tuple[str, int]]) -> int:
        """Recompute the given minute buckets and their hours, synchronously (tests, shutdown)."""
        self.store.put_rollups("samples_1m", self.averages("samples", ready, MINUTE_MS))
        self.store.put_rollups("samples_1h", self.averages("samples_1m", hours_of(ready), HOUR_MS))
        return len(ready)


def hours_of(minutes: set[tuple[str, int]]) -> set[tuple[str, int]]:
    return {(node_id, bucket // HOUR_MS * HOUR_MS) for node_id, bucket in minutes}
