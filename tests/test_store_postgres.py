"""What only the PostgreSQL backend does: several stores (as several hubs would open) on one
database hear one another, share the background work, survive a database restart, and
say in one line why they cannot open. A real server (tests/pg_server.py)."""
from __future__ import annotations

import asyncio
import time

import psycopg
import pytest

import pg_server
import store_backends
from hub.alerts.engine import Engine
from hub.alerts.notify import Notifier
from hub.alerts.schema import RuleIn
from hub.alerts.sealing import Sealer
from hub.alerts.service import Alerts
from hub.store import JobSpec, Push, Retention, StoreUrlError, open_store
from hub.store.postgresql import connect, partitions

T0 = 1_800_000_000.0

pytestmark = pytest.mark.skipif(not store_backends.PG_ON, reason="no PostgreSQL (apt-get install postgresql)")


@pytest.fixture
def pg_url(tmp_path):
    with store_backends.fresh_url("postgresql", tmp_path) as url:
        yield url


@pytest.fixture
async def two(pg_url):
    a, b = await open_store(pg_url), await open_store(pg_url)
    yield a, b
    await a.close()
    await b.close()


def sample(ts: float, cpu: float = 10.0, **extra) -> dict:
    return {"ts": ts, "cpu": {"percent": cpu}, **extra}


async def news_until(store, predicate, timeout: float = 5.0):
    """Peer news gathered until `predicate(pushes, news)` holds."""
    pushes, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        news = await store.peer_news(0.5)
        pushes += news.pushes
        if predicate(pushes, news):
            return pushes, news
    raise AssertionError(f"no such news in {timeout} s; got pushes of {[p.node_id for p in pushes]}")


async def test_a_job_added_on_one_store_wakes_claimers_on_another(two):
    a, b = two
    waiting = asyncio.create_task(b.jobs.wait_claimable(10))
    await asyncio.sleep(0.2)
    await a.jobs.add_jobs([JobSpec(type="sleep", payload={}, max_attempts=1)], now=time.time())
    assert await waiting, "the claimer on the other store slept through the new job"
    job = await b.jobs.claim("w", types=["sleep"], cores=1, now=time.time(), lease_s=60)
    assert job is not None


async def test_a_retry_on_one_store_wakes_claimers_on_another(two):
    a, b = two
    [job_id] = await a.jobs.add_jobs([JobSpec(type="sleep", payload={}, max_attempts=2)], now=time.time())
    job = await a.jobs.claim("w", types=["sleep"], cores=1, now=time.time(), lease_s=60)
    waiting = asyncio.create_task(b.jobs.wait_claimable(10))
    await asyncio.sleep(0.2)
    assert await a.jobs.result(job_id, worker_id="w", attempt=job["attempt_count"], result=None, error="boom",
                               now=time.time()) == "retry"
    assert await waiting


async def test_pushes_stored_through_one_store_are_news_on_the_other_only(two):
    a, b = two
    now = time.time()
    await a.samples.ingest(Push(node_id="small", identity={"hostname": "s"}, samples=[sample(now)], now=now))
    big = [sample(now - i, float(i), blob="x" * 500) for i in range(30)]  # past NOTIFY's 8000 bytes
    await a.samples.ingest(Push(node_id="big", identity={"hostname": "b"}, samples=big, now=now))
    pushes, _ = await news_until(b, lambda ps, _: {"small", "big"} <= {p.node_id for p in ps})
    by_node = {p.node_id: p for p in pushes}
    assert by_node["small"].identity == {"hostname": "s"} and by_node["small"].samples == [sample(now)]
    assert sorted(s["ts"] for s in by_node["big"].samples) == sorted(s["ts"] for s in big), \
        "a push too big to announce is read back from the database"
    assert (await a.peer_news(0.3)).pushes == [], "a store does not hear its own pushes"


async def test_job_and_token_changes_are_news_on_the_other_store(two):
    a, b = two
    await a.jobs.add_jobs([JobSpec(type="sleep", payload={}, max_attempts=1)], now=time.time())
    await a.jobs.claim("w", types=["sleep"], cores=1, now=time.time(), lease_s=60)
    await news_until(b, lambda _, n: n.jobs_changed)
    await a.nodes.put_token("n", token_hash="h", now=time.time())
    await a.nodes.revoke_token("n", time.time())
    await news_until(b, lambda _, n: n.tokens_changed)


