"""The job queue: submit, claim, progress, result, heartbeat, list, show, cancel (a job or a batch)."""
from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import asdict

from aiohttp import web

from forge_contracts import jobfiles, jobtypes, wire
from forge_contracts.jobtypes import mps
from forge_contracts.jobtypes import PayloadError, job_progress_text, summarize_job

from .. import sweeps, waiting
from ..auth import access, require_admin
from ..errors import ApiError, bad_request, not_found, read_object
from ..limits import INT64_MAX, body_int_list, path_int
from ..openapi import JOB_PARAM, ROW_ID, described, path_param, query_param
from ..state import HubState, hub_state
from ..store import JOB_STATUSES, BatchSpec, JobSpec
from .fleet import require_viewer

routes = web.RouteTableDef()

MAX_BATCH = 10_000
MAX_CLAIM_WAIT_S = 30
MAX_RUNNING = 256  # job ids one heartbeat may list (SQLite binds each as a parameter)
JOB_RECHECK_S = 5.0  # a long-polling claim also looks again this often (reclaims, other hubs' writes)
STATUSES = JOB_STATUSES


def job_types(hub: HubState) -> dict[str, jobtypes.JobTypeSpec]:
    return {name: t for name, t in jobtypes.SPECS.items() if hub.config.allow_test_jobs or not t.test_only}


def with_text(job: dict) -> dict:
    """The job as the API shows it: plus `summary` (what it found, or why it failed) and
    `progress_text` (how far it is, while running), written once in forge_contracts."""
    return {**job, "summary": summarize_job(job), "progress_text": job_progress_text(job)}


def validate_job(hub: HubState, spec: object, where: str) -> JobSpec:
    if not isinstance(spec, dict):
        raise bad_request(f"{where} must be an object with 'type' and 'payload'")
    types = job_types(hub)
    t = spec.get("type")
    if not isinstance(t, str) or t not in types:
        raise bad_request(f"{where}.type {t!r} is not a job type this hub runs; known: {', '.join(sorted(types))}",
                          "unknown_job_type")
    payload = spec.get("payload")
    if not isinstance(payload, dict):
        raise bad_request(f"{where}.payload must be an object")
    try:
        normalized = types[t].validate(payload)
    except PayloadError as e:
        raise bad_request(f"{where}: {e}", "invalid_payload") from None
    priority = spec.get("priority", 0)
    cores = spec.get("cores", 1)
    for name, v, lo, hi in (("priority", priority, -1000, 1000), ("cores", cores, 1, 1024)):
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            raise bad_request(f"{where}.{name} must be an integer between {lo} and {hi}")
    max_attempts = spec.get("max_attempts", hub.config.max_attempts)
    if isinstance(max_attempts, bool) or not isinstance(max_attempts, int) or not 1 <= max_attempts <= 20:
        raise bad_request(f"{where}.max_attempts must be an integer between 1 and 20")
    label = spec.get("label")
    if label is not None and not isinstance(label, str):
        raise bad_request(f"{where}.label must be a string")
    return JobSpec(type=t, payload=normalized, priority=priority, cores=cores, max_attempts=max_attempts,
                   label=label)


async def _queue(hub: HubState, body: dict) -> dict:
    """Validate and queue one job, a batch or a sweep (the body of POST /api/jobs); the 201 answer."""
    now = time.time()
    if "sweep" in body:
        try:
            specs, spec_doc = sweeps.expand(body["sweep"])
        except sweeps.SweepError as e:
            raise bad_request(f"sweep: {e}", "invalid_sweep") from None
        jobs = [validate_job(hub, s, f"sweep job {i}") for i, s in enumerate(specs)]
        batch = BatchSpec(id=uuid.uuid4().hex[:12], label=body["sweep"].get("label"), spec=spec_doc)
        ids = await hub.jobs.add_jobs(jobs, now=now, batch=batch)
        return {"ids": ids, "batch_id": batch.id}
    if "jobs" in body:
        specs = body["jobs"]
        if not isinstance(specs, list) or not specs:
            raise bad_request("'jobs' must be a non-empty list of jobs")
        if len(specs) > MAX_BATCH:
            raise bad_request(f"a batch holds at most {MAX_BATCH} jobs")
        jobs = [validate_job(hub, s, f"jobs[{i}]") for i, s in enumerate(specs)]
        batch = BatchSpec(id=uuid.uuid4().hex[:12], label=body.get("label"))
        ids = await hub.jobs.add_jobs(jobs, now=now, batch=batch)
        return {"ids": ids, "batch_id": batch.id}
    job = validate_job(hub, body, "job")
    ids = await hub.jobs.add_jobs([job], now=now)
    return {"id": ids[0]}


