"""The native jobs view: the hub's queue, and a window per job with its result drawn by type.

Reads the same API as the dashboard's `#/jobs` pages (GET /api/jobs every 2 s, GET
/api/jobs/{id} every 2 s until the job ends), always through `api_reader.fetch`, so
no request runs on the GUI thread. The charts live in job_charts.py; a plan is a table.
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from typing import Any, Callable

from PySide6.QtCore import QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QPainter
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QFrame, QHBoxLayout, QHeaderView, QLabel, QLineEdit,
                               QMainWindow, QProgressBar, QPushButton, QScrollArea, QSizePolicy, QSplitter,
                               QStyledItemDelegate, QTableWidget, QTableWidgetItem, QToolBar, QVBoxLayout, QWidget)

from forge_contracts.jobtypes.display import duration, gap_text, seconds

from ..client import normalize_url
from . import theme as th
from .admin_action import AdminSession
from .api_reader import fetch, post
from .batch_view import BatchView
from .bound_chart import BoundChart, incumbent_and_bound
from .job_charts import ERROR_RED, CapacityChart, GanttChart, value
from .job_upload import UploadBar

STATUSES = ("pending", "running", "succeeded", "failed", "cancelled")
FINAL = frozenset(("succeeded", "failed", "cancelled"))
POLL_MS = 2000
NODES_POLL_MS = 30000
PAGE_SIZE = 100
MPS_ROWS = 50
PAYLOAD_CHARS = 20000
STATUS_COLORS = {"pending": "#6b7280", "running": "#2f6fd6", "succeeded": "#2e9d58", "failed": "#b3261e",
                 "cancelled": "#7a7f87", "accepted": "#2e9d58", "retry": "#d9822b", "late": "#7a7f87",
                 "released": "#7a7f87", "duplicate": "#7a7f87", "infeasible": th.LIGHT.warn,
                 "no solution": th.LIGHT.warn}
NO_SOLUTION = frozenset(("infeasible", "unbounded", "infeasible_or_unbounded", "no_solution", "model_invalid",
                         "unknown", "error"))
"""Result statuses of a job that ran to its end without a usable answer: amber, never a green success."""
COLUMNS = ("Job", "Type", "Label", "Status", "Progress / result", "Machine", "Attempts", "Submitted", "Run time")
COL_ID, COL_TYPE, COL_LABEL, COL_STATUS, COL_RESULT, COL_NODE, COL_ATTEMPTS, COL_CREATED, COL_TOOK = range(9)
SHARE_ROLE = Qt.UserRole + 1
JOB_ID_ROLE = Qt.UserRole + 2


# --- how numbers read: forge_contracts.jobtypes.display, shared with the hub's summaries ---
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


# --- small widgets ---------------------------------------------------------------------
def status_style(status: str) -> str:
    color = th.colors().warn if status in ("infeasible", "no solution") else STATUS_COLORS.get(status, "#7a7f87")
    return (f"color: white; background: {color}; border-radius: 8px; padding: 1px 8px; font-size: 12px;"
            "font-weight: 600")


def heading(text: str) -> QLabel:
    label = QLabel(text)
    label.setStyleSheet("font-weight: 600; font-size: 13px; margin-top: 8px")
    return label


def fit_table(table: QTableWidget, max_column_width: int = 480) -> None:
    """Show every row: the window scrolls, not the table. Wider cells elide (their tooltip has it all)."""
    table.resizeColumnsToContents()
    for col in range(table.columnCount()):
        if table.columnWidth(col) > max_column_width:
            table.setColumnWidth(col, max_column_width)
    table.resizeRowsToContents()
    frame = 2 * table.frameWidth()
    table.setFixedHeight(table.horizontalHeader().sizeHint().height() + table.verticalHeader().length() + frame)
    width = table.horizontalHeader().length() + frame
    table.setFixedWidth(width)


def readonly_table(columns: list[str] | tuple[str, ...], rows: int) -> QTableWidget:
    table = QTableWidget(rows, len(columns))
    table.setHorizontalHeaderLabels(list(columns))
    table.verticalHeader().hide()
    table.setEditTriggers(QAbstractItemView.NoEditTriggers)
    table.setSelectionMode(QAbstractItemView.NoSelection)
    table.setFocusPolicy(Qt.NoFocus)
    table.setVerticalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
    table.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
    return table


def cell(text: str, *, align_right: bool = False, color: str | None = None,
         background: str | None = None, tip: str | None = None) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    if align_right:
        item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
    if color:
        item.setForeground(QColor(color))
    if background:
        item.setBackground(QColor(background))
    if tip:
        item.setToolTip(th.plain_tip(tip))
    return item


class StatRow(QWidget):
    """Labelled values side by side; `values[name]` is the label showing one value."""

    def __init__(self, stats: list[tuple[str, str, bool]], parent: QWidget | None = None):
        super().__init__(parent)
        self.values: dict[str, QLabel] = {}
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(22)
        for name, text, good in stats:
            box = QVBoxLayout()
            box.setSpacing(0)
            caption = QLabel(name)
            caption.setStyleSheet(f"color: {th.colors().muted}; font-size: 11px")
            shown = th.plain_label(text)
            color = th.colors().ok if good else th.colors().text
            shown.setStyleSheet(f"font-size: 16px; font-weight: 600; color: {color}")
            shown.setTextInteractionFlags(Qt.TextSelectableByMouse)
            box.addWidget(caption)
            box.addWidget(shown)
            layout.addLayout(box)
            self.values[name.lower()] = shown
        layout.addStretch(1)


def legend(entries: list[tuple[str, str]]) -> QLabel:
    label = QLabel("&nbsp;&nbsp;&nbsp;".join(f"<span style='color:{c}'>■</span> {name}" for name, c in entries))
    label.setStyleSheet(f"color: {th.colors().muted}; font-size: 11px")
    return label


# --- results by type --------------------------------------------------------------------
@dataclass
class ResultView:
    """The widgets one result is drawn with; the tests and the window look them up here."""
    widgets: list[QWidget]
    stats: StatRow | None = None
    gantt: GanttChart | None = None
    capacity: CapacityChart | None = None
    plan: QTableWidget | None = None
    values: QTableWidget | None = None


def jobshop_view(job: dict) -> ResultView:
    r = job["result"]
    stats = StatRow([("Makespan", value(r.get("makespan")), False),
                     ("Lower bound", value(r.get("lower_bound")), False),
                     ("Optimal", "proved" if r.get("optimal") else "not proved", bool(r.get("optimal"))),
                     ("Status", str(r.get("status") or "–"), False),
                     ("Solve time", seconds(r.get("solve_time")), False)])
    view = ResultView([heading("Schedule"), stats], stats=stats)
    schedule = r.get("schedule")
    if isinstance(schedule, list) and schedule:
        machines = (job.get("payload") or {}).get("machines")
        view.gantt = GanttChart(schedule, r.get("makespan"), machines if isinstance(machines, int) else None)
        note = QLabel("One row per machine; each bar is an operation, coloured by its job "
                      "(the dashed line is the makespan). Point at one to see its job's other operations.")
        note.setStyleSheet(f"color: {th.colors().muted}; font-size: 11px")
        note.setWordWrap(True)
        view.widgets += [view.gantt, note]
    return view


PLAN_ROWS: tuple[tuple[str, Callable[[dict], str], Callable[[dict], float] | None], ...] = (
    ("produce", lambda c: value(c.get("produce")), lambda c: c.get("produce") or 0),
    ("setup", lambda c: "●" if c.get("setup") else "", lambda c: 1 if c.get("setup") else 0),
    ("inventory", lambda c: value(c.get("inventory")), None),
    ("backlog", lambda c: value(c["backlog"]) if c.get("backlog") else "", None),
)


def plan_table(plan: list[dict], periods: int) -> QTableWidget:
    """Items × periods: produce (setup periods highlighted), setup, inventory, backlog when any."""
    items: dict[str, dict[int, dict]] = {}
    for entry in plan:
        items.setdefault(str(entry.get("item")), {})[int(entry.get("period", 0))] = entry
    periods = max([periods, *(max(cells) + 1 for cells in items.values() if cells)])
    layout = []
    for item, cells in items.items():
        rows = [r for r in PLAN_ROWS if r[0] != "backlog" or any(c.get("backlog") for c in cells.values())]
        layout.append((item, cells, rows))
    table = readonly_table(["Item", "", *(str(t + 1) for t in range(periods)), "Total"],
                           sum(len(rows) for _, _, rows in layout))
    r = 0
    for item, cells, rows in layout:
        table.setItem(r, 0, cell(item))
        if len(rows) > 1:
            table.setSpan(r, 0, len(rows), 1)
        table.item(r, 0).setFont(QFont(table.font().family(), weight=QFont.Bold))
        for what, show, total in rows:
            table.setItem(r, 1, cell(what, color=th.colors().muted))
            for t in range(periods):
                c = cells.get(t)
                text = show(c) if c else ""
                setup_here = what == "produce" and bool(c and c.get("setup"))
                setup_bg = ("#24344d" if th.colors().dark else "#e3ecfb") if setup_here else None
                table.setItem(r, 2 + t, cell(text, align_right=True, color=th.colors().faint if text == "0" else None,
                                             background=setup_bg,
                                             tip=f"setup in period {t + 1}" if setup_here else None))
            if total:
                table.setItem(r, 2 + periods, cell(value(sum(total(c) for c in cells.values())), align_right=True))
            r += 1
    fit_table(table)
    return table


def prodplan_view(job: dict) -> ResultView:
    r = job["result"]
    costs = r.get("costs") or {}
    stats = StatRow([("Objective", value(r.get("objective")), False), ("Bound", value(r.get("bound")), False),
                     ("Gap", gap_text(r.get("gap")), False),
                     ("Status", str(r.get("status") or "–"), r.get("status") == "optimal"),
                     ("Solve time", seconds(r.get("solve_time")), False),
                     ("Formulation", str(r.get("formulation") or "–"), False)])
    cost_row = StatRow([(f"{k.capitalize()} cost", value(costs[k]), False) for k in ("setup", "holding", "backlog", "overtime")
                        if k in costs and (costs[k] or k in ("setup", "holding"))])
    view = ResultView([heading("Plan"), stats, cost_row], stats=stats)
    use = r.get("capacity_use")
    if isinstance(use, list) and use:
        view.capacity = CapacityChart(use)
        entries = [("Production time", CapacityChart.COLORS["production"]),
                   ("Setup time", CapacityChart.COLORS["setup"]), ("Capacity", CapacityChart.COLORS["capacity"])]
        if any((u.get("overtime") or 0) > 0 for u in use):
            entries.append(("Overtime", CapacityChart.COLORS["overtime"]))
        view.widgets += [heading("Capacity use per period"), view.capacity, legend(entries)]
    plan = r.get("plan")
    if isinstance(plan, list) and plan:
        periods = (job.get("payload") or {}).get("periods") or len(use or [])
        view.plan = plan_table(plan, int(periods))
        note = QLabel("Periods are numbered from 1. ● marks a setup; highlighted quantities are made in a setup period.")
        note.setStyleSheet(f"color: {th.colors().muted}; font-size: 11px")
        view.widgets += [heading("Production plan (items × periods)"), view.plan, note]
    return view


def key_value_table(entries: list[tuple[str, Any]], header: str) -> QTableWidget:
    table = readonly_table([header, "Value"], len(entries))
    for i, (k, v) in enumerate(entries):
        table.setItem(i, 0, cell(str(k)))
        table.setItem(i, 1, cell(value(v), align_right=True))
    fit_table(table)
    return table


def mps_view(job: dict) -> ResultView:
    r = job["result"]
    kind = f"{str(r['kind']).upper()}, {r.get('sense') or ''}".rstrip(", ") if r.get("kind") else "–"
    stats = StatRow([("Status", str(r.get("status") or "–"), r.get("status") == "optimal"),
                     ("Objective", value(r.get("objective")), False), ("Bound", value(r.get("bound")), False),
                     ("Gap", gap_text(r.get("gap")), False), ("Kind", kind, False),
                     ("Solve time", seconds(r.get("solve_time")), False)])
    view = ResultView([heading("Model"), stats], stats=stats)
    values = list((r.get("values") or {}).items())
    nonzero = [(k, v) for k, v in values if v != 0]
    if values:
        shown = (nonzero or values)[:MPS_ROWS]
        total = len(nonzero or values)
        title = "Non-zero variables" if nonzero and len(nonzero) < len(values) else "Variables"
        more = f" (first {len(shown)} of {total})" if total > len(shown) else f" ({total})"
        view.values = key_value_table(shown, "Variable")
        tables = QHBoxLayout()
        tables.setContentsMargins(0, 0, 0, 0)
        tables.setSpacing(24)
        col = QVBoxLayout()
        col.addWidget(heading(title + more))
        col.addWidget(view.values)
        col.addStretch(1)
        tables.addLayout(col)
        duals = list((r.get("duals") or {}).items())
        if duals:
            dcol = QVBoxLayout()
            dcol.addWidget(heading(f"Duals ({len(duals)})" if len(duals) <= MPS_ROWS
                                   else f"Duals (first {MPS_ROWS} of {len(duals)})"))
            dcol.addWidget(key_value_table(duals[:MPS_ROWS], "Row"))
            dcol.addStretch(1)
            tables.addLayout(dcol)
        tables.addStretch(1)
        host = QWidget()
        host.setLayout(tables)
        view.widgets.append(host)
    return view


def generic_view(job: dict) -> ResultView:
    text = QLabel(json.dumps(job["result"], indent=2)[:PAYLOAD_CHARS])
    text.setTextFormat(Qt.PlainText)
    text.setStyleSheet(f"font-family: monospace; background: {th.colors().track}; padding: 6px")
    text.setTextInteractionFlags(Qt.TextSelectableByMouse)
    return ResultView([heading("Result"), text])


RESULT_VIEWS: dict[str, Callable[[dict], ResultView]] = {"jobshop": jobshop_view, "prodplan": prodplan_view,
                                                         "mps": mps_view}


# --- admin actions -----------------------------------------------------------------------
ACTIONS = (("cancel", "Cancel", ("pending", "running")), ("retry", "Retry", ("failed", "cancelled")),
           ("resubmit", "Resubmit with another seed", ("succeeded", "failed", "cancelled")))
_routes: dict[str, set[str]] = {}
"""Per hub, the job action routes its OpenAPI document lists (so a button shows only where the hub has the route)."""


def offered_actions(hub_url: str) -> set[str] | None:
    return _routes.get(hub_url)


def load_actions(hub_url: str, token: str | None, on_done: Callable[[set[str]], None]) -> None:
    if hub_url in _routes:
        on_done(_routes[hub_url])
        return

    def done(doc) -> None:
        paths = (doc or {}).get("paths") or {} if isinstance(doc, dict) else {}
        _routes[hub_url] = {name for name, *_ in ACTIONS if f"/api/jobs/{{job_id}}/{name}" in paths}
        on_done(_routes[hub_url])
    fetch(hub_url, token, "/api/openapi.json", on_done=done, on_failed=lambda _m: on_done({"cancel"}))


# --- one job ---------------------------------------------------------------------------
class JobWindow(QWidget):
    """One job of `hub_url`: status, progress while it runs, its error, its result by type, attempts.

    Polls GET /api/jobs/{id} every 2 s until the job ends.
    """
    shown = Signal(dict)
    closed = Signal()
    batch_requested = Signal(str)

    def __init__(self, hub_url: str, token: str | None, job_id: int, parent: QWidget | None = None):
        super().__init__(parent)
        self.hub_url, self.token, self.job_id = normalize_url(hub_url), token, int(job_id)
        self.job: dict | None = None
        self.result_view: ResultView | None = None
        self._shown_key: str | None = None
        self._generation = 0
        self._busy = False
        self.setWindowTitle(f"Forge — job #{self.job_id}")
        self.resize(980, 760)

        self.title = QLabel(f"Job #{self.job_id}")
        self.title.setStyleSheet("font-weight: 600; font-size: 16px")
        self.status_badge = th.plain_label("loading")
        self.status_badge.setStyleSheet(status_style("pending"))
        self.sub = th.plain_label()
        self.sub.setStyleSheet(f"color: {th.colors().muted}")
        head = QHBoxLayout()
        head.addWidget(self.title)
        head.addWidget(self.status_badge)
        head.addWidget(self.sub, 1)
        self.facts = QLabel()
        self.facts.setTextFormat(Qt.RichText)
        self.facts.setWordWrap(True)
        self.facts.setStyleSheet(f"color: {th.colors().text}")
        self.load_error = th.plain_label()
        self.load_error.setStyleSheet(f"color: {ERROR_RED}")
        self.load_error.hide()

        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setTextVisible(False)
        self.progress_bar.setFixedHeight(12)
        self.progress_bar.setToolTip("Time used against the job's time limit")
        self.progress_text = th.plain_label()
        self.gap_figure = th.plain_label()
        self.gap_figure.setStyleSheet("font-size: 15px; font-weight: 600")
        self.gap_figure.setToolTip("The relative gap between the best solution and the bound: 0 % is proved optimal")
        self.progress_box = QWidget()
        prow = QHBoxLayout(self.progress_box)
        prow.setContentsMargins(0, 0, 0, 0)
        prow.addWidget(self.progress_bar, 1)
        prow.addWidget(self.progress_text, 2)
        prow.addWidget(self.gap_figure)
        self.progress_box.hide()
        self.bound_chart = BoundChart()
        self.bound_chart.setToolTip("Incumbent (solid) and bound (dashed) since this window opened")
        self.bound_chart.hide()

        self.actions: dict[str, QPushButton] = {}
        self.action_row = QWidget()
        arow = QHBoxLayout(self.action_row)
        arow.setContentsMargins(0, 0, 0, 0)
        for name, text, _when in ACTIONS:
            b = QPushButton(text)
            b.clicked.connect(lambda _c=False, name=name: self.act(name))
            b.hide()
            arow.addWidget(b)
            self.actions[name] = b
        self.batch_button = QPushButton("Batch")
        self.batch_button.setToolTip("Show this job's batch in the queue")
        self.batch_button.clicked.connect(lambda: self.job and self.batch_requested.emit(str(self.job["batch_id"])))
        self.batch_button.hide()
        arow.addWidget(self.batch_button)
        self.sign_in = QLineEdit()
        self.sign_in.setEchoMode(QLineEdit.Password)
        self.sign_in.setPlaceholderText("admin secret")
        self.sign_in.setMaximumWidth(220)
        self.sign_in.returnPressed.connect(self._signed_in)
        self.sign_in.hide()
        self.action_note = th.plain_label()
        arow.addWidget(self.sign_in)
        arow.addWidget(self.action_note, 1)
        self._offered: set[str] = set()
        self._pending_action: str | None = None
        self._skew = 0.0

        self.error_heading = heading("Why it failed")
        self.error_heading.setStyleSheet(f"font-weight: 600; font-size: 13px; color: {ERROR_RED}; margin-top: 8px")
        self.error_text = QLabel()
        self.error_text.setTextFormat(Qt.PlainText)
        self.error_text.setWordWrap(True)
        self.error_text.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.error_text.setStyleSheet(f"font-family: monospace; color: {ERROR_RED}; background: #fdecea;"
                                      f"border: 1px solid #f3c1bc; border-radius: 6px; padding: 8px")
        for w in (self.error_heading, self.error_text):
            w.hide()

        self.result_host = QWidget()
        self.result_layout = QVBoxLayout(self.result_host)
        self.result_layout.setContentsMargins(0, 0, 0, 0)
        self.waiting = th.plain_label()
        self.waiting.setWordWrap(True)
        self.waiting.setStyleSheet(f"color: {th.colors().text}; background: {th.colors().track}; padding: 6px 8px;"
                                   "border-radius: 6px")
        self.attempts_heading = heading("Attempts")
        self.attempts = readonly_table(["#", "Machine", "Started", "Ended", "Took", "Outcome", "Error"], 0)
        self.payload_button = QPushButton("Show payload")
        self.payload_button.setCheckable(True)
        self.payload_text = QLabel()
        self.payload_text.setTextFormat(Qt.PlainText)
        self.payload_text.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.payload_text.setStyleSheet(f"font-family: monospace; background: {th.colors().track}; padding: 6px")
        self.payload_text.hide()
        self.payload_button.toggled.connect(self._toggle_payload)

        body = QWidget()
        body.setObjectName("jobBody")
        body.setStyleSheet(f"#jobBody {{ background: {th.colors().surface}; }}")
        layout = self.body_layout = QVBoxLayout(body)
        layout.setContentsMargins(14, 12, 14, 12)
        layout.setSpacing(6)
        layout.addLayout(head)
        layout.addWidget(self.facts)
        layout.addWidget(self.action_row)
        layout.addWidget(self.load_error)
        layout.addWidget(self.progress_box)
        layout.addWidget(self.bound_chart)
        layout.addWidget(self.error_heading)
        layout.addWidget(self.error_text)
        layout.addWidget(self.waiting)
        layout.addWidget(self.result_host)
        layout.addWidget(self.attempts_heading)
        layout.addWidget(self.attempts)
        payload_row = QHBoxLayout()
        payload_row.addWidget(self.payload_button)
        payload_row.addStretch(1)
        layout.addLayout(payload_row)
        layout.addWidget(self.payload_text)
        layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.NoFrame)
        scroll.setWidget(body)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)

        self.timer = QTimer(self)
        self.timer.timeout.connect(self.reload)
        self.timer.start(POLL_MS)
        fetch(self.hub_url, self.token, "/api/health", on_done=self._on_health)
        load_actions(self.hub_url, self.token, self._on_actions)
        self.reload()

    def _on_health(self, body) -> None:
        if isinstance(body, dict) and isinstance(body.get("time"), (int, float)):
            self._skew = body["time"] - time.time()

    def _on_actions(self, offered: set[str]) -> None:
        self._offered = offered
        if self.job:
            self._show_actions(self.job)

    def _show_actions(self, job: dict) -> None:
        status = job.get("status")
        for name, _text, when_ in ACTIONS:
            self.actions[name].setVisible(name in self._offered and status in when_)

    def act(self, name: str) -> None:
        """POST the action's route with the admin secret (or this window's token); a refusal asks to sign in."""
        self._pending_action = name
        self.action_note.setText(f"{name} …")
        for b in self.actions.values():
            b.setEnabled(False)
        post(self.hub_url, AdminSession.secret or self.token, f"/api/jobs/{self.job_id}/{name}",
             on_done=lambda body: self._acted(name, body), on_failed=lambda msg: self._act_failed(name, msg))

    def _acted(self, name: str, body) -> None:
        for b in self.actions.values():
            b.setEnabled(True)
        self._pending_action = None
        new_id = body.get("id") if isinstance(body, dict) else None
        self.action_note.setText(f"{name}: done" + (f" (job #{new_id})" if new_id and new_id != self.job_id else ""))
        self._shown_key = None
        if not self.timer.isActive():
            self.timer.start(POLL_MS)
        self.reload()

    def _act_failed(self, name: str, message: str) -> None:
        for b in self.actions.values():
            b.setEnabled(True)
        if "HTTP 401" in message or "HTTP 403" in message:
            self.sign_in.show()
            self.sign_in.setFocus()
            self.action_note.setText(f"{name} needs the hub's admin secret: type it and press Enter")
        else:
            self._pending_action = None
            self.action_note.setText(f"{name} failed: {message}")

    def _signed_in(self) -> None:
        AdminSession.secret = self.sign_in.text().strip() or None
        self.sign_in.clear()
        self.sign_in.hide()
        if self._pending_action and AdminSession.secret:
            self.act(self._pending_action)

    @property
    def gantt(self) -> GanttChart | None:
        return self.result_view.gantt if self.result_view else None

    def reload(self) -> None:
        if self._busy:
            return
        self._busy = True
        gen = self._generation
        fetch(self.hub_url, self.token, f"/api/jobs/{self.job_id}",
              on_done=lambda body: self._on_job(body, gen), on_failed=lambda msg: self._on_failed(msg, gen))

    def _on_failed(self, message: str, generation: int) -> None:
        if generation != self._generation:
            return
        self._busy = False
        self.load_error.setText(f"Could not load this job: {message}")
        self.load_error.show()
        if "HTTP 404" in message:
            self.timer.stop()

    def _on_job(self, job: dict, generation: int) -> None:
        if generation != self._generation or not isinstance(job, dict):
            return
        self._busy = False
        self.load_error.hide()
        self.job = job
        self.render(job)
        if job.get("status") in FINAL:
            self.timer.stop()
        self.shown.emit(job)

    def render(self, job: dict) -> None:
        status = job.get("status") or "unknown"
        shown = outcome(job)
        self.status_badge.setText(shown)
        self.status_badge.setStyleSheet(status_style(shown))
        self.status_badge.setToolTip("the job succeeded, but its solver found no solution" if shown != status else "")
        self.sub.setText(" · ".join(str(x) for x in (job.get("type"), job.get("label")) if x))
        self._show_actions(job)
        if job.get("batch_id"):
            self.batch_button.setText(f"Batch {job['batch_id']} →")
        self.batch_button.setVisible(bool(job.get("batch_id")))
        running = status == "running"
        self.progress_box.setVisible(running)
        if running:
            now = time.time() + self._skew
            share = time_share(job, now)
            if share is None:
                self.progress_bar.setRange(0, 0)
            else:
                self.progress_bar.setRange(0, 1000)
                self.progress_bar.setValue(round(share * 1000))
            progress = job.get("progress") if isinstance(job.get("progress"), dict) else {}
            self.progress_text.setText(progress_text(progress or None, job, now))
            self.gap_figure.setText(f"gap {gap_text(progress.get('gap'))}" if progress.get("gap") is not None
                                    else "no gap yet")
            if job.get("claimed_at"):
                self.bound_chart.add(max(0.0, now - job["claimed_at"]), *incumbent_and_bound(progress))
        self.bound_chart.setVisible(running and len(self.bound_chart.points) >= 2)
        if status == "pending":
            self.waiting.setText("Waiting: " + waiting_text(job))
        key = "|".join(str(job.get(k)) for k in ("status", "attempt_count", "claimed_by", "error", "finished_at"))
        if key == self._shown_key:
            return
        self._shown_key = key
        self._show_facts(job)
        self._show_error(job)
        self._show_result(job)
        self._show_attempts(job.get("attempts") or [])
        self.payload_text.setText(self._payload_text(job.get("payload")))
        self.body_layout.activate()

    def _show_facts(self, job: dict) -> None:
        facts = [("Machine", job.get("claimed_by") or "not claimed yet"),
                 ("Attempts", f"{job.get('attempt_count', 0)} of {job.get('max_attempts', '?')}"),
                 ("Submitted", when(job.get("created_at"))), ("Started", when(job.get("claimed_at"))),
                 ("Finished", when(job.get("finished_at")))]
        if job.get("claimed_at") and job.get("finished_at"):
            facts.append(("Run time", seconds(job["finished_at"] - job["claimed_at"])))
        if job.get("batch_id"):
            facts.append(("Batch", job["batch_id"]))
        if job.get("priority"):
            facts.append(("Priority", str(job["priority"])))
        self.facts.setText("&nbsp;&nbsp;·&nbsp;&nbsp;".join(
            f"<span style='color:{th.colors().muted}'>{name}</span> {_escape(str(v))}" for name, v in facts))

    def _show_error(self, job: dict) -> None:
        error = job.get("error")
        retrying = job.get("status") in ("pending", "running")
        self.error_heading.setText("Last attempt failed (the job will be retried)" if retrying else "Why it failed")
        self.error_text.setText(error or "")
        self.error_heading.setVisible(bool(error))
        self.error_text.setVisible(bool(error))

    def _show_result(self, job: dict) -> None:
        while self.result_layout.count():
            item = self.result_layout.takeAt(0)
            if item.widget():
                item.widget().deleteLater()
        self.result_view = None
        self.waiting.hide()
        if job.get("result") is not None:
            self.result_view = RESULT_VIEWS.get(job.get("type"), generic_view)(job)
            for w in self.result_view.widgets:
                self.result_layout.addWidget(w)
                w.show()
        elif job.get("status") == "pending":
            self.waiting.setText("Waiting: " + waiting_text(job))
            self.waiting.show()

    def _show_attempts(self, attempts: list[dict]) -> None:
        self.attempts_heading.setVisible(bool(attempts))
        self.attempts.setVisible(bool(attempts))
        self.attempts.setRowCount(len(attempts))
        for i, a in enumerate(attempts):
            outcome = a.get("outcome") or "running"
            took = seconds(a["ended_at"] - a["started_at"]) if a.get("ended_at") and a.get("started_at") else "–"
            error = a.get("error") or ""
            for col, item in enumerate((cell(str(a.get("attempt")), align_right=True), cell(a.get("worker_id") or "–"),
                                        cell(when(a.get("started_at"))), cell(when(a.get("ended_at"))),
                                        cell(took, align_right=True),
                                        cell(outcome, color=STATUS_COLORS.get(outcome)),
                                        cell(error.split("\n")[0], color=ERROR_RED, tip=error or None))):
                self.attempts.setItem(i, col, item)
        if attempts:
            fit_table(self.attempts)

    @staticmethod
    def _payload_text(payload: Any) -> str:
        if payload is None:
            return ""
        text = json.dumps(payload, indent=1)
        return text if len(text) <= PAYLOAD_CHARS else f"{text[:PAYLOAD_CHARS]}\n… ({len(text):,} characters in all)"

    def _toggle_payload(self, on: bool) -> None:
        self.payload_text.setVisible(on)
        self.payload_button.setText("Hide payload" if on else "Show payload")

    def closeEvent(self, event) -> None:
        self._generation += 1
        self.timer.stop()
        super().closeEvent(event)
        self.closed.emit()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# --- the queue -------------------------------------------------------------------------
class ProgressDelegate(QStyledItemDelegate):
    """Running rows draw a bar (their share done) and the progress text beside it."""
    BAR_W = 110

    def paint(self, painter: QPainter, option, index) -> None:
        share = index.data(SHARE_ROLE)
        if share is None or share == "":
            super().paint(painter, option, index)
            return
        painter.save()
        rect = option.rect.adjusted(6, 0, -4, 0)
        bar = QRectF(rect.left(), rect.center().y() - 4, min(self.BAR_W, rect.width() * 0.45), 8)
        painter.setRenderHint(QPainter.Antialiasing)
        painter.setPen(Qt.NoPen)
        painter.setBrush(QColor(th.colors().track))
        painter.drawRoundedRect(bar, 4, 4)
        if share >= 0:
            painter.setBrush(QColor(STATUS_COLORS["running"]))
            painter.drawRoundedRect(QRectF(bar.left(), bar.top(), bar.width() * share, bar.height()), 4, 4)
        painter.setPen(option.palette.text().color())
        text_rect = rect.adjusted(int(bar.width()) + 8, 0, 0, 0)
        painter.drawText(text_rect, Qt.AlignVCenter | Qt.AlignLeft,
                         option.fontMetrics.elidedText(str(index.data(Qt.DisplayRole) or ""), Qt.ElideRight,
                                                       text_rect.width()))
        painter.restore()

    def sizeHint(self, option, index) -> QSize:
        size = super().sizeHint(option, index)
        return QSize(max(size.width(), 320), size.height())


class JobsWindow(QMainWindow):
    """The queue of `hub_url` with status/type/machine filters; `token` is an optional viewer token."""
    jobs_shown = Signal(int)
    closed = Signal()

    def __init__(self, hub_url: str, token: str | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.hub_url, self.token = normalize_url(hub_url), token or None
        self.rows_by_id: dict[int, int] = {}
        self.jobs: list[dict] = []
        self.job_windows: list[JobWindow] = []
        self._generation = 0
        self._in_flight = 0
        self._server_skew = 0.0
        self.setWindowTitle(f"Forge jobs — {self.hub_url}")
        self.resize(1180, 620)

        bar = QToolBar()
        bar.setMovable(False)
        title = self.title = QLabel(" Jobs ")
        title.setStyleSheet("font-weight: 600; font-size: 14px")
        self.counts = QLabel()
        self.counts.setStyleSheet(f"color: {th.colors().muted}; padding-left: 8px")
        self.status_box = self._combo("All statuses", [(s, s) for s in STATUSES])
        self.type_box = self._combo("All types", [])
        self.node_box = self._combo("All machines", [])
        self.batch_box = self._combo("All batches", [])
        self.batch_box.setToolTip("One batch (or sweep) of jobs: pick it here or with a job's Batch button")
        spacer = QWidget()
        spacer.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Preferred)
        self.upload_button = QPushButton("Submit a file…")
        self.upload_button.setCheckable(True)
        self.upload_button.setToolTip("Submit a JSON job or payload, a JSPLIB instance or an MPS/LP model")
        for w in (title, self.counts, spacer, self.status_box, self.type_box, self.node_box, self.batch_box,
                  self.upload_button):
            bar.addWidget(w)
        self.addToolBar(bar)
        self.upload = UploadBar(self.hub_url, self.token)
        self.upload.hide()
        self.upload_button.toggled.connect(self.upload.setVisible)
        self.upload.submitted.connect(lambda _body: self.reload(force=True))
        self.batch_view = BatchView(self.hub_url, self.token)
        self.batch_view.hide()
        self.batch_view.job_requested.connect(self.show_job)
        self.batch_view.cancelled.connect(lambda _ids: self.reload(force=True))

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setItemDelegateForColumn(COL_RESULT, ProgressDelegate(self.table))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeToContents)
        header.setSectionResizeMode(COL_RESULT, QHeaderView.Stretch)
        self.table.cellDoubleClicked.connect(lambda row, _col: self._open_row(row))
        self.table.setToolTip("Select a job to preview it below; double-click for its own window")
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.preview: JobWindow | None = None
        self.preview_host = QWidget()
        self.preview_layout = QVBoxLayout(self.preview_host)
        self.preview_layout.setContentsMargins(0, 0, 0, 0)
        self.preview_hint = th.plain_label("Select a job to preview it here.")
        self.preview_hint.setStyleSheet(f"color: {th.colors().muted}; padding: 10px")
        self.preview_layout.addWidget(self.preview_hint)
        self.splitter = QSplitter(Qt.Vertical)
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(self.preview_host)
        self.splitter.setSizes([420, 440])
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet(f"padding: 6px 10px; color: {th.colors().muted}")
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.message)
        layout.addWidget(self.upload)
        layout.addWidget(self.batch_view)
        layout.addWidget(self.splitter, 1)
        self.setCentralWidget(body)
        self.resize(1180, 860)
        self.message.setText(f"Loading {self.hub_url}/api/jobs …")

        for box in (self.status_box, self.type_box, self.node_box, self.batch_box):
            box.currentIndexChanged.connect(self._filters_changed)
        th.theme.changed.connect(self.restyle)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.reload)
        self.timer.start(POLL_MS)
        self.nodes_timer = QTimer(self)
        self.nodes_timer.timeout.connect(self._load_nodes)
        self.nodes_timer.start(NODES_POLL_MS)
        self._load_nodes()
        self.reload()

    def restyle(self) -> None:
        c = th.colors()
        self.title.setStyleSheet(f"font-weight: 600; font-size: 14px; color: {c.text}")
        self.counts.setStyleSheet(f"color: {c.muted}; padding-left: 8px")
        self.message.setStyleSheet(f"padding: 6px 10px; color: {c.muted}")
        self.preview_hint.setStyleSheet(f"color: {c.muted}; padding: 10px")
        self.batch_view.restyle()
        if self.preview is not None:
            self.preview.bound_chart.restyle()
        now = time.time() + self._server_skew
        for row, job in enumerate(self.jobs):
            self._show_row(row, job, now)

    @staticmethod
    def _combo(everything: str, options: list[tuple[str, str]]) -> QComboBox:
        box = QComboBox()
        box.setMinimumWidth(130)
        box.addItem(everything, "")
        for data, text in options:
            box.addItem(text, data)
        return box

    def filters(self) -> dict[str, str]:
        f = {"status": self.status_box.currentData(), "type": self.type_box.currentData(),
             "node": self.node_box.currentData(), "batch": self.batch_box.currentData()}
        return {k: v for k, v in f.items() if v}

    def set_filter(self, name: str, value_: str) -> None:
        """Select `value_` in the status/type/node/batch filter (adding it if the hub has not listed it yet)."""
        box = {"status": self.status_box, "type": self.type_box, "node": self.node_box, "batch": self.batch_box}[name]
        i = box.findData(value_)
        if i < 0:
            box.addItem(value_, value_)
            i = box.count() - 1
        box.setCurrentIndex(i)

    # --- data -----------------------------------------------------------------------
    def _filters_changed(self) -> None:
        self._generation += 1
        self.reload(force=True)

    def reload(self, force: bool = False) -> None:
        if self._in_flight and not force:
            return
        self._in_flight += 1
        gen = self._generation
        self.batch_view.load(self.filters().get("batch"))
        fetch(self.hub_url, self.token, "/api/jobs", {"limit": PAGE_SIZE, **self.filters()},
              on_done=lambda body: self._on_jobs(body, gen), on_failed=lambda msg: self._on_failed(msg, gen))

    def _on_failed(self, message: str, generation: int) -> None:
        self._in_flight = max(0, self._in_flight - 1)
        if generation == self._generation:
            self.message.setText(f"<span style='color:{ERROR_RED}'>Could not load the queue: {_escape(message)}</span>")

    def _on_jobs(self, body: dict, generation: int) -> None:
        self._in_flight = max(0, self._in_flight - 1)
        if generation != self._generation or not isinstance(body, dict):
            return
        self._fill_combo(self.type_box, body.get("types") or [])
        self.upload.set_types(body.get("types") or [])
        jobs = body.get("jobs") or []
        self._fill_combo(self.node_box, sorted({j["claimed_by"] for j in jobs if j.get("claimed_by")}))
        self._fill_combo(self.batch_box, sorted({str(j["batch_id"]) for j in jobs if j.get("batch_id")}))
        self.show_jobs(body.get("jobs") or [], body.get("total", 0), body.get("counts") or {})

    def _load_nodes(self) -> None:
        fetch(self.hub_url, self.token, "/api/fleet", on_done=self._on_fleet)

    def _on_fleet(self, body: dict) -> None:
        if not isinstance(body, dict):
            return
        if isinstance(body.get("now"), (int, float)):
            self._server_skew = body["now"] - time.time()
        ids = sorted(n["id"] for n in body.get("nodes") or [] if isinstance(n, dict) and "id" in n)
        self._fill_combo(self.node_box, ids)

    @staticmethod
    def _fill_combo(box: QComboBox, values: list[str]) -> None:
        """Add the options the hub knows about, keeping the current choice (and any extra one)."""
        have = {box.itemData(i) for i in range(box.count())}
        box.blockSignals(True)
        for v in values:
            if v not in have:
                box.addItem(v, v)
        box.blockSignals(False)

    # --- drawing --------------------------------------------------------------------------
    def show_jobs(self, jobs: list[dict], total: int, counts: dict) -> None:
        now = time.time() + self._server_skew
        self.jobs = jobs
        self.counts.setText(" · ".join(f"{counts.get(s, 0)} {s}" for s in STATUSES))
        selected = self._selected_id()
        self.table.setUpdatesEnabled(False)
        self.table.setRowCount(len(jobs))
        self.rows_by_id = {}
        for row, job in enumerate(jobs):
            self.rows_by_id[int(job["id"])] = row
            self._show_row(row, job, now)
        self.table.setUpdatesEnabled(True)
        if selected in self.rows_by_id:
            self.table.selectRow(self.rows_by_id[selected])
        if not jobs:
            self.message.setText("No job matches these filters." if self.filters() else
                                 "The queue is empty. Submit work with <code>forge jobs submit FILE</code> "
                                 "(a JSON job, a JSPLIB instance or an MPS/LP model), or POST it to "
                                 "<code>/api/jobs</code>.")
        else:
            more = f" (the newest {len(jobs)} shown)" if total > len(jobs) else ""
            self.message.setText(f"{total} job{'s' if total != 1 else ''}{' matching' if self.filters() else ''}"
                                 f"{more} · updated {time.strftime('%H:%M:%S')} · select a job to preview it, "
                                 "double-click for its own window")
        self.jobs_shown.emit(len(jobs))

    def _show_row(self, row: int, job: dict, now: float) -> None:
        status = job.get("status") or "unknown"
        running = status == "running"
        shown = outcome(job)
        if running:
            summary = progress_text(job.get("progress"), job, now)
        elif status == "pending":
            summary = "waiting: " + waiting_text(job)
        else:
            summary = result_summary(job)
        took = "–"
        if job.get("claimed_at"):
            took = seconds((job.get("finished_at") or now) - job["claimed_at"])
        label = " · ".join(x for x in (job.get("label"), f"batch {job['batch_id']}" if job.get("batch_id") else None)
                           if x) or "–"
        texts = {COL_ID: f"#{job['id']}", COL_TYPE: str(job.get("type")), COL_LABEL: label, COL_STATUS: shown,
                 COL_RESULT: summary, COL_NODE: job.get("claimed_by") or "–",
                 COL_ATTEMPTS: f"{job.get('attempt_count', 0)}/{job.get('max_attempts', '?')}",
                 COL_CREATED: ago(now - job["created_at"]) if job.get("created_at") else "–", COL_TOOK: took}
        for col, text in texts.items():
            item = self.table.item(row, col)
            if item is None:
                item = QTableWidgetItem()
                if col in (COL_ID, COL_ATTEMPTS, COL_CREATED, COL_TOOK):
                    item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
                self.table.setItem(row, col, item)
            if item.text() != text:
                item.setText(text)
        self.table.item(row, COL_ID).setData(JOB_ID_ROLE, int(job["id"]))
        status_item = self.table.item(row, COL_STATUS)
        status_item.setForeground(QColor(STATUS_COLORS.get(shown, th.colors().text)))
        if shown != status:
            status_item.setToolTip("the job succeeded, but its solver found no solution")
        font = status_item.font()
        font.setBold(True)
        font.setStrikeOut(status == "cancelled")
        status_item.setFont(font)
        result_item = self.table.item(row, COL_RESULT)
        share = time_share(job, now) if running else None
        result_item.setData(SHARE_ROLE, (-1.0 if share is None else share) if running else None)
        result_item.setForeground(QColor(ERROR_RED if status == "failed" else
                                         th.colors().muted if status == "pending" else th.colors().text))
        result_item.setToolTip(th.plain_tip(job.get("error") or summary if status == "failed" else summary))
        if job.get("created_at"):
            self.table.item(row, COL_CREATED).setToolTip(when(job["created_at"]))

    def _selected_id(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        item = self.table.item(rows[0].row(), COL_ID)
        return item.data(JOB_ID_ROLE) if item else None

    # --- job windows -------------------------------------------------------------------------
    def _selection_changed(self) -> None:
        job_id = self._selected_id()
        if job_id is None or (self.preview is not None and self.preview.job_id == job_id):
            return
        self._close_preview()
        self.preview_hint.hide()
        self.preview = JobWindow(self.hub_url, self.token, job_id, self.preview_host)
        self.preview.batch_requested.connect(lambda b: self.set_filter("batch", b))
        self.preview_layout.addWidget(self.preview)
        self.preview.show()

    def _close_preview(self) -> None:
        if self.preview is not None:
            self.preview.close()
            self.preview.deleteLater()
            self.preview = None

    def show_job(self, job_id: int) -> None:
        """Preview `job_id` under the queue when it is listed, else open its own window."""
        if job_id in self.rows_by_id:
            self.table.selectRow(self.rows_by_id[job_id])
        else:
            self.open_job(job_id)

    def _open_row(self, row: int) -> None:
        item = self.table.item(row, COL_ID)
        if item is not None and item.data(JOB_ID_ROLE) is not None:
            self.open_job(int(item.data(JOB_ID_ROLE)))

    def open_job(self, job_id: int) -> JobWindow:
        for win in self.job_windows:
            if win.job_id == job_id:
                win.show()
                win.raise_()
                return win
        win = JobWindow(self.hub_url, self.token, job_id)
        win.batch_requested.connect(lambda b: self.set_filter("batch", b))
        self.job_windows.append(win)
        win.closed.connect(lambda: self.job_windows.remove(win) if win in self.job_windows else None)
        win.show()
        return win

    def closeEvent(self, event) -> None:
        self._generation += 1
        self.timer.stop()
        self.nodes_timer.stop()
        self._close_preview()
        th.theme.changed.disconnect(self.restyle)
        for win in list(self.job_windows):
            win.close()
        super().closeEvent(event)
        self.closed.emit()
