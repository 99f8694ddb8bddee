"""Scenario sweeps: one base problem and a parameter grid become a batch of jobs.

A grid maps a parameter to a list of multipliers (or values):
`{"type": "prodplan", "base": {...}, "grid": {"capacity": [0.8, 1.0, 1.2],
"setup_cost": [0.5, 1, 2]}}` makes 9 jobs, each labelled with its factors.
"""
from __future__ import annotations

import copy
import itertools
from typing import Any

MAX_JOBS = 1000


class SweepError(ValueError):
    pass


def _scale(value: Any, factor: float) -> Any:
    if isinstance(value, list):
        return [_scale(v, factor) for v in value]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value * factor
    raise SweepError(f"cannot scale a {type(value).__name__}")


def apply(base: dict, param: str, factor: float) -> dict:
    """Scale `param` in a payload: a top-level field, or a field of every item."""
    out = copy.deepcopy(base)
    if param in out:
        out[param] = _scale(out[param], factor)
        return out
    items = out.get("items")
    if isinstance(items, list) and items and all(isinstance(i, dict) and param in i for i in items):
        for i in items:
            i[param] = _scale(i[param], factor)
        return out
    raise SweepError(f"parameter {param!r} is neither a payload field nor a field of every item")


def expand(spec: Any) -> tuple[list[dict], dict]:
    if not isinstance(spec, dict):
        raise SweepError("must be an object with 'type', 'base' and 'grid'")
    t, base, grid = spec.get("type"), spec.get("base"), spec.get("grid")
    if not isinstance(t, str):
        raise SweepError("'type' must name a job type")
    if not isinstance(base, dict):
        raise SweepError("'base' must be the base payload object")
    if not isinstance(grid, dict) or not grid:
        raise SweepError("'grid' must map parameters to lists of factors")
    size = 1
    for factors in grid.values():  # before building anything: a 15 KB grid can name billions of jobs
        size *= len(factors) if isinstance(factors, list) else 1
        if size > MAX_JOBS:
            raise SweepError(f"the grid makes more than {MAX_JOBS} jobs; at most {MAX_JOBS}")
    axes = []
    for param, factors in grid.items():
        if not isinstance(factors, list) or not factors or not all(
                isinstance(f, (int, float)) and not isinstance(f, bool) and f >= 0 for f in factors):
            raise SweepError(f"grid.{param} must be a non-empty list of non-negative factors")
        axes.append([(param, f) for f in factors])
    combos = list(itertools.product(*axes))
    jobs = []
    for combo in combos:
        payload = base
        for param, f in combo:
            payload = apply(payload, param, f)
        label = ", ".join(f"{p}×{f:g}" for p, f in combo)
        jobs.append({"type": t, "payload": payload, "priority": spec.get("priority", 0),
                     "label": label})
    return jobs, {"type": t, "grid": grid, "label": spec.get("label")}
