"""Raw samples by day: one partition of `samples` per UTC day (samples_dYYYYMMDD), made a few
days ahead, and dropped whole once the day is past the retention.

Several hubs run the same maintenance; advisory locks let one of them make or drop a
partition at a time, and `CREATE TABLE IF NOT EXISTS` makes a late second attempt a no-op.
A sample whose day has no partition lands in `samples_default` (migration 003), which
retention prunes by time; when a partition is made for a day the default partition already
holds rows of, those rows are moved into it in the same transaction (PostgreSQL refuses to
make a partition whose rows sit in the default one).
"""
from __future__ import annotations

import datetime as dt
import re

import psycopg

from .connect import LOCK_PARTITIONS

DAY_MS = 86_400_000
AHEAD_DAYS = 2  # today and the next two days exist at any time
_NAME = re.compile(r"^samples_d(\d{8})$")


def day_of(ts_ms: int) -> int:
    """Days since 1970-01-01 (UTC) of a time in milliseconds."""
    return ts_ms // DAY_MS


def partition_name(day: int) -> str:
    return "samples_d" + (dt.date(1970, 1, 1) + dt.timedelta(days=day)).strftime("%Y%m%d")


def day_of_name(name: str) -> int | None:
    m = _NAME.match(name)
    if not m:
        return None
    return (dt.datetime.strptime(m.group(1), "%Y%m%d").date() - dt.date(1970, 1, 1)).days


async def day_partitions(conn: psycopg.AsyncConnection) -> dict[int, str]:
    """The day partitions of `samples` that exist: {day: table name}."""
    cur = await conn.execute("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                             "WHERE i.inhparent = 'samples'::regclass")
    out = {}
    for (name,) in await cur.fetchall():
        day = day_of_name(name)
        if day is not None:
            out[day] = name
    return out


async def make_ahead(conn: psycopg.AsyncConnection, now_ms: int) -> list[str]:
    """Make the partitions of today and the AHEAD_DAYS after it that are missing; the names
    made. Each in a transaction of its own under an advisory lock; a hub that finds the
    lock taken makes nothing this time (another hub is at it)."""
    today = day_of(now_ms)
    have = await day_partitions(conn)
    made = []
    for day in range(today, today + AHEAD_DAYS + 1):
        if day in have:
            continue
        name, lo, hi = partition_name(day), day * DAY_MS, (day + 1) * DAY_MS
        async with conn.transaction():
            cur = await conn.execute("SELECT pg_try_advisory_xact_lock(%s)", (LOCK_PARTITIONS,))
            if not (await cur.fetchone())[0]:
                return made
            if day in await day_partitions(conn):
                continue
            # The parent first, so this transaction never waits for a stronger lock than it holds.
            await conn.execute("LOCK TABLE samples IN ACCESS EXCLUSIVE MODE")
            await conn.execute("CREATE TEMP TABLE samples_moving (LIKE samples) ON COMMIT DROP")
            await conn.execute("WITH moved AS (DELETE FROM samples_default WHERE ts_ms >= %s AND ts_ms < %s "
                               "RETURNING *) INSERT INTO samples_moving SELECT * FROM moved", (lo, hi))
            await conn.execute(f"CREATE TABLE {name} PARTITION OF samples FOR VALUES FROM ({lo}) TO ({hi})")
            await conn.execute("INSERT INTO samples SELECT * FROM samples_moving")
        made.append(name)
    return made


async def drop_before(conn: psycopg.AsyncConnection, cutoff_ms: int) -> int:
    """Drop the day partitions that end at or before `cutoff_ms`; the rows they held. The
    caller holds the prune lock. Each drop is a short transaction of its own: it locks the
    day's table (which no current push writes to), counts it and drops it."""
    removed = 0
    for day, name in sorted((await day_partitions(conn)).items()):
        if (day + 1) * DAY_MS > cutoff_ms:
            break
        async with conn.transaction():
            await conn.execute(f"LOCK TABLE {name} IN ACCESS EXCLUSIVE MODE")
            cur = await conn.execute(f"SELECT count(*) FROM {name}")
            removed += (await cur.fetchone())[0]
            await conn.execute(f"DROP TABLE {name}")
    return removed
