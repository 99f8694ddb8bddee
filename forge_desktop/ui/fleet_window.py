"""The native fleet window: node cards (status, CPU and memory bars, last seen, sparkline) or a table.

Fed like the browser dashboard: GET /api/fleet once, then /api/fleet/events, whose
`spark_tail` extends each sparkline. Events only mark cards dirty; a timer repaints
the dirty ones at most twice a second, so a large fleet costs a little per update,
not a repaint per event. The table's disk, network, temperature and load columns come
from each node's `latest` sample, which only GET /api/fleet carries: while the table
is shown it is re-read every TABLE_REFRESH_MS.

Every string a node supplies (name, os, arch, agent version) is shown as plain text.
"""
from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QFrame, QGridLayout, QHBoxLayout, QHeaderView, QLabel,
                               QLineEdit, QMainWindow, QPushButton, QScrollArea, QSizePolicy, QStackedWidget, QTableWidget,
                               QTableWidgetItem, QToolBar, QVBoxLayout, QWidget)

from forge_contracts.jobtypes.display import ago

from ..client import normalize_url
from . import theme as th
from .api_reader import SseStream, fetch, stop_stream
from .charts import rate

SPARK_POINTS = 30
SPARK_H = 46
GPU_ROW_H = 13
CARD_W, CARD_H = 244, 176
FLUSH_MS = 500
AGE_REFRESH_MS = 10000
TABLE_REFRESH_MS = 30000
QUEUE_REFRESH_MS = 10000
RUNNING_JOBS_SHOWN = 500
RESORT_MIN_S = 5.0
SORTS = (("name", "Name"), ("status", "Status"), ("cpu", "CPU"), ("mem", "Memory"), ("last_seen", "Last seen"))
STATUS_ORDER = {"offline": 0, "degraded": 1, "online": 2}
TABLE_COLUMNS = ("Status", "Name", "OS", "CPU", "Memory", "Disk", "GPU", "Net rx", "Net tx", "Temp", "Load/core",
                 "Uptime", "Agent", "Jobs", "Last seen")
SORT_ROLE = Qt.UserRole + 10
FG_ROLE = Qt.UserRole + 11

pg.setConfigOptions(antialias=True, background="w", foreground="#444")


@dataclass
class NodeModel:
    """One node as the window knows it: the latest summary plus the sparkline points."""
    id: str
    summary: dict = field(default_factory=dict)
    spark: deque = field(default_factory=lambda: deque(maxlen=SPARK_POINTS))
    latest: dict | None = None
    running: list = field(default_factory=list)
    """The node's running jobs as GET /api/jobs?status=running lists them."""
    alerts: set = field(default_factory=set)  # ids of this node's alerts firing now

    def apply(self, summary: dict, *, full: bool) -> None:
        self.summary.update({k: v for k, v in summary.items() if k not in ("spark", "spark_tail", "latest")})
        if full:
            self.latest = summary.get("latest") if isinstance(summary.get("latest"), dict) else self.latest
            self.spark.clear()
            self.spark.extend(_num(v) for v in summary.get("spark") or [])
        elif isinstance(summary.get("spark_tail"), list):
            self.spark.extend(_num(v) for v in summary["spark_tail"])
        elif "cpu" in summary:
            self.spark.append(_num(summary.get("cpu")))

    def matches(self, needle: str) -> bool:
        s = self.summary
        hay = " ".join(str(x) for x in (self.id, s.get("name"), s.get("hostname"), s.get("os"), s.get("os_version"),
                                        th.friendly_os(s.get("os"), s.get("os_version")), s.get("arch"),
                                        s.get("status"), s.get("agent_version")) if x)
        return all(word in hay.lower() for word in needle.lower().split())


def _num(v) -> float:
    return float("nan") if v is None else float(v)


def _pct(v) -> str:
    return "–" if v is None else f"{v:.0f} %"


