"""Sending notifications through Apprise, off the event loop, with retries.

The outbox lives in the store (written with each alert transition); this sender takes what
is due, sends each on a small thread pool (Apprise is blocking: SMTP, HTTP), marks it sent
or schedules a retry with backoff, and keeps each channel's last error. A notification that
was sent but not yet marked when the hub died is sent again after the restart (at least
once); one that was marked is never sent again.
"""
from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

import apprise

from .sealing import Sealer, mask
from ..store.alerts import AlertStore, Outgoing

log = logging.getLogger("forge.hub.alerts")

BACKOFF_S = (5.0, 30.0, 120.0, 600.0, 1800.0, 3600.0)  # then the notification is given up
KIND_TYPES = {"firing": apprise.NotifyType.FAILURE, "resolved": apprise.NotifyType.SUCCESS,
              "test": apprise.NotifyType.INFO}

Sender = Callable[[str, str, str, str], str | None]


def apprise_send(url: str, title: str, body: str, kind: str) -> str | None:
    """Send one notification; None on success, else a short reason (URL masked)."""
    a = apprise.Apprise()
    if not a.add(url):
        return "Apprise cannot parse this channel's URL"
    with apprise.LogCapture(level=logging.WARNING) as logs:
        ok = a.notify(title=title, body=body, notify_type=KIND_TYPES.get(kind, apprise.NotifyType.INFO))
        text = logs.getvalue()
    if ok:
        return None
    reason = " ".join(line.strip() for line in text.splitlines() if line.strip())[-300:] or "delivery failed"
    return reason.replace(url, mask(url))


class Notifier:
    def __init__(self, store: AlertStore, sealer: Sealer, sender: Sender = apprise_send,
                 clock: Callable[[], float] = time.time, threads: int = 2):
        self.store = store
        self.sealer = sealer
        self.sender = sender
        self.clock = clock
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="alert-send")
        self._wake = asyncio.Event()

    def kick(self) -> None:
        self._wake.set()

    async def run(self, idle_s: float = 1.0) -> None:
        while True:
            try:  # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancel (bpo-42130)
                async with asyncio.timeout(idle_s):
                    await self._wake.wait()
            except TimeoutError:
                pass
            self._wake.clear()
            try:
                await self.send_due()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("sending notifications failed; retrying")

    async def send_due(self) -> int:
        """One round: 0 at once when another hub on the same store is sending."""
        async with self.store.sender_turn() as mine:
            if not mine:
                return 0
            due = await self.store.due(self.clock(), 50)
            if not due:
                return 0
            urls = {c.id: self.sealer.open(c.sealed_url) for c in await self.store.channels()}
            loop = asyncio.get_running_loop()
            results = await asyncio.gather(*(self._send(loop, o, urls.get(o.channel_id)) for o in due))
            return sum(results)

    async def _send(self, loop: asyncio.AbstractEventLoop, o: Outgoing, url: str | None) -> int:
        if url is None:
            error = "channel URL cannot be read (deleted, or sealed under another key)"
        else:
            try:
                error = await loop.run_in_executor(self._pool, self.sender, url, o.title, o.body, o.kind)
            except Exception as e:  # noqa: BLE001 - a plugin's bug must not stop the others
                error = f"{type(e).__name__}: {e}".replace(url, mask(url))
        now = self.clock()
        if error is None:
            await self.store.sent(o.id, o.channel_id, now)
            return 1
        retry = o.attempts < len(BACKOFF_S) and url is not None and o.kind != "test"
        next_at = now + BACKOFF_S[o.attempts] if retry else None
        log.warning("notification %d to channel %d failed (attempt %d): %s", o.id, o.channel_id,
                    o.attempts + 1, error)
        await self.store.failed(o.id, o.channel_id, error, next_at, now)
        return 0

    async def test(self, channel_id: int) -> str | None:
        """Send a test message to one channel now; None when it went, else why not."""
        channel = next((c for c in await self.store.channels() if c.id == channel_id), None)
        if channel is None:
            return "no such channel"
        now = self.clock()
        title = "Forge test notification"
        body = f"A test from the Forge hub ({time.strftime('%Y-%m-%d %H:%M:%S %Z', time.localtime(now))})."
        oid = await self.store.queue_test(channel_id, title, body, now)
        o = Outgoing(id=oid, alert_id=0, channel_id=channel_id, kind="test", title=title, body=body, attempts=0,
                     next_at=now)
        await self._send(asyncio.get_running_loop(), o, self.sealer.open(channel.sealed_url))
        channel = next((c for c in await self.store.channels() if c.id == channel_id), None)
        return channel.last_error if channel and channel.last_error else None

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
