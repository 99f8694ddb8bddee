"""Submit a job by choosing a file in the native jobs window, as the dashboard's "Submit a file":
the hub sniffs it as `forge jobs submit FILE` does (POST /api/jobs/upload), says what it took
the file for before anything is queued, and refuses a bad file with its own message."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QFileDialog, QHBoxLayout, QPushButton, QSpinBox, QVBoxLayout, QWidget

from .. import theme as th
from ..admin_action import AdminAction

MAX_FILE_BYTES = 16 * 1024 * 1024
FILE_FILTER = "Jobs and models (*.json *.mps *.lp *.txt);;All files (*)"


def describe(name: str, seen: dict) -> str:
    """`ft06: JSPLIB instance · 1 jobshop job · “ft06” · 6 jobs × 6 machines`."""
    n = seen.get("jobs", 1)
    parts = [f"{name}: {seen.get('kind')}", f"{n} {seen.get('type')} job{'s' if n != 1 else ''}",
             f"“{seen['label']}”" if seen.get("label") else None, seen.get("shape")]
    return " · ".join(p for p in parts if p)


class UploadBar(QWidget):
    """Choose a file, see what the hub takes it for, then Submit."""
    submitted = Signal(object)
    """The hub's answer: {"id"} for one job, {"ids", "batch_id"} for a batch."""

    def __init__(self, hub_url: str, token: str | None, parent: QWidget | None = None):
        super().__init__(parent)
        self.hub_url, self.token = hub_url, token
        self.path: Path | None = None
        self.text: str | None = None
        self.choose_button = QPushButton("Choose file…")
        self.choose_button.clicked.connect(self._ask_for_file)
        self.type_box = QComboBox()
        self.type_box.addItem("Type: from the file", "")
        self.type_box.currentIndexChanged.connect(lambda _i: self.path and self.check())
        self.priority = QSpinBox()
        self.priority.setRange(-1000, 1000)
        self.priority.setPrefix("priority ")
        self.submit_button = QPushButton("Submit")
        self.submit_button.setEnabled(False)
        self.submit_button.clicked.connect(self.submit)
        self.seen = th.plain_label()
        self.seen.setWordWrap(True)
        self.action = AdminAction(hub_url, token)
        row = QHBoxLayout()
        row.addWidget(self.choose_button)
        row.addWidget(self.type_box)
        row.addWidget(self.priority)
        row.addWidget(self.submit_button)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.addLayout(row)
        layout.addWidget(self.seen)
        layout.addWidget(self.action)

    def set_types(self, types: list[str]) -> None:
        have = {self.type_box.itemData(i) for i in range(self.type_box.count())}
        self.type_box.blockSignals(True)
        for t in types:
            if t not in have:
                self.type_box.addItem(t, t)
        self.type_box.blockSignals(False)

    def _ask_for_file(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Submit a job from a file", str(Path.home()), FILE_FILTER)
        if name:
            self.choose(Path(name))

    def choose(self, path: Path) -> None:
        """Read `path` and ask the hub what it would submit (nothing is queued yet)."""
        self.path, self.text = path, None
        self.submit_button.setEnabled(False)
        self.action.say("")
        try:
            size = path.stat().st_size
            if size > MAX_FILE_BYTES:
                self._said(f"{path.name} is {size / 1048576:.1f} MiB; the hub takes files up to 16 MiB", True)
                return
            self.text = path.read_text(encoding="utf-8")
        except OSError as e:
            self._said(f"cannot read {path.name}: {e.strerror}", True)
            return
        except UnicodeDecodeError:
            self._said(f"{path.name} is not text: choose a JSON, JSPLIB, MPS or LP file", True)
            return
        self.check()

    def _body(self, check: bool) -> dict:
        return {"filename": self.path.name, "content": self.text, "type": self.type_box.currentData() or None,
                "priority": self.priority.value(), "check": check}

    def check(self) -> None:
        if self.text is None or self.path is None:
            return
        self._said("")
        name = self.path.name

        def seen(body) -> None:
            self.action.say("")
            self._said(describe(name, body if isinstance(body, dict) else {}))
            self.submit_button.setEnabled(True)
        self.action.run("Checking the file", "/api/jobs/upload", self._body(True), seen,
                        on_failed=self._refused)

    def _refused(self, message: str) -> None:
        self.action.say("")
        self._said(message.removesuffix(" (HTTP 400)"), True)

    def submit(self) -> None:
        if self.text is None:
            return
        self.submit_button.setEnabled(False)

        def done(body) -> None:
            body = body if isinstance(body, dict) else {}
            what = (f"batch {body['batch_id']} ({len(body.get('ids') or [])} jobs)" if body.get("batch_id")
                    else f"job #{body.get('id')}")
            self.action.say(f"Submitted {what}.")
            self._said("")
            self.path = self.text = None
            self.submitted.emit(body)
        self.action.run("Submitting", "/api/jobs/upload", self._body(False), done, on_failed=self._refused)

    def _said(self, text: str, error: bool = False) -> None:
        self.seen.setText(text)
        self.seen.setStyleSheet(f"color: {th.colors().bad if error else th.colors().text}")
