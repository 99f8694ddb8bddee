"""Colours and text helpers shared by the native windows: one place for light and dark.

The mode follows the OS colour scheme unless the user picked one (kept in QSettings as
`ui/theme`: "auto", "light" or "dark"). Windows read `colors()` when they style
themselves and restyle on `changed`.

Everything a node or a job supplies is shown through `plain()`: a QLabel's default
text format is AutoText, which renders anything that looks like HTML as rich text.
"""
from __future__ import annotations

import html
import math
import time
from dataclasses import dataclass

from PySide6.QtCore import QObject, QSettings, Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLabel

MODES = ("auto", "light", "dark")
WARN_AT = {"cpu": 80.0, "mem": 80.0, "disk": 80.0, "temp": 80.0}
"""Amber from here (percent, or °C for temperature) ..."""
BAD_AT = {"cpu": 95.0, "mem": 95.0, "disk": 95.0, "temp": 90.0}
"""... and red from here."""


@dataclass(frozen=True)
class Colors:
    dark: bool
    window: str
    surface: str
    border: str
    text: str
    muted: str
    faint: str
    track: str
    accent: str
    ok: str
    warn: str
    bad: str
    offline: str


LIGHT = Colors(False, window="#eef0f3", surface="#ffffff", border="#d7dbe0", text="#222222", muted="#666a70",
               faint="#a0a5ad", track="#e3e7ee", accent="#2f6fd6", ok="#2e9d58", warn="#c77417", bad="#b3261e",
               offline="#8a8f98")
DARK = Colors(True, window="#15181d", surface="#1f242b", border="#353c46", text="#e6e8eb", muted="#9aa3ad",
              faint="#5d6570", track="#2c333c", accent="#5b9cf5", ok="#3fb86e", warn="#e89a3c", bad="#e5534b",
              offline="#6b717a")
STATUS_KEYS = {"online": "ok", "degraded": "warn", "offline": "offline"}
TONE_KEYS = {"neutral": "muted", "active": "accent", "good": "ok", "warn": "warn", "bad": "bad", "muted": "offline"}
"""The hub's colour roles (`tone` in GET /api/meta) as this theme's colours (vocab.py)."""


class _Theme(QObject):
    changed = Signal()

    def __init__(self) -> None:
        super().__init__()
        self._forced: str | None = None
        self._chosen: str | None = None
        self._dark: bool | None = None

    def mode(self) -> str:
        if self._forced:
            return self._forced
        if self._chosen is None:
            chosen = QSettings("Forge", "forge-desktop").value("ui/theme", "auto")
            self._chosen = chosen if chosen in MODES else "auto"
        return self._chosen

    def set_mode(self, mode: str, *, remember: bool = True) -> None:
        """Switch to `mode`; `remember` keeps it for the next start, else it holds for this process."""
        if mode not in MODES:
            raise ValueError(f"theme must be one of {', '.join(MODES)}, not {mode!r}")
        if remember:
            QSettings("Forge", "forge-desktop").setValue("ui/theme", mode)
            self._chosen, self._forced = mode, None
        else:
            self._forced = mode
        self._dark = None
        self.changed.emit()

    def is_dark(self) -> bool:
        """Cached: colours are asked for per table cell, and QSettings reads a file."""
        if self._dark is None:
            mode = self.mode()
            if mode != "auto":
                self._dark = mode == "dark"
            else:
                app = QGuiApplication.instance()
                self._dark = bool(app) and app.styleHints().colorScheme() == Qt.ColorScheme.Dark
        return self._dark

    def follow_os(self) -> None:
        """The OS switched light/dark: forget the cached answer and restyle."""
        self._dark = None
        self.changed.emit()

    def colors(self) -> Colors:
        return DARK if self.is_dark() else LIGHT


theme = _Theme()
_watching = False


def watch_os() -> None:
    """Follow the OS's light/dark switch from now on (once per process)."""
    global _watching
    app = QGuiApplication.instance()
    if app is not None and not _watching:
        app.styleHints().colorSchemeChanged.connect(lambda _scheme: theme.follow_os())
        _watching = True


def colors() -> Colors:
    return theme.colors()


def status_color(status: str | None) -> str:
    c = colors()
    return getattr(c, STATUS_KEYS.get(status or "", "offline"))


