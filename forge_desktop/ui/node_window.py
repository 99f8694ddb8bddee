"""One node's page, like the dashboard's: facts, total CPU, a per-core heat strip, memory,
disk, network and load charts with readouts, all in one scroll area.

The time ranges are the hub's (GET /api/meta `time_ranges`, through vocab.py), the same
the dashboard shows. A live one (5 min and 1 h at 1 s) is a snapshot of raw samples, then
the node's SSE stream (which also makes the agent push every second). The longer ones
read the snapshot route from the tier and `every` the range names and are read again
every `refresh_s`. A range needing more points than the hub hands out in one answer is
read in consecutive time windows. Without the meta the window shows vocab.LATEST (the
newest samples, live) with no range buttons, and says why.

A schema 2 node adds the processes and containers tables (processes.py, containers.py)
and the GPU, per-disk and per-interface charts (devices.py); each section hides itself
when the node has none, so a schema 1 node's page is unchanged.

Per-core history is one image (time × core), not a plot per core, so 128 cores cost
one chart; the grid under it shows each core's latest value.

An offline node's page says so ("offline since 07:14 (5 min ago)"), shows its last
values greyed as "last seen", and opens on the shortest range that holds its data.
"""
from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass
from urllib.parse import quote

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QPainter
from PySide6.QtWidgets import (QButtonGroup, QFrame, QHBoxLayout, QLabel, QPushButton, QScrollArea,
                               QSizePolicy, QVBoxLayout, QWidget)

from . import theme as th
from .api_reader import SseStream, fetch, stop_stream
from .charts import CHART_H, PALETTE, Chart, pct, rate, size  # noqa: F401 (CHART_H: for importers)
from .containers import ContainersPanel
from .devices import DiskSection, GpuSection, InterfaceSection
from .processes import ProcessesPanel
from .vocab import LATEST, Span, Vocabulary, load_vocabulary

__all__ = ["NodeWindow", "Span", "default_span"]


MAX_POINTS = 8760
"""The snapshot route's cap on one answer (hub/routes/fleet.py)."""
REDRAW_MS = 1000
GRID_COLUMNS = 16


def _get(sample: dict, *keys, index: int | None = None) -> float:
    v = sample
    for k in keys:
        v = v.get(k) if isinstance(v, dict) else None
    if index is not None:
        v = v[index] if isinstance(v, list) and index < len(v) else None
    return float("nan") if not isinstance(v, (int, float)) else float(v)


@dataclass
class Series:
    """Columns pulled out of a list of samples, ready for setData; `cores` is samples × cores."""
    ts: np.ndarray
    cores: np.ndarray
    columns: dict[str, np.ndarray]

    @classmethod
    def of(cls, samples: list[dict]) -> "Series":
        per_core = [(s.get("cpu") or {}).get("per_core") or [] for s in samples]
        n_cores = max((len(p) for p in per_core), default=0)
        cores = np.full((len(samples), n_cores), np.nan)
        for i, p in enumerate(per_core):
            if p:
                cores[i, :len(p)] = [np.nan if v is None else v for v in p]
        ts = np.array([s.get("ts", math.nan) for s in samples], dtype=float)
        spec = {
            "cpu": ("cpu", "percent"), "mem": ("memory", "percent"), "swap": ("swap", "percent"),
            "read": ("disk", "read_bps"), "write": ("disk", "write_bps"),
            "rx": ("net", "rx_bps"), "tx": ("net", "tx_bps"),
        }
        columns = {name: np.array([_get(s, *path) for s in samples]) for name, path in spec.items()}
        for i, name in enumerate(("load1", "load5", "load15")):
            columns[name] = np.array([_get(s, "load", index=i) for s in samples])
        return cls(ts, cores, columns)


GAP_STEPS = 3  # a silence longer than this many of the range's steps is drawn as a gap, as the web page does


def with_gaps(samples: list[dict], step: float) -> list[dict]:
    """`samples` with a sample holding only a `ts` one step after each silence longer than
    GAP_STEPS steps: its figures are all NaN, so the curves (drawn with connect="finite")
    break there instead of drawing a line across the hours a node was off."""
    out: list[dict] = []
    last = None
    for s in samples:
        t = s.get("ts")
        if isinstance(t, (int, float)) and last is not None and t - last > GAP_STEPS * step:
            out.append({"ts": last + step})
        out.append(s)
        if isinstance(t, (int, float)):
            last = t
    return out


