"""Hub disk use per stored sample and per node per day at 1 s resolution.

    python bench/disk_bench.py [--nodes 2] [--hours 24] [--shapes this,desktop8,server32]

For each sample shape a real `forge hub` (fresh data folder, rollups every second) gets
`--hours` of one-second samples for each of `--nodes` nodes through the real ingest API
(`POST /api/ingest/{id}`, 500 samples per push, timestamps in the recent past so the
48 h raw retention keeps them). The bench waits until the 1-minute and 1-hour tiers are
complete, stops the hub, checkpoints the WAL (`PRAGMA wal_checkpoint(TRUNCATE)`) and
reads the file size and each table's pages (`dbstat`).

Samples come from the real `forge_desktop.collector.Collector`, so they have the agent's
exact shape and rounding:

- `this`: this machine's psutil, 60 real samples 0.1 s apart, replayed with new times;
- `desktop8`, `server32`: a small psutil stand-in (8 logical cores with coretemp
  sensors and two mounts; 32 cores, no sensors, three mounts) whose counters move by
  random amounts each second, so values vary as on a live machine.

The hub stores finished node-minutes as compressed column blocks (`sample_blocks`,
`sample_shapes`; hub/store/sqlite/blocks.py) and only the last minutes as rows, so the
bench also waits for compaction to finish. Then the same raw samples are re-encoded a few
other ways in scratch databases, to show what each encoding step buys. Bounded: fixed sample
counts, temporary folders, the hub is stopped at the end of each shape.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
import zlib

import msgspec
import zstandard
from collections import namedtuple
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from forge_desktop.collector import Collector, HostInfo
from hub.store.sqlite import Database, blocks

ADMIN = "bench-admin-secret"
BATCH = 500
DAY = 86_400

CpuTimes = namedtuple("CpuTimes", "user nice system idle iowait irq softirq steal guest guest_nice")
Freq = namedtuple("Freq", "current min max")
Temp = namedtuple("Temp", "label current high critical")
VMem = namedtuple("VMem", "total available percent used free")
Swap = namedtuple("Swap", "total used free percent sin sout")
DiskIO = namedtuple("DiskIO", "read_bytes write_bytes")
Part = namedtuple("Part", "device mountpoint fstype opts")
Usage = namedtuple("Usage", "total used free percent")
NetIO = namedtuple("NetIO", "bytes_sent bytes_recv")


class SimulatedPsutil(ModuleType):
    """The psutil calls the collector makes, answered by a machine whose load drifts.

    Each `tick()` is one second of that machine: per-core busy shares follow a random
    walk, counters grow by random amounts, memory and disk usage drift slowly.
    """

    def __init__(self, cores: int, temps: bool, mounts: list[str], rng: random.Random) -> None:
        super().__init__("simulated_psutil")
        self.rng = rng
        self.cores = cores
        self.temps = temps
        self.mounts = mounts
        self.busy = [rng.uniform(0.02, 0.3) for _ in range(cores)]
        self.times = [[0.0] * 10 for _ in range(cores)]
        self.mem_total = 32 * 2**30 if cores <= 8 else 256 * 2**30
        self.mem_used = self.mem_total * 0.4
        self.disk_bytes = [0, 0]
        self.net_bytes = [0, 0]
        self.used = {m: rng.uniform(0.2, 0.8) for m in mounts}
        self.tick()

    def tick(self) -> None:
        r = self.rng
        for i in range(self.cores):
            self.busy[i] = min(0.98, max(0.0, self.busy[i] + r.gauss(0, 0.05)))
            user, system = self.busy[i] * 0.8, self.busy[i] * 0.2
            for k, v in ((0, user), (2, system), (3, 1 - self.busy[i]), (6, 0.002)):
                self.times[i][k] += v
        self.mem_used = min(self.mem_total * 0.95, max(self.mem_total * 0.1,
                                                       self.mem_used + r.gauss(0, 20 * 2**20)))
        self.disk_bytes[0] += int(r.expovariate(1 / 200_000)) if r.random() < 0.3 else 0
        self.disk_bytes[1] += int(r.expovariate(1 / 500_000)) if r.random() < 0.6 else 0
        self.net_bytes[0] += int(r.expovariate(1 / 20_000))
        self.net_bytes[1] += int(r.expovariate(1 / 5_000))
        for m in self.mounts:
            self.used[m] = min(0.99, max(0.01, self.used[m] + r.gauss(0, 1e-6)))

    def cpu_count(self, logical: bool = True) -> int:
        return self.cores if logical else self.cores // 2

    def cpu_times(self, percpu: bool = False) -> list[CpuTimes]:
        return [CpuTimes(*t) for t in self.times]

    def cpu_freq(self, percpu: bool = False) -> list[Freq]:
        return [Freq(round(800 + 3700 * b + self.rng.uniform(0, 50), 3), 800.0, 4800.0) for b in self.busy]

    def sensors_temperatures(self) -> dict[str, list[Temp]]:
        if not self.temps:
            return {}
        cores = [Temp(f"Core {i}", round(35 + 50 * self.busy[i] + self.rng.uniform(0, 2)), 100.0, 100.0)
                 for i in range(self.cores // 2)]
        return {"coretemp": [Temp("Package id 0", max(c.current for c in cores) + 2.0, 100.0, 100.0), *cores]}

    def sensors_battery(self) -> None:
        return None

    def virtual_memory(self) -> VMem:
        used = int(self.mem_used)
        return VMem(self.mem_total, self.mem_total - used, 100 * used / self.mem_total, used, self.mem_total - used)

    def swap_memory(self) -> Swap:
        return Swap(8 * 2**30, 2**20 * 37, 8 * 2**30 - 2**20 * 37, 0.5, 0, 0)

    def disk_io_counters(self, nowrap: bool = True) -> DiskIO:
        return DiskIO(*self.disk_bytes)

    def disk_partitions(self, all: bool = False) -> list[Part]:
        return [Part(f"/dev/nvme0n1p{i + 1}", m, "ext4", "rw,relatime") for i, m in enumerate(self.mounts)]

    def disk_usage(self, path: str) -> Usage:
        total = 2 * 10**12
        used = int(total * self.used[path])
        return Usage(total, used, total - used, round(100 * used / total, 1))

    def net_io_counters(self, pernic: bool = True, nowrap: bool = True) -> dict[str, NetIO]:
        return {"lo": NetIO(10**9, 10**9), "eth0": NetIO(self.net_bytes[1], self.net_bytes[0])}

    def getloadavg(self) -> tuple[float, float, float]:
        load = sum(self.busy)
        return (load, load * 0.9, load * 0.8)

    def boot_time(self) -> float:
        return time.time() - 5 * DAY


@dataclass
class Shape:
    name: str
    make: Callable[[int], tuple[Callable[[float], dict], dict]]


def simulated(cores: int, temps: bool, mounts: list[str]) -> Callable[[int], tuple[Callable[[float], dict], dict]]:
    def make(seed: int) -> tuple[Callable[[float], dict], dict]:
        ps = SimulatedPsutil(cores, temps, mounts, random.Random(seed))
        host = HostInfo(f"sim-{seed}", "Linux", "6.1.0-18-amd64", "#1 SMP", "x86_64")
        collector = Collector(ps, topology=[(0, i % (cores // 2)) for i in range(cores)], host=host)

        def sample(ts: float) -> dict:
            ps.tick()
            return collector.sample(ts)
        return sample, collector.identity()
    return make


def this_machine(seed: int) -> tuple[Callable[[float], dict], dict]:
    # Schema 1, as the figures in PERFORMANCE.md: 60 samples 0.1 s apart would carry processes
    # in 1 of 60 instead of 1 of 5. Schema 2 bytes per sample: bench/agent_bench.py.
    collector = Collector(probes=())
    recorded = []
    for _ in range(60):
        time.sleep(0.1)
        recorded.append(collector.sample())
    boot = recorded[0]["ts"] - (recorded[0]["uptime_s"] or 0)

    def sample(ts: float) -> dict:
        s = json.loads(json.dumps(recorded[int(ts) % len(recorded)]))
        s["ts"] = ts
        if s["uptime_s"] is not None:
            s["uptime_s"] = round(ts - boot, 1)
        return s
    return sample, collector.identity()


SHAPES = {
    "this": Shape("this", this_machine),
    "desktop8": Shape("desktop8", simulated(8, True, ["/", "/home"])),
    "server32": Shape("server32", simulated(32, False, ["/", "/srv", "/var"])),
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(url: str, body: dict, token: str) -> dict:
    req = urllib.request.Request(url, data=json.dumps(body).encode(),
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.load(r)


def start_hub(data_dir: Path, port: int) -> subprocess.Popen:
    env = dict(os.environ, ADMIN_SECRET=ADMIN, FORGE_HUB_ROLLUP_INTERVAL_S="1")
    proc = subprocess.Popen([sys.executable, "-P", "-m", "forge_desktop.cli", "hub", "--host", "127.0.0.1",
                             "--port", str(port), "--data-dir", str(data_dir)], env=env,
                            stdout=subprocess.DEVNULL, stderr=(data_dir.parent / "hub.log").open("wb"))
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=1).read()
            return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("hub did not start")


def timestamps(start: float, count: int, rng: random.Random) -> Iterator[float]:
    """One-second steps with the agent's sub-second phase and a little scheduling jitter."""
    phase = rng.random()
    for i in range(count):
        yield start + i + phase + rng.uniform(0, 0.002)