def _uptime(s) -> str:
    if not s:
        return "–"
    s = int(s)
    d, h, m = s // 86400, s % 86400 // 3600, s % 3600 // 60
    return f"{d} d {h} h" if d else f"{h} h {m} min" if h else f"{m} min"


def node_facts(model: NodeModel) -> dict:
    """The derived numbers the table and the cards show, from the summary and the latest sample."""
    s, latest = model.summary, model.latest or {}
    mounts = [m for m in ((latest.get("disk") or {}).get("mounts") or []) if isinstance(m, dict)]
    disk = max((m.get("percent") for m in mounts if m.get("percent") is not None), default=None)
    cpu = latest.get("cpu") or {}
    temps = [t for t in [*(cpu.get("temp_c") or []), cpu.get("package_temp_c")] if isinstance(t, (int, float))]
    load = latest.get("load") or []
    cores = s.get("cores") or len(cpu.get("per_core") or []) or None
    net = latest.get("net") or {}
    return {"disk": disk, "temp": max(temps) if temps else None,
            "load_per_core": (load[0] / cores) if load and load[0] is not None and cores else None,
            "rx": net.get("rx_bps"), "tx": net.get("tx_bps"), "uptime": latest.get("uptime_s")}


class Sparkline(QWidget):
    """The last 30 CPU points, 0-100 %, as a filled line.

    A pyqtgraph PlotWidget per card cost ~45 ms and ~0.6 MB each (200 cards: 9 s of
    frozen GUI and 260 MB), so cards build their path with pyqtgraph's arrayToQPath
    and paint it themselves; the node window uses full pyqtgraph plots.
    """

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setFixedHeight(SPARK_H)
        self.points = np.empty(0)
        self.line = QPainterPath()
        self.area = QPainterPath()
        self.greyed = False

    def set_points(self, y: np.ndarray, greyed: bool = False) -> None:
        self.points = y
        self.greyed = greyed
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
        c = th.colors()
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(c.track if c.dark else "#f5f7fa"))
        p.setRenderHint(QPainter.Antialiasing)
        p.scale(self.width() / (SPARK_POINTS - 1), (self.height() - 2) / 100.0)
        p.translate(0, 1)
        line = QColor(c.offline if self.greyed else c.accent)
        fill = QColor(line)
        fill.setAlpha(45)
        p.fillPath(self.area, fill)
        pen = QPen(line, 1.5)
        pen.setCosmetic(True)
        p.strokePath(self.line, pen)
        p.end()


class LevelBar(QWidget):
    """A thin horizontal bar 0-100 % in its threshold colour (accent, amber, red; grey when greyed)."""

    def __init__(self, kind: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.kind, self.value, self.greyed = kind, None, False
        self.setFixedHeight(7)

    def set_value(self, value: float | None, greyed: bool = False) -> None:
        if (value, greyed) != (self.value, self.greyed):
            self.value, self.greyed = value, greyed
            self.update()

    def color(self) -> str:
        return th.colors().offline if self.greyed else th.level_color(self.kind, self.value)

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing)
        p.setPen(Qt.NoPen)
        p.setBrush(QColor(th.colors().track))
        r = self.rect().adjusted(0, 0, -1, -1)
        p.drawRoundedRect(r, 3, 3)
        if self.value is not None:
            w = r.width() * max(0.0, min(100.0, self.value)) / 100.0
            p.setBrush(QColor(self.color()))
            p.drawRoundedRect(r.adjusted(0, 0, int(w - r.width()), 0), 3, 3)
        p.end()


