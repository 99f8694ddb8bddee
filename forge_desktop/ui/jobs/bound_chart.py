"""A running job's incumbent and bound over time (pyqtgraph), as the dashboard's job page
draws them: the points this window has seen since it opened, one per change."""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt

from .. import theme as th


def incumbent_and_bound(progress: dict | None) -> tuple[float | None, float | None]:
    """The best solution and the bound a solver reported, whatever its type calls them."""
    p = progress or {}
    inc = next((p[k] for k in ("incumbent", "objective", "makespan") if isinstance(p.get(k), (int, float))), None)
    bound = next((p[k] for k in ("bound", "lower_bound") if isinstance(p.get(k), (int, float))), None)
    return inc, bound


class BoundChart(pg.PlotWidget):
    """Incumbent (solid) and bound (dashed) against seconds since the job started."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setMinimumHeight(150)
        self.setMaximumHeight(200)
        self.setMenuEnabled(False)
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        self.points: list[tuple[float, float | None, float | None]] = []
        self.getPlotItem().setLabel("bottom", "seconds since it started")
        self.legend = self.getPlotItem().addLegend(offset=(-10, 10))
        self.inc_curve = self.plot(name="incumbent")
        self.bound_curve = self.plot(name="bound")
        self.restyle()

    def restyle(self) -> None:
        c = th.colors()
        self.setBackground(c.surface)
        for curve, color, style in ((self.inc_curve, c.accent, Qt.SolidLine), (self.bound_curve, c.muted, Qt.DashLine)):
            curve.setPen(pg.mkPen(color, width=2, style=style))
            # a dot per report: a value reported once still shows
            curve.setSymbol("o")
            curve.setSymbolSize(5)
            curve.setSymbolPen(pg.mkPen(color))
            curve.setSymbolBrush(pg.mkBrush(color))
        for axis in ("left", "bottom"):
            ax = self.getPlotItem().getAxis(axis)
            ax.setPen(pg.mkPen(c.border))
            ax.setTextPen(pg.mkPen(c.muted))
        self.legend.setLabelTextColor(c.text)

    def add(self, t: float, inc: float | None, bound: float | None) -> bool:
        """Add a report at `t` seconds; only a change of either value makes a point. True when drawn."""
        if inc is None and bound is None:
            return False
        if self.points and self.points[-1][1:] == (inc, bound):
            return False
        self.points.append((t, inc, bound))
        for curve, i in ((self.inc_curve, 1), (self.bound_curve, 2)):
            pts = [(p[0], p[i]) for p in self.points if p[i] is not None]
            curve.setData([p[0] for p in pts], [p[1] for p in pts])
        return True

    def clear_points(self) -> None:
        self.points.clear()
        self.inc_curve.setData([], [])
        self.bound_curve.setData([], [])
