"""Background tasks of the hub: SSE coalescing, status watch, and the store's upkeep (rollups,
retention, lease reclaim, backend maintenance), each through the store's interface."""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Awaitable, Callable

from .events import encode
from .state import HubState
from .store import Retention

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
            counts = await hub.jobs.job_counts_by_node()
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


def rollups(hub: HubState) -> Callable[[], Awaitable[None]]:
    """Average the minutes that are over (and their hours); what a cut-off pass leaves is
    still queued in the store, for the next pass or the one at shutdown."""
    async def step() -> None:
        await hub.samples.roll_up(time.time())
    return step


def retention(hub: HubState) -> Callable[[], Awaitable[None]]:
    async def step() -> None:
        c = hub.config
        removed = await hub.samples.prune(time.time(), Retention(raw_s=c.raw_retention_s, minute_s=c.minute_retention_s,
                                                                 hour_s=c.hour_retention_s))
        if any(removed.values()):
            log.info("retention prune removed %s", removed)
    return step


def reclaim(hub: HubState) -> Callable[[], Awaitable[None]]:
    async def step() -> None:
        ids = await hub.jobs.reclaim_expired(time.time())
        if ids:
            log.warning("reclaimed %d job(s) whose lease expired: %s", len(ids), ids[:20])
            hub.events.jobs_dirty = True
    return step


def maintain(hub: HubState) -> Callable[[], Awaitable[None]]:
    async def step() -> None:
        await hub.store.maintain(time.time())
    return step


def all_tasks(hub: HubState) -> list[tuple[str, float, Callable[[], Awaitable[None]]]]:
    c = hub.config
    return [
        ("fleet-events", c.sse_coalesce_s, fleet_events(hub)),
        ("status-watch", c.status_interval_s, status_watch(hub)),
        ("rollups", c.rollup_interval_s, rollups(hub)),
        ("retention", c.prune_interval_s, retention(hub)),
        ("reclaim", c.reclaim_interval_s, reclaim(hub)),
        ("store-maintenance", c.checkpoint_interval_s, maintain(hub)),
        ("token-use", c.token_use_interval_s, hub.tokens.flush_use),
    ]
