"""The job-type registry: name -> (validate, solve).

Importing this module must stay cheap: the hub validates payloads with it and
never loads OR-Tools or HiGHS. Solver modules import those lazily in `solve`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from forge_desktop.solvers.payload import PayloadError, Progress

Validator = Callable[[dict], dict]
Solver = Callable[[dict, "Progress | None"], dict]


@dataclass(frozen=True)
class JobType:
    """A job type: a payload validator, a solver and a one-line description.

    `test_only` types exist for tests of the queue (a production hub refuses them).
    """

    name: str
    validate: Validator
    solve: Solver
    description: str
    test_only: bool = False


def _build_registry() -> dict[str, JobType]:
    from forge_desktop.solvers import jobshop, mps, prodplan, sleep

    types = [
        JobType("jobshop", jobshop.validate, jobshop.solve,
                "Job-shop scheduling, minimise makespan (OR-Tools CP-SAT)"),
        JobType("prodplan", prodplan.validate, prodplan.solve,
                "Multi-item capacitated lot sizing with setup times (HiGHS MIP)"),
        JobType("mps", mps.validate, mps.solve,
                "Any LP/MIP model in MPS or LP format (HiGHS)"),
        JobType("sleep", sleep.validate, sleep.solve,
                "Test only: sleep, fail or crash on demand", test_only=True),
    ]
    return {t.name: t for t in types}


REGISTRY: dict[str, JobType] = _build_registry()


def get(name: str) -> JobType:
    """The job type called `name`; KeyError naming the known types otherwise."""
    try:
        return REGISTRY[name]
    except (KeyError, TypeError):
        known = ", ".join(sorted(REGISTRY))
        raise KeyError(f"unknown job type {name!r}; known types: {known}") from None


def validate(type_name: str, payload: Any) -> dict:
    """Check and normalize `payload` for `type_name`; raise PayloadError if it is bad."""
    job_type = get(type_name)
    if not isinstance(payload, dict):
        raise PayloadError("payload", f"must be a JSON object, got {type(payload).__name__}")
    return job_type.validate(payload)


def solve(type_name: str, payload: Any, progress: Progress | None = None) -> dict:
    """Validate then solve; `progress(dict)` is called about once per second at most."""
    job_type = get(type_name)
    return job_type.solve(validate(type_name, payload), progress)
