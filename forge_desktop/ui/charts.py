"""The node window's chart (a titled pyqtgraph plot on a real time axis, with a readout)
and the readable numbers its panels print, shared by node_window.py and the schema 2
panels beside it (devices.py, processes.py)."""
from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QFrame, QHBoxLayout, QVBoxLayout, QWidget

from . import theme as th

CHART_H = 170
PALETTE = ("#2f6fd6", "#d9822b", "#2e9d58", "#8e44ad")


# --- readable numbers ------------------------------------------------------------------
def rate(v: float | None) -> str:
    if v is None or not math.isfinite(v):
        return "–"
    for unit in ("B/s", "KB/s", "MB/s", "GB/s"):
        if abs(v) < 1024 or unit == "GB/s":
            return f"{v:.0f} {unit}" if unit == "B/s" else f"{v:.1f} {unit}"
        v /= 1024
    return "–"


def size(v: float | None) -> str:
    if v is None:
        return "–"
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(v) < 1024 or unit == "TB":
            return f"{v:.0f} {unit}" if unit == "B" else f"{v:.1f} {unit}"
        v /= 1024
    return "–"


def pct(v: float | None) -> str:
    return "–" if v is None or not math.isfinite(v) else f"{v:.1f} %"


class Chart(QFrame):
    """A titled chart with a readout line, on real time axes."""

    def __init__(self, title: str, height: int = CHART_H, parent: QWidget | None = None):
        super().__init__(parent)
        self.title = th.plain_label(title)
        self.readout = th.plain_label()
        self.plot_widget = pg.PlotWidget(axisItems={"bottom": pg.DateAxisItem(orientation="bottom")})
        self.plot_widget.setFixedHeight(height)
        self.y_range: tuple[float, float] | None = None
        self.plot: pg.PlotItem = self.plot_widget.getPlotItem()
        self.plot.showGrid(x=True, y=True, alpha=0.15)
        self.plot.setMouseEnabled(x=True, y=False)
        self.plot.hideButtons()
        self.plot.getAxis("bottom").setHeight(30)
        self.plot.getAxis("left").setWidth(56)  # the same for every chart, so their time axes line up
        self.plot.getViewBox().setMouseMode(pg.ViewBox.RectMode)  # drag to zoom into a stretch of time
        self.cursor = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("#888", width=1, style=Qt.DashLine))
        self.cursor.hide()
        self.plot.addItem(self.cursor, ignoreBounds=True)
        head = QHBoxLayout()
        head.addWidget(self.title)
        head.addWidget(self.readout, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(head)
        layout.addWidget(self.plot_widget)

    def curve(self, color: str, name: str | None = None, width: float = 1.5, fill: bool = False) -> pg.PlotDataItem:
        """A line of this chart, named in its legend (no legend without a name); `fill` shades the area under it."""
        if name and self.plot.legend is None:
            self.plot.addLegend(offset=(-10, 5), labelTextSize="8pt")
        kw = {"fillLevel": 0, "brush": pg.mkBrush(QColor(color).red(), QColor(color).green(),
                                                   QColor(color).blue(), 40)} if fill else {}
        return self.plot.plot(pen=pg.mkPen(color, width=width), name=name, connect="finite", **kw)

    @staticmethod
    def dots(curve: pg.PlotDataItem) -> pg.ScatterPlotItem:
        """Dots in `curve`'s colour on its plot, for the points its line cannot show (a point
        between two silences: `node_window.isolated`)."""
        dots = pg.ScatterPlotItem(size=5, pen=None, brush=pg.mkBrush(curve.opts["pen"].color()))
        curve.getViewBox().addItem(dots)
        return dots

    def keep_y(self) -> None:
        """Zooming is about time: put the value axis back (fixed, or following the data)."""
        if self.y_range:
            self.plot.setYRange(*self.y_range, padding=0.02 if self.y_range[1] == 100 else 0)
        else:
            self.plot.enableAutoRange(y=True)

    def restyle(self, greyed: bool) -> None:
        c = th.colors()
        self.title.setStyleSheet(f"font-weight: 600; color: {c.text}")
        self.readout.setStyleSheet(f"color: {c.muted if greyed else c.text}; padding-left: 12px")
        self.plot_widget.setBackground(c.surface)
        for name in ("left", "bottom"):
            axis = self.plot.getAxis(name)
            axis.setPen(c.muted)
            axis.setTextPen(c.muted)
        if self.plot.legend is not None:
            self.plot.legend.setLabelTextColor(c.muted)
