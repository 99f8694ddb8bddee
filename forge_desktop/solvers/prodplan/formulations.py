"""The two formulations of the prodplan model as HiGHS models (docs/SOLVERS.md has the math).

- `facility_location`: x[i,t,k] = units of item i made in period t for the demand of
  period k, linked to the setup by x[i,t,k] <= D[i,k] y[i,t]; its LP relaxation is the
  uncapacitated single-item polytope, so its bound is far stronger.
- `textbook`: production, inventory and backlog per item and period, big-M linking.
Both put the setup columns first (the portfolio's handoff relies on it).
"""

from __future__ import annotations

from dataclasses import dataclass

from forge_contracts.jobtypes.prodplan import Item, Problem


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
