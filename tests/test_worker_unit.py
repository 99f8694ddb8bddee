"""The Worker's decisions on an injected clock: no process, no sleeping.

The e2e twins of these tests (tests/test_worker.py) run the same behaviours against a real
hub process with real job children, in real time. Here the worker is stepped by hand
(`Worker.step`), time is a `Clock` the test advances, the user is `ScriptedInputs`, the hub
is `ScriptedHub` (the two-method transport the worker posts to) and each claimed job is a
`StandInChild` the test finishes, so a test covering seconds of worker time runs in
milliseconds. One test runs the same worker against the real hub app on a loopback port
(served from a thread, `LoopbackHub`): claim, lease and result with the hub itself.
"""
from __future__ import annotations

import json
import time

import pytest

from forge_desktop.client import HubError, HubUnreachable
from forge_desktop.idle import PAUSED, USER_ACTIVE
from forge_desktop.runner import RunningJob
from forge_desktop.worker import Worker, WorkerOptions
from test_worker import ScriptedInputs

START = 1_767_000_000.0  # a real epoch: the idle policy reads local time from the clock


class Clock:
    def __init__(self, now: float = START):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class ScriptedHub:
    """The hub as the worker sees it: claims hand out the queued jobs in order, heartbeats
    answer with the lease and the jobs to stop, progress for a job in `gone` is refused
    (409, as for a cancelled or reclaimed attempt), results are kept. While `down`, every
    post is unreachable. Every post is recorded with the clock's time."""
    timeout = 10.0

    def __init__(self, clock: Clock, lease_s: float = 3.0):
        self.clock = clock
        self.lease_s = lease_s
        self.queue: list[dict] = []
        self.posts: list[tuple[float, str, dict]] = []
        self.results: dict[int, dict] = {}
        self.gone: set[int] = set()
        self.stop: list[int] = []
        self.down = False

    def submit(self, job_id: int, seconds: float = 1, job_type: str = "sleep") -> dict:
        job = {"id": job_id, "type": job_type, "payload": {"seconds": seconds}, "attempt_count": 1, "cores": 1}
        self.queue.append(job)
        return job

    def long_poll(self, path: str, body: dict, timeout: float, cancel=None) -> dict:
        return self.post(path, body)

    def abort(self) -> None:
        pass

    def post(self, path: str, body: dict, **kw) -> dict:
        self.posts.append((self.clock(), path, body))
        if self.down:
            raise HubUnreachable("cannot reach http://127.0.0.1:9: connection refused")
        if path == "/api/jobs/claim":
            job = next((j for j in self.queue if j["type"] in body["types"]), None)
            if job:
                self.queue.remove(job)
            return {"job": job, "lease_s": self.lease_s}
        if path.endswith("/heartbeat"):
            return {"lease_s": self.lease_s, "stop": list(self.stop)}
        job_id = int(path.split("/")[3])
        if path.endswith("/progress"):
            if job_id in self.gone:
                raise HubError(409, "conflict", "this attempt is no longer current")
            return {}
        if path.endswith("/result"):
            self.results[job_id] = body
            return {"status": "succeeded" if "result" in body else "failed"}
        raise AssertionError(f"unexpected post to {path}")

    def sent(self, kind: str) -> list[tuple[float, dict]]:
        return [(t, body) for t, path, body in self.posts if path.endswith(kind)]


class _NoProcess:
    sentinel = None

    def join(self, timeout: float | None = None) -> None:
        return None


class _NoPipe:
    closed = True


class StandInChild(RunningJob):
    """A claimed job as the worker sees it, with no process behind it: the test says when
    it reports progress (`pending`) and how it ends (`outcome`)."""

    def __init__(self, job: dict, time_limit_s: float):
        super().__init__(job=job, process=_NoProcess(), conn=_NoPipe(), time_limit_s=time_limit_s)
        self.killed = False
        self.resumes = 0
        self.pending: list[dict] = []

    def poll(self) -> list[dict]:
        out, self.pending = self.pending, []
        return out

    def suspend(self) -> None:
        self.suspended_since = self.suspended_since or time.monotonic()

    def resume(self) -> None:
        if self.suspended:
            self.resumes += 1
        self.suspended_since = None

    def kill(self) -> None:
        self.killed = True


class Children:
    """The `start` the worker is given: records every child it starts."""

    def __init__(self) -> None:
        self.started: dict[int, StandInChild] = {}

    def __call__(self, job: dict, time_limit_s: float, memory_mb: int | None) -> StandInChild:
        child = StandInChild(job=job, time_limit_s=time_limit_s)
        self.started[child.id] = child
        return child


@pytest.fixture
def rig(tmp_path):
    clock = Clock()
    hub = ScriptedHub(clock)
    inputs = ScriptedInputs()
    children = Children()
    options = WorkerOptions(mode="idle", types=["sleep"], idle_after_s=60, tick_s=0.01,
                            outbox=tmp_path / "outbox")
    worker = Worker(hub, "desk", options, inputs=inputs, clock=clock, start=children)
    yield worker, hub, inputs, children, clock
    worker.stop()


