"""The storage contract: what every backend behind hub/store/interface.py must do.

One suite, run once per backend (the `store` and `store_url` fixtures in conftest.py,
listed in tests/store_backends.py: SQLite always, PostgreSQL with FORGE_TEST_PG_URL).
It talks to the interface only, never SQL, so a new backend passes it unchanged or is not
done. Time is passed in (`now`), so leases and reclaims need no sleeping. SQLite-only
checks (WAL, checkpoints, the file) live in test_store_sqlite.py.
"""
from __future__ import annotations

import asyncio
import collections
import json
import threading
import time

from hub.store import BatchSpec, JobSpec, Push, Retention, Store, open_store

T0 = 1_000_000.0
LEASE = 60.0
MINUTE = 60.0


def sample(ts: float, cpu: float = 10.0, **extra) -> dict:
    s = {"schema_version": 1, "ts": ts, "cpu": {"percent": cpu, "per_core": [cpu, cpu]},
         "memory": {"percent": 40.0, "total": 100, "used": 40, "available": 60}}
    s.update(extra)
    return s


async def ingest(store: Store, node_id: str, samples: list[dict], now: float | None = None,
                 identity: dict | None = None):
    return await store.samples.ingest(Push(node_id=node_id, identity=identity or {}, samples=samples,
                                           now=now if now is not None else time.time()))


async def add(store: Store, n: int = 1, type_: str = "sleep", **spec) -> list[int]:
    max_attempts = spec.pop("max_attempts", 3)
    jobs = [JobSpec(type=type_, payload={"seconds": 0, "n": i}, max_attempts=max_attempts, **spec) for i in range(n)]
    return await store.jobs.add_jobs(jobs, now=T0)


async def claim(store: Store, worker: str, now: float = T0, types=("sleep",), cores: int = 1) -> dict | None:
    return await store.jobs.claim(worker, types=list(types), cores=cores, now=now, lease_s=LEASE)


async def result(store: Store, job_id: int, worker: str, attempt: int, res: dict | None, err: str | None,
                 now: float, release: bool = False) -> str:
    return await store.jobs.result(job_id, worker_id=worker, attempt=attempt, result=res, error=err, now=now,
                                   release=release)


async def progress(store: Store, job_id: int, worker: str, attempt: int, prog: dict | None, now: float) -> str:
    return await store.jobs.progress(job_id, worker_id=worker, attempt=attempt, progress=prog, now=now,
                                     lease_s=LEASE)


async def heartbeat(store: Store, worker: str, running: list[int], now: float) -> set[int]:
    return await store.jobs.heartbeat(worker, state={"running": running}, now=now, lease_s=LEASE)


# --- samples, nodes and tiers ------------------------------------------------------------
async def test_ingest_dedupes_on_node_and_timestamp_and_keeps_the_newest_as_latest(store):
    now = time.time()
    first = await ingest(store, "n", [sample(now - 2, 1.0), sample(now - 1, 2.0)], now, {"hostname": "box"})
    assert (first.accepted, first.duplicate, first.new_node) == (2, 0, True)
    again = await ingest(store, "n", [sample(now - 1, 99.0), sample(now - 3, 3.0)], now + 1)
    assert (again.accepted, again.duplicate, again.new_node) == (1, 1, False)
    raw = await store.samples.series("n", resolution="1s", points=10)
    assert [(s["ts"], s["cpu"]["percent"]) for s in raw] == [(now - 3, 3.0), (now - 2, 1.0), (now - 1, 2.0)]
    node = await store.nodes.node("n")
    assert node.identity == {"hostname": "box"}, "an empty identity keeps the one known"
    assert node.latest["ts"] == now - 1, "an older sample never replaces latest"
    assert (node.first_seen, node.last_seen) == (now, now + 1)
    assert [n.id for n in await store.nodes.nodes()] == ["n"]
    assert await store.nodes.node("other") is None


