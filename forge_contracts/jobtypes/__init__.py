"""The job types both sides agree on: each one's payload schema, result summary and
progress text, with no solver behind them.

The hub validates submissions and serves `summary` / `progress_text` with these; the
workers' solvers (forge_desktop/solvers/) validate with the same functions before they
solve. Importing this package loads neither OR-Tools nor HiGHS.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from forge_contracts.jobtypes import jobshop, mps, prodplan, sleep
from forge_contracts.jobtypes.display import generic_summary, solver_progress_text
from forge_contracts.jobtypes.payload import PayloadError


@dataclass(frozen=True)
class JobTypeSpec:
    """A job type as the wire sees it. `test_only` types exist for tests of the queue
    (a production hub refuses them)."""

    name: str
    description: str
    validate: Callable[[dict], dict]
    summarize: Callable[[dict], str]
    progress_text: Callable[..., str]
    """(progress, job=None, now=None) -> the running job's progress in words."""
    test_only: bool = False


SPECS: dict[str, JobTypeSpec] = {s.name: s for s in (
    JobTypeSpec("jobshop", "Job-shop scheduling, minimise makespan (OR-Tools CP-SAT)",
                jobshop.validate, jobshop.summarize, jobshop.progress_text),
    JobTypeSpec("prodplan", "Multi-item capacitated lot sizing with setup times (HiGHS MIP)",
                prodplan.validate, prodplan.summarize, prodplan.progress_text),
    JobTypeSpec("mps", "Any LP/MIP model in MPS or LP format (HiGHS)",
                mps.validate, mps.summarize, mps.progress_text),
    JobTypeSpec("sleep", "Test only: sleep, fail or crash on demand",
                sleep.validate, sleep.summarize, sleep.progress_text, test_only=True),
)}


def get(name: str) -> JobTypeSpec:
    """The job type called `name`; KeyError naming the known types otherwise."""
    try:
        return SPECS[name]
    except (KeyError, TypeError):
        known = ", ".join(sorted(SPECS))
        raise KeyError(f"unknown job type {name!r}; known types: {known}") from None


def validate(type_name: str, payload: Any) -> dict:
    """Check and normalize `payload` for `type_name`; raise PayloadError if it is bad."""
    spec = get(type_name)
    if not isinstance(payload, dict):
        raise PayloadError("payload", f"must be a JSON object, got {type(payload).__name__}")
    return spec.validate(payload)


def summarize_job(job: dict) -> str:
    """One line on what a finished job found, or the first line of why it failed
    (also while a failed attempt waits for its retry)."""
    status, error = job.get("status"), job.get("error")
    if status == "failed" or (error and status != "succeeded"):
        return (error or "failed").split("\n")[0]
    result = job.get("result")
    if not isinstance(result, dict):
        return ""
    spec = SPECS.get(job.get("type"))  # type: ignore[arg-type]
    return (spec.summarize if spec else generic_summary)(result)


def job_progress_text(job: dict) -> str | None:
    """How far a running job is, in words; None unless it is running. From the progress
    report alone, so the job list (rows without payload) and the job's page say the same."""
    if job.get("status") != "running":
        return None
    spec = SPECS.get(job.get("type"))  # type: ignore[arg-type]
    return (spec.progress_text if spec else solver_progress_text)(job.get("progress"))


__all__ = ["SPECS", "JobTypeSpec", "PayloadError", "get", "job_progress_text", "summarize_job", "validate"]
