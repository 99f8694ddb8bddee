"""Admin actions from the native windows: the secret typed once per process, and a small
row (sign-in field and note) that POSTs an action and asks for the secret when the hub refuses."""
from __future__ import annotations

from typing import Any, Callable

from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QWidget

from . import theme as th
from .api_reader import post


class AdminSession:
    """The admin secret typed into a sign-in field, kept in memory for this process only
    (never stored, never logged); actions use it, else the window's own token."""
    secret: str | None = None


def refused(message: str) -> bool:
    """Whether an action failed for want of the admin secret (the hub answered 401 or 403)."""
    return "HTTP 401" in message or "HTTP 403" in message


class AdminAction(QWidget):
    """A password field (shown when the hub wants the secret) and a note saying how the action went.

    `run(path, body, on_done, on_failed)` POSTs with the session's secret (or `token`); a 401/403
    shows the field, and Enter there runs the same action again."""

    def __init__(self, hub_url: str, token: str | None, parent: QWidget | None = None):
        super().__init__(parent)
        self.hub_url, self.token = hub_url, token
        self.sign_in = QLineEdit()
        self.sign_in.setEchoMode(QLineEdit.Password)
        self.sign_in.setPlaceholderText("admin secret")
        self.sign_in.setMaximumWidth(220)
        self.sign_in.returnPressed.connect(self._signed_in)
        self.sign_in.hide()
        self.note = th.plain_label()
        self.note.setWordWrap(True)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.sign_in)
        row.addWidget(self.note, 1)
        self._again: Callable[[], None] | None = None

    def run(self, what: str, path: str, body: Any, on_done: Callable[[Any], None],
            on_failed: Callable[[str], None] | None = None, on_refused: Callable[[], None] | None = None) -> None:
        """`on_failed` for any failure but a refusal, which shows the sign-in (and calls `on_refused`)."""
        self._again = lambda: self.run(what, path, body, on_done, on_failed, on_refused)
        self.say(f"{what} …")

        def failed(message: str) -> None:
            if refused(message):
                self.sign_in.show()
                self.sign_in.setFocus()
                self.say(f"{what} needs the hub's admin secret: type it and press Enter", error=True)
                if on_refused is not None:
                    on_refused()
            elif on_failed is not None:
                on_failed(message)
            else:
                self.say(f"{what} failed: {message}", error=True)

        def done(answer: Any) -> None:
            self._again = None
            on_done(answer)
        post(self.hub_url, AdminSession.secret or self.token, path, body, on_done=done, on_failed=failed)

    def say(self, text: str, error: bool = False) -> None:
        self.note.setText(text)
        self.note.setStyleSheet(f"color: {th.colors().bad if error else th.colors().text}")

    def _signed_in(self) -> None:
        AdminSession.secret = self.sign_in.text().strip() or None
        self.sign_in.clear()
        self.sign_in.hide()
        if self._again and AdminSession.secret:
            self._again()