def run_for(worker: Worker, clock: Clock, seconds: float, tick: float = 0.5) -> None:
    end = clock.now + seconds
    while clock.now < end:
        clock.advance(tick)
        worker.step()


def test_user_input_suspends_the_child_in_the_same_step_heartbeats_hold_the_lease_and_idleness_resumes(rig):
    worker, hub, inputs, children, clock = rig
    hub.submit(7, seconds=3)
    worker.step()
    child = children.started[7]
    assert worker.running_jobs == [7] and not child.suspended

    inputs.idle_s = 0.0
    worker.step()
    assert child.suspended and worker.suspended_jobs == [7]
    assert worker.state.reason == USER_ACTIVE

    # Suspended for more than two leases of 3 s: a heartbeat at least every lease/3 names
    # the job as running here and suspended, so the hub keeps it on this worker.
    suspended_at = clock.now
    run_for(worker, clock, 7.5)
    beats = [(t, b) for t, b in hub.sent("/heartbeat") if t > suspended_at]
    times = [suspended_at] + [t for t, _ in beats]
    assert max(b - a for a, b in zip(times, times[1:])) <= hub.lease_s / 3
    assert times[-1] - suspended_at >= 7
    assert all(b["running"] == [7] and b["suspended"] == [7] for _, b in beats)
    assert child.suspended and not hub.results

    inputs.idle_s = 3600.0
    worker.step()
    assert not child.suspended and child.resumes == 1 and worker.suspended_jobs == []

    child.outcome = ("result", {"slept": 3.0})
    worker.step()
    assert hub.results == {7: {"attempt": 1, "result": {"slept": 3.0}}}
    assert worker.running_jobs == [] and worker.state.done == 1
    assert not list(worker.options.outbox.glob("*.json"))


def test_pause_stops_claiming_and_suspends_the_running_job(rig):
    worker, hub, inputs, children, clock = rig
    hub.submit(1, seconds=2)
    worker.step()
    worker.pause()
    worker.step()
    assert children.started[1].suspended and worker.state.reason == PAUSED

    hub.submit(2, seconds=0)
    claims_before = len(hub.sent("/claim"))
    run_for(worker, clock, 30)
    assert len(hub.sent("/claim")) == claims_before, "a paused worker claims nothing"
    assert worker.running_jobs == [1] and 2 not in children.started
    assert all(b["paused"] for _, b in hub.sent("/heartbeat")[-3:])

    worker.resume()
    worker.step()
    assert not children.started[1].suspended
    children.started[1].outcome = ("result", {"slept": 2.0})
    worker.step()
    worker.step()
    assert 2 in children.started and worker.running_jobs == [2]
    children.started[2].outcome = ("result", {"slept": 0.0})
    worker.step()
    assert hub.results == {1: {"attempt": 1, "result": {"slept": 2.0}}, 2: {"attempt": 1, "result": {"slept": 0.0}}}


def test_result_waits_in_the_outbox_while_the_hub_is_down_and_is_delivered_once(rig):
    worker, hub, inputs, children, clock = rig
    hub.submit(5, seconds=2)
    worker.step()
    hub.down = True
    children.started[5].outcome = ("result", {"slept": 2.0})
    worker.step()
    [saved] = list(worker.options.outbox.glob("*.json"))
    assert saved.name == "5-1.json"
    assert json.loads(saved.read_text()) == {"attempt": 1, "result": {"slept": 2.0}}

    run_for(worker, clock, 120, tick=1)
    assert saved.exists(), "the result stays on disk while the hub is unreachable"
    assert len(hub.sent("/result")) > 1, "delivery is retried"

    hub.down = False
    worker.step()
    assert hub.results == {5: {"attempt": 1, "result": {"slept": 2.0}}}
    assert not saved.exists()
    run_for(worker, clock, 10)
    assert len([b for _, b in hub.sent("/result") if b.get("result")]) == len(hub.sent("/result"))
    assert hub.results == {5: {"attempt": 1, "result": {"slept": 2.0}}}


def test_failed_claims_back_off_exponentially_up_to_the_cap_and_reset_on_success(rig):
    worker, hub, inputs, children, clock = rig
    hub.down = True
    run_for(worker, clock, 120, tick=0.25)
    times = [t for t, _ in hub.sent("/claim")]
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert gaps[:4] == [1.0, 2.0, 4.0, 8.0]
    assert max(gaps) == worker.options.claim_backoff_cap_s
    assert gaps[-1] == worker.options.claim_backoff_cap_s

    hub.down = False
    hub.submit(9)
    run_for(worker, clock, worker.options.claim_backoff_cap_s)
    assert worker.running_jobs == [9]
    children.started[9].outcome = ("result", {"slept": 1.0})
    worker.step()
    hub.submit(10)
    worker.step()
    assert worker.running_jobs == [10], "after a success the next claim is not delayed"