def tone_color(tone: str | None) -> str:
    """The colour of a status's or outcome's tone in the current theme (muted for an unknown tone)."""
    return getattr(colors(), TONE_KEYS.get(tone or "", "muted"))


def level_color(kind: str, value: float | None) -> str:
    """Bar colour for a CPU/memory/disk percentage or a temperature: accent, amber or red."""
    c = colors()
    if value is None or not math.isfinite(value):
        return c.faint
    if value >= BAD_AT[kind]:
        return c.bad
    return c.warn if value >= WARN_AT[kind] else c.accent


def plain(label: QLabel, text: str = "") -> QLabel:
    """Make `label` plain text (never rich) and set its text."""
    label.setTextFormat(Qt.PlainText)
    label.setText(text)
    return label


def plain_label(text: str = "", style: str = "") -> QLabel:
    label = plain(QLabel(), text)
    if style:
        label.setStyleSheet(style)
    return label


def plain_tip(text: str) -> str:
    """A tooltip showing `text` literally: Qt renders a tooltip as rich text whenever it looks like
    HTML, so the text is escaped inside a paragraph that is rich text on purpose."""
    return f"<p style='white-space:pre-wrap'>{html.escape(text)}</p>" if text else ""


def clock(ts: float | None, now: float | None = None) -> str:
    """HH:MM for today, else the date too."""
    if not ts:
        return "–"
    now = now or time.time()
    same_day = time.localtime(ts)[:3] == time.localtime(now)[:3]
    return time.strftime("%H:%M" if same_day else "%Y-%m-%d %H:%M", time.localtime(ts))


def friendly_os(os_name: str | None, os_version: str | None) -> str:
    """ "macOS 14.4", "Windows 11", "Linux 6.1" from what the agent reports (Darwin kernels map to macOS)."""
    name, version = (os_name or "").strip(), (os_version or "").strip()
    if name == "Darwin":
        major = version.split(".")[0]
        if major.isdigit() and int(major) >= 20:  # a kernel release, not a macOS version
            return f"macOS {int(major) - 9}" if int(major) < 25 else f"macOS (Darwin {version})"
        return f"macOS {version}".strip()
    if name == "Windows":
        build = version.split(".")[-1] if version else ""
        if version.startswith("10.") and build.isdigit():
            return "Windows 11" if int(build) >= 22000 else "Windows 10"
        return f"Windows {version}".strip()
    return " ".join(x for x in (name, version) if x) or "–"


def friendly_arch(arch: str | None) -> str:
    """One vocabulary for what platform.machine() says differently per OS."""
    a = (arch or "").strip()
    return {"x86_64": "x86-64", "amd64": "x86-64", "AMD64": "x86-64", "arm64": "ARM64", "aarch64": "ARM64",
            "ARM64": "ARM64", "i386": "x86", "i686": "x86", "armv7l": "ARM32"}.get(a, a)


_platform_palette = None
"""The palette the application had before dark mode first replaced it (the OS's own, on a desktop)."""


def apply_palette() -> None:
    """Give the whole application the dark palette in dark mode, and its own palette back in light mode."""
    from PySide6.QtGui import QColor, QPalette
    from PySide6.QtWidgets import QApplication
    global _platform_palette
    app = QApplication.instance()
    if app is None:
        return
    c = colors()
    if not c.dark:
        if _platform_palette is not None:
            app.setPalette(_platform_palette)
        return
    if _platform_palette is None:
        _platform_palette = QPalette(app.palette())
    p = QPalette()
    for role, color in ((QPalette.Window, c.window), (QPalette.WindowText, c.text), (QPalette.Base, c.surface),
                        (QPalette.AlternateBase, "#252b33"), (QPalette.Text, c.text), (QPalette.Button, "#2a3038"),
                        (QPalette.ButtonText, c.text), (QPalette.ToolTipBase, c.surface),
                        (QPalette.ToolTipText, c.text), (QPalette.Highlight, c.accent),
                        (QPalette.HighlightedText, "#ffffff"), (QPalette.PlaceholderText, c.muted),
                        (QPalette.Mid, c.border), (QPalette.Light, "#3a414b"), (QPalette.Dark, "#0e1013")):
        p.setColor(role, QColor(color))
    p.setColor(QPalette.Disabled, QPalette.Text, QColor(c.faint))
    p.setColor(QPalette.Disabled, QPalette.ButtonText, QColor(c.faint))
    app.setPalette(p)


theme.changed.connect(apply_palette)