@routes.post("/api/jobs")
@access("admin")
@described("Enqueue a job, a batch or a sweep", wire.JobCreated, ok="201", body=wire.JobSubmit)
async def submit(request: web.Request) -> web.Response:
    hub = hub_state(request)
    require_admin(request, hub.config.admin_secret)
    return web.json_response(await _queue(hub, await read_object(request)), status=201)


def _described(hub: HubState, sub: jobfiles.Submission) -> dict:
    """What a file was taken for, checked as POST /api/jobs would check it: its type, how many
    jobs, its label, and for an MPS model its rows and columns."""
    body = sub.body
    if "sweep" in body:
        try:
            specs, _ = sweeps.expand(body["sweep"])
        except sweeps.SweepError as e:
            raise bad_request(f"sweep: {e}", "invalid_sweep") from None
        label = body["sweep"].get("label")
    else:
        specs, label = body.get("jobs") or [body], body.get("label")
        if not isinstance(specs, list) or len(specs) > MAX_BATCH:
            raise bad_request(f"a batch holds at most {MAX_BATCH} jobs")
    checked = [validate_job(hub, s, "job" if len(specs) == 1 and "jobs" not in body else f"jobs[{i}]")
               for i, s in enumerate(specs)]
    out = {"kind": sub.kind, "type": checked[0].type, "jobs": len(checked), "label": label or checked[0].label}
    first = checked[0]
    if first.type == "mps":
        scan = mps.scan_mps if first.payload["format"] == "mps" else mps.scan_lp
        if shape := scan(first.payload["model"]):
            out["shape"] = shape.text()
    elif first.type == "jobshop":
        out["shape"] = f"{len(first.payload['jobs'])} jobs × {first.payload['machines']} machines"
    return out


@routes.post("/api/jobs/upload")
@access("admin")
@described("Submit a file (JSON job or payload, JSPLIB, MPS/LP), sniffed as `forge jobs submit` does; "
           "`check` only says what it would submit", wire.JobFileSeen, ok="201", body=wire.JobFile,
           also_ok=("200", "OK (a check: nothing submitted)"))
async def upload(request: web.Request) -> web.Response:
    """A file's text as a job, sniffed as `forge jobs submit FILE` does; `check` only says what it
    would submit."""
    hub = hub_state(request)
    require_admin(request, hub.config.admin_secret)
    body = await read_object(request)
    name, content, job_type = body.get("filename"), body.get("content"), body.get("type")
    if not isinstance(name, str) or not name.strip():
        raise bad_request("'filename' must be the file's name (its suffix tells .mps from .lp)")
    if not isinstance(content, str) or not content.strip():
        raise bad_request(f"{name} is empty", "bad_file")
    if job_type is not None and (not isinstance(job_type, str) or job_type not in job_types(hub)):
        raise bad_request(f"'type' {job_type!r} is not a job type this hub runs; known: "
                          f"{', '.join(sorted(job_types(hub)))}", "unknown_job_type")
    priority = _int_body(body, "priority", -1000, 1000, 0)
    check = body.get("check", False)
    if not isinstance(check, bool):
        raise bad_request("'check' must be true or false")
    try:
        sub = jobfiles.submission(name, content, job_type, priority)
    except jobfiles.JobFileError as e:
        raise bad_request(str(e), "bad_file") from None
    described = _described(hub, sub)
    if check:
        return web.json_response(described)
    return web.json_response({**await _queue(hub, sub.body), **described}, status=201)


def _int_body(body: dict, name: str, lo: int, hi: int, default: int | None = None) -> int:
    v = body.get(name, default)
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        raise bad_request(f"'{name}' must be an integer between {lo} and {hi}")
    return v


