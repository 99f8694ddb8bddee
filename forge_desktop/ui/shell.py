"""The desktop app's Qt side: tray or status window, dialogs and windows, and a clean quit.

The shell shows what `DesktopApp.view()` says and emits intents; `desktop.intent_handlers`
decides what each intent does. Agent threads report through `Bridge.changed`, a Qt
signal, so the widgets are only ever touched on the GUI thread.
"""
from __future__ import annotations

import signal
import sys
from typing import Callable

from PySide6.QtCore import QObject, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication, QMessageBox, QSystemTrayIcon

from .actions import Intents
from .icons import state_icon
from .view import App, View

REFRESH_MS = 2000
NO_TRAY = "forge desktop: no system tray on this platform; showing the Forge status window instead"


def make_qapp() -> QApplication:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Forge")
    app.setQuitOnLastWindowClosed(False)
    app.setWindowIcon(state_icon("connected"))
    return app


class Bridge(QObject):
    """Carries "the state may have changed" from any thread to the GUI thread."""
    changed = Signal()


class Shell(QObject):
    quitting = Signal()

    def __init__(self, app: App, announce: Callable[[str], None] = print,
                 quit_app: Callable[[], None] | None = None, tray_available: bool | None = None):
        super().__init__()
        self.app = app
        self.announce = announce
        self.quit_app = quit_app or QApplication.quit
        self.intents = Intents()
        self.bridge = Bridge()
        self.bridge.changed.connect(self.refresh)
        app.open_url = lambda url: QDesktopServices.openUrl(QUrl(url))
        app.subscribe(self.bridge.changed.emit)
        self.tray = None
        self.status_window = None
        if tray_available is None:
            tray_available = QSystemTrayIcon.isSystemTrayAvailable()
        if tray_available:
            from .tray import Tray
            self.tray = Tray(self.intents)
        else:
            from .status_window import StatusWindow
            self.status_window = StatusWindow(self.intents)
        self.fleet_windows: list = []
        self.dialog = None
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.refresh)
        self.timer.start(REFRESH_MS)
        self._handlers: dict[str, Callable[[], None]] = {}
        self.intents.triggered.connect(self._dispatch)
        self._quit_done = False
        self._signal_timer: QTimer | None = None
        self.alert_watch = None

    def wire(self, handlers: dict[str, Callable[[], None]]) -> None:
        self._handlers = handlers

    def _dispatch(self, key: str) -> None:
        handler = self._handlers.get(key)
        if handler:
            handler()
        self.refresh()

    def show(self) -> None:
        if self.tray is not None:
            self.tray.show()
        else:
            self.announce(NO_TRAY)
            self.status_window.show()
        self.refresh()
        self._watch_signals()

    def refresh(self) -> None:
        self._follow_alerts()
        view: View = self.app.view()
        if self.tray is not None:
            self.tray.show_state(view)
        if self.status_window is not None:
            self.status_window.show_state(view)

    # --- alerts ----------------------------------------------------------------------------
    def _follow_alerts(self) -> None:
        """Follow the alert stream of the hub the app reports to (again if that hub changes)."""
        target = self.app.fleet_target()
        if self.alert_watch is not None and self.alert_watch.target == target:
            return
        if self.alert_watch is not None:
            self.alert_watch.stop()
            self.alert_watch = None
        if not target[0] or self._quit_done:
            return
        from .alert_watch import AlertWatch
        self.alert_watch = AlertWatch(*target, parent=self)
        self.alert_watch.alert.connect(self.notify_alert)
        self.alert_watch.start()

    def notify_alert(self, kind: str, alert: dict) -> None:
        """One native notification per alert that fires or resolves (the status window without a tray)."""
        from .alert_watch import alert_message
        title, body = alert_message(kind, alert)
        if self.tray is not None:
            icon = QSystemTrayIcon.Information if kind == "resolved" else (
                QSystemTrayIcon.Critical if alert.get("severity") == "critical" else QSystemTrayIcon.Warning)
            self.tray.showMessage(title, body, icon, 15000)
        if self.status_window is not None:
            self.status_window.show_alert(kind, title, body)

    # --- intents that open things --------------------------------------------------------
    def open_fleet_window(self):
        from .fleet_window import FleetWindow
        url, token = self.app.fleet_target()
        win = FleetWindow(url, token)
        win.closed.connect(lambda: self._forget(win))
        self.fleet_windows.append(win)
        win.show()
        win.raise_()
        return win

    def _forget(self, win) -> None:
        if win in self.fleet_windows:
            self.fleet_windows.remove(win)

    def open_settings(self):
        from .onboarding_dialog import OnboardingDialog
        if self.dialog is not None and self.dialog.isVisible():
            self.dialog.raise_()
            return self.dialog
        url = self.app.hub_url_override or self.app.settings.hub_url
        self.dialog = OnboardingDialog(url, self.app.node_id)
        self.dialog.connected.connect(self._onboarded)
        self.dialog.show()
        return self.dialog

    def _onboarded(self, hub_url: str, node_id: str) -> None:
        if self.app.embedded_running:
            self.app.set_embedded_hub(False)
        self.app.hub_url_override = hub_url
        self.app.node_id = node_id
        self.app.connect()

    def show_about(self) -> None:
        box = QMessageBox(QMessageBox.Information, "About Forge", self.app.about_text())
        box.setIconPixmap(state_icon("connected").pixmap(48, 48))
        box.setModal(False)
        box.show()
        self._about = box

    # --- quitting --------------------------------------------------------------------------
    def quit(self) -> None:
        """Stop worker, agent (final push) and embedded hub, then leave the event loop."""
        if self._quit_done:
            return
        self._quit_done = True
        self.timer.stop()
        if self._signal_timer is not None:
            self._signal_timer.stop()
        for win in list(self.fleet_windows):
            win.close()
        if self.alert_watch is not None:
            self.alert_watch.stop()
        self.app.shutdown()
        if self.tray is not None:
            self.tray.hide()
        if self.status_window is not None:
            self.status_window.close()
        self.quitting.emit()
        self.quit_app()

    def _watch_signals(self) -> None:
        """SIGTERM/SIGINT quit cleanly; a short timer lets Python run its handlers inside Qt's loop."""
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                signal.signal(sig, lambda *_: QTimer.singleShot(0, self.quit))
            except (ValueError, OSError):
                return
        self._signal_timer = QTimer(self)
        self._signal_timer.timeout.connect(lambda: None)
        self._signal_timer.start(250)
