"""Admin actions on one job from its page: retry a failed or cancelled job, resubmit with another seed.

Both submit a new job (same type, payload, priority, cores, label and batch), so the original keeps
its attempts and error for review; the answer names the new job's id.
"""
from __future__ import annotations

import time

from aiohttp import web

from forge_contracts import wire

from ..auth import access, require_admin
from ..errors import ApiError, bad_request, not_found, read_object
from ..openapi import JOB_PARAM, described
from ..state import HubState, hub_state
from .jobs import _job_id, validate_job

routes = web.RouteTableDef()

RETRYABLE = ("failed", "cancelled")
MAX_SEED = 2**31 - 1


async def _original(request: web.Request) -> tuple[HubState, dict]:
    hub = hub_state(request)
    require_admin(request, hub.config.admin_secret)
    job_id = _job_id(request)
    job = await hub.jobs.job(job_id)
    if job is None:
        raise not_found(f"no job {job_id}")
    return hub, job


async def _submit_copy(hub: HubState, job: dict, payload: dict) -> int:
    spec = validate_job(hub, {"type": job["type"], "payload": payload, "priority": job.get("priority") or 0,
                              "cores": job.get("cores") or 1, "max_attempts": job.get("max_attempts"),
                              "label": job.get("label")}, "job")
    spec.batch_id = job.get("batch_id")
    ids = await hub.jobs.add_jobs([spec], now=time.time())
    hub.events.jobs_dirty = True
    return ids[0]


@routes.post("/api/jobs/{job_id}/retry")
@access("admin")
@described("Submit a failed or cancelled job again, as a new job", wire.JobCopy, ok="201", params=(JOB_PARAM,),
           errors=("404", "409"))
async def retry(request: web.Request) -> web.Response:
    hub, job = await _original(request)
    if job["status"] not in RETRYABLE:
        raise ApiError(409, "not_retryable", f"job {job['id']} is {job['status']}; only a failed or cancelled job "
                                             "can be retried")
    new_id = await _submit_copy(hub, job, dict(job["payload"]))
    return web.json_response({"id": new_id, "retry_of": job["id"]}, status=201)


@routes.post("/api/jobs/{job_id}/resubmit")
@access("admin")
@described("Submit the job again with another seed", wire.JobCopy, ok="201", params=(JOB_PARAM,), errors=("404", "409"))
async def resubmit(request: web.Request) -> web.Response:
    hub, job = await _original(request)
    body = await read_object(request) if request.can_read_body else {}
    old = job["payload"].get("seed") or 0
    seed = body.get("seed", (old + 1) % (MAX_SEED + 1))
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise bad_request(f"'seed' must be an integer between 0 and {MAX_SEED}")
    if seed == old:
        raise bad_request(f"'seed' {seed} is the seed job {job['id']} already ran with; give another")
    new_id = await _submit_copy(hub, job, {**job["payload"], "seed": seed})
    return web.json_response({"id": new_id, "resubmit_of": job["id"], "seed": seed}, status=201)
