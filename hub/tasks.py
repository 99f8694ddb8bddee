"""Background tasks of the hub: SSE coalescing, status watch, rollups, retention, lease reclaim."""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Awaitable, Callable

from .events import encode
from .rollup import HOUR_MS, MINUTE_MS, hours_of
from .state import HubState

log = logging.getLogger("forge.hub")


async def every(seconds: float, step: Callable[[], Awaitable[None]], name: str) -> None:
    """Run `step` every `seconds`; an error is logged and the loop carries on."""
    while True:
        await asyncio.sleep(seconds)
        try:
            await step()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("background task %s failed; retrying next round", name)


def fleet_events(hub: HubState) -> Callable[[], Awaitable[None]]:
    async def step() -> None:
        if hub.events.jobs_dirty:
            hub.events.jobs_dirty = False
            counts = await hub.db.read(hub.db.store.job_counts_by_node)
            hub.events.dirty.update(hub.fleet.set_job_counts(counts))
        if not hub.events.dirty:
            return
        dirty, hub.events.dirty = hub.events.dirty, set()
        if not hub.events.fleet:
            return  # nobody watching: summaries would be built for no one
        now = time.time()
        nodes = [hub.fleet.event_summary(hub.fleet.nodes[i], now) for i in sorted(dirty) if i in hub.fleet.nodes]
        if nodes:
            hub.events.publish_fleet(encode("fleet", {"now": now, "nodes": nodes}))
    return step


def status_watch(hub: HubState) -> Callable[[], Awaitable[None]]:
    async def step() -> None:
        for node, previous in hub.fleet.check_status(time.time()):
            chunk = encode("status", {"id": node.id, "status": node.status, "previous": previous})
            hub.events.publish_fleet(chunk)
            hub.events.publish_node(node.id, chunk)
            hub.events.dirty.add(node.id)
    return step


ROLLUP_CHUNK = 200
ROLLUP_DUTY = 0.5  # share of one core the rollups may take while catching up


def rollups(hub: HubState) -> Callable[[], Awaitable[None]]:
    """Average finished minutes (and then their hours) on a reader thread and write them, a chunk
    at a time, so memory stays flat and neither the writer nor the event loop waits long.
    After each chunk it rests as long again, so at the end of every minute (10,000 buckets
    for 10,000 nodes) it takes half a core for twice as long rather than a whole core from
    the ingest path."""
    async def step() -> None:
        ready = sorted(hub.rollups.take_ready(time.time()))
        db, r = hub.db, hub.rollups
        try:
            for source, target, width, buckets in (("samples", "samples_1m", MINUTE_MS, ready),
                                                   ("samples_1m", "samples_1h", HOUR_MS, sorted(hours_of(set(ready))))):
                for i in range(0, len(buckets), ROLLUP_CHUNK):
                    started = time.perf_counter()
                    averaged = await db.read(r.averages, source, set(buckets[i:i + ROLLUP_CHUNK]), width)
                    busy = time.perf_counter() - started
                    await db.write(db.store.put_rollups, target, averaged)
                    await asyncio.sleep(busy * (1 / ROLLUP_DUTY - 1))
        except asyncio.CancelledError:
            r.dirty_minutes.update(ready)  # shutdown computes them (recomputing is harmless)
            raise
    return step


def retention(hub: HubState) -> Callable[[], Awaitable[None]]:
    async def step() -> None:
        c = hub.config
        removed = await hub.db.write(hub.db.store.prune, time.time(), c.raw_retention_s, c.minute_retention_s,
                                     c.hour_retention_s)
        if any(removed.values()):
            log.info("retention prune removed %s", removed)
    return step


def reclaim(hub: HubState) -> Callable[[], Awaitable[None]]:
    async def step() -> None:
        ids = await hub.db.write(hub.db.store.reclaim_expired, time.time())
        if ids:
            log.warning("reclaimed %d job(s) whose lease expired: %s", len(ids), ids[:20])
            hub.events.jobs_dirty = True
            hub.events.jobs_ready.notify()
    return step


def checkpoint(hub: HubState) -> Callable[[], Awaitable[None]]:
    async def step() -> None:
        await hub.db.read(hub.db.store.checkpoint)
    return step


def all_tasks(hub: HubState) -> list[tuple[str, float, Callable[[], Awaitable[None]]]]:
    c = hub.config
    return [
        ("fleet-events", c.sse_coalesce_s, fleet_events(hub)),
        ("status-watch", c.status_interval_s, status_watch(hub)),
        ("rollups", c.rollup_interval_s, rollups(hub)),
        ("retention", c.prune_interval_s, retention(hub)),
        ("reclaim", c.reclaim_interval_s, reclaim(hub)),
        ("wal-checkpoint", c.checkpoint_interval_s, checkpoint(hub)),
        ("token-use", c.token_use_interval_s, hub.tokens.flush_use),
    ]
