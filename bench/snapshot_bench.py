"""Read latency of GET /api/nodes/{id}/snapshot with compact history (issue 17).

    python bench/snapshot_bench.py [--nodes 500] [--requests 200] [--shape desktop8]
    python bench/snapshot_bench.py --ranges [--nodes 50] [--tier-nodes 10] [--requests 10]

Builds a hub database with `--nodes` nodes: each has 15 compacted minutes of 1 s samples
(blocks, as the compaction pass writes them) plus the current minute as rows; the first
`--tier-nodes` also have 1,440 one-minute and 8,760 one-hour averages, as the compaction
pass leaves them: finished node-hours (1m) and node-days (1h) as tier blocks, the current
ones as rows (with `--rows`: every average a row, as before). The samples are the disk bench's
simulated collector output, made once and shared by all nodes. Then a real `forge hub`
serves the file and the bench times, one request at a time over loopback, snapshots of 300
points at 1 s, 1,440 at 1 m and 8,760 at 1 h for random nodes, each node read twice in a
row: the first read is *cold* (the hub has not read that node's blocks since it started),
the second *warm* (its finished blocks' JSON in the hub's read cache, `read_cache_mb`):
p50, p90, p99 and max per kind and read. A request's time is from sending it to the answer's
last byte; parsing the answer (Python's json, then msgspec) is timed apart, as it is the
client's work, not the hub's. With `--ranges` the tier nodes hold 30 days of 1-minute
averages, and the bench reads instead each time range the hub serves its views
(`GET /api/meta`), with the query the node page sends (points, resolution, since, every),
each node cold then warm: what a user waits for after a click. With `--rows` the raw samples stay rows, as before compaction
(a baseline under the same load). Bounded: fixed counts, a temporary folder, the hub
stopped at the end.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from disk_bench import SHAPES, free_port, start_hub  # noqa: E402

import msgspec  # noqa: E402

from hub.store.sqlite import Database, blocks  # noqa: E402

MINUTE_MS = 60_000


def build(db_path: Path, nodes: int, tier_nodes: int, shape: str, rows_only: bool = False,
          minute_days: int = 1) -> None:
    make, _ = SHAPES[shape].make(0)
    now = time.time()
    current = int(now // 60 * 60)
    first = current - 15 * 60
    raw = [make(first + i + 0.25) for i in range(16 * 60)]
    db = Database(db_path)
    minutes = [raw[m * 60:(m + 1) * 60] for m in range(15)]
    encoded = [blocks.encode(block) for block in minutes]
    live = raw[15 * 60:int(now) - current + 15 * 60]
    if rows_only:  # as a hub before compact history stored them (for a baseline run)
        live, encoded = raw[:int(now) - current + 15 * 60], []
    avg = dict(raw[-1])
    rng = random.Random(7)
    with db.tx() as c:
        c.executemany("INSERT INTO nodes (id, name, identity, first_seen, last_seen, latest) VALUES (?, ?, '{}', ?, ?, ?)",
                      [(f"n{i:03d}", f"n{i:03d}", now, now, json.dumps(raw[-1])) for i in range(nodes)])
    for i in range(nodes):
        node = f"n{i:03d}"
        if encoded:
            db.put_blocks([(node, (first + 60 * m) * 1000, enc, []) for m, enc in enumerate(encoded)])
        with db.tx() as c:
            c.executemany("INSERT INTO samples (node_id, ts_ms, data) VALUES (?, ?, ?)",
                          [(node, round(s["ts"] * 1000), json.dumps(s)) for s in live])
            if i < tier_nodes and rows_only:
                for table, count, step in (("samples_1m", 1440, 60), ("samples_1h", 8760, 3600)):
                    c.executemany(f"INSERT INTO {table} (node_id, ts_ms, n, data) VALUES (?, ?, 60, ?)",
                                  [(node, (current - step * (k + 1)) * 1000,
                                    json.dumps(dict(avg, ts=current - step * (k + 1)))) for k in range(count)])
        if i < tier_nodes and not rows_only:  # as the compaction pass leaves them: whole spans in blocks
            for tier, table, count, step, span in (("1m", "samples_1m", 1440 * minute_days, 60, 3600),
                                                   ("1h", "samples_1h", 8760, 3600, 86400)):
                spans: dict[int, list[int]] = {}
                for k in range(count):
                    ts = current // step * step - step * (k + 1)  # tier buckets start on their minute or hour
                    spans.setdefault(ts // span * span, []).append(ts)
                done, rows = [], []
                for start, stamps in sorted(spans.items()):
                    entries = [tier_sample(avg, ts, rng) for ts in sorted(stamps)]
                    if start + span + 2 * step > current:  # the current span stays rows
                        rows += [(node, round(e["ts"] * 1000), json.dumps(e)) for e in entries]
                    else:
                        done.append((node, start * 1000, blocks.encode(entries), [60] * len(entries), [],
                                     db.tier_texts(tier, entries)))
                db.put_tier_blocks(tier, done)
                with db.tx() as c:
                    c.executemany(f"INSERT INTO {table} (node_id, ts_ms, n, data) VALUES (?, ?, 60, ?)", rows)
    db.checkpoint("TRUNCATE")
    db.close()


def tier_sample(avg: dict, ts: int, rng: random.Random) -> dict:
    """An average with the raw sample's shape, its numbers moved a little (3 decimals)."""
    def walk(v):
        if type(v) is dict:
            return {k: walk(x) for k, x in v.items()}
        if type(v) is list:
            return [walk(x) for x in v]
        if type(v) in (int, float):
            return round(v * (1 + rng.uniform(-0.05, 0.05)), 3)
        return v
    out = walk(avg)
    out["ts"] = float(ts)
    return out


