"""Converting an existing hub database to compact history, in place (issue 17).

    python bench/migrate_bench.py [--nodes 50] [--hours 4]

Builds a database as a hub before migration 006 left it (migrations 001-004, every raw
sample a JSON row: `--nodes` nodes x `--hours` of 1 s samples of the disk bench's
desktop8 shape, 600 distinct samples cycling), then starts a real `forge hub` on it and
measures: how long until it answers (migration 006 only creates two tables), how long the
background compaction takes to turn every finished minute into a block while the hub
serves, snapshot latency meanwhile, and the file before and after (SQLite keeps the freed
pages for new data; `VACUUM`, offline, would return them to the disk). Bounded: fixed
counts, a temporary folder, the hub stopped at the end.
"""
from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from disk_bench import SHAPES, free_port, start_hub  # noqa: E402

from hub.store.sqlite import migrations  # noqa: E402


def build(path: Path, nodes: int, hours: float) -> int:
    make, _ = SHAPES["desktop8"].make(0)
    pool = [make(float(i)) for i in range(600)]
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL)")
    for version, name, sql in migrations():
        if version <= 4:
            con.executescript(sql)
            con.execute("INSERT INTO schema_migrations VALUES (?, ?, 0)", (version, name))
    count = int(hours * 3600)
    start = (time.time() - count - 300) // 60 * 60
    now = time.time()
    for n in range(nodes):
        node = f"n{n:02d}"
        con.execute("INSERT INTO nodes (id, name, identity, first_seen, last_seen, latest) VALUES (?, ?, '{}', ?, ?, NULL)",
                    (node, node, now, now))
        rows = []
        for i in range(count):
            s = dict(pool[(i + 37 * n) % len(pool)], ts=start + i + 0.25)
            rows.append((node, round(s["ts"] * 1000), json.dumps(s, separators=(",", ":"))))
        con.executemany("INSERT INTO samples (node_id, ts_ms, data) VALUES (?, ?, ?)", rows)
        con.commit()
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    return nodes * count


def counts(path: Path) -> tuple[int, int]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as c:
        return (c.execute("SELECT count(*) FROM samples").fetchone()[0],
                c.execute("SELECT count(*) FROM sample_blocks").fetchone()[0])


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, default=50)
    ap.add_argument("--hours", type=float, default=4.0)
    args = ap.parse_args(argv)
    if not 1 <= args.nodes <= 100 or not 0 < args.hours <= 24:
        raise SystemExit("--nodes 1-100, --hours up to 24")
    with tempfile.TemporaryDirectory(prefix="forge-migrate-bench-") as tmp:
        data = Path(tmp) / "hub"
        data.mkdir()
        db = data / "forge.db"
        t = time.time()
        total = build(db, args.nodes, args.hours)
        before = db.stat().st_size
        print(f"built {total:,} raw rows ({args.nodes} nodes x {args.hours:g} h) in {time.time() - t:.0f} s: "
              f"{before / 1e6:.0f} MB")
        port = free_port()
        t = time.time()
        hub = start_hub(data, port)  # FORGE_HUB_ROLLUP_INTERVAL_S=1: a compaction pass every second
        up = time.time() - t
        print(f"hub answering {up:.1f} s after start (migration 006 included)")
        latencies, last_log = [], 0.0
        try:
            while True:
                rows, made = counts(db)
                if rows <= args.nodes * 180:
                    break
                if time.time() - last_log > 15:
                    print(f"  {time.time() - t:5.0f} s: {made:,} blocks, {rows:,} rows left", flush=True)
                    last_log = time.time()
                s = time.perf_counter()
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/nodes/n00/snapshot?points=300", timeout=30) as r:
                    r.read()
                latencies.append((time.perf_counter() - s) * 1000)
                time.sleep(0.5)
            took = time.time() - t - up
        finally:
            hub.terminate()
            hub.wait(30)
        rows, made = counts(db)
        with sqlite3.connect(db) as c:
            c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            free = c.execute("PRAGMA freelist_count").fetchone()[0] * c.execute("PRAGMA page_size").fetchone()[0]
        after = db.stat().st_size
        minutes = made
        print(f"compacted {minutes:,} node-minutes in {took:.0f} s ({minutes / took:.0f} per s) while serving; "
              f"{rows:,} rows left")
        if latencies:
            print(f"snapshot (300 x 1 s) meanwhile: p50 {statistics.median(latencies):.1f} ms, "
                  f"max {max(latencies):.1f} ms over {len(latencies)} requests")
        print(f"file {before / 1e6:.0f} MB before, {after / 1e6:.0f} MB after, of which {free / 1e6:.0f} MB free pages "
              f"kept for new data (in use: {(after - free) / 1e6:.0f} MB)")
        t = time.time()
        with sqlite3.connect(db) as c:
            c.execute("VACUUM")
        print(f"optional offline VACUUM: {time.time() - t:.0f} s, file {db.stat().st_size / 1e6:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
