"""What a job says in words in the native windows: its status as a person should read it, its
progress against the time limit, why it waits, a one-line summary. Numbers read as
forge_contracts.jobtypes.display writes them, shared with the hub's summaries."""
from __future__ import annotations

import math
import time

from forge_contracts.jobtypes.display import duration, gap_text, seconds, value

from . import theme as th

STATUSES = ("pending", "running", "succeeded", "failed", "cancelled")
FINAL = frozenset(("succeeded", "failed", "cancelled"))
STATUS_COLORS = {"pending": "#6b7280", "running": "#2f6fd6", "succeeded": "#2e9d58", "failed": "#b3261e",
                 "cancelled": "#7a7f87", "accepted": "#2e9d58", "retry": "#d9822b", "late": "#7a7f87",
                 "released": "#7a7f87", "duplicate": "#7a7f87", "infeasible": th.LIGHT.warn,
                 "no solution": th.LIGHT.warn}
NO_SOLUTION = frozenset(("infeasible", "unbounded", "infeasible_or_unbounded", "no_solution", "model_invalid",
                         "unknown", "error"))
"""Result statuses of a job that ran to its end without a usable answer: amber, never a green success."""


def ago(s: float | None) -> str:
    if s is None or not math.isfinite(s):
        return "never"
    return "just now" if s < 2 else f"{duration(s)} ago"


def when(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts)) if ts else "–"


def time_limit(job: dict) -> float | None:
    """The job's time limit: given in its payload or progress, else implied by the solver's last
    report (elapsed at percent of the limit; list rows carry no payload)."""
    progress = job.get("progress") if isinstance(job.get("progress"), dict) else {}
    for source in (progress, job.get("payload")):
        limit = source.get("time_limit") if isinstance(source, dict) else None
        if isinstance(limit, (int, float)) and limit > 0:
            return float(limit)
    elapsed, pct = progress.get("elapsed"), progress.get("percent")
    if isinstance(elapsed, (int, float)) and isinstance(pct, (int, float)) and 1 <= pct < 100 and elapsed > 1:
        return round(elapsed * 100 / pct)
    return None


def time_share(job: dict, now: float | None = None) -> float | None:
    """The share of its time limit a running job has used: from its start and the hub's clock
    when the limit is known (kept current between reports), else the share the solver reports.
    The gap is a separate figure: a small gap says nothing about how long is left."""
    progress = job.get("progress") if isinstance(job.get("progress"), dict) else {}
    limit = time_limit(job)
    if limit and job.get("claimed_at") and now is not None:
        return min(1.0, max(0.0, (now - job["claimed_at"]) / limit))
    pct = progress.get("percent")
    if isinstance(pct, (int, float)) and math.isfinite(pct):
        return min(1.0, max(0.0, pct / 100))
    return None


def progress_text(progress: dict | None, job: dict | None = None, now: float | None = None) -> str:
    if not isinstance(progress, dict):
        return "starting…"
    bits = []
    job = job or {"progress": progress}
    share = time_share(job, now)
    limit = time_limit(job)
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


def outcome(job: dict) -> str:
    """The status a person should read: a succeeded job whose solver found no answer is
    "infeasible" or "no solution", not "succeeded"."""
    status = job.get("status") or "unknown"
    r = job.get("result")
    if status != "succeeded" or not isinstance(r, dict):
        return status
    rs = str(r.get("status") or "").lower()
    if rs in NO_SOLUTION:
        return "infeasible" if "infeasible" in rs else "no solution"
    if ("objective" in r and r["objective"] is None) or ("makespan" in r and r["makespan"] is None):
        return "no solution"
    return status


def waiting_text(job: dict) -> str:
    """Why a pending job waits: the hub's `waiting` sentence when it sends one."""
    reason = job.get("waiting")
    if isinstance(reason, str) and reason.strip():
        return reason.strip()
    return f"queued until a worker that runs {job.get('type')} jobs is free"


def result_summary(job: dict) -> str:
    """One line on what a finished job found, or the first line of why it failed."""
    if job.get("status") == "failed" or (job.get("error") and job.get("status") != "succeeded"):
        return (job.get("error") or "failed").split("\n")[0]
    r = job.get("result")
    if not isinstance(r, dict):
        return ""
    parts: list[str] = []
    if job.get("type") == "jobshop":
        if r.get("makespan") is not None:
            parts.append(f"makespan {value(r['makespan'])}")
        parts.append("optimal" if r.get("optimal") else
                     f"bound {value(r['lower_bound'])}" if r.get("lower_bound") is not None else str(r.get("status")))
    elif "objective" in r:
        parts.append(f"objective {value(r['objective'])}")
        if r.get("gap"):
            parts.append(f"gap {gap_text(r['gap'])}")
        elif r.get("status"):
            parts.append(str(r["status"]))
    else:
        parts.extend(f"{k} {value(v)}" for k, v in list(r.items())[:3])
    return " · ".join(p for p in parts if p)


def status_style(status: str) -> str:
    color = th.colors().warn if status in ("infeasible", "no solution") else STATUS_COLORS.get(status, "#7a7f87")
    return (f"color: white; background: {color}; border-radius: 8px; padding: 1px 8px; font-size: 12px;"
            "font-weight: 600")


def escape_html(text: str) -> str:
    """Text for a rich-text label (the facts line), where < and & would be markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
