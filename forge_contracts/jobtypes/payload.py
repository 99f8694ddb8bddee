"""Payload checking shared by the job types: the error type and field readers.

Every reader names the field (as a dotted path like `payload.items[2].demand`)
and the reason, so a person reading the hub's 400 answer knows what to fix.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

Progress = Callable[[dict], None]


class PayloadError(ValueError):
    """A job payload that cannot be solved, with the offending field and why."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def number(value: Any, field: str, *, minimum: float | None = None, positive: bool = False,
           integer: bool = False) -> float:
    """A finite number (not a bool), optionally integer, positive or >= minimum."""
    if not is_number(value):
        raise PayloadError(field, f"must be a number, got {value!r}")
    if integer and float(value) != int(value):
        raise PayloadError(field, f"must be a whole number, got {value!r}")
    if positive and value <= 0:
        raise PayloadError(field, f"must be a positive number, got {value!r}")
    if minimum is not None and value < minimum:
        raise PayloadError(field, f"must be at least {minimum:g}, got {value!r}")
    return int(value) if integer else float(value)


def optional_number(payload: dict, key: str, default: float | None, prefix: str = "payload",
                    **checks: Any) -> float | None:
    if key not in payload or payload[key] is None:
        return default
    return number(payload[key], f"{prefix}.{key}", **checks)


def boolean(payload: dict, key: str, default: bool, prefix: str = "payload") -> bool:
    value = payload.get(key, default)
    if not isinstance(value, bool):
        raise PayloadError(f"{prefix}.{key}", f"must be true or false, got {value!r}")
    return value


def time_limit(payload: dict, default: float, maximum: float = 7 * 24 * 3600.0) -> float:
    """`payload.time_limit` in seconds: positive, at most a week."""
    value = optional_number(payload, "time_limit", default, positive=True)
    assert value is not None
    if value > maximum:
        raise PayloadError("payload.time_limit", f"must be at most {maximum:g} seconds, got {value:g}")
    return value


def threads(payload: dict, default: int = 1, maximum: int = 256) -> int:
    value = optional_number(payload, "threads", default, integer=True, minimum=1)
    assert value is not None
    if value > maximum:
        raise PayloadError("payload.threads", f"must be at most {maximum}, got {value}")
    return int(value)


MAX_SEED = 2**31 - 1


def seed(payload: dict) -> int:
    """`payload.seed`: the solver's random seed, 0 (the solvers' own default) when absent.

    With one thread and one model, the same seed replays the same search on the same
    solver version; another seed explores in another order, which moves MIP solve times
    by 2-3x on some models (docs/PERFORMANCE.md), so comparing settings needs several
    seeds.
    """
    value = optional_number(payload, "seed", 0, integer=True, minimum=0)
    assert value is not None
    if value > MAX_SEED:
        raise PayloadError("payload.seed", f"must be at most {MAX_SEED}, got {value}")
    return int(value)


METADATA_KEYS = frozenset({"name", "source", "known_optimum", "description", "scenario", "tags"})
"""Keys any payload may carry for people and sweeps; solvers ignore them."""


def reject_unknown(payload: dict, allowed: set[str], prefix: str = "payload") -> None:
    """Refuse misspelt options (`time_limt`) instead of silently ignoring them."""
    unknown = sorted(set(payload) - allowed - METADATA_KEYS)
    if unknown:
        raise PayloadError(f"{prefix}.{unknown[0]}",
                           f"unknown field; expected one of {', '.join(sorted(allowed))}")


@dataclass(frozen=True)
class ModelShape:
    """What an MPS or LP model declares: constraint rows (objective rows apart), columns
    (variables), integer columns."""
    rows: int
    columns: int
    integers: int

    def text(self) -> str:
        ints = f" ({self.integers} integer)" if self.integers else ""
        return f"{self.rows} rows, {self.columns} columns{ints}"
