"""The `jobshop` job type's contract: payload schema, result summary and progress text.

Payload: `{"jobs": [[[machine, duration], ...], ...]}` or `{"jsplib": text}`,
plus optional `time_limit` (s), `threads`, `seed`, `machines` (count, checks ids).
The solver (CP-SAT) is forge_desktop/solvers/jobshop.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from forge_contracts.jobtypes.display import solver_progress_text, value
from forge_contracts.jobtypes.payload import (
    PayloadError, is_number, reject_unknown, seed, threads, time_limit,
)

DEFAULT_TIME_LIMIT = 300.0
MAX_OPERATIONS = 200_000
MAX_HORIZON = 2**40


@dataclass(frozen=True)
class Instance:
    jobs: list[list[tuple[int, int]]]
    machines: int


def parse_jsplib(text: str, field: str = "payload.jsplib") -> Instance:
    """Parse JSPLIB text: `#` comments, `n m`, then one line of m (machine, duration) pairs per job.

    Errors name the line number (1-based, in the text as given).
    """
    lines = [(number, line.split("#", 1)[0].split()) for number, line in
             enumerate(text.splitlines(), start=1)]
    lines = [(number, tokens) for number, tokens in lines if tokens]
    if not lines:
        raise PayloadError(field, "no instance found: expected a line 'jobs machines'")
    header_line, header = lines[0]
    if len(header) != 2 or not all(t.isdigit() for t in header):
        raise PayloadError(field, f"line {header_line}: expected 'jobs machines' (two whole numbers), "
                                  f"got {' '.join(header)!r}")
    n, m = int(header[0]), int(header[1])
    if n < 1 or m < 1:
        raise PayloadError(field, f"line {header_line}: jobs and machines must be at least 1")
    body = lines[1:]
    if len(body) < n:
        raise PayloadError(field, f"expected {n} job lines after line {header_line}, found {len(body)}")
    if len(body) > n:
        extra_line = body[n][0]
        raise PayloadError(field, f"line {extra_line}: more job lines than the {n} the header announces")
    jobs = []
    for job_index, (line_number, tokens) in enumerate(body):
        if len(tokens) != 2 * m:
            raise PayloadError(field, f"line {line_number} (job {job_index}): expected {2 * m} numbers "
                                      f"({m} machine/duration pairs), got {len(tokens)}")
        if not all(t.isdigit() for t in tokens):
            bad = next(t for t in tokens if not t.isdigit())
            raise PayloadError(field, f"line {line_number} (job {job_index}): {bad!r} is not a "
                                      f"non-negative whole number")
        values = [int(t) for t in tokens]
        ops = list(zip(values[0::2], values[1::2]))
        for op_index, (machine, _) in enumerate(ops):
            if machine >= m:
                raise PayloadError(field, f"line {line_number} (job {job_index}, operation {op_index}): "
                                          f"machine {machine} does not exist (machines are 0..{m - 1})")
        jobs.append(ops)
    return Instance(jobs, m)


def _parse_jobs(raw: object, machines: int | None) -> Instance:
    if not isinstance(raw, list) or not raw:
        raise PayloadError("payload.jobs", "must be a non-empty list of jobs")
    jobs: list[list[tuple[int, int]]] = []
    for j, job in enumerate(raw):
        field = f"payload.jobs[{j}]"
        if not isinstance(job, list) or not job:
            raise PayloadError(field, "must be a non-empty list of [machine, duration] pairs")
        ops = []
        for o, op in enumerate(job):
            op_field = f"{field}[{o}]"
            if not isinstance(op, (list, tuple)) or len(op) != 2:
                raise PayloadError(op_field, f"must be a [machine, duration] pair, got {op!r}")
            machine, duration = op
            if not _whole(machine) or machine < 0:
                raise PayloadError(op_field, f"machine must be a whole number >= 0, got {machine!r}")
            if not _whole(duration) or duration < 0:
                raise PayloadError(op_field, f"duration must be a whole number >= 0, got {duration!r}")
            if machines is not None and machine >= machines:
                raise PayloadError(op_field, f"machine {int(machine)} does not exist "
                                             f"(payload.machines is {machines}: ids 0..{machines - 1})")
            ops.append((int(machine), int(duration)))
        jobs.append(ops)
    used = 1 + max(m for job in jobs for m, _ in job)
    return Instance(jobs, machines if machines is not None else used)


def _whole(value: object) -> bool:
    return is_number(value) and float(value) == int(value)  # type: ignore[arg-type]


def validate(payload: dict) -> dict:
    reject_unknown(payload, {"jobs", "jsplib", "machines", "time_limit", "threads", "seed"})
    has_jobs, has_text = "jobs" in payload, "jsplib" in payload
    if has_jobs == has_text:
        raise PayloadError("payload", "give exactly one of 'jobs' (JSON form) or 'jsplib' (instance text)")
    machines = payload.get("machines")
    if machines is not None and (not _whole(machines) or machines < 1):
        raise PayloadError("payload.machines", f"must be a whole number >= 1, got {machines!r}")
    if has_text:
        if not isinstance(payload["jsplib"], str):
            raise PayloadError("payload.jsplib", "must be the text of a JSPLIB instance file")
        instance = parse_jsplib(payload["jsplib"])
        if machines is not None and int(machines) != instance.machines:
            raise PayloadError("payload.machines", f"is {machines} but the instance text declares "
                                                   f"{instance.machines} machines")
    else:
        instance = _parse_jobs(payload["jobs"], None if machines is None else int(machines))
    operations = sum(len(job) for job in instance.jobs)
    if operations > MAX_OPERATIONS:
        raise PayloadError("payload.jobs", f"has {operations} operations; at most {MAX_OPERATIONS} allowed")
    horizon = sum(d for job in instance.jobs for _, d in job)
    if horizon > MAX_HORIZON:
        raise PayloadError("payload.jobs", f"durations sum to {horizon}; at most {MAX_HORIZON} allowed")
    return {
        "jobs": [[list(op) for op in job] for job in instance.jobs],
        "machines": instance.machines,
        "time_limit": time_limit(payload, DEFAULT_TIME_LIMIT),
        "threads": threads(payload),
        "seed": seed(payload),
    }


def summarize(result: dict) -> str:
    """`makespan 55 · optimal`, or the proven lower bound, or the solver status."""
    parts = []
    if result.get("makespan") is not None:
        parts.append(f"makespan {value(result['makespan'])}")
    if result.get("optimal"):
        parts.append("optimal")
    elif result.get("lower_bound") is not None:
        parts.append(f"bound {value(result['lower_bound'])}")
    elif result.get("status"):
        parts.append(str(result["status"]))
    return " · ".join(parts)


progress_text = solver_progress_text
