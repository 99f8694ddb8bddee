"""Work around a PySide6 reference bug that crashes long-running Qt apps on CPython 3.11.

PySide6 6.12.0 returns `True` from every `SignalInstance.emit()` without taking a
reference for it, so each emit (ours and pyqtgraph's, e.g. two per `setData`) drops
one reference to `True`. On CPython < 3.12, where `True` is not immortal, its count
reaches zero after a few thousand emits and the interpreter aborts with
"bool_dealloc: deallocating True or False" (a fleet window with 200 cards gets there
within a minute). We detect the leak by measuring it, and only then give `True` a
reference count no run can exhaust. CPython >= 3.12 makes bools immortal: nothing to do.
"""
from __future__ import annotations

import ctypes
import logging
import sys

from PySide6.QtCore import QObject, Signal

log = logging.getLogger("forge.ui")

PROBE_EMITS = 16
RESERVE = 1 << 40
_applied = False


class _Probe(QObject):
    ping = Signal()


def emit_leaks_true() -> bool:
    """True when an emit drops a reference to True (measured, not guessed from versions)."""
    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(PROBE_EMITS):
        probe.ping.emit()
    return sys.getrefcount(True) - before <= -PROBE_EMITS // 2


def protect_bool_refcounts() -> bool:
    """Apply the reserve once if this PySide6/CPython pair leaks; returns whether it was applied."""
    global _applied
    if _applied or sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return _applied
    if emit_leaks_true():
        ctypes.c_ssize_t.from_address(id(True)).value += RESERVE
        _applied = True
        log.info("PySide6 drops a reference to True per signal emit; reserved %d references", RESERVE)
    return _applied
