"""The alert state machine on a real store (each backend of tests/store_backends.py), driven
by an injected clock (no sleeping)."""
from __future__ import annotations

import random

import pytest

from hub.alerts.engine import REBOOT_SHOW_S, Engine
from hub.alerts.forecast import DiskForecast, MountTrend, slope
from hub.alerts.schema import RuleIn

T0 = 1_800_000_000.0
GB = 1e9


@pytest.fixture
async def alerts(store):
    return store.alerts


async def make(alerts, *rules: RuleIn, offline_after_s: float = 60.0) -> tuple[Engine, int]:
    """An engine with only `rules` (the stock rules removed) and one channel on every rule."""
    for r in await alerts.rules():
        await alerts.delete_rule(r.id, T0)
    ch = await alerts.add_channel("hook", "sealed-url", T0)
    for r in rules:
        r.channels = [ch.id]
        await alerts.add_rule(r, T0)
    eng = Engine(alerts, offline_after_s)
    await eng.load([])
    return eng, ch.id


def sample(ts: float, cpu: float = 5.0, mem: float = 40.0, uptime: float = 10_000.0, **extra) -> dict:
    s = {"ts": ts, "cpu": {"percent": cpu}, "memory": {"percent": mem}, "uptime_s": uptime}
    s.update(extra)
    return s


async def sent(alerts, now: float = T0 + 1e6) -> list[tuple[str, str]]:
    """(kind, title) of every queued notification, in order."""
    return [(o.kind, o.title) for o in await alerts.due(now, 1000)]


async def push(eng: Engine, node: str, t: float, **kw) -> None:
    eng.observe(node, {"cores": 4}, sample(t, **kw), t)
    eng.tick(t)
    await eng.flush()


async def test_a_fresh_hub_has_the_five_stock_rules_enabled_without_channels(alerts):
    rules = await alerts.rules()
    assert sorted((r.metric, r.op, r.threshold, r.for_s) for r in rules) == sorted([
        ("offline", ">", 300, 0), ("disk", ">", 90, 300), ("memory", ">", 95, 600),
        ("temperature", ">", 90, 120), ("reboot", ">", 0, 0)])
    assert all(r.enabled and r.channels == [] and r.nodes == ["*"] for r in rules)


async def test_a_spike_shorter_than_for_s_never_notifies_and_a_long_one_fires_once(alerts):
    eng, _ = await make(alerts, RuleIn(name="hot cpu", metric="cpu", threshold=90, for_s=30))
    for t in range(0, 20, 5):  # 15 s above the threshold, then back
        await push(eng, "n1", T0 + t, cpu=99)
    await push(eng, "n1", T0 + 20, cpu=10)
    await push(eng, "n1", T0 + 60, cpu=10)
    assert await sent(alerts) == []
    for t in range(100, 140, 5):  # 35 s above
        await push(eng, "n1", T0 + t, cpu=99)
    assert await sent(alerts) == [("firing", "FIRING: hot cpu on n1")]
    firing = await alerts.alerts("firing", None, 10)
    assert [(a.node_id, a.value, a.started_at) for a in firing] == [("n1", 99.0, T0 + 130)]


async def test_resolving_needs_the_condition_false_for_min_for_s_60_and_a_relapse_restarts_it(alerts):
    eng, _ = await make(alerts, RuleIn(name="mem", metric="memory", threshold=95, for_s=600))
    await push(eng, "n1", T0, mem=99)
    await push(eng, "n1", T0 + 600, mem=99)
    assert len(await sent(alerts)) == 1
    await push(eng, "n1", T0 + 610, mem=50)
    await push(eng, "n1", T0 + 650, mem=50)  # 40 s false: not yet (hold is min(600, 60) = 60 s)
    await push(eng, "n1", T0 + 655, mem=99)  # relapse
    await push(eng, "n1", T0 + 660, mem=50)
    await push(eng, "n1", T0 + 710, mem=50)  # 50 s since the relapse ended
    assert [k for k, _ in await sent(alerts)] == ["firing"]
    await push(eng, "n1", T0 + 720, mem=50)
    assert [k for k, _ in await sent(alerts)] == ["firing", "resolved"]
    assert (await alerts.alerts("resolved", "n1", 10))[0].resolved_at == T0 + 720


