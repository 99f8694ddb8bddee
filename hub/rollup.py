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

    def compute(self, ready: set[tuple[str, int]]) -> int:
        """Recompute the given minute buckets and their hours (runs on the store's writer thread)."""
        hours: set[tuple[str, int]] = set()
        for node_id, bucket in sorted(ready):
            self._bucket("samples", "samples_1m", node_id, bucket, MINUTE_MS)
            hours.add((node_id, bucket // HOUR_MS * HOUR_MS))
        for node_id, bucket in sorted(hours):
            self._bucket("samples_1m", "samples_1h", node_id, bucket, HOUR_MS)
        return len(ready)

    def _bucket(self, source: str, target: str, node_id: str, bucket: int, width: int) -> None:
        rows = self.store.raw_between(node_id, bucket, bucket + width, source)
        if not rows:
            return
        avg = average(rows)
        avg["ts"] = bucket / 1000
        self.store.put_rollup(target, node_id, bucket, len(rows), avg)