def test_a_claim_long_polls_only_while_nothing_runs(rig):
    worker, hub, inputs, children, clock = rig
    inputs.logical_cores = lambda: 3  # two usable cores: room for a second job
    hub.submit(1)
    worker.step()
    worker.step()
    waits = [b["wait_s"] for _, b in hub.sent("/claim")]
    assert waits[0] == worker.options.long_poll_s and waits[1] == 0
    assert [b["cores"] for _, b in hub.sent("/claim")] == [2, 1]


def test_progress_is_posted_at_most_every_progress_s_with_the_latest_update(rig):
    worker, hub, inputs, children, clock = rig
    hub.submit(3)
    worker.step()
    child = children.started[3]
    for i in range(20):
        child.pending.append({"incumbent": 100 - i})
        clock.advance(0.25)
        worker.step()
    posts = hub.sent("/progress")
    times = [t for t, _ in posts]
    assert len(posts) == 3  # 5 s of updates every 0.25 s, posted every 2 s
    assert all(b - a >= worker.options.progress_s for a, b in zip(times, times[1:]))
    assert all(b == {"attempt": 1, "progress": {"incumbent": b["progress"]["incumbent"]}} for _, b in posts)
    assert posts[-1][1]["progress"]["incumbent"] < posts[0][1]["progress"]["incumbent"]


def test_an_attempt_the_hub_refuses_is_killed_and_posts_no_result(rig):
    worker, hub, inputs, children, clock = rig
    hub.submit(4, seconds=60)
    worker.step()
    hub.gone.add(4)  # cancelled on the hub: its progress is refused
    children.started[4].pending.append({"incumbent": 1})
    worker.step()
    assert children.started[4].killed and worker.running_jobs == []
    assert 4 not in hub.results

    hub.submit(6, seconds=60)
    run_for(worker, clock, 2)
    hub.stop = [6]  # reclaimed elsewhere: the next heartbeat says stop
    run_for(worker, clock, hub.lease_s)
    assert children.started[6].killed and worker.running_jobs == []
    assert hub.results == {}


def test_stop_releases_the_running_job_without_counting_the_attempt(rig):
    worker, hub, inputs, children, clock = rig
    hub.submit(8, seconds=60)
    worker.step()
    child = children.started[8]
    worker.start()
    worker.stop()
    assert child.killed and worker.running_jobs == []
    assert hub.results == {8: {"attempt": 1, "error": "worker stopped before the job finished", "release": True}}
    assert not list(worker.options.outbox.glob("*.json"))


class LoopbackHub:
    """The real hub app (`create_app`) served on a loopback port from a thread of this
    process: the worker's real `HubClient` talks HTTP to it, no process is started."""

    def __init__(self, config):
        import asyncio
        import threading

        from aiohttp import web

        from hub.app import create_app
        self._loop = asyncio.new_event_loop()
        self._runner = web.AppRunner(create_app(config))
        self._thread = threading.Thread(target=self._loop.run_forever, name="loopback-hub", daemon=True)
        self._thread.start()
        self._run(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        self._run(site.start())
        port = site._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"

    def _run(self, coro):
        import asyncio
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(15)

    def close(self) -> None:
        self._run(self._runner.cleanup())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()


@pytest.fixture
def loopback_hub(hub_config):
    hub = LoopbackHub(hub_config(allow_test_jobs=True, lease_s=30.0))
    yield hub
    hub.close()


def test_a_job_claimed_from_the_real_hub_over_loopback_ends_succeeded_with_its_result(loopback_hub, tmp_path):
    """The real hub and HubClient, the clock and the child stand-ins as above: the claim runs
    the job here under the hub's lease, and its result becomes the attempt's outcome."""
    from conftest import ADMIN, http
    from forge_desktop.client import HubClient
    st, body = http("POST", loopback_hub.url + "/api/tokens", {"node_id": "desk"}, token=ADMIN)
    assert st == 201, body
    st, job = http("POST", loopback_hub.url + "/api/jobs", {"type": "sleep", "payload": {"seconds": 1}}, token=ADMIN)
    assert st == 201, job
    clock, children = Clock(), Children()
    options = WorkerOptions(mode="idle", types=["sleep"], idle_after_s=60, long_poll_s=0,
                            outbox=tmp_path / "outbox")
    worker = Worker(HubClient(loopback_hub.url, body["token"]), "desk", options, inputs=ScriptedInputs(),
                    clock=clock, start=children)
    worker.step()
    assert worker.running_jobs == [job["id"]]
    running = http("GET", f"{loopback_hub.url}/api/jobs/{job['id']}")[1]
    assert (running["status"], running["claimed_by"], running["attempt_count"]) == ("running", "desk", 1)
    assert worker.lease_s == 30.0, "the worker learns the hub's lease (it assumes 300 s until told)"

    children.started[job["id"]].outcome = ("result", {"slept": 1.0})
    clock.advance(1)
    worker.step()
    done = http("GET", f"{loopback_hub.url}/api/jobs/{job['id']}")[1]
    assert (done["status"], done["result"], done["attempt_count"]) == ("succeeded", {"slept": 1.0}, 1)
    assert [a["outcome"] for a in done["attempts"]] == ["succeeded"]
    assert not list(options.outbox.glob("*.json"))
    worker.stop()

