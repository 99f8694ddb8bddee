"""The one app factory: `create_app(config)`, used by the CLI, the desktop app's
embedded hub, the PyInstaller build and the tests alike."""
from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import AsyncIterator

import msgspec
from aiohttp import web

from .auth import TokenCache
from .config import HubConfig
from .errors import error_middleware
from .events import Broadcaster, encode
from .fleet import SPARK_POINTS, FleetState
from .group_commit import GroupCommit
from .rollup import Rollups
from .alerts.sealing import Sealer
from .alerts.service import Alerts, default_public_url
from .alerts.sqlite_store import SqliteAlertStore
from .routes import alerts, fleet, ingest, jobs, tokens, web as web_routes
from .state import HUB, HubState
from .store import AsyncStore, Store
from .tasks import all_tasks, every

log = logging.getLogger("forge.hub")

MAX_BODY = 16 * 1024 * 1024


def create_app(config: HubConfig) -> web.Application:
    app = web.Application(middlewares=[error_middleware], client_max_size=MAX_BODY)
    app.cleanup_ctx.append(_hub_context(config))
    for mod in (ingest, fleet, tokens, jobs, alerts, web_routes):
        app.add_routes(mod.routes)
    web_routes.setup_static(app)
    return app


def _hub_context(config: HubConfig):
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        Path(config.data_dir).mkdir(parents=True, exist_ok=True)
        db = AsyncStore(await asyncio.to_thread(Store, config.db_path, False))
        hub = HubState(config=config, db=db,
                       fleet=FleetState(config.degraded_after_s, config.offline_after_s),
                       events=Broadcaster(), tokens=TokenCache(db), rollups=Rollups(db.store),
                       join_attempts={}, ingest_writes=GroupCommit(db))
        await _load_fleet(hub)
        hub.alerts = Alerts(SqliteAlertStore(db), await asyncio.to_thread(Sealer, config.data_dir),
                            config.offline_after_s, config.public_url or default_public_url(config.port),
                            lambda data: hub.events.publish_fleet(encode("alert", data)))
        await hub.alerts.start([(n.id, n.last_seen, n.identity, msgspec.json.decode(n.latest_raw) if n.latest_raw else None)
                                for n in hub.fleet.nodes.values()])
        app[HUB] = hub
        tasks = [asyncio.create_task(every(interval, step, name), name=name)
                 for name, interval, step in all_tasks(hub)]
        yield
        hub.events.close_all()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await hub.alerts.stop()
        await hub.ingest_writes.close()
        ready = hub.rollups.take_ready(time.time() + 3600)
        if ready:
            await db.write(hub.rollups.compute, ready)
        await db.write(db.store.checkpoint, "TRUNCATE")
        await asyncio.to_thread(db.close)
    return ctx


async def _load_fleet(hub: HubState) -> None:
    store = hub.db.store
    rows = await hub.db.read(store.nodes)
    sparks = {r.id: await hub.db.read(store.recent_cpu, r.id, SPARK_POINTS) for r in rows}
    counts = await hub.db.read(store.job_counts_by_node)
    hub.fleet.load(rows, sparks, counts, time.time())
