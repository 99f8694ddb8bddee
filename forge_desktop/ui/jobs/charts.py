"""Charts of job results painted with QPainter: a job-shop Gantt chart (one row per machine)
and a lot-sizing capacity chart. Shared by the jobs window; no network, no state beyond a result."""
from __future__ import annotations

import math
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import QToolTip, QWidget

from forge_contracts.jobtypes.display import value

ERROR_RED = "#b3261e"


def job_color(job: int) -> QColor:
    """A colour per job that stays apart from its neighbours (golden-angle hues)."""
    return QColor.fromHslF(((job * 137.508) % 360) / 360, 0.58, 0.52)


def nice_ticks(top: float, target: int) -> list[float]:
    """Round tick values from 0 to about `top`, about `target` of them."""
    if not top > 0:
        return [0.0]
    raw = top / max(1, target)
    mag = 10 ** math.floor(math.log10(raw))
    norm = raw / mag
    step = (1 if norm <= 1 else 2 if norm <= 2 else 2.5 if norm <= 2.5 else 5 if norm <= 5 else 10) * mag
    return [round(i * step, 10) for i in range(int(top / step + 1e-9) + 1)]


# --- charts ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Operation:
    job: int
    op: int
    machine: int
    start: float
    end: float


class GanttChart(QWidget):
    """A job-shop schedule: one row per machine, one bar per operation coloured by its job.

    Pointing at an operation names it in a tooltip and dims every other job.
    """
    LEFT, RIGHT, TOP, BOTTOM, GAP = 84, 16, 8, 28, 4

    def __init__(self, schedule: list[dict], makespan: float | None = None, machines: int | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.ops = [Operation(int(s["job"]), int(s.get("op", 0)), int(s["machine"]), float(s["start"]),
                              float(s["end"])) for s in schedule]
        ids = {o.machine for o in self.ops}
        if isinstance(machines, int):
            ids |= set(range(machines))
        self.machines = sorted(ids)
        self.makespan = makespan
        self.end = max([makespan or 0, *(o.end for o in self.ops), 1])
        self.row_h = 16 if len(self.machines) > 30 else 24
        self.hover_job: int | None = None
        self.setMouseTracking(True)
        self.setMinimumWidth(360)
        self.setFixedHeight(self.TOP + len(self.machines) * (self.row_h + self.GAP) + self.BOTTOM)

    def _x(self, t: float) -> float:
        plot_w = max(50, self.width() - self.LEFT - self.RIGHT)
        return self.LEFT + t / self.end * plot_w

    def lane(self, machine: int) -> QRectF:
        i = self.machines.index(machine)
        return QRectF(self.LEFT, self.TOP + i * (self.row_h + self.GAP),
                      max(50, self.width() - self.LEFT - self.RIGHT), self.row_h)

    def op_rect(self, op: Operation) -> QRectF:
        lane = self.lane(op.machine)
        x0 = self._x(op.start)
        return QRectF(x0, lane.top() + 1, max(1.0, self._x(op.end) - x0), self.row_h - 2)

    def op_at(self, pos: QPointF) -> Operation | None:
        return next((o for o in self.ops if self.op_rect(o).contains(pos)), None)

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing)
        p.fillRect(self.rect(), Qt.white)
        bottom = self.height() - self.BOTTOM
        small = QFont(self.font())
        small.setPointSizeF(max(7.0, small.pointSizeF() - 1))
        p.setFont(small)
        for m in self.machines:
            lane = self.lane(m)
            p.fillRect(lane, QColor("#f1f3f6"))
            p.setPen(QColor("#444"))
            p.drawText(QRectF(0, lane.top(), self.LEFT - 8, lane.height()), Qt.AlignRight | Qt.AlignVCenter,
                       f"Machine {m}")
        plot_w = self.width() - self.LEFT - self.RIGHT
        for t in nice_ticks(self.end, max(2, plot_w // 70)):
            x = self._x(t)
            p.setPen(QPen(QColor(0, 0, 0, 30), 1))
            p.drawLine(QPointF(x, self.TOP), QPointF(x, bottom + 4))
            p.setPen(QColor("#555"))
            p.drawText(QRectF(x - 30, bottom + 6, 60, 16), Qt.AlignCenter, value(t))
        for op in self.ops:
            rect = self.op_rect(op)
            color = job_color(op.job)
            if self.hover_job is not None and op.job != self.hover_job:
                color.setAlpha(70)
            p.setPen(QPen(QColor("#222"), 1.5) if op.job == self.hover_job else Qt.NoPen)
            p.setBrush(color)
            p.drawRoundedRect(rect, 3, 3)
            if rect.width() >= 22 and self.row_h >= 20:
                p.setPen(QColor("white"))
                p.drawText(rect, Qt.AlignCenter, f"J{op.job}")
        if self.makespan is not None:
            x = self._x(self.makespan)
            p.setPen(QPen(QColor(ERROR_RED), 1.5, Qt.DashLine))
            p.drawLine(QPointF(x, self.TOP - 4), QPointF(x, bottom + 4))
        p.end()

    def mouseMoveEvent(self, event) -> None:
        op = self.op_at(event.position())
        job = op.job if op else None
        if job != self.hover_job:
            self.hover_job = job
            self.update()
        if op:
            QToolTip.showText(event.globalPosition().toPoint(),
                              f"<b>Job {op.job}, operation {op.op}</b><br>Machine {op.machine}<br>"
                              f"{value(op.start)} → {value(op.end)} ({value(op.end - op.start)})", self)
        else:
            QToolTip.hideText()

    def leaveEvent(self, event) -> None:
        self.hover_job = None
        self.update()


class CapacityChart(QWidget):
    """Capacity use per period: production and setup time stacked against the capacity line;
    overtime is the part above it."""
    LEFT, RIGHT, TOP, BOTTOM = 60, 12, 20, 30
    COLORS = {"production": "#2f6fd6", "setup": "#d9822b", "overtime": ERROR_RED, "capacity": "#222"}

    def __init__(self, use: list[dict], parent: QWidget | None = None):
        super().__init__(parent)
        self.use = use
        top = max([1.0, *(max(u.get("capacity", 0) + (u.get("overtime") or 0), u.get("used", 0)) for u in use)])
        self.y_ticks = nice_ticks(1.08 * top, 5)
        if self.y_ticks[-1] < 1.08 * top:
            step = self.y_ticks[1] - self.y_ticks[0] if len(self.y_ticks) > 1 else 1.08 * top
            self.y_ticks.append(self.y_ticks[-1] + step)
        self.y_max = self.y_ticks[-1]
        self.setMouseTracking(True)
        self.setMinimumWidth(360)
        self.setFixedHeight(240)

    def _geometry(self) -> tuple[float, float, float]:
        plot_w = max(50, self.width() - self.LEFT - self.RIGHT)
        plot_h = self.height() - self.TOP - self.BOTTOM
        return plot_w, plot_h, plot_w / max(1, len(self.use))

    def _y(self, v: float) -> float:
        _, plot_h, _ = self._geometry()
        return self.TOP + plot_h - v / self.y_max * plot_h

    def bar_rects(self, i: int) -> dict[str, QRectF]:
        """Production, setup and overtime boxes of period index `i` at the current size."""
        _, _, slot = self._geometry()
        u = self.use[i]
        bar_w = max(2.0, min(64.0, slot * 0.62))
        x0 = self.LEFT + slot * (i + 0.5) - bar_w / 2
        prod, setup = u.get("production_time") or 0, u.get("setup_time") or 0
        out = {"production": QRectF(x0, self._y(prod), bar_w, self._y(0) - self._y(prod)),
               "setup": QRectF(x0, self._y(prod + setup), bar_w, self._y(prod) - self._y(prod + setup))}
        over = u.get("overtime") or 0
        if over > 0:
            cap = u.get("capacity", 0)
            out["overtime"] = QRectF(x0, self._y(cap + over), bar_w, self._y(cap) - self._y(cap + over))
        return out

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing)
        p.fillRect(self.rect(), Qt.white)
        plot_w, plot_h, slot = self._geometry()
        small = QFont(self.font())
        small.setPointSizeF(max(7.0, small.pointSizeF() - 1))
        p.setFont(small)
        for v in self.y_ticks:
            y = self._y(v)
            p.setPen(QPen(QColor(0, 0, 0, 30), 1))
            p.drawLine(QPointF(self.LEFT, y), QPointF(self.LEFT + plot_w, y))
            p.setPen(QColor("#555"))
            p.drawText(QRectF(0, y - 8, self.LEFT - 6, 16), Qt.AlignRight | Qt.AlignVCenter, value(v))
        every = math.ceil(len(self.use) / max(1, int(plot_w // 28)))
        for i, u in enumerate(self.use):
            cx = self.LEFT + slot * (i + 0.5)
            p.setPen(Qt.NoPen)
            for part, rect in self.bar_rects(i).items():
                p.setBrush(QColor(self.COLORS[part]))
                p.drawRect(rect)
            cap_y = self._y(u.get("capacity", 0))
            p.setPen(QPen(QColor(self.COLORS["capacity"]), 2))
            p.drawLine(QPointF(cx - slot * 0.45, cap_y), QPointF(cx + slot * 0.45, cap_y))
            p.setPen(QColor("#555"))
            if i % every == 0:
                p.drawText(QRectF(cx - 20, self.height() - self.BOTTOM + 6, 40, 16), Qt.AlignCenter,
                           str(u.get("period", i) + 1))
            share = self.share(u)
            if share is not None and slot >= 34:
                top_y = self._y(max(u.get("used", 0), u.get("capacity", 0)))
                p.drawText(QRectF(cx - 30, top_y - 18, 60, 16), Qt.AlignCenter, f"{share:.0f} %")
        p.end()

    @staticmethod
    def share(u: dict) -> float | None:
        cap = u.get("capacity") or 0
        return u.get("used", 0) / cap * 100 if cap > 0 else None

    def period_at(self, x: float) -> int | None:
        plot_w, _, slot = self._geometry()
        i = int((x - self.LEFT) // slot)
        return i if 0 <= i < len(self.use) and x >= self.LEFT else None

    def mouseMoveEvent(self, event) -> None:
        i = self.period_at(event.position().x())
        if i is None:
            QToolTip.hideText()
            return
        u = self.use[i]
        share = self.share(u)
        lines = [f"<b>Period {u.get('period', i) + 1}</b>", f"Production time {value(u.get('production_time'))}",
                 f"Setup time {value(u.get('setup_time'))}",
                 f"Used {value(u.get('used'))} of {value(u.get('capacity'))}"
                 + ("" if share is None else f" ({share:.0f} %)")]
        if (u.get("overtime") or 0) > 0:
            lines.append(f"Overtime {value(u['overtime'])}")
        QToolTip.showText(event.globalPosition().toPoint(), "<br>".join(lines), self)