async def test_a_firing_metric_alert_pauses_while_the_node_is_offline_and_does_not_resolve(alerts):
    eng, _ = await make(alerts, RuleIn(name="mem", metric="memory", threshold=95, for_s=0))
    await push(eng, "n1", T0, mem=99)
    for t in (30, 61, 3600, 86400):  # switched off for a day
        eng.tick(T0 + t)
        await eng.flush()
    assert [a.state for a in await alerts.alerts(None, "n1", 10)] == ["paused"]
    assert [k for k, _ in await sent(alerts)] == ["firing"]
    await push(eng, "n1", T0 + 86400 + 5, mem=99)  # back, still full: firing again, not re-sent
    assert [a.state for a in await alerts.alerts(None, "n1", 10)] == ["firing"]
    await push(eng, "n1", T0 + 86400 + 10, mem=50)
    assert [k for k, _ in await sent(alerts)] == ["firing", "resolved"]


async def test_offline_fires_once_after_the_threshold_past_the_nodes_push_cadence(alerts):
    eng, _ = await make(alerts, RuleIn(name="gone", metric="offline", threshold=30, for_s=0))
    for t in range(0, 60, 5):  # a healthy agent pushing every 5 s, ticked every second
        await push(eng, "n1", T0 + t)
        for dt in range(1, 5):
            eng.tick(T0 + t + dt + 0.05)
    await eng.flush()
    assert await sent(alerts) == []
    last = T0 + 55
    eng.tick(last + 34.9)  # 30 s beyond its 5 s cadence not yet reached
    await eng.flush()
    assert await sent(alerts) == []
    for dt in (35.1, 36, 100, 1000):
        eng.tick(last + dt)
        await eng.flush()
    assert await sent(alerts) == [("firing", "FIRING: gone on n1")]
    await push(eng, "n1", last + 1100)
    assert [k for k, _ in await sent(alerts)] == ["firing", "resolved"]


async def test_maintenance_silences_offline_until_it_ends(alerts):
    eng, _ = await make(alerts, RuleIn(name="gone", metric="offline", threshold=60, for_s=0))
    await push(eng, "backup", T0)
    await alerts.set_maintenance("backup", T0 + 8 * 3600, T0)
    eng.maintenance = await alerts.maintenance()
    for h in (1, 4, 7.9):
        eng.tick(T0 + h * 3600)
        await eng.flush()
    assert await sent(alerts) == []
    eng.tick(T0 + 8 * 3600 + 1)  # the window is over and it is still gone
    await eng.flush()
    assert [k for k, _ in await sent(alerts)] == ["firing"]


async def test_a_reboot_notifies_once_even_without_an_outage_and_resolves_quietly(alerts):
    eng, _ = await make(alerts, RuleIn(name="reboot", metric="reboot", threshold=0))
    await push(eng, "n1", T0, uptime=50_000)
    await push(eng, "n1", T0 + 5, uptime=50_005)
    await push(eng, "n1", T0 + 10, uptime=3)  # uptime went down: rebooted within a push
    await push(eng, "n1", T0 + 15, uptime=8)
    assert await sent(alerts) == [("firing", "FIRING: reboot on n1")]
    await push(eng, "n1", T0 + 10 + REBOOT_SHOW_S + 1, uptime=REBOOT_SHOW_S + 4)
    assert [k for k, _ in await sent(alerts)] == ["firing"]
    assert [a.state for a in await alerts.alerts(None, "n1", 10)] == ["resolved"]


