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

from dataclasses import dataclass
from typing import TYPE_CHECKING

from forge_contracts.jobtypes.payload import Progress
from forge_contracts.jobtypes.prodplan import Item, Problem, validate

if TYPE_CHECKING:
    from forge_desktop.solvers.highs_backend import Handoff, RaceOutcome

__all__ = ["solve", "validate"]

PORTFOLIO = ("textbook", "facility_location")
"""The portfolio's entrants, in the order their threads start."""


# ---------------------------------------------------------------- models

def net_demand(item: Item) -> tuple[list[float], float]:
    """Demand left after the initial inventory serves the earliest periods, and its holding cost.

    Serving the earliest demand first is optimal (any other use holds units longer),
    so this is exact; inventory beyond all demand is held through every period.
    """
    stock = item.initial_inventory
    net = []
    holding = 0.0
    for k, d in enumerate(item.demand):
        used = min(stock, d)
        stock -= used
        holding += item.holding_cost * used * k
        net.append(d - used)
    holding += item.holding_cost * stock * len(item.demand)
    return net, holding


@dataclass
class BuiltModel:
    builder: object
    setup: list[list[int]]
    overtime: list[int]
    production: list[list[list[tuple[int, float]]]]
    """production[i][t]: (column, coefficient) pairs whose sum is the units made."""


def _setup_upper(problem: Problem, item: Item, t: int) -> float:
    return 0.0 if item.setup_time > problem.available(t) + 1e-9 else 1.0


def _add_setups_and_overtime(problem: Problem, builder) -> tuple[list[list[int]], list[int]]:
    setup = [[builder.add_col(item.setup_cost, 0.0, _setup_upper(problem, item, t), integer=True)
              for t in range(problem.periods)] for item in problem.items]
    overtime = [builder.add_col(problem.overtime_cost[t], 0.0,
                                float("inf") if problem.max_overtime[t] is None else problem.max_overtime[t])
                for t in range(problem.periods)]
    return setup, overtime


def _add_capacity(problem: Problem, builder, setup, overtime, production) -> None:
    for t in range(problem.periods):
        cols, vals = [], []
        for i, item in enumerate(problem.items):
            for col, coef in production[i][t]:
                cols.append(col)
                vals.append(item.unit_time * coef)
            if item.setup_time:
                cols.append(setup[i][t])
                vals.append(item.setup_time)
        cols.append(overtime[t])
        vals.append(-1.0)
        builder.add_row(cols, vals, float("-inf"), problem.capacity[t])


def _production_limit(problem: Problem, item: Item, t: int, demand_left: float) -> float:
    """Most units of `item` period t can make: its remaining demand, and the capacity after the setup."""
    limit = demand_left
    room = problem.available(t) - item.setup_time
    if item.unit_time > 0 and room != float("inf"):
        limit = min(limit, max(room, 0.0) / item.unit_time)
    return limit


