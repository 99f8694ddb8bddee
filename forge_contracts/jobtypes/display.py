"""How job numbers read to people: the one copy the hub serves as `summary` and
`progress_text`, so the dashboard, the desktop app and the CLI all show the same line."""

from __future__ import annotations

import math
from typing import Any


def value(v: Any) -> str:
    """A number as people read it: integers whole with separators, others to a few digits."""
    if v is None:
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if not isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, float) and not math.isfinite(v):
        return str(v)
    if isinstance(v, int) or float(v).is_integer():
        return f"{int(v):,}"
    a = abs(v)
    if a >= 1000:
        return f"{v:,.1f}".rstrip("0").rstrip(".")
    if a >= 1:
        return f"{v:.3f}".rstrip("0").rstrip(".")
    return f"{v:.3g}"


def gap_text(g: float | None) -> str:
    if not _finite(g):
        return "–"
    return "0 %" if g == 0 else f"{g * 100:.{3 if g < 0.001 else 2}f} %"


def duration(s: float | None) -> str:
    """Compact: 45 s, 12 min, 3 h 5 min, 4 d 2 h."""
    if not _finite(s):
        return "–"
    s = max(0, int(s))
    if s < 60:
        return f"{s} s"
    m = s // 60
    if m < 60:
        return f"{m} min"
    h = m // 60
    return f"{h} h {m % 60} min" if h < 24 else f"{h // 24} d {h % 24} h"


def seconds(s: float | None) -> str:
    if not _finite(s):
        return "–"
    if s < 1:
        return f"{round(s * 1000)} ms"
    if s < 60:
        return f"{s:.{2 if s < 10 else 1}f} s"
    return duration(s)


def progress_share(progress: dict | None) -> float | None:
    """The share done: the time-limit share the solver reports, or 1 - gap when that is
    further along (a MIP closing its gap long before its time limit)."""
    if not isinstance(progress, dict):
        return None
    pct, gap = progress.get("percent"), progress.get("gap")
    by_time = pct / 100 if _finite(pct) else None
    by_gap = max(0.0, 1 - gap) if _finite(gap) else None
    if by_time is None and by_gap is None:
        return None
    return min(1.0, max(by_time or 0.0, by_gap or 0.0))


def solver_progress_text(progress: dict | None) -> str:
    """`42 % · best 57 · bound 55 · gap 3.51 % · 2.10 s` from a solver's progress report."""
    if not isinstance(progress, dict):
        return "starting…"
    bits = []
    share = progress_share(progress)
    if share is not None:
        bits.append(f"{math.floor(share * 100)} %")
    for key, name in (("incumbent", "best"), ("bound", "bound")):
        if progress.get(key) is not None:
            bits.append(f"{name} {value(progress[key])}")
    if progress.get("gap") is not None:
        bits.append(f"gap {gap_text(progress['gap'])}")
    if progress.get("elapsed") is not None:
        bits.append(seconds(progress["elapsed"]))
    return " · ".join(bits) or "running"


def objective_summary(result: dict) -> str:
    """`objective 1,234.5 · gap 0.50 %` (or the solver status when the gap is closed)."""
    parts = [f"objective {value(result.get('objective'))}"]
    if result.get("gap"):
        parts.append(f"gap {gap_text(result['gap'])}")
    elif result.get("status"):
        parts.append(str(result["status"]))
    return " · ".join(parts)


def generic_summary(result: dict) -> str:
    """The first three fields, for job types without a summary of their own."""
    return " · ".join(f"{k} {value(v)}" for k, v in list(result.items())[:3])


def _finite(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
