"""The job queue on PostgreSQL.

A claim is one `UPDATE … FROM (SELECT … FOR UPDATE SKIP LOCKED LIMIT 1)`: any number of
hubs and workers claim at once, each row goes to exactly one of them, and none waits on
another's lock. Every other change to a job locks its row first (`FOR UPDATE`), so a
result, a progress report, a cancel and a reclaim of the same job run one after another.
Changes that make a job claimable are announced to the other hubs once committed.
"""
from __future__ import annotations

from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from ..interface import (Batch, BatchSpec, CancelOutcome, FINAL_STATUSES, JOB_STATUSES, Job, JobPage, JobQueue,
                         JobSpec, ProgressOutcome, ResultOutcome, WorkerRow)
from .connect import LOCK_RECLAIM
from .peers import Listener, Outbox, changes

JOB_FIELDS = ("id, type, payload, status, priority, cores, claimed_by, claimed_at, lease_until, "
              "attempt_count, max_attempts, progress, result, error, review, label, batch_id, "
              "created_at, finished_at")

_CLAIM = f"""
UPDATE jobs SET status = 'running', claimed_by = %(worker)s, claimed_at = %(now)s,
  lease_until = %(lease)s, attempt_count = attempt_count + 1, progress = NULL
FROM (SELECT id FROM jobs WHERE status = 'pending' AND type = ANY(%(types)s) AND cores <= %(cores)s
      ORDER BY priority DESC, id LIMIT 1 FOR UPDATE SKIP LOCKED) AS pick
WHERE jobs.id = pick.id
RETURNING {', '.join('jobs.' + f.strip() for f in JOB_FIELDS.split(','))}"""


def _summary(result: dict | None) -> dict | None:
    """The scalar fields of a result, for list views (schedules and plans stay out)."""
    if not isinstance(result, dict):
        return result
    return {k: v for k, v in result.items() if isinstance(v, (int, float, str, bool)) or v is None}


