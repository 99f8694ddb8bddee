"""The `prodplan` job type's contract: multi-item capacitated lot sizing with setup times.

The payload schema, its normalized form (`Problem`, `Item`) and the checks that turn
common data errors into a readable 400. The formulations and HiGHS are
forge_desktop/solvers/prodplan.py; docs/SOLVERS.md has the math.
"""

from __future__ import annotations

from dataclasses import dataclass

from forge_contracts.jobtypes.display import objective_summary, solver_progress_text
from forge_contracts.jobtypes.payload import (
    PayloadError, is_number, number, optional_number, reject_unknown, seed, threads, time_limit,
)

DEFAULT_TIME_LIMIT = 300.0
DEFAULT_MIP_GAP = 1e-4
MAX_PERIODS = 1000
MAX_ITEMS = 5000
MAX_FL_VARIABLES = 3_000_000
FORMULATIONS = ("facility_location", "textbook", "portfolio")
ITEM_KEYS = {"id", "demand", "unit_time", "setup_time", "setup_cost", "holding_cost",
             "initial_inventory", "backlog_cost"}


@dataclass(frozen=True)
class Item:
    id: str
    demand: list[float]
    unit_time: float
    setup_time: float
    setup_cost: float
    holding_cost: float
    initial_inventory: float
    backlog_cost: float | None

    @property
    def backlog_allowed(self) -> bool:
        return self.backlog_cost is not None


@dataclass(frozen=True)
class Problem:
    periods: int
    capacity: list[float]
    items: list[Item]
    overtime_cost: list[float]
    max_overtime: list[float | None]

    @classmethod
    def from_payload(cls, payload: dict) -> "Problem":
        items = [Item(**item) for item in payload["items"]]
        return cls(payload["periods"], payload["capacity"], items,
                   payload["overtime_cost"], payload["max_overtime"])

    def available(self, t: int) -> float:
        """Capacity of period t including all the overtime it allows (inf if unlimited)."""
        extra = self.max_overtime[t]
        return self.capacity[t] + (float("inf") if extra is None else extra)


# ---------------------------------------------------------------- validation

def _per_period(value: object, field: str, periods: int, *, allow_none: bool = False) -> list:
    """A scalar (same value every period) or a list of `periods` non-negative numbers."""
    if allow_none and value is None:
        return [None] * periods
    if is_number(value):
        if value < 0:
            raise PayloadError(field, f"must not be negative, got {value!r}")
        return [float(value)] * periods  # type: ignore[arg-type]
    if not isinstance(value, list):
        raise PayloadError(field, f"must be a number or a list of {periods} numbers, got {value!r}")
    if len(value) != periods:
        raise PayloadError(field, f"must have one value per period: {periods} expected, got {len(value)}")
    out = []
    for t, entry in enumerate(value):
        if allow_none and entry is None:
            out.append(None)
            continue
        out.append(number(entry, f"{field}[{t}]", minimum=0))
    return out


def _capacity(payload: dict, periods: int) -> list[float]:
    field = "payload.capacity"
    if "capacity" not in payload:
        raise PayloadError(field, "is required: a positive number or a list of T numbers")
    value = payload["capacity"]
    if is_number(value) and value <= 0:
        raise PayloadError(field, f"must be a positive number or a list of {periods} numbers, got {value!r}")
    if not is_number(value) and not isinstance(value, list):
        raise PayloadError(field, f"must be a positive number or a list of {periods} numbers, got {value!r}")
    return _per_period(value, field, periods)


def _item(raw: object, index: int, periods: int) -> dict:
    field = f"payload.items[{index}]"
    if not isinstance(raw, dict):
        raise PayloadError(field, f"must be an object with id and demand, got {raw!r}")
    reject_unknown(raw, ITEM_KEYS, prefix=field)
    item_id = raw.get("id", str(index))
    if not isinstance(item_id, (str, int)) or isinstance(item_id, bool) or str(item_id) == "":
        raise PayloadError(f"{field}.id", f"must be a non-empty string or a whole number, got {item_id!r}")
    demand = raw.get("demand")
    if not isinstance(demand, list):
        raise PayloadError(f"{field}.demand", f"must be a list of {periods} non-negative numbers")
    if len(demand) != periods:
        raise PayloadError(f"{field}.demand", f"must have one value per period: {periods} expected, "
                                              f"got {len(demand)}")
    backlog = raw.get("backlog_cost")
    return {
        "id": str(item_id),
        "demand": [number(d, f"{field}.demand[{t}]", minimum=0) for t, d in enumerate(demand)],
        "unit_time": optional_number(raw, "unit_time", 1.0, field, minimum=0),
        "setup_time": optional_number(raw, "setup_time", 0.0, field, minimum=0),
        "setup_cost": optional_number(raw, "setup_cost", 0.0, field, minimum=0),
        "holding_cost": optional_number(raw, "holding_cost", 0.0, field, minimum=0),
        "initial_inventory": optional_number(raw, "initial_inventory", 0.0, field, minimum=0),
        "backlog_cost": None if backlog is None else number(backlog, f"{field}.backlog_cost", minimum=0),
    }


