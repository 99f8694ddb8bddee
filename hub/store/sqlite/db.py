"""All of the SQLite backend's SQL, in one place.

`Database` is synchronous and thread-safe: every thread gets its own connection, and
every write runs in `BEGIN IMMEDIATE`. The event loop never calls it: the async parts
in hub/store/sqlite/__init__.py send writes to one writer thread (so writes never
contend) and reads to a small pool of reader threads (WAL lets them run beside the
writer).
"""
from __future__ import annotations

import bisect
import functools
import json
import sqlite3
import threading
import time
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Iterator

import msgspec

from . import blocks
from .read_cache import BlockCache, Entry, stored_texts
from .rollup import DAY_MS, HOUR_MS, MINUTE_MS, path_steps
from .. import averaging
from ..interface import (FINAL_STATUSES, JOB_STATUSES, Batch, BatchSpec, IngestResult, Job, JobPage, JobSpec, NodeRow, Push, Redeemed,
                         Retention, TokenMatch, TokenRow, WorkerRow, join_code_refusal, suffixed_node_id)

JOB_FIELDS = (
    "id, type, payload, status, priority, cores, claimed_by, claimed_at, lease_until, "
    "attempt_count, max_attempts, progress, result, error, review, label, batch_id, "
    "created_at, finished_at"
)
TIER_TABLES = {"1m": "samples_1m", "1h": "samples_1h"}
TIER_BLOCK_MS = {"1m": HOUR_MS, "1h": DAY_MS}  # what one tier block holds: a node-hour of minutes, a node-day of hours
TEXT_TIERS = ("1h",)  # tiers whose blocks keep their samples' JSON beside them (migration 009)
PART_BYTES = 4096  # parts of a snapshot's answer smaller than this on average are joined before sending
READ_CACHE_BYTES = 64 * 2**20  # finished blocks' samples as JSON for snapshot reads (read_cache.py)
PAGE_SIZE = 16384  # new databases: five 3 kB node-minute blocks fill a page, where a 4 KiB page held one (69 -> 55 B per sample)
QueuedBucket = tuple[str, int, int]  # node, bucket start ms, gen


def migrations() -> list[tuple[int, str, str]]:
    """The numbered migrations shipped in hub/store/sqlite/migrations, in order."""
    out = []
    for entry in resources.files("hub.store.sqlite").joinpath("migrations").iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:3].isdigit():
            out.append((int(name[:3]), name, entry.read_text()))
    return sorted(out)


_NUMBERS = "('integer', 'real')"  # json_tree types of numeric leaves


def _plain_leaves(rows: list[tuple]) -> tuple[list[tuple], list[tuple[str, ...]]]:
    """json_tree rows outside the keyed lists and `processes`, and the keyed lists they met."""
    out, lists = [], set()
    for row in rows:
        steps = path_steps(row[0])
        if steps[:1] and steps[0] in averaging.LEFT_OUT:
            continue
        keyed = next((p for p in averaging.KEYED if steps[:len(p)] == p and len(steps) > len(p)), None)
        if keyed is None:
            out.append(row)
        else:
            lists.add(keyed)
    return out, sorted(lists)


@functools.lru_cache(maxsize=64)
def _keyed_leaves(table: str, list_path: tuple[str, ...], texts: bool) -> str:
    """Per entry key and field of one keyed list, the mean of its numbers (or the latest string
    or boolean): the entry's key as `averaging.Key.name` builds it."""
    names = averaging.KEYED[list_path]
    json_path = "$." + ".".join(list_path)
    conds, parts = [], []
    for f in names:
        if f == "index":
            conds.append(f"json_type(e.value, '$.{f}') = 'integer' AND json_extract(e.value, '$.{f}') >= 0")
        else:
            conds.append(f"json_type(e.value, '$.{f}') = 'text'")
        parts.append(f"json_extract(e.value, '$.{f}')")
    key = " || '/' || ".join(parts)
    fields = ", ".join(f"'{f}'" for f in names)
    value = ("NULL, max(printf('%016d', s.ts_ms) || CASE f.type WHEN 'text' THEN json_quote(f.value) ELSE f.type END)"
             if texts else "avg(f.value), NULL")
    types = "('text', 'true', 'false')" if texts else _NUMBERS
    return (f"SELECT json_array('{json_path}', {key}, f.key), {value} "
            f"FROM {table} AS s, json_each(s.data, '{json_path}') AS e, json_each(e.value) AS f "
            "WHERE s.node_id = ?1 AND s.ts_ms >= ?2 AND s.ts_ms < ?3 "
            f"AND json_type(s.data, '{json_path}') = 'array' AND e.type = 'object' AND {' AND '.join(conds)} "
            f"AND f.type IN {types} AND f.key NOT IN ({fields}) GROUP BY {key}, f.key")


def _keyed_steps(path: str) -> tuple:
    """A json_tree full key as steps, or a keyed leaf's `["$.list.path", key, field]` as steps
    with the entry's Key."""
    if path.startswith("$"):
        return path_steps(path)
    json_path, name, field = json.loads(path)
    list_path = path_steps(json_path)
    return (*list_path, averaging.key_named(list_path, name), field)


