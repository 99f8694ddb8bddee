"""The PostgreSQL backend as one `Store`: a connection pool shared by its parts, and the
listener that hears the other hubs."""
from __future__ import annotations

import uuid

import psycopg
from psycopg_pool import AsyncConnectionPool

from ..interface import MaintenanceReport, PeerNews, Store
from .alerts import PgAlerts
from .jobs import PgJobQueue
from .nodes import PgNodeStore
from .peers import CHANNEL_NEWS, PAYLOAD_MAX, Listener, tagged
from .samples import PgSampleStore


class PostgresStore(Store):
    unavailable = (psycopg.OperationalError,)  # a lost connection, a restart; PoolTimeout is one too

    def __init__(self, pool: AsyncConnectionPool, listener: Listener, hub_id: str):
        self.pool = pool
        self.listener = listener
        self.hub_id = hub_id
        self.samples = PgSampleStore(pool, hub_id)
        self.nodes = PgNodeStore(pool, hub_id)
        self.jobs = PgJobQueue(pool, listener, hub_id)
        self.alerts = PgAlerts(pool)

    async def maintain(self, now: float) -> MaintenanceReport:
        """Nothing to do: PostgreSQL's autovacuum and checkpointer look after themselves."""
        return MaintenanceReport()

    async def peer_news(self, timeout: float) -> PeerNews:
        return await self.listener.news(timeout)

    async def announce_watching(self, node_ids: list[str]) -> None:
        """In notifications of at most PAYLOAD_MAX bytes each."""
        chunks, current = [], ""
        for node_id in node_ids:
            if current and len(current) + len(node_id) + 1 > PAYLOAD_MAX - 40:
                chunks.append(current)
                current = ""
            current = f"{current},{node_id}" if current else node_id
        if current:
            chunks.append(current)
        if chunks:
            async with self.pool.connection() as conn:
                await conn.execute("SELECT pg_notify(%s, p) FROM unnest(%b::text[]) AS p",
                                   (CHANNEL_NEWS, [tagged(self.hub_id, "watch:" + c) for c in chunks]))

    async def close(self) -> None:
        await self.samples.close()
        await self.listener.close()
        await self.pool.close()


def new_hub_id() -> str:
    return uuid.uuid4().hex[:12]
