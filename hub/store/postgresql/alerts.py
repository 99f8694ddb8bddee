"""The AlertStore on PostgreSQL (tables from migration 002_alerts.sql).

With several hubs on one database every hub runs the alert engine on every push (its own
and the ones peers announce), so two of them may try to open the same alert: the partial
unique index `alerts_open` lets one commit and the other's `fire` fails (the engine then
adopts the open alert, see hub/alerts/engine.py), and a `resolve` of an alert already closed
queues nothing. Each alert transition is therefore stored, and its notifications queued,
once. Sending is made once by `sender_turn`: a round of the sender (read what is due, send
it, mark it) runs under a session advisory lock, so one hub sends at a time and the next
round, on whichever hub, sees what the last one marked. A hub that dies mid-round drops the
lock with its connection; what it had sent but not marked is sent again by the next round
(at least once, as a restart does on SQLite).
"""
from __future__ import annotations

import contextlib
from typing import AsyncIterator

from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from ...alerts.schema import Alert, Rule, RuleIn
from ..alerts import ALERT_COLS, AlertStore, ChannelRow, NewAlert, Outgoing, alert_from_row, alerts_query
from .connect import LOCK_ALERT_SEND
from .peers import changes

RULE_COLS = "id, name, metric, op, threshold, for_s, nodes, severity, enabled"
_DUE = """
SELECT id, alert_id, channel_id, kind, title, body, attempts, next_at FROM alert_outbox
WHERE sent_at IS NULL AND NOT gave_up AND kind <> 'test' AND next_at <= %s ORDER BY next_at, id LIMIT %s"""

_QUEUE = """
INSERT INTO alert_outbox (alert_id, channel_id, kind, title, body, next_at, created_at)
SELECT %s, id, %s, %s, %s, %s, %s FROM alert_channels WHERE id = ANY(%s) ORDER BY id"""


def _channel(r: tuple) -> ChannelRow:
    return ChannelRow(id=r[0], name=r[1], sealed_url=r[2], last_error=r[3], last_sent_at=r[4])


