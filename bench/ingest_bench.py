"""Hub ingest under a simulated fleet: a real `forge hub` process on loopback.

    python bench/ingest_bench.py --nodes 500 --known 10000 --seconds 60 --repeat 3
    python bench/ingest_bench.py --postgres postgresql://postgres@127.0.0.1:5432/postgres ...

Per run: (1) `--nodes` nodes push 5 one-second samples every 5 s (the agent's rhythm):
push latency p50/p95 and the hub's CPU share of one core; (2) paced: wrk (Debian's, C, so
the load generator does not starve the hub of the 2 cores) offers 2,000 pushes/s spread
over `--known` nodes, each with its own token and its own agent clock (5 new samples a
push, 5 s apart), i.e. 10,000 nodes at 5 s: pushes/s achieved and latency p50/p99 (wrk
--latency); (3) saturation: the same as fast as 32 connections can; then the hub's RSS
with that many nodes known.
Without wrk, a Python client does the saturation run (slower: it shares the CPU).

    python bench/ingest_bench.py --alerts-compare --seconds 60 --repeat 3

`--alerts-compare` runs the paced phase three times in each run, on the same hub and
nodes: with the 5 stock alert rules (a fresh hub's), with no rule at all (deleted), and
with the stock rules again, each with the hub's CPU share; saturation is skipped.
Medians over runs at the end. Bounded: loopback only, fixed durations, temp data folder.
With `--postgres SERVER_URL` the hub's store is a fresh database on that PostgreSQL server
(created per run, dropped after) instead of SQLite in the temp folder.

    python bench/ingest_bench.py --compare --postgres SERVER_URL --known 2000 --seconds 15 --repeat 3

`--compare` runs, in each repeat and in turn, the paced and saturation phases against one
hub on SQLite, one hub on PostgreSQL, and two hubs on one PostgreSQL database (two wrk
processes at once, each on half the nodes, half the rate and half the connections; their
pushes/s add up, the p99 reported is the worse of the two). Each phase also records the
hubs' CPU (share of one core, summed), the whole machine's CPU and the load average.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

import aiohttp
import psutil

from loopback import free_port, postgres_database

ADMIN = "bench-admin-secret"


def fake_sample(ts: float, cores: int = 8) -> dict:
    per = [round(random.uniform(0, 100), 1) for _ in range(cores)]
    return {"schema_version": 1, "ts": ts,
            "cpu": {"percent": round(sum(per) / cores, 1), "per_core": per, "freq_mhz": [3000.0] * cores,
                    "temp_c": [50.0] * cores, "package_temp_c": 55.0},
            "memory": {"total": 16 << 30, "used": 8 << 30, "available": 8 << 30, "percent": 50.0},
            "swap": {"total": 0, "used": 0, "percent": 0.0},
            "disk": {"read_bps": 1000.0, "write_bps": 2000.0,
                     "mounts": [{"mount": "/", "fstype": "ext4", "total": 1 << 40, "used": 1 << 39,
                                 "free": 1 << 39, "percent": 50.0}]},
            "net": {"rx_bps": 1e4, "tx_bps": 2e4}, "load": [1.0, 1.0, 1.0], "uptime_s": 1e5, "battery": None}


def start_hub(tmp: str, port: int, store: str | None = None) -> subprocess.Popen:
    env = dict(os.environ, ADMIN_SECRET=ADMIN)
    p = subprocess.Popen([sys.executable, "-P", "-m", "forge_desktop.cli", "hub", "--host", "127.0.0.1",
                          "--port", str(port), "--data-dir", tmp, *(["--store", store] if store else [])],
                         env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=1)
            return p
        except OSError:
            time.sleep(0.2)
    raise SystemExit("hub did not start")


async def make_tokens(session: aiohttp.ClientSession, url: str, n: int) -> list[str]:
    toks = []
    for i in range(n):
        async with session.post(url + "/api/tokens", json={"node_id": f"sim-{i:05d}"},
                                headers={"Authorization": f"Bearer {ADMIN}"}) as r:
            toks.append((await r.json())["token"])
    return toks


async def node_loop(session, url, i, tok, stop_at, latencies, errors):
    await asyncio.sleep(random.uniform(0, 5))
    ident = {"hostname": f"sim-{i:05d}", "os": "Linux", "cores": 8}
    while time.time() < stop_at:
        now = time.time()
        body = json.dumps({"node": ident, "samples": [fake_sample(now - k) for k in range(5)]})
        t0 = time.perf_counter()
        try:
            async with session.post(f"{url}/api/ingest/sim-{i:05d}", data=body,
                                    headers={"Authorization": f"Bearer {tok}",
                                             "Content-Type": "application/json"}) as r:
                await r.read()
                if r.status != 200:
                    errors.append(r.status)
        except aiohttp.ClientError:
            errors.append("conn")
        latencies.append(time.perf_counter() - t0)
        await asyncio.sleep(max(0.0, 5 - (time.time() - now)))


async def realistic(url: str, toks: list[str], seconds: float, hub: psutil.Process) -> dict:
    latencies: list[float] = []
    errors: list = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=200)) as s:
        stop_at = time.time() + seconds
        hub.cpu_percent(None)
        await asyncio.gather(*(node_loop(s, url, i, t, stop_at, latencies, errors) for i, t in enumerate(toks)))
        cpu = hub.cpu_percent(None)
    latencies.sort()
    return {"pushes": len(latencies), "errors": len(errors),
            "p50_ms": 1000 * latencies[len(latencies) // 2], "p95_ms": 1000 * latencies[int(len(latencies) * .95)],
            "hub_cpu_pct": cpu}


async def saturate(url: str, toks: list[str], seconds: float) -> dict:
    count = 0
    stop_at = time.time() + seconds

    async def pusher(i: int, tok: str) -> None:
        nonlocal count
        ts = time.time() - 3600 + i * 1e-3
        while time.time() < stop_at:
            ts += 5
            body = json.dumps({"samples": [fake_sample(ts + k) for k in range(5)]})
            async with s.post(f"{url}/api/ingest/sim-{i:05d}", data=body,
                              headers={"Authorization": f"Bearer {tok}", "Content-Type": "application/json"}) as r:
                await r.read()
            count += 1

    async with aiohttp.ClientSession() as s:
        t0 = time.time()
        await asyncio.gather(*(pusher(i, t) for i, t in enumerate(toks[:32])))
        wall = time.time() - t0
    return {"pushes_per_s": count / wall, "samples_per_s": 5 * count / wall}


async def make_tokens_fast(url: str, n: int) -> list[str]:
    sem = asyncio.Semaphore(16)

    async def one(session, i):
        async with sem:
            async with session.post(url + "/api/tokens", json={"node_id": f"sim-{i:05d}"},
                                    headers={"Authorization": f"Bearer {ADMIN}"}) as r:
                return (await r.json())["token"]

    async with aiohttp.ClientSession() as s:
        return list(await asyncio.gather(*(one(s, i) for i in range(n))))


def parse_ms(text: str) -> float:
    unit = text.lstrip("0123456789.")
    return {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit] * float(text[:len(text) - len(unit)])


WRK_THREADS = 2  # the Lua script splits the nodes and the paced rate between them


def saturate_wrk(url: str, toks: list[str], seconds: float, tmp: str, connections: int = 32,
                 rate: float = 0, prefix: str = "sat", ids: list[int] | None = None) -> dict:
    """wrk against the ingest route: as fast as `connections` can go, or with `rate` offered
    at that many pushes/s (the Lua script hands out send slots). `ids`: the numbers of the
    nodes whose tokens `toks` are (default 0, 1, 2, ...)."""
    import re
    nodes_file = os.path.join(tmp, "nodes.txt")
    with open(nodes_file, "w") as f:
        f.writelines(f"sim-{i:05d} {t}\n" for i, t in zip(ids or range(len(toks)), toks))
    sample_file = os.path.join(tmp, "sample.json")
    with open(sample_file, "w") as f:
        f.write(json.dumps(fake_sample(0), separators=(",", ":")))
    env = dict(os.environ, FORGE_BENCH_NODES=nodes_file, FORGE_BENCH_SAMPLE=sample_file,
               FORGE_BENCH_T0=str(int(time.time()) - 3600 - (7200 if rate else 0)),
               FORGE_BENCH_RATE=str(rate), FORGE_BENCH_THREADS=str(WRK_THREADS))
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ingest_wrk.lua")
    out = subprocess.run(["wrk", f"-t{WRK_THREADS}", f"-c{connections}", f"-d{int(seconds)}s", "--latency", "-s", script, url],
                         env=env, capture_output=True, text=True, timeout=seconds + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", out, re.M))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {f"{prefix}_pushes_per_s": rps, f"{prefix}_p50_ms": parse_ms(lat["50"]),
            f"{prefix}_p99_ms": parse_ms(lat["99"]), f"{prefix}_errors": int(non2xx.group(1)) if non2xx else 0}


def set_rules(url: str, rules: list[dict] | None) -> list[dict]:
    """Delete every alert rule (rules=None) or re-create `rules`; returns the rules there were."""
    def call(method: str, path: str, body: dict | None = None) -> dict:
        req = urllib.request.Request(url + path, method=method, data=None if body is None else json.dumps(body).encode(),
                                     headers={"Authorization": f"Bearer {ADMIN}", "Content-Type": "application/json"})
        return json.loads(urllib.request.urlopen(req, timeout=30).read())
    there = call("GET", "/api/alert-rules")["rules"]
    if rules is None:
        for r in there:
            call("DELETE", f"/api/alert-rules/{r['id']}")
    else:
        for r in rules:
            call("POST", "/api/alert-rules", {k: v for k, v in r.items() if k != "id"})
    return there


def paced_with_cpu(url: str, toks: list[str], seconds: float, tmp: str, rate: float, prefix: str,
                   hub: psutil.Process) -> dict:
    hub.cpu_percent(None)
    r = saturate_wrk(url, toks, seconds, tmp, 40, rate, prefix)
    r[f"{prefix}_hub_cpu_pct"] = hub.cpu_percent(None)
    return r


async def alerts_run(known: int, seconds: float, paced_rate: float) -> dict:
    """The paced phase with the stock rules, without any rule, and with them again."""
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        proc = start_hub(tmp, port)
        url = f"http://127.0.0.1:{port}"
        hub = psutil.Process(proc.pid)
        try:
            toks = await make_tokens_fast(url, known)
            r = paced_with_cpu(url, toks, seconds, tmp, paced_rate, "rules", hub)
            stock = set_rules(url, None)
            r.update(paced_with_cpu(url, toks, seconds, tmp, paced_rate, "none", hub))
            set_rules(url, stock)
            r.update(paced_with_cpu(url, toks, seconds, tmp, paced_rate, "rules2", hub))
            r["rules"] = len(stock)
            r["hub_rss_mb"] = hub.memory_info().rss / 2**20
            return r
        finally:
            proc.terminate()
            try:
                proc.wait(300)  # the shutdown rolls up every pending minute of 10,000 nodes
            except subprocess.TimeoutExpired:
                proc.kill()


async def one_run(nodes: int, known: int, seconds: float, paced_rate: float, postgres: str | None = None) -> dict:
    with tempfile.TemporaryDirectory() as tmp, postgres_database(postgres) as store:
        port = free_port()
        proc = start_hub(tmp, port, store)
        url = f"http://127.0.0.1:{port}"
        hub = psutil.Process(proc.pid)
        try:
            toks = await make_tokens_fast(url, max(nodes, known))
            r = await realistic(url, toks[:nodes], seconds, hub)
            if shutil.which("wrk"):
                r.update(saturate_wrk(url, toks[:known], seconds, tmp, 40, paced_rate, "paced"))
                r.update(saturate_wrk(url, toks[:known], seconds, tmp))
            else:
                r.update(await saturate(url, toks, min(10.0, seconds)))
            fleet = json.loads(urllib.request.urlopen(url + "/api/fleet", timeout=30).read())
            r["known_nodes"] = len(fleet["nodes"])
            r["hub_rss_mb"] = hub.memory_info().rss / 2**20
            return r
        finally:
            proc.terminate()
            proc.wait(120)


def start_hubs(tmp: str, n: int, store: str | None) -> tuple[list[str], list[psutil.Process], list[subprocess.Popen]]:
    procs, urls = [], []
    for i in range(n):
        port = free_port()
        d = os.path.join(tmp, f"hub{i}")
        os.makedirs(d)
        procs.append(start_hub(d, port, store))
        urls.append(f"http://127.0.0.1:{port}")
    return urls, [psutil.Process(p.pid) for p in procs], procs


def wrk_over(urls: list[str], toks: list[str], seconds: float, tmp: str, connections: int, rate: float,
             prefix: str, hubs: list[psutil.Process]) -> dict:
    """One wrk per hub at once, each on its share of the nodes (their names and tokens), the rate
    and the connections."""
    import threading
    n = len(urls)
    parts: list[dict] = [{} for _ in urls]
    dirs = [os.path.join(tmp, f"wrk{i}") for i in range(n)]
    for d in dirs:
        os.makedirs(d, exist_ok=True)
    for h in hubs:
        h.cpu_percent(None)
    psutil.cpu_percent(None)

    def one(i: int) -> None:
        mine = [j for j in range(len(toks)) if j % n == i]
        parts[i] = saturate_wrk(urls[i], [toks[j] for j in mine], seconds, dirs[i], max(1, connections // n), rate / n,
                                prefix, ids=mine)
    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out = {f"{prefix}_pushes_per_s": sum(p[f"{prefix}_pushes_per_s"] for p in parts),
           f"{prefix}_p50_ms": max(p[f"{prefix}_p50_ms"] for p in parts),
           f"{prefix}_p99_ms": max(p[f"{prefix}_p99_ms"] for p in parts),
           f"{prefix}_errors": sum(p[f"{prefix}_errors"] for p in parts),
           f"{prefix}_hubs_cpu_pct": sum(h.cpu_percent(None) for h in hubs),
           f"{prefix}_machine_cpu_pct": psutil.cpu_percent(None),
           f"{prefix}_load_1m": os.getloadavg()[0]}
    return out


async def compare_run(known: int, seconds: float, paced_rate: float, server: str) -> dict:
    """Paced and saturation phases on one hub on SQLite, one on PostgreSQL, two on one PostgreSQL."""
    out: dict = {"load_1m_start": os.getloadavg()[0]}
    for name, store_server, n in (("sqlite", None, 1), ("pg1", server, 1), ("pg2", server, 2)):
        with tempfile.TemporaryDirectory() as tmp, postgres_database(store_server) as store:
            urls, hubs, procs = start_hubs(tmp, n, store)
            try:
                toks = await make_tokens_fast(urls[0], known)
                r = wrk_over(urls, toks, seconds, tmp, 40, paced_rate, "paced", hubs)
                r.update(wrk_over(urls, toks, seconds, tmp, 32, 0, "sat", hubs))
                out.update({f"{name}_{k}": v for k, v in r.items()})
            finally:  # the shutdown rolls up every pending minute of all the nodes: not measured, cut short
                for p in procs:
                    p.terminate()
                for p in procs:
                    try:
                        p.wait(30)
                    except subprocess.TimeoutExpired:
                        p.kill()
                        p.wait(10)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, default=500, help="nodes at the agents' rhythm")
    ap.add_argument("--known", type=int, default=10000, help="nodes (tokens) the paced and saturation runs spread over")
    ap.add_argument("--seconds", type=float, default=30, help="length of each phase")
    ap.add_argument("--paced-rate", type=float, default=2000,
                    help="pushes/s offered in the paced phase (2,000 = 10,000 nodes at 5 s)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--alerts-compare", action="store_true",
                    help="paced phase with the stock alert rules, without rules, and with them again")
    ap.add_argument("--postgres", metavar="SERVER_URL",
                    help="store on PostgreSQL: a fresh database per run on this server (its user needs CREATEDB)")
    ap.add_argument("--compare", action="store_true",
                    help="paced and saturation: one hub on SQLite, one on PostgreSQL, two on one PostgreSQL (needs --postgres)")
    a = ap.parse_args()
    if a.compare and not (a.postgres and shutil.which("wrk")):
        raise SystemExit("--compare needs --postgres SERVER_URL and wrk (apt install wrk)")
    if a.alerts_compare and not shutil.which("wrk"):
        raise SystemExit("--alerts-compare needs wrk (apt install wrk)")
    runs = []
    for i in range(a.repeat):
        r = asyncio.run(alerts_run(a.known, a.seconds, a.paced_rate) if a.alerts_compare
                        else compare_run(a.known, a.seconds, a.paced_rate, a.postgres) if a.compare
                        else one_run(a.nodes, a.known, a.seconds, a.paced_rate, a.postgres))
        runs.append(r)
        print(f"run {i + 1}: " + "  ".join(f"{k}={v:.1f}" if isinstance(v, float) else f"{k}={v}"
                                            for k, v in r.items()), flush=True)
    print("median: " + "  ".join(f"{k}={statistics.median(r[k] for r in runs):.1f}" for k in runs[0]))


if __name__ == "__main__":
    main()
