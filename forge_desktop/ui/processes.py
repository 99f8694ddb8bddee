"""The node window's processes table: the top processes of the node's newest process list
(schema 2 `processes`, one list every 5 s), sortable by any column, CPU first.

The list comes from the snapshot's `processes` (the newest the hub holds) and then from
each live `sample` event that carries one. CPU is in % of one core, as `top` shows it
(a process with three busy threads reads 300 %); its bar is the share of the whole
machine, so a bar is full only when the process uses every core. Memory's bar is the
share of the node's RAM. The full command line is each row's tooltip.
"""
from __future__ import annotations

import time

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QWidget

from . import theme as th
from .charts import size
from .tables import BAR_ROLE, SORT_ROLE, BarTablePanel, RowsModel, fit_rows, num, sort_key, text

COLUMNS = ("Name", "PID", "User", "CPU", "Memory", "Command")
NAME, PID, USER, CPU, MEMORY, COMMAND = range(len(COLUMNS))
WIDTHS = (170, 70, 100, 150, 150)




class ProcessModel(RowsModel):
    """One row per process of the latest list; `cores` and `mem_total` scale the bars."""

    columns = COLUMNS

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.DisplayRole):
        if orientation == Qt.Horizontal and role == Qt.ToolTipRole:
            return {CPU: "% of one core since the previous list (5 s, 1 s while watched), as top shows it; "
                         "the bar is the share of all cores",
                    MEMORY: "resident memory; the bar is the share of the node's RAM"}.get(section)
        return super().headerData(section, orientation, role)

    def value(self, row: int, col: int):
        p = self.rows[row]
        return (text(p.get("name")), p.get("pid"), p.get("user"), num(p.get("cpu_percent")), num(p.get("rss")),
                p.get("cmdline"))[col]

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.DisplayRole):
        if not index.isValid():
            return None
        row, col = index.row(), index.column()
        v = self.value(row, col)
        if role == Qt.DisplayRole:
            if col == CPU:
                return "–" if v is None else f"{v:.1f} %"
            if col == MEMORY:
                return size(v)
            if col == PID:
                return "" if v is None else str(v)
            return text(v) or ("–" if col == USER else "")
        if role == SORT_ROLE:
            return sort_key(v if col != NAME else v or None)
        if role == BAR_ROLE:
            return self.bar_share(col, v, CPU, MEMORY)
        if role == Qt.ToolTipRole:
            p = self.rows[row]
            return th.plain_tip(text(p.get("cmdline")) or f"{text(p.get('name'))} (no command line: a kernel "
                                                             "thread, or the OS keeps it private)")
        if role == Qt.TextAlignmentRole and col in (PID, CPU, MEMORY):
            return int(Qt.AlignRight | Qt.AlignVCenter)
        if role == Qt.ForegroundRole:
            c = th.colors()
            return QColor(c.muted if self.greyed or col in (PID, USER, COMMAND) else c.text)
        return None


class ProcessesPanel(BarTablePanel):
    """The "Processes" section; hidden while the node has sent no process list (schema 1 agents)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Processes", ProcessModel(), WIDTHS, (CPU, MEMORY), (CPU, Qt.DescendingOrder), parent)

    def show_processes(self, processes: dict | None, cores: int, mem_total: float | None, greyed: bool) -> None:
        """`processes` is {"ts", "items"} as the snapshot gives it, or None."""
        items = processes.get("items") if isinstance(processes, dict) else None
        if not isinstance(items, list) or not items:
            self.hide()
            return
        shown = (processes.get("ts"), len(items), cores, mem_total, greyed, th.colors().dark)
        if shown == self._shown and not self.isHidden():
            return  # the same list: keep the hover and the selection
        self._shown = shown
        self.model.set_items(items, cores, mem_total, greyed)
        fit_rows(self.table, self.model.rowCount())
        ts = processes.get("ts")
        when = time.strftime("%H:%M:%S", time.localtime(ts)) if isinstance(ts, (int, float)) else "–"
        self.readout.setText(f"{'last seen' if greyed else 'top'} {len(self.model.rows)} at {when} · "
                             "CPU in % of one core · hover a row for its command line")
        self.show()
