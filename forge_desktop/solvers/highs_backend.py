"""Building and running HiGHS models, shared by the `prodplan` and `mps` types.

Import this module only inside a solve function: it loads highspy and numpy.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field

import highspy
import numpy as np

from forge_desktop.solvers.payload import Progress
from forge_desktop.solvers.progress import ProgressThrottle, relative_gap

_STATUS_NAMES = {
    highspy.HighsModelStatus.kOptimal: "optimal",
    highspy.HighsModelStatus.kInfeasible: "infeasible",
    highspy.HighsModelStatus.kUnbounded: "unbounded",
    highspy.HighsModelStatus.kUnboundedOrInfeasible: "infeasible_or_unbounded",
    highspy.HighsModelStatus.kTimeLimit: "time_limit",
    highspy.HighsModelStatus.kIterationLimit: "iteration_limit",
    highspy.HighsModelStatus.kSolutionLimit: "solution_limit",
    highspy.HighsModelStatus.kInterrupt: "interrupted",
    highspy.HighsModelStatus.kMemoryLimit: "memory_limit",
    highspy.HighsModelStatus.kModelEmpty: "empty_model",
}


@dataclass
class MipBuilder:
    """Columns and rows appended one by one, passed to HiGHS in one sparse matrix."""

    cost: list[float] = field(default_factory=list)
    lower: list[float] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)
    integer: list[bool] = field(default_factory=list)
    row_lower: list[float] = field(default_factory=list)
    row_upper: list[float] = field(default_factory=list)
    _rows: list[int] = field(default_factory=list)
    _cols: list[int] = field(default_factory=list)
    _vals: list[float] = field(default_factory=list)
    offset: float = 0.0

    def add_col(self, cost: float, lower: float, upper: float, integer: bool = False) -> int:
        self.cost.append(cost)
        self.lower.append(lower)
        self.upper.append(upper)
        self.integer.append(integer)
        return len(self.cost) - 1

    def add_row(self, cols: list[int], vals: list[float], lower: float, upper: float) -> int:
        row = len(self.row_lower)
        self.row_lower.append(lower)
        self.row_upper.append(upper)
        self._rows.extend([row] * len(cols))
        self._cols.extend(cols)
        self._vals.extend(vals)
        return row

    @property
    def num_cols(self) -> int:
        return len(self.cost)

    @property
    def num_rows(self) -> int:
        return len(self.row_lower)

    def to_highs(self) -> highspy.Highs:
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = self.num_cols, self.num_rows
        lp.col_cost_ = np.array(self.cost, dtype=float)
        lp.col_lower_ = np.array(self.lower, dtype=float)
        lp.col_upper_ = np.array(self.upper, dtype=float)
        lp.row_lower_ = np.array(self.row_lower, dtype=float)
        lp.row_upper_ = np.array(self.row_upper, dtype=float)
        lp.offset_ = self.offset
        cols = np.array(self._cols, dtype=np.int64)
        order = np.argsort(cols, kind="stable")
        starts = np.searchsorted(cols[order], np.arange(self.num_cols + 1))
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = starts.astype(np.int32)
        lp.a_matrix_.index_ = np.array(self._rows, dtype=np.int32)[order]
        lp.a_matrix_.value_ = np.array(self._vals, dtype=float)[order]
        lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = self.num_cols, self.num_rows
        if any(self.integer):
            lp.integrality_ = [highspy.HighsVarType.kInteger if flag else highspy.HighsVarType.kContinuous
                               for flag in self.integer]
        highs = new_highs()
        highs.passModel(lp)
        return highs


def new_highs() -> highspy.Highs:
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    return highs


@dataclass
class RunOutcome:
    status: str
    has_solution: bool
    objective: float | None
    bound: float | None
    gap: float | None
    solve_time: float
    is_mip: bool


_scheduler_lock = threading.Lock()
_scheduler_threads: list[int] = []


def use_threads(highs: highspy.Highs, threads: int) -> None:
    """Set HiGHS's thread count, restarting its process-wide scheduler when the count changes.

    HiGHS starts one scheduler per process on the first solve and refuses a different
    `threads` option afterwards; a worker solves one job at a time, so restarting it
    between jobs is safe.
    """
    with _scheduler_lock:
        if _scheduler_threads != [threads]:
            highspy.Highs.resetThreadScheduler(True)
            _scheduler_threads[:] = [threads]
        highs.setOptionValue("threads", int(threads))


def run(highs: highspy.Highs, time_limit: float, mip_gap: float | None,
        progress: Progress | None, threads: int | None = None) -> RunOutcome:
    """Solve with a time limit and relative gap, reporting MIP progress through `progress`."""
    if threads is not None:
        use_threads(highs, threads)
    highs.setOptionValue("time_limit", float(time_limit))
    if mip_gap is not None:
        highs.setOptionValue("mip_rel_gap", float(mip_gap))
    throttle = ProgressThrottle(progress)

    def on_interrupt(event) -> None:
        out = event.data_out
        throttle.report(out.mip_primal_bound, out.mip_dual_bound,
                        percent=100.0 * out.running_time / time_limit)

    if progress is not None:
        highs.cbMipInterrupt.subscribe(on_interrupt)
    started = time.perf_counter()
    try:
        highs.run()
    finally:
        if progress is not None:
            highs.cbMipInterrupt.unsubscribe(on_interrupt)
    elapsed = time.perf_counter() - started
    outcome = _outcome(highs, elapsed)
    throttle.report(outcome.objective, outcome.bound, percent=100.0, force=True)
    return outcome


def _outcome(highs: highspy.Highs, elapsed: float) -> RunOutcome:
    model_status = highs.getModelStatus()
    status = _STATUS_NAMES.get(model_status, highs.modelStatusToString(model_status).lower().replace(" ", "_"))
    info = highs.getInfo()
    lp = highs.getLp()
    is_mip = any(v == highspy.HighsVarType.kInteger for v in (lp.integrality_ or []))
    has_solution = info.primal_solution_status == 2
    objective = float(info.objective_function_value) if has_solution else None
    if is_mip:
        bound = _finite(info.mip_dual_bound)
        gap = relative_gap(objective, bound) if objective is not None else None
        if status == "optimal" and gap is None:
            gap = 0.0
    else:
        bound = objective if status == "optimal" else None
        gap = 0.0 if status == "optimal" else None
    return RunOutcome(status, has_solution, objective, bound, gap, round(elapsed, 3), is_mip)


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None
