"""The job queue's storage contract, against a real SQLite file.

Time is passed in (`now`), so leases and reclaims need no sleeping. Written against
`Store`'s job methods only, so the same tests can run against another store later.
"""
from __future__ import annotations

import collections
import threading

import pytest

from hub.store import Store

T0 = 1_000_000.0
LEASE = 60.0


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "forge.db")
    yield s
    s.close()


def add(store: Store, n: int = 1, type_: str = "sleep", **spec) -> list[int]:
    jobs = [{"type": type_, "payload": {"seconds": 0, "n": i}, "max_attempts": spec.pop("max_attempts", 3), **spec}
            for i in range(n)]
    return store.add_jobs(jobs, T0)


def claim(store: Store, worker: str, now: float = T0, types=("sleep",), cores: int = 1) -> dict | None:
    return store.claim_job(worker, list(types), cores, now, LEASE)


def test_concurrent_claims_hand_out_each_job_exactly_once(tmp_path):
    path = tmp_path / "forge.db"
    setup = Store(path)
    ids = add(setup, 300)
    claimed: dict[str, list[int]] = collections.defaultdict(list)
    start = threading.Barrier(8)

    def worker(name: str) -> None:
        own = Store(path)
        start.wait()
        while (job := claim(own, name)) is not None:
            claimed[name].append(job["id"])
            assert own.job_result(job["id"], name, 1, {"ok": True}, None, T0 + 1) == "accepted"
        own.close()

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    every_claim = [j for js in claimed.values() for j in js]
    assert sorted(every_claim) == ids
    assert len([w for w in claimed if claimed[w]]) > 1
    assert setup.queue_counts()["succeeded"] == 300
    rows = setup.conn().execute("SELECT job_id, count(*) FROM job_attempts GROUP BY job_id HAVING count(*) != 1")
    assert rows.fetchall() == []
    setup.close()


def test_claims_follow_priority_then_age(store):
    low, high, mid, high2 = (store.add_jobs([{"type": "sleep", "payload": {}, "max_attempts": 3, "priority": p}],
                                            T0)[0] for p in (0, 5, 1, 5))
    assert [claim(store, "w")["id"] for _ in range(4)] == [high, high2, mid, low]
    assert claim(store, "w") is None


def test_claims_respect_offered_types_and_cores(store):
    [big] = add(store, cores=4)
    [other] = add(store, type_="jobshop")
    assert claim(store, "w", cores=2) is None
    assert claim(store, "w", types=[]) is None
    assert claim(store, "w", types=["sleep", "jobshop"], cores=2)["id"] == other
    job = claim(store, "w", cores=4)
    assert job["id"] == big and job["status"] == "running" and job["claimed_by"] == "w"
    assert job["attempt_count"] == 1 and job["lease_until"] == T0 + LEASE
    assert job["payload"] == {"seconds": 0, "n": 0}


def test_result_is_idempotent_per_job_and_attempt(store):
    [job_id] = add(store)
    claim(store, "w")
    assert store.job_result(job_id, "w", 1, {"v": 1}, None, T0 + 5) == "accepted"
    assert store.job_result(job_id, "w", 1, {"v": 2}, None, T0 + 6) == "duplicate"
    assert store.job_result(job_id, "w", 1, None, "boom", T0 + 7) == "duplicate"
    job = store.job(job_id)
    assert (job["status"], job["result"], job["finished_at"]) == ("succeeded", {"v": 1}, T0 + 5)
    assert [(a["outcome"], a["result"]) for a in job["attempts"]] == [("succeeded", {"v": 1})]


def test_results_from_other_workers_or_attempts_are_unknown(store):
    [job_id] = add(store)
    claim(store, "w")
    assert store.job_result(job_id, "intruder", 1, {"v": 1}, None, T0) == "unknown"
    assert store.job_result(job_id, "w", 2, {"v": 1}, None, T0) == "unknown"
    assert store.job_result(job_id + 1, "w", 1, {"v": 1}, None, T0) == "unknown"
    assert store.job_progress(job_id, "intruder", 1, {"p": 1}, T0, LEASE) == "gone"
    assert store.job_progress(job_id + 1, "w", 1, {"p": 1}, T0, LEASE) == "unknown"
    job = store.job(job_id)
    assert (job["status"], job["claimed_by"], job["result"], job["progress"]) == ("running", "w", None, None)


def test_progress_and_heartbeat_renew_the_lease(store):
    a, b = add(store, 2)
    claim(store, "w")
    claim(store, "w")
    assert store.job_progress(a, "w", 1, {"percent": 50}, T0 + 50, LEASE) == "ok"
    assert store.heartbeat("w", {"running": [b]}, T0 + 55, LEASE) == {b}
    assert store.reclaim_expired(T0 + LEASE + 1) == []
    assert store.job(a)["progress"] == {"percent": 50}
    assert store.heartbeat("other", {"running": [a, b]}, T0 + 60, LEASE) == set()
    assert sorted(store.reclaim_expired(T0 + 200)) == [a, b]
    assert [w["id"] for w in store.workers()] == ["other", "w"]


