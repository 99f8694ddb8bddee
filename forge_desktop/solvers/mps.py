"""The `mps` job type: any LP or MIP in MPS or CPLEX-LP text, solved by HiGHS.

HiGHS reads models from files only, so the text goes to a temporary file whose
suffix tells HiGHS the format.
"""

from __future__ import annotations

import os
import re
import tempfile

from forge_desktop.solvers.payload import (
    PayloadError, Progress, optional_number, reject_unknown, seed, threads, time_limit,
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


def _read(payload: dict):
    import highspy

    from forge_desktop.solvers.highs_backend import new_highs

    highs = new_highs()
    fd, path = tempfile.mkstemp(suffix="." + payload["format"], prefix="forge-model-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(payload["model"])
        status = highs.readModel(path)
    finally:
        os.unlink(path)
    if status == highspy.HighsStatus.kError:
        raise PayloadError("payload.model", f"HiGHS could not read it as {payload['format'].upper()}")
    lp = highs.getLp()
    if lp.num_col_ == 0:
        raise PayloadError("payload.model", "has no variables")
    if lp.num_col_ > MAX_VALUES or lp.num_row_ > MAX_VALUES:
        raise PayloadError("payload.model", f"has {lp.num_col_} columns and {lp.num_row_} rows; "
                                            f"at most {MAX_VALUES} of each allowed")
    return highs


def solve(payload: dict, progress: Progress | None = None) -> dict:
    from forge_desktop.solvers.highs_backend import run

    highs = _read(payload)
    outcome = run(highs, payload["time_limit"], payload["mip_gap"], progress, threads=payload["threads"],
                  seed=payload.get("seed", 0))
    lp = highs.getLp()
    result: dict = {
        "status": outcome.status,
        "objective": outcome.objective,
        "bound": outcome.bound,
        "gap": outcome.gap,
        "solve_time": outcome.solve_time,
        "kind": "mip" if outcome.is_mip else "lp",
        "nodes": outcome.nodes,
        "sense": "maximize" if highs.getObjectiveSense()[1] == _maximize() else "minimize",
        "values": {},
    }
    if outcome.has_solution:
        solution = highs.getSolution()
        col_names = _names(lp.col_names_, lp.num_col_, "c")
        result["values"] = dict(zip(col_names, map(float, solution.col_value)))
        if not outcome.is_mip and solution.dual_valid:
            row_names = _names(lp.row_names_, lp.num_row_, "r")
            result["duals"] = dict(zip(row_names, map(float, solution.row_dual)))
    return result


def _maximize():
    import highspy

    return highspy.ObjSense.kMaximize


def _names(names: list[str], count: int, prefix: str) -> list[str]:
    if len(names) == count:
        return list(names)
    return [f"{prefix}{k}" for k in range(count)]