class PgJobQueue(JobQueue):
    def __init__(self, pool: AsyncConnectionPool, listener: Listener, hub_id: str):
        self.pool = pool
        self.listener = listener
        self.hub_id = hub_id

    def _changes(self):
        return changes(self.pool, self.hub_id)

    @staticmethod
    def _tell(out: Outbox, claimable: bool) -> None:
        if claimable:
            out.claimable()
        out.news("jobs")

    async def add_jobs(self, jobs: list[JobSpec], *, now: float, batch: BatchSpec | None = None) -> list[int]:
        if not jobs and not batch:
            return []
        async with self._changes() as (conn, out):
            if batch:
                await conn.execute("INSERT INTO batches (id, label, spec, created_at) VALUES (%s, %s, %s, %s)",
                                   (batch.id, batch.label, Jsonb(batch.spec), now))
            ids: list[int] = []
            if jobs:
                cur = await conn.execute(
                    "INSERT INTO jobs (type, payload, priority, cores, max_attempts, label, batch_id, created_at) "
                    "SELECT t, p, pr, c, m, l, b, %s FROM unnest(%b::text[], %b::jsonb[], %b::int[], %b::int[], "
                    "%b::int[], %b::text[], %b::text[]) WITH ORDINALITY AS u (t, p, pr, c, m, l, b, o) "
                    "ORDER BY o RETURNING id",
                    (now, [j.type for j in jobs], [Jsonb(j.payload) for j in jobs], [j.priority for j in jobs],
                     [j.cores for j in jobs], [j.max_attempts for j in jobs], [j.label for j in jobs],
                     [batch.id if batch else j.batch_id for j in jobs]))
                ids = sorted(r[0] for r in await cur.fetchall())
                self._tell(out, claimable=True)
        self.listener.claimable.notify()
        return ids

    async def claim(self, worker_id: str, *, types: list[str], cores: int, now: float,
                    lease_s: float) -> Job | None:
        if not types:
            return None
        async with self._changes() as (conn, out):
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(_CLAIM, {"worker": worker_id, "now": now, "lease": now + lease_s,
                                       "types": list(types), "cores": cores})
            job = await cur.fetchone()
            if job is None:
                return None
            await conn.execute("INSERT INTO job_attempts (job_id, attempt, worker_id, started_at) "
                               "VALUES (%s, %s, %s, %s)", (job["id"], job["attempt_count"], worker_id, now))
            self._tell(out, claimable=False)
        return job

    async def wait_claimable(self, timeout: float) -> bool:
        return await self.listener.claimable.wait(timeout)

    async def progress(self, job_id: int, *, worker_id: str, attempt: int, progress: dict | None,
                       now: float, lease_s: float) -> ProgressOutcome:
        async with self.pool.connection() as conn, conn.transaction():
            cur = await conn.execute("SELECT status, claimed_by, attempt_count FROM jobs WHERE id = %s FOR UPDATE",
                                     (job_id,))
            r = await cur.fetchone()
            if r is None:
                return "unknown"
            if r[0] != "running" or r[1] != worker_id or r[2] != attempt:
                return "gone"
            if progress is None:
                await conn.execute("UPDATE jobs SET lease_until = %s WHERE id = %s", (now + lease_s, job_id))
            else:
                await conn.execute("UPDATE jobs SET lease_until = %s, progress = %s WHERE id = %s",
                                   (now + lease_s, Jsonb(progress), job_id))
            return "ok"

    async def result(self, job_id: int, *, worker_id: str, attempt: int, result: dict | None,
                     error: str | None, now: float, release: bool = False) -> ResultOutcome:
        res = Jsonb(result) if result is not None else None
        async with self._changes() as (conn, out):
            cur = await conn.execute("SELECT status, claimed_by, attempt_count, max_attempts FROM jobs "
                                     "WHERE id = %s FOR UPDATE", (job_id,))
            job = await cur.fetchone()
            if job is None:
                return "unknown"
            cur = await conn.execute("SELECT outcome, worker_id FROM job_attempts WHERE job_id = %s AND attempt = %s",
                                     (job_id, attempt))
            att = await cur.fetchone()
            if att is None or att[1] != worker_id:
                return "unknown"
            if att[0] in ("succeeded", "failed", "late", "late-failed", "released"):
                return "duplicate"
            current = job[0] == "running" and job[1] == worker_id and job[2] == attempt
            if not current:
                await conn.execute(
                    "UPDATE job_attempts SET ended_at = COALESCE(ended_at, %(now)s), reported_at = %(now)s, "
                    "outcome = %(outcome)s, error = CASE WHEN %(error)s::text IS NULL THEN error "
                    "ELSE COALESCE(error || '; then reported: ', '') || %(error)s END, result = %(result)s "
                    "WHERE job_id = %(id)s AND attempt = %(attempt)s",
                    {"now": now, "outcome": "late" if error is None else "late-failed", "error": error,
                     "result": res, "id": job_id, "attempt": attempt})
                return "late"
            if release and error is not None:
                await conn.execute("UPDATE job_attempts SET ended_at = %s, reported_at = %s, outcome = 'released', "
                                   "error = %s WHERE job_id = %s AND attempt = %s", (now, now, error, job_id, attempt))
                await conn.execute("UPDATE jobs SET status = 'pending', lease_until = NULL, "
                                   "max_attempts = max_attempts + 1 WHERE id = %s", (job_id,))
                self._tell(out, claimable=True)
                outcome: ResultOutcome = "released"
            elif error is None:
                await conn.execute("UPDATE job_attempts SET ended_at = %s, reported_at = %s, outcome = 'succeeded', "
                                   "result = %s WHERE job_id = %s AND attempt = %s", (now, now, res, job_id, attempt))
                await conn.execute("UPDATE jobs SET status = 'succeeded', result = %s, error = NULL, "
                                   "finished_at = %s, lease_until = NULL WHERE id = %s", (res, now, job_id))
                self._tell(out, claimable=False)
                return "accepted"
            else:
                await conn.execute("UPDATE job_attempts SET ended_at = %s, reported_at = %s, outcome = 'failed', "
                                   "error = %s WHERE job_id = %s AND attempt = %s", (now, now, error, job_id, attempt))
                if job[2] >= job[3]:
                    await conn.execute("UPDATE jobs SET status = 'failed', error = %s, finished_at = %s, "
                                       "lease_until = NULL, review = true WHERE id = %s", (error, now, job_id))
                    self._tell(out, claimable=False)
                    return "failed"
                await conn.execute("UPDATE jobs SET status = 'pending', error = %s, lease_until = NULL WHERE id = %s",
                                   (error, job_id))
                self._tell(out, claimable=True)
                outcome = "retry"
        self.listener.claimable.notify()
        return outcome

    async def reclaim_expired(self, now: float) -> list[int]:
        """One hub at a time (an advisory lock for the transaction); rows a result or a
        progress report holds right now are skipped and looked at next round."""
        changed: list[int] = []
        async with self._changes() as (conn, out):
            cur = await conn.execute("SELECT pg_try_advisory_xact_lock(%s)", (LOCK_RECLAIM,))
            if not (await cur.fetchone())[0]:
                return []
            cur = await conn.execute("SELECT id, attempt_count, max_attempts, claimed_by FROM jobs "
                                     "WHERE status = 'running' AND lease_until < %s ORDER BY id "
                                     "FOR UPDATE SKIP LOCKED", (now,))
            requeued = False
            for job_id, attempt, max_attempts, worker in await cur.fetchall():
                msg = f"lease expired on worker {worker} (attempt {attempt})"
                await conn.execute("UPDATE job_attempts SET ended_at = %s, outcome = 'reclaimed', error = %s "
                                   "WHERE job_id = %s AND attempt = %s AND outcome IS NULL",
                                   (now, msg, job_id, attempt))
                if attempt >= max_attempts:
                    await conn.execute("UPDATE jobs SET status = 'failed', error = %s, finished_at = %s, "
                                       "lease_until = NULL, review = true WHERE id = %s", (msg, now, job_id))
                else:
                    await conn.execute("UPDATE jobs SET status = 'pending', error = %s, lease_until = NULL "
                                       "WHERE id = %s", (msg, job_id))
                    requeued = True
                changed.append(job_id)
            if changed:
                self._tell(out, claimable=requeued)
        if changed:
            self.listener.claimable.notify()
        return changed

    async def cancel(self, job_id: int, now: float) -> CancelOutcome:
        async with self._changes() as (conn, out):
            cur = await conn.execute("SELECT status FROM jobs WHERE id = %s FOR UPDATE", (job_id,))
            r = await cur.fetchone()
            if r is None:
                return "unknown"
            if r[0] in FINAL_STATUSES:
                return r[0]
            await conn.execute("UPDATE jobs SET status = 'cancelled', finished_at = %s, lease_until = NULL "
                               "WHERE id = %s", (now, job_id))
            self._tell(out, claimable=False)
            return "cancelled"

    async def cancel_batch(self, batch_id: str, now: float) -> list[int] | None:
        async with self._changes() as (conn, out):
            cur = await conn.execute("SELECT 1 FROM batches WHERE id = %s", (batch_id,))
            if await cur.fetchone() is None:
                return None
            cur = await conn.execute("UPDATE jobs SET status = 'cancelled', finished_at = %s, lease_until = NULL "
                                     "WHERE batch_id = %s AND status IN ('pending', 'running') RETURNING id",
                                     (now, batch_id))
            ids = sorted(r[0] for r in await cur.fetchall())
            if ids:
                self._tell(out, claimable=False)
            return ids

    async def heartbeat(self, worker_id: str, *, state: dict, now: float, lease_s: float) -> set[int]:
        running = [int(x) for x in state.get("running", []) if isinstance(x, int) and not isinstance(x, bool)]
        async with self.pool.connection() as conn, conn.transaction():
            await conn.execute("INSERT INTO workers (id, last_heartbeat, state) VALUES (%s, %s, %s) "
                               "ON CONFLICT (id) DO UPDATE SET last_heartbeat = excluded.last_heartbeat, "
                               "state = excluded.state", (worker_id, now, Jsonb(state)))
            if not running:
                return set()
            cur = await conn.execute("UPDATE jobs SET lease_until = %s WHERE status = 'running' AND claimed_by = %s "
                                     "AND id = ANY(%s) RETURNING id", (now + lease_s, worker_id, running))
            return {r[0] for r in await cur.fetchall()}

    async def job(self, job_id: int) -> Job | None:
        async with self.pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(f"SELECT {JOB_FIELDS} FROM jobs WHERE id = %s", (job_id,))
            job = await cur.fetchone()
            if job is None:
                return None
            await cur.execute("SELECT attempt, worker_id, started_at, ended_at, outcome, error, result, reported_at "
                              "FROM job_attempts WHERE job_id = %s ORDER BY attempt", (job_id,))
            job["attempts"] = await cur.fetchall()
        return job

    async def jobs(self, *, status: str | None = None, type_: str | None = None, node: str | None = None,
                   batch_id: str | None = None, limit: int = 100, offset: int = 0,
                   with_result: bool = False) -> JobPage:
        where, args = [], []
        for col, val in (("status", status), ("type", type_), ("claimed_by", node), ("batch_id", batch_id)):
            if val:
                where.append(f"{col} = %s")
                args.append(val)
        clause = ("WHERE " + " AND ".join(where)) if where else ""
        async with self.pool.connection() as conn:
            cur = await conn.execute(f"SELECT count(*) FROM jobs {clause}", args)
            total = (await cur.fetchone())[0]
            dcur = conn.cursor(row_factory=dict_row)
            await dcur.execute(f"SELECT {JOB_FIELDS} FROM jobs {clause} ORDER BY id DESC LIMIT %s OFFSET %s",
                               (*args, limit, offset))
            rows = await dcur.fetchall()
        if not with_result:
            for j in rows:
                j.pop("payload")
                j["result"] = _summary(j["result"])
        return JobPage(jobs=rows, total=total)

    async def batch(self, batch_id: str) -> Batch | None:
        async with self.pool.connection() as conn:
            cur = await conn.execute("SELECT id, label, spec, created_at FROM batches WHERE id = %s", (batch_id,))
            r = await cur.fetchone()
        return Batch(id=r[0], label=r[1], spec=r[2], created_at=r[3]) if r else None

    async def queue_counts(self) -> dict[str, int]:
        out = {s: 0 for s in JOB_STATUSES}
        async with self.pool.connection() as conn:
            cur = await conn.execute("SELECT status, count(*) FROM jobs GROUP BY status")
            for status, n in await cur.fetchall():
                out[status] = n
        return out

    async def job_counts_by_node(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        async with self.pool.connection() as conn:
            cur = await conn.execute("SELECT claimed_by, status, count(*) FROM jobs WHERE claimed_by IS NOT NULL "
                                     "AND status IN ('running', 'succeeded', 'failed') GROUP BY claimed_by, status")
            for node, status, n in await cur.fetchall():
                key = {"running": "running", "succeeded": "done", "failed": "failed"}[status]
                out.setdefault(node, {"running": 0, "done": 0, "failed": 0})[key] = n
        return out

    async def workers(self) -> list[WorkerRow]:
        async with self.pool.connection() as conn:
            cur = await conn.execute("SELECT id, last_heartbeat, state FROM workers ORDER BY id")
            return [WorkerRow(id=r[0], last_heartbeat=r[1], state=r[2] or {}) for r in await cur.fetchall()]
