"""The AlertStore contract (hub/store/alerts.py): what every backend's `store.alerts` must do.

Runs once per backend (the `store` fixture, tests/store_backends.py) and talks to the
interface only, never SQL."""
from __future__ import annotations

import pytest

from hub.alerts.schema import RuleIn
from hub.store.alerts import RETENTION_S, NewAlert

T0 = 1_700_000_000.0
DAY = 86400.0


def new_alert(rule_id: int, node: str = "n1", at: float = T0) -> NewAlert:
    return NewAlert(rule_id=rule_id, node_id=node, rule_name="r", metric="cpu", severity="warning", op=">",
                    threshold=90, value=99.5, started_at=at)


@pytest.fixture
async def a(store):
    return store.alerts


async def test_a_fresh_store_has_the_stock_rules(a):
    assert [r.metric for r in await a.rules()] == ["offline", "disk", "memory", "temperature", "reboot"]


async def test_rules_round_trip_with_their_channels(a):
    c1 = await a.add_channel("one", "sealed-1", T0)
    c2 = await a.add_channel("two", "sealed-2", T0)
    r = await a.add_rule(RuleIn(name="hot", metric="cpu", threshold=90.5, for_s=30, nodes=["n1", "n2"],
                                severity="critical", channels=[c2.id, c1.id]), T0)
    assert (r.name, r.metric, r.op, r.threshold, r.for_s, r.nodes, r.severity, r.enabled) == \
        ("hot", "cpu", ">", 90.5, 30, ["n1", "n2"], "critical", True)
    assert sorted(r.channels) == sorted([c1.id, c2.id])
    u = await a.update_rule(r.id, RuleIn(name="hotter", metric="cpu", op="<", threshold=5, channels=[c1.id]), T0)
    assert (u.name, u.op, u.threshold, u.nodes, u.channels) == ("hotter", "<", 5, ["*"], [c1.id])
    assert await a.update_rule(10_000, RuleIn(name="x", metric="cpu"), T0) is None
    assert await a.delete_channel(c1.id)
    assert [x.channels for x in await a.rules() if x.id == r.id] == [[]]
    assert [c.name for c in await a.channels()] == ["two"]
    assert await a.delete_rule(r.id, T0) and not await a.delete_rule(r.id, T0)


async def test_fire_opens_one_alert_per_rule_and_node_with_its_notifications(a):
    ch = await a.add_channel("hook", "sealed", T0)
    rule = await a.add_rule(RuleIn(name="r", metric="cpu", threshold=90, channels=[ch.id]), T0)
    fired = await a.fire(new_alert(rule.id), [ch.id], "FIRING: r on n1", "body")
    assert (fired.state, fired.node_id, fired.value, fired.resolved_at) == ("firing", "n1", 99.5, None)
    assert [(x.id, x.state) for x in await a.open_alerts()] == [(fired.id, "firing")]
    with pytest.raises(Exception):
        await a.fire(new_alert(rule.id), [ch.id], "again", "body")
    assert len(await a.open_alerts()) == 1
    due = await a.due(T0, 10)
    assert [(o.alert_id, o.channel_id, o.kind, o.title, o.attempts) for o in due] == \
        [(fired.id, ch.id, "firing", "FIRING: r on n1", 0)]
    await a.set_state(fired.id, "paused")
    assert [x.state for x in await a.alerts("paused", None, 10)] == ["paused"]
    assert [x.state for x in await a.alerts("firing", None, 10)] == ["paused"]  # open: firing or paused
    await a.sent(due[0].id, ch.id, T0 + 1)
    await a.resolve(fired.id, T0 + 100, [ch.id], "RESOLVED: r on n1", "body")
    await a.resolve(fired.id, T0 + 200, [ch.id], "twice", "body")  # already closed: nothing queued
    assert [o.title for o in await a.due(T0 + 1000, 10)] == ["RESOLVED: r on n1"]
    done = await a.alerts("resolved", "n1", 10)
    assert [(x.state, x.resolved_at) for x in done] == [("resolved", T0 + 100)]
    assert await a.open_alerts() == []
    again = await a.fire(new_alert(rule.id, at=T0 + 300), [], "FIRING", "body")  # a new episode may open
    assert [x.id for x in await a.alerts(None, "n1", 10)] == [again.id, fired.id]
    assert [x.id for x in await a.alerts(None, "n1", 1)] == [again.id]


