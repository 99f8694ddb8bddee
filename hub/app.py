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
from .errors import BODY_TIMEOUT, STORE_UNAVAILABLE, error_middleware
from .events import Broadcaster, encode
from .fleet import SPARK_POINTS, FleetState
from .limits import AttemptWindow
from .security import (content_security_policy, host_check_middleware, inline_script_hashes, parse_hosts,
                       security_headers)
from .alerts.sealing import Sealer
from .alerts.service import Alerts, default_public_url
from .routes import alerts, fleet, ingest, job_actions, jobs, meta, tokens, web as web_routes
from .state import HUB, HubState
from .store import open_store
from .tasks import all_tasks, every

log = logging.getLogger("forge.hub")

MAX_BODY = 16 * 1024 * 1024


def create_app(config: HubConfig) -> web.Application:
    app = web.Application(middlewares=[host_check_middleware(parse_hosts(config.allowed_hosts)), error_middleware],
                          client_max_size=MAX_BODY)
    app[BODY_TIMEOUT] = config.body_timeout_s
    app.on_response_prepare.append(security_headers(content_security_policy(
        inline_script_hashes(web_routes.STATIC / "index.html"))))
    app.cleanup_ctx.append(_hub_context(config))
    app.on_shutdown.append(_end_held_requests)
    for mod in (ingest, fleet, tokens, jobs, job_actions, meta, alerts, web_routes):
        app.add_routes(mod.routes)
    web_routes.setup_static(app)
    return app


async def _end_held_requests(app: web.Application) -> None:
    """Shutdown waits for open requests (up to the runner's shutdown_timeout): end the ones the
    hub holds open on purpose, event streams and long-polled claims, so a hub stops at once."""
    hub = app.get(HUB)
    if hub is not None:
        hub.closing.set()
        hub.events.close_all()


def _hub_context(config: HubConfig):
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        Path(config.data_dir).mkdir(parents=True, exist_ok=True)
        store = await open_store(config.resolved_store_url)
        store.samples.set_read_cache(int(config.read_cache_mb * 2**20))
        hub = HubState(config=config, store=store,
                       fleet=FleetState(config.degraded_after_s, config.offline_after_s),
                       events=Broadcaster(), tokens=TokenCache(store.nodes),
                       join_attempts=AttemptWindow(config.join_attempts_per_minute))
        await _load_fleet(hub)
        hub.alerts = Alerts(store.alerts, await asyncio.to_thread(Sealer, config.data_dir),
                            config.offline_after_s, config.public_url or default_public_url(config.port),
                            lambda data: hub.events.publish_alert(encode("alert", data)))
        await hub.alerts.start([(n.id, n.last_seen, n.identity, msgspec.json.decode(n.latest_raw) if n.latest_raw else None)
                                for n in hub.fleet.nodes.values()])
        app[HUB] = hub
        app[STORE_UNAVAILABLE] = store.unavailable
        tasks = [asyncio.create_task(every(interval, step, name), name=name)
                 for name, interval, step in all_tasks(hub)]
        yield
        hub.events.close_all()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await hub.alerts.stop()
        try:
            await hub.tokens.flush_use()
            await store.samples.roll_up(time.time(), include_current=True)
        finally:
            await store.close()
    return ctx


async def _load_fleet(hub: HubState) -> None:
    rows = await hub.nodes.nodes()
    sparks = {r.id: await hub.samples.recent_cpu(r.id, SPARK_POINTS) for r in rows}
    counts = await hub.jobs.job_counts_by_node()
    hub.fleet.load(rows, sparks, counts, time.time())