class NodeCard(QFrame):
    open_requested = Signal(str)

    def __init__(self, node_id: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.node_id = node_id
        self.greyed = False  # offline: grey card, grey bars
        self.dimmed = False  # offline or degraded: its numbers may be stale, so they read dim
        self.setObjectName("card")
        self.setFixedSize(CARD_W, CARD_H)
        self.alerting = False
        self.name = th.plain_label(node_id)
        self.status = th.plain_label()
        self.meta = th.plain_label()
        self.load = th.plain_label()
        self.mem_text = th.plain_label()
        self.jobs = th.plain_label()
        for label in (self.meta, self.jobs):  # a long OS version or job label must not widen the card
            label.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.gpu_text = th.plain_label()
        self.cpu_bar, self.mem_bar, self.gpu_bar = LevelBar("cpu"), LevelBar("mem"), LevelBar("cpu")
        self.seen = th.plain_label()
        self.spark = Sparkline()
        head = QHBoxLayout()
        head.addWidget(self.name, 1)
        head.addWidget(self.status)
        bars = QGridLayout()
        bars.setHorizontalSpacing(8)
        bars.setVerticalSpacing(2)
        for row, (text, bar) in enumerate(((self.load, self.cpu_bar), (self.mem_text, self.mem_bar),
                                           (self.gpu_text, self.gpu_bar))):
            text.setMinimumWidth(92)
            bars.addWidget(text, row, 0)
            bars.addWidget(bar, row, 1)
        bars.setColumnStretch(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.setSpacing(3)
        layout.addLayout(head)
        layout.addWidget(self.meta)
        layout.addLayout(bars)
        layout.addWidget(self.spark)
        foot = QHBoxLayout()
        foot.addWidget(self.jobs, 1)
        foot.addWidget(self.seen)
        layout.addLayout(foot)
        self._show_gpu(None, False)
        self.setToolTip("Double-click for this node's charts")
        self.restyle()

    def restyle(self) -> None:
        c = th.colors()
        text = c.muted if self.dimmed else c.text
        border = f"2px solid {c.bad}" if getattr(self, "alerting", False) else f"1px solid {c.border}"
        self.setStyleSheet(f"#card {{ background: {c.window if self.greyed else c.surface}; "
                           f"border: {border}; border-radius: 8px; }}"
                           f"QLabel {{ background: transparent; color: {text}; font-size: 11px }}")
        self.name.setStyleSheet(f"font-weight: 600; font-size: 13px; color: {text}")
        self.meta.setStyleSheet(f"color: {c.muted}; font-size: 11px")
        self.seen.setStyleSheet(f"color: {c.muted}; font-size: 11px")

    def show_model(self, model: NodeModel, now: float) -> None:
        s = model.summary
        status = s.get("status") or "unknown"
        greyed, dimmed = status == "offline", status in ("offline", "degraded")
        if (greyed, dimmed) != (self.greyed, self.dimmed):
            self.greyed, self.dimmed = greyed, dimmed
            self.restyle()
            self._status_shown = None
        if status != getattr(self, "_status_shown", None):  # a style sheet re-polishes: only on a change
            self._status_shown = status
            self.status.setText(status)
            self.status.setStyleSheet(f"color: white; background: {th.status_color(status)}; border-radius: 7px;"
                                      "padding: 1px 7px; font-size: 11px")
        ident = (s.get("name"), s.get("os"), s.get("os_version"), s.get("arch"), s.get("cores"))
        if ident != getattr(self, "_ident_shown", None):
            self._ident_shown = ident
            self.name.setText(s.get("name") or model.id)
            parts = [th.friendly_os(s.get("os"), s.get("os_version")) if s.get("os") else None,
                     th.friendly_arch(s.get("arch")) or None, f"{s['cores']} cores" if s.get("cores") else None]
            full = " · ".join(p for p in parts if p) or "—"
            self.meta.setText(self.meta.fontMetrics().elidedText(full, Qt.ElideRight, CARD_W - 24))
            self.meta.setToolTip(th.plain_tip(full))
        _set(self.load, f"CPU {_pct(s.get('cpu'))}")
        _set(self.mem_text, f"Memory {_pct(s.get('mem'))}")
        self.cpu_bar.set_value(s.get("cpu"), greyed)
        self.mem_bar.set_value(s.get("mem"), greyed)
        _set(self.jobs, running_text(model))
        last = s.get("last_seen")
        _set(self.seen, ("last seen " if status != "online" else "seen ") + ago(now - last) if last
             else "never seen")
        self._show_gpu(s.get("gpu_percent"), greyed)
        self.spark.set_points(np.fromiter(model.spark, dtype=float, count=len(model.spark)), greyed)
        if self.alerting != bool(model.alerts):
            self.alerting = bool(model.alerts)
            self.restyle()
        tip = card_tip(model)
        if tip != self.toolTip():
            self.setToolTip(tip)

    def _show_gpu(self, gpu: float | None, greyed: bool) -> None:
        """A GPU row for a node whose GPUs report a utilisation; the sparkline gives it the room."""
        has = isinstance(gpu, (int, float))
        if has:
            _set(self.gpu_text, f"GPU {_pct(gpu)}")
            self.gpu_bar.set_value(gpu, greyed)
        if has != getattr(self, "_gpu_shown", None):
            self._gpu_shown = has
            self.gpu_text.setVisible(has)
            self.gpu_bar.setVisible(has)
            self.spark.setFixedHeight(SPARK_H - GPU_ROW_H if has else SPARK_H)

    def mouseDoubleClickEvent(self, event) -> None:
        self.open_requested.emit(self.node_id)
        event.accept()


def card_tip(model: NodeModel) -> str:
    """The card's tooltip: firing alerts, the busiest process (a name the node supplies, so shown
    literally) and how to open the node."""
    lines = []
    if model.alerts:
        lines.append(f"{len(model.alerts)} alert(s) firing")
    top = model.summary.get("top_process")
    if isinstance(top, dict) and top.get("name"):
        cpu = top.get("cpu_percent")
        lines.append(f"busiest process: {top['name']}" + (f" ({cpu:.0f} % of one core)"
                                                           if isinstance(cpu, (int, float)) else ""))
    lines.append("Double-click for this node's charts")
    return th.plain_tip("\n".join(lines)) if len(lines) > 1 else lines[0]


def running_text(model: NodeModel) -> str:
    """"▶ #12 jobshop ft06" for one job, "▶ #12 jobshop +2 more" for several, from the queue's list."""
    if model.running:
        first = model.running[0]
        name = " ".join(str(x) for x in (f"#{first.get('id')}", first.get("type"), first.get("label")) if x)
        more = len(model.running) - 1
        return f"▶ {name}" + (f" +{more} more" if more else "")
    jobs = (model.summary.get("jobs") or {}).get("running") or 0
    return f"▶ {jobs} job{'s' if jobs != 1 else ''} running" if jobs else ""


def _set(label: QLabel, text: str) -> None:
    if label.text() != text:
        label.setText(text)


class SortItem(QTableWidgetItem):
    """A cell that sorts by the number (or key) in SORT_ROLE, not by its text."""

    def __lt__(self, other: QTableWidgetItem) -> bool:
        a, b = self.data(SORT_ROLE), other.data(SORT_ROLE)
        if a is None or b is None:
            return (a is None) > (b is None) if (a is None) != (b is None) else self.text() < other.text()
        return a < b


class FleetTable(QTableWidget):
    """The fleet as rows, sortable by any column (the header is the sort control)."""
    open_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(0, len(TABLE_COLUMNS), parent)
        self.setHorizontalHeaderLabels(list(TABLE_COLUMNS))
        self.verticalHeader().hide()
        self.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.Interactive)
        self.horizontalHeader().setStretchLastSection(True)
        header = self.horizontalHeader()
        header.setSectionsClickable(True)
        header.setSortIndicatorShown(True)
        header.setSortIndicator(1, Qt.AscendingOrder)
        header.sortIndicatorChanged.connect(self._sort)
        self.cellDoubleClicked.connect(self._open)
        self.rows: dict[str, int] = {}
        self._sorted_at = 0.0

    def _open(self, row: int, _col: int) -> None:
        item = self.item(row, 1)
        if item is not None:
            self.open_requested.emit(item.data(Qt.UserRole))

    def show_models(self, models: list[NodeModel], now: float, dirty: set[str] | None = None) -> None:
        """Show `models`; when the same nodes are shown as before, refill only the `dirty` rows.
        Rows are re-sorted at most every RESORT_MIN_S (each sort is n log n Python comparisons)."""
        same = {m.id for m in models} == set(self.rows)
        self.setUpdatesEnabled(False)
        if not same:
            self.setRowCount(len(models))
            for row, m in enumerate(models):
                self._fill(row, m, now)
        else:
            for m in models:
                if dirty is None or m.id in dirty:
                    self._fill(self.rows[m.id], m, now)
        if not same or now - self._sorted_at > RESORT_MIN_S:
            self._sort()
        if not same:
            self.resizeColumnsToContents()  # once per change of rows: sizing to contents on every edit is O(n²)
        self.setUpdatesEnabled(True)

    def _sort(self, *_args) -> None:
        header = self.horizontalHeader()
        self.sortItems(header.sortIndicatorSection(), header.sortIndicatorOrder())
        self.rows = {self.item(r, 1).data(Qt.UserRole): r for r in range(self.rowCount())}
        self._sorted_at = time.time()

    def _fill(self, row: int, m: NodeModel, now: float) -> None:
        c = th.colors()
        s, f = m.summary, node_facts(m)
        status = s.get("status") or "unknown"
        greyed = status == "offline"
        jobs = (s.get("jobs") or {}).get("running") or 0
        last = s.get("last_seen")
        cells = [
            (status, STATUS_ORDER.get(status, -1), th.status_color(status)),
            (s.get("name") or m.id, (s.get("name") or m.id).lower(), None),
            (th.friendly_os(s.get("os"), s.get("os_version")) + (f" · {th.friendly_arch(s.get('arch'))}"
                                                                if s.get("arch") else ""), None, None),
            (_pct(s.get("cpu")), s.get("cpu"), th.level_color("cpu", s.get("cpu"))),
            (_pct(s.get("mem")), s.get("mem"), th.level_color("mem", s.get("mem"))),
            (_pct(f["disk"]), f["disk"], th.level_color("disk", f["disk"])),
            (_pct(s.get("gpu_percent")), s.get("gpu_percent"), th.level_color("cpu", s.get("gpu_percent"))
             if s.get("gpu_percent") is not None else c.muted),
            (rate(f["rx"]), f["rx"], None),
            (rate(f["tx"]), f["tx"], None),
            ("unavailable" if f["temp"] is None else f"{f['temp']:.0f} °C", f["temp"],
             th.level_color("temp", f["temp"]) if f["temp"] is not None else c.muted),
            ("–" if f["load_per_core"] is None else f"{f['load_per_core']:.2f}", f["load_per_core"], None),
            (_uptime(f["uptime"]), f["uptime"], None),
            (str(s.get("agent_version") or "–"), None, None),
            (running_text(m)[2:] or "–", jobs, None),
            (ago(now - last) if last else "never", -(last or 0), None),
        ]
        for col, (text, key, color) in enumerate(cells):
            item = self.item(row, col)
            if item is None:
                item = SortItem()
                if col in (3, 4, 5, 6, 7, 8, 9, 10, 11, 13):
                    item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
                self.setItem(row, col, item)
            if item.text() != text:
                item.setText(text)
            item.setData(SORT_ROLE, key)
            if col == 1:
                item.setData(Qt.UserRole, m.id)
            fg = c.offline if greyed and col != 0 else color or c.text
            if item.data(FG_ROLE) != fg:
                item.setData(FG_ROLE, fg)
                item.setForeground(QColor(fg))


class FleetWindow(QMainWindow):
    """Fleet of any hub; `token` is a viewer token (or the admin secret), optional."""
    fleet_loaded = Signal(int)
    cards_updated = Signal(int)
    closed = Signal()

    def __init__(self, hub_url: str = "", token: str | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Forge fleet")
        self.resize(4 * (CARD_W + 12) + 40, 600)
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
        self._order: list[str] = []
        self._sorted_at = 0.0
        self._settings = QSettings("Forge", "forge-desktop")

        bar = QToolBar()
        bar.setMovable(False)
        self.url_edit = QLineEdit(self.hub_url)
        self.url_edit.setPlaceholderText("http://hub:3000")
        self.token_edit = QLineEdit(self.token or "")
        self.token_edit.setPlaceholderText("viewer token (optional)")
        self.token_edit.setEchoMode(QLineEdit.Password)
        self.token_edit.setMaximumWidth(180)
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

        view_bar = QToolBar()
        view_bar.setMovable(False)
        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("Filter: name, OS, status …")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.setMaximumWidth(260)
        self.filter_edit.textChanged.connect(lambda _t: self._relayout(force=True))
        self.sort_box = QComboBox()
        for key, label in SORTS:
            self.sort_box.addItem(f"Sort: {label}", key)
        self.sort_box.currentIndexChanged.connect(lambda _i: self._relayout(force=True))
        self.view_button = QPushButton("Table view")
        self.view_button.setCheckable(True)
        self.view_button.toggled.connect(self.set_table_view)
        self.theme_box = QComboBox()
        for mode in th.MODES:
            self.theme_box.addItem({"auto": "Theme: follow OS", "light": "Theme: light", "dark": "Theme: dark"}[mode],
                                   mode)
        self.theme_box.setCurrentIndex(th.MODES.index(th.theme.mode()))
        self.theme_box.currentIndexChanged.connect(lambda _i: th.theme.set_mode(self.theme_box.currentData()))
        for w in (self.filter_edit, self.sort_box, self.view_button, self.theme_box):
            view_bar.addWidget(w)
        self.addToolBarBreak()
        self.addToolBar(view_bar)

        self.summary = th.plain_label()
        self.grid_host = QWidget()
        self.grid_host.setObjectName("grid")
        self.grid = QGridLayout(self.grid_host)
        self.grid.setSpacing(10)
        self.grid.setContentsMargins(10, 10, 10, 10)
        self.grid.setAlignment(Qt.AlignTop | Qt.AlignLeft)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setWidget(self.grid_host)
        self.table = FleetTable()
        self.table.open_requested.connect(self.open_node)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.scroll)
        self.stack.addWidget(self.table)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.summary)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(body)
        th.watch_os()
        th.theme.changed.connect(self.restyle)
        self.restyle()

        self.flush_timer = QTimer(self)
        self.flush_timer.timeout.connect(self.flush)
        self.flush_timer.start(FLUSH_MS)
        self.age_timer = QTimer(self)
        self.age_timer.timeout.connect(self._refresh_ages)
        self.age_timer.start(AGE_REFRESH_MS)
        self.queue: dict = {}
        self.queue_timer = QTimer(self)
        self.queue_timer.timeout.connect(self._load_queue)
        self.queue_timer.start(QUEUE_REFRESH_MS)
        self.table_timer = QTimer(self)
        self.table_timer.timeout.connect(lambda: self.table_view and self._reload())
        self.table_timer.start(TABLE_REFRESH_MS)
        self.view_button.setChecked(self._settings.value("fleet/view", "cards") == "table")
        if self.hub_url:
            self.connect_to(self.hub_url, self.token)
        else:
            self.summary.setText("Enter a hub URL and press Connect.")

    # --- look -------------------------------------------------------------------------
    @property
    def table_view(self) -> bool:
        return self.stack.currentWidget() is self.table

    def set_table_view(self, on: bool) -> None:
        self.stack.setCurrentWidget(self.table if on else self.scroll)
        self.view_button.setChecked(on)
        self.view_button.setText("Card view" if on else "Table view")
        self._settings.setValue("fleet/view", "table" if on else "cards")
        self.sort_box.setEnabled(not on)
        if on:
            self._show_table()
        else:
            self._relayout(force=True)
            self.dirty.update(self.models)
            self.flush()

    def restyle(self) -> None:
        th.apply_palette()
        c = th.colors()
        self.grid_host.setStyleSheet(f"#grid {{ background: {c.window}; }}")
        self.summary.setStyleSheet(f"padding: 6px 10px; color: {c.muted}")
        for card in self.cards.values():
            card.restyle()
            card.cpu_bar.update()
            card.mem_bar.update()
            card.spark.update()
        self.dirty.update(self.models)
        self.flush()

    # --- connection -------------------------------------------------------------------
    def _connect_clicked(self) -> None:
        self.connect_to(self.url_edit.text(), self.token_edit.text().strip() or None)

    def connect_to(self, hub_url: str, token: str | None) -> None:
        stop_stream(self.stream)
        self.stream = None
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
        self.queue = {}
        self._load_queue()

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
        before = set(self.models)
        for node in body.get("nodes", []):
            seen.add(node["id"])
            self._model(node["id"]).apply(node, full=True)
            self.dirty.add(node["id"])
        for gone in set(self.models) - seen:
            self.models.pop(gone)
            card = self.cards.pop(gone, None)
            if card:
                card.deleteLater()
        if seen != before or not self.cards:
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
            if self.sort_key() == "status":
                self._sorted_at = 0.0

    def _on_error(self, message: str) -> None:
        self.summary.setStyleSheet(f"padding: 6px 10px; color: {th.colors().bad}")
        self.summary.setText(message)

    def _load_queue(self) -> None:
        """The queue's counts and the running jobs, so each card can name the job its node runs."""
        gen = self._generation
        fetch(self.hub_url, self.token, "/api/jobs", {"status": "running", "limit": RUNNING_JOBS_SHOWN},
              on_done=lambda body: self._on_queue(body, gen))

    def _on_queue(self, body, generation: int) -> None:
        if generation != self._generation or not isinstance(body, dict) or not isinstance(body.get("counts"), dict):
            return
        self.queue = body["counts"]
        running: dict[str, list[dict]] = {}
        for job in body.get("jobs") or []:
            if isinstance(job, dict) and job.get("claimed_by"):
                running.setdefault(job["claimed_by"], []).append(job)
        for node_id, model in self.models.items():
            if model.running != running.get(node_id, []):
                model.running = running.get(node_id, [])
                self.dirty.add(node_id)
        self._show_summary()

    def _model(self, node_id: str) -> NodeModel:
        model = self.models.get(node_id)
        if model is None:
            model = self.models[node_id] = NodeModel(node_id)
        return model

    # --- order ----------------------------------------------------------------------------
    def sort_key(self) -> str:
        return self.sort_box.currentData() or "name"

    def ordered(self) -> list[str]:
        """The ids of the nodes the filter lets through, in the chosen order."""
        needle = self.filter_edit.text().strip()
        models = [m for m in self.models.values() if not needle or m.matches(needle)]
        key = self.sort_key()
        name = lambda m: (m.summary.get("name") or m.id).lower()  # noqa: E731
        if key == "status":
            models.sort(key=lambda m: (STATUS_ORDER.get(m.summary.get("status"), -1), name(m)))
        elif key in ("cpu", "mem", "last_seen"):
            models.sort(key=lambda m: (-(m.summary.get(key) or -1.0), name(m)))
        else:
            models.sort(key=name)
        return [m.id for m in models]

    # --- drawing --------------------------------------------------------------------------
    def flush(self) -> None:
        if not self.dirty:
            return
        now = time.time()
        if self.sort_key() in ("cpu", "mem", "last_seen", "status") and now - self._sorted_at > RESORT_MIN_S:
            self._relayout(force=True, only_if_changed=True)
        count = 0
        if self.table_view:
            self._show_table(self.dirty)
            count = len(self.dirty)
        else:
            for node_id in list(self.dirty):
                card, model = self.cards.get(node_id), self.models.get(node_id)
                if card and model and card.isVisibleTo(self.grid_host):
                    card.show_model(model, now)
                    count += 1
        self.dirty.clear()
        self._show_summary()
        self.cards_updated.emit(count)

    def _show_table(self, dirty: set[str] | None = None) -> None:
        shown = set(self.ordered())
        self.table.show_models([m for m in self.models.values() if m.id in shown], time.time(), dirty)

    def _refresh_ages(self) -> None:
        """Nodes that stopped pushing get no events; their "last seen … ago" still has to grow."""
        self.dirty.update(m.id for m in self.models.values() if m.summary.get("status") != "online")

    def _show_summary(self) -> None:
        counts: dict[str, int] = {}
        for m in self.models.values():
            counts[m.summary.get("status", "unknown")] = counts.get(m.summary.get("status", "unknown"), 0) + 1
        parts = [f"{n} {status}" for status, n in sorted(counts.items())]
        shown = len(self._order)
        filtered = f" · {shown} shown" if self.filter_edit.text().strip() else ""
        self.summary.setStyleSheet(f"padding: 6px 10px; color: {th.colors().muted}")
        cores = sum(m.summary.get("cores") or 0 for m in self.models.values() if m.summary.get("status") == "online")
        busy = sum(1 for m in self.models.values() if (m.summary.get("jobs") or {}).get("running"))
        queue = (f" · jobs: {self.queue.get('running', 0)} running on {busy} node{'s' if busy != 1 else ''}, "
                 f"{self.queue.get('pending', 0)} queued" if self.queue else "")
        self.summary.setText(f"{len(self.models)} nodes at {self.hub_url}: {', '.join(parts) or 'none yet'}"
                             f" · {cores} cores online{queue}{filtered} · updated {time.strftime('%H:%M:%S')}")

    def _relayout(self, force: bool = False, only_if_changed: bool = False) -> None:
        width = self.scroll.viewport().width() or self.width()
        columns = max(1, (width - 20) // (CARD_W + self.grid.spacing()))
        order = self.ordered()
        self._sorted_at = time.time()
        if not force and columns == self._columns:
            return
        if only_if_changed and order == self._order and columns == self._columns:
            return
        self._columns, self._order = columns, order
        if self.table_view:
            self._show_table()
        for node_id in self.models:
            card = self.cards.get(node_id)
            if card is None:
                card = self.cards[node_id] = NodeCard(node_id, self.grid_host)
                card.open_requested.connect(self.open_node)
                self.dirty.add(node_id)
            self.grid.removeWidget(card)
        shown = set(order)
        for node_id, card in self.cards.items():
            card.setVisible(node_id in shown)
        for i, node_id in enumerate(order):
            self.grid.addWidget(self.cards[node_id], i // columns, i % columns)
            self.dirty.add(node_id)

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
        from .jobs.list_window import JobsWindow
        win = JobsWindow(self.hub_url, self.token)
        self.jobs_windows.append(win)
        win.closed.connect(lambda: self.jobs_windows.remove(win) if win in self.jobs_windows else None)
        win.show()
        return win

    # --- closing --------------------------------------------------------------------------
    def closeEvent(self, event) -> None:
        self._generation += 1
        for timer in (self.flush_timer, self.age_timer, self.table_timer, self.queue_timer):
            timer.stop()
        stop_stream(self.stream)
        self.stream = None
        th.theme.changed.disconnect(self.restyle)
        for win in [*self.node_windows, *self.jobs_windows]:
            win.close()
        super().closeEvent(event)
        self.closed.emit()
