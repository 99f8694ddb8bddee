"""The PostgreSQL backend: `open("postgresql://user:pass@host:port/db")`.

Any number of hubs may open the same database; see peers.py for how they hear one another
and samples.py / jobs.py for what runs once across them.
"""
from __future__ import annotations

import time

import psycopg

from .. import StoreUrlError
from ..interface import Store
from .connect import connect_once, migrate, open_error, open_pool
from .peers import Listener
from .store import PostgresStore, new_hub_id


async def open(url: str) -> Store:  # noqa: A001 - the name every backend module exports
    """Connect, migrate, and start listening; a `StoreUrlError` of one line when the server
    cannot be reached or the user lacks the rights to set up the tables."""
    try:
        conn = await connect_once(url)
        try:
            await migrate(conn)
        finally:
            await conn.close()
        pool = await open_pool(url)
    except (psycopg.Error, OSError) as e:
        raise StoreUrlError(open_error(url, e)) from None
    except Exception as e:  # psycopg_pool.PoolTimeout and the like
        raise StoreUrlError(open_error(url, e)) from None
    hub_id = new_hub_id()
    listener = Listener(url, hub_id, pool)
    try:
        await listener.start()
    except (psycopg.Error, OSError) as e:
        await pool.close()
        raise StoreUrlError(open_error(url, e)) from None
    store = PostgresStore(pool, listener, hub_id)
    try:
        await store.maintain(time.time())  # today's partition before the first push
    except (psycopg.Error, OSError) as e:
        await store.close()
        raise StoreUrlError(open_error(url, e)) from None
    return store
