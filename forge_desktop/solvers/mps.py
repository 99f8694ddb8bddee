"""The `mps` job type's solver: any LP or MIP in MPS or CPLEX-LP text, solved by HiGHS.

HiGHS reads models from files only, so the text goes to a temporary file whose
suffix tells HiGHS the format. The payload schema is forge_contracts/jobtypes/mps.py.
"""

from __future__ import annotations

import os
import re
import tempfile

from forge_contracts.jobtypes.mps import MAX_VALUES, validate
from forge_contracts.jobtypes.payload import PayloadError, Progress

__all__ = ["solve", "validate"]


def _read(payload: dict):
    import highspy

    from forge_desktop.solvers.highs_backend import new_highs

    highs = new_highs()
    fd, path = tempfile.mkstemp(suffix="." + payload["format"], prefix="forge-model-")
    log_fd, log_path = tempfile.mkstemp(suffix=".log", prefix="forge-read-")
    os.close(log_fd)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(payload["model"])
        # HiGHS says where a model breaks only in its log: kept for the error, off the console.
        highs.setOptionValue("output_flag", True)
        highs.setOptionValue("log_to_console", False)
        highs.setOptionValue("log_file", log_path)
        status = highs.readModel(path)
        highs.setOptionValue("log_file", "")
        highs.setOptionValue("output_flag", False)
        with open(log_path, encoding="utf-8", errors="replace") as log:
            said = log.read()
    finally:
        os.unlink(path)
        os.unlink(log_path)
    if status == highspy.HighsStatus.kError:
        raise PayloadError("payload.model", f"HiGHS could not read it as {payload['format'].upper()}"
                           + (f": {why}" if (why := read_error(said, path)) else ""))
    lp = highs.getLp()
    if lp.num_col_ == 0:
        raise PayloadError("payload.model", "has no variables")
    if lp.num_col_ > MAX_VALUES or lp.num_row_ > MAX_VALUES:
        raise PayloadError("payload.model", f"has {lp.num_col_} columns and {lp.num_row_} rows; "
                                            f"at most {MAX_VALUES} of each allowed")
    return highs


_WHERE = re.compile(r"^\s*-->\s*.*?:(\d+):(\d+)\s*$", re.MULTILINE)


def read_error(log: str, path: str) -> str:
    """HiGHS's first complaint about a model file, with the line and column it points at and
    without the temporary file's name ("line 4, column 13: expected a number, found `<`")."""
    errors = [line.split(":", 1)[1].strip() for line in log.splitlines() if line.startswith("ERROR:")]
    errors = [e for e in errors if path not in e] or [e.replace(path, "the model") for e in errors]
    if not errors:
        return ""
    where = _WHERE.search(log)
    return (f"line {where[1]}, column {where[2]}: " if where else "") + errors[0]


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
