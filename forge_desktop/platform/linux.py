"""Linux probes: input idle time and CPU topology.

Input idle time, first source that answers:

1. X11: the XScreenSaver extension (libXss via ctypes) when ``DISPLAY`` is set.
2. systemd-logind: ``IdleHint``/``IdleSinceHint`` of the active local sessions,
   read with ``loginctl``. A graphical session's hint is set by the desktop
   (GNOME, KDE) after its own idle delay, so this undercounts idleness by that
   delay, which errs on the side of leaving the user alone.
3. Neither: ``None``. A headless server has nobody at the keyboard, and the
   idle policy falls back to its CPU criterion alone.
"""

from __future__ import annotations

import ctypes
import functools
import ctypes.util
import logging
import os
import shutil
import subprocess
import time
from pathlib import Path

log = logging.getLogger(__name__)

_LOGINCTL_TIMEOUT_S = 2.0
_SESSION_PROPERTIES = ("Id", "Class", "Active", "Remote", "IdleHint", "IdleSinceHint")
_PRESENT_CLASSES = frozenset({"user", "greeter"})


def user_idle_seconds() -> float | None:
    if os.environ.get("DISPLAY"):
        seconds = x11_idle_seconds()
        if seconds is not None:
            return seconds
    return logind_idle_seconds(time.time())


class _XScreenSaverInfo(ctypes.Structure):
    _fields_ = [
        ("window", ctypes.c_ulong),
        ("state", ctypes.c_int),
        ("kind", ctypes.c_int),
        ("til_or_since", ctypes.c_ulong),
        ("idle", ctypes.c_ulong),
        ("event_mask", ctypes.c_ulong),
    ]


@functools.cache
def _load_x_libraries() -> tuple[ctypes.CDLL, ctypes.CDLL] | None:
    x11_name = ctypes.util.find_library("X11")
    xss_name = ctypes.util.find_library("Xss")
    if not x11_name or not xss_name:
        return None
    try:
        x11 = ctypes.CDLL(x11_name)
        xss = ctypes.CDLL(xss_name)
    except OSError:
        return None
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x11.XDefaultRootWindow.restype = ctypes.c_ulong
    x11.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
    x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
    x11.XFree.argtypes = [ctypes.c_void_p]
    xss.XScreenSaverQueryExtension.argtypes = [
        ctypes.c_void_p, ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_int)]
    xss.XScreenSaverAllocInfo.restype = ctypes.POINTER(_XScreenSaverInfo)
    xss.XScreenSaverQueryInfo.argtypes = [
        ctypes.c_void_p, ctypes.c_ulong, ctypes.POINTER(_XScreenSaverInfo)]
    return x11, xss


def x11_idle_seconds() -> float | None:
    """Idle time from the X server; the display is opened per call so an X restart is harmless."""
    libraries = _load_x_libraries()
    if libraries is None:
        return None
    x11, xss = libraries
    display = x11.XOpenDisplay(None)
    if not display:
        return None
    try:
        event_base, error_base = ctypes.c_int(), ctypes.c_int()
        if not xss.XScreenSaverQueryExtension(
                display, ctypes.byref(event_base), ctypes.byref(error_base)):
            return None
        info = xss.XScreenSaverAllocInfo()
        if not info:
            return None
        try:
            if not xss.XScreenSaverQueryInfo(display, x11.XDefaultRootWindow(display), info):
                return None
            return info.contents.idle / 1000.0
        finally:
            x11.XFree(info)
    finally:
        x11.XCloseDisplay(display)


def parse_loginctl_show(text: str) -> list[dict[str, str]]:
    """Sessions from ``loginctl show-session ID... -p ...``: blank-line separated blocks of key=value."""
    sessions: list[dict[str, str]] = []
    current: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line:
            if current:
                sessions.append(current)
                current = {}
            continue
        key, sep, value = line.partition("=")
        if sep:
            current[key] = value
    if current:
        sessions.append(current)
    return sessions


def parse_loginctl_list(text: str) -> list[str]:
    """Session ids from ``loginctl list-sessions --no-legend`` (the id is the first column)."""
    ids = []
    for line in text.splitlines():
        fields = line.split()
        if fields and not fields[0].endswith(":"):
            ids.append(fields[0])
    return ids


def idle_from_sessions(sessions: list[dict[str, str]], now: float) -> float | None:
    """Seconds since the most recent input over the active, local, user-facing sessions.

    A session that is not idle means someone is at the machine right now (0.0).
    Remote (ssh) and background sessions do not count: nobody sits at their keyboard.
    """
    present = [
        s for s in sessions
        if s.get("Class", "user") in _PRESENT_CLASSES
        and s.get("Active", "yes") == "yes"
        and s.get("Remote", "no") != "yes"
    ]
    idle_times: list[float] = []
    for session in present:
        if session.get("IdleHint") != "yes":
            return 0.0
        try:
            since_us = int(session.get("IdleSinceHint", "0"))
        except ValueError:
            continue
        if since_us > 0:
            idle_times.append(max(0.0, now - since_us / 1e6))
    return min(idle_times) if idle_times else None


def _run_loginctl(args: list[str]) -> str | None:
    loginctl = shutil.which("loginctl")
    if loginctl is None:
        return None
    try:
        done = subprocess.run(
            [loginctl, *args], capture_output=True, text=True,
            timeout=_LOGINCTL_TIMEOUT_S, check=False,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        log.debug("loginctl failed: %s", exc)
        return None
    return done.stdout if done.returncode == 0 else None


def logind_idle_seconds(now: float) -> float | None:
    listing = _run_loginctl(["list-sessions", "--no-legend"])
    if not listing:
        return None
    ids = parse_loginctl_list(listing)
    if not ids:
        return None
    properties = [arg for name in _SESSION_PROPERTIES for arg in ("-p", name)]
    shown = _run_loginctl(["show-session", *ids, *properties])
    if shown is None:
        return None
    return idle_from_sessions(parse_loginctl_show(shown), now)


def read_cpu_topology(sys_cpu: Path = Path("/sys/devices/system/cpu")) -> list[tuple[int, int]] | None:
    """``(package_id, core_id)`` of each online logical CPU, in the order psutil lists them."""
    try:
        cpus = []
        for entry in sys_cpu.iterdir():
            suffix = entry.name[3:]
            if entry.name.startswith("cpu") and suffix.isdigit() and (entry / "topology").is_dir():
                cpus.append((int(suffix), entry / "topology"))
        cpus.sort()
        topology = [
            (int((t / "physical_package_id").read_text()), int((t / "core_id").read_text()))
            for _, t in cpus
        ]
    except (OSError, ValueError):
        return None
    return topology or None


def cpu_topology() -> list[tuple[int, int]] | None:
    return read_cpu_topology()
