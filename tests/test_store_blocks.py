"""Compact history in the SQLite backend (issue 17): finished node-minutes of raw samples
become one compressed block of columns (hub/store/sqlite/blocks.py).

Round trips are exact: every sample comes back equal (==) to what was pushed, floats
bit for bit, through the store's own read path after compaction. Exactly once across the
row -> block boundary, retention by whole blocks, tiers from blocks against plain Python,
and a hub SIGKILLed in the middle of compacting."""
from __future__ import annotations

import json
import random
import sqlite3
import time
from pathlib import Path

import pytest

from hub.store import Push, Retention, open_store, sqlite_url
from hub.store.sqlite import blocks
from test_collector import FIXTURES, replay
from test_hub_rollup import keyed_python_average, keyed_sample, python_average, random_sample

MINUTE = 60.0


def fixture_samples(name: str) -> list[dict]:
    """Every sample the collector makes replaying a platform fixture (first one included)."""
    ps, collector = replay(name)
    out = [collector.sample(ps.now)]
    for _ in range(len(ps.fixture["steps"]) + 1):
        out.append(collector.sample(ps.advance()))
    return out


def random_schema2(rng: random.Random, ts: float) -> dict:
    """A schema 1 or 2 sample with nulls, missing fields, keyed lists that change length and
    order, fields a newer agent might send, and odd values (big ints, unicode, nesting)."""
    s = random_sample(rng, ts, same_shape=False)
    if rng.random() < 0.5:
        s["schema_version"] = 2
        s["processes"] = [{"pid": rng.randint(1, 99999), "name": rng.choice(["python3", "chromium", "Xorg", ""]),
                           "user": rng.choice(["root", "ana", None]), "cpu_percent": rng.choice([None, rng.uniform(0, 400)]),
                           "rss": rng.randint(0, 2**34), "cmdline": rng.choice([None, "python -m x --token <redacted>"])}
                          for _ in range(rng.randint(0, 15))]
        s["gpus"] = [{"index": i, "vendor": "nvidia", "name": "NVIDIA GeForce RTX 4090",
                      "util_percent": rng.choice([None, round(rng.uniform(0, 100), 1)]),
                      "mem_used": rng.randint(0, 24 * 2**30), "mem_total": 24 * 2**30,
                      "temp_c": round(rng.uniform(30, 90), 1), "power_w": rng.choice([None, 250.5])}
                     for i in range(rng.randint(0, 2))]
        s["disk"]["devices"] = [{"name": d, "read_bps": rng.choice([None, round(rng.uniform(0, 1e9), 1)]),
                                 "write_bps": round(rng.uniform(0, 1e9), 1)} for d in ("nvme0n1", "sda")[:rng.randint(0, 2)]]
        s["net"] = {"rx_bps": rng.choice([None, 1.5]), "interfaces": [
            {"name": n, "rx_bps": round(rng.uniform(0, 1e7), 1), "tx_bps": None, "up": rng.random() > 0.2}
            for n in rng.sample(["eth0", "wlp3s0", "tun0"], rng.randint(0, 3))]}
        s["containers"] = [{"id": f"{rng.getrandbits(48):012x}", "name": f"c{i}", "image": "redis:7",
                            "state": rng.choice(["running", "exited"]), "cpu_percent": rng.uniform(0, 100)}
                           for i in range(rng.randint(0, 3))]
        s["sensors"] = {"fans_rpm": {"cpu_fan": rng.randint(0, 3000)}} if rng.random() < 0.5 else {}
    if rng.random() < 0.3:
        s["from_a_newer_agent"] = {"nested": [[rng.random(), None, True], {"ünï": "x" * rng.randint(0, 5)}],
                                   "big": 2**70 + rng.randint(0, 9), "neg": -rng.randint(0, 2**40),
                                   "zero": 0, "mixed": rng.choice([1, 1.5, "1", None, False])}
    for key in rng.sample(["memory", "load", "battery", "disk"], rng.randint(0, 2)):
        s.pop(key, None)  # a probe that is off or absent in this sample
    return s



