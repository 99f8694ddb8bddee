"""The native fleet window: a grid of node cards (status, CPU, memory, live sparkline).

Fed like the browser dashboard: GET /api/fleet once, then /api/fleet/events. Events
only mark cards dirty; a timer repaints the dirty ones at most twice a second, so a
large fleet costs a little per update, not a repaint per event.
"""
from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import (QFrame, QGridLayout, QHBoxLayout, QLabel, QLineEdit, QMainWindow, QPushButton,
                               QScrollArea, QToolBar, QVBoxLayout, QWidget)

from ..client import normalize_url
from .api_reader import SseStream, fetch

SPARK_POINTS = 30
CARD_W, CARD_H = 236, 148
FLUSH_MS = 500
STATUS_COLORS = {"online": "#2e9d58", "degraded": "#d9822b", "offline": "#a33b3b"}

pg.setConfigOptions(antialias=True, background="w", foreground="#444")


@dataclass
class NodeModel:
    """One node as the window knows it: the latest summary plus the sparkline points."""
    id: str
    summary: dict = field(default_factory=dict)
    spark: deque = field(default_factory=lambda: deque(maxlen=SPARK_POINTS))
    alerts: set = field(default_factory=set)  # ids of this node's alerts firing now

    def apply(self, summary: dict, *, full: bool) -> None:
        self.summary.update({k: v for k, v in summary.items() if k not in ("spark", "latest")})
        if full:
            self.spark.clear()
            self.spark.extend(_num(v) for v in summary.get("spark") or [])
        elif "cpu" in summary:
            self.spark.append(_num(summary.get("cpu")))


def _num(v) -> float:
    return float("nan") if v is None else float(v)


def _pct(v) -> str:
    return "–" if v is None else f"{v:.0f}%"


class Sparkline(QWidget):
    """The last 30 CPU points, 0-100 %, as a filled line.

    A pyqtgraph PlotWidget per card cost ~45 ms and ~0.6 MB each (200 cards: 9 s of
    frozen GUI and 260 MB), so cards build their path with pyqtgraph's arrayToQPath
    and paint it themselves; the node window uses full pyqtgraph plots.
    """

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setFixedHeight(52)
        self.points = np.empty(0)
        self.line = QPainterPath()
        self.area = QPainterPath()

    def set_points(self, y: np.ndarray) -> None:
        self.points = y
        x = np.arange(SPARK_POINTS - len(y), SPARK_POINTS, dtype=float)
        finite = np.isfinite(y)
        self.line = QPainterPath()
        if len(y):
            self.line = pg.arrayToQPath(x, 100.0 - np.where(finite, y, 0.0), connect=finite)
        self.area = QPainterPath()
        if finite.any():
            xs, ys = x[finite], 100.0 - y[finite]
            self.area.moveTo(xs[0], 100.0)
            for xi, yi in zip(xs, ys):
                self.area.lineTo(xi, yi)
            self.area.lineTo(xs[-1], 100.0)
            self.area.closeSubpath()
        self.update()

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#f5f7fa"))
        p.setRenderHint(QPainter.Antialiasing)
        p.scale(self.width() / (SPARK_POINTS - 1), (self.height() - 2) / 100.0)
        p.translate(0, 1)
        p.fillPath(self.area, QColor(47, 111, 214, 40))
        pen = QPen(QColor("#2f6fd6"), 1.5)
        pen.setCosmetic(True)
        p.strokePath(self.line, pen)
        p.end()


CARD_STYLE = ("#card { background: white; border: 1px solid #d7dbe0; border-radius: 8px; }"
              "QLabel { background: transparent; }")
ALERT_STYLE = CARD_STYLE.replace("border: 1px solid #d7dbe0", "border: 2px solid #d93025")


