"""Child processes that die with their parent, so a `kill -9` of an agent leaves no job
child or fork server running on (while another worker reruns the job).

Linux: PR_SET_PDEATHSIG through ctypes' prctl, which the kernel delivers the moment the
parent goes. Other POSIX systems (macOS): a daemon thread that notices within a second
that the parent is gone (the parent pid changes). Windows: not covered (a job object with
KILL_ON_JOB_CLOSE would be the way); the service manager's stop kills the tree there.
"""
from __future__ import annotations

import os
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1


def die_with_parent(expected_parent: int | None = None) -> None:
    """Make this process exit when its parent does. `expected_parent`: the parent's pid
    as the parent saw it (closes the race where the parent died before the call)."""
    if os.name != "posix":
        return
    parent = expected_parent or os.getppid()
    if not (sys.platform.startswith("linux") and _prctl_pdeathsig()):
        threading.Thread(target=_watch_parent, args=(parent,), name="forge-parent-watch", daemon=True).start()
    if os.getppid() != parent:
        os._exit(1)


def _prctl_pdeathsig() -> bool:
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)
