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

from forge_contracts.jobtypes.payload import Progress
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
    nodes: int | None = None
    """Branch-and-bound nodes (MIP only): with the seed, what makes a run comparable to another."""


_scheduler = threading.local()


def use_threads(highs: highspy.Highs, threads: int) -> None:
    """Set HiGHS's thread count, restarting the calling thread's scheduler when the count changes.

    HiGHS keeps one task scheduler per OS thread (a thread_local executor, started by
    that thread's first solve) and refuses a different `threads` option on a later
    solve in the same thread. The count is tracked per thread too, so solves running
    side by side in other threads (the prodplan portfolio) never restart each other's
    scheduler, and a restart here only touches this thread's.
    """
    if getattr(_scheduler, "threads", None) != threads:
        highspy.Highs.resetThreadScheduler(True)
        _scheduler.threads = threads
    highs.setOptionValue("threads", int(threads))


def configure(highs: highspy.Highs, time_limit: float, mip_gap: float | None, seed: int | None) -> None:
    highs.setOptionValue("time_limit", float(time_limit))
    if mip_gap is not None:
        highs.setOptionValue("mip_rel_gap", float(mip_gap))
    if seed is not None:
        highs.setOptionValue("random_seed", int(seed))


def run(highs: highspy.Highs, time_limit: float, mip_gap: float | None,
        progress: Progress | None, threads: int | None = None, seed: int | None = None) -> RunOutcome:
    """Solve with a time limit, relative gap and random seed, reporting MIP progress through `progress`."""
    if threads is not None:
        use_threads(highs, threads)
    configure(highs, time_limit, mip_gap, seed)
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
    nodes = int(info.mip_node_count) if is_mip and info.mip_node_count >= 0 else None
    return RunOutcome(status, has_solution, objective, bound, gap, round(elapsed, 3), is_mip, nodes)


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


# ---------------------------------------------------------------- racing models of one problem

DECISIVE = frozenset({"optimal", "infeasible", "unbounded", "infeasible_or_unbounded"})
"""Statuses that settle the problem: the first entrant to reach one wins the race."""


@dataclass
class RaceOutcome:
    """How a race of several models of the same minimisation problem ended.

    `winner` holds the plan to report (None only if every entrant failed without a
    solution). `proof` says how it was settled: "winner" (the winner itself reached a
    decisive status), "joint" (the best incumbent of one and the best bound of another
    met within the gap, neither alone had proved it), or "none" (time limit).
    `bound` is the best bound any entrant proved; `stopped_after` the wall seconds
    from the start until every entrant had returned.
    """

    winner: str | None
    proof: str
    bound: float | None
    outcomes: dict[str, RunOutcome]
    errors: dict[str, str]
    stopped_after: float
    received: dict[str, int] = field(default_factory=dict)
    """Per entrant, how many of another's incumbents it took as its own (see `Handoff`)."""


@dataclass(frozen=True)
class Handoff:
    """Pass `source`'s improving incumbents to `target` during a race.

    The first `columns` columns must mean the same in both models (prodplan: the
    setups); the target gets those values and HiGHS's repair completes the rest. Only
    the target's search changes: it prunes with a better incumbent sooner, at the cost
    of no longer replaying the same tree for the same seed.
    """

    source: str
    target: str
    columns: int


class _Mailbox:
    """The source's best incumbent not yet delivered to the target."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.objective = math.inf
        self.values: np.ndarray | None = None
        self.received = 0

    def post(self, objective: float, values: np.ndarray) -> None:
        with self.lock:
            if objective < self.objective:
                self.objective, self.values = objective, values

    def take(self, better_than: float) -> np.ndarray | None:
        with self.lock:
            values, self.values = self.values, None
            return values if values is not None and self.objective < better_than else None


class _Race:
    """State the entrants' callbacks share: best incumbent and bound of each, and the stop flag."""

    def __init__(self, names: list[str], time_limit: float, mip_gap: float | None,
                 progress: Progress | None) -> None:
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.primal = {name: math.inf for name in names}
        self.dual = {name: -math.inf for name in names}
        self.winner: str | None = None
        self.proof = "none"
        self.time_limit = time_limit
        self.mip_gap = mip_gap or 0.0
        self.throttle = ProgressThrottle(progress)

    def best(self) -> tuple[str | None, float, float]:
        holder = min(self.primal, key=self.primal.__getitem__)
        incumbent = self.primal[holder]
        return (holder if math.isfinite(incumbent) else None), incumbent, max(self.dual.values())

    def observe(self, name: str, primal: float, dual: float, running_time: float) -> None:
        """Record one entrant's progress; stop the race when the pooled gap is closed."""
        with self.lock:
            self.primal[name] = min(self.primal[name], primal)
            self.dual[name] = max(self.dual[name], dual)
            holder, incumbent, bound = self.best()
            if self.winner is None and holder is not None and self._closed(incumbent, bound) \
                    and not self._closed(incumbent, self.dual[holder]):
                self.winner, self.proof = holder, "joint"
                self.stop.set()
        self.throttle.report(incumbent, bound, percent=100.0 * running_time / self.time_limit)

    def _closed(self, incumbent: float, bound: float) -> bool:
        """Within the gap. An entrant that closes its own gap is left to finish and win by itself."""
        return math.isfinite(incumbent) and math.isfinite(bound) and \
            incumbent - bound <= self.mip_gap * max(abs(incumbent), 1e-9)

    def finish(self, name: str, outcome: RunOutcome) -> None:
        with self.lock:
            if outcome.objective is not None:
                self.primal[name] = min(self.primal[name], outcome.objective)
            if outcome.bound is not None:
                self.dual[name] = max(self.dual[name], outcome.bound)
            if self.winner is None and outcome.status in DECISIVE:
                self.winner, self.proof = name, "winner"
                self.stop.set()


