"""The test-only `sleep` job type's contract: sleep, fail or crash on demand."""

from __future__ import annotations

from forge_contracts.jobtypes.display import generic_summary, solver_progress_text
from forge_contracts.jobtypes.payload import PayloadError, boolean, number, reject_unknown

MAX_SECONDS = 3600.0


def validate(payload: dict) -> dict:
    reject_unknown(payload, {"seconds", "fail", "crash"})
    seconds = number(payload.get("seconds", 0), "payload.seconds", minimum=0)
    if seconds > MAX_SECONDS:
        raise PayloadError("payload.seconds", f"must be at most {MAX_SECONDS:g}, got {seconds:g}")
    return {"seconds": seconds, "fail": boolean(payload, "fail", False),
            "crash": boolean(payload, "crash", False)}


summarize = generic_summary
progress_text = solver_progress_text
