"""The intents the tray menu and the status window both offer, and the object that carries them."""
from __future__ import annotations

from PySide6.QtCore import QObject, Signal

ACTIONS: tuple[tuple[str, str], ...] = (
    ("open_dashboard", "Open dashboard"),
    ("open_fleet", "Open fleet window"),
    ("toggle_pause", "Pause jobs"),
    ("toggle_hub", "Run the hub on this machine"),
    ("settings", "Settings…"),
    ("about", "About"),
    ("quit", "Quit"),
)
CHECKABLE = ("toggle_hub",)


def pause_label(paused: bool) -> str:
    return "Resume jobs" if paused else "Pause jobs"


class Intents(QObject):
    """Widgets emit `triggered(key)`; the app decides what each key does."""
    triggered = Signal(str)