def push_node(url: str, node: str, token: str, sample: Callable[[float], dict], identity: dict,
              start: float, count: int, rng: random.Random) -> int:
    accepted, batch = 0, []
    for ts in timestamps(start, count, rng):
        batch.append(sample(ts))
        if len(batch) == BATCH:
            accepted += call(f"{url}/api/ingest/{node}", {"node": identity, "samples": batch}, token)["accepted"]
            batch = []
    if batch:
        accepted += call(f"{url}/api/ingest/{node}", {"node": identity, "samples": batch}, token)["accepted"]
    return accepted


def wait_for_tiers(db: Path, minutes: int, hours: int, timeout_s: float) -> tuple[int, int]:
    """Poll (read-only) until every node has its complete minutes and hours rolled up."""
    deadline = time.time() + timeout_s
    counts = (0, 0)
    while time.time() < deadline:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as c:
            counts = tuple(c.execute(f"SELECT (SELECT count(*) FROM {table}) + (SELECT coalesce(sum(n), 0) "
                                     "FROM tier_blocks WHERE tier = ?)", (tier,)).fetchone()[0]
                           for table, tier in (("samples_1m", "1m"), ("samples_1h", "1h")))
        c.close()
        if counts[0] >= minutes and counts[1] >= hours:
            return counts
        time.sleep(1)
    print(f"  tiers incomplete after {timeout_s:.0f} s: {counts}")
    return counts


