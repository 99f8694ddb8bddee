"""Samples and their tiers on PostgreSQL.

Dedupe is the primary key with `ON CONFLICT DO NOTHING`; a batch of pushes goes in as one
`INSERT … SELECT FROM unnest(…)` per table. Rollups average in SQL: a recursive walk of each
sample's jsonb yields (path, leaf) rows, grouped per bucket and path; Python only puts the
means back into the shape of the bucket's latest sample. Raw samples are partitioned by day
(partitions.py): retention drops the days past it whole. Rollups and the retention prune
take an advisory lock, so with several hubs on one database one of them does each round,
and when that hub dies its session (and lock) goes with it and another takes over.
"""
from __future__ import annotations

from dataclasses import dataclass

from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from ..group_commit import GroupCommit
from ..interface import IngestResult, Push, Resolution, Retention, SampleStore
from ..averaging import bucket_average, steps_of
from .connect import LOCK_PRUNE, LOCK_ROLLUP
from .partitions import drop_before
from .peers import changes

MINUTE_MS = 60_000
HOUR_MS = 3_600_000
ROLLUP_CHUNK = 200
MAX_DRAINERS = 3  # group commits in flight at once (one's statements run while another's commit flushes)
TABLES = {"1s": "samples", "1m": "samples_1m", "1h": "samples_1h"}

_NODE_UPSERT = """
INSERT INTO nodes (id, name, identity, first_seen, last_seen, latest)
SELECT i, i, d, f, l, s FROM unnest(%b::text[], %b::jsonb[], %b::float8[], %b::float8[], %b::jsonb[])
  AS u (i, d, f, l, s)
ON CONFLICT (id) DO UPDATE SET
  identity = CASE WHEN excluded.identity = '{}'::jsonb THEN nodes.identity ELSE excluded.identity END,
  last_seen = excluded.last_seen,
  latest = CASE
    WHEN excluded.latest IS NULL THEN nodes.latest
    WHEN nodes.latest IS NULL THEN excluded.latest
    WHEN (excluded.latest->>'ts')::float8 >= (nodes.latest->>'ts')::float8 THEN excluded.latest
    ELSE nodes.latest END
RETURNING id, (xmax = 0) AS inserted"""

_QUEUE = """
INSERT INTO rollup_queue (tier, node_id, bucket_ms)
SELECT %s, n, b FROM unnest(%s::text[], %s::bigint[]) AS u (n, b)
ON CONFLICT (tier, node_id, bucket_ms) DO UPDATE SET gen = rollup_queue.gen + 1"""

# One row per (bucket, leaf path): the mean of the numbers found there, or for strings and
# booleans the latest one given. Paths are jsonb arrays of keys (strings), indexes (numbers)
# and, for the entries of keyed lists, {"k": key} (hub/store/averaging.py).
_LEAVES = """
WITH RECURSIVE
buckets (node_id, lo, hi) AS (SELECT * FROM unnest(%(nodes)s::text[], %(los)s::bigint[], %(his)s::bigint[])),
src AS (
  SELECT b.node_id, b.lo, s.ts_ms, s.data FROM buckets b
  JOIN {table} s ON s.node_id = b.node_id AND s.ts_ms >= b.lo AND s.ts_ms < b.hi),
tree (node_id, lo, ts_ms, path, v) AS (
  SELECT node_id, lo, ts_ms, '[]'::jsonb, data FROM src
  UNION ALL
  SELECT t.node_id, t.lo, t.ts_ms, t.path || jsonb_build_array(c.k), c.v
  FROM tree t CROSS JOIN LATERAL (
    SELECT to_jsonb(e.key) AS k, e.value AS v
      FROM jsonb_each(CASE WHEN jsonb_typeof(t.v) = 'object' THEN t.v ELSE '{{}}'::jsonb END) AS e
    UNION ALL
    SELECT CASE  -- an entry of a keyed list by its key (hub/store/averaging.py), else its index
             WHEN t.path = '["gpus"]'::jsonb AND jsonb_typeof(a.value->'vendor') = 'string'
                  AND jsonb_typeof(a.value->'index') = 'number'
               THEN jsonb_build_object('k', (a.value->>'vendor') || '/' || (a.value->>'index'))
             WHEN t.path IN ('["disk", "devices"]'::jsonb, '["net", "interfaces"]'::jsonb)
                  AND jsonb_typeof(a.value->'name') = 'string' THEN jsonb_build_object('k', a.value->>'name')
             WHEN t.path = '["containers"]'::jsonb AND jsonb_typeof(a.value->'id') = 'string'
               THEN jsonb_build_object('k', a.value->>'id')
             ELSE to_jsonb(a.ord - 1) END,
           a.value
      FROM jsonb_array_elements(CASE WHEN jsonb_typeof(t.v) = 'array' THEN t.v ELSE '[]'::jsonb END)
           WITH ORDINALITY AS a (value, ord)
  ) AS c
  WHERE jsonb_typeof(t.v) IN ('object', 'array'))
SELECT node_id, lo, path,
       avg((v #>> '{{}}')::float8) FILTER (WHERE jsonb_typeof(v) = 'number') AS mean,
       (array_agg(v ORDER BY ts_ms DESC) FILTER (WHERE jsonb_typeof(v) IN ('string', 'boolean')))[1] AS last
FROM tree WHERE jsonb_typeof(v) IN ('number', 'string', 'boolean')
GROUP BY node_id, lo, path"""

