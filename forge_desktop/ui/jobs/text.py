"""What a job says in words in the native windows: its status as a person should read it, its
progress against the time limit, why it waits, a one-line summary. Numbers read as
forge_contracts.jobtypes.display writes them, shared with the hub's summaries."""
from __future__ import annotations

import re
import time

# The wording the hub and web use too, re-exported for the job windows.
from forge_contracts.jobtypes import summarize_job as result_summary  # noqa: F401
from forge_contracts.jobtypes.display import ago, time_share  # noqa: F401
from forge_contracts.jobtypes.display import solver_progress_text as progress_text  # noqa: F401

from ..vocab import Vocabulary

NO_SOLUTION = frozenset(("infeasible", "unbounded", "infeasible_or_unbounded", "no_solution", "model_invalid",
                         "unknown", "error"))
"""Result statuses of a job that ran to its end without a usable answer: amber, never a green success."""


def when(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts)) if ts else "–"


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


def status_style(status: str, vocab: Vocabulary) -> str:
    """A status pill's style, coloured by the tone the hub gives `status` (vocab.py)."""
    color = vocab.color(status)
    return (f"color: white; background: {color}; border-radius: 8px; padding: 1px 8px; font-size: 12px;"
            "font-weight: 600")


def escape_html(text: str) -> str:
    """Text for a rich-text label (the facts line), where < and & would be markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_TRACE_LINE = re.compile(r"^Traceback \(most recent call last\):$", re.MULTILINE)
_PACKAGE_PATHS = (
    (re.compile(r'File "[^"]*?/(?:site-packages|dist-packages)/([^"]+)"'), r'File "\1"'),
    (re.compile(r'File "[^"]*?/(lib/python3[^"/]*/[^"]+)"'), r'File "\1"'),
)
_ABSOLUTE = re.compile(r'File "(/[^"]*)/[^"/]+"')


def trim_paths(text: str) -> str:
    """A traceback's paths without the worker's folders, as the web's trimPaths: a file of an
    installed package from the package on, one of the standard library from lib/python3.x on,
    and the rest (code run from a checkout or a one-file build) from the last folder they all
    share on, so /home/me/forge/pkg/a.py and /home/me/forge/pkg/sub/b.py read pkg/a.py and pkg/sub/b.py."""
    for pattern, keep in _PACKAGE_PATHS:
        text = pattern.sub(keep, text)
    dirs = [m.group(1).split("/") for m in _ABSOLUTE.finditer(text)]
    if not dirs:
        return text
    shared = dirs[0]
    for d in dirs:
        i = 0
        while i < min(len(shared), len(d)) and shared[i] == d[i]:
            i += 1
        shared = shared[:i]
    if len(shared) < 2:
        return text
    return text.replace('File "' + "/".join(shared[:-1]) + "/", 'File "')


def split_error(error: str) -> tuple[str, str]:
    """A job's error as (message, traceback), as the web's job page splits it: the traceback's
    last line repeats the message, so it shows once, and internal paths are trimmed."""
    m = _TRACE_LINE.search(error)
    if not m:
        return error, ""
    message = error[:m.start()].strip()
    lines = error[m.start():].strip().split("\n")
    last = lines[-1].strip()
    if message and message.split("\n")[0].strip() == last:
        lines.pop()
    return message or last, trim_paths("\n".join(lines))
