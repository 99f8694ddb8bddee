"""Connecting to PostgreSQL: the pool, JSON through msgspec, migrations, readable errors.

Every failure to open the store becomes one `StoreUrlError` line that names the server
and the database (never the password) and says what to do, because the hub's operator
sees it on the console and nothing else.
"""
from __future__ import annotations

import logging
import time
from importlib import resources

import msgspec
import psycopg
from psycopg import errors as pg_errors
from psycopg.adapt import AdaptersMap
from psycopg.conninfo import conninfo_to_dict
from psycopg.types.json import set_json_dumps, set_json_loads
from psycopg_pool import AsyncConnectionPool

log = logging.getLogger("forge.hub")

CONNECT_TIMEOUT_S = 5
POOL_MAX = 10
POOL_WAIT_S = 5  # a request waits this long for a connection, then fails (503 while the database is away)
# The pool retries a lost connection with a doubling delay (1 s, 2 s, 4 s, ...) for this long,
# then gives that attempt up; the next request starts a fresh one. Kept short so that after
# a long outage the hub is back within seconds of the database, not after a 2-minute delay.
POOL_RECONNECT_S = 10

# Advisory lock keys (pg_advisory_lock takes a bigint; these are "forge" + a number).
LOCK_MIGRATE = 0x666F726765_01
LOCK_ROLLUP = 0x666F726765_02
LOCK_PRUNE = 0x666F726765_03
LOCK_RECLAIM = 0x666F726765_04
LOCK_ALERT_SEND = 0x666F726765_05
LOCK_PARTITIONS = 0x666F726765_06


def _dumps(obj: object) -> bytes:
    return msgspec.json.encode(obj)


def configure_json(adapters: AdaptersMap | psycopg.AsyncConnection) -> None:
    """jsonb in and out through msgspec (several times faster than the json module on samples)."""
    set_json_dumps(_dumps, adapters)
    set_json_loads(msgspec.json.decode, adapters)


def libpq_url(url: str) -> str:
    """`postgres://` and `postgresql+psycopg://` are the same server to libpq."""
    scheme, rest = url.split(":", 1)
    return "postgresql:" + rest if scheme.lower() in ("postgres", "postgresql+psycopg") else url


def describe(url: str) -> str:
    """host:port/dbname (as user) for messages; never the password."""
    try:
        d = conninfo_to_dict(libpq_url(url))
    except psycopg.ProgrammingError:
        return "(an unreadable URL)"
    host = d.get("host") or "localhost"
    port = d.get("port") or "5432"
    return f"{host}:{port}/{d.get('dbname') or d.get('user') or ''} as {d.get('user') or 'the current user'}"


def open_error(url: str, e: BaseException) -> str:
    """One line for a failure to reach or set up the database."""
    where = describe(url)
    text = " ".join(str(e).split()) or type(e).__name__
    first = text.rsplit("FATAL: ", 1)[-1] if "FATAL: " in text else text.rsplit(" failed: ", 1)[-1]
    primary = getattr(getattr(e, "diag", None), "message_primary", None)
    if primary:  # the server's own message, without the statement it quotes ("LINE 1: CREATE …")
        first = " ".join(primary.split())
    if isinstance(e, psycopg.OperationalError) and "does not exist" in first and first.startswith("database "):
        return f"PostgreSQL at {where}: {first}; create it first (createdb)"
    if isinstance(e, pg_errors.InsufficientPrivilege):
        return (f"PostgreSQL at {where}: this user may not create the hub's tables ({first}); "
                "make it the database's owner or GRANT CREATE ON SCHEMA public to it")
    if isinstance(e, pg_errors.InvalidCatalogName):
        return f"PostgreSQL at {where}: {first}; create it first (createdb)"
    if isinstance(e, psycopg.OperationalError):
        return f"cannot reach PostgreSQL at {where}: {first}"
    return f"PostgreSQL at {where}: {first}"


def migrations() -> list[tuple[int, str, str]]:
    """This backend's numbered migrations (hub/store/postgresql/migrations), in order."""
    out = []
    for entry in resources.files(__package__).joinpath("migrations").iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:3].isdigit():
            out.append((int(name[:3]), name, entry.read_text()))
    return sorted(out)


async def migrate(conn: psycopg.AsyncConnection) -> list[str]:
    """Apply the migrations not yet recorded in schema_migrations, each in its own transaction.
    Hubs starting together wait for one another on an advisory lock, so each runs once."""
    applied = []
    await conn.execute("SELECT pg_advisory_lock(%s)", (LOCK_MIGRATE,))
    try:
        await conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, "
                           "name text NOT NULL, applied_at double precision NOT NULL)")
        cur = await conn.execute("SELECT version FROM schema_migrations")
        done = {r[0] for r in await cur.fetchall()}
        for version, name, sql in migrations():
            if version in done:
                continue
            async with conn.transaction():
                await conn.execute(sql)
                await conn.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (%s, %s, %s)",
                                   (version, name, time.time()))
            applied.append(name)
            log.info("PostgreSQL store: applied migration %s", name)
    finally:
        await conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_MIGRATE,))
    return applied


async def connect_once(url: str) -> psycopg.AsyncConnection:
    conn = await psycopg.AsyncConnection.connect(libpq_url(url), autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)
    configure_json(conn)
    return conn


async def open_pool(url: str, max_size: int = POOL_MAX) -> AsyncConnectionPool:
    """A pool of autocommit connections (transactions are explicit). `check` tests a
    connection before lending it, so after a database restart the pool replaces the dead
    ones instead of handing them to a request; while the database is away a request waits
    POOL_WAIT_S for a connection and then fails with PoolTimeout (an OperationalError)."""
    async def configure(conn: psycopg.AsyncConnection) -> None:
        configure_json(conn)

    pool = AsyncConnectionPool(libpq_url(url), min_size=2, max_size=max_size, open=False, name="forge-hub",
                               kwargs={"autocommit": True, "connect_timeout": CONNECT_TIMEOUT_S},
                               configure=configure, check=AsyncConnectionPool.check_connection,
                               timeout=POOL_WAIT_S, reconnect_timeout=POOL_RECONNECT_S)
    await pool.open(wait=True, timeout=CONNECT_TIMEOUT_S * 2)
    return pool
