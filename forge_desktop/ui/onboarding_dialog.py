"""First-run (and Settings…) dialog: hub URL plus a token or a join code, checked before saving.

The checks are forge_desktop.onboarding's, run on the thread pool; its messages are
shown as they are (unreachable, not a Forge hub, token refused, join code used/expired/unknown).
The token goes to the keyring only; the hub URL and node id to the settings file.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QButtonGroup, QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout, QLabel,
                               QLineEdit, QRadioButton, QVBoxLayout, QWidget)

from ..credentials import KeyringUnavailable
from ..onboarding import OnboardingError, connect_with_token, join
from ..settings import SettingsError, default_node_id
from .api_reader import BackgroundCall

EXPECTED = (OnboardingError, KeyringUnavailable, SettingsError)


class OnboardingDialog(QDialog):
    """Emits `connected(hub_url, node_id)` once the hub and the token/code are accepted and saved."""
    connected = Signal(str, str)
    check_finished = Signal()

    def __init__(self, hub_url: str = "", node_id: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Connect to a Forge hub")
        self.url = QLineEdit(hub_url)
        self.url.setPlaceholderText("http://hub.example:3000")
        self.node = QLineEdit(node_id or default_node_id())
        self.by_token = QRadioButton("Node token")
        self.by_code = QRadioButton("Join code")
        self.by_token.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.by_token)
        group.addButton(self.by_code)
        kind = QHBoxLayout()
        kind.addWidget(self.by_token)
        kind.addWidget(self.by_code)
        kind.addStretch(1)
        self.secret = QLineEdit()
        self.secret.setEchoMode(QLineEdit.Password)
        self.by_token.toggled.connect(self._kind_changed)
        self._kind_changed()

        intro = QLabel("This machine reports its load to a hub and takes jobs from it when idle. "
                       "Paste the token from <i>forge tokens create</i>, or a one-time join code "
                       "from the dashboard or <i>forge tokens join-code</i>.")
        intro.setWordWrap(True)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.message.setMinimumHeight(36)

        form = QFormLayout()
        form.addRow("Hub URL", self.url)
        form.addRow("This machine", self.node)
        form.addRow("Sign in with", kind)
        form.addRow("", self.secret)

        self.buttons = QDialogButtonBox(QDialogButtonBox.Cancel)
        self.check_button = self.buttons.addButton("Check and save", QDialogButtonBox.AcceptRole)
        self.buttons.accepted.connect(self.check)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(460)

    def _kind_changed(self) -> None:
        code = self.by_code.isChecked()
        self.secret.setPlaceholderText("join code, e.g. K7QF-M2XD" if code else "fgn_… node token")
        self.secret.setEchoMode(QLineEdit.Normal if code else QLineEdit.Password)

    def show_error(self, text: str) -> None:
        self.message.setStyleSheet("color: #b3261e")
        self.message.setText(text)

    def show_info(self, text: str) -> None:
        self.message.setStyleSheet("color: #444")
        self.message.setText(text)

    def check(self) -> None:
        url, node, secret = self.url.text().strip(), self.node.text().strip(), self.secret.text().strip()
        if not url:
            return self.show_error("Hub URL is required, e.g. http://hub.example:3000")
        if not node:
            return self.show_error("This machine needs a name (its node id)")
        if not secret:
            what = "join code" if self.by_code.isChecked() else "node token"
            return self.show_error(f"The {what} is required")
        self.show_info("Checking the hub…")
        self.check_button.setEnabled(False)
        if self.by_code.isChecked():
            call = BackgroundCall(join, url, secret, node, expected=EXPECTED)
            call.signals.done.connect(lambda result: self._accepted(result[1], result[0]))
        else:
            call = BackgroundCall(connect_with_token, url, node, secret, expected=EXPECTED)
            call.signals.done.connect(lambda hub_url: self._accepted(hub_url, node))
        call.signals.failed.connect(self._refused)
        call.start()

    def _accepted(self, hub_url: str, node_id: str) -> None:
        self.check_button.setEnabled(True)
        self.show_info(f"Connected to {hub_url} as {node_id!r}; the token is in the keyring.")
        self.connected.emit(hub_url, node_id)
        self.check_finished.emit()
        self.accept()

    def _refused(self, message: str) -> None:
        self.check_button.setEnabled(True)
        self.show_error(message[:1].upper() + message[1:])
        self.check_finished.emit()
