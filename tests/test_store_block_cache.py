"""Snapshot reads from compact history (issue 17): `series_json` (what the snapshot route
sends) gives the same samples as `series`, and the in-memory cache of finished blocks'
JSON (hub/store/sqlite/read_cache.py) keeps to its byte bound and never serves a block
that was rewritten by a late sample's merge or dropped by retention."""
from __future__ import annotations

import json
import random
import time

from hub.store import Push, Retention, open_store, sqlite_url
from hub.store.sqlite.read_cache import BlockCache
from test_hub_rollup import random_sample
from test_store_blocks import compacted, random_schema2, stored_rows


async def both(store, **query) -> list[dict]:
    """The samples of a query as `series` gives them, after checking `series_json` gives the same."""
    want = await store.samples.series("n", **query)
    assert json.loads(await store.samples.series_json("n", **query)) == want, query
    return want


def cache_of(store) -> BlockCache:
    return store.samples._t.db.read_cache


async def test_series_json_gives_what_series_gives_cold_and_warm(tmp_path):
    rng = random.Random(3)
    minute = (time.time() // 60 - 20) * 60
    samples = [random_schema2(rng, minute + 60 * m + s + rng.random() / 3)
               for m in range(5) for s in sorted(rng.sample(range(60), 20))]
    store = await compacted(tmp_path, samples)
    try:
        live = [random_schema2(rng, time.time() - 5 + k) for k in range(3)]  # the current minute, as rows
        await store.samples.ingest(Push(node_id="n", identity={}, samples=live, now=time.time()))
        queries = [dict(resolution="1s", points=1000), dict(resolution="1s", points=1),
                   dict(resolution="1s", points=30, since=minute + 70, until=minute + 190),
                   dict(resolution="1s", points=7, until=minute + 130.5), dict(resolution="1s", points=0)]
        for query in queries:
            await both(store, **query)  # cold: the cache fills
        assert len(cache_of(store)) == 5 and cache_of(store).misses >= 5
        hits = cache_of(store).hits
        for query in queries:
            await both(store, **query)  # warm
        assert cache_of(store).hits > hits
        assert await both(store, resolution="1s", points=1000) == samples + live
        assert await store.samples.series_json("n", resolution="1s", points=1, since=0, until=1) == b"[]"
    finally:
        await store.close()


async def test_tier_blocks_read_as_json_equal_and_a_late_sample_replaces_the_cached_block(tmp_path, monkeypatch):
    rng = random.Random(4)
    day = (time.time() // 86400 - 2) * 86400
    starts = [day + 3600 * h + 60 * m for h in (1, 2) for m in (0, 1, 5)]
    samples = [random_sample(rng, t + s, True) for t in starts for s in sorted(rng.sample(range(60), 10))]
    store = await open_store(sqlite_url(tmp_path / "forge.db"))
    try:
        await store.samples.ingest(Push(node_id="n", identity={}, samples=samples, now=time.time()))
        await store.samples.roll_up(time.time())
        for query in (dict(resolution="1m", points=100), dict(resolution="1m", points=2, every_s=300),
                      *(dict(resolution="1m", points=k) for k in range(1, 7)),  # a block taken whole or its newest part
                      dict(resolution="1m", points=100, since=starts[3]), dict(resolution="1m", points=100, until=starts[2]),
                      dict(resolution="1m", points=100, since=starts[1], until=starts[4]),
                      *(dict(resolution="1m", points=k, until=starts[4]) for k in (1, 2, 3, 4)),  # cut at its end
                      *(dict(resolution="1m", points=k, since=starts[1]) for k in (1, 4, 5)),  # cut at its start
                      dict(resolution="1h", points=100), dict(resolution="1h", points=1)):
            await both(store, **query)
        from hub.store.sqlite.db import Database
        merged_one_by_one = []
        real = Database._tier
        monkeypatch.setattr(Database, "_tier", lambda self, *a: merged_one_by_one.append(a) or real(self, *a))
        await store.samples.series_json("n", resolution="1m", points=5)
        assert merged_one_by_one == [], "blocks inside the range go into the answer whole"
        await store.samples.series_json("n", resolution="1m", points=5, since=starts[1])
        await store.samples.series_json("n", resolution="1m", points=5, until=starts[4])
        assert merged_one_by_one == [], "of a block cut by the range, its part inside goes in as one slice"
        await store.samples.series_json("n", resolution="1m", points=2, every_s=300)
        assert len(merged_one_by_one) == 1, "every= merges sample by sample"
        before = await both(store, resolution="1m", points=100)
        late = random_sample(rng, starts[4] + 59.5, True)
        await store.samples.ingest(Push(node_id="n", identity={}, samples=[late], now=time.time()))
        await store.samples.roll_up(time.time())  # averages the minute and hour again, merges them into their blocks
        after = await both(store, resolution="1m", points=100)
        assert after[4] != before[4] and after[:4] == before[:4], "the merged minute reads new, the others as before"
        assert await both(store, resolution="1s", points=1000) == sorted(samples + [late], key=lambda s: s["ts"])
    finally:
        await store.close()


async def test_a_merge_and_a_prune_drop_their_blocks_from_the_cache(tmp_path):
    minute = (time.time() // 60 - 10) * 60
    first = [{"schema_version": 1, "ts": minute + s, "cpu": {"percent": float(s)}} for s in range(0, 60, 2)]
    store = await compacted(tmp_path, first)
    try:
        cache = cache_of(store)
        assert await both(store, resolution="1s", points=100) == first
        assert len(cache) == 1 and cache.bytes > 0
        late = {"schema_version": 1, "ts": minute + 59.5, "cpu": {"percent": 100.0}}
        await store.samples.ingest(Push(node_id="n", identity={}, samples=[late], now=time.time()))
        await store.samples.roll_up(time.time())
        assert stored_rows(tmp_path / "forge.db") == (0, 1), "the late sample is in the block now"
        assert len(cache) == 0 and cache.bytes == 0, "the rewritten block's entry is gone"
        assert await both(store, resolution="1s", points=100) == first + [late]
        assert len(cache) == 1
        await store.samples.prune(time.time(), Retention(raw_s=60, minute_s=86400, hour_s=86400))
        assert stored_rows(tmp_path / "forge.db") == (0, 0)
        assert len(cache) == 0 and cache.bytes == 0, "the pruned block's entry is gone"
        assert await both(store, resolution="1s", points=100) == []
    finally:
        await store.close()


async def test_an_entry_left_by_a_read_that_raced_a_merge_is_never_served(tmp_path, monkeypatch):
    """A reader may put a block's entry just after the writer replaced the block (and dropped
    the key): entries match on the block's bytes, so the stale one is a miss, not an answer."""
    minute = (time.time() // 60 - 10) * 60
    first = [{"ts": minute + s, "cpu": {"percent": float(s)}} for s in range(0, 60, 3)]
    store = await compacted(tmp_path, first)
    try:
        await both(store, resolution="1s", points=100)
        monkeypatch.setattr(BlockCache, "drop", lambda self, keys: None)  # as if the put came after the drop
        late = {"ts": minute + 58.5, "cpu": {"percent": 100.0}}
        await store.samples.ingest(Push(node_id="n", identity={}, samples=[late], now=time.time()))
        await store.samples.roll_up(time.time())
        misses = cache_of(store).misses
        assert await both(store, resolution="1s", points=100) == first + [late]
        assert cache_of(store).misses == misses + 1
    finally:
        await store.close()


def test_the_cache_keeps_to_its_byte_bound_least_recently_used_first():
    cache = BlockCache(max_bytes=10_000)
    texts = [b'{"ts":%d,"x":1.5}' % k for k in range(40)]
    for bucket in range(12):
        cache.put(("raw", "n", bucket), b"block%d" % bucket, list(range(40)), texts)
        assert cache.get(("raw", "n", 0), b"block0") is not None, "read after every put: never the one evicted"
        assert cache.bytes <= cache.max_bytes
    kept = [b for b in range(12) if cache.get(("raw", "n", b), b"block%d" % b) is not None]
    assert 0 in kept and 1 not in kept and kept[-1] == 11 and 1 < len(kept) < 12
    assert cache.get(("raw", "n", 11), b"another block") is None, "an entry matches only its own bytes"
    cache.put(("1h", "n", 0), b"huge", [0], [b"x" * 20_000])
    assert cache.get(("1h", "n", 0), b"huge") is None and cache.bytes <= cache.max_bytes, "larger than the bound: not kept"
    cache.resize(cache.max_bytes // 2)
    assert len(cache) == 1 and cache.get(("raw", "n", 11), b"block11") is not None, "shrunk to the newest"
    cache.resize(10_000)
    cache.put(("raw", "n", 5), b"block5", list(range(40)), texts)
    cache.drop_through("raw", 10)
    assert [k[2] for k in cache._entries] == [11]
    assert cache.bytes == cache._entries[("raw", "n", 11)].size


async def test_with_the_cache_off_reads_are_the_same(tmp_path):
    rng = random.Random(9)
    minute = (time.time() // 60 - 10) * 60
    samples = [random_schema2(rng, minute + 2 * k + rng.random()) for k in range(60)]
    store = await compacted(tmp_path, samples)
    try:
        store.samples.set_read_cache(0)
        assert await both(store, resolution="1s", points=1000) == samples
        assert len(cache_of(store)) == 0
    finally:
        await store.close()


async def test_the_hub_sizes_the_cache_from_read_cache_mb(aiohttp_client, hub_config):
    from hub.app import create_app
    from hub.state import HUB
    client = await aiohttp_client(create_app(hub_config(read_cache_mb=1.5)))
    assert cache_of(client.server.app[HUB].store).max_bytes == int(1.5 * 2**20)


async def _days_of_hours(tmp_path, rng: random.Random) -> tuple:
    """A store whose node has two finished node-days of 1h averages, compacted into 1h blocks."""
    today = time.time() // 86400 * 86400
    starts = [today - 86400 * d + 3600 * h for d in (3, 2) for h in (0, 5, 23)]
    samples = [random_sample(rng, t + 60 * m + s, True) for t in starts for m in (0, 30) for s in (1, 20)]
    store = await open_store(sqlite_url(tmp_path / "forge.db"))
    await store.samples.ingest(Push(node_id="n", identity={}, samples=samples, now=time.time()))
    await store.samples.roll_up(time.time())
    return store, starts


def _hour_blocks(path) -> list[tuple]:
    import sqlite3
    with sqlite3.connect(path) as c:
        return c.execute("SELECT bucket_ms, data, texts FROM tier_blocks WHERE tier = '1h' ORDER BY bucket_ms").fetchall()


async def test_a_cold_read_of_hours_takes_the_blocks_stored_texts_and_decodes_nothing(tmp_path, monkeypatch):
    """Migration 009: a 1h block keeps its averages' JSON beside it, so a cold year of hours is
    365 decompressions, not 365 blocks decoded and 8,760 averages encoded; the answer is the same."""
    from hub.store.sqlite.db import Database
    store, _ = await _days_of_hours(tmp_path, random.Random(11))
    try:
        stored = _hour_blocks(tmp_path / "forge.db")
        assert len(stored) == 2 and all(texts for _, _, texts in stored), "each node-day block has its texts"
        decoded = await store.samples.series("n", resolution="1h", points=100)
        assert len(decoded) == 6
        store.samples.set_read_cache(0)  # every read below is cold
        monkeypatch.setattr(Database, "decode_block", lambda *a: (_ for _ in ()).throw(AssertionError("decoded")))
        for query in (dict(points=100), dict(points=4), dict(points=1), dict(points=100, since=decoded[2]["ts"])):
            want = decoded[2:] if "since" in query else decoded[-query["points"]:]
            assert json.loads(await store.samples.series_json("n", resolution="1h", **query)) == want, query
        with sqlite3_of(tmp_path) as c:
            assert c.execute("SELECT count(*) FROM tier_blocks WHERE tier = '1m' AND texts IS NOT NULL"
                             ).fetchone()[0] == 0, "the 1m tier keeps none (its bytes per raw sample)"
    finally:
        await store.close()


async def test_hour_blocks_from_before_migration_009_get_their_texts_in_the_background(tmp_path):
    store, _ = await _days_of_hours(tmp_path, random.Random(12))
    try:
        want = await store.samples.series("n", resolution="1h", points=100)
        with sqlite3_of(tmp_path) as c:
            c.execute("UPDATE tier_blocks SET texts = NULL")  # as an older hub wrote them
        store.samples._texts_filled = False
        store.samples.set_read_cache(0)
        assert json.loads(await store.samples.series_json("n", resolution="1h", points=100)) == want, \
            "without texts, blocks are decoded as before"
        db = store.samples._t.db
        stale = [(node, bucket, b"not the block any more", b"x") for node, bucket, _ in db.untexted_tier_blocks(10)]
        db.put_tier_texts(stale)
        assert all(texts is None for *_, texts in _hour_blocks(tmp_path / "forge.db")), \
            "texts made from a block since rewritten are not stored"
        await store.samples.compact(time.time())
        assert all(texts for *_, texts in _hour_blocks(tmp_path / "forge.db"))
        assert store.samples._texts_filled and db.untexted_tier_blocks(10) == []
        assert json.loads(await store.samples.series_json("n", resolution="1h", points=100)) == want
    finally:
        await store.close()


def sqlite3_of(tmp_path):
    import contextlib
    import sqlite3

    @contextlib.contextmanager
    def connection():
        c = sqlite3.connect(tmp_path / "forge.db")
        try:
            with c:
                yield c
        finally:
            c.close()
    return connection()


async def test_the_snapshot_route_sends_a_year_of_hours_in_parts_as_one_answer(aiohttp_client, hub_config, tmp_path,
                                                                                monkeypatch):
    """Whole blocks' texts go out as parts, not joined again; the answer is the same JSON."""
    from hub.app import create_app
    from hub.store.sqlite import db as sqlite_db
    store, _ = await _days_of_hours(tmp_path / "hubdata", random.Random(13))
    want = await store.samples.series("n", resolution="1h", points=100)
    joined = await store.samples.series_json("n", resolution="1h", points=100)
    await store.close()
    monkeypatch.setattr(sqlite_db, "PART_BYTES", 1)  # this test's averages are small: parts nonetheless
    client = await aiohttp_client(create_app(hub_config()))
    from hub.state import HUB
    parts = await client.server.app[HUB].store.samples.series_json_parts("n", resolution="1h", points=100)
    assert len(parts) > 3 and b"".join(parts) == joined
    r = await client.get("/api/nodes/n/snapshot?resolution=1h&points=100")
    assert r.status == 200 and r.headers["Content-Type"].startswith("application/json")
    assert int(r.headers["Content-Length"]) == len(await r.read())
    body = await r.json()
    assert body["samples"] == want and body["resolution"] == "1h" and body["node"]["id"] == "n"
    assert "processes" in body
