"""The `prodplan` job type: multi-item capacitated lot sizing with setup times (HiGHS MIP).

Two formulations of the same model (docs/SOLVERS.md has the math):

- `facility_location` (default): x[i,t,k] = units of item i made in period t for
  the demand of period k, linked to the setup by x[i,t,k] <= D[i,k] y[i,t], plus an
  aggregate production column per item and period for the capacity rows. Its LP
  relaxation describes the uncapacitated single-item polytope exactly, so the bound
  is far stronger than the textbook one; what is left comes from the shared capacity.
- `textbook`: production, inventory and backlog per item and period, big-M linking
  with M tightened to the remaining demand and the capacity. Kept for comparison
  (bench/solvers_bench.py) and as a fallback.

`portfolio` (the default when the job has `threads` >= 2) solves both side by side,
one HiGHS thread each, and stops the other as soon as one settles it: neither
formulation is faster on every instance (docs/PERFORMANCE.md, "Solvers").
"""

from __future__ import annotations

from forge_contracts.jobtypes.payload import Progress
from forge_contracts.jobtypes.prodplan import Problem, validate

from .formulations import BUILDERS
from .portfolio import solve_portfolio
from .report import report, result_fields

__all__ = ["BUILDERS", "Problem", "solve", "validate"]


def solve(payload: dict, progress: Progress | None = None) -> dict:
    problem = Problem.from_payload(payload)
    if payload["formulation"] == "portfolio":
        return solve_portfolio(problem, payload, progress)
    from forge_desktop.solvers.highs_backend import run

    built = BUILDERS[payload["formulation"]](problem)
    highs = built.builder.to_highs()
    outcome = run(highs, payload["time_limit"], payload["mip_gap"], progress, threads=payload["threads"],
                  seed=payload.get("seed", 0))
    result = result_fields(outcome.status, outcome.objective, outcome.bound, outcome.gap, outcome.solve_time,
                           payload["formulation"], outcome.nodes)
    if outcome.has_solution:
        result.update(report(problem, built, list(highs.getSolution().col_value)))
    return result
