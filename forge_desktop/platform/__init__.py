"""Operating-system specific probes, one module per OS, chosen once at import.

Every function here degrades to ``None`` where the source is missing (a headless
server has no keyboard, a VM has no CPU topology); none of them raises.

- ``user_idle_seconds()``: seconds since the last keyboard/mouse input of the
  person at this machine, or ``None`` when this machine has no input source
  the agent can read (headless server, system service outside the session).
- ``cpu_topology()``: ``[(package_id, core_id), ...]`` per logical CPU, or
  ``None`` where the OS does not expose it; the collector maps per-core
  temperature sensors to logical CPUs with it.
"""

from __future__ import annotations

import sys
from types import ModuleType


def _select() -> ModuleType:
    if sys.platform.startswith("win"):
        from . import windows

        return windows
    if sys.platform == "darwin":
        from . import macos

        return macos
    from . import linux  # also the best guess for the BSDs: X11 and sysfs-less fallbacks

    return linux


current: ModuleType = _select()

user_idle_seconds = current.user_idle_seconds
cpu_topology = current.cpu_topology

__all__ = ["current", "user_idle_seconds", "cpu_topology"]
