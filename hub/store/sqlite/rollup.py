"""Downsampled tiers: 1-minute and 1-hour averages of raw samples, same shape as a sample.

Ingest queues the (node, minute) buckets it touched in the `rollup_queue` table, in the
same transaction as the samples; the rollup recomputes queued minutes once they are over,
and each minute written queues its hour. An entry leaves the queue only in the
transaction that writes its average, so a crash or a failed write leaves it queued for
the next round. Late samples from an agent's offline buffer queue old buckets again, so
tiers stay right. What an average is (keyed lists, what is left out) is hub/store/averaging.py,
shared with the PostgreSQL backend.
"""
from __future__ import annotations

import functools
import json
import re
from typing import TYPE_CHECKING

from ..averaging import bucket_average, sample_leaves

if TYPE_CHECKING:
    from .db import Database

MINUTE_MS = 60_000
HOUR_MS = 3_600_000
DAY_MS = 86_400_000


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


def sql_leaves(latest: str, leaves: list[tuple]) -> tuple[dict, list[tuple]]:
    """`Database.bucket_leaves`' answer as `averaging.bucket_average` takes it: the latest sample
    decoded, each json_tree full key as steps (keyed lists' rows already are), each latest
    string or boolean (a JSON literal after a 16-digit ts) decoded."""
    out = []
    for path, mean, last in leaves:
        steps = path_steps(path) if isinstance(path, str) else path
        out.append((steps, mean, json.loads(last[16:]) if last else None))
    return json.loads(latest), out


def averages(db: Database, source: str, buckets: list[tuple[str, int, int]], width: int) -> list[tuple]:
    """(node, bucket, n, averaged sample) rows for queued buckets (node, start ms, gen) of one
    source table. Reads only, so it runs on a reader thread and never holds up the writer;
    one read transaction, so a compaction committing meanwhile is seen wholly or not at all.
    A minute still in rows is averaged inside SQLite; one that is (partly) a compacted block
    is decoded and averaged in Python the same way (`averaging.sample_leaves`)."""
    out = []
    with db.read_tx() as c:
        for node_id, bucket, _ in buckets:
            if source == "samples" and db.has_block(node_id, bucket, c):
                samples, _ = db.minute_samples(node_id, bucket, c)
            elif source == "samples_1m" and db.has_tier_block("1m", node_id, bucket, c):
                samples = [avg for _, _, avg in db.tier_group("1m", node_id, bucket, c)[0]]
            else:
                samples = None
            if samples is not None:
                n, latest, leaves = sample_leaves(samples)
            else:
                n, text, sql = db.bucket_leaves(node_id, bucket, bucket + width, source)
                latest, leaves = sql_leaves(text, sql) if text is not None else (None, [])
            if latest is not None:
                avg = bucket_average(latest, leaves)
                avg["ts"] = bucket / 1000
                out.append((node_id, bucket, n, avg))
    return out
