"""One job in the native windows (its own window, or the preview under the queue): status,
progress against the time limit with the incumbent/bound chart, why it waits, its error,
its result by type, attempts, payload; cancel, retry and resubmit behind the admin sign-in.

Polls GET /api/jobs/{id} every 2 s until the job ends, through `api_reader`, so no request
runs on the GUI thread.
"""
from __future__ import annotations

import json
import math
import time
from typing import Any, Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QFrame, QHBoxLayout, QLabel, QProgressBar, QPushButton, QScrollArea,
                               QVBoxLayout, QWidget)

from forge_contracts.jobtypes.display import gap_text, seconds

from ...client import normalize_url
from .. import theme as th
from ..admin_action import AdminAction
from ..api_reader import fetch
from .bound_chart import BoundChart, incumbent_and_bound
from .charts import ERROR_RED, GanttChart
from .results import PAYLOAD_CHARS, RESULT_VIEWS, ResultView, cell, fit_table, generic_view, heading, readonly_table
from .text import escape_html, outcome, progress_text, split_error, status_style, time_share, waiting_text, when
from ..vocab import Vocabulary, load_vocabulary, vocabulary

POLL_MS = 2000


# --- admin actions -----------------------------------------------------------------------
ACTIONS = (("cancel", "Cancel", ("pending", "running")), ("retry", "Retry", ("failed", "cancelled")),
           ("resubmit", "Resubmit with another seed", ("succeeded", "failed", "cancelled")))
_routes: dict[str, set[str]] = {}
"""Per hub, the job action routes its OpenAPI document lists (so a button shows only where the hub has the route)."""


def offered_actions(hub_url: str) -> set[str] | None:
    return _routes.get(hub_url)


def load_actions(hub_url: str, token: str | None, on_done: Callable[[set[str]], None]) -> None:
    if hub_url in _routes:
        on_done(_routes[hub_url])
        return

    def done(doc) -> None:
        paths = (doc or {}).get("paths") or {} if isinstance(doc, dict) else {}
        _routes[hub_url] = {name for name, *_ in ACTIONS if f"/api/jobs/{{job_id}}/{name}" in paths}
        on_done(_routes[hub_url])
    fetch(hub_url, token, "/api/openapi.json", on_done=done, on_failed=lambda _m: on_done({"cancel"}))