def build_facility_location(problem: Problem) -> BuiltModel:
    """Facility location plus one aggregate production column p[i,t] = sum_k x[i,t,k].

    The aggregate carries the variable upper bound p <= U y that HiGHS's flow-cover
    and knapsack cuts look for in the capacity rows; with the capacity written over
    the many x[i,t,k] instead, those cuts are weaker (docs/PERFORMANCE.md, "Solvers").
    """
    from forge_desktop.solvers.highs_backend import MipBuilder

    builder = MipBuilder()
    setup, overtime = _add_setups_and_overtime(problem, builder)
    T = problem.periods
    production: list[list[list[tuple[int, float]]]] = [[[] for _ in range(T)] for _ in problem.items]
    for i, item in enumerate(problem.items):
        net, constant = net_demand(item)
        builder.offset += constant
        limits = [_production_limit(problem, item, t, sum(net) if item.backlog_allowed else sum(net[t:]))
                  for t in range(T)]
        serves: list[list[int]] = [[] for _ in range(T)]
        for k in range(T):
            if net[k] <= 0:
                continue
            last = T - 1 if item.backlog_allowed else k
            cols = []
            for t in range(last + 1):
                cost = item.holding_cost * (k - t) if t <= k else item.backlog_cost * (t - k)
                most = min(net[k], limits[t])
                col = builder.add_col(cost, 0.0, most)
                serves[t].append(col)
                builder.add_row([col, setup[i][t]], [1.0, -most], float("-inf"), 0.0)
                cols.append(col)
            builder.add_row(cols, [1.0] * len(cols), net[k], net[k])
        for t in range(T):
            if not serves[t]:
                continue
            limit = limits[t]
            produce = builder.add_col(0.0, 0.0, limit)
            builder.add_row([produce] + serves[t], [1.0] + [-1.0] * len(serves[t]), 0.0, 0.0)
            builder.add_row([produce, setup[i][t]], [1.0, -limit], float("-inf"), 0.0)
            production[i][t].append((produce, 1.0))
    _add_capacity(problem, builder, setup, overtime, production)
    return BuiltModel(builder, setup, overtime, production)


def build_textbook(problem: Problem) -> BuiltModel:
    from forge_desktop.solvers.highs_backend import MipBuilder

    builder = MipBuilder()
    setup, overtime = _add_setups_and_overtime(problem, builder)
    T = problem.periods
    production: list[list[list[tuple[int, float]]]] = [[[] for _ in range(T)] for _ in problem.items]
    for i, item in enumerate(problem.items):
        total = sum(item.demand)
        prev_stock: int | None = None
        prev_back: int | None = None
        for t in range(T):
            remaining = sum(item.demand[t:]) + (sum(item.demand[:t]) if item.backlog_allowed else 0.0)
            big_m = remaining
            if item.unit_time > 0:
                big_m = min(big_m, max(problem.available(t) - item.setup_time, 0.0) / item.unit_time)
            big_m = min(big_m, total)
            produce = builder.add_col(0.0, 0.0, big_m)
            production[i][t].append((produce, 1.0))
            stock = builder.add_col(item.holding_cost, 0.0, float("inf"))
            back_upper = float("inf") if item.backlog_allowed and t < T - 1 else 0.0
            back = builder.add_col(item.backlog_cost or 0.0, 0.0, back_upper)
            cols = [produce, stock, back]
            vals = [1.0, -1.0, 1.0]
            rhs = item.demand[t] - (item.initial_inventory if t == 0 else 0.0)
            if prev_stock is not None and prev_back is not None:
                cols += [prev_stock, prev_back]
                vals += [1.0, -1.0]
            builder.add_row(cols, vals, rhs, rhs)
            builder.add_row([produce, setup[i][t]], [1.0, -big_m], float("-inf"), 0.0)
            prev_stock, prev_back = stock, back
    _add_capacity(problem, builder, setup, overtime, production)
    return BuiltModel(builder, setup, overtime, production)


BUILDERS = {"facility_location": build_facility_location, "textbook": build_textbook}


# ---------------------------------------------------------------- solve and report

def solve(payload: dict, progress: Progress | None = None) -> dict:
    problem = Problem.from_payload(payload)
    if payload["formulation"] == "portfolio":
        return _solve_portfolio(problem, payload, progress)
    from forge_desktop.solvers.highs_backend import run

    built = BUILDERS[payload["formulation"]](problem)
    highs = built.builder.to_highs()
    outcome = run(highs, payload["time_limit"], payload["mip_gap"], progress, threads=payload["threads"],
                  seed=payload.get("seed", 0))
    result = _result(outcome.status, outcome.objective, outcome.bound, outcome.gap, outcome.solve_time,
                     payload["formulation"], outcome.nodes)
    if outcome.has_solution:
        result.update(_report(problem, built, list(highs.getSolution().col_value)))
    return result


