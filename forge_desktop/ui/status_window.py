"""The small window shown where there is no system tray: the tray's state and menu as buttons."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QGridLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from .actions import ACTIONS, Intents, pause_label
from .icons import STATE_LABELS, state_pixmap
from .view import View


class StatusWindow(QWidget):
    def __init__(self, intents: Intents, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Forge")
        self.intents = intents
        self.icon = QLabel()
        self.icon.setFixedSize(48, 48)
        self.state_label = QLabel()
        self.state_label.setStyleSheet("font-weight: 600; font-size: 14px")
        self.headline = QLabel()
        self.headline.setWordWrap(True)
        self.load = QLabel()
        self.load.setStyleSheet("color: #555")
        self.alert = QLabel()
        self.alert.setWordWrap(True)
        self.alert.hide()
        text = QVBoxLayout()
        text.setSpacing(2)
        for w in (self.state_label, self.headline, self.load, self.alert):
            w.setTextFormat(Qt.PlainText)  # node ids and job names are never markup
            text.addWidget(w)
        top = QHBoxLayout()
        top.addWidget(self.icon, 0, Qt.AlignTop)
        top.addLayout(text, 1)

        self.buttons: dict[str, QPushButton | QCheckBox] = {}
        grid = QGridLayout()
        grid.setSpacing(6)
        row = col = 0
        for key, label in ACTIONS:
            if key == "toggle_hub":
                button: QPushButton | QCheckBox = QCheckBox(label)
                button.clicked.connect(lambda _=False, k=key: self.intents.triggered.emit(k))
                grid.addWidget(button, 3, 0, 1, 2)
                self.buttons[key] = button
                continue
            button = QPushButton(label)
            button.clicked.connect(lambda _=False, k=key: self.intents.triggered.emit(k))
            grid.addWidget(button, row, col)
            self.buttons[key] = button
            col += 1
            if col == 2:
                row, col = row + 1, 0
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addSpacing(6)
        layout.addLayout(grid)
        self.setMinimumWidth(380)
        self.state = ""

    def show_alert(self, kind: str, title: str, body: str) -> None:
        """The newest alert, in red while firing (this window stands in for tray notifications)."""
        color = "#1e7e34" if kind == "resolved" else "#b3261e"
        self.alert.setText(f"<b style='color:{color}'>{title}</b><br>{body}")
        self.alert.setToolTip(f"{title}\n{body}")
        self.alert.show()
        if self.isVisible():
            self.raise_()

    def show_state(self, view: View) -> None:
        if view.state != self.state:
            self.icon.setPixmap(state_pixmap(view.state, 48))
            self.state = view.state
        self.state_label.setText(STATE_LABELS.get(view.state, view.state))
        self.headline.setText(f"{view.headline}\nthis machine reports as {view.node_id!r}")
        self.load.setText(view.load_line)
        self.setToolTip(view.tooltip)
        self.buttons["toggle_pause"].setText(pause_label(view.paused))
        hub = self.buttons["toggle_hub"]
        hub.blockSignals(True)
        hub.setChecked(view.embedded_hub)
        hub.blockSignals(False)
