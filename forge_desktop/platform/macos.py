"""macOS probes: input idle time from ``HIDIdleTime`` in ``ioreg -c IOHIDSystem``."""

from __future__ import annotations

import logging
import re
import shutil
import subprocess

log = logging.getLogger(__name__)

_HID_IDLE = re.compile(r'"HIDIdleTime"\s*=\s*(\d+)')
_IOREG_TIMEOUT_S = 2.0


def parse_hid_idle_seconds(ioreg_output: str) -> float | None:
    """Seconds of input idleness from ``ioreg`` text; HIDIdleTime is in nanoseconds.

    ``ioreg`` may list several IOHIDSystem entries (one per HID stack); the
    smallest idle time is the most recent input on any of them.
    """
    values = [int(m) for m in _HID_IDLE.findall(ioreg_output)]
    if not values:
        return None
    return min(values) / 1e9


def user_idle_seconds() -> float | None:
    ioreg = shutil.which("ioreg")
    if ioreg is None:
        return None
    try:
        done = subprocess.run(
            [ioreg, "-c", "IOHIDSystem", "-d", "4"],
            capture_output=True, text=True, timeout=_IOREG_TIMEOUT_S, check=False,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        log.debug("ioreg failed: %s", exc)
        return None
    if done.returncode != 0:
        return None
    return parse_hid_idle_seconds(done.stdout)


def cpu_topology() -> list[tuple[int, int]] | None:
    """psutil exposes no per-core temperatures on macOS, so no mapping is needed."""
    return None