_LATEST = """
SELECT DISTINCT ON (s.node_id, b.lo) s.node_id, b.lo, s.data, count(*) OVER (PARTITION BY s.node_id, b.lo)
FROM unnest(%(nodes)s::text[], %(los)s::bigint[], %(his)s::bigint[]) AS b (node_id, lo, hi)
JOIN {table} s ON s.node_id = b.node_id AND s.ts_ms >= b.lo AND s.ts_ms < b.hi
ORDER BY s.node_id, b.lo, s.ts_ms DESC"""


def ts_ms(ts: float) -> int:
    return int(round(float(ts) * 1000))


@dataclass
class _NodeUpdate:
    """What a batch's pushes do to one node row, merged as if applied one after another."""
    identity: dict
    first_now: float
    last_now: float
    latest: dict | None = None
    latest_ms: int = -1


class PgSampleStore(SampleStore):
    """Concurrent pushes share one transaction (group commit: while one batch commits, the
    next queues up), written with one statement per table however many pushes it holds."""

    def __init__(self, pool: AsyncConnectionPool, hub_id: str):
        self.pool = pool
        self.hub_id = hub_id
        self._group = GroupCommit(self.ingest_many, max_drainers=MAX_DRAINERS)

    async def ingest(self, push: Push) -> IngestResult:
        return await self._group.ingest(push)

    async def close(self) -> None:
        """Let the pushes already queued finish."""
        await self._group.close()

    async def ingest_many(self, pushes: list[Push]) -> list[IngestResult]:
        """One transaction for all the pushes, rows in key order (two hubs committing
        overlapping batches then cannot deadlock). A sample stored twice in the batch counts
        for the first push that has it, as if the pushes were stored one by one."""
        keys = [[(p.node_id, ts_ms(s["ts"])) for s in p.samples] for p in pushes]
        first: dict[tuple[str, int], dict] = {}
        for p, ks in zip(pushes, keys):
            for k, sample in zip(ks, p.samples):
                first.setdefault(k, sample)
        rows = sorted(first.items())
        nodes: dict[str, _NodeUpdate] = {}
        for p, ks in zip(pushes, keys):
            u = nodes.get(p.node_id)
            if u is None:
                u = nodes[p.node_id] = _NodeUpdate(identity=p.identity or {}, first_now=p.now, last_now=p.now)
            elif p.identity:
                u.identity = p.identity
            u.last_now = p.now
            if ks:
                i = max(range(len(ks)), key=lambda j: ks[j][1])
                if ks[i][1] >= u.latest_ms:
                    u.latest, u.latest_ms = p.samples[i], ks[i][1]
        minutes = sorted({(n, t // MINUTE_MS * MINUTE_MS) for ks in keys for n, t in ks})
        ids = sorted(nodes)
        async with changes(self.pool, self.hub_id) as (conn, out):
            inserted: set[tuple[str, int]] = set()
            if rows:
                cur = await conn.execute(
                    "INSERT INTO samples (node_id, ts_ms, data) SELECT * FROM unnest(%b::text[], %b::bigint[], "
                    "%b::jsonb[]) ON CONFLICT DO NOTHING RETURNING node_id, ts_ms",
                    ([k[0] for k, _ in rows], [k[1] for k, _ in rows], [Jsonb(s) for _, s in rows]))
                inserted = {(r[0], r[1]) for r in await cur.fetchall()}
            cur = await conn.execute(_NODE_UPSERT, (
                ids, [Jsonb(nodes[i].identity) for i in ids], [nodes[i].first_now for i in ids],
                [nodes[i].last_now for i in ids],
                [Jsonb(nodes[i].latest) if nodes[i].latest is not None else None for i in ids]))
            created = {r[0] for r in await cur.fetchall() if r[1]}
            if minutes:
                await conn.execute(_QUEUE, ("1m", [m[0] for m in minutes], [m[1] for m in minutes]))
            for p in pushes:
                out.push(p)
        results = []
        for p, ks in zip(pushes, keys):
            accepted = 0
            for k in ks:
                if k in inserted:
                    inserted.discard(k)
                    accepted += 1
            results.append(IngestResult(accepted=accepted, duplicate=len(ks) - accepted,
                                        new_node=p.node_id in created))
            created.discard(p.node_id)
        return results

    async def series(self, node_id: str, *, resolution: Resolution, points: int,
                     since: float | None = None, until: float | None = None,
                     every_s: int | None = None) -> list[dict]:
        table = TABLES[resolution]
        lo = ts_ms(since) if since is not None else -1
        hi = ts_ms(until) if until is not None else 2**62
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                f"SELECT data FROM {table} WHERE node_id = %s AND ts_ms >= %s AND ts_ms <= %s "
                "AND ts_ms %% %s = 0 ORDER BY ts_ms DESC LIMIT %s",
                (node_id, lo, hi, every_s * 1000 if every_s else 1, points))
            rows = await cur.fetchall()
        return [r[0] for r in reversed(rows)]

    async def recent_cpu(self, node_id: str, points: int) -> list[float | None]:
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT CASE WHEN jsonb_typeof(data #> '{cpu,percent}') = 'number' "
                "THEN (data #>> '{cpu,percent}')::float8 END FROM samples WHERE node_id = %s "
                "ORDER BY ts_ms DESC LIMIT %s", (node_id, points))
            rows = await cur.fetchall()
        return [r[0] for r in reversed(rows)]

    # --- tiers --------------------------------------------------------------------------
    async def roll_up(self, now: float, *, include_current: bool = False) -> int:
        """Queued minutes, then the hours they touched, a chunk per transaction, under a
        session advisory lock: when another hub holds it, this one writes nothing (0)."""
        horizon = 2**62 if include_current else ts_ms(now) // MINUTE_MS * MINUTE_MS - MINUTE_MS
        written = 0
        async with self.pool.connection() as conn:
            cur = await conn.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_ROLLUP,))
            if not (await cur.fetchone())[0]:
                return 0
            try:
                written = await self._roll_tier(conn, "1m", "samples", "samples_1m", MINUTE_MS, horizon)
                await self._roll_tier(conn, "1h", "samples_1m", "samples_1h", HOUR_MS, 2**62)
            finally:
                if not conn.closed:
                    await conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_ROLLUP,))
        return written

    async def _roll_tier(self, conn, tier: str, source: str, target: str, width: int, horizon: int) -> int:
        written = 0
        while True:
            async with conn.transaction():
                cur = await conn.execute(
                    "SELECT node_id, bucket_ms, gen FROM rollup_queue WHERE tier = %s AND bucket_ms <= %s "
                    "ORDER BY bucket_ms, node_id LIMIT %s", (tier, horizon, ROLLUP_CHUNK))
                queued = await cur.fetchall()
                if not queued:
                    return written
                rows = await self._averages(conn, source, [(q[0], q[1]) for q in queued], width)
                if rows:
                    await conn.execute(
                        f"INSERT INTO {target} (node_id, ts_ms, n, data) "
                        "SELECT * FROM unnest(%b::text[], %b::bigint[], %b::int[], %b::jsonb[]) "
                        "ON CONFLICT (node_id, ts_ms) DO UPDATE SET n = excluded.n, data = excluded.data",
                        ([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows],
                         [Jsonb(r[3]) for r in rows]))
                if tier == "1m":
                    hours = sorted({(q[0], q[1] // HOUR_MS * HOUR_MS) for q in queued})
                    await conn.execute(
                        "INSERT INTO rollup_queue (tier, node_id, bucket_ms) "
                        "SELECT '1h', n, b FROM unnest(%s::text[], %s::bigint[]) AS u (n, b) "
                        "ON CONFLICT (tier, node_id, bucket_ms) DO UPDATE SET gen = rollup_queue.gen + 1",
                        ([h[0] for h in hours], [h[1] for h in hours]))
                await conn.execute(
                    "DELETE FROM rollup_queue q USING unnest(%s::text[], %s::bigint[], %s::bigint[]) AS u (n, b, g) "
                    "WHERE q.tier = %s AND q.node_id = u.n AND q.bucket_ms = u.b AND q.gen = u.g",
                    ([q[0] for q in queued], [q[1] for q in queued], [q[2] for q in queued], tier))
                written += len(rows)

    async def _averages(self, conn, source: str, buckets: list[tuple[str, int]],
                        width: int) -> list[tuple[str, int, int, dict]]:
        args = {"nodes": [b[0] for b in buckets], "los": [b[1] for b in buckets],
                "his": [b[1] + width for b in buckets]}
        cur = await conn.execute(_LATEST.format(table=source), args)
        latest = {(r[0], r[1]): (r[2], r[3]) for r in await cur.fetchall()}
        if not latest:
            return []
        cur = await conn.execute(_LEAVES.format(table=source), args)
        leaves: dict[tuple[str, int], list] = {}
        for node_id, lo, path, mean, last in await cur.fetchall():
            steps = steps_of(path)
            if steps is not None:
                leaves.setdefault((node_id, lo), []).append((steps, mean, last))
        out = []
        for (node_id, lo), (data, n) in sorted(latest.items()):
            avg = bucket_average(data, leaves.get((node_id, lo), []))
            avg["ts"] = lo / 1000
            out.append((node_id, lo, n, avg))
        return out

    async def pending_rollups(self) -> int:
        async with self.pool.connection() as conn:
            cur = await conn.execute("SELECT count(*) FROM rollup_queue")
            return (await cur.fetchone())[0]

    async def prune(self, now: float, retention: Retention) -> dict[str, int]:
        """Raw days past the retention are dropped whole (partitions.py); what is left older
        than it (the day the cut-off falls in, the default partition) and the averaged tiers
        go by plain DELETEs by time. One hub at a time (a session advisory lock)."""
        out = {"samples": 0, "samples_1m": 0, "samples_1h": 0}
        async with self.pool.connection() as conn:
            cur = await conn.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_PRUNE,))
            if not (await cur.fetchone())[0]:
                return out
            try:
                out["samples"] = await drop_before(conn, ts_ms(now - retention.raw_s))
                async with conn.transaction():
                    for table, keep in (("samples", retention.raw_s), ("samples_1m", retention.minute_s),
                                        ("samples_1h", retention.hour_s)):
                        cur = await conn.execute(f"DELETE FROM {table} WHERE ts_ms < %s", (ts_ms(now - keep),))
                        out[table] += cur.rowcount
                    await conn.execute("DELETE FROM join_codes WHERE expires_at < %s", (now - 86400,))
            finally:
                if not conn.closed:
                    await conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_PRUNE,))
        return out

