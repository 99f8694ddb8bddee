"""Putting a bucket's per-leaf averages (computed in SQL) back into the shape of a sample."""
from __future__ import annotations

import copy
from typing import Any


def put_leaf(root: dict, steps: list[str | int], value: object) -> None:
    """Set root[steps...] = value, making the dicts and lists on the way (lists padded with
    nulls) where the latest sample lacks them."""
    node: Any = root
    for step, nxt in zip(steps, [*steps[1:], None]):
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


def bucket_average(latest: dict, leaves: list[tuple[list, float | None, object]]) -> dict:
    """The averaged sample of one bucket, shaped like its latest sample: every number is its
    mean over the bucket (nulls ignored, lists element-wise), every string or boolean the
    latest one given. `leaves` are (path, mean, latest non-number) with paths as lists of
    keys and indexes."""
    out = copy.deepcopy(latest)
    for path, mean, last in leaves:
        value = round(mean, 3) if mean is not None else last
        if value is not None and path:
            put_leaf(out, [int(p) if isinstance(p, (int, float)) else p for p in path], value)
    return out
