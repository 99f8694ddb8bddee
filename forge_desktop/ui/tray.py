"""The system tray icon: state icon, live tooltip, and the menu of intents."""
from __future__ import annotations

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from .actions import ACTIONS, CHECKABLE, Intents, pause_label
from .icons import state_icon
from .view import View


class Tray(QSystemTrayIcon):
    def __init__(self, intents: Intents):
        super().__init__(state_icon("setup"))
        self.menu = QMenu()
        self.actions: dict[str, QAction] = {}
        for key, label in ACTIONS:
            if key == "settings":
                self.menu.addSeparator()
            action = self.menu.addAction(label)
            action.setCheckable(key in CHECKABLE)
            action.triggered.connect(lambda _=False, k=key: intents.triggered.emit(k))
            self.actions[key] = action
        self.status_action = QAction("", self.menu)
        self.status_action.setEnabled(False)
        self.menu.insertAction(self.actions["open_dashboard"], self.status_action)
        self.menu.insertSeparator(self.actions["open_dashboard"])
        self.setContextMenu(self.menu)
        self._state = ""

    def show_state(self, view: View) -> None:
        if view.state != self._state:
            self.setIcon(state_icon(view.state))
            self._state = view.state
        self.setToolTip(view.tooltip)
        self.status_action.setText(view.headline)
        self.actions["toggle_pause"].setText(pause_label(view.paused))
        self.actions["toggle_hub"].setChecked(view.embedded_hub)
