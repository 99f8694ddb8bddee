"""Minute and hour tiers: the averages SQLite computes match a plain Python average."""
from __future__ import annotations

import asyncio
import json
import random
import time

import pytest

from hub.store import Push, open_store
from hub.store.averaging import put_leaf
from hub.store.sqlite.rollup import path_steps


def python_average(values: list):
    """Reference: mean of numbers leaf by leaf (nulls skipped, lists element-wise)."""
    present = [v for v in values if v is not None]
    if not present:
        return None
    last = present[-1]
    if isinstance(last, (int, float)) and not isinstance(last, bool):
        nums = [v for v in present if isinstance(v, (int, float)) and not isinstance(v, bool)]
        return round(sum(nums) / len(nums), 3)
    if isinstance(last, dict):
        keys = dict.fromkeys(k for v in present if isinstance(v, dict) for k in v)
        return {k: python_average([v.get(k) for v in present if isinstance(v, dict)]) for k in keys}
    if isinstance(last, list):
        width = max(len(v) for v in present if isinstance(v, list))
        return [python_average([v[i] for v in present if isinstance(v, list) and i < len(v)]) for i in range(width)]
    return last


def random_sample(rng: random.Random, ts: float, same_shape: bool) -> dict:
    """A sample with random values; unless `same_shape`, also random lists and nulls."""
    if same_shape:
        rng = _FixedShape(rng)
    cores = rng.choice([2, 4])
    mounts = [{"mount": m, "fstype": "ext4", "total": 1000, "used": rng.randint(0, 1000),
               "percent": rng.uniform(0, 100)} for m in ("/", "/boot", "/data")[:rng.randint(1, 3)]]
    return {
        "schema_version": 1, "ts": ts,
        "cpu": {"percent": rng.uniform(0, 100), "per_core": [rng.uniform(0, 100) for _ in range(cores)],
                "temp_c": rng.choice([None, [rng.uniform(30, 90) if rng.random() > .2 else None
                                             for _ in range(cores)]])},
        "memory": {"total": 25_000_000_000, "used": rng.randint(0, 25_000_000_000)},
        "disk": {"mounts": mounts},
        "load": rng.choice([None, [rng.uniform(0, 4) for _ in range(3)]]),
        "battery": rng.choice([None, {"percent": rng.uniform(0, 100), "plugged": rng.random() > .5}]),
        "odd keys": {'a"b.c[0]': rng.randint(0, 9), "/boot": rng.uniform(0, 1), "ü": 1},
    }


class _FixedShape:
    """Random values, but every choice of shape (list length, null or not) made the same way."""

    def __init__(self, rng: random.Random):
        self.rng = rng

    def choice(self, options: list):
        return options[-1]

    def randint(self, lo: int, hi: int) -> int:
        return hi if hi <= 3 else self.rng.randint(lo, hi)

    def random(self) -> float:
        return 1.0

    def uniform(self, lo: float, hi: float) -> float:
        return self.rng.uniform(lo, hi)


def test_path_steps_reads_sqlite_full_keys_with_quoted_and_odd_keys():
    assert path_steps('$.cpu."per_core"[1]') == ("cpu", "per_core", 1)
    assert path_steps('$."a\\"b.c[0]"."/boot"[2][0]') == ('a"b.c[0]', "/boot", 2, 0)
    with pytest.raises(ValueError):
        path_steps("cpu.percent")


def test_put_leaf_makes_what_the_latest_sample_lacks():
    out = {"load": None, "cpu": {"per_core": [1.0]}}
    put_leaf(out, ("load", 2), 0.5)
    put_leaf(out, ("cpu", "per_core", 3), 7.0)
    put_leaf(out, ("disk", "mounts", 1, "used"), 9.0)
    assert out == {"load": [None, None, 0.5], "cpu": {"per_core": [1.0, None, None, 7.0]},
                   "disk": {"mounts": [None, {"used": 9.0}]}}


