"""A finished job's result drawn by its type in the native windows: job-shop Gantt chart,
prodplan plan table and capacity chart, an MPS model's summary and values, JSON otherwise;
and the small read-only tables and labels the job window builds with. Charts: job_charts.py."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QLabel, QTableWidget, QTableWidgetItem, QVBoxLayout,
                               QWidget)

from forge_contracts.jobtypes.display import gap_text, seconds

from .. import theme as th
from .charts import CapacityChart, GanttChart, value

MPS_ROWS = 50
PAYLOAD_CHARS = 20000


# --- small widgets ---------------------------------------------------------------------
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
