"""The Worker in this process against a real hub process, with real child processes.

Only the user is scripted: `ScriptedInputs` stands in for the keyboard and mouse
(IdleInputs protocol), so a test can make the user come back and leave again.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass

import psutil
import pytest

from conftest import ADMIN, LiveHub, http, wait_until
from forge_desktop.client import HubClient
from forge_desktop.worker import Worker, WorkerOptions

QUEUE_ENV = {"FORGE_HUB_ALLOW_TEST_JOBS": "1", "FORGE_HUB_RECLAIM_INTERVAL_S": "0.5"}


@dataclass
class ScriptedInputs:
    """A machine whose user the test controls; CPU is quiet and there is no battery."""
    idle_s: float = 3600.0

    def user_idle_seconds(self) -> float | None:
        return self.idle_s

    def on_battery(self) -> bool | None:
        return False

    def other_cpu_percent(self) -> float:
        return 0.0

    def logical_cores(self) -> int:
        return 2


def submit(hub: LiveHub, payload: dict) -> int:
    st, body = http("POST", hub.url + "/api/jobs", {"type": "sleep", "payload": payload}, token=ADMIN)
    assert st == 201, body
    return body["id"]


def child_status(worker: Worker, job_id: int) -> str:
    running = worker.jobs.get(job_id)
    if running is None:
        return "gone"
    try:
        return psutil.Process(running.process.pid).status()
    except psutil.NoSuchProcess:
        return "gone"


@pytest.fixture
def make_worker(tmp_path):
    workers: list[Worker] = []

    def make(hub: LiveHub, node: str = "desk") -> tuple[Worker, ScriptedInputs]:
        inputs = ScriptedInputs()
        options = WorkerOptions(mode="idle", types=["sleep"], idle_after_s=60, tick_s=0.1,
                                outbox=tmp_path / f"outbox-{node}")
        worker = Worker(HubClient(hub.url, hub.token(node)), node, options, inputs=inputs)
        worker.start()
        workers.append(worker)
        return worker, inputs

    yield make
    for w in workers:
        w.stop()


def wait_running_here(worker: Worker, job_id: int) -> int:
    wait_until(lambda: child_status(worker, job_id) not in ("gone", psutil.STATUS_ZOMBIE), timeout=20,
               what=f"job {job_id} to run in a child process")
    return worker.jobs[job_id].process.pid


def test_user_activity_suspends_the_child_at_once_and_idleness_resumes_it(live_hub, make_worker):
    hub = live_hub(env={**QUEUE_ENV, "FORGE_HUB_LEASE_S": "5"})
    job_id = submit(hub, {"seconds": 3})
    worker, inputs = make_worker(hub)
    wait_running_here(worker, job_id)

    inputs.idle_s = 0.0
    # How soon is bench/suspend_bench.py's figure (goal < 1 s); here, that input suspends it.
    wait_until(lambda: child_status(worker, job_id) == psutil.STATUS_STOPPED, timeout=5.0, interval=0.05,
               what="the child to be suspended on user input")
    assert worker.suspended_jobs == [job_id]

    # Suspended for more than two leases: heartbeats must keep the job on this worker.
    until = time.monotonic() + 11
    while time.monotonic() < until:
        held = hub.job(job_id)
        assert (held["status"], held["claimed_by"], held["attempt_count"]) == ("running", "desk", 1)
        assert child_status(worker, job_id) == psutil.STATUS_STOPPED
        time.sleep(0.5)

    inputs.idle_s = 3600.0
    wait_until(lambda: child_status(worker, job_id) not in (psutil.STATUS_STOPPED,), timeout=5.0, interval=0.05,
               what="the child to resume on idleness")
    done = wait_until(lambda: (j := hub.job(job_id))["status"] != "running" and j, timeout=15,
                      what="the resumed job to finish")
    assert (done["status"], done["result"], done["attempt_count"]) == ("succeeded", {"slept": 3.0}, 1)
    assert [a["outcome"] for a in done["attempts"]] == ["succeeded"]
    assert done["finished_at"] - done["attempts"][0]["started_at"] >= 11


def test_pause_stops_claiming_and_suspends_the_running_job(live_hub, make_worker):
    # A 5 s lease held for 6 s: heartbeats (every lease/3) keep the paused job, with room for
    # a heartbeat or two that a loaded machine delays.
    hub = live_hub(env={**QUEUE_ENV, "FORGE_HUB_LEASE_S": "5"})
    first = submit(hub, {"seconds": 2})
    worker, _ = make_worker(hub)
    wait_running_here(worker, first)

    worker.pause()
    wait_until(lambda: child_status(worker, first) == psutil.STATUS_STOPPED, timeout=5.0, interval=0.05,
               what="pause to suspend the running job")
    second = submit(hub, {"seconds": 0})
    until = time.monotonic() + 6
    while time.monotonic() < until:
        assert hub.job(second)["status"] == "pending"
        assert hub.job(first)["status"] == "running"
        time.sleep(0.5)
    assert worker.running_jobs == [first]

    worker.resume()
    for job_id, slept in ((first, 2.0), (second, 0.0)):
        done = wait_until(lambda: (j := hub.job(job_id))["status"] != "pending" and j["status"] != "running"
                          and j, timeout=20, what=f"job {job_id} to finish after resume")
        assert (done["status"], done["result"], done["claimed_by"]) == ("succeeded", {"slept": slept}, "desk")


def test_result_waits_in_the_outbox_while_the_hub_is_down(live_hub, make_worker):
    hub = live_hub(env={**QUEUE_ENV, "FORGE_HUB_LEASE_S": "120"})
    job_id = submit(hub, {"seconds": 2})
    worker, _ = make_worker(hub)
    wait_running_here(worker, job_id)

    hub.stop_hub()
    outbox = worker.options.outbox
    [saved] = wait_until(lambda: list(outbox.glob("*.json")), timeout=15, what="the result to reach the outbox")
    assert saved.name == f"{job_id}-1.json"
    assert json.loads(saved.read_text()) == {"attempt": 1, "result": {"slept": 2.0}}
    time.sleep(1.0)
    assert saved.exists(), "the result must stay on disk while the hub is unreachable"

    hub.start_hub()
    done = wait_until(lambda: (j := hub.job(job_id))["status"] == "succeeded" and j, timeout=20,
                      what="the outboxed result to be delivered")
    assert (done["result"], done["attempt_count"], done["claimed_by"]) == ({"slept": 2.0}, 1, "desk")
    wait_until(lambda: not list(outbox.glob("*.json")), timeout=5, what="the outbox to empty")


def test_cancelled_job_is_stopped_and_stop_releases_running_jobs(live_hub, make_worker):
    hub = live_hub(env={**QUEUE_ENV, "FORGE_HUB_LEASE_S": "3"})
    cancelled = submit(hub, {"seconds": 60})
    worker, _ = make_worker(hub)
    pid = wait_running_here(worker, cancelled)
    st, _ = http("POST", f"{hub.url}/api/jobs/{cancelled}/cancel", {}, token=ADMIN)
    assert st == 200
    wait_until(lambda: cancelled not in worker.jobs and not psutil.pid_exists(pid) or
               psutil.Process(pid).status() == psutil.STATUS_ZOMBIE, timeout=5,
               what="the worker to kill the cancelled job's child")

    released = submit(hub, {"seconds": 60})
    pid = wait_running_here(worker, released)
    worker.stop()
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    back = hub.job(released)
    assert back["status"] == "pending" and back["lease_until"] is None
    assert [a["outcome"] for a in back["attempts"]] == ["released"]
    assert hub.job(cancelled)["status"] == "cancelled"


def test_kill_9_of_an_agent_takes_its_job_child_and_fork_server_with_it(live_hub):
    """A real `forge agent` running a job is SIGKILLed (the agent alone, not its group): its
    job child and fork server die with it instead of running on to the job's time limit."""
    import os
    import signal
    if not hasattr(os, "fork"):
        pytest.skip("POSIX only (a fork server); the watcher Windows uses is tested in test_lifetime.py")
    hub = live_hub(env={**QUEUE_ENV, "FORGE_WORKER_TYPES": "sleep"})
    agent = hub.start_agent("k9", "--jobs", "always")
    job_id = submit(hub, {"seconds": 120})
    wait_until(lambda: hub.job(job_id)["status"] == "running", 30, what=f"job running ({hub.log('agent-k9')})")
    def job_child():
        for c in psutil.Process(agent.pid).children(recursive=True):
            try:
                if any("forkserver" in a for a in c.cmdline()) and c.children():
                    return c.children()[0]
            except psutil.Error:
                pass
        return None
    child = wait_until(job_child, 20, what="the job child under the fork server")
    family = psutil.Process(agent.pid).children(recursive=True)
    assert child in family and len(family) >= 2, [c.cmdline() for c in family]
    os.kill(agent.pid, signal.SIGKILL)
    agent.wait(5)
    def running(p: psutil.Process) -> bool:
        try:
            return p.status() != psutil.STATUS_ZOMBIE  # dead, waiting for a reaper
        except psutil.NoSuchProcess:
            return False
    def describe(p: psutil.Process) -> str:
        try:
            return f"{p.pid} ppid={p.ppid()} threads={p.num_threads()} " + " ".join(p.cmdline())[:100]
        except psutil.Error:
            return str(p.pid)
    deadline = time.monotonic() + 20
    while any(running(p) for p in family) and time.monotonic() < deadline:
        time.sleep(0.2)
    alive = [p for p in family if running(p)]
    names = [describe(p) for p in alive]
    for p in alive:
        p.kill()
    assert not alive, f"still running 20 s after the agent's kill -9: {names}"