MAX_HEAT_COLUMNS = 4096  # the per-core strip's columns at most: beyond, a column spans several steps


def heat_cells(ts: np.ndarray, cores: np.ndarray, step: float) -> tuple[float, float, np.ndarray]:
    """The per-core strip's image: one column per `step` from the first sample, each sample in
    the column of its time (a silence stays empty: NaN, which pyqtgraph leaves transparent), so
    the strip lines up with the curves' time axis. Sparse samples over a long span (a node that
    reported once a day) widen the columns to whole multiples of `step` rather than make
    millions of them; a column then shows its newest sample. Returns the first column's time,
    a column's width in seconds and the cells (columns x cores)."""
    values = np.nan_to_num(cores, nan=0.0)
    at = np.isfinite(ts)
    if not at.any():
        return 0.0, step, values
    t0 = float(ts[at][0])
    span = float(ts[at][-1]) - t0
    width = step * max(1, math.ceil((span / step + 1) / MAX_HEAT_COLUMNS))
    idx = np.maximum(np.round((ts[at] - t0) / width).astype(np.int64), 0)
    cells = np.full((int(idx.max()) + 1, cores.shape[1]), np.nan)
    cells[idx] = values[at]
    return t0, width, cells


def isolated(ys: np.ndarray) -> np.ndarray:
    """The finite points with no finite neighbour: a line drawn with connect="finite" does not
    show them, so they are drawn as dots."""
    finite = np.isfinite(ys)
    before = np.concatenate(([False], finite[:-1]))
    after = np.concatenate((finite[1:], [False]))
    return finite & ~before & ~after


def uptime(s: float | None) -> str:
    if not s:
        return "unavailable"
    s = int(s)
    d, h, m = s // 86400, s % 86400 // 3600, s % 3600 // 60
    return f"{d} d {h} h" if d else f"{h} h {m} min" if h else f"{m} min"


def hottest(sample: dict) -> float | None:
    cpu = sample.get("cpu") or {}
    temps = [t for t in [*(cpu.get("temp_c") or []), cpu.get("package_temp_c")] if isinstance(t, (int, float))]
    return max(temps) if temps else None


def newest_processes(samples: list[dict]) -> dict | None:
    """{"ts", "items"} of the newest raw sample that holds a process list, for a snapshot whose
    `processes` is null (a hub just restarted keeps none in memory) or absent (an older hub)."""
    for s in reversed(samples):
        if isinstance(s.get("processes"), list):
            return {"ts": s.get("ts"), "items": s["processes"]}
    return None


def default_span(spans: tuple[Span, ...], status: str | None, last_data: float | None, now: float) -> Span:
    """The first (shortest) of `spans` for a node that reports; else the shortest that still holds its last data."""
    if status == "online" or not last_data:
        return spans[0]
    age = now - last_data
    for span in spans:
        if age < span.seconds * 0.9:
            return span
    return spans[-1]


