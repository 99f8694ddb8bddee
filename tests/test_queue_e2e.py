"""The job queue end to end: a real `forge hub` process and real `forge agent --jobs always`
workers on loopback, each job in its own child process.

The hub's own bookkeeping (jobs, job_attempts) is read straight from its SQLite file,
and the workers' logs are read too, so "each job ran once" is checked from both sides.
"""
from __future__ import annotations

import collections
import os
import re
import signal
import time

import pytest

from conftest import ADMIN, LiveHub, http, wait_until

QUEUE_ENV = {"FORGE_HUB_ALLOW_TEST_JOBS": "1", "FORGE_WORKER_TYPES": "sleep",
             "FORGE_HUB_RECLAIM_INTERVAL_S": "0.5"}
MANY_JOBS = int(os.environ.get("FORGE_E2E_JOBS", "2000"))
STARTED = re.compile(r"▶ job (\d+) sleep \(attempt (\d+)\)")


def queue_hub(live_hub, lease_s: float) -> LiveHub:
    return live_hub(env={**QUEUE_ENV, "FORGE_HUB_LEASE_S": str(lease_s)})


def submit(hub: LiveHub, jobs: list[dict]) -> list[int]:
    st, body = http("POST", hub.url + "/api/jobs", {"jobs": jobs}, token=ADMIN, timeout=60)
    assert st == 201, body
    return body["ids"]


def counts(hub: LiveHub) -> dict[str, int]:
    st, body = http("GET", hub.url + "/api/jobs?limit=1")
    assert st == 200, body
    return body["counts"]


def stored_jobs(hub: LiveHub) -> list[dict]:
    """Every job the hub holds, with its attempts, read through the store's interface."""
    async def read(store) -> list[dict]:
        page = await store.jobs.jobs(limit=10**6)
        return [await store.jobs.job(j["id"]) for j in page.jobs]
    return hub.read_store(read)


def overlapping_attempts(jobs: list[dict]) -> list[tuple[int, int, int]]:
    """(job, attempt, next attempt) where an attempt started before the one before it ended."""
    by_job = collections.defaultdict(list)
    for job in sorted(jobs, key=lambda j: j["id"]):
        for a in job["attempts"]:
            by_job[job["id"]].append((a["attempt"], a["started_at"], a["ended_at"]))
    bad = []
    for job_id, rows in by_job.items():
        for (a, _, end), (b, start, _) in zip(rows, rows[1:]):
            if end is None or start < end:
                bad.append((job_id, a, b))
    return bad


def started_in_logs(hub: LiveHub, names: list[str]) -> collections.Counter:
    """How many times each (job, attempt) was started, over all the workers' logs."""
    seen: collections.Counter = collections.Counter()
    for name in names:
        text = (hub.home / f"{name}.log").read_text(errors="replace")
        seen.update((int(j), int(a)) for j, a in STARTED.findall(text))
    return seen


@pytest.mark.slow
def test_four_workers_run_each_of_many_jobs_exactly_once(live_hub):
    """About 270 s on 2 cores: a worker claims at most one job per 0.5 s tick (see PERFORMANCE.md).
    FORGE_E2E_JOBS=200 runs a quick version."""
    hub = queue_hub(live_hub, lease_s=120)
    ids = submit(hub, [{"type": "sleep", "payload": {"seconds": 0}} for _ in range(MANY_JOBS)])
    workers = [f"w{i}" for i in range(1, 5)]
    t0 = time.monotonic()
    for w in workers:
        hub.start_agent(w, "--jobs", "always", "--push-interval", "30")
    wait_until(lambda: counts(hub)["succeeded"] == MANY_JOBS, timeout=400, interval=1,
               what=f"all {MANY_JOBS} jobs to succeed")
    wall = time.monotonic() - t0
    print(f"\n{MANY_JOBS} jobs on 4 workers in {wall:.1f} s ({MANY_JOBS / wall:.1f} jobs/s)")

    jobs = stored_jobs(hub)
    statuses = dict(collections.Counter(j["status"] for j in jobs))
    assert statuses == {"succeeded": MANY_JOBS}
    assert sorted(j["id"] for j in jobs) == sorted(ids)
    outcomes = [[a["outcome"] for a in j["attempts"]] for j in jobs]
    attempts = [(j["id"], len(o), min(o), max(o)) for j, o in zip(jobs, outcomes) if o]
    assert len(attempts) == MANY_JOBS
    assert [a for a in attempts if a[1:] != (1, "succeeded", "succeeded")] == []
    assert len([j for j in jobs if j["attempt_count"] != 1]) == 0
    assert overlapping_attempts(jobs) == []
    per_worker = dict(collections.Counter(j["claimed_by"] for j in jobs))
    assert set(per_worker) == set(workers), per_worker

    starts = started_in_logs(hub, ["agent-" + w for w in workers])
    assert set(starts) == {(i, 1) for i in ids}
    assert [k for k, n in starts.items() if n != 1] == []

    fleet = wait_until(lambda: (f := hub.fleet()) and sum(n["jobs"]["done"] for n in f.values()) == MANY_JOBS
                       and f, timeout=10, what="fleet job counts")
    assert {n: fleet[n]["jobs"]["done"] for n in workers} == per_worker


