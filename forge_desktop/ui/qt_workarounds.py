"""Work around a PySide6 reference bug that crashes long-running Qt apps on CPython 3.11.

PySide6 6.12.0 hands back `None` from every void method (`setText`, `resize`, …) and
`True` from every `SignalInstance.emit()` without taking a reference for them, as if
they were immortal, which they are only from CPython 3.12 on. On 3.11 each such call
drops one reference; after some thousands the count reaches zero and the interpreter
aborts with "none_dealloc: deallocating None" or "bool_dealloc: deallocating True or
False" (a fleet window with 200 cards gets there within a minute, the tray in hours).
We measure the leak at import and only when it is there give `None` and `True` a
reference count no run can exhaust. CPython >= 3.12: nothing to do.
"""
from __future__ import annotations

import ctypes
import logging
import sys

from PySide6.QtCore import QObject, Signal

log = logging.getLogger("forge.ui")

PROBE_CALLS = 16
RESERVE = 1 << 40
_applied: list[object] | None = None


class _Probe(QObject):
    ping = Signal()


def leaked_singletons() -> list[object]:
    """Which of None/True lose a reference per call (measured, not guessed from versions)."""
    probe = _Probe()
    leaks = []
    for singleton, call in ((None, lambda: probe.setObjectName("probe")), (True, probe.ping.emit)):
        before = sys.getrefcount(singleton)
        for _ in range(PROBE_CALLS):
            call()
        if sys.getrefcount(singleton) - before <= -PROBE_CALLS // 2:
            leaks.append(singleton)
    return leaks


def protect_singleton_refcounts() -> list[object]:
    """Apply the reserve once where this PySide6/CPython pair leaks; returns the objects reserved."""
    global _applied
    if _applied is not None:
        return _applied
    _applied = []
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return _applied
    for singleton in leaked_singletons():
        ctypes.c_ssize_t.from_address(id(singleton)).value += RESERVE
        _applied.append(singleton)
        log.info("PySide6 drops a reference to %r per call; reserved %d references", singleton, RESERVE)
    return _applied


def delete_widgets_before_pyside_cleanup() -> None:
    """At exit, delete our top-level widgets through Qt before PySide's own cleanup runs.

    PySide6 6.12's exit cleanup deletes every Python-owned wrapper in no particular
    order; a parent deleted first takes its children with it, and the child's later
    delete crashes the process after a clean quit ("shared QObject was deleted
    directly", then SIGSEGV). Deleting top-level widgets first, through shiboken,
    invalidates every wrapper under them so the cleanup skips them.

    A window's running threads (its event stream) are stopped first: Qt aborts the process
    when a running QThread is destroyed. pyqtgraph views go next, each on its own: a view
    deleted as one of a window's many children crashed in its scene's teardown
    (QGraphicsScene::clear, a job window with its incumbent/bound chart), while the same
    view deleted directly does not.
    """
    import shiboken6
    from PySide6.QtCore import QThread
    from PySide6.QtWidgets import QApplication, QMenu
    app = QApplication.instance()
    if app is None or not shiboken6.isValid(app):
        return
    tops = [w for w in QApplication.topLevelWidgets() if shiboken6.isValid(w) and w.parent() is None]
    for top in tops:  # a window's threads (event streams) end before it goes: Qt aborts on a running one
        for thread in top.findChildren(QThread):
            if thread.isRunning():
                getattr(thread, "stop", thread.quit)()
                thread.wait(5000)
    pg = sys.modules.get("pyqtgraph")
    if pg is not None:
        for top in tops:
            if not shiboken6.isValid(top):  # a view's delete can take a widget of its own with it
                continue
            for view in reversed(top.findChildren(pg.GraphicsView)):
                _delete(shiboken6, view)
        tops = [w for w in tops if shiboken6.isValid(w)]
    for widget in sorted(tops, key=lambda w: isinstance(w, QMenu)):  # menus last: windows may use them
        _delete(shiboken6, widget)


def _delete(shiboken6, widget) -> None:
    if shiboken6.isValid(widget):
        try:
            shiboken6.delete(widget)
        except RuntimeError:
            pass


def install_exit_cleanup() -> None:
    """Registered after PySide's own atexit hook (QtCore import), so it runs before it."""
    import atexit
    atexit.register(delete_widgets_before_pyside_cleanup)