def test_the_highs_banner_stays_out_of_the_agents_output(live_hub):
    from test_solvers_mps import SMALL_MIP
    hub = live_hub(env={**QUEUE_ENV, "FORGE_WORKER_TYPES": "mps"})
    hub.start_agent("quiet", "--jobs", "always")
    st, body = http("POST", hub.url + "/api/jobs", {"type": "mps", "payload": {"model": SMALL_MIP, "format": "mps"}},
                    token=ADMIN)
    assert st == 201, body
    job = hub.wait_job_final(body["id"], worker="agent-quiet")
    assert job["status"] == "succeeded", job
    out = hub.log("agent-quiet")
    assert f"job {body['id']} done" in out
    assert "HiGHS" not in out and "Copyright" not in out, out


def test_stop_ends_a_claim_the_hub_is_holding_open_and_a_later_job_stays_queued(live_hub, tmp_path):
    """An idle worker's claim long-polls for up to 30 s here; stopping it must not wait that out
    (an agent's Ctrl-C or the desktop's Quit), and the queue must not lose the next job to it."""
    hub = live_hub(env=QUEUE_ENV)
    options = WorkerOptions(mode="always", types=["sleep"], tick_s=0.1, long_poll_s=30, outbox=tmp_path / "outbox")
    worker = Worker(HubClient(hub.url, hub.token("desk")), "desk", options, inputs=ScriptedInputs())
    worker.start()
    wait_until(lambda: worker.client._waits, 10, interval=0.05, what="the claim to be held open by the hub")
    began = time.monotonic()
    worker.stop()
    assert time.monotonic() - began < 10, "stop waited out the hub's 30 s hold"
    job_id = submit(hub, {"seconds": 0})
    time.sleep(1.0)
    assert hub.job(job_id)["status"] == "pending"
