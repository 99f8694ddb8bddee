"""Downsampled tiers: 1-minute and 1-hour averages of raw samples, same shape as a sample.

Ingest queues the (node, minute) buckets it touched in the `rollup_queue` table, in the
same transaction as the samples; the rollup recomputes queued minutes once they are over,
and each minute written queues its hour. An entry leaves the queue only in the
transaction that writes its average, so a crash or a failed write leaves it queued for
the next round. Late samples from an agent's offline buffer queue old buckets again, so
tiers stay right.
"""
from __future__ import annotations

import functools
import json
import re
from typing import Any, TYPE_CHECKING

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


def averages(db: Database, source: str, buckets: list[tuple[str, int, int]], width: int) -> list[tuple]:
    """(node, bucket, n, averaged sample) rows for queued buckets (node, start ms, gen) of one
    source table. Reads only, so it runs on a reader thread and never holds up the writer;
    one read transaction, so a compaction committing meanwhile is seen wholly or not at all.
    A minute still in rows is averaged inside SQLite; one that is (partly) a compacted block
    is decoded and averaged here the same way (`sample_leaves`)."""
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
                if latest is not None:
                    avg = _average_of(latest, leaves)
                    avg["ts"] = bucket / 1000
                    out.append((node_id, bucket, n, avg))
                continue
            n, latest, leaves = db.bucket_leaves(node_id, bucket, bucket + width, source)
            if latest is not None:
                avg = bucket_average(latest, leaves)
                avg["ts"] = bucket / 1000
                out.append((node_id, bucket, n, avg))
    return out


def _leaves(value: Any, steps: tuple, out: list) -> None:
    t = type(value)
    if t is dict:
        for k, v in value.items():
            _leaves(v, steps + (k,), out)
    elif t is list:
        for i, v in enumerate(value):
            _leaves(v, steps + (i,), out)
    else:
        out.append((steps, value))


def sample_leaves(samples: list[dict]) -> tuple[int, dict | None, list[tuple[tuple, float | None, Any]]]:
    """What `Database.bucket_leaves` computes in SQL, over decoded samples (oldest first):
    the count, the latest sample, and per leaf path the mean of its numbers, or, only when
    the bucket changed shape, the latest string or boolean given."""
    if not samples:
        return 0, None, []
    sums: dict[tuple, list] = {}
    texts: dict[tuple, Any] = {}
    for s in samples:
        flat: list = []
        _leaves(s, (), flat)
        for steps, v in flat:
            t = type(v)
            if t is int or t is float:
                acc = sums.get(steps)
                if acc is None:
                    sums[steps] = [v, 1]
                else:
                    acc[0] += v
                    acc[1] += 1
            elif t is str or t is bool:
                texts[steps] = v
    latest = samples[-1]
    flat = []
    _leaves(latest, (), flat)
    in_latest = {steps for steps, v in flat if type(v) is int or type(v) is float}
    means = [(steps, total / count, None) for steps, (total, count) in sums.items()]
    if in_latest == sums.keys():
        return len(samples), latest, means
    return len(samples), latest, means + [(steps, None, v) for steps, v in texts.items()]


def _average_of(latest: dict, leaves: list[tuple[tuple, float | None, Any]]) -> dict:
    out = json.loads(json.dumps(latest))
    for steps, mean, last in leaves:
        value = round(mean, 3) if mean is not None else last
        if value is not None:
            put_leaf(out, steps, value)
    return out
