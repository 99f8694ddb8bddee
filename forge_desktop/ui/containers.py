"""The node window's containers table (schema 2 `containers`, from the Docker or Podman
engine on the node): name, image, state as a coloured dot, CPU and memory as bars.

CPU is in % of one core, as `docker stats` shows it; its bar is the share of the whole
machine, and memory's the share of the node's RAM, as in the processes table.
"""
from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QWidget

from . import theme as th
from .charts import size
from .tables import BAR_ROLE, SORT_ROLE, BarTablePanel, RowsModel, fit_rows, num, sort_key, text

COLUMNS = ("Name", "State", "CPU", "Memory", "Image", "ID")
NAME, STATE, CPU, MEMORY, IMAGE, ID = range(len(COLUMNS))
WIDTHS = (170, 100, 150, 150, 220)
STATE_KEYS = {"running": "ok", "paused": "warn", "restarting": "warn", "created": "offline", "exited": "offline",
              "dead": "bad", "removing": "offline"}
STATE_ORDER = {"running": 0, "restarting": 1, "paused": 2, "created": 3, "exited": 4, "dead": 5}




class ContainerModel(RowsModel):
    columns = COLUMNS

    def value(self, row: int, col: int):
        x = self.rows[row]
        return (text(x.get("name")), text(x.get("state")), num(x.get("cpu_percent")), num(x.get("mem_used")),
                text(x.get("image")), text(x.get("id")))[col]

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.DisplayRole):
        if not index.isValid():
            return None
        row, col = index.row(), index.column()
        v = self.value(row, col)
        c = th.colors()
        if role == Qt.DisplayRole:
            if col == CPU:
                return "–" if v is None else f"{v:.1f} %"
            if col == MEMORY:
                return size(v)
            return v
        if role == SORT_ROLE:
            return STATE_ORDER.get(v, 9) if col == STATE else sort_key(v if v != "" else None)
        if role == BAR_ROLE:
            return self.bar_share(col, v, CPU, MEMORY)
        if role == Qt.DecorationRole and col == STATE:
            return QColor(c.offline if self.greyed else getattr(c, STATE_KEYS.get(v, "offline")))
        if role == Qt.ToolTipRole:
            x = self.rows[row]
            return th.plain_tip(f"{text(x.get('name'))} · {text(x.get('image'))} · {text(x.get('state'))}"
                                f" · id {text(x.get('id'))}")
        if role == Qt.TextAlignmentRole and col in (CPU, MEMORY):
            return int(Qt.AlignRight | Qt.AlignVCenter)
        if role == Qt.ForegroundRole:
            return QColor(c.muted if self.greyed or col in (IMAGE, ID) else c.text)
        return None


class ContainersPanel(BarTablePanel):
    """The "Containers" section; hidden when the node's latest sample lists none."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Containers", ContainerModel(), WIDTHS, (CPU, MEMORY), (STATE, Qt.AscendingOrder), parent)

    def show_containers(self, sample: dict, cores: int, greyed: bool) -> None:
        items = sample.get("containers")
        if not isinstance(items, list) or not items:
            self.hide()
            return
        mem_total = num((sample.get("memory") or {}).get("total"))
        shown = (items, cores, mem_total, greyed, th.colors().dark)
        if shown == self._shown and not self.isHidden():
            return  # the engine's answer changes every 5 s; the rows stay put in between
        self._shown = shown
        self.model.set_items(items, cores, mem_total, greyed)
        fit_rows(self.table, self.model.rowCount())
        running = sum(1 for x in self.model.rows if x.get("state") == "running")
        self.readout.setText(f"{'last seen: ' if greyed else ''}{running} running of {len(self.model.rows)}"
                             " · CPU in % of one core")
        self.show()