class CoreGrid(QWidget):
    """Each core's latest value as a cell with its unit ("37 %"), coloured by load; GRID_COLUMNS a row."""
    CELL_H = 22

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.values: list[float] = []
        self.greyed = False
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)

    def set_values(self, values: list[float], greyed: bool) -> None:
        self.values, self.greyed = values, greyed
        self.setFixedHeight(self.rows() * (self.CELL_H + 3) + 2 if values else 0)
        self.update()

    def rows(self) -> int:
        return math.ceil(len(self.values) / GRID_COLUMNS)

    def cell_text(self, i: int) -> str:
        v = self.values[i]
        return f"{i}: –" if not math.isfinite(v) else f"{i}: {v:.0f} %"

    def sizeHint(self) -> QSize:
        return QSize(GRID_COLUMNS * 60, self.rows() * (self.CELL_H + 3) + 2)

    def paintEvent(self, event) -> None:
        c = th.colors()
        p = QPainter(self)
        font = QFont(self.font())
        font.setPointSizeF(max(6.5, font.pointSizeF() * 0.8))
        p.setFont(font)
        w = (self.width() - 2) / GRID_COLUMNS
        for i, v in enumerate(self.values):
            r = QRectF(1 + (i % GRID_COLUMNS) * w, 1 + (i // GRID_COLUMNS) * (self.CELL_H + 3), w - 3, self.CELL_H)
            base = QColor(c.offline if self.greyed else th.level_color("cpu", v))
            fill = QColor(c.track)
            if math.isfinite(v) and not self.greyed:
                base.setAlphaF(0.15 + 0.75 * max(0.0, min(100.0, v)) / 100)
                fill = base
            p.fillRect(r, QColor(c.track))
            p.fillRect(r, fill)
            p.setPen(QColor(c.muted if self.greyed else c.text))
            p.drawText(r, Qt.AlignCenter, self.cell_text(i))
        p.end()


class NodeWindow(QWidget):
    """The page of one node of `hub_url`; `token` is an optional viewer token."""
    data_shown = Signal(int)
    closed = Signal()

    def __init__(self, hub_url: str, token: str | None, node_id: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.hub_url, self.token, self.node_id = hub_url, token, node_id
        self.setWindowTitle(f"Forge — {node_id}")
        self.resize(1100, 860)
        self.spans: tuple[Span, ...] = ()
        """The hub's time ranges, once GET /api/meta answers; empty without them (LATEST is shown)."""
        self.span = LATEST
        self.live: deque[dict] = deque(maxlen=LATEST.points)
        self._loaded_at = 0.0
        self._closed = False
        self.samples: list[dict] = []
        self.node_info: dict = {}
        self.dirty = False
        self.picked_span = False
        self._generation = 0
        self._parts: list[list[dict] | None] = []
        self._styled_for: tuple[str, bool] | None = None

        self.title = th.plain_label(node_id)
        self.badge = th.plain_label()
        self.info = th.plain_label()
        head = QHBoxLayout()
        head.addWidget(self.title)
        head.addWidget(self.badge)
        head.addWidget(self.info, 1)
        self.span_buttons = QButtonGroup(self)
        self.span_row = QHBoxLayout()
        head.addLayout(self.span_row)
        self.span_buttons.idClicked.connect(self._span_clicked)
        self.zoomed = False
        self.reset_zoom = QPushButton("Reset zoom")
        self.reset_zoom.setToolTip("Back to the whole range (drag across any chart to zoom in)")
        self.reset_zoom.clicked.connect(self._unzoom)
        self.reset_zoom.hide()
        head.addWidget(self.reset_zoom)

        self.banner = th.plain_label()
        self.banner.hide()
        self.vocab_note = th.plain_label()
        self.vocab_note.setWordWrap(True)
        self.vocab_note.hide()
        self.facts: dict[str, QLabel] = {}
        self.fact_captions: dict[str, QLabel] = {}
        facts_row = QHBoxLayout()
        facts_row.setSpacing(26)
        for name in ("Uptime", "Memory", "Load", "Temperature", "Agent", "System"):
            box = QVBoxLayout()
            box.setSpacing(0)
            caption, shown = th.plain_label(name), th.plain_label("–")
            shown.setTextInteractionFlags(Qt.TextSelectableByMouse)
            box.addWidget(caption)
            box.addWidget(shown)
            facts_row.addLayout(box)
            self.facts[name.lower()] = shown
            self.fact_captions[name.lower()] = caption
        facts_row.addStretch(1)

        self.cpu_chart = Chart("CPU (all cores)")
        self.cpu_chart.y_range = (0, 100)
        self.heat_chart = Chart("Per core", height=140)
        self.heat = pg.ImageItem()
        self.heat.setLevels((0, 100))
        self.heat_chart.plot.addItem(self.heat)
        self.heat_chart.plot.invertY(True)
        self.heat_chart.plot.getAxis("left").setLabel("core")
        self.core_grid = CoreGrid()
        self.mem_chart = Chart("Memory")
        self.mem_chart.y_range = (0, 100)
        self.disk_chart = Chart("Disk I/O")
        self.net_chart = Chart("Network")
        self.load_chart = Chart("Load average")
        self.charts = (self.cpu_chart, self.heat_chart, self.mem_chart, self.disk_chart, self.net_chart,
                       self.load_chart)
        for chart in self.charts[1:]:
            chart.plot.setXLink(self.cpu_chart.plot)
        for chart in self.charts:
            self._follow(chart)
        for chart in (self.disk_chart, self.net_chart):
            chart.plot.setLabel("left", units="B/s")
            chart.plot.getViewBox().setLimits(yMin=0, minYRange=1024)
        self.load_chart.plot.getViewBox().setLimits(yMin=0)
        for chart in self.charts:
            chart.keep_y()

        self.curves = {
            "cpu": self.cpu_chart.curve(PALETTE[0], "total", fill=True),
            "mem": self.mem_chart.curve(PALETTE[0], "memory"),
            "swap": self.mem_chart.curve(PALETTE[1], "swap", 1),
            "read": self.disk_chart.curve(PALETTE[0], "read"),
            "write": self.disk_chart.curve(PALETTE[1], "write"),
            "rx": self.net_chart.curve(PALETTE[2], "received"),
            "tx": self.net_chart.curve(PALETTE[3], "sent"),
            "load1": self.load_chart.curve(PALETTE[0], "1 min"),
            "load5": self.load_chart.curve(PALETTE[1], "5 min", 1),
            "load15": self.load_chart.curve(PALETTE[2], "15 min", 1),
        }
        self.dots = {name: Chart.dots(curve) for name, curve in self.curves.items()}

        self.processes: dict | None = None
        """The newest process list, {"ts", "items"}: the snapshot's, then each live sample's that has one."""
        self.process_panel = ProcessesPanel()
        self.container_panel = ContainersPanel()
        self.gpu_section, self.disk_section, self.net_section = GpuSection(), DiskSection(), InterfaceSection()
        self.sections = (self.gpu_section, self.disk_section, self.net_section)
        for section in self.sections:
            section.chart_added.connect(self._adopt)
        self.cpu_chart.plot.getViewBox().sigXRangeChanged.connect(self._time_range_changed)

        self.page = QWidget()
        self.page.setObjectName("nodePage")
        page = QVBoxLayout(self.page)
        page.setContentsMargins(14, 10, 14, 14)
        page.setSpacing(6)
        page.addLayout(head)
        page.addWidget(self.banner)
        page.addWidget(self.vocab_note)
        page.addLayout(facts_row)
        page.addWidget(self.cpu_chart)
        page.addWidget(self.heat_chart)
        page.addWidget(self.core_grid)
        for part in (self.process_panel, self.container_panel, self.mem_chart, self.gpu_section, self.disk_chart,
                     self.disk_section, self.net_chart, self.net_section, self.load_chart):
            page.addWidget(part)
        page.addStretch(1)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.NoFrame)
        self.scroll.setWidget(self.page)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.scroll)

        self.stream: SseStream | None = None
        self.redraw_timer = QTimer(self)
        self.redraw_timer.timeout.connect(self._tick)
        self.redraw_timer.start(REDRAW_MS)
        th.watch_os()
        th.theme.changed.connect(self.restyle)
        self.restyle()
        self.info.setText("loading the hub's time ranges …")
        load_vocabulary(hub_url, token, self._on_vocabulary)

    # --- look -----------------------------------------------------------------------------
    @property
    def status(self) -> str:
        return self.node_info.get("status") or "unknown"

    @property
    def greyed(self) -> bool:
        return self.status in ("offline", "degraded")

    def restyle(self) -> None:
        c = th.colors()
        self._styled_for = (self.status, c.dark)
        self.page.setStyleSheet(f"#nodePage {{ background: {c.surface}; }}")
        self.title.setStyleSheet(f"font-weight: 600; font-size: 16px; color: {c.text}")
        self.info.setStyleSheet(f"color: {c.muted}; padding-left: 8px")
        self.vocab_note.setStyleSheet(f"color: {c.bad}")
        self.badge.setText(self.status)
        self.badge.setStyleSheet(f"color: white; background: {th.status_color(self.status)}; border-radius: 7px;"
                                 "padding: 1px 8px; font-size: 11px")
        warn = self.status == "degraded"
        self.banner.setStyleSheet(f"color: {c.text}; background: {c.track}; border-left: 4px solid "
                                  f"{c.warn if warn else c.offline}; padding: 6px 10px; font-weight: 600")
        for caption in self.fact_captions.values():
            caption.setStyleSheet(f"color: {c.muted}; font-size: 11px")
        for shown in self.facts.values():
            shown.setStyleSheet(f"font-size: 14px; font-weight: 600; color: {c.muted if self.greyed else c.text}")
        for chart in self.charts:
            chart.restyle(self.greyed)
        for part in (self.process_panel, self.container_panel, *self.sections):
            part.restyle(self.greyed)
        lut = pg.ColorMap([0.0, 0.5, 0.8, 1.0], [QColor(c.track), QColor(c.accent), QColor(c.warn), QColor(c.bad)])
        self.heat.setLookupTable(lut.getLookupTable(0.0, 1.0, 256))
        self.core_grid.update()

    # --- data -------------------------------------------------------------------------
    def all_charts(self) -> list[Chart]:
        """The fixed charts and those the GPU, disk and interface sections made for their devices."""
        return [*self.charts, *(chart for section in self.sections for chart in section.charts())]

    def _follow(self, chart: Chart) -> None:
        chart.plot.getViewBox().sigRangeChangedManually.connect(self._zoomed)
        chart.plot.scene().sigMouseMoved.connect(lambda pos, chart=chart: self._cursor_at(chart, pos))

    def _adopt(self, chart: Chart) -> None:
        """A section made a chart for a new device: one time range, zoom and cursor with the others.
        Not through setXLink, which lines linked plots up by their position on screen: right for
        the stacked charts, wrong for small multiples side by side."""
        self._follow(chart)
        chart.plot.setXRange(*self.cpu_chart.plot.viewRange()[0], padding=0)
        chart.plot.getViewBox().sigRangeChangedManually.connect(
            lambda *_a, chart=chart: self.cpu_chart.plot.setXRange(*chart.plot.viewRange()[0], padding=0))

    def _time_range_changed(self, _vb, x_range) -> None:
        for section in self.sections:
            for chart in section.charts():
                chart.plot.setXRange(*x_range, padding=0)

    def _zoomed(self, *_args) -> None:
        """The user dragged or wheeled a chart: hold that view (live data still flows) until Reset zoom."""
        self.zoomed = True
        self.reset_zoom.show()
        for chart in self.all_charts():
            chart.keep_y()

    def _unzoom(self) -> None:
        self.zoomed = False
        self.reset_zoom.hide()
        now = time.time()
        self.cpu_chart.plot.setXRange(now - self.span.seconds, now, padding=0)
        for chart in self.all_charts():
            chart.keep_y()

    def _cursor_at(self, chart: Chart, pos) -> None:
        """One time cursor across every chart, where the mouse points in any of them."""
        vb = chart.plot.getViewBox()
        if not chart.plot.sceneBoundingRect().contains(pos):
            for c in self.all_charts():
                c.cursor.hide()
            return
        t = vb.mapSceneToView(pos).x()
        for c in self.all_charts():
            c.cursor.setPos(t)
            c.cursor.show()
        chart.plot_widget.setToolTip(time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t)))

    def _on_vocabulary(self, vocab: Vocabulary) -> None:
        """The hub's time ranges arrived (or could not be read): make their buttons and show the first."""
        if self._closed:
            return
        self.spans = vocab.spans
        for i, span in enumerate(self.spans):
            b = QPushButton(span.label)
            b.setCheckable(True)
            every = f", one point per {span.every} s" if span.every else ""
            b.setToolTip(f"{span.label} at {span.resolution} resolution{every}{' · live' if span.live else ''}")
            self.span_buttons.addButton(b, i)
            self.span_row.addWidget(b)
        if not self.spans:
            why = vocab.error or "it lists no time ranges"
            self.vocab_note.setText(f"Could not read this hub's time ranges (GET /api/meta: {why}); "
                                    "showing the newest samples only, live.")
            self.vocab_note.show()
        self.set_span(self.spans[0] if self.spans else LATEST)

    def _span_clicked(self, i: int) -> None:
        self.picked_span = True
        self.set_span(self.spans[i])

    def set_span(self, span: Span) -> None:
        self.span = span
        self.zoomed = False
        self.reset_zoom.hide()
        if span in self.spans:
            self.span_buttons.button(self.spans.index(span)).setChecked(True)
        self.live = deque(maxlen=span.points)
        self.info.setText(f"loading {span.label} …")
        self._load()

    def _load(self) -> None:
        """Read the span's snapshot again (a new span, or a refresh of a range that is not live)."""
        span = self.span
        self._generation += 1
        gen = self._generation
        stop_stream(self.stream)
        self.stream = None
        self._loaded_at = time.monotonic()
        now = time.time()
        windows = []
        chunk = MAX_POINTS * span.step
        lo = now - span.seconds
        while lo < now:
            windows.append((lo, min(now, lo + chunk)))
            lo += chunk
        self._parts = [None] * len(windows)
        path = f"/api/nodes/{quote(self.node_id, safe='')}/snapshot"
        for i, (since, until) in enumerate(windows):
            query = {"points": min(MAX_POINTS, span.points), "resolution": span.resolution, "since": f"{since:.0f}"}
            if span.every:
                query["every"] = str(span.every)
            if len(windows) > 1:
                query["until"] = f"{until:.0f}"
            fetch(self.hub_url, self.token, path, query,
                  on_done=lambda body, i=i: self._on_snapshot(body, gen, i), on_failed=self._on_error)

    def _on_snapshot(self, body: dict, generation: int, part: int = 0) -> None:
        if generation != self._generation or not isinstance(body, dict):
            return
        self._parts[part] = body.get("samples") or []
        if any(p is None for p in self._parts):
            return
        samples = [s for p in self._parts for s in p]
        self.node_info = body.get("node") or {}
        self.processes = body.get("processes") if isinstance(body.get("processes"), dict) else \
            newest_processes(samples) if self.span.resolution == "1s" else None
        self.title.setText(self.node_info.get("name") or self.node_id)
        if not self.picked_span and self.span.live and not samples and self.spans:
            last_data = self.node_info.get("last_sample_ts") or self.node_info.get("last_seen")
            better = default_span(self.spans, self.status, last_data, time.time())
            if better is not self.span:
                self.picked_span = True
                self.set_span(better)
                return
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
        if not isinstance(data, dict):
            return
        if name == "sample" and self.span.live:
            if not self.live or data.get("ts", 0) > self.live[-1].get("ts", 0):
                self.live.append(data)
                if isinstance(data.get("processes"), list):
                    self.processes = {"ts": data.get("ts"), "items": data["processes"]}
                self.node_info["last_seen"] = time.time()
                self.dirty = True
        elif name == "status" and data.get("status"):
            self.node_info["status"] = data["status"]
            self.dirty = True

    def _on_error(self, message: str) -> None:
        self.info.setStyleSheet(f"color: {th.colors().bad}; padding-left: 8px")
        self.info.setText(message)

    def _tick(self) -> None:
        if self.span.live:
            cutoff = time.time() - self.span.seconds - 2
            while self.live and self.live[0].get("ts", 0) < cutoff:
                self.live.popleft()
                self.dirty = True
        elif self.span.refresh_s and time.monotonic() - self._loaded_at > self.span.refresh_s:
            self._load()
        if self.dirty and self.span.live:
            self.samples = list(self.live)
            self._redraw()
        elif self.greyed:
            self._show_banner(time.time())

    # --- drawing ----------------------------------------------------------------------------
    def _redraw(self) -> None:
        self.dirty = False
        now = time.time()
        drawn = with_gaps(self.samples, self.span.step)
        series = Series.of(drawn)
        for name, curve in self.curves.items():
            ys = series.columns[name]
            curve.setData(series.ts, ys)
            alone = isolated(ys)
            self.dots[name].setData(series.ts[alone], ys[alone])
        n_cores = series.cores.shape[1] or int(self.node_info.get("cores") or 0)
        if len(series.ts) and series.cores.shape[1]:
            t0, width, cells = heat_cells(series.ts, series.cores, self.span.step)
            self.heat.setImage(cells, autoLevels=False, levels=(0, 100))
            self.heat.setRect(QRectF(t0, 0, max(len(cells) * width, 1.0), series.cores.shape[1]))
            self.heat_chart.y_range = (0, series.cores.shape[1])
            self.heat_chart.keep_y()
        else:
            self.heat.clear()
        self.heat_chart.plot_widget.setFixedHeight(max(120, min(320, 40 + 3 * n_cores)))
        if not self.zoomed:
            self.cpu_chart.plot.setXRange(now - self.span.seconds, now, padding=0)
        latest = self.samples[-1] if self.samples else {}
        per_core = (latest.get("cpu") or {}).get("per_core") or []
        self.core_grid.set_values([math.nan if v is None else float(v) for v in per_core], self.greyed)
        self._show_readouts(latest)
        self._show_facts(latest)
        self._show_sections(series.ts, drawn, latest)
        self._show_banner(now)
        if (self.status, th.colors().dark) != self._styled_for:  # style sheets re-polish: only on a change
            self.restyle()
        every = f", one per {self.span.every} s" if self.span.every else ""
        self.info.setText(f"{n_cores} cores · {len(self.samples)} samples ({self.span.label} at "
                          f"{self.span.resolution}{every})")
        self.data_shown.emit(len(self.samples))

    def _prefix(self) -> str:
        return "last seen " if self.greyed else "now "

    def _show_readouts(self, s: dict) -> None:
        p = self._prefix()
        if not s:
            for chart in self.charts:
                chart.readout.setText("no data in this range")
            return
        cores = (s.get("cpu") or {}).get("per_core") or []
        busiest = max((v for v in cores if v is not None), default=None)
        self.cpu_chart.readout.setText(f"{p}{pct(_get(s, 'cpu', 'percent'))}")
        self.heat_chart.readout.setText(f"{len(cores)} cores · {p}busiest {pct(busiest)}" if cores else "")
        mem = s.get("memory") or {}
        self.mem_chart.readout.setText(f"{p}{pct(_get(s, 'memory', 'percent'))} · {size(mem.get('used'))} of "
                                       f"{size(mem.get('total'))} · swap {pct(_get(s, 'swap', 'percent'))}")
        self.disk_chart.readout.setText(f"{p}read {rate(_get(s, 'disk', 'read_bps'))} · "
                                        f"write {rate(_get(s, 'disk', 'write_bps'))}")
        self.net_chart.readout.setText(f"{p}received {rate(_get(s, 'net', 'rx_bps'))} · "
                                       f"sent {rate(_get(s, 'net', 'tx_bps'))}")
        load = [_get(s, "load", index=i) for i in range(3)]
        self.load_chart.readout.setText(p + ("unavailable" if not math.isfinite(load[0]) else
                                             " · ".join(f"{v:.2f}" for v in load)))

    def _show_facts(self, s: dict) -> None:
        node = self.node_info
        mem = s.get("memory") or {}
        temp = hottest(s) if s else None
        load = s.get("load") or []
        self.facts["uptime"].setText(uptime(s.get("uptime_s")))
        self.facts["memory"].setText(f"{size(mem.get('used'))} of {size(mem.get('total'))}" if mem else "unavailable")
        self.facts["load"].setText(" ".join(f"{v:.2f}" for v in load if v is not None) or "unavailable")
        self.facts["temperature"].setText("unavailable" if temp is None else f"{temp:.0f} °C")
        self.facts["agent"].setText(str(node.get("agent_version") or "–"))
        arch = th.friendly_arch(node.get("arch"))
        self.facts["system"].setText(" · ".join(x for x in (th.friendly_os(node.get("os"), node.get("os_version")),
                                                            arch, f"{node['cores']} cores" if node.get("cores")
                                                            else None) if x))
        suffix = " (last seen)" if self.greyed else ""
        for name, caption in self.fact_captions.items():
            if name != "agent" and name != "system":
                caption.setText(name.capitalize() + suffix)

    def _show_sections(self, ts: np.ndarray, drawn: list[dict], latest: dict) -> None:
        """The schema 2 parts; each hides itself when the node has none (a schema 1 agent).
        `drawn`: the samples with their gaps marked, as `ts` has them."""
        cores = int(self.node_info.get("cores") or len((latest.get("cpu") or {}).get("per_core") or []) or 0)
        mem_total = (latest.get("memory") or {}).get("total")
        self.process_panel.show_processes(self.processes, cores, mem_total, self.greyed)
        self.container_panel.show_containers(latest, cores, self.greyed)
        for section in self.sections:
            section.show_samples(ts, drawn, self.greyed)

    def _show_banner(self, now: float) -> None:
        last = self.node_info.get("last_seen")
        if not self.greyed:
            self.banner.hide()
            return
        when = th.clock(last, now)
        minutes = int((now - last) // 60) if last else None
        age = "" if minutes is None else f" ({minutes} min ago)" if minutes >= 1 else f" ({int(now - last)} s ago)"
        if self.status == "offline":
            self.banner.setText(f"offline since {when}{age}: the values below are the last it sent")
        else:
            self.banner.setText(f"degraded: no data since {when}{age}; the values below may be stale")
        self.banner.show()

    # --- closing ------------------------------------------------------------------------
    def closeEvent(self, event) -> None:
        self._closed = True
        self._generation += 1
        self.redraw_timer.stop()
        stop_stream(self.stream)
        self.stream = None
        try:
            th.theme.changed.disconnect(self.restyle)
        except RuntimeError:
            pass
        super().closeEvent(event)
        self.closed.emit()