@routes.post("/api/jobs/claim")
@access("node")
@described("Atomically claim the next job this worker can run", wire.Claimed, body=wire.Claim)
async def claim(request: web.Request) -> web.Response:
    hub = hub_state(request)
    worker = await hub.tokens.require_node(request)
    body = await read_object(request)
    offered = body.get("types")
    known = job_types(hub)
    if offered is None:
        offered = list(known)
    if not isinstance(offered, list) or not all(isinstance(t, str) for t in offered):
        raise bad_request("'types' must be a list of job type names")
    types = [t for t in offered if t in known]
    cores = _int_body(body, "cores", 1, 1024, 1)
    wait_s = body.get("wait_s", 0)
    if isinstance(wait_s, bool) or not isinstance(wait_s, (int, float)) or not 0 <= wait_s <= MAX_CLAIM_WAIT_S:
        raise bad_request(f"'wait_s' must be a number of seconds between 0 and {MAX_CLAIM_WAIT_S}")
    deadline = time.monotonic() + wait_s
    while True:
        job = await hub.jobs.claim(worker, types=types, cores=cores, now=time.time(), lease_s=hub.config.lease_s)
        left = deadline - time.monotonic()
        if job or left <= 0:
            break
        await _wait_claimable(hub, min(left, JOB_RECHECK_S))
        if _gone(request) or hub.closing.is_set():
            break
    if job and _gone(request):
        # The worker hung up while its claim was held (it is stopping): no job for it.
        await hub.jobs.result(job["id"], worker_id=worker, attempt=job["attempt_count"], result=None,
                              error="the worker hung up before the job reached it", now=time.time(), release=True)
        job = None
    if job:
        hub.events.jobs_dirty = True
    return web.json_response({"job": job, "lease_s": hub.config.lease_s})


async def _wait_claimable(hub: HubState, timeout: float) -> None:
    """Until a job may be claimable, `timeout` passes, or the hub shuts down."""
    waits = [asyncio.ensure_future(hub.jobs.wait_claimable(timeout)), asyncio.ensure_future(hub.closing.wait())]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waits:
            w.cancel()


def _gone(request: web.Request) -> bool:
    """The client closed its connection (a worker's long-polled claim that it gave up on)."""
    return request.transport is None or request.transport.is_closing()


def _job_id(request: web.Request) -> int:
    raw = request.match_info["job_id"]
    try:
        int(raw)
    except ValueError:
        raise not_found(f"no job {raw!r}") from None
    return path_int(request, "job_id")


@routes.post("/api/jobs/{job_id}/progress")
@access("node")
@described("Progress and lease extension", wire.Ok, body=wire.Progress, params=(JOB_PARAM,), errors=("404", "409"))
async def progress(request: web.Request) -> web.Response:
    hub = hub_state(request)
    worker = await hub.tokens.require_node(request)
    job_id = _job_id(request)
    body = await read_object(request)
    attempt = _int_body(body, "attempt", 1, 1000)
    prog = body.get("progress")
    if prog is not None and not isinstance(prog, dict):
        raise bad_request("'progress' must be an object")
    outcome = await hub.jobs.progress(job_id, worker_id=worker, attempt=attempt, progress=prog, now=time.time(),
                                      lease_s=hub.config.lease_s)
    if outcome == "unknown":
        raise not_found(f"no job {job_id}")
    if outcome == "gone":
        raise ApiError(409, "not_claimed", f"job {job_id} attempt {attempt} is no longer running on {worker}")
    return web.json_response({"ok": True, "lease_s": hub.config.lease_s})


@routes.post("/api/jobs/{job_id}/result")
@access("node")
@described("Result or error of one attempt (idempotent)", wire.ResultOutcome, body=wire.Result, params=(JOB_PARAM,),
           errors=("404",))
async def result(request: web.Request) -> web.Response:
    hub = hub_state(request)
    worker = await hub.tokens.require_node(request)
    job_id = _job_id(request)
    body = await read_object(request)
    attempt = _int_body(body, "attempt", 1, 1000)
    res, err = body.get("result"), body.get("error")
    if (res is None) == (err is None):
        raise bad_request("give exactly one of 'result' (an object) or 'error' (a message)")
    if res is not None and not isinstance(res, dict):
        raise bad_request("'result' must be an object")
    if err is not None and not isinstance(err, str):
        raise bad_request("'error' must be a string")
    release = body.get("release", False)
    if not isinstance(release, bool) or (release and err is None):
        raise bad_request("'release' must be true or false, and only comes with an 'error'")
    outcome = await hub.jobs.result(job_id, worker_id=worker, attempt=attempt, result=res,
                                    error=err[:20_000] if err else None, now=time.time(), release=release)
    if outcome == "unknown":
        raise not_found(f"job {job_id} has no attempt {attempt} by {worker}")
    hub.events.jobs_dirty = True
    return web.json_response({"outcome": outcome})


@routes.post("/api/workers/{worker_id}/heartbeat")
@access("node")
@described("Worker heartbeat; renews its leases", wire.HeartbeatReply, body=wire.Heartbeat,
           params=(path_param("worker_id"),))
