"""The store backends the contract suite runs against, and a way for tests to read a hub's
store through the interface instead of its files.

SQLite always runs. PostgreSQL runs on the server FORGE_TEST_PG_URL names (one the tests may
create databases on, e.g. postgresql://postgres@127.0.0.1:5433/postgres), or else, when
Debian's postgresql package is installed, on a throwaway cluster started on first use
(tests/pg_server.py); FORGE_TEST_PG_URL=off skips it. Each test gets a fresh database,
dropped afterwards. Another backend adds one entry to `BACKENDS` and a
branch in `fresh_url`.
"""
from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path
from typing import Awaitable, Callable, Iterator, TypeVar

import pg_server
from hub.store import Store, open_store, sqlite_url

T = TypeVar("T")

PG_URL = os.environ.get("FORGE_TEST_PG_URL", "")
PG_ON = PG_URL != "off" and bool(PG_URL or pg_server.available())
BACKENDS = ["sqlite", *(["postgresql"] if PG_ON else [])]


@contextlib.contextmanager
def fresh_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty store of this backend, for one test."""
    if backend == "sqlite":
        yield sqlite_url(tmp_path / "forge.db")
        return
    with pg_server.fresh_database(PG_URL or pg_server.shared().base_url) as url:
        yield url


def query_store(url_or_path: str | Path, fn: Callable[[Store], Awaitable[T]]) -> T:
    """Open a store (a URL, or a hub's SQLite file), run `fn` on it and close it again: how a
    synchronous test reads what a live hub stored."""
    url = url_or_path if isinstance(url_or_path, str) else sqlite_url(url_or_path)

    async def run() -> T:
        store = await open_store(url)
        try:
            return await fn(store)
        finally:
            await store.close()
    return asyncio.run(run())