def roundtrip(samples: list[dict]) -> list[dict]:
    enc = blocks.encode(samples)
    return blocks.decode(enc.data, enc.shapes.__getitem__)


async def compacted(tmp_path: Path, samples: list[dict], node: str = "n"):
    """A store holding `samples` (all in finished minutes) after one compaction pass."""
    store = await open_store(sqlite_url(tmp_path / "forge.db"))
    await store.samples.ingest(Push(node_id=node, identity={}, samples=samples, now=time.time()))
    await store.samples.compact(time.time())
    return store


def stored_rows(path: Path) -> tuple[int, int]:
    """(raw rows, blocks) in the file: which side of the boundary the samples are on."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as c:
        return (c.execute("SELECT count(*) FROM samples").fetchone()[0],
                c.execute("SELECT count(*) FROM sample_blocks").fetchone()[0])


PSUTIL_FIXTURES = sorted(p.stem for p in FIXTURES.glob("*.json") if {"static", "steps"} <= json.loads(p.read_text()).keys())


@pytest.mark.parametrize("fixture", PSUTIL_FIXTURES)
async def test_every_platform_shape_comes_back_equal_after_compaction(tmp_path, fixture):
    minute = (time.time() // 60 - 10) * 60
    made = fixture_samples(fixture)
    samples = []
    for i, s in enumerate(made * 4):  # the fixture's samples, again and again, in one minute
        s = json.loads(json.dumps(s))
        s["ts"] = minute + 1 + i * 0.25 + 1e-6 * i
        samples.append(s)
    assert roundtrip(samples) == samples
    store = await compacted(tmp_path, samples)
    try:
        assert stored_rows(tmp_path / "forge.db") == (0, 1), "the minute is one block now"
        back = await store.samples.series("n", resolution="1s", points=1000)
        assert back == samples
        assert [type(v) for s in back for v in s["cpu"].values()] == [type(v) for s in samples for v in s["cpu"].values()]
    finally:
        await store.close()


@pytest.mark.parametrize("seed", range(6))
async def test_random_schema_1_and_2_samples_come_back_equal(tmp_path, seed):
    rng = random.Random(seed)
    minute = (time.time() // 60 - 30) * 60
    samples = [random_schema2(rng, minute + 60 * m + s + rng.random() / 3)
               for m in range(4) for s in sorted(rng.sample(range(60), 30))]
    for s in samples[::17]:
        s["cpu"]["per_core"] = [float(i) for i in range(rng.randint(0, 40))]  # lists changing length
    assert roundtrip(samples) == samples
    assert json.dumps(roundtrip(samples)) == json.dumps(samples), "keys in their order, ints stay ints"
    store = await compacted(tmp_path, samples)
    try:
        assert stored_rows(tmp_path / "forge.db") == (0, 4)
        assert await store.samples.series("n", resolution="1s", points=1000) == samples
        window = await store.samples.series("n", resolution="1s", points=25, since=minute + 70, until=minute + 150)
        assert window == [s for s in samples if minute + 70 <= s["ts"] <= minute + 150][-25:]
    finally:
        await store.close()


async def test_a_worker_process_compacts_full_chunks_the_same(tmp_path, monkeypatch):
    """Full chunks are encoded in a worker process (off the hub's GIL); what it stores reads back
    exactly as a reader thread's blocks do."""
    import hub.store.sqlite as backend
    monkeypatch.setattr(backend, "COMPACT_OFFLOAD", 2)
    rng = random.Random(5)
    minute = (time.time() // 60 - 10) * 60
    samples = [random_schema2(rng, minute + 2 * k + rng.random()) for k in range(3 * 30)]
    store = await compacted(tmp_path, samples)
    try:
        assert stored_rows(tmp_path / "forge.db") == (0, 3)
        assert store.samples._t._worker is not None, "the chunk went to the worker"
        assert await store.samples.series("n", resolution="1s", points=1000) == samples
    finally:
        await store.close()


def test_floats_survive_bit_for_bit():
    values = [0.1, 1e-300, 5e-324, 1.7976931348623157e308, 123456.789012345, -2.5, 0.0, 1 / 3, 12.3, 1e16]
    samples = [{"ts": 1000.0 + i, "x": v, "y": values[(i + 3) % len(values)], "z": float(i) / 10}
               for i, v in enumerate(values)]
    back = roundtrip(samples)
    assert [(s["x"].hex(), s["y"].hex(), s["z"].hex()) for s in back] == \
           [(s["x"].hex(), s["y"].hex(), s["z"].hex()) for s in samples]


def decoded_by_groups(data: bytes, shapes: dict, monkeypatch) -> list[dict]:
    """A block read with the first decoder: one unpack per group of columns of a width."""
    with monkeypatch.context() as m:
        m.setattr(blocks, "decode_table", lambda descs, n, buf, pos, padded=None:
                  blocks.decode_table_by_groups(descs, n, buf, pos))
        return blocks.decode(data, shapes.__getitem__)


def bit_exact(samples: list[dict]) -> str:
    """Samples as text where floats are their IEEE bits, so 0.1 and 0.1000000000000001 differ."""
    def walk(v):
        if type(v) is float:
            return v.hex()
        if type(v) is dict:
            return {k: walk(x) for k, x in v.items()}
        if type(v) is list:
            return [walk(x) for x in v]
        return v
    return json.dumps(walk(samples))


@pytest.mark.parametrize("seed", range(8))
def test_the_one_pass_decoder_gives_what_the_group_decoder_gives(seed, monkeypatch):
    """Random blocks of every column kind and width (1 to 60 samples, schema 1 and 2, tier-like
    averages, integer steps too wide for one gather): both decoders give the same samples,
    bit for bit, and both give what was encoded."""
    rng = random.Random(seed)
    base = 1.7e9 + rng.randrange(10**6)
    minute = [random_schema2(rng, base + k + rng.random()) for k in range(rng.choice([1, 2, 3, 17, 60]))]
    averages = [{"ts": base + 3600.0 * k, "cpu": {"percent": round(rng.uniform(0, 100), 3),
                                                 "per_core": [round(rng.uniform(0, 100), 3) for _ in range(8)]},
                 "mem": {"used": round(rng.uniform(1e9, 2e9), 3), "total": 16e9}} for k in range(24)]
    wide = [{"ts": base + k, "big": rng.randrange(-2**61, 2**61), "small": k * rng.randrange(1, 9),
             "steady": 2**40 + 1000 * k} for k in range(30)]
    for samples in (minute, averages, wide):
        enc = blocks.encode(samples)
        one_pass = blocks.decode(enc.data, enc.shapes.__getitem__)
        assert bit_exact(one_pass) == bit_exact(decoded_by_groups(enc.data, enc.shapes, monkeypatch))
        assert bit_exact(one_pass) == bit_exact(samples)


def test_blocks_written_in_format_1_still_read_back_equal(monkeypatch):
    """Blocks a round 1 hub stored (format 1's encoder, commit 4da2131, kept in a fixture)
    read back exactly, with both decoders."""
    import base64
    fixture = json.loads((Path(__file__).parent / "fixtures" / "blocks" / "format1.json").read_text())
    shapes = {int(h): j.encode() for h, j in fixture["shapes"].items()}
    for block in fixture["blocks"]:
        data = base64.b64decode(block["data"])
        plain = blocks.zstandard.ZstdDecompressor().decompress(data)
        assert blocks.msgspec.msgpack.decode(plain[4:4 + int.from_bytes(plain[:4], "little")])["v"] == 1
        assert bit_exact(blocks.decode(data, shapes.__getitem__)) == bit_exact(block["samples"])
        assert bit_exact(decoded_by_groups(data, shapes, monkeypatch)) == bit_exact(block["samples"])


async def test_a_late_resend_of_a_compacted_minute_is_a_duplicate_and_a_late_sample_is_merged(tmp_path):
    minute = (time.time() // 60 - 10) * 60
    first = [{"schema_version": 1, "ts": minute + s, "cpu": {"percent": float(s)}} for s in range(0, 60, 2)]
    store = await compacted(tmp_path, first)
    try:
        again = await store.samples.ingest(Push(node_id="n", identity={}, samples=first[:5], now=time.time()))
        assert (again.accepted, again.duplicate) == (0, 5), "a resend of a compacted minute is recognised"
        late = {"schema_version": 1, "ts": minute + 59.5, "cpu": {"percent": 100.0}}
        mixed = await store.samples.ingest(Push(node_id="n", identity={}, samples=[first[-1], late], now=time.time()))
        assert (mixed.accepted, mixed.duplicate) == (1, 1)
        assert stored_rows(tmp_path / "forge.db") == (1, 1), "the late sample waits as a row beside the block"
        assert await store.samples.series("n", resolution="1s", points=100) == first + [late]
        await store.samples.roll_up(time.time())
        assert stored_rows(tmp_path / "forge.db") == (0, 1), "and is merged into the block"
        assert await store.samples.series("n", resolution="1s", points=100) == first + [late]
        again = await store.samples.ingest(Push(node_id="n", identity={}, samples=[late], now=time.time()))
        assert again.duplicate == 1
        [m] = await store.samples.series("n", resolution="1m", points=10)
        assert m["cpu"]["percent"] == round((sum(range(0, 60, 2)) + 100) / 31, 3)
        assert await store.samples.recent_cpu("n", 3) == [56.0, 58.0, 100.0]
    finally:
        await store.close()


async def test_sparklines_after_compaction_come_without_decoding_a_block(tmp_path, monkeypatch):
    """Loading the fleet at startup reads each node's sparkline (30 points): from the rows and
    the newest block's last points kept beside it, so 10,000 nodes cost no block decode."""
    minute = (time.time() // 60 - 10) * 60
    samples = [{"ts": minute + s, "cpu": {"percent": float(s)}} for s in range(60)]
    samples += [{"ts": minute + 60 + s, "cpu": {"percent": 100.0 + s}} for s in range(40)]
    store = await compacted(tmp_path, samples)
    try:
        assert stored_rows(tmp_path / "forge.db") == (0, 2)
        from hub.store.sqlite.db import Database
        decoded = []
        real = Database.decode_block
        monkeypatch.setattr(Database, "decode_block", lambda self, *a: decoded.append(1) or real(self, *a))
        want = [float(s) for s in range(50, 60)] + [100.0 + s for s in range(40)]
        assert await store.samples.recent_cpu("n", 30) == want[-30:]
        assert decoded == []
        await store.samples.ingest(Push(node_id="n", identity={}, now=time.time(),
                                        samples=[{"ts": time.time() - 1, "cpu": {"percent": 7.0}}]))
        assert await store.samples.recent_cpu("n", 30) == want[-29:] + [7.0]
        assert decoded == []
        assert await store.samples.recent_cpu("n", 50) == (want + [7.0])[-50:]
        assert decoded, "beyond the kept points it reads the blocks"
    finally:
        await store.close()


async def test_retention_prunes_whole_blocks(tmp_path):
    now = time.time()
    old = (now // 60 - 3 * 24 * 60) * 60  # three days ago
    samples = [{"ts": old + s, "v": s} for s in range(60)] + [{"ts": old + 120 + s, "v": s} for s in range(60)]
    store = await compacted(tmp_path, samples)
    try:
        assert stored_rows(tmp_path / "forge.db") == (0, 2)
        keep = now - (old + 150)  # the second minute straddles the limit: it stays whole
        removed = await store.samples.prune(now, Retention(raw_s=keep, minute_s=86400 * 30, hour_s=86400 * 400))
        assert removed["samples"] == 60
        assert stored_rows(tmp_path / "forge.db") == (0, 1)
        assert [s["v"] for s in await store.samples.series("n", resolution="1s", points=500)] == list(range(60))
    finally:
        await store.close()


@pytest.mark.parametrize("seed, same_shape", [(seed, seed % 2 == 0) for seed in range(6)])
async def test_tiers_from_blocks_match_a_python_average(tmp_path, seed, same_shape):
    """test_hub_rollup's check, with every minute compacted before it is rolled up."""
    rng = random.Random(seed)
    hour = (time.time() // 3600 - 3) * 3600
    samples = [random_sample(rng, hour + 60 * m + s, same_shape) for m in range(3) for s in sorted(rng.sample(range(60), 12))]
    store = await compacted(tmp_path, samples)
    try:
        assert stored_rows(tmp_path / "forge.db") == (0, 3)
        assert await store.samples.roll_up(time.time()) == 3
        minutes = await store.samples.series("n", resolution="1m", points=10)
        assert [m["ts"] for m in minutes] == [hour, hour + 60, hour + 120]
        for m, got in enumerate(minutes):
            want = python_average([s for s in samples if hour + 60 * m <= s["ts"] < hour + 60 * (m + 1)])
            want["ts"] = got["ts"]
            assert json.dumps(got, sort_keys=True) == json.dumps(want, sort_keys=True)
    finally:
        await store.close()


@pytest.mark.parametrize("seed", range(3))
async def test_keyed_lists_from_blocks_are_averaged_by_name(tmp_path, seed):
    """test_hub_rollup's keyed check, with the minutes compacted before they are rolled up."""
    rng = random.Random(seed)
    hour = (time.time() // 3600 - 3) * 3600
    samples = [keyed_sample(rng, hour + 60 * m + s) for m in range(2) for s in sorted(rng.sample(range(60), 8))]
    store = await compacted(tmp_path, samples)
    try:
        assert stored_rows(tmp_path / "forge.db") == (0, 2)
        assert await store.samples.roll_up(time.time()) == 2
        for m, got in enumerate(await store.samples.series("n", resolution="1m", points=10)):
            want = keyed_python_average([s for s in samples if hour + 60 * m <= s["ts"] < hour + 60 * (m + 1)])
            want["ts"] = got["ts"]
            assert json.dumps(got, sort_keys=True) == json.dumps(want, sort_keys=True)
    finally:
        await store.close()


def tier_rows(path: Path) -> dict[str, int]:
    """Rows and blocks of the tiers in the file."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as c:
        out = {t: c.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("samples_1m", "samples_1h")}
        out.update(c.execute("SELECT tier, count(*) FROM tier_blocks GROUP BY tier").fetchall())
    return out


@pytest.mark.parametrize("seed, same_shape", [(seed, seed % 2 == 0) for seed in range(4)])
async def test_tiers_compacted_into_hour_and_day_blocks_match_a_python_average(tmp_path, seed, same_shape):
    """Minutes of a finished hour and hours of a finished day become one block each; they read
    back as the plain Python average of the raw samples, and a late sample averages its minute
    and hour again from the blocks (a row beside the block until the next pass merges it)."""
    rng = random.Random(seed)
    day = (time.time() // 86400 - 2) * 86400
    starts = [day + 3600 * h + 60 * m for h in (1, 2) for m in (0, 1, 5)]
    samples = [random_sample(rng, t + s, same_shape) for t in starts for s in sorted(rng.sample(range(60), 10))]
    store = await open_store(sqlite_url(tmp_path / "forge.db"))
    try:
        await store.samples.ingest(Push(node_id="n", identity={}, samples=samples, now=time.time()))
        assert await store.samples.roll_up(time.time()) == 6  # and compacts: raw, then minutes, then hours
        assert tier_rows(tmp_path / "forge.db") == {"samples_1m": 0, "samples_1h": 0, "1m": 2, "1h": 1}

        def want_minutes(raw: list[dict]) -> list[dict]:
            out = []
            for t in starts:
                want = python_average(sorted((x for x in raw if t <= x["ts"] < t + 60), key=lambda x: x["ts"]))
                want["ts"] = t
                out.append(want)
            return out

        def same(got: list[dict], want: list[dict]) -> bool:
            return [json.dumps(g, sort_keys=True) for g in got] == [json.dumps(w, sort_keys=True) for w in want]

        minutes = await store.samples.series("n", resolution="1m", points=100)
        assert same(minutes, want_minutes(samples))
        hours = await store.samples.series("n", resolution="1h", points=100)
        assert [h["ts"] for h in hours] == [day + 3600, day + 7200]
        assert hours[0]["cpu"]["percent"] == pytest.approx(sum(m["cpu"]["percent"] for m in minutes[:3]) / 3, abs=2e-3)
        assert await store.samples.series("n", resolution="1m", points=2, every_s=300) == [minutes[3], minutes[5]]

        late = random_sample(rng, starts[4] + 59.5, same_shape)
        await store.samples.ingest(Push(node_id="n", identity={}, samples=[late], now=time.time()))
        await store.samples.roll_up(time.time())  # averages minute and hour again from blocks, then merges them
        assert tier_rows(tmp_path / "forge.db") == {"samples_1m": 0, "samples_1h": 0, "1m": 2, "1h": 1}
        minutes = await store.samples.series("n", resolution="1m", points=100)
        assert same(minutes, want_minutes(samples + [late]))
        hour = python_average(minutes[3:])
        hour["ts"] = day + 7200
        assert same((await store.samples.series("n", resolution="1h", points=100))[1:], [hour])

        now = time.time()
        removed = await store.samples.prune(now, Retention(raw_s=86400 * 30, minute_s=now - (day + 7200),
                                                           hour_s=86400 * 400))
        assert removed["samples_1m"] == 3, "the first hour's block of minutes goes whole"
        assert [m["ts"] for m in await store.samples.series("n", resolution="1m", points=100)] == starts[3:]
    finally:
        await store.close()


@pytest.mark.slow
def test_a_hub_sigkilled_while_compacting_loses_and_doubles_nothing(live_hub):
    """Push 30 finished minutes for 40 nodes to a hub that does not compact, restart it
    compacting fast and SIGKILL it as soon as the first blocks are in, then let a third start
    finish: every sample is served once, equal to what was pushed, and none is left as a row."""
    import signal

    from conftest import http, wait_until

    nodes, minutes = 40, 30
    first = (time.time() // 60 - minutes - 5) * 60
    h = live_hub(env={"FORGE_HUB_ROLLUP_INTERVAL_S": "3600"})
    pushed: dict[str, list[dict]] = {}
    for i in range(nodes):
        node = f"n{i:02d}"
        pushed[node] = [{"schema_version": 1, "ts": first + 60 * m + s + 0.125,
                         "cpu": {"percent": float(i + m + s), "per_core": [float(s), 1.5]}}
                        for m in range(minutes) for s in range(0, 60, 6)]
        st, body = http("POST", f"{h.url}/api/ingest/{node}", {"samples": pushed[node]}, token=h.token(node))
        assert st == 200 and body["accepted"] == len(pushed[node]), body
    db = h.home / "hub" / "forge.db"
    h.stop("hub", signal.SIGKILL)

    h.env["FORGE_HUB_ROLLUP_INTERVAL_S"] = "0.05"
    h.start_hub()
    wait_until(lambda: stored_rows(db)[1] > 0, 60, interval=0.01, what="the first blocks")
    h.stop("hub", signal.SIGKILL)
    rows, made = stored_rows(db)
    print(f"\nkilled with {made} blocks written and {rows} rows left")
    assert rows > 0, "killed in the middle of compacting"

    def raw(node: str) -> list[dict]:
        st, body = http("GET", f"{h.url}/api/nodes/{node}/snapshot?resolution=1s&points=5000")
        assert st == 200, body
        return body["samples"]

    h.start_hub()
    wait_until(lambda: stored_rows(db) == (0, nodes * minutes), 120, interval=0.5,
               what="every minute compacted after the restart")
    for node, want in pushed.items():
        assert raw(node) == want, f"{node}: every sample once"


def test_forge_hub_export_dumps_a_nodes_history_as_ndjson(tmp_path):
    import asyncio
    import os
    import subprocess
    import sys

    data = tmp_path / "hub"
    minute = (time.time() // 60 - 20) * 60
    samples = [{"schema_version": 1, "ts": minute + s * 7.5, "cpu": {"percent": float(s)}} for s in range(100)]

    async def fill() -> None:
        store = await compacted(data, samples)
        await store.samples.ingest(Push(node_id="other", identity={}, samples=samples[:3], now=time.time()))
        await store.close()
    asyncio.run(fill())
    env = {k: v for k, v in os.environ.items() if k != "FORGE_HUB_STORE_URL"}

    def forge(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-P", "-m", "forge_desktop.cli", "hub", "--data-dir", str(data), *args],
                              capture_output=True, text=True, timeout=60, env=env)
    done = forge("--export", "n", "--since", "1h")
    assert done.returncode == 0, done.stderr
    assert [json.loads(line) for line in done.stdout.splitlines()] == samples
    part = forge("--export", "n", "--since", str(minute + 60), "--until", str(minute + 120))
    assert [json.loads(line)["ts"] for line in part.stdout.splitlines()] == [s["ts"] for s in samples
                                                                             if minute + 60 <= s["ts"] <= minute + 120]
    unknown = forge("--export", "nobody")
    assert unknown.returncode != 0 and "no node 'nobody'" in unknown.stderr
    bad = forge("--export", "n", "--since", "yesterday-ish")
    assert bad.returncode != 0 and "not a time" in bad.stderr


async def test_an_upgraded_database_is_compacted_in_place_a_pass_at_a_time(tmp_path, monkeypatch):
    """Migration 006 only adds the block tables: the rows an older hub left are finished
    minutes, which the compaction pass converts while the store serves, resuming where it
    stopped (here: passes cut to 2 chunks of 3 minutes)."""
    import hub.store.sqlite as backend
    from hub.store.sqlite import migrations

    path = tmp_path / "forge.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL)")
    for version, name, sql in migrations():
        if version < 6:
            con.executescript(sql)
            con.execute("INSERT INTO schema_migrations VALUES (?, ?, 0)", (version, name))
    first = (time.time() // 60 - 40) * 60
    want = {f"n{i}": [{"schema_version": 1, "ts": first + 15 * k + i, "cpu": {"percent": float(k)}} for k in range(4 * 10)]
            for i in range(2)}  # 10 minutes each
    con.executemany("INSERT INTO samples (node_id, ts_ms, data) VALUES (?, ?, ?)",
                    [(node, round(s["ts"] * 1000), json.dumps(s)) for node, ss in want.items() for s in ss])
    con.commit()
    con.close()
    monkeypatch.setattr(backend, "COMPACT_CHUNK", 3)
    monkeypatch.setattr(backend, "COMPACT_PASS", 6)
    store = await open_store(sqlite_url(path))
    try:
        passes = []
        while done := await store.samples.compact(time.time()):
            passes.append(done)
            rows, made = stored_rows(path)
            assert made == sum(passes) and rows == 80 - 4 * made
            for node, samples in want.items():
                assert await store.samples.series(node, resolution="1s", points=100) == samples, "served meanwhile"
        assert passes == [6, 6, 6, 2]
        assert stored_rows(path) == (0, 20)
    finally:
        await store.close()
