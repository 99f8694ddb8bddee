"""A simulated fleet: N nodes pushing realistic samples through the real ingest API.

    python bench/fleet_simulator.py --hub http://127.0.0.1:3000 --admin-secret S --nodes 500

Each node gets its own token (POST /api/tokens) and pushes a batch of 5 one-second
samples every 5 s, like `forge agent`; pushes are spread evenly over the 5 s so the
hub sees a steady stream. A node whose push answer says `live` (a browser watches its
drill-down) pushes every second instead, as the real agent does. Prints
`ready N` once every node has pushed once, then runs until killed or `--duration-s`.
"""
from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from dataclasses import dataclass, field

import aiohttp

CORE_CHOICES = (2, 4, 4, 8, 8, 8, 12, 16, 16, 32, 64)
OSES = (("Linux", "6.1.0-18-amd64", "x86_64"), ("Windows", "10.0.22631", "AMD64"),
        ("Darwin", "23.4.0", "arm64"), ("Linux", "6.8.0-31-generic", "aarch64"))
GiB = 1024 ** 3


@dataclass
class SimNode:
    """One machine's slowly wandering load, memory and I/O."""
    id: str
    cores: int
    os: tuple[str, str, str]
    mem_total: int
    swap_total: int
    disk_total: int
    rng: random.Random
    token: str = ""
    base: float = 20.0
    per_core: list[float] = field(default_factory=list)
    mem_used: float = 0.0
    disk_used: float = 0.0
    booted: float = 0.0
    live: bool = False
    first: bool = True

    def identity(self) -> dict:
        os_name, os_version, arch = self.os
        return {"hostname": self.id, "os": os_name, "os_version": os_version, "arch": arch,
                "cores": self.cores, "physical_cores": max(1, self.cores // 2), "agent_version": "0.1.0"}

    def sample(self, ts: float) -> dict:
        r = self.rng
        self.base = min(95.0, max(2.0, self.base + r.gauss(0, 4)))
        if not self.per_core:
            self.per_core = [self.base] * self.cores
        self.per_core = [min(100.0, max(0.0, 0.7 * c + 0.3 * self.base + r.gauss(0, 8))) for c in self.per_core]
        self.mem_used = min(self.mem_total * 0.95, max(self.mem_total * 0.1, self.mem_used + r.gauss(0, 0.01) * self.mem_total))
        self.disk_used = min(self.disk_total * 0.99, self.disk_used + r.random() * 1e6)
        temps = [round(40 + c * 0.4 + r.gauss(0, 1), 1) for c in self.per_core] if self.os[0] == "Linux" else None
        rates = (lambda v: None if self.first else v)
        self.first = False
        return {
            "schema_version": 1, "ts": ts,
            "cpu": {"percent": round(sum(self.per_core) / self.cores, 1), "per_core": [round(c, 1) for c in self.per_core],
                    "freq_mhz": [round(2400 + c * 15, 0) for c in self.per_core], "temp_c": temps,
                    "package_temp_c": (max(temps) if temps else None)},
            "memory": {"total": self.mem_total, "used": int(self.mem_used), "available": int(self.mem_total - self.mem_used),
                       "percent": round(100 * self.mem_used / self.mem_total, 1)},
            "swap": {"total": self.swap_total, "used": int(self.swap_total * 0.05),
                     "percent": 5.0 if self.swap_total else 0.0},
            "disk": {"read_bps": rates(abs(r.gauss(2e6, 3e6))), "write_bps": rates(abs(r.gauss(1e6, 2e6))),
                     "mounts": [{"mount": "/", "fstype": "ext4", "total": self.disk_total, "used": int(self.disk_used),
                                 "free": int(self.disk_total - self.disk_used),
                                 "percent": round(100 * self.disk_used / self.disk_total, 1)}]},
            "net": {"rx_bps": rates(abs(r.gauss(5e5, 1e6))), "tx_bps": rates(abs(r.gauss(2e5, 5e5)))},
            "load": [round(self.base * self.cores / 100 * f, 2) for f in (1.0, 0.9, 0.8)],
            "uptime_s": ts - self.booted,
            "battery": None,
        }


def make_fleet(n: int, seed: int, now: float) -> list[SimNode]:
    rng = random.Random(seed)
    nodes = []
    for i in range(n):
        cores = rng.choice(CORE_CHOICES)
        mem = rng.choice((8, 16, 32, 64, 128)) * GiB
        disk = rng.choice((256, 512, 1024, 2048)) * GiB
        node = SimNode(id=f"sim-{i:03d}", cores=cores, os=rng.choice(OSES), mem_total=mem,
                       swap_total=rng.choice((0, 2 * GiB, 8 * GiB)), disk_total=disk,
                       rng=random.Random(seed * 1000 + i), base=rng.uniform(3, 70))
        node.mem_used, node.disk_used = mem * rng.uniform(0.2, 0.7), disk * rng.uniform(0.2, 0.9)
        node.booted = now - rng.uniform(3600, 30 * 86400)
        nodes.append(node)
    return nodes


async def create_tokens(session: aiohttp.ClientSession, hub: str, admin: str, nodes: list[SimNode]) -> None:
    sem = asyncio.Semaphore(16)

    async def one(node: SimNode) -> None:
        async with sem:
            async with session.post(f"{hub}/api/tokens", json={"node_id": node.id},
                                    headers={"Authorization": f"Bearer {admin}"}) as r:
                if r.status != 201:
                    raise SystemExit(f"token for {node.id}: HTTP {r.status} {await r.text()}")
                node.token = (await r.json())["token"]
    await asyncio.gather(*(one(n) for n in nodes))


async def run_node(session: aiohttp.ClientSession, hub: str, node: SimNode, offset: float, period: float,
                   batch: int, pushed: asyncio.Event, counter: list[int], stop_at: float) -> None:
    await asyncio.sleep(offset)
    pending: list[dict] = []
    next_sample = time.time() - batch + 1
    while time.time() < stop_at:
        now = time.time()
        while next_sample <= now:
            pending.append(node.sample(next_sample))
            next_sample += 1.0
        try:
            async with session.post(f"{hub}/api/ingest/{node.id}", json={"node": node.identity(), "samples": pending},
                                    headers={"Authorization": f"Bearer {node.token}"}) as r:
                if r.status == 200:
                    node.live = bool((await r.json()).get("live"))
                    pending = []
                    counter[0] += 1
                    if counter[0] >= counter[1]:
                        pushed.set()
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(1.0 if node.live else period)


async def main_async(args: argparse.Namespace) -> int:
    now = time.time()
    nodes = make_fleet(args.nodes, args.seed, now)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=64)) as session:
        await create_tokens(session, args.hub, args.admin_secret, nodes)
        pushed = asyncio.Event()
        counter = [0, len(nodes)]
        stop_at = now + args.duration_s
        tasks = [asyncio.create_task(run_node(session, args.hub, n, args.period_s * i / len(nodes), args.period_s,
                                              args.batch, pushed, counter, stop_at))
                 for i, n in enumerate(nodes)]
        await pushed.wait()
        print(f"ready {len(nodes)}", flush=True)
        await asyncio.gather(*tasks)
    return 0


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description="push a simulated fleet's samples to a hub")
    p.add_argument("--hub", required=True)
    p.add_argument("--admin-secret", required=True)
    p.add_argument("--nodes", type=int, default=500)
    p.add_argument("--period-s", type=float, default=5.0, help="seconds between a node's pushes")
    p.add_argument("--batch", type=int, default=5, help="samples in a node's first push")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--duration-s", type=float, default=600.0, help="stop after this long (a bound, not a target)")
    args = p.parse_args(argv)
    if args.nodes < 1 or args.nodes > 5000:
        p.error("--nodes must be between 1 and 5000")
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
