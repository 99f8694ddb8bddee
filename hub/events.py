"""Server-sent events: fleet summaries (coalesced), status changes, and per-node live samples.

Each event is encoded once and the same bytes are queued to every subscriber. A
subscriber that falls too far behind is dropped; its browser reconnects by itself.
"""
from __future__ import annotations

import asyncio
import logging
import time

import msgspec

from aiohttp import web

log = logging.getLogger("forge.hub")

QUEUE_LIMIT = 256
PING_S = 15.0


def encode(event: str, data: object) -> bytes:
    """One SSE event. msgspec writes NaN and Infinity as null, so every data line is strict
    JSON that the browser's JSON.parse accepts."""
    return b"event: " + event.encode() + b"\ndata: " + msgspec.json.encode(data) + b"\n\n"


class Subscriber:
    def __init__(self) -> None:
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue(QUEUE_LIMIT)

    def offer(self, chunk: bytes) -> bool:
        try:
            self.queue.put_nowait(chunk)
            return True
        except asyncio.QueueFull:
            return False


class Broadcaster:
    def __init__(self) -> None:
        self.fleet: set[Subscriber] = set()
        self.alerts: set[Subscriber] = set()  # /api/alerts/events: alert events only
        self.nodes: dict[str, set[Subscriber]] = {}
        self.dirty: set[str] = set()
        self.jobs_dirty = False
        self.watched_elsewhere: dict[str, float] = {}  # node -> until (monotonic), from other hubs

    def watched(self, node_id: str) -> bool:
        return bool(self.nodes.get(node_id))

    def live(self, node_id: str) -> bool:
        """Whether someone follows the node live, here or on another hub on the same store."""
        if self.nodes.get(node_id):
            return True
        until = self.watched_elsewhere.get(node_id)
        if until is None:
            return False
        if until < time.monotonic():
            del self.watched_elsewhere[node_id]
            return False
        return True

    def publish_fleet(self, chunk: bytes) -> None:
        self._send(self.fleet, chunk)

    def publish_alert(self, chunk: bytes) -> None:
        """An alert fired or resolved: on the fleet stream and the alerts-only stream."""
        self._send(self.fleet, chunk)
        self._send(self.alerts, chunk)

    def publish_node(self, node_id: str, chunk: bytes) -> None:
        subs = self.nodes.get(node_id)
        if subs:
            self._send(subs, chunk)

    def _send(self, subs: set[Subscriber], chunk: bytes) -> None:
        for sub in list(subs):
            if not sub.offer(chunk):
                log.warning("dropping a slow event subscriber")
                subs.discard(sub)
                sub.queue = asyncio.Queue(1)
                sub.queue.put_nowait(None)

    def close_all(self) -> None:
        for sub in [*self.fleet, *self.alerts, *(s for subs in self.nodes.values() for s in subs)]:
            try:
                sub.queue.put_nowait(None)
            except asyncio.QueueFull:
                sub.queue = asyncio.Queue(1)
                sub.queue.put_nowait(None)

    async def stream(self, request: web.Request, subs: set[Subscriber], first: list[bytes]) -> web.StreamResponse:
        resp = web.StreamResponse(headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",
        })
        await resp.prepare(request)
        sub = Subscriber()
        subs.add(sub)
        try:
            await resp.write(b"retry: 2000\n\n" + b"".join(first))
            while True:
                try:  # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancel
                    async with asyncio.timeout(PING_S):
                        chunk = await sub.queue.get()
                except TimeoutError:
                    chunk = b": ping\n\n"
                if chunk is None:
                    break
                await resp.write(chunk)
        except ConnectionResetError:
            pass
        finally:
            subs.discard(sub)
        return resp
