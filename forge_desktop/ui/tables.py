"""What the node window's tables share (processes.py, containers.py): the roles their
models answer, a delegate that draws a share as a bar beside its number, and one look
for both themes."""
from __future__ import annotations

import math

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QRectF, QSortFilterProxyModel, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QStyle, QStyledItemDelegate, QStyleOptionViewItem, \
    QTableView

from PySide6.QtWidgets import QFrame, QHBoxLayout, QVBoxLayout, QWidget

from . import theme as th

SORT_ROLE = Qt.UserRole + 20
"""The number (or lower-cased text) a column sorts by; None sorts last either way round."""
BAR_ROLE = Qt.UserRole + 21
"""0-1: how much of the bar a cell fills (its share of the machine), or None for no bar."""
ROW_H = 24
BAR_W = 64


class BarDelegate(QStyledItemDelegate):
    """A rounded bar on the left of the cell, the cell's own text right-aligned after it.
    The bar's colour follows the share, as the fleet cards' bars do (accent, amber, red)."""

    def __init__(self, kind: str = "cpu", parent=None):
        super().__init__(parent)
        self.kind = kind

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        share = index.data(BAR_ROLE)
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        text, opt.text = opt.text, ""
        style = opt.widget.style() if opt.widget else None
        if style is not None:
            style.drawControl(QStyle.CE_ItemViewItem, opt, painter, opt.widget)
        c = th.colors()
        r = option.rect.adjusted(6, 0, -6, 0)
        bar = QRectF(r.left(), r.center().y() - 3, min(BAR_W, r.width() * 0.45), 7)
        painter.save()
        painter.setRenderHint(QPainter.Antialiasing)
        painter.setPen(Qt.NoPen)
        if isinstance(share, (int, float)) and math.isfinite(share):
            painter.setBrush(QColor(c.track))
            painter.drawRoundedRect(bar, 3, 3)
            filled = QRectF(bar)
            filled.setWidth(max(2.0, bar.width() * max(0.0, min(1.0, share))))
            painter.setBrush(QColor(th.level_color(self.kind, share * 100)))
            painter.drawRoundedRect(filled, 3, 3)
        selected = bool(option.state & QStyle.State_Selected)
        fg = index.data(Qt.ForegroundRole)
        painter.setPen(option.palette.highlightedText().color() if selected else
                       QColor(fg.color() if hasattr(fg, "color") else fg) if fg is not None else QColor(c.text))
        painter.drawText(r.adjusted(int(bar.width()) + 6, 0, 0, 0), Qt.AlignRight | Qt.AlignVCenter, text)
        painter.restore()


def setup_table(view: QTableView) -> None:
    """Read-only rows, sortable by the header, compact rows, no inner scrolling (the page scrolls)."""
    view.setEditTriggers(QAbstractItemView.NoEditTriggers)
    view.setSelectionBehavior(QAbstractItemView.SelectRows)
    view.setSelectionMode(QAbstractItemView.SingleSelection)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    view.setShowGrid(False)
    view.setSortingEnabled(True)
    view.verticalHeader().hide()
    view.verticalHeader().setSectionResizeMode(QHeaderView.Fixed)
    view.verticalHeader().setDefaultSectionSize(ROW_H)
    view.horizontalHeader().setHighlightSections(False)
    view.horizontalHeader().setStretchLastSection(True)
    view.horizontalHeader().setDefaultAlignment(Qt.AlignLeft | Qt.AlignVCenter)
    view.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
    view.setVerticalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
    view.setTextElideMode(Qt.ElideRight)


def fit_rows(view: QTableView, rows: int) -> None:
    """As tall as its rows, so the page's scroll bar is the only one."""
    header = view.horizontalHeader()
    head_h = max(header.height(), header.sizeHint().height())  # height() is 0 until the view is first laid out
    view.setFixedHeight(head_h + max(rows, 1) * ROW_H + 2 * view.frameWidth() + 2)