def race(models: dict[str, highspy.Highs], time_limit: float, mip_gap: float | None,
         progress: Progress | None, seed: int | None = None, handoff: Handoff | None = None) -> RaceOutcome:
    """Solve several models of one minimisation problem side by side, one thread and one HiGHS thread each.

    `Highs.run` releases the GIL, so the entrants really run in parallel. Each checks a
    shared stop flag in its MIP interrupt callback (and reports its incumbent and bound
    there); the flag is set as soon as one entrant settles the problem, or the best
    incumbent and best bound across entrants meet within `mip_gap`. The others then
    return within one callback interval, with status "interrupted". With a `handoff`,
    one entrant's incumbents become the other's through HiGHS's user-solution callback.
    """
    shared = _Race(list(models), time_limit, mip_gap, progress)
    mailbox = _Mailbox()
    outcomes: dict[str, RunOutcome] = {}
    errors: dict[str, str] = {}

    def enter(name: str, highs: highspy.Highs) -> None:
        def on_interrupt(event) -> None:
            if shared.stop.is_set():
                event.interrupt()
                return
            out = event.data_out
            shared.observe(name, out.mip_primal_bound, out.mip_dual_bound, out.running_time)

        def on_improving(event) -> None:
            solution = np.asarray(event.data_out.mip_solution)[:handoff.columns]
            mailbox.post(event.data_out.objective_function_value, np.round(solution))

        def on_user_solution(event) -> None:
            values = mailbox.take(better_than=event.data_out.mip_primal_bound)
            if values is None:
                return
            event.data_in.setSolution(np.arange(len(values), dtype=np.int32), values)
            if event.data_in.repairSolution() != highspy.HighsStatus.kError:
                event.data_in.user_has_solution = True
                mailbox.received += 1

        hooks = [(highs.cbMipInterrupt, on_interrupt)]
        if handoff is not None and name == handoff.source:
            hooks.append((highs.cbMipImprovingSolution, on_improving))
        if handoff is not None and name == handoff.target:
            hooks.append((highs.cbMipUserSolution, on_user_solution))
        try:
            use_threads(highs, 1)
            configure(highs, time_limit, mip_gap, seed)
            for hook, callback in hooks:
                hook.subscribe(callback)
            began = time.perf_counter()
            try:
                highs.run()
            finally:
                for hook, callback in hooks:
                    hook.unsubscribe(callback)
            outcome = _outcome(highs, time.perf_counter() - began)
        except Exception as exc:  # one entrant failing must not take down the other
            errors[name] = f"{type(exc).__name__}: {exc}"
            return
        outcomes[name] = outcome
        shared.finish(name, outcome)

    started = time.perf_counter()
    threads = [threading.Thread(target=enter, args=(name, highs), name=f"highs-{name}", daemon=True)
               for name, highs in models.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stopped_after = round(time.perf_counter() - started, 3)
    winner, proof = shared.winner, shared.proof
    if winner not in outcomes:
        winner, proof = _best_incumbent(outcomes), "none"
    _, _, bound = shared.best()
    received = {handoff.target: mailbox.received} if handoff is not None else {}
    result = RaceOutcome(winner, proof, _finite(bound), outcomes, errors, stopped_after, received)
    final = outcomes.get(winner) if winner else None
    shared.throttle.report(final.objective if final else None, result.bound, percent=100.0, force=True)
    return result


def _best_incumbent(outcomes: dict[str, RunOutcome]) -> str | None:
    """The entrant with the lowest objective (then the highest bound) when none settled the problem."""
    solved = [(o.objective, -(o.bound if o.bound is not None else -math.inf), name)
              for name, o in outcomes.items() if o.objective is not None]
    if solved:
        return min(solved)[2]
    return next(iter(outcomes), None)
