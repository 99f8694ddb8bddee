"""The native jobs view: the hub's queue with filters, a preview of the selected job, the
batch view when one batch is shown, and Submit a file.

Reads the same API as the dashboard's `#/jobs` pages (GET /api/jobs every 2 s), always
through `api_reader.fetch`, so no request runs on the GUI thread. One job's window is
job_window.py, its result views job_results.py, its words job_text.py.
"""
from __future__ import annotations

import time

from PySide6.QtCore import QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QHeaderView, QLabel, QMainWindow, QPushButton,
                               QSizePolicy, QSplitter, QStyledItemDelegate, QTableWidget, QTableWidgetItem, QToolBar,
                               QVBoxLayout, QWidget)

from forge_contracts.jobtypes.display import seconds

from ...client import normalize_url
from .. import theme as th
from ..api_reader import fetch
from .batch_view import BatchView
from .charts import ERROR_RED
from .text import ago, escape_html, outcome, progress_text, result_summary, time_share, waiting_text, when
from .upload import UploadBar
from .job_window import JobWindow
from ..vocab import Vocabulary, load_vocabulary, vocabulary

POLL_MS = 2000
NODES_POLL_MS = 30000
PAGE_SIZE = 100
COLUMNS = ("Job", "Type", "Label", "Status", "Progress / result", "Machine", "Attempts", "Submitted", "Run time")
COL_ID, COL_TYPE, COL_LABEL, COL_STATUS, COL_RESULT, COL_NODE, COL_ATTEMPTS, COL_CREATED, COL_TOOK = range(9)
SHARE_ROLE = Qt.UserRole + 1
JOB_ID_ROLE = Qt.UserRole + 2
BAR_COLOR_ROLE = Qt.UserRole + 3


# --- the queue -------------------------------------------------------------------------
class ProgressDelegate(QStyledItemDelegate):
    """Running rows draw a bar (their share done) and the progress text beside it."""
    BAR_W = 110

    def paint(self, painter: QPainter, option, index) -> None:
        share = index.data(SHARE_ROLE)
        if share is None or share == "":
            super().paint(painter, option, index)
            return
        painter.save()
        rect = option.rect.adjusted(6, 0, -4, 0)
        bar = QRectF(rect.left(), rect.center().y() - 4, min(self.BAR_W, rect.width() * 0.45), 8)
        painter.setRenderHint(QPainter.Antialiasing)
        painter.setPen(Qt.NoPen)
        painter.setBrush(QColor(th.colors().track))
        painter.drawRoundedRect(bar, 4, 4)
        if share >= 0:
            painter.setBrush(QColor(index.data(BAR_COLOR_ROLE) or th.colors().accent))
            painter.drawRoundedRect(QRectF(bar.left(), bar.top(), bar.width() * share, bar.height()), 4, 4)
        painter.setPen(option.palette.text().color())
        text_rect = rect.adjusted(int(bar.width()) + 8, 0, 0, 0)
        painter.drawText(text_rect, Qt.AlignVCenter | Qt.AlignLeft,
                         option.fontMetrics.elidedText(str(index.data(Qt.DisplayRole) or ""), Qt.ElideRight,
                                                       text_rect.width()))
        painter.restore()

    def sizeHint(self, option, index) -> QSize:
        size = super().sizeHint(option, index)
        return QSize(max(size.width(), 320), size.height())


