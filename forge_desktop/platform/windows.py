"""Windows probes: input idle time from ``GetLastInputInfo`` (user32, via ctypes).

Caveat: a process running as a service in session 0 sees no user input, so the
idle time it reads grows forever. The agent must run in the user's session (the
tray app, or a logon task) for the idle policy to see the user.
"""

from __future__ import annotations

import ctypes
import logging

log = logging.getLogger(__name__)

_TICK_WRAP = 2**32


def elapsed_ms(tick_now: int, last_input_tick: int) -> int:
    """Milliseconds between two ``GetTickCount`` values; the 32-bit counter wraps every 49.7 days."""
    return (tick_now - last_input_tick) % _TICK_WRAP


class _LastInputInfo(ctypes.Structure):
    _fields_ = [("cbSize", ctypes.c_uint), ("dwTime", ctypes.c_uint32)]


def user_idle_seconds() -> float | None:
    windll = getattr(ctypes, "windll", None)
    if windll is None:
        return None
    try:
        info = _LastInputInfo()
        info.cbSize = ctypes.sizeof(info)
        if not windll.user32.GetLastInputInfo(ctypes.byref(info)):
            return None
        windll.kernel32.GetTickCount.restype = ctypes.c_uint32
        tick_now = int(windll.kernel32.GetTickCount())
        return elapsed_ms(tick_now, int(info.dwTime)) / 1000.0
    except (OSError, AttributeError) as exc:
        log.debug("GetLastInputInfo unavailable: %s", exc)
        return None


def cpu_topology() -> list[tuple[int, int]] | None:
    """psutil exposes no per-core temperatures on Windows, so no mapping is needed."""
    return None
