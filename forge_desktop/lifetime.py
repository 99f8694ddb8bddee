"""Child processes that die with their parent, so a `kill -9` of an agent leaves no job
child or fork server running on (while another worker reruns the job).

Linux: PR_SET_PDEATHSIG through ctypes' prctl, which the kernel delivers the moment the
parent goes. Other POSIX systems (macOS): a daemon thread that notices within a second
that the parent is gone (the parent pid changes). Windows, where a child keeps its parent's
pid after the parent dies: a daemon thread that watches the parent process itself (its pid
and start time, so a reused pid does not count as the parent). A job object with
KILL_ON_JOB_CLOSE would also cover a child that hangs in native code with the GIL held;
it is not built, as nothing here could test it.
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
    parent = expected_parent or os.getppid()
    if os.name != "posix":
        watch_parent_process(parent)
        return
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


def watch_parent_process(parent: int) -> None:
    """Exit within a second of the process `parent` ending, by watching it (any platform)."""
    import psutil
    try:
        started = psutil.Process(parent).create_time()
    except psutil.Error:
        os._exit(1)
    threading.Thread(target=_watch_process, args=(parent, started), name="forge-parent-watch", daemon=True).start()


def _watch_process(parent: int, started: float) -> None:
    import psutil
    while True:
        try:
            process = psutil.Process(parent)
            if process.create_time() != started or process.status() == psutil.STATUS_ZOMBIE:
                break
        except psutil.Error:
            break
        time.sleep(1.0)
    os._exit(1)