def test_reclaimed_job_goes_to_another_worker_and_the_late_result_never_wins(store):
    [job_id] = add(store)
    claim(store, "first")
    assert store.reclaim_expired(T0 + LEASE - 1) == []
    assert store.reclaim_expired(T0 + LEASE + 1) == [job_id]
    job = store.job(job_id)
    assert job["status"] == "pending" and "lease expired on worker first" in job["error"]
    assert job["attempts"][0]["outcome"] == "reclaimed"
    assert store.job_progress(job_id, "first", 1, {"p": 1}, T0 + 62, LEASE) == "gone"

    second = claim(store, "second", now=T0 + 70)
    assert second["attempt_count"] == 2
    assert store.job_result(job_id, "first", 1, {"v": "late"}, None, T0 + 71) == "late"
    assert store.job(job_id)["status"] == "running"
    assert store.job_result(job_id, "second", 2, {"v": "winner"}, None, T0 + 72) == "accepted"
    assert store.job_result(job_id, "first", 1, {"v": "again"}, None, T0 + 73) == "duplicate"
    job = store.job(job_id)
    assert (job["status"], job["claimed_by"], job["result"]) == ("succeeded", "second", {"v": "winner"})
    assert [(a["worker_id"], a["outcome"], a["result"]) for a in job["attempts"]] == [
        ("first", "late", {"v": "late"}), ("second", "succeeded", {"v": "winner"})]
    first = job["attempts"][0]
    assert (first["ended_at"], first["reported_at"]) == (T0 + LEASE + 1, T0 + 71), \
        "when the lease ran out and when the late report came are both kept"


def test_late_result_after_the_winner_is_kept_for_review_only(store):
    [job_id] = add(store)
    claim(store, "first")
    store.reclaim_expired(T0 + LEASE + 1)
    claim(store, "second", now=T0 + 70)
    assert store.job_result(job_id, "second", 2, {"v": "winner"}, None, T0 + 72) == "accepted"
    assert store.job_result(job_id, "first", 1, None, "it broke late", T0 + 80) == "late"
    job = store.job(job_id)
    assert (job["status"], job["result"], job["error"]) == ("succeeded", {"v": "winner"}, None)
    first = job["attempts"][0]
    assert first["outcome"] == "late-failed"
    assert first["error"].startswith("lease expired on worker first") and first["error"].endswith("it broke late")


def test_failing_job_retries_then_ends_failed_with_every_error_kept(store):
    [job_id] = add(store)
    outcomes = []
    for attempt in (1, 2, 3):
        job = claim(store, f"w{attempt}", now=T0 + attempt)
        assert job["attempt_count"] == attempt
        outcomes.append(store.job_result(job_id, f"w{attempt}", attempt, None, f"crash {attempt}", T0 + attempt))
    assert outcomes == ["retry", "retry", "failed"]
    assert claim(store, "w4", now=T0 + 10) is None
    job = store.job(job_id)
    assert (job["status"], job["error"], job["review"]) == ("failed", "crash 3", True)
    assert [(a["outcome"], a["error"]) for a in job["attempts"]] == [
        ("failed", "crash 1"), ("failed", "crash 2"), ("failed", "crash 3")]


def test_reclaim_of_the_last_attempt_fails_the_job(store):
    [job_id] = add(store, max_attempts=2)
    for attempt in (1, 2):
        claim(store, "w", now=T0 + 100 * attempt)
        assert store.reclaim_expired(T0 + 100 * attempt + LEASE + 1) == [job_id]
    job = store.job(job_id)
    assert (job["status"], job["review"]) == ("failed", True)
    assert [a["outcome"] for a in job["attempts"]] == ["reclaimed", "reclaimed"]
    assert store.reclaim_expired(T0 + 10_000) == []


def test_released_attempt_does_not_count(store):
    [job_id] = add(store, max_attempts=1)
    claim(store, "w")
    assert store.job_result(job_id, "w", 1, None, "worker stopped", T0 + 1, release=True) == "released"
    job = store.job(job_id)
    assert (job["status"], job["lease_until"]) == ("pending", None)
    again = claim(store, "other", now=T0 + 2)
    assert again["attempt_count"] == 2
    assert store.job_result(job_id, "other", 2, {"v": 1}, None, T0 + 3) == "accepted"
    assert [a["outcome"] for a in store.job(job_id)["attempts"]] == ["released", "succeeded"]


def test_cancel_pending_and_running_jobs(store):
    done, running, pending = add(store, 3)
    claim(store, "w")
    claim(store, "w")
    assert store.job_result(done, "w", 1, {"v": 1}, None, T0) == "accepted"
    assert store.cancel_job(pending, T0 + 1) == "cancelled"
    assert claim(store, "w") is None
    assert store.cancel_job(running, T0 + 1) == "cancelled"
    assert store.job_progress(running, "w", 1, {"p": 1}, T0 + 2, LEASE) == "gone"
    assert store.job_result(running, "w", 1, {"v": 2}, None, T0 + 3) == "late"
    assert store.job(running)["status"] == "cancelled"
    assert store.reclaim_expired(T0 + 10_000) == []
    assert store.cancel_job(done, T0 + 4) == "succeeded"
    assert store.cancel_job(running, T0 + 4) == "cancelled"
    assert store.cancel_job(10_000, T0) == "unknown"
    assert store.queue_counts() == {"pending": 0, "running": 0, "succeeded": 1, "failed": 0, "cancelled": 2}