# --- one job ---------------------------------------------------------------------------
class JobWindow(QWidget):
    """One job of `hub_url`: status, progress while it runs, its error, its result by type, attempts.

    Polls GET /api/jobs/{id} every 2 s until the job ends.
    """
    shown = Signal(dict)
    closed = Signal()
    batch_requested = Signal(str)

    def __init__(self, hub_url: str, token: str | None, job_id: int, parent: QWidget | None = None):
        super().__init__(parent)
        self.hub_url, self.token, self.job_id = normalize_url(hub_url), token, int(job_id)
        self.job: dict | None = None
        self.result_view: ResultView | None = None
        self._shown_key: str | None = None
        self._generation = 0
        self._busy = False
        self.vocab: Vocabulary = vocabulary(self.hub_url)
        self.setWindowTitle(f"Forge — job #{self.job_id}")
        self.resize(980, 760)

        self.title = QLabel(f"Job #{self.job_id}")
        self.title.setStyleSheet("font-weight: 600; font-size: 16px")
        self.status_badge = th.plain_label("loading")
        self.status_badge.setStyleSheet(status_style("pending", self.vocab))
        self.sub = th.plain_label()
        self.sub.setStyleSheet(f"color: {th.colors().muted}")
        head = QHBoxLayout()
        head.addWidget(self.title)
        head.addWidget(self.status_badge)
        head.addWidget(self.sub, 1)
        self.facts = QLabel()
        self.facts.setTextFormat(Qt.RichText)
        self.facts.setWordWrap(True)
        self.facts.setStyleSheet(f"color: {th.colors().text}")
        self.load_error = th.plain_label()
        self.load_error.setStyleSheet(f"color: {ERROR_RED}")
        self.load_error.hide()

        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setTextVisible(False)
        self.progress_bar.setFixedHeight(12)
        self.progress_bar.setToolTip("Time used against the job's time limit")
        self.progress_text = th.plain_label()
        self.gap_figure = th.plain_label()
        self.gap_figure.setStyleSheet("font-size: 15px; font-weight: 600")
        self.gap_figure.setToolTip("The relative gap between the best solution and the bound: 0 % is proved optimal")
        self.progress_box = QWidget()
        prow = QHBoxLayout(self.progress_box)
        prow.setContentsMargins(0, 0, 0, 0)
        prow.addWidget(self.progress_bar, 1)
        prow.addWidget(self.progress_text, 2)
        prow.addWidget(self.gap_figure)
        self.progress_box.hide()
        self.bound_chart = BoundChart()
        self.bound_chart.setToolTip("Incumbent (solid) and bound (dashed) since this window opened")
        self.bound_chart.hide()

        self.actions: dict[str, QPushButton] = {}
        self.action_row = QWidget()
        arow = QHBoxLayout(self.action_row)
        arow.setContentsMargins(0, 0, 0, 0)
        for name, text, _when in ACTIONS:
            b = QPushButton(text)
            b.clicked.connect(lambda _c=False, name=name: self.act(name))
            b.hide()
            arow.addWidget(b)
            self.actions[name] = b
        self.batch_button = QPushButton("Batch")
        self.batch_button.setToolTip("Show this job's batch in the queue")
        self.batch_button.clicked.connect(lambda: self.job and self.batch_requested.emit(str(self.job["batch_id"])))
        self.batch_button.hide()
        arow.addWidget(self.batch_button)
        self.action = AdminAction(hub_url, token)
        self.sign_in = self.action.sign_in
        arow.addWidget(self.action, 1)
        self._offered: set[str] = set()
        self._skew = 0.0

        self.error_heading = heading("Why it failed")
        self.error_heading.setStyleSheet(f"font-weight: 600; font-size: 13px; color: {ERROR_RED}; margin-top: 8px")
        self.error_text = QLabel()
        self.error_text.setTextFormat(Qt.PlainText)
        self.error_text.setWordWrap(True)
        self.error_text.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.error_text.setStyleSheet(f"font-family: monospace; color: {ERROR_RED}; background: #fdecea;"
                                      f"border: 1px solid #f3c1bc; border-radius: 6px; padding: 8px")
        self.trace_button = QPushButton("Show traceback")
        self.trace_button.setCheckable(True)
        self.trace_text = QLabel()
        self.trace_text.setTextFormat(Qt.PlainText)
        self.trace_text.setWordWrap(True)
        self.trace_text.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.trace_text.setStyleSheet("font-family: monospace; font-size: 11px; padding: 4px 8px")
        self.trace_button.toggled.connect(self._toggle_trace)
        for w in (self.error_heading, self.error_text, self.trace_button, self.trace_text):
            w.hide()

        self.result_host = QWidget()
        self.result_layout = QVBoxLayout(self.result_host)
        self.result_layout.setContentsMargins(0, 0, 0, 0)
        self.waiting = th.plain_label()
        self.waiting.setWordWrap(True)
        self.waiting.setStyleSheet(f"color: {th.colors().text}; background: {th.colors().track}; padding: 6px 8px;"
                                   "border-radius: 6px")
        self.attempts_heading = heading("Attempts")
        self.attempts = readonly_table(["#", "Machine", "Started", "Ended", "Took", "Outcome", "Error"], 0)
        self.payload_button = QPushButton("Show payload")
        self.payload_button.setCheckable(True)
        self.payload_text = QLabel()
        self.payload_text.setTextFormat(Qt.PlainText)
        self.payload_text.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.payload_text.setStyleSheet(f"font-family: monospace; background: {th.colors().track}; padding: 6px")
        self.payload_text.hide()
        self.payload_button.toggled.connect(self._toggle_payload)

        body = QWidget()
        body.setObjectName("jobBody")
        body.setStyleSheet(f"#jobBody {{ background: {th.colors().surface}; }}")
        layout = self.body_layout = QVBoxLayout(body)
        layout.setContentsMargins(14, 12, 14, 12)
        layout.setSpacing(6)
        layout.addLayout(head)
        layout.addWidget(self.facts)
        layout.addWidget(self.action_row)
        layout.addWidget(self.load_error)
        layout.addWidget(self.progress_box)
        layout.addWidget(self.bound_chart)
        layout.addWidget(self.error_heading)
        layout.addWidget(self.error_text)
        layout.addWidget(self.trace_button, 0, Qt.AlignLeft)
        layout.addWidget(self.trace_text)
        layout.addWidget(self.waiting)
        layout.addWidget(self.result_host)
        layout.addWidget(self.attempts_heading)
        layout.addWidget(self.attempts)
        payload_row = QHBoxLayout()
        payload_row.addWidget(self.payload_button)
        payload_row.addStretch(1)
        layout.addLayout(payload_row)
        layout.addWidget(self.payload_text)
        layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.NoFrame)
        scroll.setWidget(body)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)

        self.timer = QTimer(self)
        self.timer.timeout.connect(self.reload)
        self.timer.start(POLL_MS)
        fetch(self.hub_url, self.token, "/api/health", on_done=self._on_health)
        load_actions(self.hub_url, self.token, self._on_actions)
        load_vocabulary(self.hub_url, self.token, self._on_vocab)
        self.reload()

    def _on_vocab(self, vocab: Vocabulary) -> None:
        self.vocab = vocab
        if self.job:
            self.status_badge.setStyleSheet(status_style(outcome(self.job), vocab))
            self._show_attempts(self.job.get("attempts") or [])
            if vocab.is_final(self.job.get("status")):
                self.timer.stop()

    def _on_health(self, body) -> None:
        if isinstance(body, dict) and isinstance(body.get("time"), (int, float)):
            self._skew = body["time"] - time.time()

    def _on_actions(self, offered: set[str]) -> None:
        self._offered = offered
        if self.job:
            self._show_actions(self.job)

    def _show_actions(self, job: dict) -> None:
        status = job.get("status")
        for name, _text, when_ in ACTIONS:
            self.actions[name].setVisible(name in self._offered and status in when_)

    def act(self, name: str) -> None:
        """POST the action's route with the admin secret (or this window's token); a refusal asks to sign in."""
        for b in self.actions.values():
            b.setEnabled(False)
        self.action.run(name, f"/api/jobs/{self.job_id}/{name}", None, on_done=lambda body: self._acted(name, body),
                        on_failed=lambda msg: self._act_failed(name, msg), on_refused=self._enable_actions)

    def _acted(self, name: str, body) -> None:
        self._enable_actions()
        new_id = body.get("id") if isinstance(body, dict) else None
        self.action.say(f"{name}: done" + (f" (job #{new_id})" if new_id and new_id != self.job_id else ""))
        self._shown_key = None
        if not self.timer.isActive():
            self.timer.start(POLL_MS)
        self.reload()

    def _act_failed(self, name: str, message: str) -> None:
        self._enable_actions()
        self.action.say(f"{name} failed: {message}", error=True)

    def _enable_actions(self) -> None:
        for b in self.actions.values():
            b.setEnabled(True)

    @property
    def gantt(self) -> GanttChart | None:
        return self.result_view.gantt if self.result_view else None

    def reload(self) -> None:
        if self._busy:
            return
        self._busy = True
        gen = self._generation
        fetch(self.hub_url, self.token, f"/api/jobs/{self.job_id}",
              on_done=lambda body: self._on_job(body, gen), on_failed=lambda msg: self._on_failed(msg, gen))

    def _on_failed(self, message: str, generation: int) -> None:
        if generation != self._generation:
            return
        self._busy = False
        self.load_error.setText(f"Could not load this job: {message}")
        self.load_error.show()
        if "HTTP 404" in message:
            self.timer.stop()

    def _on_job(self, job: dict, generation: int) -> None:
        if generation != self._generation or not isinstance(job, dict):
            return
        self._busy = False
        self.load_error.hide()
        self.job = job
        self.render(job)
        if self.vocab.is_final(job.get("status")):
            self.timer.stop()
        self.shown.emit(job)

    def render(self, job: dict) -> None:
        status = job.get("status") or "unknown"
        shown = outcome(job)
        self.status_badge.setText(shown)
        self.status_badge.setStyleSheet(status_style(shown, self.vocab))
        self.status_badge.setToolTip("the job succeeded, but its solver found no solution" if shown != status else "")
        self.sub.setText(" · ".join(str(x) for x in (job.get("type"), job.get("label")) if x))
        self._show_actions(job)
        if job.get("batch_id"):
            self.batch_button.setText(f"Batch {job['batch_id']} →")
        self.batch_button.setVisible(bool(job.get("batch_id")))
        running = status == "running"
        self.progress_box.setVisible(running)
        if running:
            now = time.time() + self._skew
            share = time_share(job, now)
            if share is None:
                self.progress_bar.setRange(0, 0)
            else:
                self.progress_bar.setRange(0, 1000)
                self.progress_bar.setValue(math.floor(share * 1000))  # floored, as the text's percent is
            progress = job.get("progress") if isinstance(job.get("progress"), dict) else {}
            self.progress_text.setText(progress_text(progress or None, job, now))
            self.gap_figure.setText(f"gap {gap_text(progress.get('gap'))}" if progress.get("gap") is not None
                                    else "no gap yet")
            if job.get("claimed_at"):
                self.bound_chart.add(max(0.0, now - job["claimed_at"]), *incumbent_and_bound(progress))
        # a dot per report: the first one already shows where the solver stands
        self.bound_chart.setVisible(running and len(self.bound_chart.points) >= 1)
        if status == "pending":
            self.waiting.setText("Waiting: " + waiting_text(job))
        key = "|".join(str(job.get(k)) for k in ("status", "attempt_count", "claimed_by", "error", "finished_at"))
        if key == self._shown_key:
            return
        self._shown_key = key
        self._show_facts(job)
        self._show_error(job)
        self._show_result(job)
        self._show_attempts(job.get("attempts") or [])
        self.payload_text.setText(self._payload_text(job.get("payload")))
        self.body_layout.activate()

    def _show_facts(self, job: dict) -> None:
        facts = [("Machine", job.get("claimed_by") or "not claimed yet"),
                 ("Attempts", f"{job.get('attempt_count', 0)} of {job.get('max_attempts', '?')}"),
                 ("Submitted", when(job.get("created_at"))), ("Started", when(job.get("claimed_at"))),
                 ("Finished", when(job.get("finished_at")))]
        if job.get("claimed_at") and job.get("finished_at"):
            facts.append(("Run time", seconds(job["finished_at"] - job["claimed_at"])))
        if job.get("batch_id"):
            facts.append(("Batch", job["batch_id"]))
        if job.get("priority"):
            facts.append(("Priority", str(job["priority"])))
        self.facts.setText("&nbsp;&nbsp;·&nbsp;&nbsp;".join(
            f"<span style='color:{th.colors().muted}'>{name}</span> {escape_html(str(v))}" for name, v in facts))

    def _show_error(self, job: dict) -> None:
        error = job.get("error")
        retrying = job.get("status") in ("pending", "running")
        self.error_heading.setText("Last attempt failed (the job will be retried)" if retrying else "Why it failed")
        message, trace = split_error(error or "")
        self.error_text.setText(message)
        self.trace_text.setText(trace)
        self.error_heading.setVisible(bool(error))
        self.error_text.setVisible(bool(error))
        self.trace_button.setVisible(bool(trace))
        self.trace_text.setVisible(bool(trace) and self.trace_button.isChecked())

    def _toggle_trace(self, shown: bool) -> None:
        self.trace_button.setText("Hide traceback" if shown else "Show traceback")
        self.trace_text.setVisible(shown and bool(self.trace_text.text()))

    def _show_result(self, job: dict) -> None:
        while self.result_layout.count():
            item = self.result_layout.takeAt(0)
            if item.widget():
                item.widget().deleteLater()
        self.result_view = None
        self.waiting.hide()
        if job.get("result") is not None:
            self.result_view = RESULT_VIEWS.get(job.get("type"), generic_view)(job)
            for w in self.result_view.widgets:
                self.result_layout.addWidget(w)
                w.show()
        elif job.get("status") == "pending":
            self.waiting.setText("Waiting: " + waiting_text(job))
            self.waiting.show()

    def _show_attempts(self, attempts: list[dict]) -> None:
        self.attempts_heading.setVisible(bool(attempts))
        self.attempts.setVisible(bool(attempts))
        self.attempts.setRowCount(len(attempts))
        for i, a in enumerate(attempts):
            outcome = a.get("outcome") or "running"
            took = seconds(a["ended_at"] - a["started_at"]) if a.get("ended_at") and a.get("started_at") else "–"
            error = a.get("error") or ""
            for col, item in enumerate((cell(str(a.get("attempt")), align_right=True), cell(a.get("worker_id") or "–"),
                                        cell(when(a.get("started_at"))), cell(when(a.get("ended_at"))),
                                        cell(took, align_right=True),
                                        cell(outcome, color=self.vocab.color(outcome)),
                                        cell(error.split("\n")[0], color=ERROR_RED, tip=error or None))):
                self.attempts.setItem(i, col, item)
        if attempts:
            fit_table(self.attempts)

    @staticmethod
    def _payload_text(payload: Any) -> str:
        if payload is None:
            return ""
        text = json.dumps(payload, indent=1)
        return text if len(text) <= PAYLOAD_CHARS else f"{text[:PAYLOAD_CHARS]}\n… ({len(text):,} characters in all)"

    def _toggle_payload(self, on: bool) -> None:
        self.payload_text.setVisible(on)
        self.payload_button.setText("Hide payload" if on else "Show payload")

    def closeEvent(self, event) -> None:
        self._generation += 1
        self.timer.stop()
        super().closeEvent(event)
        self.closed.emit()