def wait_for_compaction(db: Path, nodes: int, timeout_s: float) -> int:
    """Poll (read-only) until only the last minutes of each node are left as raw rows, and
    only the current hour's minutes (and a few late ones) as 1m rows."""
    deadline = time.time() + timeout_s
    rows = minutes = -1
    while time.time() < deadline:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as c:
            rows = c.execute("SELECT count(*) FROM samples").fetchone()[0]
            minutes = c.execute("SELECT count(*) FROM samples_1m").fetchone()[0]
        c.close()
        if rows <= nodes * 3 * 60 and minutes <= nodes * 2 * 60:
            return rows
        time.sleep(1)
    print(f"  compaction incomplete after {timeout_s:.0f} s: {rows} raw rows, {minutes} 1m rows left")
    return rows


def table_bytes(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as c:
        rows = c.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall()
    c.close()
    return dict(rows)


def measure_shape(shape: Shape, nodes: int, hours: float) -> dict[str, Any]:
    per_node = int(hours * 3600)
    with tempfile.TemporaryDirectory(prefix="forge-disk-bench-") as tmp_name:
        data_dir = Path(tmp_name) / "hub"
        data_dir.mkdir()
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        hub = start_hub(data_dir, port)
        db = data_dir / "forge.db"
        try:
            start = (time.time() - per_node - 120) // 3600 * 3600
            sources = [shape.make(n) for n in range(nodes)]
            t0 = time.time()
            stored = 0
            for n, (sample, identity) in enumerate(sources):
                node = f"{shape.name}-{n}"
                token = call(f"{url}/api/tokens", {"node_id": node}, ADMIN)["token"]
                stored += push_node(url, node, token, sample, identity, start, per_node, random.Random(n))
            ingest_s = time.time() - t0
            minutes = nodes * -(-per_node // 60)
            hours_n = nodes * -(-per_node // 3600)
            tiers = wait_for_tiers(db, minutes, hours_n, timeout_s=60 + per_node * nodes / 2000)
            left = wait_for_compaction(db, nodes, timeout_s=60 + per_node * nodes / 500)
            tiers_s = time.time() - t0 - ingest_s
            values = len(leaves(sources[0][0](start)))
        finally:
            hub.terminate()
            hub.wait(20)
        with sqlite3.connect(db) as c:
            c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            rows = c.execute("SELECT count(*), sum(length(data)) FROM samples").fetchone()
            blk = c.execute("SELECT count(*), coalesce(sum(n), 0), coalesce(sum(length(data)), 0) "
                            "FROM sample_blocks").fetchone()
            raw = (rows[0] + blk[1], (rows[1] or 0) + blk[2])
            m, h = ([sum(x) for x in zip(
                c.execute(f"SELECT count(*), coalesce(sum(length(data)), 0) FROM {table}").fetchone(),
                c.execute("SELECT coalesce(sum(n), 0), "
                          "coalesce(sum(length(data) + length(ns) + coalesce(length(texts), 0)), 0) "
                          "FROM tier_blocks WHERE tier = ?", (tier,)).fetchone())]
                    for table, tier in (("samples_1m", "1m"), ("samples_1h", "1h")))
            tier_blocks = c.execute("SELECT tier, count(*) FROM tier_blocks GROUP BY tier").fetchall()
            tier_bytes = c.execute("SELECT tier, sum(length(data) + length(ns) + coalesce(length(texts), 0)) "
                                   "FROM tier_blocks GROUP BY tier").fetchall()
        c.close()
        size = db.stat().st_size
        tables = table_bytes(db)
        result = {
            "shape": shape.name, "nodes": nodes, "hours": hours, "stored": stored, "ingest_s": ingest_s,
            "tiers_s": tiers_s, "file_bytes": size, "tables": tables,
            "raw_rows": raw[0], "raw_json_bytes": raw[1] or 0,
            "m_rows": m[0], "m_json_bytes": m[1] or 0, "h_rows": h[0], "h_json_bytes": h[1] or 0,
            "tiers": tiers, "rows_left": left, "blocks": blk[0], "values": values, "tier_blocks": dict(tier_blocks),
            "tier_block_bytes": dict(tier_bytes),
            "encodings": encodings(db, Path(tmp_name)),
        }
        return result


# --- other encodings of the same raw rows ----------------------------------------------------
STATIC_KEYS = {("memory", "total"), ("swap", "total")}


def lean(sample: dict) -> dict:
    """The sample without what the row key or the node already holds: ts, schema_version,
    memory/swap totals, each mount's fstype and total (static per node)."""
    s = {k: v for k, v in sample.items() if k not in ("ts", "schema_version")}
    for section, key in STATIC_KEYS:
        if isinstance(s.get(section), dict):
            s[section] = {k: v for k, v in s[section].items() if k != key}
    disk = s.get("disk")
    if isinstance(disk, dict) and isinstance(disk.get("mounts"), list):
        disk = dict(disk)
        disk["mounts"] = [{k: v for k, v in m.items() if k not in ("fstype", "total", "free")}
                          for m in disk["mounts"]]
        s["disk"] = disk
    return s


def leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [x for v in value.values() for x in leaves(v)]
    if isinstance(value, list):
        return [x for v in value for x in leaves(v)]
    return [value]


def positional(sample: dict) -> str:
    """Values only, in the schema's order: keys live once in the code, not in every row."""
    return json.dumps(leaves(lean(sample)), separators=(",", ":"))


WITHOUT_ROWID = ("CREATE TABLE t (node_id TEXT NOT NULL, ts_ms INTEGER NOT NULL, data BLOB NOT NULL, "
                 "PRIMARY KEY (node_id, ts_ms)) WITHOUT ROWID")
ROWID_AND_INDEX = ("CREATE TABLE t (node_id TEXT NOT NULL, ts_ms INTEGER NOT NULL, data BLOB NOT NULL); "
                   "CREATE UNIQUE INDEX t_key ON t (node_id, ts_ms)")


def scratch_size(path: Path, rows: Iterator[tuple], schema: str = WITHOUT_ROWID, page_size: int = 4096) -> int:
    """Bytes of a vacuumed database holding `rows` in a table laid out like the hub's samples."""
    if path.exists():
        path.unlink()
    c = sqlite3.connect(path)
    c.execute(f"PRAGMA page_size = {int(page_size)}")
    c.executescript(schema)
    with c:
        c.executemany("INSERT INTO t VALUES (?, ?, ?)", rows)
    c.execute("VACUUM")
    c.close()
    size = path.stat().st_size
    path.unlink()
    return size


def minute_blocks(rows: Iterator[tuple], encode: Callable[[list[dict]], bytes]) -> Iterator[tuple]:
    block: list[dict] = []
    key: tuple[str, int] | None = None
    for node, ts, data in rows:
        k = (node, ts // 60_000 * 60_000)
        if key is not None and k != key:
            yield (key[0], key[1], encode(block))
            block = []
        key = k
        block.append(json.loads(data))
    if block and key is not None:
        yield (key[0], key[1], encode(block))


def columns(block: list[dict]) -> bytes:
    """One minute of samples as a column per leaf (values of one metric side by side), zlib."""
    table = [leaves(lean(s)) for s in block]
    width = max(len(r) for r in table)
    cols = [[r[i] if i < len(r) else None for r in table] for i in range(width)]
    return zlib.compress(json.dumps(cols, separators=(",", ":")).encode(), 6)


_RAW: dict[Path, list[tuple[str, int, str]]] = {}


def raw_rows(db: Path) -> Iterator[tuple[str, int, str]]:
    """Every raw sample the hub stored (blocks and rows), read back through the store once."""
    if db not in _RAW:
        _RAW.clear()
        store = Database(db)
        try:
            _RAW[db] = [(node.id, round(s["ts"] * 1000), json.dumps(s, separators=(",", ":")))
                        for node in store.nodes() for s in store.series(node.id, "1s", 10**8)]
        finally:
            store.close()
    yield from _RAW[db]


def zstd_json(block: list[dict]) -> bytes:
    return zstandard.ZstdCompressor(level=blocks.ZSTD_LEVEL).compress(
        json.dumps(block, separators=(",", ":")).encode())


def zstd_columns(block: list[dict]) -> bytes:
    """Shape once per block, each leaf's values side by side as msgpack, zstd: columns
    without any numeric encoding."""
    tables: dict[bytes, list[list]] = {}
    for s in block:
        values: list = []
        shape = msgspec.json.encode(blocks.split(s, values))
        tables.setdefault(shape, []).append(values)
    cols = [[list(c) for c in zip(*rows)] for rows in tables.values()]
    return zstandard.ZstdCompressor(level=blocks.ZSTD_LEVEL).compress(msgspec.msgpack.encode(cols))


def hub_blocks(block: list[dict], compress: bool = True) -> bytes:
    data = blocks.encode(block).data
    return data if compress else zstandard.ZstdDecompressor().decompress(data)


def encodings(db: Path, tmp: Path) -> dict[str, int]:
    """Database bytes for the same raw samples stored other ways (each in its own scratch file)."""
    scratch = tmp / "scratch.db"
    return {
        "JSON text, as the hub stores it (rebuilt, vacuumed)": scratch_size(scratch, raw_rows(db)),
        "same JSON, rowid table + unique index on (node_id, ts_ms)": scratch_size(
            scratch, raw_rows(db), ROWID_AND_INDEX),
        "same JSON, WITHOUT ROWID, page_size 16384": scratch_size(scratch, raw_rows(db), page_size=16384),
        "JSON without ts, schema_version and static fields": scratch_size(
            scratch, ((n, t, json.dumps(lean(json.loads(d)), separators=(",", ":"))) for n, t, d in raw_rows(db))),
        "values only (positional JSON array), lean": scratch_size(
            scratch, ((n, t, positional(json.loads(d))) for n, t, d in raw_rows(db))),
        "zlib of each row's JSON": scratch_size(
            scratch, ((n, t, zlib.compress(d.encode(), 6)) for n, t, d in raw_rows(db))),
        "one row per node-minute: zlib of the 60 JSON samples": scratch_size(scratch, minute_blocks(
            raw_rows(db), lambda b: zlib.compress(json.dumps(b, separators=(",", ":")).encode(), 6))),
        "one row per node-minute: lean columns, zlib": scratch_size(scratch, minute_blocks(raw_rows(db), columns)),
        "one row per node-minute: zstd of the 60 JSON samples": scratch_size(
            scratch, minute_blocks(raw_rows(db), zstd_json)),
        "one row per node-minute: shape once, msgpack columns, zstd": scratch_size(
            scratch, minute_blocks(raw_rows(db), zstd_columns)),
        "the same, rowid table + unique index (blocks of 1-8 kB fill their overflow pages)": scratch_size(
            scratch, minute_blocks(raw_rows(db), zstd_columns), ROWID_AND_INDEX),
        "hub blocks before zstd (delta/bit-packed, XOR, references; shapes elsewhere), rowid": scratch_size(
            scratch, minute_blocks(raw_rows(db), lambda b: hub_blocks(b, compress=False)), ROWID_AND_INDEX),
        "hub blocks (the above, zstd), rowid": scratch_size(
            scratch, minute_blocks(raw_rows(db), hub_blocks), ROWID_AND_INDEX),
        "hub blocks, rowid, page_size 16384 (what the hub stores: 5 blocks per page)": scratch_size(
            scratch, minute_blocks(raw_rows(db), hub_blocks), ROWID_AND_INDEX, page_size=16384),
    }


def report(r: dict[str, Any]) -> None:
    t = r["tables"]
    nodes_days = r["nodes"] * r["hours"] / 24
    raw_b = t.get("samples", 0) + sum(v for k, v in t.items()
                                       if k.startswith(("sample_blocks", "sample_shapes", "sqlite_autoindex_sample_")))
    tier_b = sum(v for k, v in t.items() if k.startswith(("tier_blocks", "sqlite_autoindex_tier_blocks")))
    blocks_n = r["tier_blocks"]
    stored_b = r["tier_block_bytes"]  # tier_blocks pages, shared out by what each tier stores in them (the 1h
    m_share = stored_b.get("1m", 0) / max(1, sum(stored_b.values()))  # blocks' texts included)
    m_b = t.get("samples_1m", 0) + tier_b * m_share
    h_b = t.get("samples_1h", 0) + tier_b * (1 - m_share)
    print(f"\n## shape {r['shape']}: {r['nodes']} nodes x {r['hours']:g} h = {r['stored']:,} samples stored "
          f"(ingest {r['ingest_s']:.0f} s, {r['stored'] / r['ingest_s']:,.0f} samples/s; tiers done "
          f"{r['tiers_s']:.0f} s later: {r['tiers'][0]} minutes, {r['tiers'][1]} hours)")
    print(f"file after checkpoint: {r['file_bytes'] / 1e6:.1f} MB; tables: "
          + ", ".join(f"{k} {v / 1e6:.2f} MB" for k, v in sorted(t.items(), key=lambda kv: -kv[1]) if v > 8192))
    per_sample = raw_b / r["raw_rows"]
    print(f"raw: {per_sample:.1f} B per sample on disk, {per_sample / r['values']:.2f} B per value "
          f"({r['values']} values per sample; {r['blocks']:,} blocks, {r['rows_left']:,} rows left; "
          f"payload {r['raw_json_bytes'] / r['raw_rows']:.1f} B per sample, "
          f"{100 * r['raw_json_bytes'] / raw_b:.0f} % of the pages)")
    all_b = raw_b + m_b + h_b
    print(f"raw + tiers: {all_b / r['raw_rows']:.1f} B per raw sample, {all_b / r['raw_rows'] / r['values']:.2f} B per value")
    print(f"1m tier: {m_b / max(1, r['m_rows']):.0f} B per average ({m_b / r['raw_rows']:.2f} B per raw sample); "
          f"1h tier: {h_b / max(1, r['h_rows']):.0f} B per average ({h_b / r['raw_rows']:.2f} B per raw sample); "
          f"tier blocks: {blocks_n}")
    day_raw = raw_b / nodes_days / 1e6
    day_m = m_b / nodes_days / 1e6
    day_h = h_b / nodes_days / 1e6
    print(f"per node per day: raw {day_raw:.1f} MB + 1m {day_m:.2f} MB + 1h {day_h:.3f} MB = "
          f"{day_raw + day_m + day_h:.1f} MB (whole file: {r['file_bytes'] / nodes_days / 1e6:.1f} MB)")
    print(f"steady state per node with default retention (48 h raw, 30 d of 1m, 400 d of 1h): "
          f"{2 * day_raw + 30 * day_m + 400 * day_h:.0f} MB")
    print("\nsame raw samples, other encodings (bytes per sample, vacuumed scratch database):")
    base = None
    for name, size in r["encodings"].items():
        b = size / r["raw_rows"]
        base = base or b
        print(f"  {b:7.0f} B  {100 * b / base:5.1f} %  {name}")


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, default=2, help="simulated nodes per shape")
    ap.add_argument("--hours", type=float, default=24.0, help="hours of 1 s samples per node")
    ap.add_argument("--shapes", default="this,desktop8,server32", help=f"comma-separated: {', '.join(SHAPES)}")
    args = ap.parse_args(argv)
    if not 1 <= args.nodes <= 20 or not 0 < args.hours <= 46:
        raise SystemExit("--nodes must be 1-20 and --hours above 0 and at most 46 (raw retention is 48 h)")
    print(f"python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}")
    for name in args.shapes.split(","):
        if name not in SHAPES:
            raise SystemExit(f"--shapes: unknown shape {name!r}; choose from {', '.join(SHAPES)}")
        report(measure_shape(SHAPES[name], args.nodes, args.hours))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