async def test_many_pushes_in_one_commit_each_get_their_own_result(store):
    now = time.time()
    results = await store.samples.ingest_many([
        Push(node_id="a", identity={}, samples=[sample(now)], now=now),
        Push(node_id="b", identity={}, samples=[sample(now), sample(now - 1)], now=now),
        Push(node_id="a", identity={}, samples=[sample(now)], now=now)])
    assert [(r.accepted, r.duplicate, r.new_node) for r in results] == [(1, 0, True), (2, 0, True), (0, 1, False)]
    concurrent = await asyncio.gather(*(ingest(store, f"c{i}", [sample(now - i)], now) for i in range(20)))
    assert all(r.accepted == 1 for r in concurrent)
    assert len(await store.nodes.nodes()) == 22


async def test_series_windows_and_recent_cpu(store):
    now = time.time()
    await ingest(store, "n", [sample(now - i, float(i)) for i in range(10)], now)
    picked = await store.samples.series("n", resolution="1s", points=3, since=now - 6, until=now - 2)
    assert [s["ts"] for s in picked] == [now - 4, now - 3, now - 2], "the newest `points` in the window, oldest first"
    assert await store.samples.recent_cpu("n", 3) == [2.0, 1.0, 0.0]
    assert await store.samples.series("none", resolution="1m", points=5) == []