async def test_failed_sends_retry_at_their_time_then_give_up_and_keep_the_last_error(a):
    ch = await a.add_channel("hook", "sealed", T0)
    rule = await a.add_rule(RuleIn(name="r", metric="cpu"), T0)
    fired = await a.fire(new_alert(rule.id), [ch.id], "FIRING", "body")
    [o] = await a.due(T0, 10)
    await a.failed(o.id, ch.id, "connection refused", T0 + 30, T0)
    assert await a.due(T0 + 29, 10) == []
    [o] = await a.due(T0 + 30, 10)
    assert o.attempts == 1
    assert [c.last_error for c in await a.channels()] == ["connection refused"]
    await a.failed(o.id, ch.id, "still refused", None, T0 + 30)
    assert await a.due(T0 + DAY, 10) == []
    assert [c.last_error for c in await a.channels()] == ["still refused"]
    await a.resolve(fired.id, T0 + 40, [ch.id], "RESOLVED", "body")
    [o] = await a.due(T0 + 40, 10)
    await a.sent(o.id, ch.id, T0 + 41)
    assert [(c.last_error, c.last_sent_at) for c in await a.channels()] == [(None, T0 + 41)]


async def test_test_notifications_are_never_due_and_deleted_channels_drop_their_queue(a):
    ch = await a.add_channel("hook", "sealed", T0)
    await a.queue_test(ch.id, "test", "body", T0)
    assert await a.due(T0 + 10, 10) == []
    rule = await a.add_rule(RuleIn(name="r", metric="cpu"), T0)
    await a.fire(new_alert(rule.id), [ch.id], "FIRING", "body")
    await a.delete_channel(ch.id)
    assert await a.due(T0 + 10, 10) == []


async def test_deleting_or_disabling_a_rule_closes_its_open_alerts_quietly(a):
    ch = await a.add_channel("hook", "sealed", T0)
    r1 = await a.add_rule(RuleIn(name="r1", metric="cpu", channels=[ch.id]), T0)
    r2 = await a.add_rule(RuleIn(name="r2", metric="cpu", channels=[ch.id]), T0)
    await a.fire(new_alert(r1.id), [], "F", "b")
    await a.fire(new_alert(r2.id), [], "F", "b")
    await a.delete_rule(r1.id, T0 + 5)
    await a.update_rule(r2.id, RuleIn(name="r2", metric="cpu", enabled=False), T0 + 6)
    assert await a.open_alerts() == []
    assert sorted(x.resolved_at for x in await a.alerts("resolved", None, 10)) == [T0 + 5, T0 + 6]
    assert await a.due(T0 + 10, 10) == []


async def test_maintenance_windows_and_ninety_day_retention(a):
    await a.set_maintenance("backup", T0 + 3600, T0)
    await a.set_maintenance("backup", T0 + 7200, T0)
    await a.set_maintenance("nas", T0 + 60, T0)
    assert await a.maintenance() == {"backup": T0 + 7200, "nas": T0 + 60}
    await a.set_maintenance("nas", None, T0)
    assert await a.maintenance() == {"backup": T0 + 7200}
    rule = await a.add_rule(RuleIn(name="r", metric="cpu"), T0)
    old = await a.fire(new_alert(rule.id, "old"), [], "F", "b")
    await a.resolve(old.id, T0 + 10, [], "R", "b")
    still = await a.fire(new_alert(rule.id, "still"), [], "F", "b")  # open alerts are never pruned
    recent = await a.fire(new_alert(rule.id, "recent", T0 + 80 * DAY), [], "F", "b")
    await a.resolve(recent.id, T0 + 80 * DAY, [], "R", "b")
    now = T0 + 10 + RETENTION_S + 1  # the old one ended 90 days and a second ago
    assert await a.prune(now - RETENTION_S) == 1
    assert sorted(x.node_id for x in await a.alerts(None, None, 10)) == ["recent", "still"]
    assert still.id in [x.id for x in await a.open_alerts()]