async def test_a_restarted_engine_keeps_a_firing_alert_without_sending_it_again(alerts):
    eng, _ = await make(alerts, RuleIn(name="mem", metric="memory", threshold=95, for_s=0),
                        RuleIn(name="gone", metric="offline", threshold=30, for_s=0))
    await push(eng, "n2", T0)
    for t in range(0, 65, 5):  # n1 keeps pushing, n2 went quiet
        await push(eng, "n1", T0 + t, mem=99)
    eng.tick(T0 + 60)
    await eng.flush()
    assert sorted(t for _, t in await sent(alerts)) == ["FIRING: gone on n2", "FIRING: mem on n1"]

    again = Engine(alerts, 60.0)  # the hub restarts
    await again.load([("n1", T0 + 60, {"cores": 4}, sample(T0 + 60, mem=99)), ("n2", T0, {}, sample(T0))])
    for t in (61, 65, 70):
        again.observe("n1", {"cores": 4}, sample(T0 + t, mem=99), T0 + t)
        again.tick(T0 + t)
        await again.flush()
    assert len(await sent(alerts)) == 2
    await push(again, "n2", T0 + 80)
    await push(again, "n1", T0 + 85, mem=50)
    kinds = [t for _, t in await sent(alerts)]
    assert sorted(kinds[2:]) == ["RESOLVED: gone on n2", "RESOLVED: mem on n1"]
    assert len(kinds) == 4


async def test_a_hub_back_from_an_outage_does_not_page_about_every_node(alerts):
    eng, _ = await make(alerts, RuleIn(name="gone", metric="offline", threshold=300, for_s=0))
    for node in ("a", "b", "dead"):
        await push(eng, node, T0)
    eng.tick(T0 + 400)  # "dead" and the others are all silent: all three fire
    await eng.flush()
    await push(eng, "a", T0 + 401)
    await push(eng, "b", T0 + 401)
    assert sorted(t for k, t in await sent(alerts) if k == "firing") == [
        "FIRING: gone on a", "FIRING: gone on b", "FIRING: gone on dead"]
    before = len(await sent(alerts))
    # The hub is down for an hour; nobody could push. It starts again:
    again = Engine(alerts, 60.0)
    up = T0 + 401 + 3600
    await again.load([("a", T0 + 401, {}, None), ("b", T0 + 401, {}, None), ("dead", T0, {}, None)], up)
    for dt in (1, 30, 200):  # "a" reconnects at once, "b" never does, "dead" stays dead
        again.observe("a", {}, None, up + dt)
        again.tick(up + dt)
        await again.flush()
    assert len(await sent(alerts)) == before  # "dead" stays firing, nothing new, nothing resolved
    assert [x.node_id for x in await alerts.open_alerts()] == ["dead"]
    again.tick(up + 310)  # "b" never came back: now it is offline for real
    await again.flush()
    assert [t for _, t in await sent(alerts)][before:] == ["FIRING: gone on b"]


async def test_editing_one_rule_restarts_only_its_own_pending_holds(alerts):
    eng, _ = await make(alerts, RuleIn(name="mem", metric="memory", threshold=95, for_s=60),
                        RuleIn(name="cpu", metric="cpu", threshold=90, for_s=60))
    await push(eng, "n1", T0, mem=99, cpu=99)
    cpu = next(r for r in await alerts.rules() if r.name == "cpu")
    await alerts.update_rule(cpu.id, RuleIn(name="cpu", metric="cpu", threshold=80, for_s=60, channels=cpu.channels),
                             T0 + 30)
    eng.set_rules(await alerts.rules())
    await push(eng, "n1", T0 + 60, mem=99, cpu=99)
    assert [t for _, t in await sent(alerts)] == ["FIRING: mem on n1"]  # cpu's hold began again at T0 + 60
    await push(eng, "n1", T0 + 120, mem=99, cpu=99)
    assert [t for _, t in await sent(alerts)] == ["FIRING: mem on n1", "FIRING: cpu on n1"]


async def test_fleet_wide_and_per_node_scope(alerts):
    n1 = RuleIn(name="only n1", metric="cpu", threshold=50, for_s=0, nodes=["n1"])
    eng, _ = await make(alerts, n1, RuleIn(name="all", metric="cpu", threshold=80, for_s=0))
    await push(eng, "n1", T0, cpu=90)
    await push(eng, "n2", T0, cpu=90)
    await push(eng, "n3", T0, cpu=60)
    assert sorted(t for _, t in await sent(alerts)) == ["FIRING: all on n1", "FIRING: all on n2",
                                                        "FIRING: only n1 on n1"]


