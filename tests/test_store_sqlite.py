"""What only the SQLite backend does: its file, WAL mode, migrations and checkpoints.
Everything a backend must do lives in test_store_contract.py."""
from __future__ import annotations

import sqlite3
import time

from hub.store import Push, open_store, sqlite_url
from hub.store.sqlite import Database, migrations, path_of


def test_migrations_are_numbered_recorded_and_idempotent(tmp_path):
    names = [m[1] for m in migrations()]
    assert names == sorted(names) and names[0].startswith("001_")
    db = tmp_path / "f.db"
    store = Database(db)
    assert [n for _, n in store.applied_migrations()] == names
    assert store.migrate() == []
    store.close()
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_urls_name_files_as_sqlalchemy_does(tmp_path):
    assert path_of("sqlite:///forge.db").as_posix() == "forge.db"
    assert path_of(sqlite_url(tmp_path / "x.db")) == tmp_path / "x.db"
    for bad in ("sqlite://", "sqlite://host/x.db", "postgresql:///x"):
        try:
            path_of(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} accepted")


async def test_maintain_checkpoints_and_close_truncates_the_wal(tmp_path):
    path = tmp_path / "forge.db"
    store = await open_store(sqlite_url(path))
    now = time.time()
    await store.samples.ingest(Push(node_id="n", identity={}, samples=[{"ts": now - i} for i in range(500)], now=now))
    wal = path.with_name("forge.db-wal")
    assert wal.stat().st_size > 0, "commits go to the WAL, which no automatic checkpoint empties"
    report = await store.maintain(now)
    assert report.checkpointed and report.details["wal_checkpointed"] == report.details["wal_pages"] > 0
    await store.close()
    assert not wal.exists() or wal.stat().st_size == 0


def test_an_upgraded_database_queues_the_minutes_an_older_hub_lost(tmp_path):
    """Migration 004 derives the rollup queue from the data: minutes with raw samples but no
    average (or one over fewer samples) were lost by a crash of a hub that kept its queue in memory."""
    path = tmp_path / "forge.db"
    con = sqlite3.connect(path)
    for _, name, sql in migrations()[:3]:
        con.executescript(sql)
    minute = int(time.time() // 60 - 100) * 60_000
    con.executemany("INSERT INTO samples (node_id, ts_ms, data) VALUES (?, ?, ?)",
                    [("n", minute + 1000 * i, '{"ts": 0}') for i in range(3)]
                    + [("n", minute + 60_000 + 1000 * i, '{"ts": 0}') for i in range(2)]
                    + [("n", minute + 120_000, '{"ts": 0}')])
    con.executemany("INSERT INTO samples_1m (node_id, ts_ms, n, data) VALUES (?, ?, ?, '{}')",
                    [("n", minute, 3), ("n", minute + 60_000, 1)])
    con.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL)")
    con.executemany("INSERT INTO schema_migrations VALUES (?, ?, 0)", [(v, n) for v, n, _ in migrations()[:3]])
    con.commit()
    con.close()
    db = Database(path)
    assert db.queued("1m", 2**62, ("", -1), 10) == [("n", minute + 60_000, 1), ("n", minute + 120_000, 1)]
    db.close()


def test_forge_hub_keeps_its_data_where_store_says(live_hub, tmp_path):
    from conftest import http
    from store_backends import query_store

    url = sqlite_url(tmp_path / "elsewhere" / "fleet.db")
    h = live_hub("--store", url)
    st, _ = http("POST", f"{h.url}/api/ingest/box", {"samples": [{"ts": time.time()}]}, token=h.token("box"))
    assert st == 200
    assert [n.id for n in query_store(url, lambda store: store.nodes.nodes())] == ["box"]
    assert not (h.home / "hub" / "forge.db").exists()


async def test_a_failed_rollup_write_loses_no_minute_or_hour(tmp_path):
    """13.4: a rollup write that failed (there: a full disk) lost its hour buckets for good.
    Here SQLite itself refuses the writes (a trigger raising, as a full disk would fail the
    transaction); what was queued stays queued and the next pass writes it."""
    path = tmp_path / "forge.db"
    store = await open_store(sqlite_url(path))
    minute = (time.time() // 3600 - 2) * 3600  # two minutes of one hour
    await store.samples.ingest(Push(node_id="n", identity={}, now=time.time(),
                                    samples=[{"ts": minute + 1, "cpu": {"percent": 2.0}},
                                             {"ts": minute + 61, "cpu": {"percent": 4.0}}]))
    side = sqlite3.connect(path, isolation_level=None)
    for table in ("samples_1m", "samples_1h"):
        side.execute(f"CREATE TRIGGER full_{table} BEFORE INSERT ON {table} BEGIN SELECT RAISE(FAIL, 'disk full'); END")
    try:
        await store.samples.roll_up(time.time())
    except sqlite3.DatabaseError as e:
        assert "disk full" in str(e)
    else:
        raise AssertionError("the refused write did not fail the rollup")
    assert await store.samples.pending_rollups() == 2
    side.execute("DROP TRIGGER full_samples_1m")
    try:
        await store.samples.roll_up(time.time())
    except sqlite3.DatabaseError:
        pass  # the hours still cannot be written
    assert len(await store.samples.series("n", resolution="1m", points=10)) == 2
    assert await store.samples.pending_rollups() == 1, "the hour stays queued"
    side.execute("DROP TRIGGER full_samples_1h")
    side.close()
    assert await store.samples.roll_up(time.time()) == 0
    [hour] = await store.samples.series("n", resolution="1h", points=10)
    assert hour["cpu"]["percent"] == 3.0 and await store.samples.pending_rollups() == 0
    await store.close()


async def test_the_encoding_worker_runs_below_the_hubs_cpu_priority(tmp_path):
    """Compaction encodes in a worker process (off the hub's GIL) at nice +10, so under load
    it does not take a core from ingest; it still compacts every minute it is given."""
    import os

    import psutil

    from hub.store.sqlite import COMPACT_OFFLOAD, WORKER_NICE

    store = await open_store(sqlite_url(tmp_path / "forge.db"))
    now = time.time()
    start = (now - 3600) // 60 * 60
    pushes = [Push(node_id=f"n{i}", identity={}, now=now,
                   samples=[{"ts": start + s, "cpu": {"percent": float(s % 7)}} for s in range(0, 120, 2)])
              for i in range(COMPACT_OFFLOAD)]
    for p in pushes:
        await store.samples.ingest(p)
    try:
        assert await store.samples.compact(now) >= 2 * COMPACT_OFFLOAD
        workers = [c for c in psutil.Process().children() if "spawn_main" in " ".join(_cmdline(c))]
        assert workers, "the chunk went to a worker process"  # (not the resource tracker beside it)
        assert {w.nice() for w in workers} == {min(os.nice(0) + WORKER_NICE, 19)}
    finally:
        await store.close()


def _cmdline(p) -> list[str]:
    """A child's command line; [] for one that is gone or a zombie (other tests' children)."""
    import psutil

    try:
        return p.cmdline()
    except psutil.Error:
        return []
