"""The worker: claims jobs when the idle policy allows, runs each in a child process,
suspends it the moment the user comes back, and delivers every result exactly once
(results that cannot be posted wait in an on-disk outbox).

One loop on one thread; time-based decisions read `self.clock` so tests can drive it.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from multiprocessing import connection as mp_connection
from pathlib import Path
from typing import Any, Callable, Protocol

from . import paths
from .console import say
from .client import HubError, HubUnreachable, NotAForgeHub
from .idle import IdleGate, IdleInputs, IdlePolicy, SystemInputs
from .runner import RunningJob, start_job

log = logging.getLogger("forge.worker")

PRODUCTION_TYPES = ["jobshop", "prodplan", "mps"]
HEARTBEAT_ON_CHANGE_S = 2.0  # how soon a changed idle decision is reported


@dataclass
class WorkerOptions:
    mode: str = "idle"
    types: list[str] = field(default_factory=lambda: list(PRODUCTION_TYPES))
    max_cores: int | None = None
    idle_after_s: float = 180.0
    tick_s: float = 0.5
    claim_backoff_cap_s: float = 15.0
    heartbeat_s: float = 30.0
    progress_s: float = 2.0
    long_poll_s: float = 10.0
    idle_recheck_s: float = 5.0
    default_time_limit_s: float = 3600.0
    time_limit_margin_s: float = 60.0
    memory_mb: int | None = 4096
    outbox: Path = field(default_factory=lambda: paths.data_dir() / "outbox")


def worker_options(settings) -> WorkerOptions:
    """Options from the agent settings (`job_types` from FORGE_WORKER_TYPES: test-only job types)."""
    types = list(getattr(settings, "job_types", None) or PRODUCTION_TYPES)
    return WorkerOptions(mode=settings.jobs, types=types, max_cores=settings.max_cores or None,
                         outbox=paths.data_dir() / f"outbox-{settings.node_id}")


@dataclass
class WorkerState:
    reason: str = "starting"
    detail: str = ""
    cores: int = 0
    done: int = 0
    failed: int = 0


class HubTransport(Protocol):
    """What the worker needs of the hub: `HubClient`, or a scripted hub in unit tests."""
    timeout: float

    def post(self, path: str, body: Any, **kw: Any) -> Any: ...

    def long_poll(self, path: str, body: Any, timeout: float, cancel: threading.Event | None = None) -> Any: ...

    def abort(self) -> None: ...


JobStarter = Callable[[dict, float, "int | None"], RunningJob]


class Worker:
    def __init__(self, client: HubTransport, node_id: str, options: WorkerOptions, *, echo: bool = False,
                 inputs: IdleInputs | None = None, clock: Callable[[], float] = time.time,
                 on_change: Callable[["Worker"], None] | None = None, start: JobStarter = start_job):
        """`clock` drives every time-based decision (claim backoff, heartbeats, progress posts,
        idle rechecks); `start` runs a claimed job (a child process; unit tests pass a stand-in)."""
        self.client = client
        self.node_id = node_id
        self.options = options
        self.echo = echo
        self.inputs = inputs
        self.clock = clock
        self.on_change = on_change
        self.start_job = start
        self.gate = IdleGate(IdlePolicy(mode=options.mode, idle_after_s=options.idle_after_s,
                                        max_cores=options.max_cores))
        self.state = WorkerState()
        self.jobs: dict[int, RunningJob] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_claim = 0.0
        self._claim_failures = 0
        self._next_heartbeat = 0.0
        self._last_progress_post: dict[int, float] = {}
        self.lease_s = 300.0
        self._decision = None
        self._decided_at = 0.0
        self.options.outbox.mkdir(parents=True, exist_ok=True)

    # --- control --------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="forge-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 15.0) -> None:
        """Stop claiming; hand running jobs back to the queue (their attempt does not count)."""
        self._stop.set()
        self.client.abort()
        if self._thread:
            self._thread.join(timeout)
            self._thread = None

    def pause(self) -> None:
        self.gate.policy = dataclasses.replace(self.gate.policy, paused=True)
        self._decision = None
        self._changed()

    def resume(self) -> None:
        self.gate.policy = dataclasses.replace(self.gate.policy, paused=False)
        self._decision = None
        self._changed()

    @property
    def paused(self) -> bool:
        return self.gate.policy.paused

    @property
    def running_jobs(self) -> list[int]:
        return sorted(self.jobs)

    @property
    def suspended_jobs(self) -> list[int]:
        return sorted(j.id for j in self.jobs.values() if j.suspended)

    # --- loop -------------------------------------------------------------------------
    def _run(self) -> None:
        if self.inputs is None:
            self.inputs = SystemInputs()
        while not self._stop.is_set():
            try:
                self.step()
            except Exception:
                log.exception("worker step failed; carrying on")
            self._wait()
        self._shutdown()

    def _wait(self) -> None:
        """Sleep one tick, but wake at once when a child speaks or ends, or when a claim is due now."""
        if self._next_claim <= self.clock() and self._free_cores(self.state.cores) > 0 and not self.paused:
            return
        conns = [j.conn for j in self.jobs.values() if not j.conn.closed]
        if conns:
            sentinels = [j.process.sentinel for j in self.jobs.values()]
            mp_connection.wait([*conns, *sentinels], timeout=self.options.tick_s)
        else:
            self._stop.wait(self.options.tick_s)

    def step(self) -> None:
        now = self.clock()
        decision = self._decide(now)
        if (decision.reason, decision.cores) != (self.state.reason, self.state.cores):
            self.state.reason, self.state.detail, self.state.cores = decision.reason, decision.detail, decision.cores
            # The hub tells waiting jobs why they wait from heartbeats: report a new decision soon.
            self._next_heartbeat = min(self._next_heartbeat, now + HEARTBEAT_ON_CHANGE_S)
            self._changed()
        for job in list(self.jobs.values()):
            if decision.run and job.suspended:
                job.resume()
                self._say(f"▶ resumed job {job.id} ({decision.reason})")
                self._changed()
            elif not decision.run and not job.suspended:
                job.suspend()
                self._say(f"⏸ suspended job {job.id}: {decision.detail or decision.reason}")
                self._changed()
            self._watch(job, now)
        self._deliver_outbox()
        if now >= self._next_heartbeat:
            self._heartbeat(now, decision)
        if decision.run and now >= self._next_claim and self._free_cores(decision.cores) > 0:
            self._claim(now, self._free_cores(decision.cores))

    def _decide(self, now: float):
        """The idle decision: every tick while a job runs (so it is suspended the moment the user
        is back), at most every `idle_recheck_s` otherwise (probing input idle time can mean a
        subprocess, e.g. loginctl, and a job cannot start before minutes of idleness anyway)."""
        decision = self._decision  # pause()/resume() on another thread may clear it meanwhile
        if self.jobs or decision is None or now - self._decided_at >= self.options.idle_recheck_s:
            decision = self._decision = self.gate.update(self.inputs, now)
            self._decided_at = now
        return decision

    def _free_cores(self, cores: int) -> int:
        return cores - sum(int(j.job.get("cores", 1)) for j in self.jobs.values())

    def _claim(self, now: float, cores: int) -> None:
        """Claim one job. With nothing running, the claim long-polls: the hub holds it open until a
        job arrives (or `long_poll_s` pass), so an idle fleet picks up new work within a second."""
        wait_s = self.options.long_poll_s if not self.jobs else 0
        body = {"types": self.options.types, "cores": cores, "wait_s": wait_s}
        try:
            answer = self.client.long_poll("/api/jobs/claim", body, timeout=self.client.timeout + wait_s,
                                           cancel=self._stop)
        except (HubUnreachable, HubError, NotAForgeHub) as e:
            self._claim_backoff(now)
            log.warning("claim failed: %s", e)
            return
        self._learn_lease(answer, now)
        job = answer.get("job")
        if job and (self._stop.is_set() or self.paused):
            # A long-polled claim can come back after stop or pause: give the job straight back.
            why = "worker stopped" if self._stop.is_set() else "jobs paused"
            self._save_outbox(job["id"], {"attempt": job["attempt_count"], "release": True,
                                          "error": f"{why} before the job started"})
            self._deliver_outbox()
            return
        if not job:
            if wait_s:
                self._next_claim = now
            else:
                self._claim_backoff(now)
            return
        self._claim_failures = 0
        self._next_claim = now
        if "threads" in job["payload"]:
            # The solver may use every core the job reserved, never more.
            job["payload"]["threads"] = max(1, int(job.get("cores", 1)))
        limit = float(job["payload"].get("time_limit") or self.options.default_time_limit_s)
        running = self.start_job(job, limit + self.options.time_limit_margin_s, self.options.memory_mb)
        self.jobs[running.id] = running
        self._say(f"▶ job {job['id']} {job['type']} (attempt {job['attempt_count']})")
        self._changed()

    def _claim_backoff(self, now: float) -> None:
        self._claim_failures += 1
        self._next_claim = now + min(self.options.claim_backoff_cap_s, 0.5 * 2 ** min(self._claim_failures, 8))

    def _watch(self, job: RunningJob, now: float) -> None:
        updates = job.poll()
        if updates and now - self._last_progress_post.get(job.id, 0) >= self.options.progress_s:
            self._post_progress(job, updates[-1], now)
        if job.outcome is None:
            return
        kind, value = job.outcome
        del self.jobs[job.id]
        self._last_progress_post.pop(job.id, None)
        job.process.join(2)
        body = {"attempt": job.attempt, "result": value} if kind == "result" else \
            {"attempt": job.attempt, "error": str(value)}
        elapsed = job.running_time()
        if kind == "result":
            self.state.done += 1
            self._say(f"✓ job {job.id} done in {elapsed:.1f} s")
        else:
            self.state.failed += 1
            self._say(f"✗ job {job.id} failed: {str(value).splitlines()[0][:200]}")
        self._save_outbox(job.id, body)
        self._deliver_outbox()
        self._next_claim = min(self._next_claim, now)
        self._changed()

    def _post_progress(self, job: RunningJob, progress: dict, now: float) -> None:
        self._last_progress_post[job.id] = now
        try:
            self.client.post(f"/api/jobs/{job.id}/progress", {"attempt": job.attempt, "progress": progress})
        except HubError as e:
            if e.status in (404, 409):
                self._abandon(job, e.message)
        except HubUnreachable:
            pass

    def _abandon(self, job: RunningJob, why: str) -> None:
        """The hub no longer wants this attempt (cancelled or reclaimed): stop it, post nothing."""
        if self.jobs.pop(job.id, None) is not None:
            job.kill()
            self._say(f"■ stopped job {job.id}: {why}")
            self._changed()

    def _heartbeat(self, now: float, decision) -> None:
        self._next_heartbeat = now + min(self.options.heartbeat_s, self.lease_s / 3)
        body = {"running": self.running_jobs, "suspended": self.suspended_jobs, "paused": self.paused,
                "reason": decision.reason, "detail": decision.detail, "cores": decision.cores,
                "busy_cores": sum(int(j.job.get("cores", 1)) for j in self.jobs.values()), "types": self.options.types}
        try:
            answer = self.client.post(f"/api/workers/{self.node_id}/heartbeat", body)
        except (HubUnreachable, HubError, NotAForgeHub) as e:
            log.warning("heartbeat failed: %s", e)
            return
        self._learn_lease(answer, now)
        for job_id in answer.get("stop", []):
            job = self.jobs.get(job_id)
            if job:
                self._abandon(job, "the hub no longer assigns it here")

    def _learn_lease(self, answer: dict, now: float) -> None:
        """Take the hub's lease length; a shorter lease than assumed brings the next heartbeat forward,
        or a suspended job (which posts no progress) would lose its lease before the next one."""
        self.lease_s = float(answer.get("lease_s") or self.lease_s)
        self._next_heartbeat = min(self._next_heartbeat, now + min(self.options.heartbeat_s, self.lease_s / 3))

    # --- results outbox ------------------------------------------------------------------
    def _save_outbox(self, job_id: int, body: dict) -> None:
        path = self.options.outbox / f"{job_id}-{body['attempt']}.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(body))
        os.replace(tmp, path)

    def _deliver_outbox(self) -> None:
        for path in sorted(self.options.outbox.glob("*.json")):
            job_id = int(path.stem.split("-")[0])
            try:
                body = json.loads(path.read_text())
            except ValueError:
                log.error("corrupt outbox entry %s moved aside", path)
                path.rename(path.with_suffix(".bad"))
                continue
            try:
                self.client.post(f"/api/jobs/{job_id}/result", body)
            except HubUnreachable:
                return
            except HubError as e:
                if e.status >= 500 or e.status == 429:
                    return
                log.warning("hub refused result of job %s: %s", job_id, e.message)
            path.unlink()

    def _shutdown(self) -> None:
        for job in list(self.jobs.values()):
            job.kill()
            body = {"attempt": job.attempt, "error": "worker stopped before the job finished", "release": True}
            self._save_outbox(job.id, body)
        self.jobs.clear()
        self._deliver_outbox()

    def _changed(self) -> None:
        if self.on_change:
            try:
                self.on_change(self)
            except Exception:
                log.exception("worker listener failed")

    def _say(self, line: str) -> None:
        say(log, line, self.echo)