async def heartbeat(request: web.Request) -> web.Response:
    hub = hub_state(request)
    worker = await hub.tokens.require_node(request, request.match_info["worker_id"])
    body = await read_object(request)
    running = body_int_list(body.get("running", []), "running")
    if len(running) > MAX_RUNNING:
        raise bad_request(f"'running' lists {len(running)} jobs; a worker runs at most {MAX_RUNNING}")
    renewed = await hub.jobs.heartbeat(worker, state=body, now=time.time(), lease_s=hub.config.lease_s)
    stop = [job_id for job_id in running if job_id not in renewed]
    return web.json_response({"ok": True, "stop": stop, "lease_s": hub.config.lease_s})


@routes.get("/api/jobs")
@access("viewer")
@described("The queue, filtered", wire.JobList, params=(
    query_param("status", {"enum": list(JOB_STATUSES)}), query_param("type", {"type": "string"}),
    query_param("node", {"type": "string"}), query_param("batch", {"type": "string"}),
    query_param("limit", {"type": "integer"}), query_param("offset", ROW_ID),
    query_param("results", {"enum": ["0", "1"]})))
async def list_jobs(request: web.Request) -> web.Response:
    hub = hub_state(request)
    require_viewer(request, hub)
    q = request.query
    status = q.get("status") or None
    if status and status not in STATUSES:
        raise bad_request(f"'status' must be one of {', '.join(STATUSES)}")
    try:
        limit = min(max(int(q.get("limit", 100)), 1), 1000)
        offset = max(int(q.get("offset", 0)), 0)
    except ValueError:
        raise bad_request("'limit' and 'offset' must be integers") from None
    if offset > INT64_MAX:
        raise bad_request(f"'offset' must be at most {INT64_MAX}")
    page = await hub.jobs.jobs(status=status, type_=q.get("type") or None, node=q.get("node") or None,
                               batch_id=q.get("batch") or None, limit=limit, offset=offset,
                               with_result=q.get("results") == "1")
    counts = await hub.jobs.queue_counts()
    await waiting.annotate(hub, page.jobs, time.time())
    return web.json_response({"jobs": [with_text(j) for j in page.jobs], "total": page.total, "counts": counts,
                              "types": sorted(job_types(hub)), "now": time.time()})


@routes.get("/api/jobs/{job_id}")
@access("viewer")
@described("One job with its attempts and result", {"type": "object"}, params=(JOB_PARAM,), errors=("404",))
async def show_job(request: web.Request) -> web.Response:
    hub = hub_state(request)
    require_viewer(request, hub)
    job = await hub.jobs.job(_job_id(request))
    if job is None:
        raise not_found(f"no job {request.match_info['job_id']}")
    await waiting.annotate(hub, [job], time.time())
    job["server_now"] = time.time()
    return web.json_response(with_text(job))


@routes.post("/api/jobs/{job_id}/cancel")
@access("admin")
@described("Cancel a pending or running job", wire.Cancelled, params=(JOB_PARAM,), errors=("404", "409"))
async def cancel(request: web.Request) -> web.Response:
    hub = hub_state(request)
    require_admin(request, hub.config.admin_secret)
    job_id = _job_id(request)
    outcome = await hub.jobs.cancel(job_id, time.time())
    if outcome == "unknown":
        raise not_found(f"no job {job_id}")
    if outcome != "cancelled":
        raise ApiError(409, "already_final", f"job {job_id} already ended {outcome}")
    hub.events.jobs_dirty = True
    return web.json_response({"id": job_id, "status": "cancelled"})


@routes.post("/api/batches/{batch_id}/cancel")
@access("admin")
@described("Cancel every job of a batch that has not ended", wire.BatchCancelled, params=(path_param("batch_id"),),
           errors=("404",))
async def cancel_batch(request: web.Request) -> web.Response:
    hub = hub_state(request)
    require_admin(request, hub.config.admin_secret)
    batch_id = request.match_info["batch_id"]
    ids = await hub.jobs.cancel_batch(batch_id, time.time())
    if ids is None:
        raise not_found(f"no batch {batch_id!r}")
    if ids:
        hub.events.jobs_dirty = True
    return web.json_response({"batch_id": batch_id, "cancelled": ids})


@routes.get("/api/batches/{batch_id}")
@access("viewer")
@described("A batch or sweep with its jobs", {"type": "object"}, params=(path_param("batch_id"),), errors=("404",))
async def show_batch(request: web.Request) -> web.Response:
    hub = hub_state(request)
    require_viewer(request, hub)
    batch_id = request.match_info["batch_id"]
    batch = await hub.jobs.batch(batch_id)
    if batch is None:
        raise not_found(f"no batch {batch_id!r}")
    page = await hub.jobs.jobs(batch_id=batch_id, limit=10_000)
    return web.json_response({**asdict(batch), "jobs": sorted(map(with_text, page.jobs), key=lambda j: j["id"]),
                              "total": page.total})
