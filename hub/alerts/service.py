"""The hub's alerting, wired together: store, engine, sender and the loop that drives them."""
from __future__ import annotations

import asyncio
import logging
import socket
import time
from typing import Callable

import msgspec

from .engine import Engine
from .notify import Notifier, Sender, apprise_send
from .sealing import Sealer
from .schema import Alert
from ..store.alerts import RETENTION_S, AlertStore

log = logging.getLogger("forge.hub.alerts")

TICK_S = 1.0
PRUNE_EVERY_S = 3600.0
# Other hubs on the same store say when they change rules or maintenance windows (peer news:
# `changed_elsewhere`), and the next tick re-reads them. The slow re-read is for the change
# whose news was lost (its hub died between the commit and the notification).
SYNC_EVERY_S = 60.0


class Alerts:
    def __init__(self, store: AlertStore, sealer: Sealer, offline_after_s: float, public_url: str,
                 publish: Callable[[dict], None], sender: Sender = apprise_send):
        self.store = store
        self.sealer = sealer
        self.public_url = public_url.rstrip("/")
        self.publish = publish
        self.engine = Engine(store, offline_after_s, link=self.link, on_alert=self._announce)
        self.notifier = Notifier(store, sealer, sender)
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task] = []
        self._reloads = 0
        self._stale = False  # another hub changed rules or maintenance windows

    def link(self, node_id: str) -> str:
        return f"{self.public_url}/#/node/{node_id}"

    def _announce(self, alert: Alert, kind: str) -> None:
        log.warning("alert %s: %s on %s", kind.upper(), alert.rule_name, alert.node_id)
        self.publish({"alert": msgspec.to_builtins(alert), "kind": kind})
        self.notifier.kick()

    def observe(self, node_id: str, identity: dict, samples: list[dict], now: float) -> None:
        """The ingest hook: the newest sample of a push, evaluated in memory; writes happen later."""
        newest = max(samples, key=lambda s: s["ts"]) if samples else None
        self.engine.observe(node_id, identity, newest, now)
        if self.engine.pending_ops():
            self._wake.set()

    async def start(self, nodes: list[tuple[str, float, dict, dict | None]]) -> None:
        await self.engine.load(nodes, time.time())
        self._tasks = [asyncio.create_task(self._run(), name="alerts"),
                       asyncio.create_task(self.notifier.run(), name="alert-sender")]

    async def reload_rules(self) -> None:
        self._reloads += 1
        self.engine.set_rules(await self.store.rules())

    def changed_elsewhere(self) -> None:
        """Another hub on the same store changed rules or maintenance windows: re-read them now."""
        self._stale = True
        self._wake.set()

    async def _sync(self) -> None:
        """Take up what other hubs on the same store changed; a reload of this hub's own that
        ran meanwhile wins (what was read here may be older)."""
        reloads = self._reloads
        rules, maintenance = await self.store.rules(), await self.store.maintenance()
        if reloads == self._reloads:
            self.engine.set_rules(rules)
        self.engine.maintenance = maintenance

    async def _run(self) -> None:
        last_prune = 0.0
        last_sync = time.time()
        while True:
            try:  # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancel (bpo-42130)
                async with asyncio.timeout(TICK_S):
                    await self._wake.wait()
            except TimeoutError:
                pass
            self._wake.clear()
            try:
                now = time.time()
                if self._stale or now - last_sync > SYNC_EVERY_S:
                    self._stale, last_sync = False, now  # news arriving during the read: read again
                    try:
                        await self._sync()
                    except Exception:
                        self._stale = True
                        raise
                self.engine.tick(now)
                await self.engine.flush()
                if now - last_prune > PRUNE_EVERY_S:
                    last_prune = now
                    removed = await self.store.prune(now - RETENTION_S)
                    if removed:
                        log.info("alert history: pruned %d alerts older than 90 days", removed)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("alert evaluation failed; retrying next tick")

    async def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        if self._tasks:
            _, stuck = await asyncio.wait(self._tasks, timeout=5)
            for t in stuck:
                log.error("alert task %s did not stop within 5 s of its cancel", t.get_name())
        await self.engine.flush()
        self.notifier.close()


def default_public_url(port: int) -> str:
    return f"http://{socket.gethostname()}:{port}"