@pytest.mark.parametrize("seed, same_shape", [(seed, seed % 2 == 0) for seed in range(8)])
async def test_minute_and_hour_tiers_match_a_python_average_of_the_raw_samples(store, seed, same_shape):
    """Runs against every backend (the `store` fixture), as the contract suite does."""
    rng = random.Random(seed)
    hour = (time.time() // 3600 - 3) * 3600
    samples = [random_sample(rng, hour + 60 * m + s, same_shape) for m in range(3) for s in rng.sample(range(60), 12)]
    await store.samples.ingest(Push(node_id="n", identity={}, samples=samples, now=time.time()))
    assert await store.samples.roll_up(time.time()) == 3
    minutes = await store.samples.series("n", resolution="1m", points=10)
    assert [m["ts"] for m in minutes] == [hour, hour + 60, hour + 120]
    for m, got in enumerate(minutes):
        raw = sorted((s for s in samples if hour + 60 * m <= s["ts"] < hour + 60 * (m + 1)), key=lambda s: s["ts"])
        want = python_average(raw)
        want["ts"] = got["ts"]
        assert json.dumps(got, sort_keys=True) == json.dumps(want, sort_keys=True)
    [hour_row] = await store.samples.series("n", resolution="1h", points=10)
    assert hour_row["cpu"]["percent"] == pytest.approx(
        sum(m["cpu"]["percent"] for m in minutes) / 3, abs=2e-3)


KEYED_LISTS = {("gpus",): ("vendor", "index"), ("disk", "devices"): ("name",),
               ("net", "interfaces"): ("name",), ("containers",): ("id",)}


def keyed_sample(rng: random.Random, ts: float) -> dict:
    """A schema 2 sample whose keyed lists hold a random subset of their entries, in random order."""
    gpus = [{"index": i, "vendor": v, "name": f"{v} {i}", "util_percent": rng.choice([None, rng.uniform(0, 100)]),
             "mem_used": rng.randint(0, 2**34), "temp_c": rng.uniform(30, 90)}
            for v, i in rng.sample([("nvidia", 0), ("nvidia", 1), ("amd", 0)], rng.randint(0, 3))]
    return {
        "schema_version": 2, "ts": ts, "cpu": {"percent": rng.uniform(0, 100)},
        "disk": {"read_bps": rng.uniform(0, 1e6), "devices": [
            {"name": d, "read_bps": rng.uniform(0, 1e9), "busy_percent": rng.choice([None, rng.uniform(0, 100)])}
            for d in rng.sample(["nvme0n1", "sda", "sdb"], rng.randint(1, 3))]},
        "net": {"rx_bps": rng.uniform(0, 1e6), "interfaces": [
            {"name": n, "rx_bps": rng.uniform(0, 1e7), "tx_bps": rng.uniform(0, 1e7), "up": rng.random() > 0.3}
            for n in rng.sample(["eth0", "wlp3s0", "tun0"], rng.randint(0, 3))]},
        "gpus": gpus,
        "containers": [{"id": c, "name": f"name-{c}", "state": rng.choice(["running", "exited"]),
                        "cpu_percent": rng.uniform(0, 100)} for c in rng.sample(["3f1c2a9b7d4e", "a0b1c2d3e4f5"], 2)],
        "processes": [{"pid": rng.randint(1, 99999), "name": "python3", "cpu_percent": rng.uniform(0, 400),
                       "rss": rng.randint(0, 2**30)} for _ in range(rng.randint(0, 15))],
    }


def keyed_python_average(samples: list[dict]) -> dict:
    """Reference for keyed lists: each entry averaged over the samples that had it (by its key,
    not its position); the latest sample's entries in its order, then the others by key.
    Key fields are kept as sent; processes are not in tiers."""
    def key(path, e):
        return "/".join(str(e[f]) for f in KEYED_LISTS[path])

    def at(s, path):
        for p in path:
            s = (s or {}).get(p)
        return s

    plain = []
    for s in samples:
        s = json.loads(json.dumps(s))
        s.pop("processes", None)
        for path in KEYED_LISTS:
            parent = at(s, path[:-1]) if len(path) > 1 else s
            if isinstance(parent, dict):
                parent.pop(path[-1], None)
        plain.append(s)
    out = python_average(plain)
    for path in KEYED_LISTS:
        lists = [at(s, path) for s in samples if isinstance(at(s, path), list)]
        if not lists:
            continue
        seen: dict[str, list[dict]] = {}
        for entries in lists:
            for e in entries:
                seen.setdefault(key(path, e), []).append(e)
        in_latest = [key(path, e) for e in lists[-1]]
        order = in_latest + sorted(k for k in seen if k not in in_latest)
        averaged = []
        for k in order:
            fields = dict.fromkeys(f for e in seen[k] for f in e)
            entry = {f: seen[k][-1][f] if f in KEYED_LISTS[path] else python_average([e.get(f) for e in seen[k]])
                     for f in fields}
            if k not in in_latest:
                entry = {f: v for f, v in entry.items() if v is not None}
            averaged.append(entry)
        parent = out
        for p in path[:-1]:
            parent = parent.setdefault(p, {})
        parent[path[-1]] = averaged
    return out


@pytest.mark.parametrize("seed", range(4))
async def test_tiers_average_keyed_lists_by_name_and_leave_processes_out(store, seed):
    """Schema 2's lists of things that come and go are averaged entry by entry by their key
    (docs/SAMPLES.md), whatever their position; on every backend."""
    rng = random.Random(seed)
    hour = (time.time() // 3600 - 3) * 3600
    samples = [keyed_sample(rng, hour + 60 * m + s) for m in range(2) for s in sorted(rng.sample(range(60), 8))]
    await store.samples.ingest(Push(node_id="n", identity={}, samples=samples, now=time.time()))
    assert await store.samples.roll_up(time.time()) == 2
    minutes = await store.samples.series("n", resolution="1m", points=10)
    for m, got in enumerate(minutes):
        want = keyed_python_average([s for s in samples if hour + 60 * m <= s["ts"] < hour + 60 * (m + 1)])
        want["ts"] = got["ts"]
        assert json.dumps(got, sort_keys=True) == json.dumps(want, sort_keys=True)
        assert "processes" not in got
    [hour_row] = await store.samples.series("n", resolution="1h", points=10)
    assert "processes" not in hour_row
    assert {e["name"] for e in hour_row["disk"]["devices"]} == {e["name"] for m in minutes for e in m["disk"]["devices"]}


async def test_minutes_taken_by_a_rollup_cut_off_by_shutdown_are_still_written(aiohttp_client, hub_config):
    from hub.app import create_app
    from hub.state import HUB
    app = create_app(hub_config(rollup_interval_s=0.05))
    client = await aiohttp_client(app)
    hub = app[HUB]
    minute = (time.time() // 60 - 30) * 60
    buckets = 1200  # several chunks, each followed by a rest
    rows = [Push(node_id=f"n{i % 40}", identity={},
                 samples=[{"schema_version": 1, "ts": minute + 60 * (i // 40) + 1, "cpu": {"percent": 1.0}}],
                 now=time.time()) for i in range(buckets)]
    await hub.samples.ingest_many(rows)
    for _ in range(200):
        if await hub.samples.pending_rollups() < buckets:
            break  # the task is working through its chunks
        await asyncio.sleep(0.01)
    await client.close()
    store = await open_store(hub_config().resolved_store_url)
    minutes = [m for i in range(40) for m in await store.samples.series(f"n{i}", resolution="1m", points=1000)]
    await store.close()
    assert len(minutes) == buckets


@pytest.mark.slow
def test_every_finished_minute_is_rolled_up_exactly_once_across_hub_sigkills(live_hub):
    """Issue 13.4: a hub that kept its rollup queue in memory lost every minute not yet
    averaged when it was SIGKILLed, for good. Kill one before its first rollup, restart it
    with fast rollups and kill it again as soon as the first averages appear (mid-way through
    the queue), then let a third start finish: every minute is in the 1-minute tier once, its
    average over all of its samples. Read through the API and the store interface, no SQL."""
    import signal

    from conftest import http, wait_until

    nodes, minutes = 40, 30
    first = (time.time() // 60 - minutes - 5) * 60
    h = live_hub(env={"FORGE_HUB_ROLLUP_INTERVAL_S": "3600"})
    want: dict[str, dict[float, float]] = {}
    for i in range(nodes):
        node = f"n{i:02d}"
        samples = [{"schema_version": 1, "ts": first + 60 * m + s, "cpu": {"percent": float(i + m + s)}}
                   for m in range(minutes) for s in (1, 20, 40)]
        st, body = http("POST", f"{h.url}/api/ingest/{node}", {"samples": samples}, token=h.token(node))
        assert st == 200 and body["accepted"] == len(samples), body
        want[node] = {first + 60 * m: round(i + m + (1 + 20 + 40) / 3, 3) for m in range(minutes)}

    def tier(node: str) -> list[dict]:
        st, body = http("GET", f"{h.url}/api/nodes/{node}/snapshot?resolution=1m&points=1000")
        assert st == 200, body
        return body["samples"]

    assert tier("n00") == [], "no rollup ran before the kill"
    h.stop("hub", signal.SIGKILL)

    h.env["FORGE_HUB_ROLLUP_INTERVAL_S"] = "0.05"
    h.start_hub()
    wait_until(lambda: tier("n00"), 30, interval=0.01, what="the first averages after the restart")
    h.stop("hub", signal.SIGKILL)
    pending = h.read_store(lambda store: store.samples.pending_rollups())
    print(f"\nkilled with {pending} buckets still queued")

    h.start_hub()
    wait_until(lambda: all(len(tier(n)) == minutes for n in want), 60, interval=0.5,
               what="every minute rolled up after the second restart")
    for node, by_minute in want.items():
        got = tier(node)
        assert [m["ts"] for m in got] == sorted(by_minute), f"{node}: each finished minute exactly once"
        assert {m["ts"]: m["cpu"]["percent"] for m in got} == by_minute, f"{node}: averaged over all its samples"
    wait_until(lambda: h.read_store(lambda store: store.samples.pending_rollups()) == 0, 30,
               what="the rollup queue to empty (hours included)")
    hours = {round(m["ts"]) // 3600 * 3600 for m in tier("n00")}
    st, body = http("GET", f"{h.url}/api/nodes/n00/snapshot?resolution=1h&points=100")
    assert sorted(s["ts"] for s in body["samples"]) == sorted(hours)
