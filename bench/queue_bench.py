"""Bench the job queue on loopback: a real `forge hub` process and real `forge agent` workers.

Three measurements, each repeated, medians printed with the command line (for docs/PERFORMANCE.md):

* throughput: trivial jobs (test-only `sleep`, seconds=0) per second with 1, 2 and 4
  `forge agent --jobs always` workers, each job in its own spawned child process;
* claims: `--claimers` threads calling POST /api/jobs/claim as fast as they can (no
  solving), claims/s, claim round-trip p50/p95, and duplicate claims (must be 0);
* pickup: enqueue-to-start latency of one job submitted while one worker sits idle.

    python bench/queue_bench.py                                  # all three, 3 repeats
    python bench/queue_bench.py --only claims --claimers 32 --claim-jobs 4000
    python bench/queue_bench.py --only throughput --workers 1 4 --jobs 300 --repeat 5
    python bench/queue_bench.py --only claims --postgres postgresql://postgres@127.0.0.1:5433/postgres

With `--postgres SERVER_URL` the claims measurement runs three times per repeat, in turn:
one hub on SQLite, one hub on a fresh PostgreSQL database on that server, and two hubs on
one fresh database with the claimers split between them (each database dropped after).
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import shlex
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from loopback import free_port, http, isolated_env, postgres_database, stop_process_groups, wait_for_hub

ROOT = Path(__file__).resolve().parents[1]
ADMIN = "bench-admin-secret-0123456789abcdef"


@dataclass
class Fleet:
    """One hub process and its agent processes in a throwaway home folder."""
    lease_s: float = 120.0
    store: str | None = None  # a PostgreSQL URL; None: SQLite in the home folder
    hubs: int = 1
    home: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="forge-queue-bench-")))
    procs: list[subprocess.Popen] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.ports = [free_port() for _ in range(self.hubs)]
        self.port = self.ports[0]
        self.urls = [f"http://127.0.0.1:{p}" for p in self.ports]
        self.url = self.urls[0]
        self.env = isolated_env(self.home, ADMIN, FORGE_HUB_ALLOW_TEST_JOBS="1", FORGE_WORKER_TYPES="sleep",
                                FORGE_HUB_LEASE_S=str(self.lease_s))

    def _spawn(self, name: str, *args: str) -> None:
        log = open(self.home / f"{name}.log", "ab")
        self.procs.append(subprocess.Popen([sys.executable, "-m", "forge_desktop.cli", *args], env=self.env,
                                           stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                           cwd=str(ROOT)))

    def start_hub(self) -> None:
        for i, (port, url) in enumerate(zip(self.ports, self.urls)):
            name = "hub" if i == 0 else f"hub{i}"
            self._spawn(name, "hub", "--host", "127.0.0.1", "--port", str(port),
                        "--data-dir", str(self.home / name), *(["--store", self.store] if self.store else []))
            if not wait_for_hub(url, 30):
                raise RuntimeError(f"hub did not start; see {self.home / (name + '.log')}")

    def token(self, node: str) -> str:
        st, body = http("POST", self.url + "/api/tokens", {"node_id": node}, token=ADMIN)
        assert st == 201, body
        return body["token"]

    def start_agent(self, node: str) -> None:
        self._spawn("agent-" + node, "agent", "--hub", self.url, "--node-id", node, "--token", self.token(node),
                    "--jobs", "always", "--push-interval", "30")

    def submit(self, n: int) -> list[int]:
        st, body = http("POST", self.url + "/api/jobs",
                        {"jobs": [{"type": "sleep", "payload": {"seconds": 0}} for _ in range(n)]}, token=ADMIN)
        assert st == 201, body
        return body["ids"]

    def counts(self) -> dict[str, int]:
        return http("GET", self.url + "/api/jobs?limit=1")[1]["counts"]

    def db(self) -> sqlite3.Connection:
        return sqlite3.connect(f"file:{self.home / 'hub' / 'forge.db'}?mode=ro", uri=True)

    def close(self) -> None:
        stop_process_groups(self.procs)


def throughput(workers: int, jobs: int) -> dict:
    """Jobs/s from the first claim to the last result, with the workers already running."""
    fleet = Fleet()
    try:
        fleet.start_hub()
        for i in range(workers):
            fleet.start_agent(f"w{i}")
        time.sleep(3)
        fleet.submit(jobs)
        deadline = time.monotonic() + 30 + jobs
        while fleet.counts()["succeeded"] < jobs:
            if time.monotonic() > deadline:
                raise RuntimeError(f"throughput run stuck at {fleet.counts()}")
            time.sleep(0.5)
        with fleet.db() as db:
            first, last = db.execute("SELECT min(started_at), max(ended_at) FROM job_attempts").fetchone()
            attempts = db.execute("SELECT count(*) FROM job_attempts").fetchone()[0]
        return {"workers": workers, "jobs": jobs, "seconds": last - first, "jobs_per_s": jobs / (last - first),
                "extra_attempts": attempts - jobs}
    finally:
        fleet.close()


def claims(claimers: int, jobs: int, store: str | None = None, hubs: int = 1) -> dict:
    """Many workers claiming (and finishing) jobs as fast as the hub allows; no solving.
    With several hubs (on one PostgreSQL database), claimer i asks hub i mod hubs."""
    fleet = Fleet(store=store, hubs=hubs)
    try:
        fleet.start_hub()
        tokens = [fleet.token(f"c{i}") for i in range(claimers)]
        fleet.submit(jobs)
        got: dict[int, list[int]] = collections.defaultdict(list)
        latencies: list[float] = []
        lock = threading.Lock()
        start = threading.Barrier(claimers + 1)

        def claimer(i: int) -> None:
            start.wait()
            while True:
                t = time.perf_counter()
                url = fleet.urls[i % hubs]
                st, body = http("POST", url + "/api/jobs/claim", {"types": ["sleep"]}, token=tokens[i])
                took = time.perf_counter() - t
                if st != 200 or not body["job"]:
                    return
                job = body["job"]
                with lock:
                    got[job["id"]].append(i)
                    latencies.append(took)
                http("POST", f"{url}/api/jobs/{job['id']}/result", {"attempt": job["attempt_count"],
                                                                          "result": {"slept": 0}}, token=tokens[i])

        threads = [threading.Thread(target=claimer, args=(i,)) for i in range(claimers)]
        for t in threads:
            t.start()
        start.wait()
        t0 = time.perf_counter()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
        latencies.sort()
        return {"store": "postgresql" if store else "sqlite", "hubs": hubs, "load_1m": os.getloadavg()[0],
                "claimers": claimers, "jobs": jobs, "claims": len(latencies), "seconds": wall,
                "claims_per_s": len(latencies) / wall, "claim_p50_ms": 1000 * latencies[len(latencies) // 2],
                "claim_p95_ms": 1000 * latencies[int(len(latencies) * 0.95)],
                "duplicates": sum(len(w) - 1 for w in got.values()), "missed": jobs - len(got)}
    finally:
        fleet.close()


def pickup(samples: int, idle_s: float) -> dict:
    """Enqueue-to-start latency for a job submitted to an idle worker (it backs off between empty claims)."""
    fleet = Fleet()
    try:
        fleet.start_hub()
        fleet.start_agent("idle")
        out = []
        for _ in range(samples):
            time.sleep(idle_s)
            [job_id] = fleet.submit(1)
            while fleet.counts()["succeeded"] < len(out) + 1:
                time.sleep(0.1)
            with fleet.db() as db:
                created, started = db.execute(
                    "SELECT created_at, started_at FROM jobs JOIN job_attempts ON job_id = id WHERE id = ?",
                    (job_id,)).fetchone()
            out.append(started - created)
        return {"samples": samples, "idle_s": idle_s, "latency_s": out, "median_s": statistics.median(out)}
    finally:
        fleet.close()


def median_of(rows: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", choices=("throughput", "claims", "pickup"), action="append")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--jobs", type=int, default=200, help="trivial jobs per throughput run")
    ap.add_argument("--claimers", type=int, default=32)
    ap.add_argument("--claim-jobs", type=int, default=3000)
    ap.add_argument("--pickups", type=int, default=5)
    ap.add_argument("--idle-s", type=float, default=20.0, help="how long the worker sits idle before each pickup")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--postgres", metavar="SERVER_URL",
                    help="claims also on PostgreSQL, one hub and two hubs (fresh databases on this server)")
    args = ap.parse_args()
    only = set(args.only or ("throughput", "claims", "pickup"))
    print(f"# {shlex.join(['python', 'bench/queue_bench.py', *sys.argv[1:]])}  (cpus={os.cpu_count()})", flush=True)

    if "throughput" in only:
        for w in args.workers:
            rows = [throughput(w, args.jobs) for _ in range(args.repeat)]
            for r in rows:
                print(json.dumps(r), flush=True)
            print(f"throughput: {w} worker(s), {args.jobs} trivial jobs: median "
                  f"{median_of(rows, 'jobs_per_s'):.2f} jobs/s over {args.repeat} runs", flush=True)
    if "claims" in only:
        setups = [("one hub on SQLite", None, 1)]
        if args.postgres:
            setups += [("one hub on PostgreSQL", args.postgres, 1), ("two hubs on one PostgreSQL", args.postgres, 2)]
        rows: dict[str, list[dict]] = {name: [] for name, _, _ in setups}
        for _ in range(args.repeat):  # the setups in turn, so a change in the machine's load hits them all
            for name, server, hubs in setups:
                with postgres_database(server) as store:
                    r = claims(args.claimers, args.claim_jobs, store, hubs)
                print(json.dumps(r), flush=True)
                rows[name].append(r)
        for name, got in rows.items():
            print(f"claims, {name}: {args.claimers} concurrent claimers: median {median_of(got, 'claims_per_s'):.0f} "
                  f"claims/s, p50 {median_of(got, 'claim_p50_ms'):.1f} ms, p95 {median_of(got, 'claim_p95_ms'):.1f} ms, "
                  f"duplicates {sum(r['duplicates'] for r in got)}, missed {sum(r['missed'] for r in got)}, "
                  f"load {min(r['load_1m'] for r in got):.1f}-{max(r['load_1m'] for r in got):.1f}", flush=True)
    if "pickup" in only:
        r = pickup(args.pickups, args.idle_s)
        print(json.dumps(r), flush=True)
        print(f"pickup: enqueue to start on an idle worker: median {r['median_s']:.2f} s "
              f"(min {min(r['latency_s']):.2f}, max {max(r['latency_s']):.2f}) over {r['samples']}", flush=True)


if __name__ == "__main__":
    main()
