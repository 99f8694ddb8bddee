"""The test-only `sleep` job type: sleep, fail or crash on demand.

It lets queue and worker tests exercise success, a raised error and a dying
solver process without loading a real solver.
"""

from __future__ import annotations

import os
import time

from forge_desktop.solvers.payload import PayloadError, Progress, boolean, number, reject_unknown
from forge_desktop.solvers.progress import ProgressThrottle

MAX_SECONDS = 3600.0


def validate(payload: dict) -> dict:
    reject_unknown(payload, {"seconds", "fail", "crash"})
    seconds = number(payload.get("seconds", 0), "payload.seconds", minimum=0)
    if seconds > MAX_SECONDS:
        raise PayloadError("payload.seconds", f"must be at most {MAX_SECONDS:g}, got {seconds:g}")
    return {"seconds": seconds, "fail": boolean(payload, "fail", False),
            "crash": boolean(payload, "crash", False)}


def solve(payload: dict, progress: Progress | None = None) -> dict:
    """Sleep `seconds` reporting percent; then crash (exit 3), fail (raise) or answer."""
    seconds = payload["seconds"]
    throttle = ProgressThrottle(progress)
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        throttle.report(None, None, percent=100.0 * (1 - left / seconds))
        time.sleep(min(left, 0.1))
    if payload["crash"]:
        os._exit(3)
    if payload["fail"]:
        raise RuntimeError("sleep job asked to fail")
    return {"slept": seconds}
