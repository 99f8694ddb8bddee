"""The AlertStore on the hub's SQLite database (tables from migration 005_alerts.sql).

Every call runs on the store's threads: writes on its one writer, reads on its readers.
"""
from __future__ import annotations

import json
import sqlite3

from ...alerts.schema import Alert, Rule, RuleIn
from ..alerts import ALERT_COLS, AlertStore, ChannelRow, NewAlert, Outgoing, alert_from_row, alerts_query

RULE_COLS = "id, name, metric, op, threshold, for_s, nodes, severity, enabled"

class SqliteAlerts(AlertStore):
    def __init__(self, threads):
        self._t = threads  # the backend's _Threads: one writer, a pool of readers

    def _c(self) -> sqlite3.Connection:
        return self._t.db.conn()

    # --- rules ------------------------------------------------------------------------------
    def _rules(self, c: sqlite3.Connection, where: str = "", args: tuple = ()) -> list[Rule]:
        links: dict[int, list[int]] = {}
        for rid, cid in c.execute("SELECT rule_id, channel_id FROM alert_rule_channels ORDER BY channel_id"):
            links.setdefault(rid, []).append(cid)
        return [Rule(id=r[0], name=r[1], metric=r[2], op=r[3], threshold=r[4], for_s=r[5], nodes=json.loads(r[6]),
                     severity=r[7], enabled=bool(r[8]), channels=links.get(r[0], []))
                for r in c.execute(f"SELECT {RULE_COLS} FROM alert_rules {where} ORDER BY id", args)]

    async def rules(self) -> list[Rule]:
        return await self._t.read(lambda: self._rules(self._c()))

    def _link(self, c: sqlite3.Connection, rule_id: int, channels: list[int]) -> None:
        c.execute("DELETE FROM alert_rule_channels WHERE rule_id = ?", (rule_id,))
        c.executemany("INSERT INTO alert_rule_channels (rule_id, channel_id) VALUES (?, ?)",
                      [(rule_id, ch) for ch in dict.fromkeys(channels)])

    def _close_open(self, c: sqlite3.Connection, rule_id: int, now: float) -> None:
        c.execute("UPDATE alerts SET state = 'resolved', resolved_at = ? WHERE rule_id = ? AND resolved_at IS NULL",
                  (now, rule_id))

    async def add_rule(self, rule: RuleIn, now: float) -> Rule:
        def run() -> Rule:
            with self._t.db.tx() as c:
                rid = c.execute(
                    "INSERT INTO alert_rules (name, metric, op, threshold, for_s, nodes, severity, enabled, "
                    "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                    (rule.name, rule.metric, rule.op, rule.threshold, rule.for_s, json.dumps(rule.nodes),
                     rule.severity, int(rule.enabled), now, now)).fetchone()[0]
                self._link(c, rid, rule.channels)
                return self._rules(c, "WHERE id = ?", (rid,))[0]
        return await self._t.write(run)

    async def update_rule(self, rule_id: int, rule: RuleIn, now: float) -> Rule | None:
        def run() -> Rule | None:
            with self._t.db.tx() as c:
                n = c.execute(
                    "UPDATE alert_rules SET name = ?, metric = ?, op = ?, threshold = ?, for_s = ?, nodes = ?, "
                    "severity = ?, enabled = ?, updated_at = ? WHERE id = ?",
                    (rule.name, rule.metric, rule.op, rule.threshold, rule.for_s, json.dumps(rule.nodes),
                     rule.severity, int(rule.enabled), now, rule_id)).rowcount
                if not n:
                    return None
                self._link(c, rule_id, rule.channels)
                if not rule.enabled:
                    self._close_open(c, rule_id, now)
                return self._rules(c, "WHERE id = ?", (rule_id,))[0]
        return await self._t.write(run)

    async def delete_rule(self, rule_id: int, now: float) -> bool:
        def run() -> bool:
            with self._t.db.tx() as c:
                self._close_open(c, rule_id, now)
                return c.execute("DELETE FROM alert_rules WHERE id = ?", (rule_id,)).rowcount > 0
        return await self._t.write(run)

    # --- channels -----------------------------------------------------------------------------
    def _channels(self, c: sqlite3.Connection, where: str = "", args: tuple = ()) -> list[ChannelRow]:
        return [ChannelRow(id=r[0], name=r[1], sealed_url=r[2], last_error=r[3], last_sent_at=r[4])
                for r in c.execute("SELECT id, name, url_sealed, last_error, last_sent_at FROM alert_channels "
                                   f"{where} ORDER BY id", args)]

    async def channels(self) -> list[ChannelRow]:
        return await self._t.read(lambda: self._channels(self._c()))

    async def add_channel(self, name: str, sealed_url: str, now: float) -> ChannelRow:
        def run() -> ChannelRow:
            with self._t.db.tx() as c:
                cid = c.execute("INSERT INTO alert_channels (name, url_sealed, created_at) VALUES (?, ?, ?) "
                                "RETURNING id", (name, sealed_url, now)).fetchone()[0]
                return self._channels(c, "WHERE id = ?", (cid,))[0]
        return await self._t.write(run)

    async def delete_channel(self, channel_id: int) -> bool:
        def run() -> bool:
            with self._t.db.tx() as c:
                return c.execute("DELETE FROM alert_channels WHERE id = ?", (channel_id,)).rowcount > 0
        return await self._t.write(run)

    # --- alerts ----------------------------------------------------------------------------------
    async def open_alerts(self) -> list[Alert]:
        return await self._t.read(lambda: [alert_from_row(r) for r in self._c().execute(
            f"SELECT {ALERT_COLS} FROM alerts WHERE resolved_at IS NULL ORDER BY id")])

    @staticmethod
    def _queue(c: sqlite3.Connection, alert_id: int | None, channels: list[int], kind: str, title: str,
               body: str, now: float) -> None:
        c.executemany(
            "INSERT INTO alert_outbox (alert_id, channel_id, kind, title, body, next_at, created_at) "
            "SELECT ?, id, ?, ?, ?, ?, ? FROM alert_channels WHERE id = ?",
            [(alert_id, kind, title, body, now, now, ch) for ch in dict.fromkeys(channels)])

    async def fire(self, alert: NewAlert, channel_ids: list[int], title: str, body: str) -> Alert:
        a = alert

        def run() -> Alert:
            with self._t.db.tx() as c:
                row = c.execute(
                    f"INSERT INTO alerts (rule_id, node_id, rule_name, metric, severity, op, threshold, value, state, "
                    f"started_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'firing', ?) RETURNING {ALERT_COLS}",
                    (a.rule_id, a.node_id, a.rule_name, a.metric, a.severity, a.op, a.threshold, a.value,
                     a.started_at)).fetchone()
                self._queue(c, row[0], channel_ids, "firing", title, body, a.started_at)
                return alert_from_row(row)
        return await self._t.write(run)

    async def set_state(self, alert_id: int, state: str) -> None:
        def run() -> None:
            with self._t.db.tx() as c:
                c.execute("UPDATE alerts SET state = ? WHERE id = ? AND resolved_at IS NULL", (state, alert_id))
        await self._t.write(run)

    async def resolve(self, alert_id: int, now: float, channel_ids: list[int], title: str, body: str) -> None:
        def run() -> None:
            with self._t.db.tx() as c:
                n = c.execute("UPDATE alerts SET state = 'resolved', resolved_at = ? "
                              "WHERE id = ? AND resolved_at IS NULL", (now, alert_id)).rowcount
                if n:
                    self._queue(c, alert_id, channel_ids, "resolved", title, body, now)
        await self._t.write(run)

    async def alerts(self, state: str | None, node_id: str | None, limit: int) -> list[Alert]:
        sql, args = alerts_query(state, node_id, "?")
        return await self._t.read(lambda: [alert_from_row(r) for r in self._c().execute(sql, (*args, limit))])

    # --- outbox ------------------------------------------------------------------------------------
    async def queue_test(self, channel_id: int, title: str, body: str, now: float) -> int:
        def run() -> int:
            with self._t.db.tx() as c:
                return c.execute("INSERT INTO alert_outbox (alert_id, channel_id, kind, title, body, next_at, "
                                 "created_at) VALUES (NULL, ?, 'test', ?, ?, ?, ?) RETURNING id",
                                 (channel_id, title, body, now, now)).fetchone()[0]
        return await self._t.write(run)

    async def due(self, now: float, limit: int) -> list[Outgoing]:
        return await self._t.read(lambda: [
            Outgoing(id=r[0], alert_id=r[1], channel_id=r[2], kind=r[3], title=r[4], body=r[5], attempts=r[6],
                     next_at=r[7])
            for r in self._c().execute(
                "SELECT id, alert_id, channel_id, kind, title, body, attempts, next_at FROM alert_outbox "
                "WHERE sent_at IS NULL AND gave_up = 0 AND kind <> 'test' AND next_at <= ? ORDER BY next_at, id LIMIT ?",
                (now, limit))])

    async def sent(self, outgoing_id: int, channel_id: int, now: float) -> None:
        def run() -> None:
            with self._t.db.tx() as c:
                c.execute("UPDATE alert_outbox SET sent_at = ?, attempts = attempts + 1 WHERE id = ?",
                          (now, outgoing_id))
                c.execute("UPDATE alert_channels SET last_sent_at = ?, last_error = NULL WHERE id = ?",
                          (now, channel_id))
        await self._t.write(run)

    async def failed(self, outgoing_id: int, channel_id: int, error: str, next_at: float | None,
                     now: float) -> None:
        def run() -> None:
            with self._t.db.tx() as c:
                c.execute("UPDATE alert_outbox SET attempts = attempts + 1, next_at = COALESCE(?, next_at), "
                          "gave_up = ? WHERE id = ?", (next_at, int(next_at is None), outgoing_id))
                c.execute("UPDATE alert_channels SET last_error = ?, last_error_at = ? WHERE id = ?",
                          (error, now, channel_id))
        await self._t.write(run)

    # --- maintenance windows and retention ---------------------------------------------------------
    async def maintenance(self) -> dict[str, float]:
        return await self._t.read(lambda: {r[0]: r[1] for r in self._c().execute(
            "SELECT node_id, until FROM node_maintenance")})

    async def set_maintenance(self, node_id: str, until: float | None, now: float) -> None:
        def run() -> None:
            with self._t.db.tx() as c:
                if until is None:
                    c.execute("DELETE FROM node_maintenance WHERE node_id = ?", (node_id,))
                else:
                    c.execute("INSERT INTO node_maintenance (node_id, until, set_at) VALUES (?, ?, ?) "
                              "ON CONFLICT (node_id) DO UPDATE SET until = excluded.until, set_at = excluded.set_at",
                              (node_id, until, now))
        await self._t.write(run)

    async def prune(self, before: float) -> int:
        def run() -> int:
            with self._t.db.tx() as c:
                c.execute("DELETE FROM alert_outbox WHERE alert_id IS NULL AND created_at < ?", (before,))
                return c.execute("DELETE FROM alerts WHERE resolved_at IS NOT NULL AND resolved_at < ?",
                                 (before,)).rowcount
        return await self._t.write(run)