def test_killed_worker_job_is_reclaimed_and_its_late_result_cannot_win(live_hub):
    # A 5 s lease: short enough to wait out, long enough that the second worker's heartbeats
    # (every lease/3) keep its attempt on a loaded machine.
    hub = queue_hub(live_hub, lease_s=5)
    [job_id] = submit(hub, [{"type": "sleep", "payload": {"seconds": 4}}])
    first_token = hub.token("first")
    hub.start_agent("first", "--jobs", "always", token=first_token)
    held = wait_until(lambda: (j := hub.job(job_id))["status"] == "running" and j, timeout=30,
                      what="the first worker to claim the job")
    assert held["claimed_by"] == "first"
    wait_until(lambda: "▶ job" in hub.log("agent-first"), timeout=10, what="the child process to start")

    lease_at_kill = hub.job(job_id)["lease_until"]
    hub.stop("agent-first", signal.SIGKILL)
    hub.start_agent("second", "--jobs", "always")
    done = wait_until(lambda: (j := hub.job(job_id))["status"] in ("succeeded", "failed") and j,
                      timeout=40, what="the job to be reclaimed and finished")

    assert done["status"] == "succeeded" and done["claimed_by"] == "second"
    assert done["result"] == {"slept": 4.0}
    assert len(done["attempts"]) == 2, [(a["worker_id"], a["outcome"], a.get("error")) for a in done["attempts"]]
    first, second = done["attempts"]
    assert (first["worker_id"], first["outcome"]) == ("first", "reclaimed")
    assert "lease expired" in first["error"]
    assert second["worker_id"] == "second" and second["outcome"] == "succeeded"
    assert second["started_at"] >= lease_at_kill

    st, body = http("POST", f"{hub.url}/api/jobs/{job_id}/result",
                    {"attempt": 1, "result": {"slept": 999}}, token=first_token)
    assert (st, body) == (200, {"outcome": "late"})
    after = hub.job(job_id)
    assert after["status"] == "succeeded" and after["result"] == {"slept": 4.0}
    assert after["attempts"][0]["outcome"] == "late" and after["attempts"][0]["result"] == {"slept": 999}
    assert after["attempts"][1]["result"] == {"slept": 4.0}
    st, body = http("POST", f"{hub.url}/api/jobs/{job_id}/result",
                    {"attempt": 1, "result": {"slept": 999}}, token=first_token)
    assert body == {"outcome": "duplicate"}


def test_job_whose_solver_always_crashes_fails_after_three_attempts(live_hub):
    hub = queue_hub(live_hub, lease_s=30)
    [crash] = submit(hub, [{"type": "sleep", "payload": {"seconds": 0, "crash": True}}])
    hub.start_agent("w", "--jobs", "always")
    done = wait_until(lambda: (j := hub.job(crash))["status"] in ("succeeded", "failed") and j,
                      timeout=60, what="the crashing job to end")
    assert done["status"] == "failed" and done["review"] is True
    assert done["attempt_count"] == 3
    assert [a["outcome"] for a in done["attempts"]] == ["failed"] * 3
    assert all("exit code 3" in a["error"] for a in done["attempts"]), done["attempts"]
    assert "exit code 3" in done["error"]
    time.sleep(1.5)
    assert hub.job(crash)["attempt_count"] == 3, "a failed job must not be claimed again"


@pytest.fixture
def idle_hub(live_hub) -> LiveHub:
    return queue_hub(live_hub, lease_s=30)