class PgAlerts(AlertStore):
    """What changes the rules the engines evaluate (rules, their channels, maintenance
    windows) tells the other hubs `forge_news 'alerts'` once committed, and they re-read them."""

    def __init__(self, pool: AsyncConnectionPool, hub_id: str = ""):
        self.pool = pool
        self.hub_id = hub_id

    def _changes(self):
        return changes(self.pool, self.hub_id)

    # --- rules ------------------------------------------------------------------------------
    @staticmethod
    async def _rules(conn, where: str = "", args: tuple = ()) -> list[Rule]:
        cur = await conn.execute("SELECT rule_id, channel_id FROM alert_rule_channels ORDER BY channel_id")
        links: dict[int, list[int]] = {}
        for rid, cid in await cur.fetchall():
            links.setdefault(rid, []).append(cid)
        cur = await conn.execute(f"SELECT {RULE_COLS} FROM alert_rules {where} ORDER BY id", args)
        return [Rule(id=r[0], name=r[1], metric=r[2], op=r[3], threshold=r[4], for_s=r[5], nodes=r[6],
                     severity=r[7], enabled=r[8], channels=links.get(r[0], []))
                for r in await cur.fetchall()]

    async def rules(self) -> list[Rule]:
        async with self.pool.connection() as conn:
            return await self._rules(conn)

    @staticmethod
    async def _link(conn, rule_id: int, channels: list[int]) -> None:
        await conn.execute("DELETE FROM alert_rule_channels WHERE rule_id = %s", (rule_id,))
        await conn.execute("INSERT INTO alert_rule_channels (rule_id, channel_id) "
                           "SELECT %s, c FROM unnest(%s::bigint[]) AS c", (rule_id, list(dict.fromkeys(channels))))

    @staticmethod
    async def _close_open(conn, rule_id: int, now: float) -> None:
        await conn.execute("UPDATE alerts SET state = 'resolved', resolved_at = %s "
                           "WHERE rule_id = %s AND resolved_at IS NULL", (now, rule_id))

    async def add_rule(self, rule: RuleIn, now: float) -> Rule:
        async with self._changes() as (conn, out):
            out.news("alerts")
            cur = await conn.execute(
                "INSERT INTO alert_rules (name, metric, op, threshold, for_s, nodes, severity, enabled, "
                "created_at, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
                (rule.name, rule.metric, rule.op, rule.threshold, rule.for_s, Jsonb(rule.nodes), rule.severity,
                 rule.enabled, now, now))
            rid = (await cur.fetchone())[0]
            await self._link(conn, rid, rule.channels)
            return (await self._rules(conn, "WHERE id = %s", (rid,)))[0]

    async def update_rule(self, rule_id: int, rule: RuleIn, now: float) -> Rule | None:
        async with self._changes() as (conn, out):
            out.news("alerts")
            cur = await conn.execute(
                "UPDATE alert_rules SET name = %s, metric = %s, op = %s, threshold = %s, for_s = %s, nodes = %s, "
                "severity = %s, enabled = %s, updated_at = %s WHERE id = %s",
                (rule.name, rule.metric, rule.op, rule.threshold, rule.for_s, Jsonb(rule.nodes), rule.severity,
                 rule.enabled, now, rule_id))
            if not cur.rowcount:
                return None
            await self._link(conn, rule_id, rule.channels)
            if not rule.enabled:
                await self._close_open(conn, rule_id, now)
            return (await self._rules(conn, "WHERE id = %s", (rule_id,)))[0]

    async def delete_rule(self, rule_id: int, now: float) -> bool:
        async with self._changes() as (conn, out):
            out.news("alerts")
            await self._close_open(conn, rule_id, now)
            cur = await conn.execute("DELETE FROM alert_rules WHERE id = %s", (rule_id,))
            return cur.rowcount > 0

    # --- channels -----------------------------------------------------------------------------
    async def channels(self) -> list[ChannelRow]:
        async with self.pool.connection() as conn:
            cur = await conn.execute("SELECT id, name, url_sealed, last_error, last_sent_at FROM alert_channels "
                                     "ORDER BY id")
            return [_channel(r) for r in await cur.fetchall()]

    async def add_channel(self, name: str, sealed_url: str, now: float) -> ChannelRow:
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "INSERT INTO alert_channels (name, url_sealed, created_at) VALUES (%s, %s, %s) "
                "RETURNING id, name, url_sealed, last_error, last_sent_at", (name, sealed_url, now))
            return _channel(await cur.fetchone())

    async def delete_channel(self, channel_id: int) -> bool:
        async with self._changes() as (conn, out):
            out.news("alerts")  # it leaves the rules it was on
            cur = await conn.execute("DELETE FROM alert_channels WHERE id = %s", (channel_id,))
            return cur.rowcount > 0

    # --- alerts ----------------------------------------------------------------------------------
    async def open_alerts(self) -> list[Alert]:
        async with self.pool.connection() as conn:
            cur = await conn.execute(f"SELECT {ALERT_COLS} FROM alerts WHERE resolved_at IS NULL ORDER BY id")
            return [alert_from_row(r) for r in await cur.fetchall()]

    @staticmethod
    async def _queue(conn, alert_id: int | None, channels: list[int], kind: str, title: str, body: str,
                     now: float) -> None:
        if channels:
            await conn.execute(_QUEUE, (alert_id, kind, title, body, now, now, list(dict.fromkeys(channels))))

    async def fire(self, alert: NewAlert, channel_ids: list[int], title: str, body: str) -> Alert:
        a = alert
        async with self.pool.connection() as conn, conn.transaction():
            cur = await conn.execute(
                f"INSERT INTO alerts (rule_id, node_id, rule_name, metric, severity, op, threshold, value, state, "
                f"started_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 'firing', %s) RETURNING {ALERT_COLS}",
                (a.rule_id, a.node_id, a.rule_name, a.metric, a.severity, a.op, a.threshold, a.value, a.started_at))
            row = await cur.fetchone()
            await self._queue(conn, row[0], channel_ids, "firing", title, body, a.started_at)
            return alert_from_row(row)

    async def set_state(self, alert_id: int, state: str) -> None:
        async with self.pool.connection() as conn:
            await conn.execute("UPDATE alerts SET state = %s WHERE id = %s AND resolved_at IS NULL",
                               (state, alert_id))

    async def resolve(self, alert_id: int, now: float, channel_ids: list[int], title: str, body: str) -> None:
        async with self.pool.connection() as conn, conn.transaction():
            cur = await conn.execute("UPDATE alerts SET state = 'resolved', resolved_at = %s "
                                     "WHERE id = %s AND resolved_at IS NULL", (now, alert_id))
            if cur.rowcount:
                await self._queue(conn, alert_id, channel_ids, "resolved", title, body, now)

    async def alerts(self, state: str | None, node_id: str | None, limit: int) -> list[Alert]:
        sql, args = alerts_query(state, node_id, "%s")
        async with self.pool.connection() as conn:
            cur = await conn.execute(sql, (*args, limit))
            return [alert_from_row(r) for r in await cur.fetchall()]

    # --- outbox ------------------------------------------------------------------------------------
    async def queue_test(self, channel_id: int, title: str, body: str, now: float) -> int:
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "INSERT INTO alert_outbox (alert_id, channel_id, kind, title, body, next_at, created_at) "
                "VALUES (NULL, %s, 'test', %s, %s, %s, %s) RETURNING id", (channel_id, title, body, now, now))
            return (await cur.fetchone())[0]

    async def due(self, now: float, limit: int) -> list[Outgoing]:
        async with self.pool.connection() as conn:
            cur = await conn.execute(_DUE, (now, limit))
            return [Outgoing(id=r[0], alert_id=r[1], channel_id=r[2], kind=r[3], title=r[4], body=r[5],
                             attempts=r[6], next_at=r[7]) for r in await cur.fetchall()]

    @contextlib.asynccontextmanager
    async def sender_turn(self) -> AsyncIterator[bool]:
        """A session advisory lock, held on one pooled connection for the whole round."""
        async with self.pool.connection() as conn:
            cur = await conn.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_ALERT_SEND,))
            if not (await cur.fetchone())[0]:
                yield False
                return
            try:
                yield True
            finally:
                if not conn.closed:
                    await conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_ALERT_SEND,))

    async def sent(self, outgoing_id: int, channel_id: int, now: float) -> None:
        async with self.pool.connection() as conn, conn.transaction():
            await conn.execute("UPDATE alert_outbox SET sent_at = %s, attempts = attempts + 1 WHERE id = %s",
                               (now, outgoing_id))
            await conn.execute("UPDATE alert_channels SET last_sent_at = %s, last_error = NULL WHERE id = %s",
                               (now, channel_id))

    async def failed(self, outgoing_id: int, channel_id: int, error: str, next_at: float | None,
                     now: float) -> None:
        async with self.pool.connection() as conn, conn.transaction():
            await conn.execute("UPDATE alert_outbox SET attempts = attempts + 1, next_at = COALESCE(%s, next_at), "
                               "gave_up = %s WHERE id = %s", (next_at, next_at is None, outgoing_id))
            await conn.execute("UPDATE alert_channels SET last_error = %s, last_error_at = %s WHERE id = %s",
                               (error, now, channel_id))

    # --- maintenance windows and retention ---------------------------------------------------------
    async def maintenance(self) -> dict[str, float]:
        async with self.pool.connection() as conn:
            cur = await conn.execute("SELECT node_id, until FROM node_maintenance")
            return {r[0]: r[1] for r in await cur.fetchall()}

    async def set_maintenance(self, node_id: str, until: float | None, now: float) -> None:
        async with self._changes() as (conn, out):
            out.news("alerts")
            if until is None:
                await conn.execute("DELETE FROM node_maintenance WHERE node_id = %s", (node_id,))
            else:
                await conn.execute(
                    "INSERT INTO node_maintenance (node_id, until, set_at) VALUES (%s, %s, %s) "
                    "ON CONFLICT (node_id) DO UPDATE SET until = excluded.until, set_at = excluded.set_at",
                    (node_id, until, now))

    async def prune(self, before: float) -> int:
        async with self.pool.connection() as conn, conn.transaction():
            await conn.execute("DELETE FROM alert_outbox WHERE alert_id IS NULL AND created_at < %s", (before,))
            cur = await conn.execute("DELETE FROM alerts WHERE resolved_at IS NOT NULL AND resolved_at < %s",
                                     (before,))
            return cur.rowcount
