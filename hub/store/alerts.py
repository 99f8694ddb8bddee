"""What the alert engine and routes need from storage (one async interface, any backend).

Rules, channels, alerts (one row per episode; an open alert is firing or paused, keyed
(rule, node): at most one open per pair), the notification outbox (one row per alert,
channel and kind, written in the same commit as the state change it announces, so a
restart neither loses nor repeats one), and node maintenance windows.
Rules and alerts travel as the msgspec Structs of hub/alerts/schema.py (the API's shapes).
tests/test_alert_store_contract.py is the contract every backend passes. Channel URLs are
handed to the backend already sealed (hub/alerts/sealing.py); backends store opaque text.
"""
from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import AsyncIterator

from ..alerts.schema import Alert, Rule, RuleIn

RETENTION_S = 90 * 86400.0

# What both backends read of an alert, and how they narrow the alert list: the SQL is the
# same in SQLite and PostgreSQL but for the placeholder.
ALERT_COLS = "id, rule_id, rule_name, metric, node_id, severity, state, value, threshold, op, started_at, resolved_at"


def alert_from_row(r) -> Alert:
    """An `Alert` from a row of ALERT_COLS (a tuple or sqlite3.Row)."""
    return Alert(id=r[0], rule_id=r[1], rule_name=r[2], metric=r[3], node_id=r[4], severity=r[5], state=r[6],
                 value=r[7], threshold=r[8], op=r[9], started_at=r[10], resolved_at=r[11])


def alerts_query(state: str | None, node_id: str | None, placeholder: str) -> tuple[str, list]:
    """The `GET /api/alerts` query, newest first, and its arguments but the trailing limit:
    `firing` means not yet resolved (paused included), `paused`/`resolved` the state itself."""
    where, args = [], []
    if state == "firing":
        where.append("resolved_at IS NULL")
    elif state in ("paused", "resolved"):
        where.append(f"state = {placeholder}")
        args.append(state)
    if node_id:
        where.append(f"node_id = {placeholder}")
        args.append(node_id)
    return (f"SELECT {ALERT_COLS} FROM alerts {'WHERE ' + ' AND '.join(where) if where else ''} "
            f"ORDER BY started_at DESC, id DESC LIMIT {placeholder}"), args


@dataclass
class ChannelRow:
    id: int
    name: str
    sealed_url: str
    last_error: str | None
    last_sent_at: float | None


@dataclass
class Outgoing:
    """A notification to send (or resend): what it says and where."""
    id: int
    alert_id: int
    channel_id: int
    kind: str  # firing | resolved | test
    title: str
    body: str
    attempts: int
    next_at: float


@dataclass
class NewAlert:
    rule_id: int
    node_id: str
    rule_name: str
    metric: str
    severity: str
    op: str
    threshold: float
    value: float | None
    started_at: float


class AlertStore(ABC):
    @abstractmethod
    async def rules(self) -> list[Rule]: ...

    @abstractmethod
    async def add_rule(self, rule: RuleIn, now: float) -> Rule: ...

    @abstractmethod
    async def update_rule(self, rule_id: int, rule: RuleIn, now: float) -> Rule | None:
        """Replace a rule; None if there is none. Disabling it resolves its open alerts, quietly."""

    @abstractmethod
    async def delete_rule(self, rule_id: int, now: float) -> bool:
        """Delete a rule and resolve its open alerts, quietly (history keeps them)."""

    @abstractmethod
    async def channels(self) -> list[ChannelRow]: ...

    @abstractmethod
    async def add_channel(self, name: str, sealed_url: str, now: float) -> ChannelRow: ...

    @abstractmethod
    async def delete_channel(self, channel_id: int) -> bool:
        """Delete a channel, take it out of every rule, drop its unsent notifications."""

    @abstractmethod
    async def open_alerts(self) -> list[Alert]:
        """Every firing or paused alert (what a restarted hub carries on with)."""

    @abstractmethod
    async def fire(self, alert: NewAlert, channel_ids: list[int], title: str, body: str) -> Alert:
        """Open an alert and queue its FIRING notification on each channel, in one commit."""

    @abstractmethod
    async def set_state(self, alert_id: int, state: str) -> None:
        """firing <-> paused (no notification)."""

    @abstractmethod
    async def resolve(self, alert_id: int, now: float, channel_ids: list[int], title: str, body: str) -> None:
        """Close an alert and queue its RESOLVED notification on each channel, in one commit."""

    @abstractmethod
    async def alerts(self, state: str | None, node_id: str | None, limit: int) -> list[Alert]:
        """History, newest first; `state` is firing (firing or paused), paused or resolved."""

    @abstractmethod
    async def queue_test(self, channel_id: int, title: str, body: str, now: float) -> int:
        """Record a test notification, which its caller sends at once (never `due`)."""

    @abstractmethod
    async def due(self, now: float, limit: int) -> list[Outgoing]:
        """Unsent notifications whose time has come (tests excluded), oldest first."""

    @contextlib.asynccontextmanager
    async def sender_turn(self) -> AsyncIterator[bool]:
        """Whether this hub sends the due notifications now (a round: `due`, the sends, `sent` or
        `failed`). Hubs sharing one store take turns, one round at a time, so each notification
        goes out once; a store only one hub opens always says yes."""
        yield True

    @abstractmethod
    async def sent(self, outgoing_id: int, channel_id: int, now: float) -> None: ...

    @abstractmethod
    async def failed(self, outgoing_id: int, channel_id: int, error: str, next_at: float | None,
                     now: float) -> None:
        """Record a failed send: retry at `next_at`, or give up when it is None."""

    @abstractmethod
    async def maintenance(self) -> dict[str, float]:
        """node id -> until (Unix seconds) for every window set."""

    @abstractmethod
    async def set_maintenance(self, node_id: str, until: float | None, now: float) -> None: ...

    @abstractmethod
    async def prune(self, before: float) -> int:
        """Delete resolved alerts (and their sent notifications) that ended before `before`."""
