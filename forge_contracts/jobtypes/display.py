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


def ago(seconds: float | None) -> str:
    """"just now", "45 s ago", "12 min ago", "3 h ago", "2 d ago" (the hub's sentences and the
    desktop windows)."""
    if not _finite(seconds):
        return "never"
    s = max(0, int(seconds))
    if s < 5:
        return "just now"
    if s < 60:
        return f"{s} s ago"
    if s < 3600:
        return f"{s // 60} min ago"
    return f"{s // 3600} h ago" if s < 86400 else f"{s // 86400} d ago"


def seconds(s: float | None) -> str:
    if not _finite(s):
        return "–"
    if s < 1:
        return f"{round(s * 1000)} ms"
    if s < 60:
        return f"{s:.{2 if s < 10 else 1}f} s"
    return duration(s)


def job_time_limit(job: dict) -> float | None:
    """The job's time limit: given in its progress or payload, else implied by the solver's
    last report (elapsed at percent of the limit; the job list's rows carry no payload)."""
    progress = job.get("progress") if isinstance(job.get("progress"), dict) else {}
    for source in (progress, job.get("payload")):
        limit = source.get("time_limit") if isinstance(source, dict) else None
        if _finite(limit) and limit > 0:
            return float(limit)
    elapsed, pct = progress.get("elapsed"), progress.get("percent")
    if _finite(elapsed) and _finite(pct) and 1 <= pct < 100 and elapsed > 1:
        return round(elapsed * 100 / pct)
    return None


def time_share(job: dict, now: float | None = None) -> float | None:
    """The share of its time limit a running job has used: from its start and `now` when the
    limit is known (a window keeps it current between reports), else the share the solver
    reports. The gap is a separate figure: a small gap says nothing about how long is left."""
    progress = job.get("progress") if isinstance(job.get("progress"), dict) else {}
    limit = job_time_limit(job)
    if limit and job.get("claimed_at") and now is not None:
        return min(1.0, max(0.0, (now - job["claimed_at"]) / limit))
    pct = progress.get("percent")
    if _finite(pct):
        return min(1.0, max(0.0, pct / 100))
    return None


def solver_progress_text(progress: dict | None, job: dict | None = None, now: float | None = None) -> str:
    """`42 % of the 5 min limit · best 57 · bound 55 · gap 3.51 % · 2.10 s used` from a solver's
    progress report. The hub serves it without `now` (the report's own figures); the desktop
    window passes its clock so the share and the time used move on between reports."""
    if not isinstance(progress, dict):
        return "starting…"
    bits = []
    job = job or {"progress": progress}
    share = time_share(job, now)
    limit = job_time_limit(job)
    if share is not None:
        bits.append(f"{math.floor(share * 100)} % of the {duration(limit)} limit" if limit
                    else f"{math.floor(share * 100)} % of the time limit")
    for key, name in (("incumbent", "best"), ("bound", "bound")):
        if progress.get(key) is not None:
            bits.append(f"{name} {value(progress[key])}")
    if progress.get("gap") is not None:
        bits.append(f"gap {gap_text(progress['gap'])}")
    if job.get("claimed_at") and now is not None:
        bits.append(f"{duration(now - job['claimed_at'])} used")
    elif progress.get("elapsed") is not None:
        bits.append(f"{seconds(progress['elapsed'])} used")
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