class JobsWindow(QMainWindow):
    """The queue of `hub_url` with status/type/machine filters; `token` is an optional viewer token."""
    jobs_shown = Signal(int)
    closed = Signal()

    def __init__(self, hub_url: str, token: str | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.hub_url, self.token = normalize_url(hub_url), token or None
        self.rows_by_id: dict[int, int] = {}
        self.jobs: list[dict] = []
        self.job_windows: list[JobWindow] = []
        self._generation = 0
        self._in_flight = 0
        self._server_skew = 0.0
        self._counts: dict = {}
        self._said = ""
        self.vocab: Vocabulary = vocabulary(self.hub_url)
        self.setWindowTitle(f"Forge jobs — {self.hub_url}")
        self.resize(1180, 620)

        bar = QToolBar()
        bar.setMovable(False)
        title = self.title = QLabel(" Jobs ")
        title.setStyleSheet("font-weight: 600; font-size: 14px")
        self.counts = QLabel()
        self.counts.setStyleSheet(f"color: {th.colors().muted}; padding-left: 8px")
        self.status_box = self._combo("All statuses", [(s, s) for s in self.vocab.job_statuses()])
        self.type_box = self._combo("All types", [])
        self.node_box = self._combo("All machines", [])
        self.batch_box = self._combo("All batches", [])
        self.batch_box.setToolTip("One batch (or sweep) of jobs: pick it here or with a job's Batch button")
        spacer = QWidget()
        spacer.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Preferred)
        self.upload_button = QPushButton("Submit a file…")
        self.upload_button.setCheckable(True)
        self.upload_button.setToolTip("Submit a JSON job or payload, a JSPLIB instance or an MPS/LP model")
        for w in (title, self.counts, spacer, self.status_box, self.type_box, self.node_box, self.batch_box,
                  self.upload_button):
            bar.addWidget(w)
        self.addToolBar(bar)
        self.upload = UploadBar(self.hub_url, self.token)
        self.upload.hide()
        self.upload_button.toggled.connect(self.upload.setVisible)
        self.upload.submitted.connect(lambda _body: self.reload(force=True))
        self.batch_view = BatchView(self.hub_url, self.token)
        self.batch_view.hide()
        self.batch_view.job_requested.connect(self.show_job)
        self.batch_view.cancelled.connect(lambda _ids: self.reload(force=True))

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setItemDelegateForColumn(COL_RESULT, ProgressDelegate(self.table))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeToContents)
        header.setSectionResizeMode(COL_RESULT, QHeaderView.Stretch)
        self.table.cellDoubleClicked.connect(lambda row, _col: self._open_row(row))
        self.table.setToolTip("Select a job to preview it below; double-click for its own window")
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.preview: JobWindow | None = None
        self.preview_host = QWidget()
        self.preview_layout = QVBoxLayout(self.preview_host)
        self.preview_layout.setContentsMargins(0, 0, 0, 0)
        self.preview_hint = th.plain_label("Select a job to preview it here.")
        self.preview_hint.setStyleSheet(f"color: {th.colors().muted}; padding: 10px")
        self.preview_layout.addWidget(self.preview_hint)
        self.splitter = QSplitter(Qt.Vertical)
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(self.preview_host)
        self.splitter.setSizes([420, 440])
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet(f"padding: 6px 10px; color: {th.colors().muted}")
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.message)
        layout.addWidget(self.upload)
        layout.addWidget(self.batch_view)
        layout.addWidget(self.splitter, 1)
        self.setCentralWidget(body)
        self.resize(1180, 860)
        self.message.setText(f"Loading {self.hub_url}/api/jobs …")

        for box in (self.status_box, self.type_box, self.node_box, self.batch_box):
            box.currentIndexChanged.connect(self._filters_changed)
        th.theme.changed.connect(self.restyle)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.reload)
        self.timer.start(POLL_MS)
        self.nodes_timer = QTimer(self)
        self.nodes_timer.timeout.connect(self._load_nodes)
        self.nodes_timer.start(NODES_POLL_MS)
        self._load_nodes()
        load_vocabulary(self.hub_url, self.token, self._on_vocab)
        self.reload()

    def _on_vocab(self, vocab: Vocabulary) -> None:
        """The hub's statuses and tones (GET /api/meta) arrived, or could not be read."""
        if vocab is self.vocab and self._said:
            return  # the same answer again (a failed read is retried after vocab.RETRY_S)
        self.vocab = vocab
        self._fill_combo(self.status_box, list(vocab.job_statuses(self._counts)))
        self._show_counts()
        if self._said:
            self._say(self._said)
        now = time.time() + self._server_skew
        for row, job in enumerate(self.jobs):
            self._show_row(row, job, now)

    def restyle(self) -> None:
        c = th.colors()
        self.title.setStyleSheet(f"font-weight: 600; font-size: 14px; color: {c.text}")
        self.counts.setStyleSheet(f"color: {c.muted}; padding-left: 8px")
        self.message.setStyleSheet(f"padding: 6px 10px; color: {c.muted}")
        self.preview_hint.setStyleSheet(f"color: {c.muted}; padding: 10px")
        self.batch_view.restyle()
        if self.preview is not None:
            self.preview.bound_chart.restyle()
        now = time.time() + self._server_skew
        for row, job in enumerate(self.jobs):
            self._show_row(row, job, now)

    @staticmethod
    def _combo(everything: str, options: list[tuple[str, str]]) -> QComboBox:
        box = QComboBox()
        box.setMinimumWidth(130)
        box.addItem(everything, "")
        for data, text in options:
            box.addItem(text, data)
        return box

    def filters(self) -> dict[str, str]:
        f = {"status": self.status_box.currentData(), "type": self.type_box.currentData(),
             "node": self.node_box.currentData(), "batch": self.batch_box.currentData()}
        return {k: v for k, v in f.items() if v}

    def set_filter(self, name: str, value_: str) -> None:
        """Select `value_` in the status/type/node/batch filter (adding it if the hub has not listed it yet)."""
        box = {"status": self.status_box, "type": self.type_box, "node": self.node_box, "batch": self.batch_box}[name]
        i = box.findData(value_)
        if i < 0:
            box.addItem(value_, value_)
            i = box.count() - 1
        box.setCurrentIndex(i)

    # --- data -----------------------------------------------------------------------
    def _filters_changed(self) -> None:
        self._generation += 1
        self.reload(force=True)

    def reload(self, force: bool = False) -> None:
        if self._in_flight and not force:
            return
        self._in_flight += 1
        gen = self._generation
        if not self.vocab.loaded:
            load_vocabulary(self.hub_url, self.token, self._on_vocab)
        self.batch_view.load(self.filters().get("batch"))
        fetch(self.hub_url, self.token, "/api/jobs", {"limit": PAGE_SIZE, **self.filters()},
              on_done=lambda body: self._on_jobs(body, gen), on_failed=lambda msg: self._on_failed(msg, gen))

    def _on_failed(self, message: str, generation: int) -> None:
        self._in_flight = max(0, self._in_flight - 1)
        if generation == self._generation:
            self._said = ""
            self.message.setText(f"<span style='color:{ERROR_RED}'>Could not load the queue: {escape_html(message)}</span>")

    def _on_jobs(self, body: dict, generation: int) -> None:
        self._in_flight = max(0, self._in_flight - 1)
        if generation != self._generation or not isinstance(body, dict):
            return
        self._fill_combo(self.type_box, body.get("types") or [])
        self.upload.set_types(body.get("types") or [])
        jobs = body.get("jobs") or []
        self._fill_combo(self.node_box, sorted({j["claimed_by"] for j in jobs if j.get("claimed_by")}))
        self._fill_combo(self.batch_box, sorted({str(j["batch_id"]) for j in jobs if j.get("batch_id")}))
        self.show_jobs(body.get("jobs") or [], body.get("total", 0), body.get("counts") or {})

    def _load_nodes(self) -> None:
        fetch(self.hub_url, self.token, "/api/fleet", on_done=self._on_fleet)

    def _on_fleet(self, body: dict) -> None:
        if not isinstance(body, dict):
            return
        if isinstance(body.get("now"), (int, float)):
            self._server_skew = body["now"] - time.time()
        ids = sorted(n["id"] for n in body.get("nodes") or [] if isinstance(n, dict) and "id" in n)
        self._fill_combo(self.node_box, ids)

    @staticmethod
    def _fill_combo(box: QComboBox, values: list[str]) -> None:
        """Add the options the hub knows about, keeping the current choice (and any extra one)."""
        have = {box.itemData(i) for i in range(box.count())}
        box.blockSignals(True)
        for v in values:
            if v not in have:
                box.addItem(v, v)
        box.blockSignals(False)

    # --- drawing --------------------------------------------------------------------------
    def show_jobs(self, jobs: list[dict], total: int, counts: dict) -> None:
        now = time.time() + self._server_skew
        self.jobs = jobs
        self._counts = counts
        self._fill_combo(self.status_box, list(self.vocab.job_statuses(counts)))
        self._show_counts()
        selected = self._selected_id()
        self.table.setUpdatesEnabled(False)
        self.table.setRowCount(len(jobs))
        self.rows_by_id = {}
        for row, job in enumerate(jobs):
            self.rows_by_id[int(job["id"])] = row
            self._show_row(row, job, now)
        self.table.setUpdatesEnabled(True)
        if selected in self.rows_by_id:
            self.table.selectRow(self.rows_by_id[selected])
        if not jobs:
            self._say("No job matches these filters." if self.filters() else
                      "The queue is empty. Submit work with Submit a file… or <code>forge jobs submit FILE</code> "
                      "(a JSON job, a JSPLIB instance or an MPS/LP model), or POST it to "
                      "<code>/api/jobs</code>.")
        else:
            more = f" (the newest {len(jobs)} shown)" if total > len(jobs) else ""
            self._say(f"{total} job{'s' if total != 1 else ''}{' matching' if self.filters() else ''}"
                      f"{more} · updated {time.strftime('%H:%M:%S')} · select a job to preview it, "
                      "double-click for its own window")
        self.jobs_shown.emit(len(jobs))

    def _show_counts(self) -> None:
        self.counts.setText(" · ".join(f"{self._counts.get(s, 0)} {s}" for s in self.vocab.job_statuses(self._counts)))

    def _say(self, text: str) -> None:
        """The line under the toolbar (rich text), with why the status colours are plain when they are."""
        self._said = text
        if self.vocab.error:
            text += (f"<br><span style='color:{ERROR_RED}'>Could not read this hub's statuses (GET /api/meta: "
                     f"{escape_html(self.vocab.error)}); status colours are plain.</span>")
        self.message.setText(text)

    def _show_row(self, row: int, job: dict, now: float) -> None:
        status = job.get("status") or "unknown"
        running = status == "running"
        shown = outcome(job)
        if running:
            summary = progress_text(job.get("progress"), job, now)
        elif status == "pending":
            summary = "waiting: " + waiting_text(job)
        else:
            summary = result_summary(job)
        took = "–"
        if job.get("claimed_at"):
            took = seconds((job.get("finished_at") or now) - job["claimed_at"])
        label = " · ".join(x for x in (job.get("label"), f"batch {job['batch_id']}" if job.get("batch_id") else None)
                           if x) or "–"
        texts = {COL_ID: f"#{job['id']}", COL_TYPE: str(job.get("type")), COL_LABEL: label, COL_STATUS: shown,
                 COL_RESULT: summary, COL_NODE: job.get("claimed_by") or "–",
                 COL_ATTEMPTS: f"{job.get('attempt_count', 0)}/{job.get('max_attempts', '?')}",
                 COL_CREATED: ago(now - job["created_at"]) if job.get("created_at") else "–", COL_TOOK: took}
        for col, text in texts.items():
            item = self.table.item(row, col)
            if item is None:
                item = QTableWidgetItem()
                if col in (COL_ID, COL_ATTEMPTS, COL_CREATED, COL_TOOK):
                    item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
                self.table.setItem(row, col, item)
            if item.text() != text:
                item.setText(text)
        self.table.item(row, COL_ID).setData(JOB_ID_ROLE, int(job["id"]))
        status_item = self.table.item(row, COL_STATUS)
        status_item.setForeground(QColor(self.vocab.color(shown)))
        if shown != status:
            status_item.setToolTip("the job succeeded, but its solver found no solution")
        font = status_item.font()
        font.setBold(True)
        font.setStrikeOut(status == "cancelled")
        status_item.setFont(font)
        result_item = self.table.item(row, COL_RESULT)
        share = time_share(job, now) if running else None
        result_item.setData(SHARE_ROLE, (-1.0 if share is None else share) if running else None)
        result_item.setData(BAR_COLOR_ROLE, self.vocab.color("running") if running else None)
        result_item.setForeground(QColor(ERROR_RED if status == "failed" else
                                         th.colors().muted if status == "pending" else th.colors().text))
        result_item.setToolTip(th.plain_tip(job.get("error") or summary if status == "failed" else summary))
        if job.get("created_at"):
            self.table.item(row, COL_CREATED).setToolTip(when(job["created_at"]))

    def _selected_id(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        item = self.table.item(rows[0].row(), COL_ID)
        return item.data(JOB_ID_ROLE) if item else None

    # --- job windows -------------------------------------------------------------------------
    def _selection_changed(self) -> None:
        job_id = self._selected_id()
        if job_id is None or (self.preview is not None and self.preview.job_id == job_id):
            return
        self._close_preview()
        self.preview_hint.hide()
        self.preview = JobWindow(self.hub_url, self.token, job_id, self.preview_host)
        self.preview.batch_requested.connect(lambda b: self.set_filter("batch", b))
        self.preview_layout.addWidget(self.preview)
        self.preview.show()

    def _close_preview(self) -> None:
        if self.preview is not None:
            self.preview.close()
            self.preview.deleteLater()
            self.preview = None

    def show_job(self, job_id: int) -> None:
        """Preview `job_id` under the queue when it is listed, else open its own window."""
        if job_id in self.rows_by_id:
            self.table.selectRow(self.rows_by_id[job_id])
        else:
            self.open_job(job_id)

    def _open_row(self, row: int) -> None:
        item = self.table.item(row, COL_ID)
        if item is not None and item.data(JOB_ID_ROLE) is not None:
            self.open_job(int(item.data(JOB_ID_ROLE)))

    def open_job(self, job_id: int) -> JobWindow:
        for win in self.job_windows:
            if win.job_id == job_id:
                win.show()
                win.raise_()
                return win
        win = JobWindow(self.hub_url, self.token, job_id)
        win.batch_requested.connect(lambda b: self.set_filter("batch", b))
        self.job_windows.append(win)
        win.closed.connect(lambda: self.job_windows.remove(win) if win in self.job_windows else None)
        win.show()
        return win

    def closeEvent(self, event) -> None:
        self._generation += 1
        self.timer.stop()
        self.nodes_timer.stop()
        self._close_preview()
        th.theme.changed.disconnect(self.restyle)
        for win in list(self.job_windows):
            win.close()
        super().closeEvent(event)
        self.closed.emit()
