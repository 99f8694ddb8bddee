"""Why a pending job waits: one sentence built from what workers report in their heartbeats.

A worker heartbeats its idle-gate decision (`reason`, a stable code of the agent's idle gate,
and `detail`, its readable text), whether jobs are paused, the job types it runs, the cores
the gate allows and the jobs it runs. The sentence names the workers that could take the job
and what holds each back, e.g. "2 workers run jobshop: studio is in use (last input 40s ago,
waiting for 180s), laptop is on battery".
"""
from __future__ import annotations

from dataclasses import dataclass

from forge_contracts.jobtypes.display import ago

from .store import WorkerRow

# A worker heartbeats at most every 30 s; three missed beats and it no longer counts as connected.
WORKER_STALE_S = 100.0

# The idle gate's reason codes (the agent's idle.py) -> what they mean for a job waiting on that worker.
BLOCKED = {
    "paused": "has jobs paused",
    "mode never": "has jobs turned off",
    "outside hours": "is outside its job hours",
    "on battery": "is on battery",
    "user active": "is in use",
    "cpu busy": "is busy with other work",
    "settling": "is settling after other work",
    "starting": "is starting up",
}
RUNNABLE = ("idle", "mode always")


@dataclass(frozen=True)
class WorkerView:
    """One worker as the sentence needs it: its id, heartbeat age and the state it reported."""
    id: str
    age_s: float
    state: dict
    node_offline: bool = False

    @property
    def connected(self) -> bool:
        return self.age_s <= WORKER_STALE_S and not self.node_offline

    def runs(self, job_type: str) -> bool:
        types = self.state.get("types")
        return not isinstance(types, list) or job_type in types


def worker_views(workers: list[WorkerRow], offline_nodes: set[str], now: float) -> list[WorkerView]:
    return [WorkerView(id=w.id, age_s=max(0.0, now - float(w.last_heartbeat)), state=w.state or {},
                       node_offline=w.id in offline_nodes) for w in workers]


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _detail(state: dict) -> str:
    """The gate's readable text, without nested parentheses (it sits inside a pair)."""
    d = state.get("detail")
    if not isinstance(d, str) or not d.strip():
        return ""
    return d.strip()[:120].replace(" (", ", ").replace("(", "").replace(")", "")


def _free_cores(state: dict) -> int:
    cores = state.get("cores") if isinstance(state.get("cores"), int) else 0
    busy = state.get("busy_cores")
    if not isinstance(busy, int):
        running = state.get("running")
        busy = len(running) if isinstance(running, list) else 0
    return cores - busy


def describe(w: WorkerView, job_cores: int) -> tuple[str, str]:
    """(kind, phrase): kind is 'blocked', 'busy' or 'free'; phrase is "studio is on battery"."""
    st = w.state
    if st.get("paused"):
        return "blocked", f"{w.id} has jobs paused"
    reason = st.get("reason")
    if reason in RUNNABLE:
        free = _free_cores(st)
        if free >= job_cores:
            return "free", f"{w.id} is free to take it"
        if free > 0:
            return "busy", f"{w.id} has {_plural(free, 'free core', 'free cores')} (the job needs {job_cores})"
        return "busy", f"{w.id} has all its cores busy"
    detail = _detail(st)
    phrase = BLOCKED.get(reason, f"reports {reason!r}" if isinstance(reason, str) else "has not said why")
    return "blocked", f"{w.id} {phrase}" + (f" ({detail})" if detail and reason != "on battery" else "")


def waiting_reason(job: dict, workers: list[WorkerView], ahead: int = 0) -> str:
    """Why the pending `job` ({"type", "cores"}) has not started, as one sentence."""
    job_type = job.get("type") or "?"
    cores = int(job.get("cores") or 1)
    connected = [w for w in workers if w.connected]
    if not connected:
        if workers:
            last = min(workers, key=lambda w: w.age_s)
            return f"no worker is connected (the last, {last.id}, checked in {ago(last.age_s)})"
        return "no worker is connected: start one on a machine with `forge agent --jobs idle` (or `forge up`)"
    able = [w for w in connected if w.runs(job_type)]
    if not able:
        others = ", ".join(f"{w.id} runs {', '.join(w.state.get('types') or []) or 'no types'}" for w in connected[:4])
        return f"no connected worker runs {job_type} jobs ({others})"
    described = [describe(w, cores) for w in able]
    queue = f"; {_plural(ahead, 'job is', 'jobs are')} ahead of it in the queue" if ahead else ""
    if all(kind == "busy" for kind, _ in described) and all(_free_cores(w.state) <= 0 for w in able):
        return (f"all cores busy: {_plural(len(able), 'worker runs', 'workers run')} {job_type} "
                f"and every allowed core is running a job{queue}")
    if any(kind == "free" for kind, _ in described):
        free = [p for kind, p in described if kind == "free"]
        return f"{free[0]}; it should start within seconds{queue}"
    shown = [p for _, p in described[:6]]
    more = f", and {len(described) - 6} more" if len(described) > 6 else ""
    return f"{_plural(len(able), 'worker runs', 'workers run')} {job_type}: {', '.join(shown)}{more}{queue}"


def jobs_ahead(job: dict, pending: list[dict]) -> int:
    """Pending jobs of the same type a worker would claim first (higher priority, or older)."""
    p, jid = job.get("priority") or 0, job["id"]
    return sum(1 for o in pending if o["id"] != jid and o.get("type") == job.get("type")
               and ((o.get("priority") or 0) > p or ((o.get("priority") or 0) == p and o["id"] < jid)))


PENDING_SCAN = 1000  # pending jobs read to count a job's place in the queue


async def annotate(hub, jobs: list[dict], now: float) -> None:
    """Set `waiting` on every pending job in `jobs` (in place); one read of workers and queue."""
    pending_jobs = [j for j in jobs if j.get("status") == "pending"]
    if not pending_jobs:
        return
    workers = await hub.jobs.workers()
    offline = {n.id for n in hub.fleet.nodes.values() if hub.fleet.status(n, now) == "offline"}
    views = worker_views(workers, offline, now)
    queue: dict[str, list[dict]] = {}
    for j in pending_jobs:
        if j.get("type") not in queue:
            page = await hub.jobs.jobs(status="pending", type_=j.get("type"), limit=PENDING_SCAN)
            queue[j.get("type")] = page.jobs
        j["waiting"] = waiting_reason(j, views, jobs_ahead(j, queue[j.get("type")]))
