"""The job-type registry of a worker: name -> (validate, solve).

Schemas, summaries and descriptions come from forge_contracts.jobtypes (the hub uses
the same); this adds each type's solver. Importing this module stays cheap: solver
modules import OR-Tools or HiGHS only inside `solve`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from forge_contracts import jobtypes
from forge_contracts.jobtypes.payload import PayloadError, Progress

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

    solvers = {"jobshop": jobshop.solve, "prodplan": prodplan.solve, "mps": mps.solve, "sleep": sleep.solve}
    return {name: JobType(name, spec.validate, solvers[name], spec.description, spec.test_only)
            for name, spec in jobtypes.SPECS.items()}


REGISTRY: dict[str, JobType] = _build_registry()


def get(name: str) -> JobType:
    """The job type called `name`; KeyError naming the known types otherwise."""
    return REGISTRY[jobtypes.get(name).name]


def validate(type_name: str, payload: Any) -> dict:
    """Check and normalize `payload` for `type_name`; raise PayloadError if it is bad."""
    return jobtypes.validate(type_name, payload)


def solve(type_name: str, payload: Any, progress: Progress | None = None) -> dict:
    """Validate then solve; `progress(dict)` is called about once per second at most."""
    job_type = get(type_name)
    return job_type.solve(validate(type_name, payload), progress)
