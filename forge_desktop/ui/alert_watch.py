"""Alerts on the desktop: follow the hub's alert stream and say each FIRING and RESOLVED.

With a system tray the message is a native notification (QSystemTrayIcon.showMessage);
without one it goes to the status window's alert line. Either way `messages` keeps the
last few, newest last.
"""
from __future__ import annotations

from collections import deque

from PySide6.QtCore import QObject, Signal

from .api_reader import SseStream

KEEP = 20
UNITS = {"offline": "s", "cpu": "%", "memory": "%", "swap": "%", "disk": "%", "temperature": "°C",
         "net_rx": "B/s", "net_tx": "B/s", "gpu": "%", "battery": "%", "disk_fill_hours": "h"}


def alert_message(kind: str, alert: dict) -> tuple[str, str]:
    """(title, body) for one alert event, worded like the hub's notifications."""
    node, rule = alert.get("node_id", "?"), alert.get("rule_name", "?")
    title = f"{'RESOLVED' if kind == 'resolved' else 'FIRING'}: {rule} on {node}"
    metric, value = alert.get("metric", ""), alert.get("value")
    if metric == "reboot":
        return title, f"{node} rebooted"
    unit = UNITS.get(metric, "")
    shown = "unknown" if value is None else f"{value:.1f}".rstrip("0").rstrip(".")
    if kind == "resolved":
        return title, f"{metric} back to {shown} {unit}".strip()
    return title, f"{metric} is {shown} {unit} ({alert.get('op', '>')} {alert.get('threshold', '?'):g} {unit}), " \
                  f"{alert.get('severity', 'warning')}".replace("  ", " ")


class AlertWatch(QObject):
    """Follows /api/alerts/events of one hub; `alert(kind, alert)` on the GUI thread."""
    alert = Signal(str, dict)

    def __init__(self, hub_url: str, token: str | None, parent: QObject | None = None):
        super().__init__(parent)
        self.target = (hub_url, token)
        self.messages: deque[tuple[str, str, str]] = deque(maxlen=KEEP)  # (kind, title, body)
        self.stream = SseStream(hub_url, token, "/api/alerts/events", self)
        self.stream.event.connect(self._on_event)

    def start(self) -> None:
        self.stream.start()

    def stop(self) -> None:
        self.stream.stop()

    def _on_event(self, name: str, data) -> None:
        if name != "alert" or not isinstance(data, dict) or not isinstance(data.get("alert"), dict):
            return
        kind = "resolved" if data.get("kind") == "resolved" else "firing"
        title, body = alert_message(kind, data["alert"])
        self.messages.append((kind, title, body))
        self.alert.emit(kind, data["alert"])
