"""The test-only `sleep` job type: sleep, fail or crash on demand.

It lets queue and worker tests exercise success, a raised error and a dying
solver process without loading a real solver.
"""

from __future__ import annotations

import os
import time

from forge_contracts.jobtypes.payload import Progress
from forge_contracts.jobtypes.sleep import validate
from forge_desktop.solvers.progress import ProgressThrottle

__all__ = ["solve", "validate"]


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
