"""The tray's state icon, drawn with QPainter: one colour and glyph per state."""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPen, QPixmap, QPolygonF

STATE_COLORS: dict[str, str] = {
    "connected": "#2e9d58",
    "offline": "#d9822b",
    "job": "#2f6fd6",
    "paused": "#7a7f87",
    "setup": "#a33b3b",
}
STATE_LABELS: dict[str, str] = {
    "connected": "Connected",
    "offline": "Offline, buffering",
    "job": "Running a job",
    "paused": "Jobs paused",
    "setup": "Not connected",
}


def state_pixmap(state: str, size: int = 64) -> QPixmap:
    pm = QPixmap(size, size)
    pm.fill(Qt.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.Antialiasing)
    s = float(size)
    p.setPen(Qt.NoPen)
    p.setBrush(QColor(STATE_COLORS.get(state, STATE_COLORS["setup"])))
    p.drawEllipse(QRectF(s * 0.04, s * 0.04, s * 0.92, s * 0.92))
    p.setBrush(Qt.white)
    pen = QPen(Qt.white, s * 0.09, Qt.SolidLine, Qt.RoundCap, Qt.RoundJoin)
    if state == "connected":
        _pulse(p, pen, s)
    elif state == "offline":
        _buffer(p, s)
    elif state == "job":
        _play(p, s)
    elif state == "paused":
        p.drawRoundedRect(QRectF(s * 0.33, s * 0.28, s * 0.12, s * 0.44), s * 0.03, s * 0.03)
        p.drawRoundedRect(QRectF(s * 0.55, s * 0.28, s * 0.12, s * 0.44), s * 0.03, s * 0.03)
    else:
        _cross(p, pen, s)
    p.end()
    return pm


def state_icon(state: str) -> QIcon:
    icon = QIcon()
    for size in (16, 22, 32, 64):
        icon.addPixmap(state_pixmap(state, size))
    return icon


def _pulse(p: QPainter, pen: QPen, s: float) -> None:
    """A heartbeat line: the node is reporting."""
    path = QPainterPath(QPointF(s * 0.18, s * 0.52))
    for x, y in ((0.36, 0.52), (0.44, 0.30), (0.56, 0.72), (0.64, 0.52), (0.82, 0.52)):
        path.lineTo(s * x, s * y)
    p.setPen(pen)
    p.setBrush(Qt.NoBrush)
    p.drawPath(path)


def _buffer(p: QPainter, s: float) -> None:
    """Three stacked bars: samples piling up on disk."""
    for i in range(3):
        p.drawRoundedRect(QRectF(s * 0.26, s * (0.26 + 0.17 * i), s * 0.48, s * 0.11), s * 0.03, s * 0.03)


def _play(p: QPainter, s: float) -> None:
    p.drawPolygon(QPolygonF([QPointF(s * 0.38, s * 0.27), QPointF(s * 0.38, s * 0.73), QPointF(s * 0.74, s * 0.5)]))


def _cross(p: QPainter, pen: QPen, s: float) -> None:
    p.setPen(pen)
    p.drawLine(QPointF(s * 0.34, s * 0.34), QPointF(s * 0.66, s * 0.66))
    p.drawLine(QPointF(s * 0.66, s * 0.34), QPointF(s * 0.34, s * 0.66))