class Database:
    def __init__(self, path: Path | str, autocheckpoint: bool = True):
        """`autocheckpoint=False` leaves WAL checkpoints to `checkpoint()` (the hub runs it on a
        reader thread every second), so no commit ever waits for one."""
        self.path = str(path)
        self.autocheckpoint = autocheckpoint
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._shapes: dict[int, bytes] = {}
        self.read_cache = BlockCache(READ_CACHE_BYTES)
        self.migrate()

    @classmethod
    def reader(cls, path: Path | str) -> "Database":
        """A Database that only reads an existing file (no migrations): a worker process's."""
        db = cls.__new__(cls)
        db.path, db.autocheckpoint = str(path), False
        db._local, db._all, db._lock, db._shapes = threading.local(), [], threading.Lock(), {}
        db.read_cache = BlockCache(0)
        return db

    # --- connections -----------------------------------------------------------
    def conn(self) -> sqlite3.Connection:
        c = getattr(self._local, "conn", None)
        if c is None:
            c = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            c.row_factory = sqlite3.Row
            c.execute(f"PRAGMA page_size={PAGE_SIZE}")  # takes effect only on a database with no table yet
            c.execute("PRAGMA journal_mode=WAL")
            c.execute("PRAGMA synchronous=NORMAL")
            c.execute("PRAGMA foreign_keys=ON")
            c.execute("PRAGMA busy_timeout=30000")
            if not self.autocheckpoint:
                c.execute("PRAGMA wal_autocheckpoint=0")
            self._local.conn = c
            with self._lock:
                self._all.append(c)
        return c

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        c = self.conn()
        c.execute("BEGIN IMMEDIATE")
        try:
            yield c
        except BaseException:
            c.execute("ROLLBACK")
            raise
        else:
            c.execute("COMMIT")

    def checkpoint(self, mode: str = "PASSIVE") -> tuple[int, int, int]:
        """Copy WAL pages into the database file; PASSIVE never blocks the writer."""
        assert mode in ("PASSIVE", "TRUNCATE")
        return tuple(self.conn().execute(f"PRAGMA wal_checkpoint({mode})").fetchone())

    def close(self) -> None:
        with self._lock:
            for c in self._all:
                try:
                    c.close()
                except sqlite3.Error:
                    pass
            self._all.clear()
        self._local = threading.local()

    def migrate(self) -> list[str]:
        applied = []
        c = self.conn()
        c.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL)"
        )
        done = {r[0] for r in c.execute("SELECT version FROM schema_migrations")}
        for version, name, sql in migrations():
            if version in done:
                continue
            c.execute("BEGIN IMMEDIATE")
            try:
                for statement in _statements(sql):
                    c.execute(statement)
                c.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    (version, name, time.time()),
                )
                c.execute("COMMIT")
            except BaseException:
                c.execute("ROLLBACK")
                raise
            applied.append(name)
        return applied

    def applied_migrations(self) -> list[tuple[int, str]]:
        return [(r[0], r[1]) for r in self.conn().execute(
            "SELECT version, name FROM schema_migrations ORDER BY version")]

    # --- nodes and samples -------------------------------------------------------
    def ingest_many(self, pushes: list[Push]) -> list[IngestResult]:
        """Store several agents' pushes in one transaction (group commit); one result per push."""
        with self.tx() as c:
            return [self._ingest(c, p.node_id, p.identity, p.samples, p.now) for p in pushes]

    def _ingest(self, c: sqlite3.Connection, node_id: str, identity: dict, samples: list[dict],
                now: float) -> IngestResult:
        rows = [(node_id, ts_ms(s["ts"]), _encode(s)) for s in samples]
        new = c.execute("SELECT 1 FROM nodes WHERE id = ?", (node_id,)).fetchone() is None
        if rows and not new:
            rows = self._not_in_blocks(c, node_id, rows)
        before = c.total_changes
        c.executemany("INSERT OR IGNORE INTO samples (node_id, ts_ms, data) VALUES (?, ?, ?)", rows)
        accepted = c.total_changes - before
        if accepted:
            minutes = {r[1] // MINUTE_MS * MINUTE_MS for r in rows}
            c.executemany(_QUEUE_BUCKET, [("1m", node_id, m) for m in sorted(minutes)])
        latest = max(rows, key=lambda r: r[1])[2] if rows else None
        c.execute(
            """INSERT INTO nodes (id, name, identity, first_seen, last_seen, latest)
               VALUES (?, ?, ?, ?, ?, ?)
               ON CONFLICT (id) DO UPDATE SET
                 identity = CASE WHEN excluded.identity = '{}' THEN nodes.identity ELSE excluded.identity END,
                 last_seen = excluded.last_seen,
                 latest = CASE
                   WHEN excluded.latest IS NULL THEN nodes.latest
                   WHEN nodes.latest IS NULL THEN excluded.latest
                   WHEN json_extract(excluded.latest, '$.ts') >= json_extract(nodes.latest, '$.ts')
                     THEN excluded.latest
                   ELSE nodes.latest END""",
            (node_id, node_id, _encode(identity), now, now, latest),
        )
        return IngestResult(accepted=accepted, duplicate=len(samples) - accepted, new_node=new)

    def _not_in_blocks(self, c: sqlite3.Connection, node_id: str, rows: list[tuple]) -> list[tuple]:
        """The rows whose (node, ts) no compacted minute holds already: a resend of a minute
        that became a block is a duplicate, as it was while the minute was rows."""
        minutes = sorted({r[1] // MINUTE_MS * MINUTE_MS for r in rows})
        marks = ",".join("?" * len(minutes))
        stored = c.execute(f"SELECT data FROM sample_blocks WHERE node_id = ? AND bucket_ms IN ({marks})",
                           (node_id, *minutes)).fetchall()
        if not stored:
            return rows
        held = {ts_ms(s["ts"]) for (data,) in stored for s in self.decode_block(data, c)}
        return [r for r in rows if r[1] not in held]

    # --- compact blocks ----------------------------------------------------------------------
    def shape_of(self, h: int, c: sqlite3.Connection | None = None) -> bytes:
        shape = self._shapes.get(h)
        if shape is None:
            r = (c or self.conn()).execute("SELECT shape FROM sample_shapes WHERE hash = ?", (h,)).fetchone()
            if r is None:
                raise LookupError(f"sample shape {h} is missing from sample_shapes")
            shape = self._shapes[h] = bytes(r[0])
        return shape

    def decode_block(self, data: bytes, c: sqlite3.Connection | None = None) -> list[dict]:
        return blocks.decode(data, lambda h: self.shape_of(h, c))

    def compactable(self, before_ms: int, after: tuple[str, int], limit: int,
                    table: str = "samples", width: int = MINUTE_MS) -> list[tuple[str, int]]:
        """(node, bucket) of rows older than `before_ms` (buckets of `width`: a minute of raw
        rows, an hour of 1m rows, a day of 1h rows), in order after the cursor `after`: the
        rows table is its own queue of what is left to compact. One index seek per bucket
        found, and one per node to skip its current buckets."""
        assert table in ("samples", *TIER_TABLES.values())
        c = self.conn()
        node, ms = after
        out: list[tuple[str, int]] = []
        while len(out) < limit:
            r = c.execute(f"SELECT node_id, ts_ms FROM {table} WHERE (node_id, ts_ms) > (?, ?) "
                          "ORDER BY node_id, ts_ms LIMIT 1", (node, ms)).fetchone()
            if r is None:
                break
            node, ms = r[0], r[1]
            if ms >= before_ms:
                ms = _END
                continue
            bucket = ms // width * width
            out.append((node, bucket))
            ms = bucket + width - 1
        return out

    def tier_group(self, tier: str, node_id: str, bucket_ms: int, c: sqlite3.Connection | None = None
                   ) -> tuple[list[tuple[int, int, dict]], list[tuple[int, str]]]:
        """The averages of one tier block's span (a node-hour of minutes, a node-day of hours):
        (ts_ms, sample count, average) oldest first, from its block and its rows (a row
        replaces the block's entry of the same ts: it was averaged again), and the rows
        among them as (ts_ms, JSON text). Call inside a read transaction for one snapshot."""
        c = c or self.conn()
        block = c.execute("SELECT ns, data FROM tier_blocks WHERE tier = ? AND node_id = ? AND bucket_ms = ?",
                          (tier, node_id, bucket_ms)).fetchone()
        rows = c.execute(f"SELECT ts_ms, n, data FROM {TIER_TABLES[tier]} WHERE node_id = ? AND ts_ms >= ? "
                         "AND ts_ms < ? ORDER BY ts_ms",
                         (node_id, bucket_ms, bucket_ms + TIER_BLOCK_MS[tier])).fetchall()
        merged: dict[int, tuple[int, dict]] = {}
        if block:
            for n, avg in zip(msgspec.msgpack.decode(block[0]), self.decode_block(block[1], c)):
                merged[ts_ms(avg["ts"])] = (n, avg)
        for t, n, data in rows:
            merged[t] = (n, _decode(data))
        return [(t, n, avg) for t, (n, avg) in sorted(merged.items())], [(r[0], r[2]) for r in rows]

    def has_tier_block(self, tier: str, node_id: str, bucket_ms: int, c: sqlite3.Connection | None = None) -> bool:
        return (c or self.conn()).execute(
            "SELECT 1 FROM tier_blocks WHERE tier = ? AND node_id = ? AND bucket_ms = ?",
            (tier, node_id, bucket_ms)).fetchone() is not None

    def put_tier_blocks(self, tier: str, done: list[tuple[str, int, blocks.Encoded, list[int], list[tuple[int, str]],
                                                     bytes | None]]) -> None:
        """Compacted tier spans (node, span start, block, sample counts, rows taken in as
        (ts_ms, JSON text), the averages' stored texts or None) in one transaction. A row goes
        only if it is still the text that was read: one averaged again meanwhile stays, for
        the next pass to merge."""
        with self.tx() as c:
            shapes = {h: j for _, _, enc, *_ in done for h, j in enc.shapes.items()}
            c.executemany("INSERT OR IGNORE INTO sample_shapes (hash, shape) VALUES (?, ?)", shapes.items())
            c.executemany("INSERT OR REPLACE INTO tier_blocks (tier, node_id, bucket_ms, n, ns, data, texts) "
                          "VALUES (?, ?, ?, ?, ?, ?, ?)",
                          [(tier, node, bucket, enc.n, msgspec.msgpack.encode(ns), enc.data, texts)
                           for node, bucket, enc, ns, _, texts in done])
            c.executemany(f"DELETE FROM {TIER_TABLES[tier]} WHERE node_id = ? AND ts_ms = ? AND data = ?",
                          [(node, t, text) for node, _, _, _, taken, _ in done for t, text in taken])
        self._shapes.update(shapes)
        self.read_cache.drop([(tier, node, bucket) for node, bucket, *_ in done])

    @staticmethod
    def tier_texts(tier: str, averages: list[dict]) -> bytes | None:
        """What `put_tier_blocks` stores beside a block of `averages` (None for a tier that
        keeps no texts): each average's JSON as a read encodes it."""
        if tier not in TEXT_TIERS:
            return None
        return stored_texts([ts_ms(a["ts"]) for a in averages], list(map(_json, averages)))

    def untexted_tier_blocks(self, limit: int) -> list[tuple[str, int, bytes]]:
        """(node, span start, block) of up to `limit` 1h blocks stored without their texts
        (written before migration 009), through its partial index."""
        assert TEXT_TIERS == ("1h",)  # the index and this query name the tier
        return [tuple(r) for r in self.conn().execute(
            "SELECT node_id, bucket_ms, data FROM tier_blocks WHERE tier = '1h' AND texts IS NULL "
            "ORDER BY node_id, bucket_ms LIMIT ?", (limit,))]

    def put_tier_texts(self, done: list[tuple[str, int, bytes, bytes]]) -> None:
        """Texts for 1h blocks (node, span start, block as read, texts): a block rewritten
        since it was read keeps the texts its own write gave it."""
        with self.tx() as c:
            c.executemany("UPDATE tier_blocks SET texts = ? WHERE tier = '1h' AND node_id = ? AND bucket_ms = ? "
                          "AND data = ?", [(texts, node, bucket, data) for node, bucket, data, texts in done])

    def minute_samples(self, node_id: str, bucket_ms: int, c: sqlite3.Connection | None = None
                       ) -> tuple[list[dict], list[int]]:
        """Every sample of a node-minute (its block's and its rows'), oldest first, and the
        ts_ms of the rows among them. Call inside a read transaction for one snapshot."""
        c = c or self.conn()
        block = c.execute("SELECT data FROM sample_blocks WHERE node_id = ? AND bucket_ms = ?",
                          (node_id, bucket_ms)).fetchone()
        rows = c.execute("SELECT ts_ms, data FROM samples WHERE node_id = ? AND ts_ms >= ? AND ts_ms < ? "
                         "ORDER BY ts_ms", (node_id, bucket_ms, bucket_ms + MINUTE_MS)).fetchall()
        samples = self.decode_block(block[0], c) if block else []
        if rows:
            samples += [_decode(r[1]) for r in rows]
            if block:
                samples.sort(key=lambda s: ts_ms(s["ts"]))
        return samples, [r[0] for r in rows]

    def has_block(self, node_id: str, bucket_ms: int, c: sqlite3.Connection | None = None) -> bool:
        return (c or self.conn()).execute("SELECT 1 FROM sample_blocks WHERE node_id = ? AND bucket_ms = ?",
                                          (node_id, bucket_ms)).fetchone() is not None

    def put_blocks(self, done: list[tuple[str, int, blocks.Encoded, list[int]]]) -> None:
        """Compacted minutes (node, minute, block, ts_ms of the rows it took in) in one
        transaction: the block replaces the minute's old one and exactly those rows go, so a
        row that arrived since the minute was read stays, for the next pass to merge."""
        with self.tx() as c:
            shapes = {h: j for _, _, enc, _ in done for h, j in enc.shapes.items()}
            c.executemany("INSERT OR IGNORE INTO sample_shapes (hash, shape) VALUES (?, ?)", shapes.items())
            c.executemany("INSERT OR REPLACE INTO sample_blocks (node_id, bucket_ms, n, data) VALUES (?, ?, ?, ?)",
                          [(node, minute, enc.n, enc.data) for node, minute, enc, _ in done])
            c.executemany("DELETE FROM samples WHERE node_id = ? AND ts_ms = ?",
                          [(node, t) for node, _, _, taken in done for t in taken])
            c.executemany("INSERT INTO recent_cpu (node_id, bucket_ms, points) VALUES (?, ?, ?) "
                          "ON CONFLICT (node_id) DO UPDATE SET bucket_ms = excluded.bucket_ms, points = excluded.points "
                          "WHERE excluded.bucket_ms >= recent_cpu.bucket_ms",
                          [(node, minute, msgspec.msgpack.encode(enc.recent_cpu)) for node, minute, enc, _ in done])
        self._shapes.update(shapes)
        self.read_cache.drop([("raw", node, minute) for node, minute, *_ in done])

    def read_tx(self):
        """A read transaction on this thread's connection: one snapshot for several queries."""
        return _ReadTx(self.conn())

    def nodes(self) -> list[NodeRow]:
        return [_node(r) for r in self.conn().execute(
            "SELECT id, name, identity, first_seen, last_seen, latest FROM nodes ORDER BY id")]

    def node(self, node_id: str) -> NodeRow | None:
        r = self.conn().execute(
            "SELECT id, name, identity, first_seen, last_seen, latest FROM nodes WHERE id = ?",
            (node_id,)).fetchone()
        return _node(r) if r else None

    def recent_cpu(self, node_id: str, points: int) -> list[float | None]:
        """The rows hold the last minute or two; before them comes the newest block, whose last
        points `recent_cpu` keeps, so this decodes a block only for a node whose newest
        minutes hold fewer than `points` samples (or an older database's, once)."""
        with self.read_tx() as c:
            rows = c.execute(
                "SELECT ts_ms, json_extract(data, '$.cpu.percent') FROM samples WHERE node_id = ? "
                "ORDER BY ts_ms DESC LIMIT ?", (node_id, points)).fetchall()
            if len(rows) >= points:
                return [r[1] for r in reversed(rows)]
            kept = c.execute("SELECT bucket_ms, points FROM recent_cpu WHERE node_id = ?", (node_id,)).fetchone()
            newest = c.execute("SELECT max(bucket_ms) FROM sample_blocks WHERE node_id = ?", (node_id,)).fetchone()[0]
            if newest is None:
                return [r[1] for r in reversed(rows)]
            if kept is not None and kept[0] == newest:
                merged = dict(msgspec.msgpack.decode(kept[1]))
                merged.update((t, v) for t, v in rows)
                if len(merged) >= points:
                    return [merged[t] for t in sorted(merged)[-points:]]
            return [_cpu_percent(s) for _, s in self._raw(c, node_id, points, -1, _END)]

    def series(self, node_id: str, resolution: str, points: int,
               since: float | None = None, until: float | None = None, every_s: int | None = None) -> list[dict]:
        """Newest `points` samples of a tier, oldest first; `every_s` keeps one bucket per that many
        seconds (tier buckets start on whole minutes or hours, so a multiple of the tier's size)."""
        return self._series(node_id, resolution, points, since, until, every_s, False)

    def series_json(self, node_id: str, resolution: str, points: int, since: float | None = None,
                    until: float | None = None, every_s: int | None = None) -> bytes:
        """`series` as a JSON array, for the snapshot route: rows' JSON as stored, and finished
        blocks' samples encoded once and then taken from `read_cache` while the block is unchanged."""
        return b"".join(self.series_json_parts(node_id, resolution, points, since, until, every_s))

    def series_json_parts(self, node_id: str, resolution: str, points: int, since: float | None = None,
                          until: float | None = None, every_s: int | None = None) -> list[bytes]:
        """`series_json` in parts: whole blocks' joined texts as they are (a year of hours is
        ~730 parts of ~10 kB, sent without one more copy), smaller parts joined into one (a
        write a part would cost more than the copy)."""
        texts = self._series(node_id, resolution, points, since, until, every_s, True)
        if not texts:
            return [b"[]"]
        out = [b"["] * (2 * len(texts) + 1)  # [ text , text , ... ]
        out[2::2] = [b","] * len(texts)
        out[1::2] = texts
        out[-1] = b"]"
        return out if sum(map(len, texts)) >= PART_BYTES * len(out) else [b"".join(out)]

    def _series(self, node_id: str, resolution: str, points: int, since: float | None, until: float | None,
                every_s: int | None, as_json: bool) -> list:
        lo = ts_ms(since) if since is not None else -1
        hi = ts_ms(until) if until is not None else 2**62
        if resolution == "1s":
            with self.read_tx() as c:
                if every_s:  # the API allows every= on tiers only; kept as the SQL filter would do it
                    step = every_s * 1000
                    return [s for t, s in self._raw(c, node_id, 2**31, lo, hi, as_json) if t % step == 0][-points:]
                return [s for _, s in self._raw(c, node_id, points, lo, hi, as_json)]
        with self.read_tx() as c:
            if as_json and not every_s and points > 0:
                pieces = self._tier_pieces(c, resolution, node_id, points, lo, hi)
                if pieces is not None:
                    return pieces
            return self._tier(c, resolution, node_id, points, lo, hi, every_s * 1000 if every_s else 1, as_json)

    def _block_samples(self, kind: str, node_id: str, bucket_ms: int, data: bytes, c: sqlite3.Connection,
                       as_json: bool, texts: bytes | None = None) -> tuple[list[int], list]:
        """A block's samples' ts_ms and the samples, as dicts or (`as_json`) JSON texts."""
        if as_json:
            entry = self._block_json(kind, node_id, bucket_ms, data, c, texts)
            return entry.ts, entry.texts()
        samples = self.decode_block(data, c)
        return [ts_ms(s["ts"]) for s in samples], samples

    def _block_json(self, kind: str, node_id: str, bucket_ms: int, data: bytes, c: sqlite3.Connection,
                    texts: bytes | None = None) -> Entry:
        """A block's samples' JSON: from the cache, else from its stored `texts` (1h), else decoded."""
        key = (kind, node_id, bucket_ms)
        entry = self.read_cache.get(key, data)
        if entry is None:
            if texts is not None:
                entry = self.read_cache.put_stored(key, data, texts)
            else:
                samples = self.decode_block(data, c)
                entry = self.read_cache.put(key, data, [ts_ms(s["ts"]) for s in samples], list(map(_json, samples)))
        return entry

    def _tier_pieces(self, c: sqlite3.Connection, tier: str, node_id: str, points: int, lo: int, hi: int
                     ) -> list[bytes] | None:
        """`_tier`'s JSON answer (every bucket, `points` > 0) in pieces: each block's samples
        inside lo..hi taken as one slice of its joined JSON (a block cut by the range too: the
        oldest one of a view's `since`), so a year of hours is 365 pieces, not 8,760 samples
        to merge one by one. None when a row falls within a block's span or a block is out of
        order (then only the sample-by-sample merge gives the answer)."""
        rows = c.execute(f"SELECT ts_ms, data FROM {TIER_TABLES[tier]} WHERE node_id = ? AND ts_ms >= ? "
                         "AND ts_ms <= ? ORDER BY ts_ms DESC LIMIT ?", (node_id, lo, hi, points)).fetchall()
        spans: list[tuple[Entry, int, int]] = []  # newest first: an entry and its samples a..b-1 inside lo..hi
        taken = 0
        for bucket, data, texts in c.execute(
                "SELECT bucket_ms, data, texts FROM tier_blocks WHERE tier = ? AND node_id = ? AND bucket_ms <= ? "
                "AND bucket_ms > ? ORDER BY bucket_ms DESC", (tier, node_id, hi, lo - TIER_BLOCK_MS[tier])):
            entry = self._block_json(tier, node_id, bucket, data, c, texts)
            if not entry.ascending:
                return None
            a, b = bisect.bisect_left(entry.ts, lo), bisect.bisect_right(entry.ts, hi)
            if a < b:
                spans.append((entry, a, b))
                taken += b - a
            if taken >= points:
                break
        oldest_first = spans[::-1]
        firsts = [e.ts[a] for e, a, _ in oldest_first]
        lasts = [e.ts[b - 1] for e, _, b in oldest_first]
        for t, _ in rows:
            i = bisect.bisect_right(firsts, t) - 1
            if i >= 0 and t <= lasts[i]:
                return None
        units = sorted([(t, None, text) for t, text in rows] + [(e.ts[a], (e, a, b), None) for e, a, b in spans],
                       key=lambda u: u[0])
        pieces: list[bytes] = []
        need = points
        for _, span, text in reversed(units):
            if need <= 0:
                break
            if span is None:
                pieces.append(text.encode())
                need -= 1
            else:
                entry, a, b = span
                pieces.append(entry.part(max(a, b - need), b))
                need -= b - a
        return pieces[::-1]

    def _tier(self, c: sqlite3.Connection, tier: str, node_id: str, points: int, lo: int, hi: int,
              step: int, as_json: bool) -> list:
        """The newest `points` averages of a tier with lo <= ts_ms <= hi on a multiple of `step`,
        oldest first: rows and blocks as in `_raw`, a row winning over its block's entry."""
        width = TIER_BLOCK_MS[tier]
        found = {r[0]: r[1] for r in c.execute(
            f"SELECT ts_ms, data FROM {TIER_TABLES[tier]} WHERE node_id = ? AND ts_ms >= ? AND ts_ms <= ? "
            "AND ts_ms % ? = 0 ORDER BY ts_ms DESC LIMIT ?", (node_id, lo, hi, step, points))}
        merged: dict[int, dict | bytes] = {}
        taken = 0
        for bucket, data, texts in c.execute(
                "SELECT bucket_ms, data, texts FROM tier_blocks WHERE tier = ? AND node_id = ? AND bucket_ms <= ? "
                "AND bucket_ms > ? ORDER BY bucket_ms DESC", (tier, node_id, hi, lo - width)):
            stamps, samples = self._block_samples(tier, node_id, bucket, data, c, as_json, texts)
            if step == 1 and stamps and lo <= min(stamps) and max(stamps) <= hi:  # a block inside the range
                merged.update(zip(stamps, samples))
                taken += len(stamps)
            else:
                inside = [(t, s) for t, s in zip(stamps, samples) if lo <= t <= hi and t % step == 0]
                merged.update(inside)
                taken += len(inside)
            if taken >= points:
                break
        merged.update((t, data.encode() if as_json else _decode(data)) for t, data in found.items())
        return [merged[t] for t in sorted(merged)[-points:]] if points > 0 else []

    def _raw(self, c: sqlite3.Connection, node_id: str, points: int, lo: int, hi: int,
             as_json: bool = False) -> list[tuple[int, dict | bytes]]:
        """The newest `points` raw samples with lo <= ts_ms <= hi as (ts_ms, sample), oldest first,
        from the rows (current minutes, late arrivals) and the blocks, newest block first until enough."""
        rows = [(r[0], r[1].encode() if as_json else _decode(r[1])) for r in c.execute(
            "SELECT ts_ms, data FROM samples WHERE node_id = ? AND ts_ms >= ? AND ts_ms <= ? "
            "ORDER BY ts_ms DESC LIMIT ?", (node_id, lo, hi, points))]
        found: list[tuple[int, dict | bytes]] = []
        for bucket, data in c.execute(
                "SELECT bucket_ms, data FROM sample_blocks WHERE node_id = ? AND bucket_ms <= ? AND bucket_ms > ? "
                "ORDER BY bucket_ms DESC", (node_id, hi, lo - MINUTE_MS)):
            stamps, samples = self._block_samples("raw", node_id, bucket, data, c, as_json)
            found += reversed([(t, s) for t, s in zip(stamps, samples) if lo <= t <= hi])
            if len(found) >= points:
                break
        merged = sorted(rows + found, key=lambda r: r[0]) if rows else found[::-1]
        return merged[-points:] if points > 0 else []

    def bucket_leaves(self, node_id: str, lo_ms: int, hi_ms: int,
                      table: str = "samples") -> tuple[int, str | None, list[tuple]]:
        """One node's samples in [lo_ms, hi_ms), summed up leaf by leaf inside SQLite: the
        count, the latest sample's JSON, and per leaf the mean of its numbers, or for a string
        or boolean the latest one given (a JSON literal after a 16-digit ts). A leaf is a
        json_tree full key, or for the entries of keyed lists (hub/store/averaging.py) steps
        with the entry's Key; `processes` are left out.

        SQLite releases the GIL while it steps, so a big rollup on a reader thread does not
        hold up the event loop as averaging in Python did. Strings and booleans are looked
        up only when the numbers show the bucket changed shape (a mount came or went): else
        the latest sample already holds the latest of each."""
        assert table in ("samples", "samples_1m")
        c = self.conn()
        where = f"FROM {table} WHERE node_id = ?1 AND ts_ms >= ?2 AND ts_ms < ?3"
        n, latest = c.execute(f"SELECT count(*), (SELECT data {where} ORDER BY ts_ms DESC LIMIT 1) {where}",
                              (node_id, lo_ms, hi_ms)).fetchone()
        if not n:
            return 0, None, []
        tree = (f"FROM {table} AS s, json_tree(s.data) AS j "
                "WHERE s.node_id = ?1 AND s.ts_ms >= ?2 AND s.ts_ms < ?3")
        args = (node_id, lo_ms, hi_ms)
        means, lists = _plain_leaves(c.execute(f"SELECT j.fullkey, avg(j.value), NULL {tree} AND j.type IN {_NUMBERS} "
                                               "GROUP BY j.fullkey", args).fetchall())
        for list_path in lists:
            means += c.execute(_keyed_leaves(table, list_path, texts=False), args).fetchall()
        means = [(_keyed_steps(path), mean, last) for path, mean, last in means]
        if averaging.numeric_paths(msgspec.json.decode(latest)) == {steps for steps, *_ in means}:
            return n, latest, means
        texts, lists = _plain_leaves(c.execute(
            f"""SELECT j.fullkey, NULL, max(printf('%016d', s.ts_ms) || CASE j.type WHEN 'text'
                                            THEN json_quote(j.value) ELSE j.type END)
                {tree} AND j.type IN ('text', 'true', 'false') GROUP BY j.fullkey""", args).fetchall())
        for list_path in lists:
            texts += c.execute(_keyed_leaves(table, list_path, texts=True), args).fetchall()
        return n, latest, means + [(_keyed_steps(path), mean, last) for path, mean, last in texts]

    def queued(self, tier: str, before_ms: int, after: tuple[str, int], limit: int) -> list[QueuedBucket]:
        """Buckets of a tier queued for rolling up, starting before `before_ms`, in (node,
        bucket) order after the cursor `after`: one page of a pass over the queue."""
        return [tuple(r) for r in self.conn().execute(
            "SELECT node_id, bucket_ms, gen FROM rollup_queue WHERE tier = ? AND bucket_ms < ? "
            "AND (node_id, bucket_ms) > (?, ?) ORDER BY node_id, bucket_ms LIMIT ?",
            (tier, before_ms, *after, limit))]

    def pending_rollups(self) -> int:
        return self.conn().execute("SELECT count(*) FROM rollup_queue").fetchone()[0]

    def put_rollups(self, tier: str, rows: list[tuple[str, int, int, dict]], done: list[QueuedBucket]) -> None:
        """Averaged buckets (node, bucket start ms, sample count, averaged sample) and the queue
        entries they settle, in one transaction: an entry queued again since it was read (its
        gen moved on) stays queued. A minute written queues its hour."""
        table = TIER_TABLES[tier]
        with self.tx() as c:
            c.executemany(f"INSERT OR REPLACE INTO {table} (node_id, ts_ms, n, data) VALUES (?, ?, ?, ?)",
                          [(node, bucket, n, _encode(data)) for node, bucket, n, data in rows])
            c.executemany("DELETE FROM rollup_queue WHERE tier = ? AND node_id = ? AND bucket_ms = ? AND gen = ?",
                          [(tier, *entry) for entry in done])
            if tier == "1m":
                hours = sorted({(node, bucket // HOUR_MS * HOUR_MS) for node, bucket, _ in done})
                c.executemany(_QUEUE_BUCKET, [("1h", node, hour) for node, hour in hours])

    def prune(self, now: float, retention: Retention) -> dict[str, int]:
        out = {}
        with self.tx() as c:
            for table, keep in (("samples", retention.raw_s), ("samples_1m", retention.minute_s),
                                ("samples_1h", retention.hour_s)):
                cur = c.execute(f"DELETE FROM {table} WHERE ts_ms < ?", (ts_ms(now - keep),))
                out[table] = cur.rowcount
            # whole blocks only: a minute goes once all of it is past the raw retention
            pruned = c.execute("DELETE FROM sample_blocks WHERE bucket_ms + ? <= ? RETURNING n",
                               (MINUTE_MS, ts_ms(now - retention.raw_s))).fetchall()
            out["samples"] += sum(r[0] for r in pruned)
            gone = [("raw", ts_ms(now - retention.raw_s) - MINUTE_MS)]
            for tier, keep in (("1m", retention.minute_s), ("1h", retention.hour_s)):
                pruned = c.execute("DELETE FROM tier_blocks WHERE tier = ? AND bucket_ms + ? <= ? RETURNING n",
                                   (tier, TIER_BLOCK_MS[tier], ts_ms(now - keep))).fetchall()
                out[TIER_TABLES[tier]] += sum(r[0] for r in pruned)
                gone.append((tier, ts_ms(now - keep) - TIER_BLOCK_MS[tier]))
            c.execute("DELETE FROM join_codes WHERE expires_at < ?", (now - 86400,))
        for kind, last_start in gone:
            self.read_cache.drop_through(kind, last_start)
        return out

    # --- tokens and join codes -----------------------------------------------------
    def put_token(self, node_id: str, token_hash: str, now: float) -> None:
        with self.tx() as c:
            c.execute(
                """INSERT INTO tokens (node_id, token_hash, created_at) VALUES (?, ?, ?)
                   ON CONFLICT (node_id) DO UPDATE SET token_hash = excluded.token_hash,
                     created_at = excluded.created_at, last_used = NULL, revoked_at = NULL""",
                (node_id, token_hash, now))

    def token_node(self, token_hash: str) -> TokenMatch | None:
        r = self.conn().execute(
            "SELECT node_id, token_hash FROM tokens WHERE token_hash = ? AND revoked_at IS NULL",
            (token_hash,)).fetchone()
        return TokenMatch(node_id=r[0], token_hash=r[1]) if r else None

    def touch_tokens(self, uses: dict[str, float]) -> None:
        with self.tx() as c:
            c.executemany("UPDATE tokens SET last_used = ? WHERE node_id = ?",
                          [(at, node_id) for node_id, at in uses.items()])

    def list_tokens(self) -> list[TokenRow]:
        return [TokenRow(node_id=r[0], created_at=r[1], last_used=r[2], revoked=r[3] is not None)
                for r in self.conn().execute(
                    "SELECT node_id, created_at, last_used, revoked_at FROM tokens ORDER BY node_id")]

    def revoke_token(self, node_id: str, now: float) -> bool:
        with self.tx() as c:
            cur = c.execute("UPDATE tokens SET revoked_at = ? WHERE node_id = ? AND revoked_at IS NULL",
                            (now, node_id))
            return cur.rowcount > 0

    def put_join_code(self, code_hash: str, now: float, expires_at: float) -> None:
        with self.tx() as c:
            c.execute("INSERT INTO join_codes (code_hash, created_at, expires_at) VALUES (?, ?, ?)",
                      (code_hash, now, expires_at))

    def redeem_join_code(self, code_hash: str, node_id: str, token_hash: str, now: float) -> Redeemed:
        """Use a join code once and store the new node token, in one transaction.

        A name already held by a live token gets a suffix (-2, -3, ...) so a join code can
        never take over another machine's identity.
        """
        with self.tx() as c:
            refused = join_code_refusal(c.execute("SELECT expires_at, used_at FROM join_codes WHERE code_hash = ?",
                                                  (code_hash,)).fetchone(), node_id, now)
            if refused:
                return refused
            asked, n = node_id, 1
            while c.execute("SELECT 1 FROM tokens WHERE node_id = ? AND revoked_at IS NULL",
                            (node_id,)).fetchone():
                n += 1
                node_id = suffixed_node_id(asked, n)
            c.execute("UPDATE join_codes SET used_at = ?, used_by = ? WHERE code_hash = ?",
                      (now, node_id, code_hash))
            c.execute(
                """INSERT INTO tokens (node_id, token_hash, created_at) VALUES (?, ?, ?)
                   ON CONFLICT (node_id) DO UPDATE SET token_hash = excluded.token_hash,
                     created_at = excluded.created_at, last_used = NULL, revoked_at = NULL""",
                (node_id, token_hash, now))
            return Redeemed("ok", node_id)

    # --- jobs ------------------------------------------------------------------------
    def add_jobs(self, jobs: list[JobSpec], now: float, batch: BatchSpec | None = None) -> list[int]:
        ids = []
        with self.tx() as c:
            if batch:
                c.execute("INSERT INTO batches (id, label, spec, created_at) VALUES (?, ?, ?, ?)",
                          (batch.id, batch.label, json.dumps(batch.spec), now))
            for j in jobs:
                cur = c.execute(
                    """INSERT INTO jobs (type, payload, priority, cores, max_attempts, label, batch_id, created_at)
                       VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
                    (j.type, json.dumps(j.payload), j.priority, j.cores, j.max_attempts, j.label,
                     batch.id if batch else j.batch_id, now))
                ids.append(cur.lastrowid)
        return ids

    def claim_job(self, worker_id: str, types: list[str], cores: int, now: float,
                  lease_s: float) -> Job | None:
        """Atomically hand the best pending job this worker can run to it."""
        if not types:
            return None
        marks = ",".join("?" * len(types))
        with self.tx() as c:
            r = c.execute(
                f"""SELECT id FROM jobs WHERE status = 'pending' AND type IN ({marks}) AND cores <= ?
                    ORDER BY priority DESC, id LIMIT 1""", (*types, cores)).fetchone()
            if r is None:
                return None
            job_id = r[0]
            c.execute(
                """UPDATE jobs SET status = 'running', claimed_by = ?, claimed_at = ?, lease_until = ?,
                     attempt_count = attempt_count + 1, progress = NULL
                   WHERE id = ?""", (worker_id, now, now + lease_s, job_id))
            job = _job(c.execute(f"SELECT {JOB_FIELDS} FROM jobs WHERE id = ?", (job_id,)).fetchone())
            c.execute("INSERT INTO job_attempts (job_id, attempt, worker_id, started_at) VALUES (?, ?, ?, ?)",
                      (job_id, job["attempt_count"], worker_id, now))
            return job

    def job_progress(self, job_id: int, worker_id: str, attempt: int, progress: dict | None,
                     now: float, lease_s: float) -> str:
        """Record progress and extend the lease. 'ok', 'gone' (not this worker's attempt) or 'unknown'."""
        with self.tx() as c:
            r = c.execute("SELECT status, claimed_by, attempt_count FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if r is None:
                return "unknown"
            if r[0] != "running" or r[1] != worker_id or r[2] != attempt:
                return "gone"
            if progress is None:
                c.execute("UPDATE jobs SET lease_until = ? WHERE id = ?", (now + lease_s, job_id))
            else:
                c.execute("UPDATE jobs SET lease_until = ?, progress = ? WHERE id = ?",
                          (now + lease_s, json.dumps(progress), job_id))
            return "ok"

    def job_result(self, job_id: int, worker_id: str, attempt: int, result: dict | None,
                   error: str | None, now: float, release: bool = False) -> str:
        """Record the outcome of one attempt; idempotent per (job, attempt).

        Returns 'accepted' (this attempt decided the job), 'retry' (failed, back to
        pending), 'released' (the worker gave the job back unfinished, e.g. on quit:
        the attempt does not count), 'failed' (out of attempts), 'duplicate' (this attempt was already
        recorded), 'late' (a reclaimed attempt: kept for review, job unchanged) or 'unknown'.
        """
        with self.tx() as c:
            job = c.execute("SELECT status, claimed_by, attempt_count, max_attempts FROM jobs WHERE id = ?",
                            (job_id,)).fetchone()
            if job is None:
                return "unknown"
            att = c.execute("SELECT outcome, worker_id FROM job_attempts WHERE job_id = ? AND attempt = ?",
                            (job_id, attempt)).fetchone()
            if att is None or att[1] != worker_id:
                return "unknown"
            if att[0] in ("succeeded", "failed", "late", "late-failed", "released"):
                return "duplicate"
            res_json = json.dumps(result) if result is not None else None
            current = job[0] == "running" and job[1] == worker_id and job[2] == attempt
            if not current:
                c.execute("UPDATE job_attempts SET ended_at = COALESCE(ended_at, ?), reported_at = ?, "
                          "outcome = ?, error = CASE WHEN ? IS NULL THEN error "
                          "ELSE COALESCE(error || '; then reported: ', '') || ? END, result = ? "
                          "WHERE job_id = ? AND attempt = ?",
                          (now, now, "late" if error is None else "late-failed", error, error, res_json,
                           job_id, attempt))
                return "late"
            if release and error is not None:
                c.execute("UPDATE job_attempts SET ended_at = ?, reported_at = ?, outcome = 'released', error = ? "
                          "WHERE job_id = ? AND attempt = ?", (now, now, error, job_id, attempt))
                c.execute("UPDATE jobs SET status = 'pending', lease_until = NULL, "
                          "max_attempts = max_attempts + 1 WHERE id = ?", (job_id,))
                return "released"
            if error is None:
                c.execute("UPDATE job_attempts SET ended_at = ?, reported_at = ?, outcome = 'succeeded', result = ? "
                          "WHERE job_id = ? AND attempt = ?", (now, now, res_json, job_id, attempt))
                c.execute("UPDATE jobs SET status = 'succeeded', result = ?, error = NULL, finished_at = ?, "
                          "lease_until = NULL WHERE id = ?", (res_json, now, job_id))
                return "accepted"
            c.execute("UPDATE job_attempts SET ended_at = ?, reported_at = ?, outcome = 'failed', error = ? "
                      "WHERE job_id = ? AND attempt = ?", (now, now, error, job_id, attempt))
            if job[2] >= job[3]:
                c.execute("UPDATE jobs SET status = 'failed', error = ?, finished_at = ?, lease_until = NULL, "
                          "review = 1 WHERE id = ?", (error, now, job_id))
                return "failed"
            c.execute("UPDATE jobs SET status = 'pending', error = ?, lease_until = NULL WHERE id = ?",
                      (error, job_id))
            return "retry"

    def reclaim_expired(self, now: float) -> list[int]:
        """Return running jobs whose lease ran out to pending (or fail them when out of attempts)."""
        changed = []
        with self.tx() as c:
            rows = c.execute("SELECT id, attempt_count, max_attempts, claimed_by FROM jobs "
                             "WHERE status = 'running' AND lease_until < ?", (now,)).fetchall()
            for job_id, attempt, max_attempts, worker in rows:
                msg = f"lease expired on worker {worker} (attempt {attempt})"
                c.execute("UPDATE job_attempts SET ended_at = ?, outcome = 'reclaimed', error = ? "
                          "WHERE job_id = ? AND attempt = ? AND outcome IS NULL", (now, msg, job_id, attempt))
                if attempt >= max_attempts:
                    c.execute("UPDATE jobs SET status = 'failed', error = ?, finished_at = ?, lease_until = NULL, "
                              "review = 1 WHERE id = ?", (msg, now, job_id))
                else:
                    c.execute("UPDATE jobs SET status = 'pending', error = ?, lease_until = NULL WHERE id = ?",
                              (msg, job_id))
                changed.append(job_id)
        return changed

    def cancel_job(self, job_id: int, now: float) -> str:
        with self.tx() as c:
            r = c.execute("SELECT status FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if r is None:
                return "unknown"
            if r[0] in FINAL_STATUSES:
                return r[0]
            c.execute("UPDATE jobs SET status = 'cancelled', finished_at = ?, lease_until = NULL WHERE id = ?",
                      (now, job_id))
            return "cancelled"

    def cancel_batch(self, batch_id: str, now: float) -> list[int] | None:
        with self.tx() as c:
            if c.execute("SELECT 1 FROM batches WHERE id = ?", (batch_id,)).fetchone() is None:
                return None
            ids = [r[0] for r in c.execute("SELECT id FROM jobs WHERE batch_id = ? AND status IN ('pending', 'running') "
                                           "ORDER BY id", (batch_id,))]
            c.execute("UPDATE jobs SET status = 'cancelled', finished_at = ?, lease_until = NULL "
                      "WHERE batch_id = ? AND status IN ('pending', 'running')", (now, batch_id))
            return ids

    def job(self, job_id: int) -> Job | None:
        c = self.conn()
        r = c.execute(f"SELECT {JOB_FIELDS} FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if r is None:
            return None
        job = _job(r)
        job["attempts"] = [
            dict(attempt=a[0], worker_id=a[1], started_at=a[2], ended_at=a[3], outcome=a[4], error=a[5],
                 result=json.loads(a[6]) if a[6] else None, reported_at=a[7])
            for a in c.execute("SELECT attempt, worker_id, started_at, ended_at, outcome, error, result, "
                               "reported_at FROM job_attempts WHERE job_id = ? ORDER BY attempt", (job_id,))]
        return job

    def jobs(self, status: str | None = None, type_: str | None = None, node: str | None = None,
             batch_id: str | None = None, limit: int = 100, offset: int = 0,
             with_result: bool = False) -> JobPage:
        where, args = [], []
        for col, val in (("status", status), ("type", type_), ("claimed_by", node), ("batch_id", batch_id)):
            if val:
                where.append(f"{col} = ?")
                args.append(val)
        clause = ("WHERE " + " AND ".join(where)) if where else ""
        c = self.conn()
        total = c.execute(f"SELECT count(*) FROM jobs {clause}", args).fetchone()[0]
        rows = c.execute(f"SELECT {JOB_FIELDS} FROM jobs {clause} ORDER BY id DESC LIMIT ? OFFSET ?",
                         (*args, limit, offset)).fetchall()
        out = []
        for r in rows:
            j = _job(r)
            if not with_result:
                j.pop("payload")
                j["result"] = _result_summary(j["result"])
            out.append(j)
        return JobPage(jobs=out, total=total)

    def job_counts_by_node(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for node, status, n in self.conn().execute(
                "SELECT claimed_by, status, count(*) FROM jobs WHERE claimed_by IS NOT NULL "
                "AND status IN ('running', 'succeeded', 'failed') GROUP BY claimed_by, status"):
            key = {"running": "running", "succeeded": "done", "failed": "failed"}[status]
            out.setdefault(node, {"running": 0, "done": 0, "failed": 0})[key] = n
        return out

    def queue_counts(self) -> dict[str, int]:
        out = {s: 0 for s in JOB_STATUSES}
        for status, n in self.conn().execute("SELECT status, count(*) FROM jobs GROUP BY status"):
            out[status] = n
        return out

    def batch(self, batch_id: str) -> Batch | None:
        r = self.conn().execute("SELECT id, label, spec, created_at FROM batches WHERE id = ?",
                                (batch_id,)).fetchone()
        if r is None:
            return None
        return Batch(id=r[0], label=r[1], spec=json.loads(r[2]) if r[2] else None, created_at=r[3])

    def heartbeat(self, worker_id: str, state: dict, now: float, lease_s: float) -> set[int]:
        """Record a worker heartbeat and renew the leases of its running jobs; returns the ids
        renewed, so the ones missing are jobs the worker should stop (cancelled, reclaimed)."""
        with self.tx() as c:
            c.execute("""INSERT INTO workers (id, last_heartbeat, state) VALUES (?, ?, ?)
                         ON CONFLICT (id) DO UPDATE SET last_heartbeat = excluded.last_heartbeat,
                           state = excluded.state""", (worker_id, now, json.dumps(state)))
            running = [int(x) for x in state.get("running", []) if isinstance(x, int)]
            if not running:
                return set()
            marks = ",".join("?" * len(running))
            return {r[0] for r in c.execute(
                f"UPDATE jobs SET lease_until = ? WHERE status = 'running' AND claimed_by = ? "
                f"AND id IN ({marks}) RETURNING id", (now + lease_s, worker_id, *running))}

    def workers(self) -> list[WorkerRow]:
        return [WorkerRow(id=r[0], last_heartbeat=r[1], state=json.loads(r[2]))
                for r in self.conn().execute("SELECT id, last_heartbeat, state FROM workers ORDER BY id")]


_END = 2**62


class _ReadTx:
    def __init__(self, c: sqlite3.Connection):
        self.c = c

    def __enter__(self) -> sqlite3.Connection:
        self.c.execute("BEGIN")
        return self.c

    def __exit__(self, *exc: object) -> None:
        self.c.execute("COMMIT")


def _cpu_percent(sample: dict) -> float | None:
    cpu = sample.get("cpu")
    return cpu.get("percent") if isinstance(cpu, dict) else None


_QUEUE_BUCKET = ("INSERT INTO rollup_queue (tier, node_id, bucket_ms) VALUES (?, ?, ?) "
                 "ON CONFLICT (tier, node_id, bucket_ms) DO UPDATE SET gen = gen + 1")


_decode = msgspec.json.decode
_json = msgspec.json.encode


def _encode(obj: object) -> str:
    """Compact JSON for storage (msgspec: several times faster than json.dumps on samples)."""
    return msgspec.json.encode(obj).decode()


def ts_ms(ts: float) -> int:
    return int(round(float(ts) * 1000))


def _statements(sql: str) -> list[str]:
    lines = [l for l in sql.splitlines() if not l.strip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def _node(r: sqlite3.Row) -> NodeRow:
    return NodeRow(id=r[0], name=r[1], identity=json.loads(r[2] or "{}"), first_seen=r[3], last_seen=r[4],
                   latest=json.loads(r[5]) if r[5] else None)


def _job(r: sqlite3.Row) -> Job:
    j = dict(r)
    for k in ("payload", "progress", "result"):
        if j.get(k):
            j[k] = json.loads(j[k])
    j["review"] = bool(j["review"])
    return j


def _result_summary(result: dict | None) -> dict | None:
    """The scalar fields of a result, for list views (schedules and plans stay out)."""
    if not isinstance(result, dict):
        return result
    return {k: v for k, v in result.items() if isinstance(v, (int, float, str, bool)) or v is None}
