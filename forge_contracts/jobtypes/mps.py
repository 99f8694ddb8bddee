"""The `mps` job type's contract: any LP or MIP in MPS or CPLEX-LP text.

Checks here are textual (the sections an MPS file needs, an LP objective line); the
solver (forge_desktop/solvers/mps.py) reads the model with HiGHS and refuses what
HiGHS cannot parse.
"""

from __future__ import annotations

import re

from forge_contracts.jobtypes.display import objective_summary, solver_progress_text
from forge_contracts.jobtypes.payload import (
    PayloadError, optional_number, reject_unknown, seed, threads, time_limit,
)

DEFAULT_TIME_LIMIT = 300.0
MAX_MODEL_BYTES = 16 * 1024 * 1024
MAX_VALUES = 200_000
FORMATS = ("mps", "lp")
_MPS_SECTION = re.compile(r"^(ROWS|COLUMNS)\b", re.MULTILINE)
_LP_OBJECTIVE = re.compile(r"^\s*(min|max|minimize|maximize|minimise|maximise|minimum|maximum)\b",
                           re.MULTILINE | re.IGNORECASE)


def validate(payload: dict) -> dict:
    reject_unknown(payload, {"model", "format", "time_limit", "mip_gap", "threads", "seed"})
    model = payload.get("model")
    if not isinstance(model, str) or not model.strip():
        raise PayloadError("payload.model", "must be the non-empty text of an MPS or LP model")
    size = len(model.encode("utf-8"))
    if size > MAX_MODEL_BYTES:
        raise PayloadError("payload.model", f"is {size} bytes; at most {MAX_MODEL_BYTES} allowed")
    fmt = payload.get("format")
    if fmt is None:
        fmt = "mps" if _MPS_SECTION.search(model) else "lp"
    if fmt not in FORMATS:
        raise PayloadError("payload.format", f"must be 'mps' or 'lp', got {fmt!r}")
    if fmt == "mps":
        for section in ("ROWS", "COLUMNS"):
            if not re.search(rf"^{section}\b", model, re.MULTILINE):
                raise PayloadError("payload.model", f"is not MPS: the {section} section is missing")
    elif not _LP_OBJECTIVE.search(model):
        raise PayloadError("payload.model", "is not LP format: no line starts with "
                                            "'Minimize' or 'Maximize'")
    mip_gap = optional_number(payload, "mip_gap", None, minimum=0)
    return {"model": model, "format": fmt, "time_limit": time_limit(payload, DEFAULT_TIME_LIMIT),
            "mip_gap": mip_gap, "threads": threads(payload), "seed": seed(payload)}


summarize = objective_summary
progress_text = solver_progress_text
