"""The alert state machine, keyed (rule, node): pending -> firing (<-> paused) -> resolved.

Everything here is synchronous and in memory, driven by `observe` (each push, from the
ingest route: a few dict lookups per rule, no I/O) and `tick` (a timer: offline rules,
hold times, pausing). Transitions are queued and written by `flush` (a background task in
the hub, awaited directly in tests); the store writes each state change together with
its notifications, so what was announced and what is stored never disagree.

Time comes from the caller (`now`), so tests drive it without sleeping.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Callable

from .forecast import DiskForecast
from .rules import READERS, UNITS, holds, resolve_hold_s
from .schema import Alert, Rule
from ..store.alerts import AlertStore, NewAlert

log = logging.getLogger("forge.hub.alerts")

DEFAULT_PUSH_GAP_S = 5.0  # the agent's push interval when nobody watches it live
MAX_PUSH_GAP_S = 60.0     # a longer gap is an outage, not the node's cadence
GAP_WEIGHT = 0.3          # each gap's weight in the running cadence (one late push moves it little)
REBOOT_MIN_JUMP_S = 60.0  # boot time must move by more than this to count as a reboot
REBOOT_SHOW_S = 600.0     # a reboot alert stays firing this long, then resolves quietly


@dataclass(slots=True)
class Track:
    state: str  # pending | firing | paused
    since: float  # pending: when the condition began to hold; firing/paused: when it fired
    value: float | None = None
    clear_since: float | None = None
    alert_id: int | None = None


@dataclass(slots=True)
class Watch:
    """What the engine remembers of one node between pushes."""
    last_push: float
    identity: dict = field(default_factory=dict)
    push_gap: float = DEFAULT_PUSH_GAP_S
    boot_ts: float | None = None
    last_ts: float = float("-inf")  # the newest sample evaluated
    forecast: DiskForecast | None = None


@dataclass(slots=True)
class _Op:
    kind: str  # fire | resolve | state
    rule: Rule
    node_id: str
    track: Track
    now: float
    notify: bool = True


def _fmt(v: float | None) -> str:
    if v is None:
        return "unknown"
    return f"{v:.0f}" if abs(v) >= 100 else f"{v:.1f}"


class Engine:
    def __init__(self, store: AlertStore, offline_after_s: float, link: Callable[[str], str] = lambda n: "",
                 on_alert: Callable[[Alert, str], None] = lambda a, kind: None):
        self.store = store
        self.offline_after_s = offline_after_s
        self.link = link
        self.on_alert = on_alert
        self.rules: dict[int, Rule] = {}
        self.tracks: dict[tuple[int, str], Track] = {}
        self.nodes: dict[str, Watch] = {}
        self.maintenance: dict[str, float] = {}
        self._ops: list[_Op] = []
        self._sample_rules: dict[str, list[Rule]] = {}
        self._offline_rules: list[Rule] = []
        self._forecasting = False

    # --- loading and configuration ------------------------------------------------------
    async def load(self, nodes: list[tuple[str, float, dict, dict | None]], now: float | None = None) -> None:
        """Start from the store: rules, open alerts, maintenance, and each node's
        (id, last seen, identity, latest sample).

        With `now` (a hub starting), a node counts as last heard from `now` unless it has an
        offline alert open: while the hub was down nobody could push, so a hub back from an
        outage must not page about every node before their agents have reconnected."""
        for node_id, last_seen, identity, latest in nodes:
            w = self.nodes[node_id] = Watch(last_push=last_seen, identity=identity or {})
            w.boot_ts = _boot_ts(latest)
            if isinstance(latest, dict) and isinstance(latest.get("ts"), (int, float)):
                w.last_ts = float(latest["ts"])
        self.set_rules(await self.store.rules())
        self.maintenance = await self.store.maintenance()
        for a in await self.store.open_alerts():
            self.tracks[(a.rule_id, a.node_id)] = Track(state=a.state, since=a.started_at, value=a.value,
                                                        alert_id=a.id)
        if now is not None:
            offline_ids = {r.id for r in self._offline_rules}
            known_offline = {node for rule_id, node in self.tracks if rule_id in offline_ids}
            for node_id, w in self.nodes.items():
                if node_id not in known_offline:
                    w.last_push = max(w.last_push, now)

    def set_rules(self, rules: list[Rule]) -> None:
        before = self.rules
        self.rules = {r.id: r for r in rules if r.enabled}
        changed = {i for i, r in self.rules.items() if before.get(i) != r}
        self._offline_rules = [r for r in self.rules.values() if r.metric == "offline"]
        self._sample_rules = {}
        self._forecasting = any(r.metric == "disk_fill_hours" for r in self.rules.values())
        for key in [k for k, t in self.tracks.items()
                    if k[0] not in self.rules or (t.state == "pending" and k[0] in changed)]:
            # a deleted or disabled rule's open alerts were closed by the store; an edited
            # rule's pending holds start again
            del self.tracks[key]

    def rules_for(self, node_id: str) -> list[Rule]:
        """Sample-driven rules that apply to a node (cached until the rules change)."""
        got = self._sample_rules.get(node_id)
        if got is None:
            got = self._sample_rules[node_id] = [r for r in self.rules.values()
                                                 if r.metric != "offline" and r.applies_to(node_id)]
        return got

    def in_maintenance(self, node_id: str, now: float) -> bool:
        until = self.maintenance.get(node_id)
        return until is not None and until > now

    # --- inputs -------------------------------------------------------------------------
    def observe(self, node_id: str, identity: dict, sample: dict | None, now: float) -> None:
        """A push arrived with `sample` as its newest sample (None if it carried none newer)."""
        w = self.nodes.get(node_id)
        if w is None:
            w = self.nodes[node_id] = Watch(last_push=now)
        else:
            gap = now - w.last_push
            if 0.2 < gap <= MAX_PUSH_GAP_S:
                w.push_gap += GAP_WEIGHT * (gap - w.push_gap)
        if identity:
            w.identity = identity
        w.last_push = now
        for r in self._offline_rules:
            if (r.id, node_id) in self.tracks:
                self._step(r, node_id, False, 0.0, now)
        if sample is None or sample["ts"] <= w.last_ts:
            return
        w.last_ts = sample["ts"]
        rebooted = False
        boot = _boot_ts(sample)
        if boot is not None:
            rebooted = w.boot_ts is not None and boot > w.boot_ts + REBOOT_MIN_JUMP_S
            if w.boot_ts is None or rebooted or boot > w.boot_ts:
                w.boot_ts = boot
        if self._forecasting:
            if w.forecast is None:
                w.forecast = DiskForecast()
            w.forecast.add(sample)
        for r in self.rules_for(node_id):
            key = (r.id, node_id)
            t = self.tracks.get(key)
            if t is not None and t.state == "paused":
                t.state = "firing"
                self._ops.append(_Op("state", r, node_id, t, now))
            m = r.metric
            if m == "reboot":
                if rebooted and t is None and not self.in_maintenance(node_id, now):
                    t = self.tracks[key] = Track("pending", now, value=float(sample.get("uptime_s") or 0))
                    self._fire(r, node_id, t, now)
                continue
            if m == "disk_fill_hours":
                value = w.forecast.hours_to_full() if w.forecast else None
            else:
                value = READERS[m](sample, w.identity)
            self._step(r, node_id, holds(r, value), value, now)

    def tick(self, now: float) -> None:
        """Offline rules for every node, then hold times and pausing of the open tracks."""
        for r in self._offline_rules:
            ids = self.nodes.keys() if "*" in r.nodes else [n for n in r.nodes if n in self.nodes]
            for node_id in ids:
                w = self.nodes[node_id]
                overdue = max(0.0, now - w.last_push - w.push_gap)
                cond = holds(r, overdue)
                if cond and self.in_maintenance(node_id, now) and (r.id, node_id) not in self.tracks:
                    continue
                self._step(r, node_id, cond, overdue, now)
        for key, t in list(self.tracks.items()):
            r = self.rules.get(key[0])
            if r is None:
                continue
            node_id = key[1]
            if r.metric == "reboot":
                if t.state == "firing" and now - t.since >= REBOOT_SHOW_S:
                    self._resolve(r, node_id, t, now, notify=False)
                continue
            if r.metric == "offline":
                if t.state == "pending" and self.in_maintenance(node_id, now):
                    del self.tracks[key]
                continue
            w = self.nodes.get(node_id)
            offline = w is None or now - w.last_push > self.offline_after_s
            if offline:
                if t.state == "pending":
                    del self.tracks[key]
                elif t.state == "firing":
                    t.state, t.clear_since = "paused", None
                    self._ops.append(_Op("state", r, node_id, t, now))
                continue
            if t.state == "pending" and now - t.since >= r.for_s:
                self._fire(r, node_id, t, now)
            elif t.state == "firing" and t.clear_since is not None and now - t.clear_since >= resolve_hold_s(r):
                self._resolve(r, node_id, t, now)

    # --- the state machine ----------------------------------------------------------------
    def _step(self, r: Rule, node_id: str, cond: bool | None, value: float | None, now: float) -> None:
        if cond is None:
            return
        key = (r.id, node_id)
        t = self.tracks.get(key)
        if cond:
            if t is None:
                t = self.tracks[key] = Track("pending", now)
            t.value, t.clear_since = value, None
            if t.state == "pending" and now - t.since >= r.for_s:
                self._fire(r, node_id, t, now)
            return
        if t is None:
            return
        if t.state == "pending":
            del self.tracks[key]
            return
        if t.state == "firing" and r.metric != "reboot":
            if t.clear_since is None:
                t.clear_since = now
            t.value = value
            if now - t.clear_since >= resolve_hold_s(r):
                self._resolve(r, node_id, t, now)

    def _fire(self, r: Rule, node_id: str, t: Track, now: float) -> None:
        t.state, t.since, t.clear_since = "firing", now, None
        self._ops.append(_Op("fire", r, node_id, t, now))

    def _resolve(self, r: Rule, node_id: str, t: Track, now: float, notify: bool = True) -> None:
        self.tracks.pop((r.id, node_id), None)
        t.state = "resolved"
        self._ops.append(_Op("resolve", r, node_id, t, now, notify))

    # --- output ---------------------------------------------------------------------------
    def firing(self) -> list[tuple[Rule, str]]:
        return [(self.rules[k[0]], k[1]) for k, t in self.tracks.items()
                if t.state == "firing" and k[0] in self.rules]

    def firing_nodes(self) -> set[str]:
        return {k[1] for k, t in self.tracks.items() if t.state in ("firing", "paused")}

    def message(self, kind: str, r: Rule, node_id: str, t: Track, now: float) -> tuple[str, str]:
        unit = UNITS.get(r.metric, "")
        link = self.link(node_id)
        tail = f"\n{link}" if link else ""
        if kind == "firing":
            title = f"FIRING: {r.name} on {node_id}"
            if r.metric == "reboot":
                body = f"{node_id} rebooted (uptime now {_fmt(t.value)} s).{tail}"
            else:
                held = f", held {r.for_s:.0f} s" if r.for_s else ""
                body = (f"{node_id}: {r.metric} is {_fmt(t.value)} {unit} ({r.op} {_fmt(r.threshold)} {unit}{held}); "
                        f"severity {r.severity}.{tail}")
            return title, body
        took = now - t.since
        title = f"RESOLVED: {r.name} on {node_id}"
        body = f"{node_id}: {r.metric} is back to {_fmt(t.value)} {unit} after {_duration(took)}.{tail}"
        return title, body

    async def flush(self) -> int:
        """Write the queued transitions (in order) and announce them; returns how many."""
        done = 0
        while self._ops:
            op = self._ops.pop(0)
            try:
                await self._apply(op)
            except Exception:
                log.exception("alert transition %s for rule %s on %s not stored", op.kind, op.rule.id, op.node_id)
            done += 1
        return done

    async def _apply(self, op: _Op) -> None:
        r, t = op.rule, op.track
        if op.kind == "fire":
            title, body = self.message("firing", r, op.node_id, t, op.now)
            try:
                alert = await self.store.fire(
                    NewAlert(rule_id=r.id, node_id=op.node_id, rule_name=r.name, metric=r.metric,
                             severity=r.severity, op=r.op, threshold=r.threshold, value=t.value, started_at=op.now),
                    list(r.channels), title, body)
            except Exception:
                alert = await self._adopt(r.id, op.node_id)
                if alert is None:
                    raise
                t.since = alert.started_at
            t.alert_id = alert.id
            self.on_alert(alert, "firing")
        elif op.kind == "state":
            if t.alert_id is not None:
                await self.store.set_state(t.alert_id, t.state if t.state != "resolved" else "firing")
        elif op.kind == "resolve" and t.alert_id is not None:
            title, body = self.message("resolved", r, op.node_id, t, op.now)
            await self.store.resolve(t.alert_id, op.now, list(r.channels) if op.notify else [], title, body)
            self.on_alert(Alert(id=t.alert_id, rule_id=r.id, rule_name=r.name, metric=r.metric, node_id=op.node_id,
                                severity=r.severity, state="resolved", value=t.value, threshold=r.threshold,
                                op=r.op, started_at=t.since, resolved_at=op.now), "resolved")

    async def _adopt(self, rule_id: int, node_id: str) -> Alert | None:
        """The open alert of (rule, node) that made `fire` fail: another hub on the same store
        opened it first (and queued its notifications). This engine then follows that alert,
        so whichever hub resolves it first announces the end, once."""
        return next((a for a in await self.store.open_alerts() if a.rule_id == rule_id and a.node_id == node_id),
                    None)

    def pending_ops(self) -> int:
        return len(self._ops)


def _boot_ts(sample: dict | None) -> float | None:
    if not isinstance(sample, dict):
        return None
    up, ts = sample.get("uptime_s"), sample.get("ts")
    if isinstance(up, bool) or not isinstance(up, (int, float)) or not isinstance(ts, (int, float)):
        return None
    return float(ts) - float(up)


def _duration(s: float) -> str:
    if s < 120:
        return f"{s:.0f} s"
    if s < 7200:
        return f"{s / 60:.0f} min"
    return f"{s / 3600:.1f} h"