def table_style() -> str:
    c = th.colors()
    stripe = "#252b33" if c.dark else "#f6f8fa"
    return (f"QTableView {{ background: {c.surface}; alternate-background-color: {stripe}; color: {c.text};"
            f" border: 1px solid {c.border}; border-radius: 4px; selection-background-color: {c.accent};"
            f" selection-color: white; }}"
            f"QHeaderView::section {{ background: {c.track}; color: {c.muted}; border: none;"
            f" border-bottom: 1px solid {c.border}; padding: 3px 6px; font-weight: 600; }}")


def sort_key(value):
    """Numbers as they are, text without case; None is kept for the proxy to put last."""
    return value.lower() if isinstance(value, str) else value



class SortProxy(QSortFilterProxyModel):
    """Sorts by SORT_ROLE; a cell without a value (None) goes last whichever way the column is sorted."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)
        self.setDynamicSortFilter(True)

    def lessThan(self, left: QModelIndex, right: QModelIndex) -> bool:
        a, b = left.data(SORT_ROLE), right.data(SORT_ROLE)
        if a is None or b is None:
            return a is not None and b is None if self.sortOrder() == Qt.AscendingOrder else \
                a is None and b is not None
        return a < b


def num(v) -> float | None:
    """A sample's number, or None for anything else (a bool is not a number here)."""
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def text(v) -> str:
    return v if isinstance(v, str) else ""


class BarTablePanel(QFrame):
    """A node-window section: a title, a readout and a sortable table whose CPU and memory
    columns draw bars; hidden until there are rows. Processes and containers are two."""

    def __init__(self, title: str, model: QAbstractTableModel, widths: tuple[int, ...],
                 bars: tuple[int, int], sort: tuple[int, Qt.SortOrder], parent: QWidget | None = None):
        super().__init__(parent)
        self.title = th.plain_label(title)
        self.readout = th.plain_label()
        self.model = model
        self.proxy = SortProxy(self)
        self.proxy.setSourceModel(self.model)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        setup_table(self.table)
        self.bars = BarDelegate("cpu", self.table), BarDelegate("mem", self.table)
        for col, delegate in zip(bars, self.bars):
            self.table.setItemDelegateForColumn(col, delegate)
        for col, w in enumerate(widths):
            self.table.setColumnWidth(col, w)
        self.table.sortByColumn(*sort)
        head = QHBoxLayout()
        head.addWidget(self.title)
        head.addWidget(self.readout, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 10, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(head)
        layout.addWidget(self.table)
        self._shown: tuple | None = None
        self.hide()

    def restyle(self, greyed: bool) -> None:
        c = th.colors()
        self.title.setStyleSheet(f"font-weight: 600; font-size: 14px; color: {c.text}")
        self.readout.setStyleSheet(f"color: {c.muted}; padding-left: 12px")
        self.table.setStyleSheet(table_style())


class RowsModel(QAbstractTableModel):
    """Rows of a sample's list (processes, containers), with what scales their bars: the
    node's cores and memory. Subclasses name their `columns` and say what a cell shows."""

    columns: tuple[str, ...] = ()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.rows: list[dict] = []
        self.cores = 0
        self.mem_total: float | None = None
        self.greyed = False

    def set_items(self, items: list, cores: int, mem_total: float | None, greyed: bool) -> None:
        self.beginResetModel()
        self.rows = [x for x in items if isinstance(x, dict)]
        self.cores, self.mem_total, self.greyed = cores, mem_total, greyed
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.columns)

    def bar_share(self, col: int, v: float | None, cpu_col: int, mem_col: int) -> float | None:
        """A CPU cell's share of all the node's cores, a memory cell's of its RAM."""
        if col == cpu_col and v is not None and self.cores:
            return v / (100.0 * self.cores)
        if col == mem_col and v is not None and self.mem_total:
            return v / self.mem_total
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.DisplayRole):
        if orientation == Qt.Horizontal and role == Qt.DisplayRole:
            return self.columns[section]
        return None
