"""Several hubs on one database: what one hub tells the others, through LISTEN/NOTIFY.

Three channels, each payload starting with the sending hub's id so a hub skips its own:
- `forge_claimable`: a job may have become claimable (added, retried, released, reclaimed);
  long-polling claims on every hub wake at once.
- `forge_push`: a push was stored: node, identity, time and its samples (or only the node
  when the samples do not fit NOTIFY's 8000-byte payload; the receiver then reads them), so
  every hub's fleet view, SSE streams and sparklines show every node.
- `forge_news`: "jobs" (a claim, result or cancel changed per-node job counts), "tokens"
  (a token was replaced or revoked: drop cached ones), "alerts" (alert rules, the channels
  on them or maintenance windows changed: re-read them) or "watch:a,b" (dashboards on the
  sender follow these nodes live).

Notifications go out right after the commit of what they announce (`changes()`), not inside
its transaction: PostgreSQL serialises the commits of transactions that NOTIFY (a lock held
through the WAL flush), which held one hub to about one commit per disk flush. Sent after
the commit, a hub never hears of a change before it is visible; a hub that dies between
the two leaves its last change unannounced, which the others pick up on their next look
(claimers look again every few seconds; the next push of that node is announced). The listener
holds one connection of its own; when that drops (the database restarted) it reconnects
with backoff, and since notifications sent meanwhile are lost it then reports everything
as changed and re-reads the nodes seen since it lost the connection.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import AsyncIterator

import msgspec
import psycopg
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from ..interface import PeerNews, Push
from ..wakeup import Wakeup
from .connect import connect_once

log = logging.getLogger("forge.hub")

CHANNEL_CLAIMABLE = "forge_claimable"
CHANNEL_PUSH = "forge_push"
CHANNEL_NEWS = "forge_news"
PAYLOAD_MAX = 7900
PUSH_BACKLOG = 50_000  # pushes kept for a hub that does not drain them; beyond, a full re-read
RESYNC_SAMPLES = 30
_SEP = "|"


class _PushNote(msgspec.Struct, omit_defaults=True):
    h: str
    n: str
    t: float
    i: dict = {}
    s: list | None = None


def push_payload(hub_id: str, p: Push) -> str:
    note = _PushNote(h=hub_id, n=p.node_id, t=p.now, i=p.identity or {}, s=p.samples)
    raw = msgspec.json.encode(note)
    if len(raw) > PAYLOAD_MAX:
        raw = msgspec.json.encode(_PushNote(h=hub_id, n=p.node_id, t=p.now, i=p.identity or {}))
        if len(raw) > PAYLOAD_MAX:
            raw = msgspec.json.encode(_PushNote(h=hub_id, n=p.node_id, t=p.now))
    return raw.decode()


def tagged(hub_id: str, what: str = "") -> str:
    return hub_id + _SEP + what


class Outbox:
    """The notifications a transaction will send once it has committed."""

    def __init__(self, hub_id: str) -> None:
        self.hub_id = hub_id
        self.channels: list[str] = []
        self.payloads: list[str] = []

    def claimable(self) -> None:
        self._add(CHANNEL_CLAIMABLE, tagged(self.hub_id))

    def news(self, what: str) -> None:
        self._add(CHANNEL_NEWS, tagged(self.hub_id, what))

    def push(self, p: Push) -> None:
        self._add(CHANNEL_PUSH, push_payload(self.hub_id, p))

    def _add(self, channel: str, payload: str) -> None:
        self.channels.append(channel)
        self.payloads.append(payload)


@contextlib.asynccontextmanager
async def changes(pool: AsyncConnectionPool, hub_id: str) -> AsyncIterator[tuple[psycopg.AsyncConnection, Outbox]]:
    """A transaction on a pooled connection; what it put in the outbox is sent (in one
    statement) after it commits, and not at all if it rolls back."""
    async with pool.connection() as conn:
        out = Outbox(hub_id)
        async with conn.transaction():
            yield conn, out
        if out.channels:
            try:
                await conn.execute("SELECT pg_notify(c, p) FROM unnest(%b::text[], %b::text[]) AS u (c, p)",
                                   (out.channels, out.payloads))
            except psycopg.Error as e:  # committed all the same; the others see it on their next look
                log.warning("could not tell the other hubs (%s)", e)


class Listener:
    def __init__(self, url: str, hub_id: str, pool: AsyncConnectionPool):
        self.url = url
        self.hub_id = hub_id
        self.pool = pool
        self.claimable = Wakeup()
        self._news = Wakeup()
        self._pushes: list[Push] = []
        self._reread: set[str] = set()  # nodes whose samples did not fit a notification
        self._jobs = False
        self._tokens = False
        self._alerts = False
        self._watched: set[str] = set()
        self._lost_since: float | None = None  # the connection dropped then, and is not back
        self._gap_since: float | None = None  # back, but what was sent since then was missed
        self._conn: psycopg.AsyncConnection | None = None
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        self._conn = await self._listen()
        self._task = asyncio.create_task(self._run(), name="pg-listener")

    async def close(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._conn and not self._conn.closed:
            await self._conn.close()

    async def _listen(self) -> psycopg.AsyncConnection:
        conn = await connect_once(self.url)
        for channel in (CHANNEL_CLAIMABLE, CHANNEL_PUSH, CHANNEL_NEWS):
            await conn.execute(f"LISTEN {channel}")
        return conn

    async def _run(self) -> None:
        backoff = 0.2
        while True:
            try:
                if self._conn is None or self._conn.closed:
                    self._conn = await self._listen()
                    log.info("PostgreSQL listener reconnected")
                    self._gap_since, self._lost_since = self._lost_since, None
                    self._after_gap()
                    backoff = 0.2
                async for n in self._conn.notifies():
                    self._handle(n.channel, n.payload)
            except asyncio.CancelledError:
                raise
            except (psycopg.Error, OSError) as e:
                if self._lost_since is None:
                    self._lost_since = time.time()
                    log.warning("PostgreSQL listener lost its connection (%s); reconnecting",
                                str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__)
                if self._conn is not None and not self._conn.closed:
                    try:
                        await self._conn.close()
                    except psycopg.Error:
                        pass
                self._conn = None
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    def _after_gap(self) -> None:
        """Notifications sent while we were away are gone: wake claimers, report jobs, tokens
        and alert rules as changed, and have `news` re-read the nodes that pushed since."""
        self.claimable.notify()
        self._jobs = self._tokens = self._alerts = True
        self._news.notify()

    def _handle(self, channel: str, payload: str) -> None:
        if channel == CHANNEL_PUSH:
            try:
                note = msgspec.json.decode(payload, type=_PushNote)
            except msgspec.DecodeError:
                return
            if note.h == self.hub_id:
                return
            if note.s is None:
                self._reread.add(note.n)
            elif len(self._pushes) < PUSH_BACKLOG:
                self._pushes.append(Push(node_id=note.n, identity=note.i, samples=note.s, now=note.t))
            else:
                self._reread.add(note.n)
            self._news.notify()
            return
        sender, _, what = payload.partition(_SEP)
        if channel == CHANNEL_CLAIMABLE:
            self.claimable.notify()  # our own too: a hint costs one more claim at most
        elif sender != self.hub_id and channel == CHANNEL_NEWS:
            if what == "jobs":
                self._jobs = True
            elif what == "tokens":
                self._tokens = True
            elif what == "alerts":
                self._alerts = True
            elif what.startswith("watch:"):
                self._watched.update(n for n in what[6:].split(",") if n)
            self._news.notify()

    async def news(self, timeout: float) -> PeerNews:
        if not (self._pushes or self._reread or self._jobs or self._tokens or self._alerts or self._watched
                or self._gap_since):
            await self._news.wait(timeout)
        pushes, self._pushes = self._pushes, []
        reread, self._reread = self._reread, set()
        jobs, tokens, alerts = self._jobs, self._tokens, self._alerts
        self._jobs = self._tokens = self._alerts = False
        watched, self._watched = self._watched, set()
        try:
            if self._gap_since is not None:
                reread |= await self._nodes_since(self._gap_since - 5)
                self._gap_since = None
            while reread:
                node_id = min(reread)
                pushes.append(await self._reread_node(node_id))
                reread.discard(node_id)
        except (psycopg.Error, OSError, PoolTimeout) as e:
            self._reread |= reread  # the database is away: read them once it is back
            log.warning("could not read other hubs' nodes (%s); trying again", e)
            await asyncio.sleep(timeout)
        return PeerNews(pushes=pushes, jobs_changed=jobs, tokens_changed=tokens, watched=watched,
                        alerts_changed=alerts)

    async def _nodes_since(self, since: float) -> set[str]:
        async with self.pool.connection() as conn:
            cur = await conn.execute("SELECT id FROM nodes WHERE last_seen >= %s", (since,))
            return {r[0] for r in await cur.fetchall()}

    async def _reread_node(self, node_id: str) -> Push:
        async with self.pool.connection() as conn:
            cur = await conn.execute("SELECT identity, last_seen FROM nodes WHERE id = %s", (node_id,))
            row = await cur.fetchone()
            cur = await conn.execute("SELECT data FROM samples WHERE node_id = %s ORDER BY ts_ms DESC LIMIT %s",
                                     (node_id, RESYNC_SAMPLES))
            samples = [r[0] for r in reversed(await cur.fetchall())]
        identity, seen = row if row else ({}, time.time())
        return Push(node_id=node_id, identity=identity or {}, samples=samples, now=seen)
