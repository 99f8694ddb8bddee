"""disk_fill_hours: hours until a mount is full, from a least-squares line through its recent use.

Each mount keeps one point (time, used bytes) per STEP_S over the last WINDOW_S, in two arrays
of doubles (about 3 KB a mount). The slope of the ordinary least-squares fit through those
points is the fill rate; the forecast is free bytes / rate. A mount that is flat or emptying,
or that has fewer than MIN_POINTS points spanning MIN_SPAN_S, has no forecast (None), so an
hour of noise right after a start never alerts.
"""
from __future__ import annotations

from array import array

STEP_S = 60.0
WINDOW_S = 3 * 3600.0
MIN_POINTS = 5
MIN_SPAN_S = 600.0


def slope(ts: array | list[float], ys: array | list[float]) -> float | None:
    """The least-squares slope of ys over ts; None when ts has no spread."""
    n = len(ts)
    if n < 2:
        return None
    mt, my = sum(ts) / n, sum(ys) / n
    var = sum((t - mt) ** 2 for t in ts)
    if var <= 0:
        return None
    return sum((t - mt) * (y - my) for t, y in zip(ts, ys)) / var


class MountTrend:
    __slots__ = ("ts", "used", "total")

    def __init__(self) -> None:
        self.ts, self.used, self.total = array("d"), array("d"), 0.0

    def add(self, ts: float, used: float, total: float) -> None:
        self.total = total
        if self.ts and ts - self.ts[-1] < STEP_S:
            self.used[-1] = used  # keep the newest reading of the current step
            return
        self.ts.append(ts)
        self.used.append(used)
        while self.ts and ts - self.ts[0] > WINDOW_S:
            del self.ts[0]
            del self.used[0]

    def hours_to_full(self) -> float | None:
        if len(self.ts) < MIN_POINTS or self.ts[-1] - self.ts[0] < MIN_SPAN_S:
            return None
        t0 = self.ts[0]
        rate = slope([t - t0 for t in self.ts], self.used)
        if rate is None or rate <= 0:
            return None
        return max(self.total - self.used[-1], 0.0) / rate / 3600.0


class DiskForecast:
    """Trends of every mount of one node; the forecast is the soonest to fill."""
    __slots__ = ("mounts",)

    def __init__(self) -> None:
        self.mounts: dict[str, MountTrend] = {}

    def add(self, sample: dict) -> None:
        disk = sample.get("disk")
        mounts = disk.get("mounts") if isinstance(disk, dict) else None
        if not isinstance(mounts, list):
            return
        ts = float(sample["ts"])
        for m in mounts:
            try:
                name, used, total = str(m["mount"]), float(m["used"]), float(m["total"])
            except (KeyError, TypeError, ValueError):
                continue
            self.mounts.setdefault(name, MountTrend()).add(ts, used, total)

    def hours_to_full(self) -> float | None:
        hours = [h for h in (m.hours_to_full() for m in self.mounts.values()) if h is not None]
        return min(hours) if hours else None