async def test_series_json_is_series_as_json(store):
    """What the snapshot route sends: the same samples as `series`, for every tier and window."""
    now = (time.time() // 3600 - 1) * 3600 + 30 * MINUTE + 30
    base = (now // 60 - 5) * 60
    await ingest(store, "n", [sample(base + k, float(k), load=None if k % 3 else [1.0, 2.0, 3.0]) for k in range(0, 180, 7)],
                 now)
    await store.samples.roll_up(now)
    for query in (dict(resolution="1s", points=100), dict(resolution="1s", points=4, since=base + 20, until=base + 100),
                  dict(resolution="1m", points=10), dict(resolution="1m", points=1), dict(resolution="1h", points=5)):
        want = await store.samples.series("n", **query)
        assert want and json.loads(await store.samples.series_json("n", **query)) == want, query
        parts = await store.samples.series_json_parts("n", **query)
        assert b"".join(parts) == await store.samples.series_json("n", **query), query
    assert await store.samples.series_json("none", resolution="1s", points=5) == b"[]"


async def test_retention_prunes_old_raw_samples_only(store):
    now = time.time()
    await ingest(store, "n", [sample(now - 3 * 86400), sample(now - 100), sample(now)], now)
    removed = await store.samples.prune(now, Retention(raw_s=48 * 3600, minute_s=30 * 86400, hour_s=400 * 86400))
    assert removed["samples"] == 1
    assert [s["ts"] for s in await store.samples.series("n", resolution="1s", points=10)] == [now - 100, now]


async def test_rollups_average_numbers_and_skip_nulls(store):
    now = (time.time() // 3600 - 1) * 3600 + 30 * MINUTE + 30  # half past the last hour: both minutes in one hour
    base = (now // 60 - 5) * 60
    batch = [sample(base + 1, 10.0, load=None), sample(base + 2, 30.0, load=[1.0, 1.0, 1.0]),
             sample(base + 61, 50.0)]
    await ingest(store, "n", batch, now)
    await store.samples.roll_up(now)
    minutes = await store.samples.series("n", resolution="1m", points=10)
    assert [m["ts"] for m in minutes] == [base, base + 60]
    assert minutes[0]["cpu"]["percent"] == 20.0 and minutes[0]["load"] == [1.0, 1.0, 1.0]
    assert minutes[0]["cpu"]["per_core"] == [20.0, 20.0]
    [hour] = await store.samples.series("n", resolution="1h", points=10)
    assert hour["cpu"]["percent"] == 35.0


async def test_rollups_wait_for_the_minute_to_end_and_roll_each_minute_once(store):
    now = (time.time() // 3600) * 3600 + 30 * MINUTE + 30  # half past, mid-minute
    current = now // 60 * 60
    await ingest(store, "n", [sample(current - 60 + 5, 10.0), sample(current + 5, 20.0)], now)
    assert await store.samples.roll_up(now) == 1
    assert [m["ts"] for m in await store.samples.series("n", resolution="1m", points=10)] == [current - 60]
    assert await store.samples.roll_up(now) == 0, "nothing queued twice"
    assert await store.samples.pending_rollups() == 1, "the current minute waits"
    assert await store.samples.roll_up(now + 60) == 1
    assert await store.samples.pending_rollups() == 0
    minutes = await store.samples.series("n", resolution="1m", points=10)
    assert [(m["ts"], m["cpu"]["percent"]) for m in minutes] == [(current - 60, 10.0), (current, 20.0)]


async def test_late_samples_for_a_finished_minute_roll_it_up_again(store):
    minute = (time.time() // 60 - 10) * 60
    await ingest(store, "n", [sample(minute + 1, 10.0)])
    await store.samples.roll_up(time.time())
    await ingest(store, "n", [sample(minute + 2, 30.0)])
    await store.samples.roll_up(time.time())
    [m] = await store.samples.series("n", resolution="1m", points=10)
    assert m["cpu"]["percent"] == 20.0
    [h] = await store.samples.series("n", resolution="1h", points=10)
    assert h["cpu"]["percent"] == 20.0


async def test_what_is_queued_for_rollup_survives_closing_without_rolling_up(store_url):
    minute = (time.time() // 60 - 3) * 60
    first = await open_store(store_url)
    await ingest(first, "n", [sample(minute + 1, 4.0), sample(minute + 61, 8.0)])
    await first.close()  # as a crash would: no rollup ran
    second = await open_store(store_url)
    try:
        assert await second.samples.pending_rollups() == 2
        assert await second.samples.roll_up(time.time()) == 2
        minutes = await second.samples.series("n", resolution="1m", points=10)
        assert [(m["ts"], m["cpu"]["percent"]) for m in minutes] == [(minute, 4.0), (minute + 60, 8.0)]
        assert await second.samples.pending_rollups() == 0
    finally:
        await second.close()


# --- tokens and join codes -------------------------------------------------------------------
async def test_tokens_are_found_by_hash_replaced_touched_and_revoked(store):
    await store.nodes.put_token("a", token_hash="h1", now=T0)
    await store.nodes.put_token("b", token_hash="h2", now=T0)
    match = await store.nodes.token_node("h1")
    assert (match.node_id, match.token_hash) == ("a", "h1")
    await store.nodes.put_token("a", token_hash="h3", now=T0 + 1)
    assert await store.nodes.token_node("h1") is None, "a new token replaces the old one"
    await store.nodes.touch_tokens({"b": T0 + 5})
    assert await store.nodes.revoke_token("a", T0 + 6) is True
    assert await store.nodes.revoke_token("a", T0 + 7) is False
    assert await store.nodes.token_node("h3") is None
    rows = {t.node_id: t for t in await store.nodes.list_tokens()}
    assert [t.node_id for t in await store.nodes.list_tokens()] == ["a", "b"]
    assert (rows["a"].revoked, rows["a"].created_at) == (True, T0 + 1)
    assert (rows["b"].revoked, rows["b"].last_used) == (False, T0 + 5)
    await store.nodes.put_token("a", token_hash="h4", now=T0 + 8)
    assert (await store.nodes.token_node("h4")).node_id == "a", "a new token un-revokes the node"


async def test_join_codes_are_used_once_expire_and_never_take_another_nodes_name(store):
    await store.nodes.put_join_code("c1", now=T0, expires_at=T0 + 900)
    await store.nodes.put_join_code("c2", now=T0, expires_at=T0 + 900)
    await store.nodes.put_join_code("old", now=T0, expires_at=T0 + 10)
    first = await store.nodes.redeem_join_code("c1", node_id="box", token_hash="t1", now=T0 + 1)
    assert (first.outcome, first.node_id) == ("ok", "box")
    assert (await store.nodes.token_node("t1")).node_id == "box"
    assert (await store.nodes.redeem_join_code("c1", node_id="box", token_hash="t9", now=T0 + 2)).outcome == "used"
    assert (await store.nodes.redeem_join_code("nope", node_id="box", token_hash="t9", now=T0)).outcome == "unknown"
    assert (await store.nodes.redeem_join_code("old", node_id="x", token_hash="t9", now=T0 + 11)).outcome == "expired"
    assert await store.nodes.token_node("t9") is None
    second = await store.nodes.redeem_join_code("c2", node_id="box", token_hash="t2", now=T0 + 3)
    assert (second.outcome, second.node_id) == ("ok", "box-2")
    assert (await store.nodes.token_node("t1")).node_id == "box", "the first machine keeps its token"


async def test_concurrent_redeems_of_one_code_succeed_once(store_url):
    setup = await open_store(store_url)
    await setup.nodes.put_join_code("c", now=T0, expires_at=T0 + 900)
    others = [await open_store(store_url) for _ in range(3)]
    try:
        outcomes = await asyncio.gather(*(s.nodes.redeem_join_code("c", node_id=f"m{i}", token_hash=f"t{i}", now=T0)
                                          for i, s in enumerate([setup, *others])))
        assert sorted(o.outcome for o in outcomes) == ["ok", "used", "used", "used"]
    finally:
        for s in [setup, *others]:
            await s.close()


# --- the job queue ----------------------------------------------------------------------------
def test_concurrent_claims_hand_out_each_job_exactly_once(store_url):
    async def setup_jobs() -> tuple[Store, list[int]]:
        s = await open_store(store_url)
        return s, await add(s, 300)
    loop = asyncio.new_event_loop()
    setup, ids = loop.run_until_complete(setup_jobs())
    claimed: dict[str, list[int]] = collections.defaultdict(list)
    start = threading.Barrier(8)

    async def work(name: str) -> None:
        own = await open_store(store_url)  # a store of its own, as another hub would have
        start.wait()
        while (job := await claim(own, name)) is not None:
            claimed[name].append(job["id"])
            assert await result(own, job["id"], name, 1, {"ok": True}, None, T0 + 1) == "accepted"
        await own.close()

    threads = [threading.Thread(target=asyncio.run, args=(work(f"w{i}"),)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    every_claim = [j for js in claimed.values() for j in js]
    assert sorted(every_claim) == ids
    assert len([w for w in claimed if claimed[w]]) > 1
    assert loop.run_until_complete(setup.jobs.queue_counts())["succeeded"] == 300
    jobs = [loop.run_until_complete(setup.jobs.job(i)) for i in ids]
    assert [j["id"] for j in jobs if len(j["attempts"]) != 1] == []
    loop.run_until_complete(setup.close())
    loop.close()


async def test_claims_follow_priority_then_age(store):
    low, high, mid, high2 = [(await store.jobs.add_jobs([JobSpec(type="sleep", payload={}, max_attempts=3, priority=p)],
                                                        now=T0))[0] for p in (0, 5, 1, 5)]
    assert [(await claim(store, "w"))["id"] for _ in range(4)] == [high, high2, mid, low]
    assert await claim(store, "w") is None


async def test_claims_respect_offered_types_and_cores(store):
    [big] = await add(store, cores=4)
    [other] = await add(store, type_="jobshop")
    assert await claim(store, "w", cores=2) is None
    assert await claim(store, "w", types=[]) is None
    assert (await claim(store, "w", types=["sleep", "jobshop"], cores=2))["id"] == other
    job = await claim(store, "w", cores=4)
    assert job["id"] == big and job["status"] == "running" and job["claimed_by"] == "w"
    assert job["attempt_count"] == 1 and job["lease_until"] == T0 + LEASE
    assert job["payload"] == {"seconds": 0, "n": 0}


async def test_wait_claimable_wakes_on_new_jobs_and_times_out_otherwise(store):
    assert await store.jobs.wait_claimable(0.05) is False
    waiter = asyncio.create_task(store.jobs.wait_claimable(10))
    await asyncio.sleep(0.05)
    await add(store)
    assert await asyncio.wait_for(waiter, 5) is True


async def test_batches_keep_their_label_spec_and_jobs(store):
    ids = await store.jobs.add_jobs([JobSpec(type="sleep", payload={"n": i}, max_attempts=1, label=f"j{i}")
                                     for i in range(3)],
                                    now=T0, batch=BatchSpec(id="b1", label="sweep", spec={"grid": {"n": [0, 1, 2]}}))
    batch = await store.jobs.batch("b1")
    assert (batch.id, batch.label, batch.spec, batch.created_at) == ("b1", "sweep", {"grid": {"n": [0, 1, 2]}}, T0)
    page = await store.jobs.jobs(batch_id="b1")
    assert page.total == 3 and sorted(j["id"] for j in page.jobs) == ids
    assert all(j["batch_id"] == "b1" and "payload" not in j for j in page.jobs)
    assert await store.jobs.batch("b2") is None


async def test_job_lists_filter_page_and_summarise_results(store):
    a, b, c = await add(store, 3)
    await add(store, type_="jobshop")
    await claim(store, "w")
    await result(store, a, "w", 1, {"objective": 3.5, "schedule": [[1, 2]]}, None, T0 + 1)
    page = await store.jobs.jobs(status="succeeded")
    assert page.total == 1 and page.jobs[0]["result"] == {"objective": 3.5}, "list views keep scalar fields only"
    full = await store.jobs.jobs(status="succeeded", with_result=True)
    assert full.jobs[0]["result"]["schedule"] == [[1, 2]] and full.jobs[0]["payload"] == {"seconds": 0, "n": 0}
    assert (await store.jobs.jobs(type_="jobshop")).total == 1
    assert (await store.jobs.jobs(node="w")).total == 1
    newest_first = await store.jobs.jobs(limit=2, offset=1)
    assert newest_first.total == 4 and [j["id"] for j in newest_first.jobs] == [c, b]
    assert await store.jobs.job_counts_by_node() == {"w": {"running": 0, "done": 1, "failed": 0}}


async def test_result_is_idempotent_per_job_and_attempt(store):
    [job_id] = await add(store)
    await claim(store, "w")
    assert await result(store, job_id, "w", 1, {"v": 1}, None, T0 + 5) == "accepted"
    assert await result(store, job_id, "w", 1, {"v": 2}, None, T0 + 6) == "duplicate"
    assert await result(store, job_id, "w", 1, None, "boom", T0 + 7) == "duplicate"
    job = await store.jobs.job(job_id)
    assert (job["status"], job["result"], job["finished_at"]) == ("succeeded", {"v": 1}, T0 + 5)
    assert [(a["outcome"], a["result"]) for a in job["attempts"]] == [("succeeded", {"v": 1})]


async def test_results_from_other_workers_or_attempts_are_unknown(store):
    [job_id] = await add(store)
    await claim(store, "w")
    assert await result(store, job_id, "intruder", 1, {"v": 1}, None, T0) == "unknown"
    assert await result(store, job_id, "w", 2, {"v": 1}, None, T0) == "unknown"
    assert await result(store, job_id + 1, "w", 1, {"v": 1}, None, T0) == "unknown"
    assert await progress(store, job_id, "intruder", 1, {"p": 1}, T0) == "gone"
    assert await progress(store, job_id + 1, "w", 1, {"p": 1}, T0) == "unknown"
    job = await store.jobs.job(job_id)
    assert (job["status"], job["claimed_by"], job["result"], job["progress"]) == ("running", "w", None, None)


async def test_progress_and_heartbeat_renew_the_lease(store):
    a, b = await add(store, 2)
    await claim(store, "w")
    await claim(store, "w")
    assert await progress(store, a, "w", 1, {"percent": 50}, T0 + 50) == "ok"
    assert await heartbeat(store, "w", [b], T0 + 55) == {b}
    assert await store.jobs.reclaim_expired(T0 + LEASE + 1) == []
    assert (await store.jobs.job(a))["progress"] == {"percent": 50}
    assert await heartbeat(store, "other", [a, b], T0 + 60) == set()
    assert sorted(await store.jobs.reclaim_expired(T0 + 200)) == [a, b]
    assert [w.id for w in await store.jobs.workers()] == ["other", "w"]


async def test_workers_keep_their_last_heartbeat_and_state(store):
    await store.jobs.heartbeat("w", state={"running": [], "cores": 4}, now=T0, lease_s=LEASE)
    await store.jobs.heartbeat("w", state={"running": [], "cores": 8}, now=T0 + 5, lease_s=LEASE)
    [w] = await store.jobs.workers()
    assert (w.id, w.last_heartbeat, w.state) == ("w", T0 + 5, {"running": [], "cores": 8})


async def test_reclaimed_job_goes_to_another_worker_and_the_late_result_never_wins(store):
    [job_id] = await add(store)
    await claim(store, "first")
    assert await store.jobs.reclaim_expired(T0 + LEASE - 1) == []
    assert await store.jobs.reclaim_expired(T0 + LEASE + 1) == [job_id]
    job = await store.jobs.job(job_id)
    assert job["status"] == "pending" and "lease expired on worker first" in job["error"]
    assert job["attempts"][0]["outcome"] == "reclaimed"
    assert await progress(store, job_id, "first", 1, {"p": 1}, T0 + 62) == "gone"

    second = await claim(store, "second", now=T0 + 70)
    assert second["attempt_count"] == 2
    assert await result(store, job_id, "first", 1, {"v": "late"}, None, T0 + 71) == "late"
    assert (await store.jobs.job(job_id))["status"] == "running"
    assert await result(store, job_id, "second", 2, {"v": "winner"}, None, T0 + 72) == "accepted"
    assert await result(store, job_id, "first", 1, {"v": "again"}, None, T0 + 73) == "duplicate"
    job = await store.jobs.job(job_id)
    assert (job["status"], job["claimed_by"], job["result"]) == ("succeeded", "second", {"v": "winner"})
    assert [(a["worker_id"], a["outcome"], a["result"]) for a in job["attempts"]] == [
        ("first", "late", {"v": "late"}), ("second", "succeeded", {"v": "winner"})]
    first = job["attempts"][0]
    assert (first["ended_at"], first["reported_at"]) == (T0 + LEASE + 1, T0 + 71), \
        "when the lease ran out and when the late report came are both kept"


async def test_late_result_after_the_winner_is_kept_for_review_only(store):
    [job_id] = await add(store)
    await claim(store, "first")
    await store.jobs.reclaim_expired(T0 + LEASE + 1)
    await claim(store, "second", now=T0 + 70)
    assert await result(store, job_id, "second", 2, {"v": "winner"}, None, T0 + 72) == "accepted"
    assert await result(store, job_id, "first", 1, None, "it broke late", T0 + 80) == "late"
    job = await store.jobs.job(job_id)
    assert (job["status"], job["result"], job["error"]) == ("succeeded", {"v": "winner"}, None)
    first = job["attempts"][0]
    assert first["outcome"] == "late-failed"
    assert first["error"].startswith("lease expired on worker first") and first["error"].endswith("it broke late")


async def test_failing_job_retries_then_ends_failed_with_every_error_kept(store):
    [job_id] = await add(store)
    outcomes = []
    for attempt in (1, 2, 3):
        job = await claim(store, f"w{attempt}", now=T0 + attempt)
        assert job["attempt_count"] == attempt
        outcomes.append(await result(store, job_id, f"w{attempt}", attempt, None, f"crash {attempt}", T0 + attempt))
    assert outcomes == ["retry", "retry", "failed"]
    assert await claim(store, "w4", now=T0 + 10) is None
    job = await store.jobs.job(job_id)
    assert (job["status"], job["error"], job["review"]) == ("failed", "crash 3", True)
    assert [(a["outcome"], a["error"]) for a in job["attempts"]] == [
        ("failed", "crash 1"), ("failed", "crash 2"), ("failed", "crash 3")]


async def test_reclaim_of_the_last_attempt_fails_the_job(store):
    [job_id] = await add(store, max_attempts=2)
    for attempt in (1, 2):
        await claim(store, "w", now=T0 + 100 * attempt)
        assert await store.jobs.reclaim_expired(T0 + 100 * attempt + LEASE + 1) == [job_id]
    job = await store.jobs.job(job_id)
    assert (job["status"], job["review"]) == ("failed", True)
    assert [a["outcome"] for a in job["attempts"]] == ["reclaimed", "reclaimed"]
    assert await store.jobs.reclaim_expired(T0 + 10_000) == []


async def test_released_attempt_does_not_count(store):
    [job_id] = await add(store, max_attempts=1)
    await claim(store, "w")
    assert await result(store, job_id, "w", 1, None, "worker stopped", T0 + 1, release=True) == "released"
    job = await store.jobs.job(job_id)
    assert (job["status"], job["lease_until"]) == ("pending", None)
    again = await claim(store, "other", now=T0 + 2)
    assert again["attempt_count"] == 2
    assert await result(store, job_id, "other", 2, {"v": 1}, None, T0 + 3) == "accepted"
    assert [a["outcome"] for a in (await store.jobs.job(job_id))["attempts"]] == ["released", "succeeded"]


async def test_cancel_pending_and_running_jobs(store):
    done, running, pending = await add(store, 3)
    await claim(store, "w")
    await claim(store, "w")
    assert await result(store, done, "w", 1, {"v": 1}, None, T0) == "accepted"
    assert await store.jobs.cancel(pending, T0 + 1) == "cancelled"
    assert await claim(store, "w") is None
    assert await store.jobs.cancel(running, T0 + 1) == "cancelled"
    assert await progress(store, running, "w", 1, {"p": 1}, T0 + 2) == "gone"
    assert await result(store, running, "w", 1, {"v": 2}, None, T0 + 3) == "late"
    assert (await store.jobs.job(running))["status"] == "cancelled"
    assert await store.jobs.reclaim_expired(T0 + 10_000) == []
    assert await store.jobs.cancel(done, T0 + 4) == "succeeded"
    assert await store.jobs.cancel(running, T0 + 4) == "cancelled"
    assert await store.jobs.cancel(10_000, T0) == "unknown"
    assert await store.jobs.queue_counts() == {"pending": 0, "running": 0, "succeeded": 1, "failed": 0, "cancelled": 2}
    assert await heartbeat(store, "w", [running], T0 + 5) == set(), "a cancelled job's worker is told to stop"


async def test_cancel_batch_cancels_what_has_not_ended(store):
    done, running, pending = await store.jobs.add_jobs(
        [JobSpec(type="sleep", payload={"seconds": 0, "n": i}, max_attempts=3) for i in range(3)], now=T0,
        batch=BatchSpec(id="b1", label="sweep"))
    [other] = await add(store)
    await claim(store, "w")
    await claim(store, "w")
    assert await result(store, done, "w", 1, {"v": 1}, None, T0 + 1) == "accepted"
    assert await store.jobs.cancel_batch("b1", T0 + 2) == [running, pending]
    statuses = {j["id"]: j["status"] for j in (await store.jobs.jobs(limit=10)).jobs}
    assert statuses == {done: "succeeded", running: "cancelled", pending: "cancelled", other: "pending"}
    assert (await store.jobs.job(pending))["finished_at"] == T0 + 2
    assert await heartbeat(store, "w", [running], T0 + 3) == set(), "a cancelled job's worker is told to stop"
    assert await result(store, running, "w", 1, {"v": 2}, None, T0 + 4) == "late"
    assert await store.jobs.cancel_batch("b1", T0 + 5) == []
    assert await store.jobs.cancel_batch("nope", T0 + 5) is None
    assert (await claim(store, "w2", now=T0 + 6))["id"] == other


async def test_maintain_can_run_at_any_time(store):
    await ingest(store, "n", [sample(time.time())])
    await store.maintain(time.time())
    await store.maintain(time.time())
    assert len(await store.samples.series("n", resolution="1s", points=5)) == 1