def _solve_portfolio(problem: Problem, payload: dict, progress: Progress | None) -> dict:
    """Both formulations at once; the plan, bound and gap come from the one that settled it first.

    If neither settles it within the time limit, the plan is the better incumbent and the
    bound the best either proved. `portfolio` reports each entrant's own state at the stop.
    """
    from forge_desktop.solvers.highs_backend import race
    from forge_desktop.solvers.progress import relative_gap

    built = {name: BUILDERS[name](problem) for name in PORTFOLIO}
    models = {name: model.builder.to_highs() for name, model in built.items()}
    raced = race(models, payload["time_limit"], payload["mip_gap"], progress, seed=payload.get("seed", 0),
                 handoff=_handoff(built))
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
    result = _result(status, won.objective, bound, gap, raced.stopped_after, raced.winner, won.nodes)
    result["portfolio"] = {name: _entrant(raced, name) for name in PORTFOLIO}
    if won.has_solution:
        result.update(_report(problem, built[raced.winner], list(models[raced.winner].getSolution().col_value)))
    return result


def _handoff(built: dict[str, BuiltModel]) -> Handoff | None:
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
    entrant = {"status": outcome.status, "solve_time": outcome.solve_time, "objective": _round(outcome.objective),
               "bound": _round(outcome.bound), "gap": outcome.gap, "nodes": outcome.nodes}
    if name in raced.received:
        entrant["received"] = raced.received[name]
    return entrant


def _result(status: str, objective: float | None, bound: float | None, gap: float | None,
            solve_time: float, formulation: str, nodes: int | None) -> dict:
    return {
        "status": status,
        "objective": _round(objective),
        "bound": _round(bound),
        "gap": gap,
        "solve_time": solve_time,
        "formulation": formulation,
        "nodes": nodes,
        "plan": [],
        "capacity_use": [],
        "costs": None,
    }


def _round(value: float | None, digits: int = 6) -> float | None:
    if value is None:
        return None
    rounded = round(value, digits)
    return int(rounded) if rounded == int(rounded) else rounded


def _report(problem: Problem, built: BuiltModel, values: list[float]) -> dict:
    """Plan, capacity use and costs recomputed from production and setups alone.

    Inventory and backlog follow from the balance, so both formulations report alike.
    """
    plan = []
    costs = {"setup": 0.0, "holding": 0.0, "backlog": 0.0, "overtime": 0.0}
    setup_time = [0.0] * problem.periods
    production_time = [0.0] * problem.periods
    for i, item in enumerate(problem.items):
        position = item.initial_inventory
        for t in range(problem.periods):
            produce = sum(coef * values[col] for col, coef in built.production[i][t])
            produce = max(0.0, round(produce, 6))
            setup = int(round(values[built.setup[i][t]]))
            position += produce - item.demand[t]
            inventory, backlog = max(position, 0.0), max(-position, 0.0)
            plan.append({"item": item.id, "period": t, "produce": _round(produce),
                         "setup": setup, "inventory": _round(inventory), "backlog": _round(backlog)})
            costs["setup"] += item.setup_cost * setup
            costs["holding"] += item.holding_cost * inventory
            costs["backlog"] += (item.backlog_cost or 0.0) * backlog
            setup_time[t] += item.setup_time * setup
            production_time[t] += item.unit_time * produce
    capacity_use = []
    for t in range(problem.periods):
        used = setup_time[t] + production_time[t]
        extra = max(0.0, used - problem.capacity[t])
        costs["overtime"] += problem.overtime_cost[t] * extra
        capacity_use.append({"period": t, "capacity": _round(problem.capacity[t]), "used": _round(used),
                             "setup_time": _round(setup_time[t]),
                             "production_time": _round(production_time[t]), "overtime": _round(extra)})
    return {"plan": plan, "capacity_use": capacity_use,
            "costs": {name: _round(value) for name, value in costs.items()}}