class NodeCard(QFrame):
    open_requested = Signal(str)

    def __init__(self, node_id: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.node_id = node_id
        self.setObjectName("card")
        self.setFixedSize(CARD_W, CARD_H)
        self.setStyleSheet(CARD_STYLE)
        self.alerting = False
        self.name = QLabel(node_id)
        self.name.setStyleSheet("font-weight: 600; font-size: 13px")
        self.status = QLabel()
        self.meta = QLabel()
        self.meta.setStyleSheet("color: #666; font-size: 11px")
        self.load = QLabel()
        self.load.setStyleSheet("font-size: 12px")
        self.spark = Sparkline()
        head = QHBoxLayout()
        head.addWidget(self.name, 1)
        head.addWidget(self.status)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.setSpacing(3)
        layout.addLayout(head)
        layout.addWidget(self.meta)
        layout.addWidget(self.load)
        layout.addWidget(self.spark)
        self.setToolTip("Double-click for this node's charts")

    def show_model(self, model: NodeModel) -> None:
        s = model.summary
        self.name.setText(s.get("name") or model.id)
        status = s.get("status") or "unknown"
        color = STATUS_COLORS.get(status, "#7a7f87")
        self.status.setText(status)
        self.status.setStyleSheet(f"color: white; background: {color}; border-radius: 7px; padding: 1px 7px;"
                                  "font-size: 11px")
        parts = [p for p in (s.get("os"), s.get("arch"), f"{s['cores']} cores" if s.get("cores") else None) if p]
        self.meta.setText(" · ".join(parts) or "—")
        jobs = (s.get("jobs") or {}).get("running") or 0
        self.load.setText(f"CPU {_pct(s.get('cpu'))}   memory {_pct(s.get('mem'))}"
                          + (f"   ▶ {jobs} job{'s' if jobs != 1 else ''}" if jobs else ""))
        self.spark.set_points(np.fromiter(model.spark, dtype=float, count=len(model.spark)))
        if self.alerting != bool(model.alerts):
            self.alerting = bool(model.alerts)
            self.setStyleSheet(ALERT_STYLE if self.alerting else CARD_STYLE)
            self.setToolTip(f"{len(model.alerts)} alert(s) firing · double-click for this node's charts"
                            if self.alerting else "Double-click for this node's charts")

    def mouseDoubleClickEvent(self, event) -> None:
        self.open_requested.emit(self.node_id)
        event.accept()


class FleetWindow(QMainWindow):
    """Fleet of any hub; `token` is a viewer token (or the admin secret), optional."""
    fleet_loaded = Signal(int)
    cards_updated = Signal(int)
    closed = Signal()

    def __init__(self, hub_url: str = "", token: str | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Forge fleet")
        self.resize(4 * (CARD_W + 12) + 40, 560)
        self.hub_url = normalize_url(hub_url)
        self.token = token or None
        self.models: dict[str, NodeModel] = {}
        self.cards: dict[str, NodeCard] = {}
        self.dirty: set[str] = set()
        self.node_windows: list = []
        self.jobs_windows: list = []
        self.stream: SseStream | None = None
        self._columns = 0
        self._generation = 0

        bar = QToolBar()
        bar.setMovable(False)
        self.url_edit = QLineEdit(self.hub_url)
        self.url_edit.setPlaceholderText("http://hub:3000")
        self.token_edit = QLineEdit(self.token or "")
        self.token_edit.setPlaceholderText("viewer token (optional)")
        self.token_edit.setEchoMode(QLineEdit.Password)
        self.token_edit.setMaximumWidth(200)
        connect = QPushButton("Connect")
        connect.clicked.connect(self._connect_clicked)
        self.url_edit.returnPressed.connect(self._connect_clicked)
        bar.addWidget(QLabel(" Hub "))
        bar.addWidget(self.url_edit)
        bar.addWidget(QLabel("  "))
        bar.addWidget(self.token_edit)
        bar.addWidget(connect)
        bar.addSeparator()
        self.jobs_button = QPushButton("Jobs")
        self.jobs_button.setToolTip("The job queue of this hub, and each job's result")
        self.jobs_button.clicked.connect(self.open_jobs)
        bar.addWidget(self.jobs_button)
        self.addToolBar(bar)

        self.summary = QLabel()
        self.summary.setStyleSheet("padding: 6px 10px; color: #444")
        self.grid_host = QWidget()
        self.grid_host.setObjectName("grid")
        self.grid_host.setStyleSheet("#grid { background: #eef0f3; }")
        self.grid = QGridLayout(self.grid_host)
        self.grid.setSpacing(10)
        self.grid.setContentsMargins(10, 10, 10, 10)
        self.grid.setAlignment(Qt.AlignTop | Qt.AlignLeft)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setWidget(self.grid_host)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.summary)
        layout.addWidget(self.scroll, 1)
        self.setCentralWidget(body)

        self.flush_timer = QTimer(self)
        self.flush_timer.timeout.connect(self.flush)
        self.flush_timer.start(FLUSH_MS)
        if self.hub_url:
            self.connect_to(self.hub_url, self.token)
        else:
            self.summary.setText("Enter a hub URL and press Connect.")

    # --- connection -------------------------------------------------------------------
    def _connect_clicked(self) -> None:
        self.connect_to(self.url_edit.text(), self.token_edit.text().strip() or None)

    def connect_to(self, hub_url: str, token: str | None) -> None:
        self._stop_stream()
        self.hub_url, self.token = normalize_url(hub_url), token
        self._generation += 1
        for card in self.cards.values():
            card.deleteLater()
        self.cards.clear()
        self.models.clear()
        self.dirty.clear()
        self.setWindowTitle(f"Forge fleet — {self.hub_url}")
        self.summary.setText(f"Loading {self.hub_url}/api/fleet …")
        self.stream = SseStream(self.hub_url, self.token, "/api/fleet/events", self)
        self.stream.event.connect(self._on_event)
        self.stream.failed.connect(self._on_error)
        self.stream.start()
        self._reload()

    def _reload(self) -> None:
        gen = self._generation
        fetch(self.hub_url, self.token, "/api/fleet",
              on_done=lambda body: self._on_fleet(body, gen), on_failed=self._on_error)
        fetch(self.hub_url, self.token, "/api/alerts", {"state": "firing", "limit": 1000},
              on_done=lambda body: self._on_alerts(body, gen))

    def _on_alerts(self, body: dict, generation: int) -> None:
        if generation != self._generation or not isinstance(body, dict):
            return
        for model in self.models.values():
            model.alerts.clear()
        for a in body.get("alerts", []):
            if a.get("state") == "firing":
                self._model(a["node_id"]).alerts.add(a["id"])
        self.dirty.update(self.models)
        self.flush()

    def _on_fleet(self, body: dict, generation: int) -> None:
        if generation != self._generation or not isinstance(body, dict):
            return
        seen = set()
        for node in body.get("nodes", []):
            seen.add(node["id"])
            self._model(node["id"]).apply(node, full=True)
            self.dirty.add(node["id"])
        for gone in set(self.models) - seen:
            self.models.pop(gone)
            card = self.cards.pop(gone, None)
            if card:
                card.deleteLater()
        self._relayout(force=True)
        self.flush()
        self.fleet_loaded.emit(len(self.models))

    def _on_event(self, name: str, data) -> None:
        if name == "hello":
            if self.models:
                self._reload()
        elif name == "fleet" and isinstance(data, dict):
            new = False
            for node in data.get("nodes", []):
                new |= node["id"] not in self.models
                self._model(node["id"]).apply(node, full=False)
                self.dirty.add(node["id"])
            if new:
                self._relayout(force=True)
        elif name == "alert" and isinstance(data, dict) and isinstance(data.get("alert"), dict):
            a = data["alert"]
            if a.get("node_id") in self.models:
                alerts = self.models[a["node_id"]].alerts
                alerts.add(a["id"]) if data.get("kind") == "firing" else alerts.discard(a["id"])
                self.dirty.add(a["node_id"])
        elif name == "status" and isinstance(data, dict) and data.get("id") in self.models:
            self.models[data["id"]].summary["status"] = data.get("status")
            self.dirty.add(data["id"])

    def _on_error(self, message: str) -> None:
        self.summary.setText(f"<span style='color:#b3261e'>{message}</span>")

    def _model(self, node_id: str) -> NodeModel:
        model = self.models.get(node_id)
        if model is None:
            model = self.models[node_id] = NodeModel(node_id)
        return model

    # --- drawing --------------------------------------------------------------------------
    def flush(self) -> None:
        if not self.dirty:
            return
        count = 0
        for node_id in list(self.dirty):
            card, model = self.cards.get(node_id), self.models.get(node_id)
            if card and model:
                card.show_model(model)
                count += 1
        self.dirty.clear()
        self._show_summary()
        self.cards_updated.emit(count)

    def _show_summary(self) -> None:
        counts: dict[str, int] = {}
        for m in self.models.values():
            counts[m.summary.get("status", "unknown")] = counts.get(m.summary.get("status", "unknown"), 0) + 1
        parts = [f"{n} {status}" for status, n in sorted(counts.items())]
        self.summary.setText(f"{len(self.models)} nodes at {self.hub_url}: {', '.join(parts) or 'none yet'}"
                             f" · updated {time.strftime('%H:%M:%S')}")

    def _relayout(self, force: bool = False) -> None:
        width = self.scroll.viewport().width() or self.width()
        columns = max(1, (width - 20) // (CARD_W + self.grid.spacing()))
        if columns == self._columns and not force:
            return
        self._columns = columns
        for node_id in sorted(self.models):
            card = self.cards.get(node_id)
            if card is None:
                card = self.cards[node_id] = NodeCard(node_id, self.grid_host)
                card.open_requested.connect(self.open_node)
                self.dirty.add(node_id)
            self.grid.removeWidget(card)
        for i, node_id in enumerate(sorted(self.models)):
            self.grid.addWidget(self.cards[node_id], i // columns, i % columns)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self.models:
            self._relayout()

    def open_node(self, node_id: str):
        from .node_window import NodeWindow
        win = NodeWindow(self.hub_url, self.token, node_id)
        self.node_windows.append(win)
        win.closed.connect(lambda: self.node_windows.remove(win) if win in self.node_windows else None)
        win.show()
        return win

    def open_jobs(self):
        from .jobs_window import JobsWindow
        win = JobsWindow(self.hub_url, self.token)
        self.jobs_windows.append(win)
        win.closed.connect(lambda: self.jobs_windows.remove(win) if win in self.jobs_windows else None)
        win.show()
        return win

    # --- closing --------------------------------------------------------------------------
    def _stop_stream(self) -> None:
        if self.stream is not None:
            self.stream.stop()
            self.stream.deleteLater()
            self.stream = None

    def closeEvent(self, event) -> None:
        self._generation += 1
        self.flush_timer.stop()
        self._stop_stream()
        for win in [*self.node_windows, *self.jobs_windows]:
            win.close()
        super().closeEvent(event)
        self.closed.emit()
