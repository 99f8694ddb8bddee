"""The PostgreSQL backend as one `Store`: a connection pool shared by its parts, and the
listener that hears the other hubs."""
from __future__ import annotations

import uuid

import psycopg
from psycopg_pool import AsyncConnectionPool

from ..interface import MaintenanceReport, PeerNews, Store
from . import partitions
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
        self.alerts = PgAlerts(pool, hub_id)
        self._partitioned_day: int | None = None  # the day whose partitions ahead are known to exist

    async def maintain(self, now: float) -> MaintenanceReport:
        """Make the raw samples' day partitions ahead (once a day per hub; PostgreSQL's
        autovacuum and checkpointer look after the rest)."""
        today = partitions.day_of(int(now * 1000))
        if today == self._partitioned_day:
            return MaintenanceReport()
        async with self.pool.connection() as conn:
            made = await partitions.make_ahead(conn, int(now * 1000))
            have = await partitions.day_partitions(conn)
        if all(d in have for d in range(today, today + partitions.AHEAD_DAYS + 1)):
            self._partitioned_day = today  # else another hub holds the lock: look again next call
        return MaintenanceReport(details={"partitions_made": made} if made else {})

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
