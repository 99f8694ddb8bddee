"""A batch in the native jobs window: how far it is, Cancel batch, and for a 2-parameter
sweep a pivot of its ranked result (objective or makespan) over the grid, as the dashboard's
batch page shows it. Reads GET /api/batches/{id}; cancels with POST /api/batches/{id}/cancel."""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QPushButton, QTableWidget, QTableWidgetItem,
                               QVBoxLayout, QWidget)

from forge_contracts.jobtypes.display import value

from .. import theme as th
from ..admin_action import AdminAction
from ..api_reader import fetch
from ..vocab import vocabulary

RANK = {"prodplan": ("objective", "Objective"), "jobshop": ("makespan", "Makespan"), "mps": ("objective", "Objective")}
JOB_ID_ROLE = Qt.UserRole + 2


def parse_factors(label: str | None) -> dict[str, float]:
    """"capacity×0.8, setup_cost×2" -> {"capacity": 0.8, "setup_cost": 2.0} (the labels sweeps give their jobs)."""
    out: dict[str, float] = {}
    for part in (label or "").split(", "):
        name, sep, factor = part.rpartition("×")
        if not sep or not name:
            continue
        try:
            out[name] = float(factor)
        except ValueError:
            pass
    return out


@dataclass
class Pivot:
    row_key: str
    col_key: str
    rows: list[float]
    cols: list[float]
    cells: list[list[dict | None]]
    """Per (row, column) factor: the job with those factors, or None."""
    best: float | None
    worst: float | None


def rank_of(job: dict, rank: str) -> float | None:
    r = job.get("result") or {}
    v = r.get(rank)
    return v if job.get("status") == "succeeded" and isinstance(v, (int, float)) and not isinstance(v, bool) else None


def pivot(jobs: list[dict], grid: dict[str, list[float]], rank: str, lower_better: bool = True) -> Pivot:
    """The jobs of a 2-parameter sweep placed on its grid by the factors in their labels."""
    row_key, col_key = list(grid)
    rows, cols = [float(x) for x in grid[row_key]], [float(x) for x in grid[col_key]]
    cells: list[list[dict | None]] = [[None] * len(cols) for _ in rows]
    for job in jobs:
        f = parse_factors(job.get("label"))
        if f.get(row_key) in rows and f.get(col_key) in cols:
            cells[rows.index(f[row_key])][cols.index(f[col_key])] = job
    values = [v for row in cells for j in row if j and (v := rank_of(j, rank)) is not None]
    pick, other = (min, max) if lower_better else (max, min)
    return Pivot(row_key, col_key, rows, cols, cells, pick(values) if values else None,
                 other(values) if values else None)


def lower_is_better(batch: dict) -> bool:
    """Lower ranks first, except for an MPS model that maximises."""
    jobs = batch.get("jobs") or []
    sense = next((j["result"].get("sense") for j in jobs if isinstance(j.get("result"), dict)
                  and j["result"].get("sense")), None)
    return (batch.get("spec") or {}).get("type") != "mps" or sense != "maximize"


