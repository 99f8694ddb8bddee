"""The `jobshop` job type's solver: minimise the makespan of a job shop with CP-SAT.

The payload schema is forge_contracts/jobtypes/jobshop.py.
"""

from __future__ import annotations

from forge_contracts.jobtypes.jobshop import validate
from forge_contracts.jobtypes.payload import Progress
from forge_desktop.solvers.progress import ProgressThrottle

__all__ = ["solve", "validate"]


def solve(payload: dict, progress: Progress | None = None) -> dict:
    """Solve a validated payload; the result holds the best schedule found and its proof status."""
    from ortools.sat.python import cp_model

    jobs = [[(int(m), int(d)) for m, d in job] for job in payload["jobs"]]
    horizon = sum(d for job in jobs for _, d in job)
    model = cp_model.CpModel()
    starts: list[list] = []
    ends: list[list] = []
    by_machine: dict[int, list] = {}
    for j, job in enumerate(jobs):
        starts.append([])
        ends.append([])
        for o, (machine, duration) in enumerate(job):
            start = model.new_int_var(0, horizon, f"s{j}_{o}")
            end = model.new_int_var(0, horizon, f"e{j}_{o}")
            interval = model.new_interval_var(start, duration, end, f"i{j}_{o}")
            by_machine.setdefault(machine, []).append(interval)
            starts[j].append(start)
            ends[j].append(end)
            if o:
                model.add(start >= ends[j][o - 1])
    for intervals in by_machine.values():
        model.add_no_overlap(intervals)
    makespan = model.new_int_var(0, horizon, "makespan")
    model.add_max_equality(makespan, [job_ends[-1] for job_ends in ends])
    model.minimize(makespan)

    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = float(payload["time_limit"])
    solver.parameters.num_workers = int(payload["threads"])
    solver.parameters.random_seed = int(payload.get("seed", 0))
    throttle = ProgressThrottle(progress)
    state = {"incumbent": None, "bound": None}
    limit = float(payload["time_limit"])

    def report(force: bool = False) -> None:
        throttle.report(state["incumbent"], state["bound"],
                        percent=100.0 * throttle.elapsed() / limit, force=force)

    class OnSolution(cp_model.CpSolverSolutionCallback):
        def on_solution_callback(self) -> None:
            state["incumbent"] = self.objective_value
            state["bound"] = self.best_objective_bound
            report()

    def on_bound(bound: float) -> None:
        state["bound"] = bound
        report()

    if progress is not None:
        solver.best_bound_callback = on_bound
    status = solver.solve(model, OnSolution() if progress is not None else None)
    status_name = solver.status_name(status)
    found = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    result = {
        "status": status_name.lower(),
        "optimal": status == cp_model.OPTIMAL,
        "makespan": int(solver.objective_value) if found else None,
        "lower_bound": int(round(solver.best_objective_bound)) if found else None,
        "solve_time": round(solver.wall_time, 3),
        "schedule": [],
    }
    if found:
        result["schedule"] = [
            {"job": j, "op": o, "machine": machine,
             "start": solver.value(starts[j][o]), "end": solver.value(ends[j][o])}
            for j, job in enumerate(jobs) for o, (machine, _) in enumerate(job)
        ]
        state["incumbent"], state["bound"] = result["makespan"], result["lower_bound"]
    report(force=True)
    return result