@pytest.mark.parametrize("spec, code, fragment", [
    ({"type": "nope", "payload": {}}, "unknown_job_type", "'nope' is not a job type"),
    ({"type": "sleep", "payload": {"seconds": -1}}, "invalid_payload", "payload.seconds"),
    ({"type": "sleep", "payload": {"seconds": 1, "extra": 1}}, "invalid_payload", "extra"),
    ({"type": "sleep", "payload": [1]}, "bad_request", "payload must be an object"),
    ({"type": "sleep", "payload": {}, "priority": "high"}, "bad_request", "priority"),
    ({"jobs": [{"type": "sleep", "payload": {}}, {"type": "nope", "payload": {}}]}, "unknown_job_type", "jobs[1]"),
])
def test_bad_submissions_are_clear_errors_and_leave_the_queue_alone(idle_hub, spec, code, fragment):
    before = counts(idle_hub)
    st, body = http("POST", idle_hub.url + "/api/jobs", spec, token=ADMIN)
    assert st == 400 and body["error"] == code and fragment in body["message"], body
    assert counts(idle_hub) == before


def test_oversized_payload_and_foreign_results_are_refused(idle_hub):
    before = counts(idle_hub)
    huge = b'{"type": "sleep", "payload": {"seconds": 0, "pad": "' + b"x" * (17 * 1024 * 1024) + b'"}}'
    st, body = http("POST", idle_hub.url + "/api/jobs", huge, token=ADMIN, timeout=60)
    assert st == 413 and body["error"] == "too_large", body
    assert counts(idle_hub) == before

    [job_id] = submit(idle_hub, [{"type": "sleep", "payload": {"seconds": 0}}])
    holder, stranger = idle_hub.token("holder"), idle_hub.token("stranger")
    st, claimed = http("POST", idle_hub.url + "/api/jobs/claim", {"types": ["sleep"]}, token=holder)
    assert st == 200 and claimed["job"]["id"] == job_id
    for path, body in ((f"/api/jobs/{job_id}/result", {"attempt": 1, "result": {"slept": 0}}),
                       (f"/api/jobs/{job_id}/result", {"attempt": 2, "result": {"slept": 0}}),
                       (f"/api/jobs/{job_id + 1}/result", {"attempt": 1, "result": {"slept": 0}})):
        st, answer = http("POST", idle_hub.url + path, body, token=stranger)
        assert st == 404 and answer["error"] == "not_found", answer
    st, answer = http("POST", f"{idle_hub.url}/api/jobs/{job_id}/progress", {"attempt": 1, "progress": {}},
                      token=stranger)
    assert st == 409 and answer["error"] == "not_claimed", answer
    st, answer = http("POST", f"{idle_hub.url}/api/jobs/{job_id}/result", {"attempt": 1}, token=holder)
    assert st == 400 and "exactly one of 'result'" in answer["message"]
    held = idle_hub.job(job_id)
    assert (held["status"], held["claimed_by"], held["result"]) == ("running", "holder", None)
    st, answer = http("POST", f"{idle_hub.url}/api/jobs/{job_id}/result",
                      {"attempt": 1, "result": {"slept": 0}}, token=holder)
    assert answer == {"outcome": "accepted"}


def test_production_hub_refuses_test_job_types(live_hub):
    hub = live_hub()
    st, body = http("POST", hub.url + "/api/jobs", {"type": "sleep", "payload": {}}, token=ADMIN)
    assert st == 400 and body["error"] == "unknown_job_type", body
    assert "jobshop" in body["message"]


def test_heartbeat_renews_own_running_jobs_and_names_the_rest_to_stop(idle_hub):
    first, second = submit(idle_hub, [{"type": "sleep", "payload": {"seconds": 0}}] * 2)
    worker, other = idle_hub.token("worker"), idle_hub.token("other")
    for tok in (worker, other):
        st, claimed = http("POST", idle_hub.url + "/api/jobs/claim", {"types": ["sleep"]}, token=tok)
        assert st == 200, claimed
    mine, theirs = (first, second) if idle_hub.job(first)["claimed_by"] == "worker" else (second, first)

    def beat(running: list[int]) -> tuple[int, dict]:
        return http("POST", idle_hub.url + "/api/workers/worker/heartbeat", {"running": running}, token=worker)

    st, answer = beat([mine, theirs, 999_999])
    assert st == 200 and answer["stop"] == [theirs, 999_999], answer
    st, _ = http("POST", f"{idle_hub.url}/api/jobs/{mine}/cancel", {}, token=ADMIN)
    assert st == 200
    st, answer = beat([mine])
    assert answer["stop"] == [mine], answer
    st, answer = beat(list(range(1, 1000)))
    assert st == 400 and "at most" in answer["message"], answer
    assert idle_hub.job(theirs)["claimed_by"] == "other"