async def test_alert_rule_and_maintenance_changes_are_news_on_the_other_store_only(two):
    a, b = two
    rule = await a.alerts.add_rule(RuleIn(name="hot", metric="cpu", threshold=90), T0)
    await news_until(b, lambda _, n: n.alerts_changed)
    await a.alerts.set_maintenance("n1", T0 + 3600, T0)
    await news_until(b, lambda _, n: n.alerts_changed)
    await a.alerts.delete_rule(rule.id, T0)
    await news_until(b, lambda _, n: n.alerts_changed)
    assert not (await a.peer_news(0.5)).alerts_changed, "a store is told of its own change"


async def test_nodes_watched_through_one_store_are_news_on_the_other(two):
    a, b = two
    await a.announce_watching(["n1", "n2"])
    await a.announce_watching([f"node-{i:04d}" for i in range(1000)])  # more than one notification holds
    seen: set[str] = set()
    deadline = time.monotonic() + 10
    while len(seen) < 1002 and time.monotonic() < deadline:  # the news may come in several calls
        seen |= (await b.peer_news(0.5)).watched
    assert {"n1", "n2", "node-0000", "node-0999"} <= seen and len(seen) == 1002


async def test_background_work_runs_on_one_store_at_a_time_and_moves_on_when_its_holder_dies(pg_url, two):
    a, b = two
    minute = (time.time() // 60 - 3) * 60
    await a.samples.ingest(Push(node_id="n", identity={}, samples=[sample(minute + 1)], now=time.time()))
    [job_id] = await a.jobs.add_jobs([JobSpec(type="sleep", payload={}, max_attempts=3)], now=time.time())
    await a.jobs.claim("w", types=["sleep"], cores=1, now=time.time(), lease_s=1)
    holder = await psycopg.AsyncConnection.connect(pg_url, autocommit=True)  # a hub mid-round
    for key in (connect.LOCK_ROLLUP, connect.LOCK_RECLAIM, connect.LOCK_PRUNE):
        await holder.execute("SELECT pg_advisory_lock(%s)", (key,))
    later = time.time() + 10
    assert await b.samples.roll_up(later) == 0
    assert await b.samples.pending_rollups() == 1
    assert await b.jobs.reclaim_expired(later) == []
    assert (await b.samples.prune(later, Retention(raw_s=0, minute_s=0, hour_s=0)))["samples"] == 0
    await holder.close()  # the holding hub dies: its session, and its locks, go with it (once the server sees)
    assert await next_round(lambda: b.samples.roll_up(later)) == 1
    assert await next_round(lambda: b.jobs.reclaim_expired(later)) == [job_id]
    assert (await next_round(lambda: b.samples.prune(later, Retention(raw_s=0, minute_s=0, hour_s=0))))["samples"] == 1


async def test_one_hub_sends_alert_notifications_at_a_time_and_the_next_when_it_dies(pg_url, two):
    a, b = two
    async with a.alerts.sender_turn() as mine_a:
        async with b.alerts.sender_turn() as mine_b:
            assert (mine_a, mine_b) == (True, False)
    async with b.alerts.sender_turn() as mine_b:
        assert mine_b, "the turn stayed taken after its round"
    holder = await psycopg.AsyncConnection.connect(pg_url, autocommit=True)  # a hub mid-round
    await holder.execute("SELECT pg_advisory_lock(%s)", (connect.LOCK_ALERT_SEND,))
    async with b.alerts.sender_turn() as mine_b:
        assert not mine_b
    await holder.close()

    async def turn() -> bool:
        async with b.alerts.sender_turn() as mine:
            return mine
    assert await next_round(turn)


async def test_two_hubs_on_one_database_open_each_alert_once_and_send_each_notification_once(tmp_path, two):
    a, b = two
    for r in await a.alerts.rules():
        await a.alerts.delete_rule(r.id, T0)
    sealer = Sealer(tmp_path)
    ch = await a.alerts.add_channel("hook", sealer.seal("json://127.0.0.1:9/hook"), T0)
    await a.alerts.add_rule(RuleIn(name="hot", metric="cpu", threshold=90, for_s=0, channels=[ch.id]), T0)
    engines = [Engine(s.alerts, 60.0) for s in (a, b)]
    for eng in engines:
        await eng.load([])
    for t, cpu in ((T0, 99.0), (T0 + 200, 5.0)):  # fires, then (after the 60 s hold) resolves
        for eng in engines:  # every hub hears every push (its own, or a peer's news)
            eng.observe("n1", {}, sample(t, cpu), t)
            eng.observe("n1", {}, sample(t + 100, cpu), t + 100)
            eng.tick(t + 100)
        await asyncio.gather(*(eng.flush() for eng in engines))
        if cpu > 90:
            [alert] = await a.alerts.open_alerts()
            assert [eng.tracks[(alert.rule_id, "n1")].alert_id for eng in engines] == [alert.id, alert.id]
    assert await a.alerts.open_alerts() == []
    assert [x.state for x in await a.alerts.alerts(None, "n1", 10)] == ["resolved"]
    calls: list[str] = []

    def record(url: str, title: str, body: str, kind: str) -> None:
        calls.append(kind)
        time.sleep(0.2)  # a send takes a while: the other hub's round overlaps it

    notifiers = [Notifier(s.alerts, sealer, record, clock=lambda: T0 + 1000) for s in (a, b)]
    try:
        for _ in range(3):
            await asyncio.gather(*(n.send_due() for n in notifiers))
    finally:
        for n in notifiers:
            n.close()
    assert sorted(calls) == ["firing", "resolved"]
    assert await a.alerts.due(T0 + 1e6, 10) == []


async def test_rules_and_maintenance_changed_through_one_hub_reach_the_others_engine(tmp_path, two):
    a, b = two
    on_b = Alerts(b.alerts, Sealer(tmp_path), 60.0, "http://hub-b:3000", publish=lambda event: None)
    await on_b.engine.load([])
    rule = await a.alerts.add_rule(RuleIn(name="hot", metric="cpu", threshold=90), T0)
    await a.alerts.set_maintenance("n1", T0 + 3600, T0)
    assert rule.id not in on_b.engine.rules
    await on_b._sync()  # what its alert task does on peer news (and every SYNC_EVERY_S)
    assert on_b.engine.rules[rule.id].name == "hot"
    assert on_b.engine.maintenance == {"n1": T0 + 3600}
    await a.alerts.delete_rule(rule.id, T0)
    await on_b._sync()
    assert rule.id not in on_b.engine.rules


async def next_round(step, timeout: float = 10.0):
    """Run a background step round after round (0.2 s apart) until it does something."""
    deadline = time.monotonic() + timeout
    while not (done := await step()) or (isinstance(done, dict) and not any(done.values())):
        assert time.monotonic() < deadline, "no round did the work"
        await asyncio.sleep(0.2)
    return done


def where_samples_are(pg_url: str) -> dict[str, int]:
    with psycopg.connect(pg_url) as c:
        return dict(c.execute("SELECT tableoid::regclass::text, count(*) FROM samples GROUP BY 1").fetchall())


def day_tables(pg_url: str) -> set[str]:
    with psycopg.connect(pg_url) as c:
        return {r[0] for r in c.execute("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                                        "WHERE i.inhparent = 'samples'::regclass").fetchall()}


async def test_raw_samples_are_kept_by_day_and_retention_drops_whole_days(pg_url, two):
    a, b = two
    now = time.time()
    day = partitions.day_of(int(now * 1000))
    name = partitions.partition_name
    assert {name(d) for d in range(day, day + 3)} | {"samples_default"} == day_tables(pg_url)
    await a.samples.ingest(Push(node_id="n", identity={}, samples=[sample(now - 10 * 86400), sample(now - 1),
                                                                   sample(now), sample(now + 5 * 86400)], now=now))
    assert where_samples_are(pg_url) == {name(day): 2, "samples_default": 2}
    later = now + 5 * 86400
    await asyncio.gather(a.maintain(later), b.maintain(later))  # two hubs at once: each day made once
    assert {name(d) for d in range(day + 5, day + 8)} <= day_tables(pg_url)
    assert where_samples_are(pg_url) == {name(day): 2, name(day + 5): 1, "samples_default": 1}
    removed = await b.samples.prune(later, Retention(raw_s=2 * 86400, minute_s=30 * 86400, hour_s=400 * 86400))
    assert removed["samples"] == 3
    assert [s["ts"] for s in await a.samples.series("n", resolution="1s", points=10)] == [now + 5 * 86400]
    assert day_tables(pg_url) == {name(d) for d in range(day + 5, day + 8)} | {"samples_default"}


async def test_two_stores_opening_a_new_database_at_once_migrate_it_once(pg_url):
    stores = await asyncio.gather(*(open_store(pg_url) for _ in range(3)))
    for s in stores:
        await s.close()
    with psycopg.connect(pg_url) as c:
        rows = c.execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall()
    assert rows == [(v, name) for v, name, _ in connect.migrations()]


async def test_open_errors_say_in_one_line_what_is_wrong(pg_url):
    with socket_port() as port:
        with pytest.raises(StoreUrlError) as e:
            await open_store(f"postgresql://forge:secret@127.0.0.1:{port}/forge")
    msg = str(e.value)
    assert msg.startswith(f"cannot reach PostgreSQL at 127.0.0.1:{port}/forge as forge") and "\n" not in msg
    assert "secret" not in msg
    with pytest.raises(StoreUrlError, match="does not exist; create it first"):
        await open_store(pg_server.with_database(pg_url, "no_such_db"))
    with psycopg.connect(pg_url, autocommit=True) as c:
        c.execute("DROP ROLE IF EXISTS forge_weak")
        c.execute("CREATE ROLE forge_weak LOGIN")
        c.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    weak = pg_url.replace("postgresql://postgres@", "postgresql://forge_weak@")
    with pytest.raises(StoreUrlError, match="this user may not create the hub's tables") as e:
        await open_store(weak)
    assert "\n" not in str(e.value) and "permission denied for schema public)" in str(e.value)
    assert "LINE 1" not in str(e.value), "the message quotes the statement"


class socket_port:
    """A loopback port nothing listens on."""

    def __enter__(self) -> int:
        import socket
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        return self.sock.getsockname()[1]

    def __exit__(self, *exc) -> None:
        self.sock.close()


@pytest.mark.slow
async def test_stores_carry_on_after_the_database_restarts():
    """A server of its own, stopped and started under two open stores."""
    with socket_port() as port:
        pass
    server = await asyncio.to_thread(pg_server.PostgresServer, port)
    try:
        with pg_server.fresh_database(server.base_url) as url:
            a, b = await open_store(url), await open_store(url)
            now = time.time()
            await a.samples.ingest(Push(node_id="n", identity={}, samples=[sample(now - 1)], now=now))
            await asyncio.to_thread(server.stop, "fast")
            with pytest.raises(Exception):
                await a.samples.ingest(Push(node_id="n", identity={}, samples=[sample(now)], now=now))
            await asyncio.to_thread(server.start)
            deadline = time.monotonic() + 30
            while True:  # as an agent would: retry the push that failed
                try:
                    res = await a.samples.ingest(Push(node_id="n", identity={}, samples=[sample(now)], now=now))
                    break
                except Exception:
                    assert time.monotonic() < deadline, "the store never reconnected"
                    await asyncio.sleep(0.5)
            assert res.accepted == 1
            assert [s["ts"] for s in await b.samples.series("n", resolution="1s", points=10)] == [now - 1, now]
            await news_until(b, lambda ps, _: any(p.node_id == "n" for p in ps), timeout=30)
            waiting = asyncio.create_task(b.jobs.wait_claimable(20))
            await asyncio.sleep(0.2)
            await a.jobs.add_jobs([JobSpec(type="sleep", payload={}, max_attempts=1)], now=time.time())
            assert await waiting
            await a.close()
            await b.close()
    finally:
        await asyncio.to_thread(server.destroy)