def test_least_squares_slope_recovers_a_line():
    ts = [float(i) for i in range(50)]
    assert slope(ts, [3.0 * t + 7 for t in ts]) == pytest.approx(3.0)
    assert slope([1.0, 1.0], [1.0, 2.0]) is None


def test_forecast_on_a_noisy_filling_disk_a_flat_one_and_an_emptying_one():
    rng = random.Random(7)
    filling, flat, emptying = MountTrend(), MountTrend(), MountTrend()
    rate = 2 * GB / 3600  # 2 GB an hour, 100 GB free at the end
    for i in range(0, 3 * 3600, 30):
        t = T0 + i
        used_end = 400 * GB - rate * (3 * 3600 - 30 - i)
        filling.add(t, used_end + rng.gauss(0, 0.05 * GB), 500 * GB)
        flat.add(t, 250 * GB + rng.gauss(0, 0.05 * GB), 500 * GB)
        emptying.add(t, 300 * GB - rate * i, 500 * GB)
    assert filling.hours_to_full() == pytest.approx(50, rel=0.05)
    assert flat.hours_to_full() is None or flat.hours_to_full() > 1000
    assert emptying.hours_to_full() is None


def test_forecast_needs_enough_history():
    f = DiskForecast()
    for i in range(4):
        f.add({"ts": T0 + 60 * i, "disk": {"mounts": [{"mount": "/", "used": i * GB, "total": 10 * GB}]}})
    assert f.hours_to_full() is None


async def test_a_disk_fill_forecast_rule_fires_on_a_filling_mount(alerts):
    eng, _ = await make(alerts, RuleIn(name="filling", metric="disk_fill_hours", op="<", threshold=24, for_s=0))
    for i in range(0, 3600, 60):  # 1 GB a minute, 100 GB free after the hour: under 2 h left
        t = T0 + i
        used = 300 * GB + i / 60 * GB
        eng.observe("n1", {}, {"ts": t, "disk": {"mounts": [{"mount": "/data", "used": used, "total": 460 * GB,
                                                               "percent": 60.0}]}}, t)
    eng.tick(T0 + 3600)
    await eng.flush()
    assert await sent(alerts) == [("firing", "FIRING: filling on n1")]
    assert (await alerts.alerts("firing", "n1", 1))[0].value == pytest.approx(100 / 60, rel=0.05)


async def test_the_sender_retries_with_backoff_keeps_the_last_error_and_sends_once(alerts, tmp_path):
    from hub.alerts.notify import BACKOFF_S, Notifier
    from hub.alerts.sealing import Sealer
    sealer = Sealer(tmp_path)
    ch = await alerts.add_channel("hook", sealer.seal("json://127.0.0.1:9/hook"), T0)
    rule = await alerts.add_rule(RuleIn(name="r", metric="cpu", channels=[ch.id]), T0)
    eng = Engine(alerts, 60.0)
    await eng.load([])
    clock = [T0]
    calls: list[tuple[str, str]] = []
    answers = ["connection refused", "connection refused", None]

    def sender(url: str, title: str, body: str, kind: str) -> str | None:
        calls.append((url, title))
        return answers.pop(0)
    n = Notifier(alerts, sealer, sender, clock=lambda: clock[0])
    eng.observe("n1", {}, sample(T0, cpu=99), T0)
    await eng.flush()
    assert await n.send_due() == 0
    assert [c.last_error for c in await alerts.channels()] == ["connection refused"]
    clock[0] = T0 + BACKOFF_S[0] - 0.1
    assert await n.send_due() == 0 and len(calls) == 1  # not due yet
    clock[0] = T0 + BACKOFF_S[0]
    assert await n.send_due() == 0 and len(calls) == 2
    clock[0] += BACKOFF_S[1]
    assert await n.send_due() == 1
    assert calls == [("json://127.0.0.1:9/hook", "FIRING: r on n1")] * 3
    assert [c.last_error for c in await alerts.channels()] == [None]
    clock[0] += 10_000
    assert await n.send_due() == 0 and len(calls) == 3  # sent: never again
    n.close()