def timed(url: str) -> tuple[float, float, float, int]:
    """(ms to the answer's last byte, ms to parse it with json, with msgspec, samples)."""
    t = time.perf_counter()
    with urllib.request.urlopen(url, timeout=30) as r:
        raw = r.read()
    took = time.perf_counter()
    body = json.loads(raw)
    parsed = time.perf_counter()
    msgspec.json.decode(raw)
    return (took - t) * 1000, (parsed - took) * 1000, (time.perf_counter() - parsed) * 1000, len(body["samples"])


def summary(ms: list[float]) -> str:
    return (f"p50 {statistics.median(ms):.1f} ms, p90 {pct(ms, .9):.1f}, p99 {pct(ms, .99):.1f}, "
            f"max {max(ms):.1f} ms")


def pct(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))]


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, default=500)
    ap.add_argument("--tier-nodes", type=int, default=20)
    ap.add_argument("--requests", type=int, default=200,
                    help="nodes read (twice each) per kind of snapshot, at most --nodes or --tier-nodes")
    ap.add_argument("--shape", default="desktop8", choices=[s for s in SHAPES if s != "this"])
    ap.add_argument("--rows", action="store_true", help="store raw samples as rows only (the old layout)")
    ap.add_argument("--hub-path", help="run the hub from this checkout (e.g. an older one, for a baseline)")
    ap.add_argument("--read-cache-mb", type=float, help="the hub's read_cache_mb (default: the hub's default)")
    ap.add_argument("--ranges", action="store_true",
                    help="read the views' time ranges (GET /api/meta's, as the node page asks for them) "
                         "instead; the tier nodes then hold 30 days of 1-minute averages")
    args = ap.parse_args(argv)
    if not 1 <= args.nodes <= 2000 or not 1 <= args.requests <= 2000 or not 1 <= args.tier_nodes <= args.nodes:
        raise SystemExit("--nodes 1-2000, --requests 1-2000, --tier-nodes 1..nodes")
    with tempfile.TemporaryDirectory(prefix="forge-snapshot-bench-") as tmp:
        data = Path(tmp) / "hub"
        data.mkdir()
        t = time.time()
        build(data / "forge.db", args.nodes, args.tier_nodes, args.shape, args.rows, 30 if args.ranges else 1)
        print(f"built {args.nodes} nodes ({args.shape}) in {time.time() - t:.0f} s: "
              f"{(data / 'forge.db').stat().st_size / 1e6:.0f} MB")
        port = free_port()
        if args.hub_path:
            os.environ["PYTHONPATH"] = args.hub_path
        if args.read_cache_mb is not None:
            os.environ["FORGE_HUB_READ_CACHE_MB"] = str(args.read_cache_mb)
        hub = start_hub(data, port)
        rng = random.Random(1)
        try:
            if args.ranges:
                read_ranges(port, args.tier_nodes, args.requests, rng)
                return 0
            for resolution, points, pool in (("1s", 300, args.nodes), ("1m", 1440, args.tier_nodes),
                                             ("1h", 8760, args.tier_nodes)):
                times: dict[str, list[float]] = {"cold": [], "warm": []}
                parse: dict[str, list[float]] = {"json": [], "msgspec": []}
                got = 0
                for i in rng.sample(range(pool), min(args.requests, pool)):  # distinct nodes: each cold once
                    node = f"n{i:03d}"
                    url = f"http://127.0.0.1:{port}/api/nodes/{node}/snapshot?resolution={resolution}&points={points}"
                    for read in ("cold", "warm"):
                        took, by_json, by_msgspec, got = timed(url)
                        times[read].append(took)
                        parse["json"].append(by_json)
                        parse["msgspec"].append(by_msgspec)
                for read, ms in times.items():
                    print(f"{resolution} x {points} points ({got} returned), {read}: {summary(ms)} "
                          f"over {len(ms)} requests")
                print(f"{resolution} x {points} points, the client's parse: json p50 "
                      f"{statistics.median(parse['json']):.1f} ms, msgspec p50 {statistics.median(parse['msgspec']):.1f} ms")
        finally:
            hub.terminate()
            hub.wait(20)
    return 0


def read_ranges(port: int, tier_nodes: int, requests: int, rng: random.Random) -> None:
    """Each time range the hub serves its views, asked for as the node page asks (points,
    resolution, since, every), of distinct tier nodes, cold then warm."""
    base = f"http://127.0.0.1:{port}"
    with urllib.request.urlopen(base + "/api/meta", timeout=30) as r:
        ranges = json.load(r)["time_ranges"]
    for tr in ranges:
        times: dict[str, list[float]] = {"cold": [], "warm": []}
        got = 0
        for i in rng.sample(range(tier_nodes), min(requests, tier_nodes)):
            query = f"points={tr['points']}&resolution={tr['resolution']}&since={time.time() - tr['seconds']:.3f}"
            url = f"{base}/api/nodes/n{i:03d}/snapshot?{query}" + (f"&every={tr['every']}" if tr.get("every") else "")
            for read in ("cold", "warm"):
                took, _, _, got = timed(url)
                times[read].append(took)
        every = f", every={tr['every']}" if tr.get("every") else ""
        for read, ms in times.items():
            print(f"range {tr['key']} ({tr['resolution']}, {tr['points']} points{every}; {got} returned), "
                  f"{read}: {summary(ms)} over {len(ms)} requests")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