class BatchView(QWidget):
    """One batch: a line on its progress, Cancel batch, and the pivot of a 2-parameter sweep."""
    job_requested = Signal(int)
    cancelled = Signal(list)

    def __init__(self, hub_url: str, token: str | None, parent: QWidget | None = None):
        super().__init__(parent)
        self.hub_url, self.token = hub_url, token
        self.batch_id: str | None = None
        self.batch: dict | None = None
        self.grid: Pivot | None = None
        self._generation = 0
        self.title = th.plain_label()
        self.title.setStyleSheet("font-weight: 600; font-size: 14px")
        self.summary = th.plain_label()
        self.cancel_button = QPushButton("Cancel batch")
        self.cancel_button.setToolTip("Cancel every job of this batch that has not ended")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.hide()
        self._armed = False
        self.action = AdminAction(hub_url, token)
        self.pivot_title = th.plain_label()
        self.pivot_title.setStyleSheet("font-weight: 600; margin-top: 4px")
        self.table = QTableWidget(0, 0)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.cellDoubleClicked.connect(self._open_cell)
        self.table.setToolTip("Double-click a cell to open its job")
        self.pivot_note = th.plain_label()
        for w in (self.pivot_title, self.table, self.pivot_note):
            w.hide()
        head = QHBoxLayout()
        head.addWidget(self.title)
        head.addWidget(self.summary, 1)
        head.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.addLayout(head)
        layout.addWidget(self.action)
        layout.addWidget(self.pivot_title)
        layout.addWidget(self.table)
        layout.addWidget(self.pivot_note)
        self.restyle()

    def restyle(self) -> None:
        c = th.colors()
        self.summary.setStyleSheet(f"color: {c.muted}; padding-left: 8px")
        self.pivot_note.setStyleSheet(f"color: {c.muted}")
        if self.batch:
            self.show_batch(self.batch)

    def load(self, batch_id: str | None) -> None:
        if batch_id != self.batch_id:
            self._generation += 1
            self.batch_id, self.batch = batch_id, None
            self.action.say("")
        self.setVisible(bool(batch_id))
        if not batch_id:
            return
        gen = self._generation
        fetch(self.hub_url, self.token, f"/api/batches/{batch_id}",
              on_done=lambda body: gen == self._generation and isinstance(body, dict) and self.show_batch(body),
              on_failed=lambda msg: gen == self._generation and self.action.say(f"Could not load the batch: {msg}",
                                                                               error=True))

    def show_batch(self, batch: dict) -> None:
        self.batch = batch
        jobs = batch.get("jobs") or []
        spec = batch.get("spec") or {}
        finished = sum(vocabulary(self.hub_url).is_final(j.get("status")) for j in jobs)
        by: dict[str, int] = {}
        for j in jobs:
            by[j.get("status", "?")] = by.get(j.get("status", "?"), 0) + 1
        self.title.setText(batch.get("label") or spec.get("label") or f"Batch {batch.get('id')}")
        grid = spec.get("grid") or {}
        grid_text = "; ".join(f"{k} × {', '.join(f'{v:g}' for v in vs)}" for k, vs in grid.items())
        self.summary.setText(" · ".join(x for x in (spec.get("type"), grid_text, f"{finished} of {len(jobs)} finished",
                                                    ", ".join(f"{n} {s}" for s, n in by.items())) if x))
        self.cancel_button.setVisible(finished < len(jobs))
        job_type = spec.get("type") or (jobs[0].get("type") if jobs else "")
        if len(grid) == 2 and job_type in RANK:
            self._show_pivot(jobs, grid, *RANK[job_type], lower_is_better(batch))
        else:
            self.grid = None
            for w in (self.pivot_title, self.table, self.pivot_note):
                w.hide()

    def _show_pivot(self, jobs: list[dict], grid: dict, rank: str, label: str, lower: bool) -> None:
        p = self.grid = pivot(jobs, grid, rank, lower)
        c = th.colors()
        self.pivot_title.setText(f"{label} over the grid")
        self.table.setRowCount(len(p.rows))
        self.table.setColumnCount(len(p.cols))
        self.table.setHorizontalHeaderLabels([f"{p.col_key} × {v:g}" for v in p.cols])
        self.table.setVerticalHeaderLabels([f"{p.row_key} × {v:g}" for v in p.rows])
        span = abs(p.worst - p.best) if p.best is not None and p.worst is not None else 0.0
        ok = QColor(c.ok)
        for i, row in enumerate(p.cells):
            for j, job in enumerate(row):
                v = rank_of(job, rank) if job else None
                text = "–" if job is None else value(v) if v is not None else str(job.get("status"))
                item = QTableWidgetItem(text + ("  ★ best" if v is not None and v == p.best else ""))
                item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
                if job is not None:
                    item.setData(JOB_ID_ROLE, int(job["id"]))
                    item.setToolTip(th.plain_tip(f"job #{job['id']} · {job.get('label') or ''}"))
                if v is not None:
                    closeness = 1 - (abs(v - p.best) / span if span else 0)
                    shade = QColor(ok)
                    shade.setAlphaF(0.10 + 0.45 * closeness)
                    item.setBackground(shade)
                    if v == p.best:
                        font = item.font()
                        font.setBold(True)
                        item.setFont(font)
                else:
                    item.setForeground(QColor(c.bad if job and job.get("status") == "failed" else c.muted))
                self.table.setItem(i, j, item)
        self.table.resizeColumnsToContents()
        self.table.setFixedHeight(self.table.horizontalHeader().height() + 2
                                  + sum(self.table.rowHeight(r) for r in range(len(p.rows))))
        self.table.setMaximumWidth(self.table.verticalHeader().width() + 4
                                   + sum(self.table.columnWidth(c) for c in range(len(p.cols))))
        self.pivot_note.setText("Cells fill in as the scenarios finish." if p.best is None else
                                f"{'Lower' if lower else 'Higher'} is better; the greener, the closer to the best. "
                                "Double-click a cell to open its job.")
        for w in (self.pivot_title, self.table, self.pivot_note):
            w.show()

    def _disarm(self) -> None:
        self._armed = False
        self.cancel_button.setText("Cancel batch")

    def _open_cell(self, row: int, col: int) -> None:
        item = self.table.item(row, col)
        if item is not None and item.data(JOB_ID_ROLE) is not None:
            self.job_requested.emit(int(item.data(JOB_ID_ROLE)))

    def cancel(self) -> None:
        """The first click asks (it names how many jobs it stops); a second within 5 s cancels."""
        if not self.batch_id:
            return
        if not self._armed:
            left = sum(not vocabulary(self.hub_url).is_final(j.get("status")) for j in (self.batch or {}).get("jobs") or [])
            self._armed = True
            self.cancel_button.setText(f"Cancel {left} job{'s' if left != 1 else ''}? Click again")
            QTimer.singleShot(5000, self._disarm)
            return
        self._disarm()
        batch_id = self.batch_id

        def done(body) -> None:
            ids = body.get("cancelled", []) if isinstance(body, dict) else []
            self.action.say(f"Cancelled {len(ids)} job{'s' if len(ids) != 1 else ''}." if ids else
                            "Every job of this batch had already ended.")
            self.cancelled.emit(ids)
            self.load(batch_id)
        self.action.run("Cancel batch", f"/api/batches/{batch_id}/cancel", {}, done)
