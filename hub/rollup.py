"""Downsampled tiers: 1-minute and 1-hour averages of raw samples, same shape as a sample.

Ingest marks the (node, minute) buckets it touched; the rollup task recomputes the
marked buckets once their minute is over. Late samples from an agent's offline
buffer simply mark old buckets again, so tiers stay right.
"""
from __future__ import annotations

import functools
import json
import re
from typing import Any

from .store import Store, ts_ms

MINUTE_MS = 60_000
HOUR_MS = 3_600_000


_STEP = re.compile(r'\.("(?:[^"\\]|\\.)*"|[^.\[]+)|\[(\d+)\]')


@functools.lru_cache(maxsize=4096)
def path_steps(fullkey: str) -> tuple[str | int, ...]:
    """SQLite json_tree full key (`$.cpu."per_core"[1]`) as steps: ["cpu", "per_core", 1]."""
    if not fullkey.startswith("$"):
        raise ValueError(f"not a JSON path: {fullkey!r}")
    steps: list[str | int] = []
    pos = 1
    for m in _STEP.finditer(fullkey, 1):
        if m.start() != pos:
            raise ValueError(f"not a JSON path: {fullkey!r}")
        key, index = m.groups()
        steps.append(int(index) if index is not None else json.loads(key) if key.startswith('"') else key)
        pos = m.end()
    if pos != len(fullkey):
        raise ValueError(f"not a JSON path: {fullkey!r}")
    return tuple(steps)


def put_leaf(root: dict, steps: tuple[str | int, ...], value: object) -> None:
    """Set root[steps...] = value, making the dicts and lists on the way (lists padded with
    nulls) where the latest sample lacks them."""
    node: Any = root
    for step, nxt in zip(steps, steps[1:] + (None,)):
        if isinstance(step, int):
            node.extend([None] * (step + 1 - len(node)))
        if nxt is None:
            node[step] = value
            return
        child = node[step] if isinstance(step, int) else node.get(step)
        if not isinstance(child, list if isinstance(nxt, int) else dict):
            child = [] if isinstance(nxt, int) else {}
            node[step] = child
        node = child


def bucket_average(latest: str, leaves: list[tuple[str, float | None, str | None]]) -> dict:
    """The averaged sample of one bucket, shaped like its latest sample: every number is its
    mean over the bucket (nulls ignored, lists element-wise), every string or boolean the
    latest one given."""
    out = json.loads(latest)
    for fullkey, mean, last in leaves:
        value = round(mean, 3) if mean is not None else json.loads(last[16:]) if last else None
        if value is not None:
            put_leaf(out, path_steps(fullkey), value)
    return out


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
            n, latest, leaves = self.store.bucket_leaves(node_id, bucket, bucket + width, source)
            if latest is not None:
                avg = bucket_average(latest, leaves)
                avg["ts"] = bucket / 1000
                out.append((node_id, bucket, n, avg))
        return out

    def compute(self, ready: set[tuple[str, int]]) -> int:
        """Recompute the given minute buckets and their hours, synchronously (tests, shutdown)."""
        self.store.put_rollups("samples_1m", self.averages("samples", ready, MINUTE_MS))
        self.store.put_rollups("samples_1h", self.averages("samples_1m", hours_of(ready), HOUR_MS))
        return len(ready)


def hours_of(minutes: set[tuple[str, int]]) -> set[tuple[str, int]]:
    return {(node_id, bucket // HOUR_MS * HOUR_MS) for node_id, bucket in minutes}
