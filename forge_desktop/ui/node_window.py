"""One node's charts: a plot per core, memory, disk, network and load.

"Live" is the last 5 minutes at 1 s: a snapshot of 300 raw samples, then the node's
SSE stream (which also makes the agent push every second). 1 h / 24 h / 48 h come
from the snapshot route at 1 s / 1 min resolution and do not follow the stream.
"""
from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass
from urllib.parse import quote

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QButtonGroup, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from .api_reader import SseStream, fetch


@dataclass(frozen=True)
class Span:
    label: str
    seconds: int
    resolution: str
    points: int
    live: bool = False


SPANS = (
    Span("Live 5 min", 300, "1s", 300, live=True),
    Span("1 h", 3600, "1s", 3600),
    Span("24 h", 86400, "1m", 1440),
    Span("48 h", 172800, "1m", 2880),
)
LIVE_POINTS = 300
REDRAW_MS = 1000
CORE_COLUMNS = 4
PALETTE = ("#2f6fd6", "#d9822b", "#2e9d58", "#8e44ad")


def _get(sample: dict, *keys, index: int | None = None) -> float:
    v = sample
    for k in keys:
        v = v.get(k) if isinstance(v, dict) else None
    if index is not None:
        v = v[index] if isinstance(v, list) and index < len(v) else None
    return float("nan") if v is None else float(v)


@dataclass
class Series:
    """Columns pulled out of a list of samples, ready for setData."""
    ts: np.ndarray
    cores: list[np.ndarray]
    columns: dict[str, np.ndarray]

    @classmethod
    def of(cls, samples: list[dict]) -> "Series":
        n_cores = max((len((s.get("cpu") or {}).get("per_core") or []) for s in samples), default=0)
        ts = np.array([s.get("ts", math.nan) for s in samples], dtype=float)
        cores = [np.array([_get(s, "cpu", "per_core", index=i) for s in samples]) for i in range(n_cores)]
        spec = {
            "mem": ("memory", "percent"), "swap": ("swap", "percent"),
            "read": ("disk", "read_bps"), "write": ("disk", "write_bps"),
            "rx": ("net", "rx_bps"), "tx": ("net", "tx_bps"),
        }
        columns = {name: np.array([_get(s, *path) for s in samples]) for name, path in spec.items()}
        for i, name in enumerate(("load1", "load5", "load15")):
            columns[name] = np.array([_get(s, "load", index=i) for s in samples])
        return cls(ts, cores, columns)


