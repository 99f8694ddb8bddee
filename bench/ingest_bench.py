"""Hub ingest under a simulated fleet: a real `forge hub` process on loopback, N nodes
pushing 5 one-second samples every 5 s (the agent's rhythm), plus a saturation run.

    python bench/ingest_bench.py --nodes 500 --seconds 30 --repeat 3

Reports per run: push latency p50/p95, hub CPU share of one core (psutil), and for the
saturation run the pushes/s and samples/s the hub sustains. Medians over runs at the end.
Bounded: loopback only, fixed duration, temp data folder.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

import aiohttp
import psutil

ADMIN = "bench-admin-secret"


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


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


def start_hub(tmp: str, port: int) -> subprocess.Popen:
    env = dict(os.environ, ADMIN_SECRET=ADMIN)
    p = subprocess.Popen([sys.executable, "-P", "-m", "forge_desktop.cli", "hub", "--host", "127.0.0.1",
                          "--port", str(port), "--data-dir", tmp], env=env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
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
        async with session.post(url + "/api/tokens", json={"node_id": f"sim-{i:04d}"},
                                headers={"Authorization": f"Bearer {ADMIN}"}) as r:
            toks.append((await r.json())["token"])
    return toks


async def node_loop(session, url, i, tok, stop_at, latencies, errors):
    await asyncio.sleep(random.uniform(0, 5))
    ident = {"hostname": f"sim-{i:04d}", "os": "Linux", "cores": 8}
    while time.time() < stop_at:
        now = time.time()
        body = json.dumps({"node": ident, "samples": [fake_sample(now - k) for k in range(5)]})
        t0 = time.perf_counter()
        try:
            async with session.post(f"{url}/api/ingest/sim-{i:04d}", data=body,
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
            async with s.post(f"{url}/api/ingest/sim-{i:04d}", data=body,
                              headers={"Authorization": f"Bearer {tok}", "Content-Type": "application/json"}) as r:
                await r.read()
            count += 1

    async with aiohttp.ClientSession() as s:
        t0 = time.time()
        await asyncio.gather(*(pusher(i, t) for i, t in enumerate(toks[:32])))
        wall = time.time() - t0
    return {"pushes_per_s": count / wall, "samples_per_s": 5 * count / wall}


async def one_run(nodes: int, seconds: float) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        proc = start_hub(tmp, port)
        url = f"http://127.0.0.1:{port}"
        try:
            async with aiohttp.ClientSession() as s:
                toks = await make_tokens(s, url, nodes)
            r = await realistic(url, toks, seconds, psutil.Process(proc.pid))
            r.update(await saturate(url, toks, min(10.0, seconds)))
            return r
        finally:
            proc.terminate()
            proc.wait(10)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, default=500)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    runs = []
    for i in range(a.repeat):
        r = asyncio.run(one_run(a.nodes, a.seconds))
        runs.append(r)
        print(f"run {i + 1}: " + "  ".join(f"{k}={v:.1f}" if isinstance(v, float) else f"{k}={v}"
                                            for k, v in r.items()), flush=True)
    print("median: " + "  ".join(f"{k}={statistics.median(r[k] for r in runs):.1f}" for k in runs[0]))


if __name__ == "__main__":
    main()
