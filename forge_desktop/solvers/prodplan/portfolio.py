"""The `portfolio` formulation: both formulations side by side, one HiGHS thread each,
stopped as soon as one settles the model."""

from __future__ import annotations

from typing import TYPE_CHECKING

from forge_contracts.jobtypes.payload import Progress
from forge_contracts.jobtypes.prodplan import Problem

from .formulations import BUILDERS, BuiltModel
from .report import report, result_fields, rounded

if TYPE_CHECKING:
    from forge_desktop.solvers.highs_backend import Handoff, RaceOutcome

PORTFOLIO = ("textbook", "facility_location")
"""The portfolio's entrants, in the order their threads start."""


def solve_portfolio(problem: Problem, payload: dict, progress: Progress | None) -> dict:
    """Both formulations at once; the plan, bound and gap come from the one that settled it first.

    If neither settles it within the time limit, the plan is the better incumbent and the
    bound the best either proved. `portfolio` reports each entrant's own state at the stop.
    """
    from forge_desktop.solvers.highs_backend import race
    from forge_desktop.solvers.progress import relative_gap

    built = {name: BUILDERS[name](problem) for name in PORTFOLIO}
    models = {name: model.builder.to_highs() for name, model in built.items()}
    raced = race(models, payload["time_limit"], payload["mip_gap"], progress, seed=payload.get("seed", 0),
                 handoff=handoff(built))
    if raced.winner is None:
        raise RuntimeError("every portfolio solve failed: " + "; ".join(
            f"{name}: {error}" for name, error in raced.errors.items()))
    won = raced.outcomes[raced.winner]
    status, bound, gap = won.status, won.bound, won.gap
    if raced.proof == "joint":
        status = "optimal"
    if raced.proof != "winner" and raced.bound is not None and won.objective is not None:
        bound = raced.bound if bound is None else max(bound, raced.bound)
        gap = relative_gap(won.objective, bound)
    result = result_fields(status, won.objective, bound, gap, raced.stopped_after, raced.winner, won.nodes)
    result["portfolio"] = {name: _entrant(raced, name) for name in PORTFOLIO}
    if won.has_solution:
        result.update(report(problem, built[raced.winner], list(models[raced.winner].getSolution().col_value)))
    return result


def handoff(built: dict[str, BuiltModel]) -> Handoff | None:
    """Facility location's plans go to the textbook entrant, setups only.

    Facility location's strong LP finds good plans early (G53: 0.2 % above the
    optimum after a second, where textbook has 0.9 %) and textbook proves faster once
    it holds one; the other way round would only reshuffle facility location's search.
    Both builders put the setup columns first, so y[i][t] is the same column in both.
    """
    from forge_desktop.solvers.highs_backend import Handoff

    setups = [col for row in built["facility_location"].setup for col in row]
    if setups != list(range(len(setups))) or setups != [col for row in built["textbook"].setup for col in row]:
        return None
    return Handoff(source="facility_location", target="textbook", columns=len(setups))


def _entrant(raced: RaceOutcome, name: str) -> dict:
    """One portfolio entrant's own time, status, objective, bound and gap when it stopped."""
    outcome = raced.outcomes.get(name)
    if outcome is None:
        return {"status": "error", "error": raced.errors.get(name), "solve_time": None,
                "objective": None, "bound": None, "gap": None, "nodes": None}
    entrant = {"status": outcome.status, "solve_time": outcome.solve_time, "objective": rounded(outcome.objective),
               "bound": rounded(outcome.bound), "gap": outcome.gap, "nodes": outcome.nodes}
    if name in raced.received:
        entrant["received"] = raced.received[name]
    return entrant