class NodeWindow(QWidget):
    """Charts for one node of `hub_url`; `token` is an optional viewer token."""
    data_shown = Signal(int)
    closed = Signal()

    def __init__(self, hub_url: str, token: str | None, node_id: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.hub_url, self.token, self.node_id = hub_url, token, node_id
        self.setWindowTitle(f"Forge — {node_id}")
        self.resize(1100, 820)
        self.span = SPANS[0]
        self.live: deque[dict] = deque(maxlen=LIVE_POINTS)
        self.samples: list[dict] = []
        self.dirty = False
        self._generation = 0

        self.title = QLabel(node_id)
        self.title.setStyleSheet("font-weight: 600; font-size: 15px")
        self.info = QLabel()
        self.info.setStyleSheet("color: #555")
        head = QHBoxLayout()
        head.addWidget(self.title)
        head.addWidget(self.info, 1)
        self.span_buttons = QButtonGroup(self)
        for i, span in enumerate(SPANS):
            b = QPushButton(span.label)
            b.setCheckable(True)
            b.setChecked(i == 0)
            self.span_buttons.addButton(b, i)
            head.addWidget(b)
        self.span_buttons.idClicked.connect(lambda i: self.set_span(SPANS[i]))

        self.charts = pg.GraphicsLayoutWidget()
        self.core_plots: list[pg.PlotItem] = []
        self.core_curves: list[pg.PlotDataItem] = []
        self.core_layout = self.charts.addLayout(row=0, col=0)
        self.mem_plot = self._plot(1, 0, "Memory %", (0, 100))
        self.disk_plot = self._plot(2, 0, "Disk")
        self.net_plot = self._plot(3, 0, "Network")
        self.load_plot = self._plot(4, 0, "Load")
        self.curves = {
            "mem": self.mem_plot.plot(pen=pg.mkPen(PALETTE[0], width=1.5), name="memory", connect="finite"),
            "swap": self.mem_plot.plot(pen=pg.mkPen(PALETTE[1], width=1), name="swap", connect="finite"),
            "read": self.disk_plot.plot(pen=pg.mkPen(PALETTE[0], width=1.5), name="read", connect="finite"),
            "write": self.disk_plot.plot(pen=pg.mkPen(PALETTE[1], width=1.5), name="write", connect="finite"),
            "rx": self.net_plot.plot(pen=pg.mkPen(PALETTE[2], width=1.5), name="received", connect="finite"),
            "tx": self.net_plot.plot(pen=pg.mkPen(PALETTE[3], width=1.5), name="sent", connect="finite"),
            "load1": self.load_plot.plot(pen=pg.mkPen(PALETTE[0], width=1.5), name="1 min", connect="finite"),
            "load5": self.load_plot.plot(pen=pg.mkPen(PALETTE[1], width=1), name="5 min", connect="finite"),
            "load15": self.load_plot.plot(pen=pg.mkPen(PALETTE[2], width=1), name="15 min", connect="finite"),
        }
        for plot in (self.disk_plot, self.net_plot):
            plot.setLabel("left", units="B/s")
            plot.getViewBox().setLimits(yMin=0, minYRange=1024)

        layout = QVBoxLayout(self)
        layout.addLayout(head)
        layout.addWidget(self.charts, 1)

        self.stream: SseStream | None = None
        self.redraw_timer = QTimer(self)
        self.redraw_timer.timeout.connect(self._redraw_if_dirty)
        self.redraw_timer.start(REDRAW_MS)
        self.set_span(SPANS[0])

    def _plot(self, row: int, col: int, title: str, y_range: tuple[float, float] | None = None) -> pg.PlotItem:
        plot = self.charts.addPlot(row=row, col=col, title=title,
                                   axisItems={"bottom": pg.DateAxisItem(orientation="bottom")})
        plot.addLegend(offset=(-10, 5), labelTextSize="8pt")
        plot.showGrid(x=True, y=True, alpha=0.15)
        plot.setMouseEnabled(x=True, y=False)
        if y_range:
            plot.setYRange(*y_range, padding=0.02)
        return plot

    def _ensure_cores(self, n: int) -> None:
        while len(self.core_plots) < n:
            i = len(self.core_plots)
            plot = self.core_layout.addPlot(row=i // CORE_COLUMNS, col=i % CORE_COLUMNS, title=f"core {i}",
                                            axisItems={"bottom": pg.DateAxisItem(orientation="bottom")})
            plot.setYRange(0, 100, padding=0.02)
            plot.setMouseEnabled(x=False, y=False)
            plot.hideButtons()
            plot.getAxis("bottom").setStyle(showValues=False)
            plot.setMinimumHeight(90)
            self.core_plots.append(plot)
            self.core_curves.append(plot.plot(pen=pg.mkPen(PALETTE[0], width=1.2), fillLevel=0,
                                              brush=pg.mkBrush(47, 111, 214, 40), connect="finite"))

    # --- data -------------------------------------------------------------------------
    def set_span(self, span: Span) -> None:
        self.span = span
        self._generation += 1
        gen = self._generation
        self._stop_stream()
        self.info.setText(f"loading {span.label} …")
        query = {"points": span.points, "resolution": span.resolution, "since": f"{time.time() - span.seconds:.0f}"}
        path = f"/api/nodes/{quote(self.node_id, safe='')}/snapshot"
        fetch(self.hub_url, self.token, path, query,
              on_done=lambda body: self._on_snapshot(body, gen), on_failed=self._on_error)

    def _on_snapshot(self, body: dict, generation: int) -> None:
        if generation != self._generation or not isinstance(body, dict):
            return
        samples = body.get("samples") or []
        node = body.get("node") or {}
        self.title.setText(node.get("name") or self.node_id)
        self.node_info = node
        if self.span.live:
            self.live.clear()
            self.live.extend(samples)
            self.stream = SseStream(self.hub_url, self.token, f"/api/nodes/{quote(self.node_id, safe='')}/events",
                                    self)
            self.stream.event.connect(self._on_event)
            self.stream.failed.connect(self._on_error)
            self.stream.start()
            self.samples = list(self.live)
        else:
            self.samples = samples
        self._redraw()

    def _on_event(self, name: str, data) -> None:
        if name == "sample" and isinstance(data, dict) and self.span.live:
            if not self.live or data.get("ts", 0) > self.live[-1].get("ts", 0):
                self.live.append(data)
                self.dirty = True

    def _on_error(self, message: str) -> None:
        self.info.setText(f"<span style='color:#b3261e'>{message}</span>")

    def _redraw_if_dirty(self) -> None:
        if self.dirty and self.span.live:
            self.samples = list(self.live)
            self._redraw()

    def _redraw(self) -> None:
        self.dirty = False
        series = Series.of(self.samples)
        cores = len(series.cores) or int((getattr(self, "node_info", {}) or {}).get("cores") or 0)
        self._ensure_cores(cores)
        for curve, values in zip(self.core_curves, series.cores):
            curve.setData(series.ts, values)
        for name, curve in self.curves.items():
            curve.setData(series.ts, series.columns[name])
        if len(series.ts):
            end = time.time() if self.span.live else float(np.nanmax(series.ts))
            for plot in (self.mem_plot, self.disk_plot, self.net_plot, self.load_plot, *self.core_plots):
                plot.setXRange(end - self.span.seconds, end, padding=0)
        node = getattr(self, "node_info", {}) or {}
        status = node.get("status", "")
        self.info.setText(f"  {status} · {cores} cores · {len(self.samples)} samples "
                          f"({self.span.label}, {self.span.resolution})")
        self.data_shown.emit(len(self.samples))

    # --- closing ------------------------------------------------------------------------
    def _stop_stream(self) -> None:
        if self.stream is not None:
            self.stream.stop()
            self.stream.deleteLater()
            self.stream = None

    def closeEvent(self, event) -> None:
        self._generation += 1
        self.redraw_timer.stop()
        self._stop_stream()
        super().closeEvent(event)
        self.closed.emit()
