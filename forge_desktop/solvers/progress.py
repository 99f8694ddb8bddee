"""Rate-limited progress reports from inside a solver's callback."""

from __future__ import annotations

import math
import threading
import time
from typing import Callable

from forge_contracts.jobtypes.payload import Progress


def relative_gap(incumbent: float | None, bound: float | None) -> float | None:
    """|incumbent - bound| / max(|incumbent|, 1e-9), the gap HiGHS and CP-SAT report."""
    if incumbent is None or bound is None or not (math.isfinite(incumbent) and math.isfinite(bound)):
        return None
    return abs(incumbent - bound) / max(abs(incumbent), 1e-9)


class ProgressThrottle:
    """Forward solver progress to `progress` at most once per `interval` seconds.

    The solvers call back far more often than the hub wants to hear; the first
    report goes through at once so a watcher sees the first incumbent early.
    """

    def __init__(self, progress: Progress | None, interval: float = 1.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._progress = progress
        self._interval = interval
        self._clock = clock
        self._start = clock()
        self._last: float | None = None
        self._lock = threading.Lock()

    def elapsed(self) -> float:
        return self._clock() - self._start

    def report(self, incumbent: float | None, bound: float | None, percent: float | None = None,
               force: bool = False) -> None:
        if self._progress is None:
            return
        with self._lock:
            now = self._clock()
            if not force and self._last is not None and now - self._last < self._interval:
                return
            self._last = now
        event: dict = {
            "incumbent": _finite_or_none(incumbent),
            "bound": _finite_or_none(bound),
            "gap": relative_gap(incumbent, bound),
            "elapsed": round(now - self._start, 3),
        }
        if percent is not None:
            event["percent"] = max(0.0, min(100.0, percent))
        self._progress(event)


def _finite_or_none(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return float(value)
