"""What a prodplan job returns: the result's fields, and the plan, capacity use and costs."""

from __future__ import annotations

from forge_contracts.jobtypes.prodplan import Problem

from .formulations import BuiltModel


def result_fields(status: str, objective: float | None, bound: float | None, gap: float | None,
                  solve_time: float, formulation: str, nodes: int | None) -> dict:
    return {
        "status": status,
        "objective": rounded(objective),
        "bound": rounded(bound),
        "gap": gap,
        "solve_time": solve_time,
        "formulation": formulation,
        "nodes": nodes,
        "plan": [],
        "capacity_use": [],
        "costs": None,
    }


def rounded(value: float | None, digits: int = 6) -> float | None:
    if value is None:
        return None
    rounded = round(value, digits)
    return int(rounded) if rounded == int(rounded) else rounded


def report(problem: Problem, built: BuiltModel, values: list[float]) -> dict:
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
            plan.append({"item": item.id, "period": t, "produce": rounded(produce),
                         "setup": setup, "inventory": rounded(inventory), "backlog": rounded(backlog)})
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
        capacity_use.append({"period": t, "capacity": rounded(problem.capacity[t]), "used": rounded(used),
                             "setup_time": rounded(setup_time[t]),
                             "production_time": rounded(production_time[t]), "overtime": rounded(extra)})
    return {"plan": plan, "capacity_use": capacity_use,
            "costs": {name: rounded(value) for name, value in costs.items()}}