def validate(payload: dict) -> dict:
    reject_unknown(payload, {"periods", "capacity", "items", "overtime_cost", "max_overtime",
                             "time_limit", "mip_gap", "formulation", "threads", "seed"})
    if "periods" not in payload:
        raise PayloadError("payload.periods", "is required: the number of planning periods T")
    periods = int(number(payload["periods"], "payload.periods", integer=True, positive=True))
    if periods > MAX_PERIODS:
        raise PayloadError("payload.periods", f"must be at most {MAX_PERIODS}, got {periods}")
    capacity = _capacity(payload, periods)
    raw_items = payload.get("items")
    if not isinstance(raw_items, list) or not raw_items:
        raise PayloadError("payload.items", "must be a non-empty list of items")
    if len(raw_items) > MAX_ITEMS:
        raise PayloadError("payload.items", f"has {len(raw_items)} items; at most {MAX_ITEMS} allowed")
    items = [_item(raw, i, periods) for i, raw in enumerate(raw_items)]
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        if item["id"] in seen:
            raise PayloadError(f"payload.items[{i}].id", f"{item['id']!r} is already the id of "
                                                         f"payload.items[{seen[item['id']]}]")
        seen[item["id"]] = i
    has_overtime_cost = payload.get("overtime_cost") is not None
    overtime_cost = _per_period(payload.get("overtime_cost", 0.0) if has_overtime_cost else 0.0,
                                "payload.overtime_cost", periods)
    if "max_overtime" in payload:
        max_overtime = _per_period(payload["max_overtime"], "payload.max_overtime", periods, allow_none=True)
    else:
        max_overtime = [None if has_overtime_cost else 0.0] * periods
    job_threads = threads(payload)
    formulation = _formulation(payload, job_threads)
    fl_size = len(items) * periods * periods
    if formulation in ("facility_location", "portfolio") and fl_size > MAX_FL_VARIABLES:
        raise PayloadError("payload.items", f"items x periods^2 = {fl_size} is too large for the "
                                            f"{formulation} formulation (max {MAX_FL_VARIABLES}); "
                                            f"use formulation 'textbook'")
    mip_gap = optional_number(payload, "mip_gap", DEFAULT_MIP_GAP, minimum=0)
    if mip_gap is not None and mip_gap >= 1:
        raise PayloadError("payload.mip_gap", f"must be a relative gap below 1 (0.01 = 1 %), got {mip_gap:g}")
    normalized = {
        "periods": periods, "capacity": capacity, "items": items,
        "overtime_cost": overtime_cost, "max_overtime": max_overtime,
        "time_limit": time_limit(payload, DEFAULT_TIME_LIMIT), "mip_gap": mip_gap,
        "formulation": formulation, "threads": job_threads, "seed": seed(payload),
    }
    _check_obviously_infeasible(Problem.from_payload(normalized))
    return normalized


def _formulation(payload: dict, job_threads: int) -> str:
    """The requested formulation; by default `portfolio` when the job has two threads, else facility location."""
    default = "portfolio" if job_threads >= 2 else "facility_location"
    formulation = payload.get("formulation", default)
    if formulation not in FORMULATIONS:
        raise PayloadError("payload.formulation", f"must be one of {', '.join(FORMULATIONS)}, "
                                                  f"got {formulation!r}")
    if formulation == "portfolio" and job_threads < 2:
        raise PayloadError("payload.formulation", f"'portfolio' runs two solves at once and needs "
                                                  f"threads >= 2, got threads {job_threads}")
    return formulation


def _check_obviously_infeasible(problem: Problem) -> None:
    """Refuse demand that no plan can meet: cumulative work beyond cumulative capacity.

    Only a necessary condition (setup times make the real test a MIP), but it turns
    the common data error into a readable 400 instead of a failed job. Items that
    allow backlog only need their demand met by the last period.
    """
    have = 0.0
    last = problem.periods - 1
    for t in range(problem.periods):
        have += problem.available(t)
        need = sum(item.unit_time * max(0.0, sum(item.demand[: t + 1]) - item.initial_inventory)
                   for item in problem.items if t == last or not item.backlog_allowed)
        if need > have * (1 + 1e-9) + 1e-6:
            raise PayloadError("payload.capacity", f"demand up to period {t} needs {need:g} time units "
                                                   f"but periods 0..{t} offer only {have:g}")


summarize = objective_summary
progress_text = solver_progress_text
